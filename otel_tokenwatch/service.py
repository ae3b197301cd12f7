"""``tokenwatch serve``: builds receivers, pipelines and exporters from a Config and runs them.

Everything hangs off the Service object (no module globals), so a test can
run two services in one process, the SDK exporter can reuse the pipeline
builder, and shutdown is one ordered walk: receivers stop taking data, open
trees are flushed through the stages, exporters drain, state is persisted.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from otel_tokenwatch import __version__, semconv
from otel_tokenwatch.components import known_factory
from otel_tokenwatch.config import Config
from otel_tokenwatch.errors import Unavailable
from otel_tokenwatch.exporters.contract import Exporter, ExporterContext
from otel_tokenwatch.journal import Journal
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext, TreeProcessor
from otel_tokenwatch.pipelines import Consumers, Fanout, PassthroughPipeline, TracesPipeline, releases
from otel_tokenwatch.state import MemoryStore, StateStore
from otel_tokenwatch.state.trip import awaitable
from otel_tokenwatch.telemetry.selfmetrics import SelfTelemetry

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricReader

log = logging.getLogger("otel_tokenwatch.service")

#: the ticker lets receivers run after emitting trees for this long
YIELD_SECONDS = 0.001
TICK_SECONDS = 0.005  # assembly release precision: trees leave within 5 ms of being due


class RecentErrors(logging.Handler):
    """Keeps the last warnings and errors for the status page (messages only, never payloads)."""

    def __init__(self, size: int = 20) -> None:
        super().__init__(logging.WARNING)
        self.items: deque[dict[str, Any]] = deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        extra = {k: v for k, v in record.__dict__.items()
                 if k in ("exporter", "receiver", "processor", "error", "pipeline")}
        self.items.append({"time": record.created, "level": record.levelname.lower(),
                           "logger": record.name, "msg": record.getMessage(), **extra})


#: cyclic-collector thresholds (CPython's default is 700, 10, 10): measured with bench/, see tune_gc
GC_THRESHOLDS = (5_000, 20, 100)


def tune_gc() -> None:
    """Collect cycles less often, and never scan what start-up built.

    Spans wait in open trees for the assembly idle time, so with CPython's
    default thresholds the collector walked the same buffered objects again
    and again (assemble-only relay 95k -> 173k spans/s with tuning). Too
    rare is as bad: one young collection over 50,000 objects paused the
    loop ~30 ms and put the p99 of added latency at 37-50 ms. 5,000 keeps
    pauses near 2 ms (p99 11-16 ms at half load) for nearly the same
    throughput (bench/relay.py, bench/latency_scaling.py). Modules, config
    and price tables are frozen out of collection first.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def build_state(config: Config) -> StateStore:
    """The state backend: Redis when configured, else memory snapshotted to the data dir."""
    url = config.service.state.redis_url
    if url:
        from otel_tokenwatch.state.redis_store import RedisStore  # optional dependency

        return RedisStore(url, prefix=config.service.state.key_prefix)
    return MemoryStore(snapshot_path=os.path.join(config.service.data_dir, "state", "state.json"))


def build_processors(config: Config, pipeline_id: str, ctx: ProcessorContext) -> tuple[AssembleConfig | None,
                                                                                       list[TreeProcessor]]:
    """The assembler settings and the stage chain of one traces pipeline, in listed order."""
    pipe = config.service.pipelines[pipeline_id]
    assemble: AssembleConfig | None = None
    stages: list[TreeProcessor] = []
    for cid in pipe.processors:
        comp = config.processors[cid]
        fac = known_factory("processors", comp.type)
        if comp.type == "assemble":
            assemble = comp.config
        stage = fac.create(comp.config, ctx)
        stage.name = cid
        stages.append(stage)
    return assemble, stages


