"""What every exporter offers the pipeline.

The pipeline hands an exporter encoded OTLP export requests (bytes) and
never waits for it: ``offer`` only enqueues. Each exporter owns its queue,
batching, timeout and retry (shared helpers with the Collector's
exporterhelper keys), so one slow backend never holds back another. When a
queue is at capacity ``saturated`` turns true and the receivers refuse new
data with a retry hint instead of dropping anything already accepted.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Signal = Literal["traces", "metrics", "logs"]


@dataclass(slots=True)
class ExportItem:
    """One encoded Export{Trace,Metrics,Logs}ServiceRequest and how many items it holds."""

    data: bytes
    count: int
    #: called once: True when the backend confirmed, False when the item was dead-lettered or refused for good
    done: Callable[[bool], None] | None = None
    #: when the exporter took it (monotonic); old items move to the exporter's own spool
    at: float = 0.0
    #: already written to the exporter's spool
    spooled: bool = False


@dataclass
class ExporterContext:
    id: str
    signal: Signal
    telemetry: Any = None  # otel_tokenwatch.telemetry.SelfTelemetry
    data_dir: str = "./tokenwatch-data"
    extras: dict[str, Any] = field(default_factory=dict)


class Exporter(Protocol):
    id: str
    signal: Signal

    def offer(self, item: ExportItem) -> None:
        """Enqueue without blocking. Past capacity the item is still taken (it was acknowledged
        upstream); ``saturated`` makes the receivers refuse the next requests."""

    @property
    def saturated(self) -> bool:
        """True while the queue is at or over capacity."""

    async def start(self) -> None:
        """Open connections and start the sending tasks."""

    async def shutdown(self, timeout: float = 10.0) -> None:
        """Stop taking items, send what is queued within ``timeout``, then stop."""

    def status(self) -> dict[str, Any]:
        """Queue size, capacity, sent/failed counts and the last error, for the status page."""


@dataclass
class ExporterFactory:
    type: str
    config_class: builtins.type  # builtins: the field "type" shadows it in the class body
    create: Callable[[Any, ExporterContext], Exporter]
    stability: str = "alpha"
