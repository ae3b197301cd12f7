"""OTLP/JSON <-> protobuf, as the OTLP specification words it.

OTLP/JSON is the proto3 JSON mapping with three differences: trace and span
ids are hex strings (not base64), enums are integers, and keys are
lowerCamelCase (receivers also accept the original field names). Unknown
fields are ignored by receivers. Conversion goes through protobuf's own
json_format after the ids are re-coded, so every other field follows the
standard mapping exactly.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

import orjson
from google.protobuf import json_format
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

_ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


class JsonDecodeError(ValueError):
    """The body is not OTLP/JSON; the message says where."""


def _hex_ids_to_b64(node: Any, path: str = "") -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in _ID_KEYS and isinstance(v, str):
                try:
                    out[k] = base64.b64encode(bytes.fromhex(v)).decode() if v else ""
                except ValueError:
                    raise JsonDecodeError(f"{path}.{k}: not a hex id: {v[:40]!r}") from None
            else:
                out[k] = _hex_ids_to_b64(v, f"{path}.{k}" if path else k)
        return out
    if isinstance(node, list):
        return [_hex_ids_to_b64(v, f"{path}[{i}]") for i, v in enumerate(node)]
    return node


def _b64_ids_to_hex(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in _ID_KEYS and isinstance(v, str):
                out[k] = binascii.hexlify(base64.b64decode(v)).decode()
            else:
                out[k] = _b64_ids_to_hex(v)
        return out
    if isinstance(node, list):
        return [_b64_ids_to_hex(v) for v in node]
    return node


def parse_dict(obj: Any, message: M) -> M:
    """Fill ``message`` from an already loaded OTLP/JSON object."""
    if not isinstance(obj, dict):
        raise JsonDecodeError("the top level must be a JSON object")
    try:
        json_format.ParseDict(_hex_ids_to_b64(obj), message, ignore_unknown_fields=True)
    except json_format.ParseError as e:
        raise JsonDecodeError(str(e)) from None
    except RecursionError:
        raise JsonDecodeError("nesting too deep") from None
    return message


def parse(data: bytes | str, message: M) -> M:
    """Fill ``message`` from OTLP/JSON bytes."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise JsonDecodeError(f"not JSON: {e}") from None
    return parse_dict(obj, message)


def to_dict(message: Message) -> dict[str, Any]:
    """OTLP/JSON object of a message (hex ids, integer enums, camelCase keys)."""
    d = json_format.MessageToDict(message, use_integers_for_enums=True)
    return _b64_ids_to_hex(d)  # type: ignore[no-any-return]


def dumps(message: Message) -> bytes:
    """One line of OTLP/JSON (no newline)."""
    return orjson.dumps(to_dict(message))
