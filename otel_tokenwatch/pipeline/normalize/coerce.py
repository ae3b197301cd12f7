"""Attribute values as instrumentations really send them, coerced to what they mean.

Integers arrive as strings (OTLP/JSON int64), numbers as JSON strings
(MLflow, LiteLLM), lists as JSON strings or Python reprs, booleans as
"True". Each helper returns None when the value is absent or unreadable,
and the caller records unreadable keys instead of guessing.
"""

from __future__ import annotations

import ast
import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from otel_tokenwatch.otlp.wire import c_has_digit_run as _has_digit_run

_MISSING = object()


class Unreadable(ValueError):
    """Present but not convertible; the key goes to ``tokenwatch.usage.invalid``."""


MAX_COUNT = 2**53  # no real token count comes near; larger values are garbage, not usage


def to_int(v: Any) -> int | None:
    if type(v) is int:  # what OTLP ints decode to (bools are their own type): the common case, first
        if 0 <= v < MAX_COUNT:
            return v
        raise Unreadable(v)
    n = _to_int(v)
    if n is not None and not 0 <= n < MAX_COUNT:
        raise Unreadable(v)
    return n


def _to_int(v: Any) -> int | None:
    if v is None or v == "" or v == "None":
        return None
    if isinstance(v, bool):
        raise Unreadable(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if not math.isfinite(v) or v < 0:
            raise Unreadable(v)
        return int(v)
    if isinstance(v, str):
        s = v.strip().strip('"')
        try:
            return int(s)
        except ValueError:
            try:
                f = float(s)
            except ValueError:
                raise Unreadable(v) from None
            if not math.isfinite(f):
                raise Unreadable(v) from None
            return int(f)
    raise Unreadable(v)


#: no cost (USD) or sampling parameter comes near; larger values are garbage, and "1e999", a finite Decimal,
#: would be an infinite float in every sum after it (a tree's waste units, its baseline sample: NaN)
MAX_AMOUNT = Decimal(MAX_COUNT)


def to_decimal(v: Any) -> Decimal | None:
    if v is None or v == "" or v == "None" or isinstance(v, bool):
        return None
    try:
        d = Decimal(str(v).strip().strip('"'))
    except InvalidOperation:
        raise Unreadable(v) from None
    if not d.is_finite() or d < 0 or d > MAX_AMOUNT:
        raise Unreadable(v)
    return d


def to_float(v: Any) -> float | None:
    d = to_decimal(v)
    return float(d) if d is not None else None


def to_bool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    return None


def to_str(v: Any) -> str | None:
    if v is None:
        return None
    s = (v if type(v) is str else str(v)).strip()
    if s in ("", "None", "null"):
        return None
    if len(s) >= 2 and s[0] == s[-1] == '"':
        s = s[1:-1]
    return s or None


def parse_structured(v: Any) -> Any:
    """A JSON string or Python repr as the value it encodes; other values unchanged."""
    if not isinstance(v, str):
        return v
    s = v.strip()
    if not s or s[0] not in "[{\"":
        return v
    if _has_digit_run is not None and not _has_digit_run(s, 19):
        # orjson reads captured messages several times faster, but integers past 64 bits (19 digits
        # can pass int64's range) as floats; without such a run it reads exactly what json reads
        try:
            return orjson.loads(s)
        except ValueError:  # NaN, Infinity, 1e400, lone surrogates: json reads them below
            pass
    try:
        return json.loads(s)
    except ValueError:
        pass
    try:
        return ast.literal_eval(s)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return v


def to_str_list(v: Any) -> list[str]:
    v = parse_structured(v)
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v if x is not None and str(x) != ""]
    s = to_str(v)
    return [s] if s else []
