"""Calls that arrive after their tree was released (a run longer than tree_max_wait, a slow child) are judged as
part of that tree: over its workflow's baseline by what they take its spend above the baseline the tree was
judged against, and under suspected inflation if the tree was. Real fixture spans (OpenInference's healthy
support-triage trace: three model calls under one workflow span) through the assembler, the default stages and
the metrics, as the service runs them."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_tokenwatch import semconv
from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.tree import Tree
from otel_tokenwatch.telemetry.genai_metrics import GenAIMetrics
from otel_tokenwatch.telemetry.selfmetrics import SelfTelemetry
from tests.conftest import FIXTURES
from tests.stages import default_stages

SOURCE = Path(FIXTURES) / "openinference-openai.jsonl"


def _trace(workflow: str) -> ExportTraceServiceRequest:
    """The healthy request's trace of ``workflow`` alone."""
    healthy = next(r.request for r in read(SOURCE) if r.signal == "traces" and r.meta.get("scenario") == "healthy")
    req = ExportTraceServiceRequest()
    req.CopyFrom(healthy)  # type: ignore[arg-type]
    tid = next(s.trace_id for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans
               if not s.parent_span_id and any(kv.value.string_value == workflow for kv in s.attributes))
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            keep = [s for s in ss.spans if s.trace_id == tid]
            del ss.spans[:]
            ss.spans.extend(keep)
    return req


def _copy(template: ExportTraceServiceRequest, tid: int, outcome: str | None = None,
          keep: object = lambda s: True, new_ids: int = 0) -> ExportTraceServiceRequest:
    """The template's spans that ``keep`` selects, as trace ``tid``; ``new_ids`` > 0 gives them span ids of
    their own (calls the run went on to make), the parents unchanged."""
    req = ExportTraceServiceRequest()
    req.CopyFrom(template)
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            spans = [s for s in ss.spans if keep(s)]  # type: ignore[operator]
            del ss.spans[:]
            ss.spans.extend(spans)
            for i, s in enumerate(ss.spans):
                s.trace_id = tid.to_bytes(16, "big")
                if new_ids:
                    s.span_id = (new_ids * 100 + i).to_bytes(8, "big")
                if not s.parent_span_id and outcome is not None:
                    s.attributes.add(key="app.outcome").value.string_value = outcome
    return req


class Run:
    """One replica's path for released trees: assembler, stages, metrics."""

    def __init__(self) -> None:
        self.asm = Assembler(AssembleConfig())
        self.stages = default_stages()
        self.metrics = GenAIMetrics(SelfTelemetry(readers=[InMemoryMetricReader()], prometheus=False))

    def send(self, req: ExportTraceServiceRequest, now: float) -> list[Tree]:
        trees = self.asm.add(req, now, None) + self.asm.flush(now)
        for t in trees:
            for s in self.stages:
                s.process(t)
            self.metrics.record_tree(t)
        return trees


def _is_call(s: object) -> bool:
    return bool(s.parent_span_id)  # type: ignore[attr-defined]


def _with_baseline(run: Run, template: ExportTraceServiceRequest) -> None:
    for i in range(30):  # ordinary successful runs of the workflow: its baseline
        run.send(_copy(template, 1000 + i, "success"), float(i))


def _waste(trees: list[Tree], reason: str) -> list[tuple[float, float]]:
    return [(float(e.get(semconv.WASTE_UNITS)), float(e.get(semconv.WASTE_BASELINE)))  # type: ignore[arg-type]
            for t in trees for e in t.spans if e.get(semconv.WASTE_REASON) == reason]


