"""Read OTLP requests from files: the formats people actually have on disk.

* OTLP/JSON lines: one Export*ServiceRequest per line (the Collector's file
  exporter and tokenwatch's own file exporter write this).
* Wrapped lines: ``{"otlp": {...}, "otlp_logs": {...}, "signal": ..., "scenario": ...}``
  (the shared fixtures and coding-agent captures).
* OTLP protobuf: a file holding one binary ExportTraceServiceRequest, or the
  Collector file exporter's ``format: proto`` framing (4-byte big-endian
  length before each message).

Errors name the file and line, because a person will have to open it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_tokenwatch.otlp.jsoncodec import JsonDecodeError, parse_dict

Request = ExportTraceServiceRequest | ExportMetricsServiceRequest | ExportLogsServiceRequest


class UnreadableInput(ValueError):
    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


@dataclass
class Record:
    signal: str  # traces | metrics | logs
    request: Request
    path: str
    line: int | None
    meta: dict[str, object] = field(default_factory=dict)


_TOP = {"resourceSpans": "traces", "resource_spans": "traces", "resourceMetrics": "metrics",
        "resource_metrics": "metrics", "resourceLogs": "logs", "resource_logs": "logs"}
_CLS: dict[str, type[Request]] = {"traces": ExportTraceServiceRequest, "metrics": ExportMetricsServiceRequest,
                                  "logs": ExportLogsServiceRequest}


def _signal_of(obj: dict[str, object]) -> str | None:
    for k in obj:
        if k in _TOP:
            return _TOP[k]
    return None


def _from_json_line(obj: object, path: str, lineno: int) -> Iterator[Record]:
    if not isinstance(obj, dict):
        raise UnreadableInput(path, lineno, "expected a JSON object per line")
    meta: dict[str, object] = {k: v for k, v in obj.items() if isinstance(v, (str, int, float, bool))}
    found = False
    for key, hint in (("otlp", obj.get("signal")), ("otlp_logs", "logs")):
        inner = obj.get(key)
        if isinstance(inner, dict):
            signal = _signal_of(inner) or (hint if isinstance(hint, str) else None)
            if signal is None:
                continue
            found = True
            yield Record(signal, parse_dict(inner, _CLS[signal]()), path, lineno, meta)
    if found:
        return
    signal = _signal_of(obj)
    if signal is None:
        raise UnreadableInput(path, lineno, "not an OTLP request (no resourceSpans, resourceMetrics or "
                                            "resourceLogs, and no 'otlp' key)")
    yield Record(signal, parse_dict(obj, _CLS[signal]()), path, lineno, {})


def _read_proto(path: str, data: bytes) -> Iterator[Record]:
    # Collector file exporter framing: repeated (uint32 big-endian length, message)
    pos = 0
    framed: list[bytes] = []
    while pos + 4 <= len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        if n == 0 or pos + 4 + n > len(data):
            framed = []
            break
        framed.append(data[pos + 4:pos + 4 + n])
        pos += 4 + n
    chunks = framed if framed and pos == len(data) else [data]
    for i, chunk in enumerate(chunks):
        try:
            req = ExportTraceServiceRequest.FromString(chunk)
        except DecodeError as e:
            raise UnreadableInput(path, None, f"not OTLP protobuf (message {i + 1}): {e}") from None
        yield Record("traces", req, path, None, {})


def read(path: str | Path) -> Iterator[Record]:
    """Every OTLP request in one file, in file order."""
    p = str(path)
    try:
        data = Path(p).read_bytes()
    except OSError as e:
        raise UnreadableInput(p, None, f"cannot read: {e.strerror}") from None
    head = data.lstrip()[:1]
    if head not in (b"{", b"["):
        yield from _read_proto(p, data)
        return
    for lineno, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            raise UnreadableInput(p, lineno, f"not JSON: {e}") from None
        try:
            yield from _from_json_line(obj, p, lineno)
        except JsonDecodeError as e:
            raise UnreadableInput(p, lineno, f"not OTLP/JSON: {e}") from None
