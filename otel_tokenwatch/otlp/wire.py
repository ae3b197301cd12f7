"""Protobuf wire-format helpers for building OTLP messages from bytes.

Why bytes: a span is held for assembly as its encoded form (about its wire
size in memory) and leaves as the same bytes. Protobuf lets a repeated field
grow by concatenation, so adding an attribute to a span is appending one
encoded ``KeyValue`` (field 9) to its bytes, and an export request is the
concatenation of length-prefixed ResourceSpans. Nothing on the hot path is
decoded into Python objects per attribute.
"""

from __future__ import annotations

import os
import struct
from collections.abc import ItemsView, Iterable, Sequence
from typing import Any, NamedTuple

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
    out: bytes = _any_value_message(value).SerializeToString()  # protobuf is untyped here: Any
    return out


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
    """Attributes as repeated-field entries, ready to append to a span's bytes (compiled where built)."""
    if _c_encode_attributes is not None:
        items = attrs if isinstance(attrs, (list, tuple, ItemsView)) else list(attrs)
        got = _c_encode_attributes(items, field)
        if got is not None:
            return got
        attrs = items
    return py_encode_attributes(attrs, field)


def py_encode_attributes(attrs: Iterable[tuple[str, AttrValue]], field: int = SPAN_ATTRIBUTES_FIELD) -> bytes:
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


# --- a reading view of a span ------------------------------------------------------------
def _span_view_class() -> Any:
    """A message with Span's field numbers that reads attributes as ``map<string, bytes>``.

    A KeyValue (key = 1, value = 2) is on the wire exactly a map entry, so
    parsing a span's bytes with this message gives every attribute as its
    key and its *encoded* AnyValue in one C-level pass, without a Python
    wrapper object per KeyValue and AnyValue (the bench's largest single
    cost per span). Events and links stay encoded; a map keeps the last
    value of a repeated key, as backends do.
    """
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    f = descriptor_pb2.FileDescriptorProto(name="otel_tokenwatch/span_view.proto", package="otel_tokenwatch.view",
                                           syntax="proto3")
    st = f.message_type.add(name="Status")
    st.field.add(name="message", number=2, type=9, label=1)
    st.field.add(name="code", number=3, type=5, label=1)
    m = f.message_type.add(name="SpanView")
    entry = m.nested_type.add(name="AttributesEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=9, label=1)
    entry.field.add(name="value", number=2, type=12, label=1)
    for name, number, typ in (("trace_id", 1, 12), ("span_id", 2, 12), ("trace_state", 3, 9),
                              ("parent_span_id", 4, 12), ("name", 5, 9), ("kind", 6, 5),
                              ("start_time_unix_nano", 7, 6), ("end_time_unix_nano", 8, 6),
                              ("dropped_attributes_count", 10, 13), ("dropped_events_count", 12, 13),
                              ("dropped_links_count", 14, 13), ("flags", 16, 7)):
        m.field.add(name=name, number=number, type=typ, label=1)
    m.field.add(name="attributes", number=9, type=11, label=3,
                type_name=".otel_tokenwatch.view.SpanView.AttributesEntry")
    m.field.add(name="events", number=11, type=12, label=3)
    m.field.add(name="links", number=13, type=12, label=3)
    m.field.add(name="status", number=15, type=11, label=1, type_name=".otel_tokenwatch.view.Status")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("otel_tokenwatch.view.SpanView"))


SpanView: Any = _span_view_class()  # a protobuf message class, built at import
_unpack_double = struct.Struct("<d").unpack


def any_value_bytes_to_python(v: bytes) -> object:
    """An encoded AnyValue as a plain value (the common scalars by hand, the rest through protobuf)."""
    if not v:
        return None
    t = v[0]
    n = len(v)
    if t == 0x0A:  # string_value
        ln = v[1] if n > 1 else 0
        if ln < 0x80 and n == ln + 2:
            return v[2:].decode()
    elif t == 0x18:  # int_value: a varint filling the rest
        x = shift = 0
        for i in range(1, n):
            b = v[i]
            x |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if i + 1 == n:
                    return x - (1 << 64) if x >= 1 << 63 else x
                break
    elif t == 0x10 and n == 2:
        return v[1] != 0
    elif t == 0x21 and n == 9:
        return _unpack_double(v[1:])[0]
    return any_value_to_python(AnyValue.FromString(v))


def view_attributes(view: object) -> dict[str, object]:
    """A SpanView's attributes as plain values."""
    return {k: any_value_bytes_to_python(v) for k, v in view.attributes.items()}  # type: ignore[attr-defined]


# --- the hot path's two reads, compiled where possible ---------------------------------------
class PySpanFields(NamedTuple):
    """The scalar fields of a span that stages read (the compiled reader's SpanFields, in Python)."""

    name: str
    kind: int
    start_time_unix_nano: int
    end_time_unix_nano: int
    status_code: int


def py_decode_span(data: bytes) -> tuple[PySpanFields, dict[str, object]]:
    """``decode_span`` through protobuf: the reference the compiled reader is tested against."""
    v = SpanView.FromString(data)
    return (PySpanFields(v.name, v.kind, v.start_time_unix_nano, v.end_time_unix_nano, v.status.code),
            view_attributes(v))


