"""The per-signal pipelines that receivers feed: traces (assembled, staged) and pass-through.

A receiver calls ``consume_*`` synchronously on the event loop; the call
never waits on a backend. Traces go to the assembler; released trees run
through the processor chain and are offered, encoded, to every exporter of
the pipeline. Metrics and logs are handed to their exporters as received
(the logs pipeline may grow stages for coding-agent sessions).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_tokenwatch import semconv
from otel_tokenwatch.errors import Refused, TooLarge
from otel_tokenwatch.exporters.contract import Exporter, ExportItem
from otel_tokenwatch.otlp.wire import TraceCheck, split_traces
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.processor import ProcessorChain, slices
from otel_tokenwatch.pipeline.tree import Tree, encode_spans
from otel_tokenwatch.state.trip import Steps, run, run_async

log = logging.getLogger("otel_tokenwatch.pipeline")


#: due trees emitted together (~1 ms a tree) when at least BACKLOG are due at once
DUE_TOGETHER = 8
BACKLOG = 16
#: how long a run of awaited releases goes on taking trees that came due meanwhile before it hands the
#: loop back to the ticker's housekeeping
PULL_SECONDS = 0.02


def releases(due: list[Tree]) -> list[list[Tree]]:
    """Due trees as the releases they go through the stages in: one at a time, each exported as soon as
    it is done, and DUE_TOGETHER at a time from a backlog (see Service._emit_due)."""
    parts = []
    at = 0
    while at < len(due):
        n = DUE_TOGETHER if len(due) - at >= BACKLOG else 1
        parts.append(due[at:at + n])
        at += n
    return parts


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
        #: whether the stages' round trips can be awaited (the shared state in Redis): the service then
        #: releases due trees with ``emit_async``
        self.awaitable = False
        #: the release awaiting its round trip (``emit_async``), and the trees released meanwhile
        self._inflight: asyncio.Future[None] | None = None
        self._waiting: list[Tree] = []
        #: called with each processed tree before it is encoded (metrics recording)
        self.observers: list[Callable[[Tree], None]] = []
        #: the durable journal (None when durability is off): delivery releases a tree's sources
        self.journal: Any = None

    def check_capacity(self) -> None:
        """Refuse new data while a downstream queue is full (never drop what was accepted)."""
        if self.fanout.saturated:
            raise Refused("an exporter queue is full; retry later", retry_after=1.0)

    def consume(self, request: ExportTraceServiceRequest | None, raw: bytes | None = None,
                source: int | None = None, n: int | None = None) -> int:
        """Take one export request (decoded, or only its bytes); returns how many items (trees) now
        hold ``source``."""
        if n is None:
            n = count_spans(request) if request is not None else sum(
                len(spans) for _, _, scopes in split_traces(raw or b"") for _, _, spans in scopes)
        self.spans_in += n
        if self.assembler is None:
            data = raw if raw is not None else request.SerializeToString()  # type: ignore[union-attr]  # one is given
            self.spans_out += n
            self.fanout.offer(data, n, self._releaser({source} if source is not None else set()))
            return 1
        released = self.assembler.add(request, self.clock(), source, raw)
        touched = self.assembler.last_touched
        if self.awaitable and released:
            self._emit_soon(released)  # late trees, trees at their span bound: not on the receive path
        else:
            self.emit(released)
        return touched

    def _releaser(self, sources: set[int]) -> Callable[[bool], None] | None:
        journal = self.journal
        if journal is None or not sources:
            return None

        def done(ok: bool) -> None:
            for s in sources:
                journal.release(s)
        return done

    def tick(self) -> None:
        if self.assembler is not None:
            self.emit(self.assembler.expire(self.clock()))

    def flush(self, reason: str = "shutdown") -> None:
        if self.assembler is not None:
            self.emit(self.assembler.flush(self.clock(), reason))

    def emit(self, trees: list[Tree]) -> None:
        # the trees released together go through the stages together: a stage on shared state (Redis)
        # reads and writes for all of them in one round trip; in slices, so that one release after a
        # stall does not become one script of thousands of calls
        if self._inflight is not None:  # a release awaits its round trip: these go after it, in order
            self._waiting += trees
            return
        for part in slices(trees):
            run(self._emit_steps(part))

    async def emit_async(self, parts: list[list[Tree]]) -> None:
        """``emit`` with the stages' round trips awaited (state/trip.py): receivers run while the shared
        state answers, and so does the next release's stage work that needs no shared state
        (``ProcessorChain.prepare``: normalize). ``parts``: the releases, in order, each the trees that
        go through the stages together. One release at a time goes through the stages (they judge each
        tree on what the trees before it left in the shared state); trees released meanwhile (``emit``)
        wait their turn. The releases run as a task of their own, so that cancelling the caller (the
        ticker, at shutdown) does not drop trees halfway: ``settle`` awaits it."""
        started = self._start(parts)
        if started is not None:
            await asyncio.shield(started)

    def _emit_soon(self, trees: list[Tree]) -> None:
        """``emit_async`` without waiting for it: after the release in flight, or in a task of its own."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop (a caller of its own): as ``emit``
            self.emit(trees)
            return
        self._start(releases(trees))

    def _start(self, parts: list[list[Tree]]) -> asyncio.Future[None] | None:
        """The task that takes ``parts`` through the stages, or None when one is in flight: the trees
        then wait for it, which takes them after its own."""
        if self._inflight is not None:
            self._waiting += [t for part in parts for t in part]
            return None
        self._inflight = asyncio.ensure_future(self._emit_all(parts))
        return self._inflight

    async def _emit_all(self, parts: list[list[Tree]]) -> None:
        """The releases in order; while each awaits its round trip, the next is prepared. When the last
        is out, trees that came due since join as further releases (for PULL_SECONDS: then the ticker's
        housekeeping runs), so that a burst's trees are prepared in their predecessors' waits too."""
        try:
            pull_until = time.monotonic() + PULL_SECONDS
            i = 0
            while i < len(parts):
                def ahead(i: int = i) -> None:
                    if i + 1 == len(parts) and self.assembler is not None and time.monotonic() < pull_until:
                        parts.extend(releases(self.assembler.expire(self.clock())))
                    if i + 1 < len(parts):
                        self.chain.prepare(parts[i + 1])
                try:
                    await run_async(self._emit_steps(parts[i]), ahead)
                except Exception:
                    log.exception("tree emit failed", extra={"pipeline": self.id})
                i += 1
                if i == len(parts) and self._waiting:
                    # as the ticker releases due trees: one at a time, each exported when it is done, unless
                    # a backlog waited (then DUE_TOGETHER at a time); a slice of 32 held its first tree's export
                    # until all 32 were through
                    parts.extend(releases(self._waiting))
                    self._waiting = []
        finally:
            self._inflight = None

    async def settle(self) -> None:
        """Wait for the release in flight (and the trees that waited for it) to be through the stages."""
        if self._inflight is not None:
            await asyncio.shield(self._inflight)

    def _emit_steps(self, trees: list[Tree]) -> Steps[None]:
        yield from self.chain.steps(trees)
        for tree in trees:
            for observe in self.observers:
                try:
                    observe(tree)
                except Exception:
                    log.exception("tree observer failed")
            entries = tree.outgoing()
            n = len(entries)
            self.spans_out += n
            self.trees_out += 1
            if self.telemetry is not None and not tree.late:
                self.telemetry.add(semconv.M_TREES_RELEASED, 1, {"reason": tree.release_reason})
            if self.telemetry is not None and tree.late:
                self.telemetry.add(semconv.M_SPANS_LATE, sum(1 for e in entries if e.late))  # copies arrived too
            self.fanout.offer(encode_spans(entries), n, self._releaser(tree.sources))


