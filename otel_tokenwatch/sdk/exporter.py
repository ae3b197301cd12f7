"""tokenwatch inside an OpenTelemetry Python SDK process: ``OTEL_TRACES_EXPORTER=tokenwatch``.

``TokenwatchSpanExporter`` wraps a downstream exporter (OTLP by default,
configured by the usual ``OTEL_EXPORTER_OTLP_*`` variables). ``export``
only encodes the batch with the SDK's own OTLP encoder and queues it; a
background thread runs the very same stages as the service (assemble,
normalize, enrich, score, built from the same config), then hands the
spans, with tokenwatch's attributes added, to the downstream exporter. The
application's thread never waits on scoring, and a failure in a stage still
exports the raw spans.

Settings: ``TOKENWATCH_CONFIG`` (a service YAML; its first traces pipeline's
processors are used), ``TOKENWATCH_TREE_IDLE`` (seconds, default 1),
``TOKENWATCH_MAX_QUEUE_SPANS`` (default 100000; past it spans skip scoring
and go straight downstream, counted).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otel_tokenwatch import semconv
from otel_tokenwatch.config.build import Duration
from otel_tokenwatch.otlp.wire import any_value_to_python
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext, slices
from otel_tokenwatch.pipeline.tree import Tree
from otel_tokenwatch.state import MemoryStore

log = logging.getLogger("otel_tokenwatch.sdk")

#: exporters alive in this process, so report_outcome() can reach one without a network hop
ACTIVE: list[TokenwatchSpanExporter] = []


def default_downstream() -> SpanExporter:
    """The OTLP exporter the environment asks for (grpc unless http/protobuf is set)."""
    proto = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL",
                                                                                  "grpc")
    if proto.startswith("http"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        return HttpExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

    return GrpcExporter()


def _build_stages(ctx: ProcessorContext) -> tuple[AssembleConfig, ProcessorChain]:
    from otel_tokenwatch.config import load
    from otel_tokenwatch.service import build_processors

    config = load(os.environ.get("TOKENWATCH_CONFIG") or None)
    pid = next(p for p in config.service.pipelines if p.split("/", 1)[0] == "traces")
    assemble, stages = build_processors(config, pid, ctx)
    idle = Duration(float(os.environ.get("TOKENWATCH_TREE_IDLE", "1")))
    base = assemble or AssembleConfig()
    return AssembleConfig(tree_idle=idle, tree_max_wait=base.tree_max_wait, max_open_traces=base.max_open_traces,
                          max_bytes=base.max_bytes, max_spans_per_trace=base.max_spans_per_trace,
                          late_cache_size=base.late_cache_size, late_cache_ttl=base.late_cache_ttl), \
        ProcessorChain(stages)


class TokenwatchSpanExporter(SpanExporter):
    def __init__(self, downstream: SpanExporter | None = None, meter_provider: Any = None,
                 max_queue_spans: int | None = None) -> None:
        from otel_tokenwatch.telemetry.genai_metrics import GenAIMetrics
        from otel_tokenwatch.telemetry.selfmetrics import SelfTelemetry

        self.downstream = downstream or default_downstream()
        if meter_provider is None:
            from opentelemetry import metrics

            meter_provider = metrics.get_meter_provider()
        self.telemetry = SelfTelemetry(meter_provider=meter_provider)
        self.metrics = GenAIMetrics(self.telemetry)
        self.ctx = ProcessorContext(state=MemoryStore(), telemetry=self.telemetry)
        self.ctx.extras["emit_span"] = lambda summary, span, resource: None  # late outcomes: metrics only
        self.assemble_cfg, self.chain = _build_stages(self.ctx)
        self.metrics.team_label = self.ctx.extras.get("team_label", self.metrics.team_label)
        self.assembler = Assembler(self.assemble_cfg)
        self.max_queue_spans = max_queue_spans or int(os.environ.get("TOKENWATCH_MAX_QUEUE_SPANS", "100000"))
        self.queue: queue.Queue[Any] = queue.Queue()
        self.queued_spans = 0
        self.bypassed_spans = 0
        self.failed_trees = 0
        self.originals: dict[bytes, ReadableSpan] = {}
        self._lock = threading.Lock()
        self._stopped = False
        self.chain.start()
        self.thread = threading.Thread(target=self._run, name="tokenwatch-exporter", daemon=True)
        self.thread.start()
        ACTIVE.append(self)

    # --- SpanExporter -------------------------------------------------------------------
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._stopped:
            return SpanExportResult.FAILURE
        with self._lock:
            over = self.queued_spans + len(spans) > self.max_queue_spans
            if not over:
                self.queued_spans += len(spans)
        if over:  # never hold the application back: past the bound, spans go out unscored, counted
            self.bypassed_spans += len(spans)
            try:
                self.telemetry.add(semconv.M_SDK_UNSCORED, len(spans))
            except Exception:
                log.debug("could not count unscored spans", exc_info=True)
            return self.downstream.export(spans)
        try:
            req = encode_spans(spans)
        except Exception:
            log.exception("could not encode spans; exporting them unscored")
            return self.downstream.export(spans)
        self.queue.put(("spans", req, list(spans)))
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        done = threading.Event()
        self.queue.put(("flush", done, None))
        ok = done.wait(timeout_millis / 1000)
        return ok and self.downstream.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self._stopped:
            return
        self.force_flush()
        self._stopped = True
        self.queue.put(("stop", None, None))
        self.thread.join(10)
        self.chain.shutdown()
        self.downstream.shutdown()
        if self in ACTIVE:
            ACTIVE.remove(self)

    # --- the background thread ---------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                kind, a, b = self.queue.get(timeout=0.1)
            except queue.Empty:
                self._emit(self.assembler.expire(time.monotonic()))
                continue
            try:
                if kind == "spans":
                    for s in b:
                        self.originals[s.context.span_id.to_bytes(8, "big") + s.context.trace_id.to_bytes(16, "big")] = s
                    with self._lock:
                        self.queued_spans -= len(b)
                    self._emit(self.assembler.add(a, time.monotonic(), None))
                elif kind == "flush":
                    self._emit(self.assembler.flush(time.monotonic(), "flush"))
                    a.set()
                elif kind == "stop":
                    self._emit(self.assembler.flush(time.monotonic(), "shutdown"))
                    return
            except Exception:
                log.exception("tokenwatch exporter thread failed on a batch")
                if kind == "flush":
                    a.set()

    def _emit(self, trees: list[Tree]) -> None:
        for part in slices(trees):
            self._emit_slice(part)

    def _emit_slice(self, trees: list[Tree]) -> None:
        # released together, as the service does; contains stage failures: a tree goes out unscored by
        # a stage that failed on it
        self.chain.process_many(trees)
        for tree in trees:
            if tree.facts.get("failed_stages"):
                self.failed_trees += 1
            try:
                self.metrics.record_tree(tree)
            except Exception:
                log.exception("metrics failed")
            out = [self._readable(e, tree) for e in tree.spans]
            try:
                self.downstream.export([s for s in out if s is not None])
            except Exception:
                log.exception("downstream export failed")
            time.sleep(0)  # hand the GIL back to the application between trees

    def _readable(self, e: Any, tree: Tree) -> ReadableSpan | None:
        """The application's span with tokenwatch's attributes added (and privacy edits applied)."""
        orig = self.originals.pop(e.span_id + tree.trace_id, None)
        if orig is None:
            return None
        attrs = dict(orig.attributes or {})
        events = orig.events
        if e.data is not None and e._span is not None and len(e.span.attributes) != len(attrs):
            # a privacy rule rewrote the span: take attributes and events from the rewritten message
            attrs = {kv.key: _plain(kv.value) for kv in e.span.attributes}
            kept = {ev.name for ev in e.span.events}
            events = tuple(ev for ev in orig.events if ev.name in kept)
        for k, v in e.added.items():
            attrs[k] = list(v) if isinstance(v, tuple) else v
        return ReadableSpan(name=orig.name, context=orig.context, parent=orig.parent, resource=orig.resource,
                            attributes=attrs, events=[Event(ev.name, ev.attributes, ev.timestamp) for ev in events],
                            links=orig.links, kind=orig.kind, status=orig.status, start_time=orig.start_time,
                            end_time=orig.end_time, instrumentation_scope=orig.instrumentation_scope)


def _plain(v: Any) -> Any:
    x = any_value_to_python(v)
    return x if not isinstance(x, dict) else str(x)
