"""Groups spans by trace id and releases each tree when it is complete.

Complete means the root span (no parent) was seen and no span of the trace
arrived for ``tree_idle``. A tree without a root is released after
``tree_max_wait`` since its first span. Bounds on open trees, bytes and
spans per trace release the oldest trees early, marked incomplete: never
dropped. A span of an already released trace is handed straight back as a
"late" tree (marked ``tokenwatch.late``) for the stages to judge against what
they remember of the trace.

The assembler is synchronous and owns no thread or event loop: the service
drives it from asyncio, the SDK exporter from its worker thread, ``tokenwatch
score`` from a plain loop. Time is passed in, so tests need no sleeping.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_tokenwatch.config.build import ByteSize, Duration, require
from otel_tokenwatch.otlp.wire import COMPILED, split_request, split_traces
from otel_tokenwatch.pipeline.tree import ResourceInfo, ScopeInfo, SpanEntry, Tree


@dataclass(frozen=True)
class AssembleConfig:
    #: a tree whose root was seen is complete after this long without a new span
    tree_idle: Duration = Duration(2.0)
    #: a tree is released this long after its first span, complete or not
    tree_max_wait: Duration = Duration(60.0)
    #: open trees at most; past it the oldest is released early
    max_open_traces: int = 50_000
    #: encoded span bytes held at most; past it the oldest trees are released early
    max_bytes: ByteSize = ByteSize(256 * 2**20)
    #: spans in one tree at most; past it the tree is released and later spans pass as late
    max_spans_per_trace: int = 100_000
    #: released trace ids remembered to recognise late spans (count and time bound)
    late_cache_size: int = 200_000
    late_cache_ttl: Duration = Duration(3600.0)

    def validate(self, path: str) -> None:
        require(self.tree_idle > 0, f"{path}.tree_idle", "must be > 0")
        require(self.tree_max_wait >= self.tree_idle, f"{path}.tree_max_wait", "must be >= tree_idle")
        require(self.max_open_traces > 0, f"{path}.max_open_traces", "must be > 0")
        require(self.max_bytes > 0, f"{path}.max_bytes", "must be > 0")
        require(self.max_spans_per_trace > 0, f"{path}.max_spans_per_trace", "must be > 0")
        require(self.late_cache_size >= 0, f"{path}.late_cache_size", "must be >= 0")


_INTERN_LIMIT = 4096


class Assembler:
    """The trace buffer. Not thread-safe: one owner drives it."""

    def __init__(self, config: AssembleConfig) -> None:
        self.config = config
        self._trees: OrderedDict[bytes, Tree] = OrderedDict()  # by first arrival
        self._idle: OrderedDict[bytes, None] = OrderedDict()  # root seen, by last arrival
        self._released: OrderedDict[bytes, tuple[float, dict[str, object]]] = OrderedDict()
        self._resources: dict[tuple[bytes, str], ResourceInfo] = {}
        self._scopes: dict[tuple[bytes, str], ScopeInfo] = {}
        self.open_bytes = 0
        self.late_spans = 0
        self.released_by_reason: dict[str, int] = {}
        #: distinct trees the last ``add`` put spans into (the journal holds the request that long)
        self.last_touched = 0

    # --- intake ---------------------------------------------------------------
    @property
    def open_trees(self) -> int:
        return len(self._trees)

    def _resource(self, data: bytes, schema_url: str) -> ResourceInfo:
        key = (data, schema_url)
        info = self._resources.get(key)
        if info is None:
            if len(self._resources) >= _INTERN_LIMIT:
                self._resources.clear()
            info = self._resources[key] = ResourceInfo(data, schema_url)
        return info

    def _scope(self, data: bytes, schema_url: str) -> ScopeInfo:
        key = (data, schema_url)
        info = self._scopes.get(key)
        if info is None:
            if len(self._scopes) >= _INTERN_LIMIT:
                self._scopes.clear()
            info = self._scopes[key] = ScopeInfo(data, schema_url)
        return info

    def add(self, request: ExportTraceServiceRequest | None, now: float, source: int | None = None,
            raw: bytes | None = None) -> list[Tree]:
        """Take a request's spans; return trees that must leave now (late spans, bound releases).

        With ``raw`` (the request as received) spans are cut out of those
        bytes and kept as sent, without a decode and re-encode per span.
        """
        out: list[Tree] = []
        late: dict[bytes, Tree] = {}
        touched: set[int] = set()
        trees = self._trees
        released = self._released
        idle = self._idle
        max_spans = self.config.max_spans_per_trace
        last_tid: bytes | None = None  # the open tree the previous span joined (not a late one)
        last_tree: Tree | None = None
        if raw is not None and (COMPILED or request is None):
            groups = split_traces(raw)
        else:
            groups = split_request(request)
        for res_data, res_schema, scopes in groups:
            res = self._resource(res_data, res_schema)
            for scope_data, scope_schema, spans in scopes:
                scope = self._scope(scope_data, scope_schema)
                for data, tid, span_id, parent in spans:
                    entry = SpanEntry(res, scope, data, span_id, parent)
                    if tid == last_tid and last_tree is not None:  # a request holds a tree's spans together
                        run = last_tree
                        run.spans.append(entry)
                        run.byte_size += len(data)
                        self.open_bytes += len(data)
                        if not parent:
                            run.root_seen = True
                        if run.root_seen:
                            idle[tid] = None
                            idle.move_to_end(tid)
                        if len(run.spans) >= max_spans:
                            out.append(self._release(tid, "max_spans_per_trace", now))
                            last_tid = None
                        continue
                    tree = trees.get(tid)
                    if tree is None:
                        if tid in released or len(tid) != 16 or not any(tid):
                            lt = late.get(tid)
                            if lt is None:
                                lt = late[tid] = Tree(tid, first_seen=now, last_seen=now, late=True,
                                                      release_reason="late" if tid in released else "invalid_trace_id")
                                if tid in released:
                                    lt.facts["summary"] = released[tid][1]
                            entry.late = tid in released
                            lt.spans.append(entry)
                            lt.byte_size += len(data)
                            if source is not None:
                                lt.sources.add(source)
                            continue
                        tree = trees[tid] = Tree(tid, first_seen=now)
                    touched.add(id(tree))
                    tree.spans.append(entry)
                    tree.last_seen = now
                    tree.byte_size += len(data)
                    self.open_bytes += len(data)
                    if source is not None:
                        tree.sources.add(source)
                    if not parent:
                        tree.root_seen = True
                    if tree.root_seen:
                        idle[tid] = None
                        idle.move_to_end(tid)
                    last_tid, last_tree = tid, tree
                    if len(tree.spans) >= max_spans:
                        out.append(self._release(tid, "max_spans_per_trace", now))
                        last_tid = None
        self.last_touched = len(touched) + len(late)
        for lt in late.values():
            self.late_spans += sum(1 for e in lt.spans if e.late)
            lt.hold_copies()
            out.append(lt)
        out.extend(self._enforce_bounds(now))
        return out

    # --- release ----------------------------------------------------------------
    def _release(self, tid: bytes, reason: str, now: float) -> Tree:
        tree = self._trees.pop(tid)
        self._idle.pop(tid, None)
        self.open_bytes -= tree.byte_size
        tree.release_reason = reason
        tree.complete = reason == "complete"
        tree.hold_copies()
        self.released_by_reason[reason] = self.released_by_reason.get(reason, 0) + 1
        if self.config.late_cache_size:
            self._released[tid] = (now, tree.facts.setdefault("summary", {}))
            while len(self._released) > self.config.late_cache_size:
                self._released.popitem(last=False)
        return tree

    def _enforce_bounds(self, now: float) -> list[Tree]:
        out = []
        while len(self._trees) > self.config.max_open_traces:
            out.append(self._release(next(iter(self._trees)), "max_open_traces", now))
        while self.open_bytes > self.config.max_bytes and self._trees:
            out.append(self._release(next(iter(self._trees)), "max_bytes", now))
        return out

    def expire(self, now: float) -> list[Tree]:
        """Trees due now: complete (root seen, idle) first, then those past tree_max_wait."""
        out = []
        idle_cut = now - self.config.tree_idle
        while self._idle:
            tid = next(iter(self._idle))
            if self._trees[tid].last_seen > idle_cut:
                break
            out.append(self._release(tid, "complete", now))
        wait_cut = now - self.config.tree_max_wait
        while self._trees:
            tid, tree = next(iter(self._trees.items()))
            if tree.first_seen > wait_cut:
                break
            out.append(self._release(tid, "max_wait", now))
        ttl_cut = now - self.config.late_cache_ttl
        while self._released:
            tid, (t, _) = next(iter(self._released.items()))
            if t > ttl_cut:
                break
            self._released.popitem(last=False)
        return out

    def next_due(self) -> float | None:
        """When ``expire`` will next release a tree (on the clock ``add`` was given), or None when no
        tree is open: the service wakes for it rather than finding it on a later tick."""
        due = None
        if self._idle:
            due = self._trees[next(iter(self._idle))].last_seen + self.config.tree_idle
        if self._trees:
            first = next(iter(self._trees.values())).first_seen + self.config.tree_max_wait
            due = first if due is None or first < due else due
        return due

    def flush(self, now: float, reason: str = "shutdown") -> list[Tree]:
        """Release every open tree (shutdown, force_flush, end of a score run).

        A tree whose root was seen counts as complete on flush: nothing more
        is coming for it from this source.
        """
        out = []
        while self._trees:
            tid, tree = next(iter(self._trees.items()))
            out.append(self._release(tid, "complete" if tree.root_seen else reason, now))
        return out

    def remember(self, tid: bytes) -> dict[str, object] | None:
        """The summary stages stored for a released trace, if still cached."""
        got = self._released.get(tid)
        return got[1] if got else None
