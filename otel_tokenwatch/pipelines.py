"""The per-signal pipelines that receivers feed: traces (assembled, staged) and pass-through.

A receiver calls ``consume_*`` synchronously on the event loop; the call
never waits on a backend. Traces go to the assembler; released trees run
through the processor chain and are offered, encoded, to every exporter of
the pipeline. Metrics and logs are handed to their exporters as received
(the logs pipeline may grow stages for coding-agent sessions).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_tokenwatch import semconv
from otel_tokenwatch.errors import Refused
from otel_tokenwatch.exporters.contract import ExportItem, Exporter
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.processor import ProcessorChain
from otel_tokenwatch.pipeline.tree import Tree, encode_spans

log = logging.getLogger("otel_tokenwatch.pipeline")


def count_spans(request: ExportTraceServiceRequest) -> int:
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


class Fanout:
    """Offers one encoded request to several exporters and reports when all are done."""

    def __init__(self, exporters: list[Exporter]) -> None:
        self.exporters = exporters

    @property
    def saturated(self) -> bool:
        return any(e.saturated for e in self.exporters)

    def offer(self, data: bytes, count: int, done: Callable[[bool], None] | None = None) -> None:
        if done is None or not self.exporters:
            for e in self.exporters:
                e.offer(ExportItem(data, count))
            if done is not None:
                done(True)
            return
        remaining = [len(self.exporters)]
        ok = [True]

        def one(success: bool) -> None:
            ok[0] = ok[0] and success
            remaining[0] -= 1
            if remaining[0] == 0:
                done(ok[0])

        for e in self.exporters:
            e.offer(ExportItem(data, count, one))


class TracesPipeline:
    """Receivers -> assembler -> stages -> exporters."""

    signal = "traces"

    def __init__(self, pid: str, assemble: AssembleConfig | None, chain: ProcessorChain, fanout: Fanout,
                 telemetry: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.id = pid
        self.assembler = Assembler(assemble) if assemble is not None else None
        self.chain = chain
        self.fanout = fanout
        self.telemetry = telemetry
        self.clock = clock
        self.spans_in = 0
        self.spans_out = 0
        self.trees_out = 0
        #: called with each processed tree before it is encoded (metrics recording)
        self.observers: list[Callable[[Tree], None]] = []

    def check_capacity(self) -> None:
        """Refuse new data while a downstream queue is full (never drop what was accepted)."""
        if self.fanout.saturated:
            raise Refused("an exporter queue is full; retry later", retry_after=1.0)

    def consume(self, request: ExportTraceServiceRequest, raw: bytes | None = None,
                source: int | None = None, done: Callable[[bool], None] | None = None) -> int:
        """Take one export request; returns its span count."""
        n = count_spans(request)
        self.spans_in += n
        if self.assembler is None:
            data = raw if raw is not None else request.SerializeToString()
            self.spans_out += n
            self.fanout.offer(data, n, done)
            return n
        released = self.assembler.add(request, self.clock(), source)
        self.emit(released)
        return n

    def tick(self) -> None:
        if self.assembler is not None:
            self.emit(self.assembler.expire(self.clock()))

    def flush(self, reason: str = "shutdown") -> None:
        if self.assembler is not None:
            self.emit(self.assembler.flush(self.clock(), reason))

    def emit(self, trees: list[Tree]) -> None:
        for tree in trees:
            self.chain.process(tree)
            for observe in self.observers:
                try:
                    observe(tree)
                except Exception:  # noqa: BLE001 - metrics must never cost a span
                    log.exception("tree observer failed")
            n = len(tree.spans)
            self.spans_out += n
            self.trees_out += 1
            if self.telemetry is not None and not tree.late:
                self.telemetry.add(semconv.M_TREES_RELEASED, 1, {"reason": tree.release_reason})
            if self.telemetry is not None and tree.late:
                self.telemetry.add(semconv.M_SPANS_LATE, sum(1 for e in tree.spans if e.late))
            done = tree.facts.get("on_delivered")
            self.fanout.offer(encode_spans(tree.spans), n, done)


class PassthroughPipeline:
    """Metrics and logs: forwarded as received."""

    def __init__(self, pid: str, signal: str, fanout: Fanout) -> None:
        self.id = pid
        self.signal = signal
        self.fanout = fanout
        self.items_in = 0

    def check_capacity(self) -> None:
        if self.fanout.saturated:
            raise Refused("an exporter queue is full; retry later", retry_after=1.0)

    def consume_raw(self, raw: bytes, count: int, done: Callable[[bool], None] | None = None) -> None:
        self.items_in += count
        self.fanout.offer(raw, count, done)


class Consumers:
    """What one receiver feeds: every pipeline that lists it, per signal.

    Besides the three OTLP signals, components may register extra endpoints
    on the receiver's ports (the outcome API): ``http_routes`` holds
    ``(method, path, handler)`` with aiohttp handlers, ``grpc_handlers`` holds
    ``grpc.GenericRpcHandler`` objects for the gRPC server.
    """

    def __init__(self, traces: list[TracesPipeline] | None = None,
                 metrics: list[PassthroughPipeline] | None = None,
                 logs: list[PassthroughPipeline] | None = None) -> None:
        self.traces_pipelines = traces or []
        self.metrics_pipelines = metrics or []
        self.logs_pipelines = logs or []
        self.http_routes: list[tuple[str, str, Any]] = []
        self.grpc_handlers: list[Any] = []

    def accepts(self, signal: str) -> bool:
        return bool(getattr(self, f"{signal}_pipelines"))

    def traces(self, request: ExportTraceServiceRequest, raw: bytes | None = None) -> int:
        """Hand a decoded trace request on; raises Refused when a pipeline is saturated."""
        for p in self.traces_pipelines:
            p.check_capacity()
        n = 0
        for p in self.traces_pipelines:
            n = p.consume(request, raw)
        return n

    def metrics(self, raw: bytes, count: int) -> None:
        self._passthrough(self.metrics_pipelines, raw, count)

    def logs(self, raw: bytes, count: int) -> None:
        self._passthrough(self.logs_pipelines, raw, count)

    @staticmethod
    def _passthrough(pipelines: list[PassthroughPipeline], raw: bytes, count: int) -> None:
        for p in pipelines:
            p.check_capacity()
        for p in pipelines:
            p.consume_raw(raw, count)