class PassthroughPipeline:
    """Metrics and logs: forwarded as received."""

    def __init__(self, pid: str, signal: str, fanout: Fanout) -> None:
        self.id = pid
        self.signal = signal
        self.fanout = fanout
        self.items_in = 0
        #: stages that read what passes without changing it (coding-agent sessions from logs)
        self.side: list[Any] = []

    def tick(self) -> None:
        for s in self.side:
            s.tick()

    def flush(self) -> None:
        for s in self.side:
            s.flush()

    def check_capacity(self) -> None:
        if self.fanout.saturated:
            raise Refused("an exporter queue is full; retry later", retry_after=1.0)

    def consume_raw(self, raw: bytes, count: int, done: Callable[[bool], None] | None = None) -> None:
        self.items_in += count
        out = raw
        for s in self.side:
            transform = getattr(s, "transform" if self.signal == "logs" else f"transform_{self.signal}", None)
            if transform is not None:
                try:
                    out = transform(out)
                except Exception:
                    log.exception("side stage could not enrich a request", extra={"pipeline": self.id})
        self.fanout.offer(out, count, done)  # every record forwarded, whatever the side does
        for s in self.side:
            try:
                if self.signal == "metrics":
                    s.consume_metrics(raw)
                else:
                    s.consume(raw)
            except Exception:
                log.exception("side stage failed on a request", extra={"pipeline": self.id})


