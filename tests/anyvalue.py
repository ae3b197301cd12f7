"""Plain Python values as OTLP AnyValue messages, for tests that build spans by hand."""

from __future__ import annotations

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def any_value(v: object) -> AnyValue:
    """None -> empty, bool/int/float/bytes/str -> their member, list -> array, dict -> kvlist."""
    if v is None:
        return AnyValue()
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    if isinstance(v, bytes):
        return AnyValue(bytes_value=v)
    if isinstance(v, list):
        a = AnyValue()
        a.array_value.values.extend(any_value(x) for x in v)
        return a
    if isinstance(v, dict):
        a = AnyValue()
        a.kvlist_value.values.extend(KeyValue(key=k, value=any_value(x)) for k, x in v.items())
        return a
    return AnyValue(string_value=str(v))
