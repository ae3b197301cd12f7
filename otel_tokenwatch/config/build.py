"""Turn a YAML mapping into frozen dataclasses, naming the dotted key on any error.

Components declare their config as a frozen dataclass whose fields carry the
defaults (the Collector's ``createDefaultConfig``). ``build`` fills one from a
mapping, rejects unknown keys, converts durations ("2s", "500ms") and sizes
("64MiB"), and then calls the dataclass's ``validate(path)`` if it has one.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from typing import Any, TypeVar, get_args, get_origin

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration problem; the message starts with the dotted key."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class Duration(float):
    """Seconds, written in config as 2s, 500ms, 1m, 1h or a bare number of seconds."""


class ByteSize(int):
    """Bytes, written in config as 512KiB, 64MiB, 1GiB, 10MB or a bare number."""


_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ns|us|µs|ms|s|m|h)?\s*$")
_DUR_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_duration(value: Any, path: str) -> Duration:
    if isinstance(value, bool):
        raise ConfigError(path, f"expected a duration such as 2s or 500ms, got {value!r}")
    if isinstance(value, (int, float)):
        return Duration(float(value))
    m = _DURATION.match(str(value))
    if not m:
        raise ConfigError(path, f"expected a duration such as 2s or 500ms, got {value!r}")
    return Duration(float(m.group(1)) * _DUR_UNITS[m.group(2)])


def parse_size(value: Any, path: str) -> ByteSize:
    if isinstance(value, bool):
        raise ConfigError(path, f"expected a size such as 64MiB, got {value!r}")
    if isinstance(value, int):
        return ByteSize(value)
    m = _SIZE.match(str(value))
    if not m:
        raise ConfigError(path, f"expected a size such as 64MiB, got {value!r}")
    unit = (m.group(2) or "b").lower()
    return ByteSize(int(float(m.group(1)) * _SIZE_UNITS[unit]))


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            # "grpc:" with nothing under it means "on, with defaults" (the Collector's reading)
            for a in args:
                if dataclasses.is_dataclass(a):
                    return build(a, {}, path)  # type: ignore[arg-type]
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(a, value, path)
            except ConfigError as e:
                errors.append(e)
        raise errors[0] if errors else ConfigError(path, f"unexpected value {value!r}")
    if origin is typing.Literal:
        if value not in get_args(tp):
            allowed = ", ".join(str(a) for a in get_args(tp))
            raise ConfigError(path, f"must be one of {allowed}, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path)  # type: ignore[arg-type]
    if tp is Duration:
        return parse_duration(value, path)
    if tp is ByteSize:
        return parse_size(value, path)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ConfigError(path, f"expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(path, f"expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise ConfigError(path, f"expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(path, f"expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(path, f"expected a number, got {value!r}") from None
    if tp is str:
        if isinstance(value, (dict, list)) or value is None:
            raise ConfigError(path, f"expected a string, got {value!r}")
        return str(value)
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(path, f"expected a list, got {value!r}")
        args = get_args(tp)
        inner = args[0] if args else Any
        items = [_convert(inner, v, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple or tp is tuple else items
    if origin is dict or tp is dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError(path, f"expected a mapping, got {value!r}")
        args = get_args(tp)
        inner = args[1] if len(args) == 2 else Any
        return {str(k): _convert(inner, v, f"{path}.{k}") for k, v in value.items()}
    return value


def unknown_key(key: object, known: typing.Iterable[str]) -> str:
    """The message for a key no one reads: the likely typo's fix first, then every key that is read."""
    names = sorted(known)
    close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown key ({hint}known keys: {', '.join(names)})"


def build(cls: type[T], mapping: Any, path: str = "") -> T:
    """Build a config dataclass from a mapping (None means all defaults)."""
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict):
        raise ConfigError(path, f"expected a mapping, got {mapping!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = [k for k in mapping if k not in fields]
    if unknown:
        key = unknown[0]
        raise ConfigError(f"{path}.{key}" if path else str(key), unknown_key(key, fields))
    kwargs = {}
    for name, value in mapping.items():
        kwargs[name] = _convert(hints[name], value, f"{path}.{name}" if path else name)
    for name, f in fields.items():
        if name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{path}.{name}" if path else name, "missing")
    obj = cls(**kwargs)
    validate = getattr(obj, "validate", None)
    if callable(validate):
        validate(path)
    return obj


def require(cond: bool, path: str, message: str) -> None:
    """Raise a ConfigError naming ``path`` unless ``cond`` holds."""
    if not cond:
        raise ConfigError(path, message)
