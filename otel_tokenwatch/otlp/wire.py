"""Protobuf wire-format helpers for building OTLP messages from bytes.

Why bytes: a span is held for assembly as its encoded form (about its wire
size in memory) and leaves as the same bytes. Protobuf lets a repeated field
grow by concatenation, so adding an attribute to a span is appending one
encoded ``KeyValue`` (field 9) to its bytes, and an export request is the
concatenation of length-prefixed ResourceSpans. Nothing on the hot path is
decoded into Python objects per attribute.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

AttrValue = str | bool | int | float | Sequence[str] | Sequence[int] | Sequence[float] | Sequence[bool]

SPAN_ATTRIBUTES_FIELD = 9  # opentelemetry.proto.trace.v1.Span.attributes
LOG_ATTRIBUTES_FIELD = 6  # opentelemetry.proto.logs.v1.LogRecord.attributes

_pack_double = struct.Struct("<d").pack


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


#: lengths and tags below 16 KiB are most of what gets encoded: looked up, not computed
_SMALL = tuple(_varint(i) for i in range(1 << 14))


def varint(n: int) -> bytes:
    """Encode a non-negative int (or an int64 as two's complement) as a varint."""
    if 0 <= n < 16384:
        return _SMALL[n]
    return _varint(n)


def field_bytes(field: int, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, payload."""
    n = len(payload)
    return _SMALL[(field << 3) | 2] + (_SMALL[n] if n < 16384 else _varint(n)) + payload


def field_header(field: int, length: int) -> bytes:
    """Tag and length of a length-delimited field whose payload is written separately (no copy)."""
    return _SMALL[(field << 3) | 2] + (_SMALL[length] if length < 16384 else _varint(length))


def encode_any_value(value: AttrValue) -> bytes:
    """Encode an AnyValue for the scalar types tokenwatch writes."""
    if isinstance(value, bool):
        return b"\x10" + (b"\x01" if value else b"\x00")
    if isinstance(value, int):
        return b"\x18" + varint(value)
    if isinstance(value, float):
        return b"\x21" + _pack_double(value)
    if isinstance(value, str):
        return field_bytes(1, value.encode("utf-8"))
    return _any_value_message(value).SerializeToString()


def _any_value_message(value: AttrValue) -> AnyValue:
    av = AnyValue()
    if isinstance(value, (list, tuple)):
        arr = av.array_value
        for v in value:
            arr.values.append(_any_value_message(v))
    elif isinstance(value, bool):
        av.bool_value = value
    elif isinstance(value, int):
        av.int_value = value
    elif isinstance(value, float):
        av.double_value = value
    else:
        av.string_value = str(value)
    return av


def encode_key_value(key: str, value: AttrValue) -> bytes:
    """One encoded KeyValue message (without the enclosing field tag)."""
    return field_bytes(1, key.encode("utf-8")) + field_bytes(2, encode_any_value(value))


def encode_attributes(attrs: Iterable[tuple[str, AttrValue]], field: int = SPAN_ATTRIBUTES_FIELD) -> bytes:
    """Attributes as repeated-field entries, ready to append to a span's bytes.

    The same (key, value) pairs are written on span after span (kinds,
    dialects, flags, model names), so their encoding is remembered; floats
    (costs) and lists are encoded each time.
    """
    out = []
    cache = _ENCODED
    for k, v in attrs:
        t = type(v)
        if t is bool or t is int or (t is str and len(v) <= 80):  # type: ignore[arg-type]
            ck = (field, k, t, v)
            got = cache.get(ck)
            if got is None:
                if len(cache) >= _MAX_ENCODED:
                    cache.clear()
                got = cache[ck] = field_bytes(field, encode_key_value(k, v))
            out.append(got)
        else:
            out.append(field_bytes(field, encode_key_value(k, v)))
    return b"".join(out)


_ENCODED: dict[tuple[int, str, type, object], bytes] = {}
_MAX_ENCODED = 20000


def any_value_to_python(v: AnyValue) -> object:
    """Convert an AnyValue to a plain Python value (arrays to lists, kvlists to dicts)."""
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [any_value_to_python(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value_to_python(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, which)


def key_values_to_dict(kvs: Iterable[KeyValue]) -> dict[str, object]:
    """Attributes as a dict; the last value of a repeated key wins, as backends do."""
    out: dict[str, object] = {}
    for kv in kvs:
        v = kv.value
        which = v.WhichOneof("value")
        if which is None:
            out[kv.key] = None
        elif which == "array_value" or which == "kvlist_value":
            out[kv.key] = any_value_to_python(v)
        else:
            out[kv.key] = getattr(v, which)
    return out
