"""Where an export that cannot be delivered goes: OTLP/JSON lines under the data directory.

The format is the file exporter's, so ``tokenwatch score`` and any OTLP tool
can read it, and an operator can replay it with curl once the backend is
fixed.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from otel_tokenwatch.otlp.jsoncodec import dumps

if TYPE_CHECKING:
    from google.protobuf.message import Message

_REQUESTS = {
    "traces": "opentelemetry.proto.collector.trace.v1.trace_service_pb2:ExportTraceServiceRequest",
    "metrics": "opentelemetry.proto.collector.metrics.v1.metrics_service_pb2:ExportMetricsServiceRequest",
    "logs": "opentelemetry.proto.collector.logs.v1.logs_service_pb2:ExportLogsServiceRequest",
}


def request_class(signal: str) -> type[Message]:
    import importlib

    mod, _, name = _REQUESTS[signal].partition(":")
    return getattr(importlib.import_module(mod), name)  # type: ignore[no-any-return]


class DeadLetter:
    def __init__(self, data_dir: str, exporter_id: str, signal: str) -> None:
        safe = exporter_id.replace("/", "_")
        self.path = os.path.join(data_dir, "deadletter", f"{safe}.{signal}.jsonl")
        self.signal = signal
        self.written = 0
        self._lock = threading.Lock()

    def write(self, requests: list[bytes]) -> str:
        cls = request_class(self.signal)
        lines = [dumps(cls.FromString(b)) + b"\n" for b in requests]
        with self._lock:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, "ab") as f:
                f.writelines(lines)
        self.written += len(lines)
        return self.path