def test_late_calls_that_take_a_run_above_its_baseline_carry_the_excess() -> None:
    run = Run()
    template = _trace("support-triage")
    _with_baseline(run, template)
    released = run.send(_copy(template, 7, "success"), 100.0)
    root = released[0].root()
    assert root is not None and root.get(semconv.TRACE_WASTE_SCORE) == 0.0  # an ordinary run, as released
    total = float(root.get(semconv.TRACE_TOTAL))  # type: ignore[arg-type]
    assert root.get(semconv.TRACE_UNITS) == "usd"

    # the run went on after its tree left: three more calls, as its first three
    late = run.send(_copy(template, 7, keep=_is_call, new_ids=1), 200.0)
    assert late and all(t.late for t in late)
    calls = [e for t in late for e in t.spans if e.call is not None and e.call.counted]
    assert len(calls) == 3
    added = sum(float(e.call.cost_usd) for e in calls)  # type: ignore[union-attr, arg-type]
    got = _waste(late, "over_baseline")
    assert len(got) == 3
    baseline = got[0][1]
    assert {b for _, b in got} == {baseline} and total * 0.98 <= baseline <= total * 1.02
    # the excess over the baseline, and only that, is on the late calls (the released ones kept theirs)
    assert abs(sum(u for u, _ in got) - (total + added - max(baseline, total))) < 1e-12
    assert 0.6 * added < sum(u for u, _ in got) <= added
    assert abs(run.metrics.wasted_by_reason["over_baseline"] - sum(u for u, _ in got)) < 1e-12

    # the same late spans received again (a retried export): judged with their first copy, nothing moves
    before = dict(run.metrics.totals), dict(run.metrics.wasted_by_reason)
    again = run.send(_copy(template, 7, keep=_is_call, new_ids=1), 300.0)
    assert again and not _waste(again, "over_baseline")
    assert (dict(run.metrics.totals), dict(run.metrics.wasted_by_reason)) == before

    # a fourth late call: all of it is above the baseline now
    first = _first_call(template)
    one = run.send(_copy(template, 7, keep=lambda s: s.span_id == first, new_ids=2), 400.0)
    got = _waste(one, "over_baseline")
    cost = sum(float(e.call.cost_usd) for t in one for e in t.spans  # type: ignore[union-attr, arg-type]
               if e.call is not None and e.call.counted)
    assert len(got) == 1 and abs(got[0][0] - cost) < 1e-12 and got[0][1] == baseline


def _first_call(template: ExportTraceServiceRequest) -> bytes:
    return next(s.span_id for rs in template.resource_spans for ss in rs.scope_spans for s in ss.spans
                if s.parent_span_id)


def test_a_late_call_that_completes_an_ordinary_run_is_not_waste() -> None:
    """The tree left at tree_max_wait without its last call, which then came: the run's spend is its
    workflow's usual, so nothing is over the baseline."""
    run = Run()
    template = _trace("support-triage")
    _with_baseline(run, template)
    last = [s.span_id for rs in template.resource_spans for ss in rs.scope_spans for s in ss.spans
            if s.parent_span_id][-1]
    released = run.send(_copy(template, 8, "success", keep=lambda s: s.span_id != last), 100.0)
    assert not released[0].late and released[0].root() is not None
    late = run.send(_copy(template, 8, keep=lambda s: s.span_id == last), 200.0)
    assert late and all(t.late for t in late)
    assert [e.get(semconv.WASTE_REASON) for t in late for e in t.spans] == [None]
    assert "over_baseline" not in run.metrics.wasted_by_reason


def test_a_late_call_of_a_run_suspected_of_inflation_is_suspected_too() -> None:
    """The same principal sending the same request again and again with no outcome (inflation_min_trees of
    them in the window): the tree is suspected, and so is a call of it that arrived after it left."""
    run = Run()
    template = _trace("feedback-reply")
    trees = []
    for i in range(5):
        trees = run.send(_copy(template, 50 + i), float(i))
    assert trees[0].facts["waste_by_reason"].get("suspected_inflation", 0) > 0
    late = run.send(_copy(template, 54, keep=_is_call, new_ids=3), 100.0)
    assert late and all(t.late for t in late)
    reasons = [e.get(semconv.WASTE_REASON) for t in late for e in t.spans if e.call is not None and e.call.counted]
    assert reasons and set(reasons) == {"suspected_inflation"}
    # and a late call of an earlier tree that was not suspected (the first of the five) is not
    late = run.send(_copy(template, 50, keep=_is_call, new_ids=4), 100.0)
    assert [e.get(semconv.WASTE_REASON) for t in late for e in t.spans if e.call is not None and e.call.counted] \
        == [None] * len(reasons)
