"""Structured, quiet logging: one JSON object per line on stderr, warnings and up by default.

Fields passed as ``extra={...}`` become keys of the JSON line, so an
operator can filter on ``exporter`` or ``processor`` without parsing prose.
Nothing here ever formats a span's attribute values: callers pass ids and
counts, never content.
"""

from __future__ import annotations

import logging
import sys
import time

import orjson

_STD = set(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime", "taskName"}
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in record.__dict__.items():
            if k not in _STD and not k.startswith("_"):
                doc[k] = v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
        if record.exc_info and record.exc_info[0] is not None:
            doc["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
        return orjson.dumps(doc).decode()


def configure(level: str = "warn", encoding: str = "json") -> None:
    """Set up the ``otel_tokenwatch`` logger tree (idempotent)."""
    root = logging.getLogger("otel_tokenwatch")
    root.setLevel(_LEVELS.get(level, logging.WARNING))
    for h in list(root.handlers):
        if getattr(h, "_tokenwatch", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler._tokenwatch = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if encoding == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.propagate = False
    for noisy in ("aiohttp.access", "grpc._cython.cygrpc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