class Limits:
    """Budgets shared by every receiver of a service; the service's ticker keeps them current."""

    def __init__(self, memory_limit: int = 0, max_items_per_request: int = 0, max_attributes_per_span: int = 0,
                 max_span_size: int = 0) -> None:
        self.memory_limit = memory_limit
        self.max_items_per_request = max_items_per_request
        self.max_attributes_per_span = max_attributes_per_span
        self.max_span_size = max_span_size
        self.over_memory = False
        self.rss = 0

    def check_items(self, n: int) -> None:
        if self.max_items_per_request and n > self.max_items_per_request:
            raise TooLarge(f"{n} items in one request; at most {self.max_items_per_request} "
                           "(service.max_items_per_request): send smaller batches")

    def check_spans(self, request: ExportTraceServiceRequest, size: int | None = None) -> None:
        """Per-span limits, checked before anything is journaled (a hostile span never gets in)."""
        a, b = self.max_attributes_per_span, self.max_span_size
        if size is not None:  # a request too small to break a limit needs no look at its spans
            a = a if size > 4 * a else 0  # an attribute takes at least 4 bytes on the wire
            b = b if size > b else 0
        if not a and not b:
            return
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for s in ss.spans:
                    if a and len(s.attributes) > a:
                        raise _too_many_attributes(s.span_id, len(s.attributes), a)
                    if b and s.ByteSize() > b:
                        raise _too_big(s.span_id, s.ByteSize(), b)

    def check_checked(self, checked: TraceCheck) -> None:
        """``check_spans`` from what the compiled check counted (names the worst span, not the first)."""
        a, b = self.max_attributes_per_span, self.max_span_size
        if a and checked.max_attributes > a:
            raise _too_many_attributes(checked.max_attributes_span_id, checked.max_attributes, a)
        if b and checked.max_span_size > b:
            raise _too_big(checked.max_span_size_span_id, checked.max_span_size, b)

    def update(self) -> None:
        if not self.memory_limit:
            return
        self.rss = rss_bytes()
        self.over_memory = self.rss > self.memory_limit


def _too_many_attributes(span_id: bytes, n: int, bound: int) -> TooLarge:
    return TooLarge(f"span {span_id.hex()} has {n} attributes; at most {bound} (service.max_attributes_per_span)")


def _too_big(span_id: bytes, size: int, bound: int) -> TooLarge:
    return TooLarge(f"span {span_id.hex()} is {size} bytes; at most {bound} (service.max_span_size)")


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            import os

            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


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
        #: the service's journal (None when durability is off) and this receiver's id
        self.journal: Any = None
        self.origin = ""
        self.limits = Limits()

    def accepts(self, signal: str) -> bool:
        return bool(getattr(self, f"{signal}_pipelines"))

    def _check(self, pipelines: list[Any]) -> None:
        if self.limits.over_memory:
            raise Refused("tokenwatch is over its memory_limit; retry later", retry_after=1.0)
        if self.journal is not None and self.journal.full:
            raise Refused("the journal's disk budget is full; retry later", retry_after=2.0)
        for p in pipelines:
            p.check_capacity()

    def traces(self, request: ExportTraceServiceRequest | TraceCheck, raw: bytes | None = None) -> int:
        """Hand a decoded (or checked: ``wire.check_traces``) trace request on; raises Refused when a
        budget is reached.

        With durability on, the request is journaled first; ``await commit()``
        before acknowledging makes it as durable as configured.
        """
        self._check(self.traces_pipelines)
        if isinstance(request, TraceCheck):
            if raw is None:
                raise ValueError("a checked request comes with its bytes")
            n = request.spans
            self.limits.check_items(n)
            self.limits.check_checked(request)
            message: ExportTraceServiceRequest | None = None
        else:
            message = request
            n = count_spans(request)
            self.limits.check_items(n)
            self.limits.check_spans(request, len(raw) if raw is not None else None)
        seq = None
        if self.journal is not None:
            data = raw if raw is not None else message.SerializeToString()  # type: ignore[union-attr]
            seq = self.journal.append("traces", data, self.origin)
        items = 0
        for p in self.traces_pipelines:
            items += p.consume(message, raw, seq, n)
        if seq is not None:
            self.journal.hold(seq, items)
        return n

    def metrics(self, raw: bytes, count: int) -> None:
        self._passthrough("metrics", self.metrics_pipelines, raw, count)

    def logs(self, raw: bytes, count: int) -> None:
        self._passthrough("logs", self.logs_pipelines, raw, count)

    def _passthrough(self, signal: str, pipelines: list[Any], raw: bytes, count: int) -> None:
        self._check(pipelines)
        self.limits.check_items(count)
        journal = self.journal
        if journal is None:
            for p in pipelines:
                p.consume_raw(raw, count)
            return
        seq = journal.append(signal, raw, self.origin)
        journal.hold(seq, len(pipelines))
        for p in pipelines:
            p.consume_raw(raw, count, lambda ok, s=seq: journal.release(s))

    async def commit(self) -> None:
        """Wait until what was consumed is durable (no-op without a journal or with sync: write)."""
        if self.journal is not None:
            await self.journal.commit()
