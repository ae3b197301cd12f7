"""Taking outcome reports: apply to a released tree, or hold until the tree arrives.

Used by both transports (gRPC OutcomeService and HTTP POST /v1/outcomes).
Applying a late outcome moves the tree between outcomes in the metrics
(up-down counters, so spend per success stays right) and emits one
``tokenwatch.outcome`` span into the trace, child of the root.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any, cast

from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otel_tokenwatch import __version__, semconv
from otel_tokenwatch.otlp.wire import encode_attributes
from otel_tokenwatch.outcome.book import OutcomeBook, TreeSummary
from otel_tokenwatch.outcome.model import Outcome

log = logging.getLogger("otel_tokenwatch.outcome")

SCOPE = InstrumentationScope(name="otel_tokenwatch", version=__version__).SerializeToString()


class OutcomeIntake:
    def __init__(self, book: OutcomeBook, telemetry: Any,
                 emit: Callable[[TreeSummary, bytes, bytes], None] | None = None,
                 team_label: Callable[[str], str] = lambda t: t) -> None:
        self.book = book
        self.telemetry = telemetry
        #: sends one encoded span into the trace (set by the service; None in tokenwatch score)
        self.emit = emit
        self.team_label = team_label

    def _count(self, result: str, n: int = 1) -> None:
        if self.telemetry is not None:
            self.telemetry.add(semconv.M_OUTCOME_REPORTS, n, {"result": result})

    def tick(self, now: float | None = None) -> None:
        """Count held outcomes whose tree never came (called by the service's ticker)."""
        n = self.book.expired(time.time() if now is None else now)
        if n:
            self._count("expired", n)
            log.info("outcomes expired without their trace", extra={"count": n})

    def report(self, outcomes: list[Outcome]) -> dict[str, int]:
        res = {"applied": 0, "held": 0, "duplicates": 0}
        for o in outcomes:
            if not self.book.first_time(o):
                res["duplicates"] += 1
                self._count("duplicate")
                continue
            targets: list[TreeSummary] = []
            if o.trace_id:
                s = self.book.released(o.trace_id)
                if s is not None:
                    targets.append(s)
            else:
                targets = self.book.released_in_conversation(o.conversation_id)
            for s in targets:
                self.apply(s, o)
            if targets:
                res["applied"] += 1
                self._count("applied")
            if o.conversation_id or not targets:
                # a conversation may have more trees to come; a trace not yet seen waits
                self.book.hold(o)
                if not targets:
                    res["held"] += 1
                    self._count("held")
        return res

    def apply(self, s: TreeSummary, o: Outcome) -> None:
        tel = self.telemetry
        if tel is not None and o.outcome != s.outcome:
            team = self.team_label(s.team)
            old = {"workflow": s.workflow, "team": team, "outcome": s.outcome}
            new = {**old, "outcome": o.outcome}
            tel.add(semconv.M_OUTCOME_TREES, -1, old)
            tel.add(semconv.M_OUTCOME_TREES, 1, new)
            if s.cost_usd:
                tel.add(semconv.M_OUTCOME_SPEND, -s.cost_usd, old)
                tel.add(semconv.M_OUTCOME_SPEND, s.cost_usd, new)
            tel.add(semconv.M_OUTCOMES, 1, new)
        if tel is not None:
            for kpi, value in o.kpis.items():
                tel.record(semconv.M_OUTCOME_KPI, value, {"workflow": s.workflow, "kpi": kpi[:64],
                                                          "outcome": o.outcome})
        s.outcome, s.outcome_source = o.outcome, "reported"
        self.book.update(s)
        if self.emit is not None:
            self.emit(s, self.outcome_span(s, o), self.book.resource(s.resource))

    @staticmethod
    def outcome_span(s: TreeSummary, o: Outcome) -> bytes:
        when = o.time_unix_nano or time.time_ns()
        span = Span(trace_id=bytes.fromhex(s.trace_id), span_id=os.urandom(8),
                    parent_span_id=bytes.fromhex(s.root_span_id), name="tokenwatch.outcome",
                    kind=Span.SPAN_KIND_INTERNAL, start_time_unix_nano=when, end_time_unix_nano=when)
        attrs: list[tuple[str, Any]] = [(semconv.OUTCOME, o.outcome), (semconv.OUTCOME_SOURCE, "reported"),
                                        (semconv.WORKFLOW, s.workflow)]
        attrs += [(semconv.OUTCOME_KPI_PREFIX + k, v) for k, v in sorted(o.kpis.items())]
        return cast(bytes, span.SerializeToString()) + encode_attributes(attrs)