RawSpan = tuple[bytes, bytes, bytes, bytes]  # span bytes, trace_id, span_id, parent_span_id
RawScope = tuple[bytes, str, list[RawSpan]]  # scope bytes, schema_url, spans
RawResource = tuple[bytes, str, list[RawScope]]  # resource bytes, schema_url, scopes


def py_split_traces(data: bytes) -> list[RawResource]:
    """``split_traces`` through protobuf (spans re-serialized rather than sliced)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    return split_request(ExportTraceServiceRequest.FromString(data))


def split_request(request: object) -> list[RawResource]:
    """An already decoded ExportTraceServiceRequest in the shape ``split_traces`` returns."""
    return [(rs.resource.SerializeToString(), rs.schema_url,
             [(ss.scope.SerializeToString(), ss.schema_url,
               [(sp.SerializeToString(), sp.trace_id, sp.span_id, sp.parent_span_id) for sp in ss.spans])
              for ss in rs.scope_spans])
            for rs in request.resource_spans]  # type: ignore[attr-defined]


try:
    if os.environ.get("TOKENWATCH_PURE_PYTHON"):
        raise ImportError("TOKENWATCH_PURE_PYTHON is set")
    from otel_tokenwatch.otlp import _wirec
except ImportError:  # no compiler at install time: protobuf does the same reads, slower
    _wirec = None  # type: ignore[assignment]

#: whether the compiled reader is in use (the bench prints it; a CI test requires it)
COMPILED = _wirec is not None

_c_encode_attributes = _wirec.encode_attributes if _wirec is not None else None
#: builds an ExportTraceServiceRequest from grouped span pieces in one copy (None: tree.py joins in Python)
c_encode_request = _wirec.encode_request if _wirec is not None else None
#: tree.encode_spans in one call, for spans whose additions are scalars under new keys (None: Python decides)
c_encode_entries = _wirec.encode_entries if _wirec is not None else None
#: has_digit_run(s, n): n or more ASCII digits in a row in s (None: callers take their slower exact path)
c_has_digit_run = _wirec.has_digit_run if _wirec is not None else None
c_repeated_ids = _wirec.repeated_ids if _wirec is not None else None

if _wirec is not None:
    _c_decode_span = _wirec.decode_span
    _c_split_traces = _wirec.split_traces

    def decode_span(data: bytes) -> tuple[Any, dict[str, object]]:
        """A span's scalar fields and attributes as plain values, read straight from its bytes."""
        try:
            return _c_decode_span(data)
        except ValueError:  # an encoding the compiled reader leaves to protobuf
            return py_decode_span(data)

    def split_traces(data: bytes) -> list[RawResource]:
        """A request's resources, scopes and spans, each span as the bytes it was sent as."""
        try:
            return _c_split_traces(data)
        except ValueError:
            return py_split_traces(data)
else:
    decode_span = py_decode_span
    split_traces = py_split_traces


class TraceCheck(NamedTuple):
    """What the compiled check learned of a valid trace request, instead of a protobuf parse."""

    spans: int
    max_attributes: int  # the most attributes one span carries
    max_attributes_span_id: bytes
    max_span_size: int  # the largest span's encoded size
    max_span_size_span_id: bytes


def _schema_tables(root: Any) -> tuple[list[list[tuple[int, int, int]]], dict[str, int]]:
    """The message types under ``root`` as the compiled check's tables, from protobuf's own
    descriptors: whatever fields the installed opentelemetry-proto knows, the check knows."""
    from google.protobuf.descriptor import FieldDescriptor as F

    index: dict[str, int] = {}
    order: list[Any] = []

    def visit(d: Any) -> None:
        if d.full_name in index:
            return
        index[d.full_name] = len(order)
        order.append(d)
        for f in d.fields:
            if f.message_type is not None:
                visit(f.message_type)

    visit(root)
    fixed64 = {F.TYPE_DOUBLE, F.TYPE_FIXED64, F.TYPE_SFIXED64}
    fixed32 = {F.TYPE_FLOAT, F.TYPE_FIXED32, F.TYPE_SFIXED32}
    tables = []
    for d in order:
        fields = []
        for f in d.fields:
            if f.type == F.TYPE_GROUP:
                continue  # framing groups are declined by the reader: protobuf decides
            code = (4 if f.type == F.TYPE_MESSAGE else 3 if f.type == F.TYPE_STRING else 2 if f.type == F.TYPE_BYTES
                    else 1 if f.type in fixed64 else 5 if f.type in fixed32 else 0)
            fields.append((f.number, code, index[f.message_type.full_name] if code == 4 else 0))
        tables.append(fields)
    return tables, index


if _wirec is not None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest as _Req

    _tables, _index = _schema_tables(_Req.DESCRIPTOR)
    _wirec.set_schema(_tables, 0, _index["opentelemetry.proto.trace.v1.Span"], SPAN_ATTRIBUTES_FIELD, 2)
    _c_check_traces = _wirec.check_traces


def check_traces(data: bytes) -> TraceCheck | None:
    """A trace request checked as protobuf would parse it, without building it; None where the
    compiled check is not built, or declines (invalid, or an encoding it leaves to protobuf)."""
    if _wirec is None:
        return None
    try:
        return TraceCheck(*_c_check_traces(data))
    except ValueError:
        return None