class Service:
    def __init__(self, config: Config, telemetry: SelfTelemetry | None = None) -> None:
        self.config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        mt = config.service.telemetry.metrics
        readers: list[MetricReader] = []
        if telemetry is None and mt.export_interval > 0:
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

            from otel_tokenwatch.telemetry.selfmetrics import PipelineMetricExporter

            readers.append(PeriodicExportingMetricReader(PipelineMetricExporter(self._offer_own_metrics),
                                                         export_interval_millis=mt.export_interval * 1000))
        self.telemetry = telemetry or SelfTelemetry(readers=readers, buffer_counters=True)
        self.started_at = time.time()
        self.recent_errors = RecentErrors()
        logging.getLogger("otel_tokenwatch").addHandler(self.recent_errors)
        os.makedirs(config.service.data_dir, exist_ok=True)
        self.state = build_state(config)
        self.journal: Journal | None = None
        if config.service.durability.mode == "journal":
            self.journal = Journal(os.path.join(config.service.data_dir, "journal"), config.service.durability)
        self.ctx = ProcessorContext(data_dir=config.service.data_dir, state=self.state,
                                    meter=self.telemetry.meter, telemetry=self.telemetry)
        self.exporters: dict[tuple[str, str], Exporter] = {}
        self.traces: dict[str, TracesPipeline] = {}
        self.passthrough: dict[str, PassthroughPipeline] = {}
        self.receivers: dict[str, Any] = {}
        self.tree_observers: list[Any] = []
        self.admin: Any = None
        self._tick_task: asyncio.Task[None] | None = None
        self._ready = False
        self._build()

    # --- construction -------------------------------------------------------------
    def _exporter(self, cid: str, signal_name: str) -> Exporter:
        key = (cid, signal_name)
        if key not in self.exporters:
            comp = self.config.exporters[cid]
            fac = known_factory("exporters", comp.type)
            self.exporters[key] = fac.create(comp.config, ExporterContext(
                id=cid, signal=signal_name, telemetry=self.telemetry,  # type: ignore[arg-type]
                data_dir=self.config.service.data_dir,
                extras={"durable": self.config.service.durability.mode == "journal"}))
        return self.exporters[key]

    def _build(self) -> None:
        from otel_tokenwatch.telemetry.genai_metrics import GenAIMetrics

        mt = self.config.service.telemetry.metrics
        self.genai_metrics = GenAIMetrics(self.telemetry, max_workflows=mt.max_workflows, max_models=mt.max_models,
                                          max_teams=mt.max_teams)
        self.ctx.extras["genai_metrics"] = self.genai_metrics
        self.ctx.extras["emit_span"] = self.emit_outcome_span
        consumers: dict[str, Consumers] = {rid: Consumers() for rid in self.config.receivers}
        self._sides: dict[str, Any] = {}
        for pid, pipe in self.config.service.pipelines.items():
            signal_name = pid.split("/", 1)[0]
            fanout = Fanout([self._exporter(e, signal_name) for e in pipe.exporters])
            if signal_name == "traces":
                assemble, stages = build_processors(self.config, pid, self.ctx)
                chain = ProcessorChain(stages, on_failure=lambda name: self.telemetry.add(
                    semconv.M_STAGE_FAILED, 1, {"processor": name}))
                tp = TracesPipeline(pid, assemble, chain, fanout, self.telemetry)
                tp.awaitable = awaitable(self.state)
                tp.observers.append(self.genai_metrics.record_tree)
                tp.journal = self.journal
                self.traces[pid] = tp
                for rid in pipe.receivers:
                    consumers[rid].traces_pipelines.append(tp)
            else:
                pp = PassthroughPipeline(pid, signal_name, fanout)
                for cid in pipe.processors:
                    # one instance per component, shared by the logs and metrics pipelines that list it
                    # (the agents stage counts a session's metrics only when its events never came)
                    side = self._sides.get(cid)
                    if side is None:
                        comp = self.config.processors[cid]
                        fac = known_factory("processors", comp.type)
                        side = fac.create(comp.config, self.ctx)
                        side.emit = lambda tree, cfg=comp.config: self._emit_session(tree, cfg)
                        side.privacy = lambda: self.ctx.extras.get("record_privacy")
                        self._sides[cid] = side
                    pp.side.append(side)
                self.passthrough[pid] = pp
                for rid in pipe.receivers:
                    getattr(consumers[rid], f"{signal_name}_pipelines").append(pp)
        self.genai_metrics.team_label = self.ctx.extras.get("team_label", self.genai_metrics.team_label)
        for ext in self.ctx.extras.get("http_routes", []):
            for c in consumers.values():
                c.http_routes.append(ext)
        for h in self.ctx.extras.get("grpc_handlers", []):
            for c in consumers.values():
                c.grpc_handlers.append(h)
        from otel_tokenwatch.pipelines import Limits

        sv = self.config.service
        self.limits = Limits(sv.memory_limit, sv.max_items_per_request, sv.max_attributes_per_span, sv.max_span_size)
        for rid, c in consumers.items():
            c.journal, c.origin, c.limits = self.journal, rid, self.limits
        self.consumers = consumers
        from otel_tokenwatch.receivers.contract import ReceiverContext

        for rid, comp in self.config.receivers.items():
            if not any(consumers[rid].accepts(s) for s in ("traces", "metrics", "logs")):
                continue
            fac = known_factory("receivers", comp.type)
            self.receivers[rid] = fac.create(comp.config, ReceiverContext(
                id=rid, consumers=consumers[rid], telemetry=self.telemetry, extras=self.ctx.extras))
        self.telemetry.observe(semconv.M_MEMORY, lambda: [(float(self.limits.rss), {})])
        self.telemetry.observe(semconv.M_OPEN_TREES, lambda: [
            (float(p.assembler.open_trees), {}) for p in self.traces.values() if p.assembler is not None])
        self.telemetry.observe(semconv.M_OPEN_BYTES, lambda: [
            (float(p.assembler.open_bytes), {}) for p in self.traces.values() if p.assembler is not None])

    def _emit_session(self, tree: Any, cfg: Any) -> None:
        """A coding-agent session: the first traces pipeline's stages, metrics, and optionally its exporters."""
        tp = next(iter(self.traces.values()), None)
        if tp is None:
            return
        tp.chain.process(tree)
        self.genai_metrics.record_tree(tree)
        if getattr(cfg, "export_traces", False):
            from otel_tokenwatch.agents.factory import strip_content

            tp.spans_out += len(tree.spans)
            tp.fanout.offer(strip_content(tree), len(tree.spans))

    def _offer_own_metrics(self, data: bytes, count: int) -> None:
        """Called from the metric reader's thread: hand over to the event loop."""
        loop = self._loop
        mt = self.config.service.telemetry.metrics
        pid = mt.pipeline or next((p for p in self.passthrough if p.split("/", 1)[0] == "metrics"), "")
        pipe = self.passthrough.get(pid)
        if loop is None or pipe is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(pipe.consume_raw, data, count)

    # --- lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for p in self.traces.values():
            p.chain.start()
        for e in self.exporters.values():
            await e.start()
        self.replay()
        for r in self.receivers.values():
            await r.start()
        from otel_tokenwatch.admin.server import AdminServer

        self.admin = AdminServer(self.config.service.telemetry.admin.endpoint, self.telemetry,
                                 status=self.status, ready=lambda: self._ready)
        await self.admin.start()
        self._tick_task = asyncio.create_task(self._ticker(), name="tokenwatch-assembly-tick")
        self._ready = True
        log.info("tokenwatch started", extra={"config": self.config.source, "version": __version__})

    def replay(self) -> int:
        """Feed what the journal held from the last run back through the pipelines (at-least-once)."""
        if self.journal is None:
            return 0
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        n = 0
        for seq, signal_name, origin, body in self.journal.replay():
            targets = [self.consumers[origin]] if origin in self.consumers else list(self.consumers.values())
            items = 0
            try:
                if signal_name == "traces":
                    req = ExportTraceServiceRequest.FromString(body)
                    for c in targets:
                        for p in c.traces_pipelines:
                            items += p.consume(req, body, seq)
                else:
                    for c in targets:
                        for p in getattr(c, f"{signal_name}_pipelines"):
                            items += 1
                            p.consume_raw(body, 0, lambda ok, s=seq: self.journal.release(s))
            except Exception:
                log.exception("journal record could not be replayed", extra={"seq": seq})
            self.journal.hold(seq, items)
            n += 1
        if n:
            log.warning("replayed journal records from the previous run", extra={"records": n})
        return n

    async def _ticker(self) -> None:
        n = 0
        loop = asyncio.get_running_loop()
        next_at = loop.time() + TICK_SECONDS
        while True:
            # housekeeping ticks on a fixed grid (time spent emitting trees is not added to the wait for
            # the next one); a tree due before the next tick is woken for, so its latency is the
            # assembly wait and not the grid
            delay = min(next_at, self._next_due(loop.time())) - loop.time()
            await asyncio.sleep(max(0.0, delay))
            now = loop.time()
            if now < next_at:  # woken for a due tree
                await self._emit_due(loop)
                continue
            next_at = next_at + TICK_SECONDS if next_at + TICK_SECONDS > now else now + TICK_SECONDS  # no catch-up
            n += 1
            if n % 20 == 0:  # every 100 ms: memory budget, expired outcomes
                self.limits.update()
                if n % 200 == 0:  # readers flush buffered counters when they collect; this bounds the buffer
                    self.telemetry.flush_pending()
                intake = self.ctx.extras.get("outcome_intake")
                if intake is not None:
                    try:
                        intake.tick()
                    except Unavailable:
                        pass  # the shared state is out: the store's breaker has said so once
                    except Exception:
                        log.exception("outcome expiry check failed")
            await self._emit_due(loop)
            for pp in self.passthrough.values():
                try:
                    pp.tick()
                except Exception:
                    log.exception("session tick failed", extra={"pipeline": pp.id})

    async def _emit_due(self, loop: asyncio.AbstractEventLoop) -> None:
        for tp in self.traces.values():
            try:
                due = tp.assembler.expire(tp.clock()) if tp.assembler is not None else []
            except Exception:
                log.exception("assembly tick failed", extra={"pipeline": tp.id})
                continue
            # a few due trees go one at a time: each is exported as soon as it is done. A backlog (at
            # least BACKLOG due at once: the load outruns the stages) goes through the stages
            # DUE_TOGETHER at a time: one round trip to the shared state for all of them and less
            # per-tree work, so it drains faster; a few trees batched would only wait for each other
            # (p99 at half load 25-40 -> 35-75 ms when 8 went together whenever one was 5 ms late).
            # Receivers run in between once a millisecond has passed (a yield per tree cost an
            # event-loop round per tree), and over Redis while each release awaits its round trip
            parts = releases(due)
            if tp.awaitable and parts:  # the loop receives while the shared state answers
                try:
                    await tp.emit_async(parts)
                except Exception:
                    log.exception("tree emit failed", extra={"pipeline": tp.id})
                continue
            turn_ends = loop.time() + YIELD_SECONDS
            for part in parts:
                try:
                    tp.emit(part)
                except Exception:
                    log.exception("tree emit failed", extra={"pipeline": tp.id})
                if loop.time() >= turn_ends:
                    await asyncio.sleep(0)
                    turn_ends = loop.time() + YIELD_SECONDS

    def _next_due(self, now: float) -> float:
        """The loop time at which the earliest open tree of any pipeline is due (``now`` + a tick if none)."""
        due = now + TICK_SECONDS
        for tp in self.traces.values():
            at = tp.assembler.next_due() if tp.assembler is not None else None
            if at is not None:
                due = min(due, now + max(0.0, at - tp.clock()))
        return due

    async def shutdown(self, timeout: float = 10.0) -> None:
        self._ready = False
        for r in self.receivers.values():
            await r.shutdown()
        if self._tick_task is not None:
            self._tick_task.cancel()
        for p in self.traces.values():
            await p.settle()  # a release awaiting its round trip: through the stages before the flush
        for pp in self.passthrough.values():
            pp.flush()
        for p in self.traces.values():
            p.flush("shutdown")
            p.chain.shutdown()
        await asyncio.gather(*(e.shutdown(timeout) for e in self.exporters.values()))
        if self.admin is not None:
            await self.admin.shutdown()
        self.state.close()
        if self.journal is not None:
            self.journal.close()
        self.telemetry.shutdown()
        logging.getLogger("otel_tokenwatch").removeHandler(self.recent_errors)

    async def run(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Start, serve until SIGINT/SIGTERM, then shut down in order. ``on_ready`` gets ``ready_line()``
        once every socket is bound (the CLI prints it: logs are quiet by default, and someone who just ran
        ``make serve`` should see where to point an exporter, not an empty terminal)."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        if on_ready is not None:
            on_ready(self.ready_line())
        await stop.wait()
        await self.shutdown()

    # --- views ------------------------------------------------------------------------
    def endpoints(self) -> dict[str, Any]:
        return {rid: getattr(r, "endpoints", {}) for rid, r in self.receivers.items()}

    def ready_line(self) -> str:
        """One line saying what listens where, with the ports as bound (a config may ask for port 0)."""
        listening = [f"{rid} {proto} {ep}" for rid, eps in self.endpoints().items() for proto, ep in eps.items()]
        admin = self.admin.endpoint if self.admin is not None else None
        parts = ["tokenwatch ready: " + (", ".join(listening) or "no receivers")]
        used = {e for pipe in self.config.service.pipelines.values() for e in pipe.exporters}
        out = [f"{eid} {where}" if (where := getattr(c.config, "endpoint", None) or getattr(c.config, "path", None))
               else eid for eid, c in self.config.exporters.items() if eid in used]
        if out:
            parts.append("exporting to " + ", ".join(out))
        if admin:
            parts.append(f"status http://{admin}/, metrics http://{admin}/metrics")
        parts.append(f"config {self.config.source}")
        return "; ".join(parts)

    def status(self) -> dict[str, Any]:
        pipelines = []
        for pid, pipe in self.config.service.pipelines.items():
            row: dict[str, Any] = {"id": pid, "receivers": pipe.receivers, "processors": pipe.processors,
                                   "exporters": pipe.exporters}
            tp = self.traces.get(pid)
            if tp is not None:
                row.update(items_in=tp.spans_in, items_out=tp.spans_out, trees_out=tp.trees_out)
                if tp.assembler is not None:
                    row.update(open_trees=tp.assembler.open_trees, open_bytes=tp.assembler.open_bytes,
                               late_spans=tp.assembler.late_spans,
                               released=dict(tp.assembler.released_by_reason))
            pp = self.passthrough.get(pid)
            if pp is not None:
                row.update(items_in=pp.items_in)
            pipelines.append(row)
        return {
            "version": __version__,
            "config_source": self.config.source,
            "uptime_s": round(time.time() - self.started_at, 1),
            "ready": self._ready,
            "pipelines": pipelines,
            "receivers": {rid: r.status() for rid, r in self.receivers.items()},
            "exporters": {f"{cid} ({sig})": e.status() for (cid, sig), e in self.exporters.items()},
            "recent_errors": list(self.recent_errors.items),
            "rss_bytes": self.limits.rss, "memory_limit": self.limits.memory_limit,
            "genai": {**self.genai_metrics.totals, "wasted_usd_by_reason": dict(self.genai_metrics.wasted_by_reason)},
            "journal": ({"bytes": self.journal.bytes_on_disk, "max_bytes": self.config.service.durability.max_bytes}
                        if self.journal is not None and hasattr(self.journal, "bytes_on_disk") else None),
            "state": (self.state.health() if hasattr(self.state, "health")
                      else {"backend": type(self.state).__name__}),
        }

    def emit_outcome_span(self, summary: Any, span: bytes, resource: bytes = b"") -> None:
        """Send one span made by tokenwatch (a late outcome) straight to the traces exporters."""
        from otel_tokenwatch.outcome.intake import SCOPE
        from otel_tokenwatch.pipeline.tree import ResourceInfo, ScopeInfo, SpanEntry, encode_spans

        entry = SpanEntry(ResourceInfo(resource, ""), ScopeInfo(SCOPE, ""), span,
                          span[:0], span[:0])
        data = encode_spans([entry])
        for p in self.traces.values():
            p.spans_out += 1
            p.fanout.offer(data, 1)
