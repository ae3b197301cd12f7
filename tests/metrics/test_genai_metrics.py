"""GenAIMetrics on trees: what a Prometheus scrape of the admin port shows, by label.

Constructed trees pin the arithmetic (token split by type, wasted vs not,
uncounted calls ignored, late trees skipped, cardinality cap, no person in a
label); the fixture test checks, on real spans through the real stages, that
the scrape agrees with the totals tokenwatch writes on each root.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.call import Call
from otel_tokenwatch.pipeline.tree import Tree
from otel_tokenwatch.telemetry.genai_metrics import GenAIMetrics
from otel_tokenwatch.telemetry.selfmetrics import SelfTelemetry
from tests.enrich.trees import fixture_trees
from tests.normalize.spans import request_of, tree_of
from tests.stages import default_stages

Sample = tuple[str, dict[str, str], float]


@pytest.fixture
def telemetry() -> Iterator[SelfTelemetry]:
    tel = SelfTelemetry()
    yield tel
    tel.shutdown()


def samples(tel: SelfTelemetry) -> list[Sample]:
    """Every sample of the Prometheus text, parsed by prometheus_client's own parser."""
    text = tel.prometheus_text().decode()
    return [(s.name, dict(s.labels), s.value) for fam in text_string_to_metric_families(text) for s in fam.samples]


def total(got: list[Sample], name: str, **match: str) -> float:
    return sum(v for n, labels, v in got if n == name and all(labels.get(k) == x for k, x in match.items()))


def label_values(got: list[Sample], name: str, label: str) -> set[str]:
    return {labels[label] for n, labels, _ in got if n == name}


def tree(calls: list[Call], root_attrs: dict[str, Any], span_attrs: dict[str, Any] | None = None) -> Tree:
    """A root (carrying ``span_attrs`` as sent) and one chat span per Call (set as normalize would);
    ``root_attrs`` are set on the root as enrich and score would."""
    t = tree_of((1, 0, "root", span_attrs or {}), *[(i + 2, 1, f"chat {i}", {}) for i in range(len(calls))])
    by_id = {int.from_bytes(e.span_id, "big"): e for e in t.spans}
    for i, c in enumerate(calls):
        by_id[i + 2].call = c
    r = t.root()
    assert r is not None
    for k, v in root_attrs.items():
        r.set(k, v)
    return t


def chat(model: str = "gpt-4o-mini", inp: int = 1000, out: int = 100, counted: bool = True, **kw: Any) -> Call:
    return Call(kind="inference", provider="openai", request_model=model, input_tokens=inp, output_tokens=out,
                counted=counted, **kw)


ROOT = {semconv.WORKFLOW: "support-triage", semconv.TEAM: "support", semconv.OUTCOME: "success"}


def test_tokens_cost_and_calls_split_by_type_and_waste(telemetry: SelfTelemetry) -> None:
    first = chat(inp=1000, out=300, cache_read_tokens=400, cache_write_tokens=100, reasoning_tokens=50,
                 cost_usd=Decimal("0.002"), cost_source="computed")
    retried = chat(inp=1000, out=300, cost_usd=Decimal("0.001"), cost_source="reported", error=True,
                   waste_reason="retry", wasted_tokens={"input": 1000, "output": 300}, waste_cost_usd=0.001)
    # the same call seen by a second instrumentation: its usage is already counted on `first`
    twin = chat(inp=1000, out=300, cost_usd=Decimal("0.002"), cost_source="computed", counted=False)
    GenAIMetrics(telemetry).record_tree(tree([first, retried, twin], {
        **ROOT, semconv.TRACE_WASTE_SCORE: 0.25, semconv.TRACE_COST_USD: 0.003}))
    got = samples(telemetry)
    tokens = "tokenwatch_tokens_total"
    base = {"workflow": "support-triage", "team": "support", "provider": "openai", "model": "gpt-4o-mini"}
    # input 1000 = 500 uncached + 400 cache read + 100 cache write; output 300 = 250 visible + 50 reasoning
    assert total(got, tokens, **base, token_type="input", waste_reason="none") == 500
    assert total(got, tokens, **base, token_type="cache_read", waste_reason="none") == 400
    assert total(got, tokens, **base, token_type="cache_write", waste_reason="none") == 100
    assert total(got, tokens, **base, token_type="output", waste_reason="none") == 250
    assert total(got, tokens, **base, token_type="reasoning", waste_reason="none") == 50
    assert total(got, tokens, **base, token_type="input", waste_reason="retry") == 1000
    assert total(got, tokens, **base, token_type="output", waste_reason="retry") == 300
    assert total(got, tokens) == 1000 + 300 + 1000 + 300  # the twin adds nothing
    cost = "tokenwatch_cost_USD_total"
    assert total(got, cost, waste_reason="none", cost_source="computed") == pytest.approx(0.002)
    assert total(got, cost, waste_reason="retry", cost_source="reported") == pytest.approx(0.001)
    assert total(got, cost) == pytest.approx(0.003)
    calls = "tokenwatch_calls_total"
    assert total(got, calls, status="ok", waste_reason="none") == 1
    assert total(got, calls, status="error", waste_reason="retry") == 1
    assert total(got, calls) == 2
    assert total(got, "tokenwatch_outcomes_total", workflow="support-triage", team="support", outcome="success") == 1
    assert total(got, "tokenwatch_trace_waste_score_count", workflow="support-triage", outcome="success") == 1
    assert total(got, "tokenwatch_trace_waste_score_sum", workflow="support-triage") == pytest.approx(0.25)
    assert total(got, "tokenwatch_trace_cost_USD_sum", workflow="support-triage") == pytest.approx(0.003)
    # a waste score of 0.25 is in the le=0.25 bucket and every one above it
    assert total(got, "tokenwatch_trace_waste_score_bucket", le="+Inf") == 1


def test_copies_received_late_and_trees_without_calls_record_nothing(telemetry: SelfTelemetry) -> None:
    m = GenAIMetrics(telemetry)
    summary: dict[str, Any] = {}  # the assembler's memory of the released trace (its late cache)
    released = tree([chat(cost_usd=Decimal("0.01"), cost_source="computed")], {**ROOT, semconv.TRACE_COST_USD: 0.01})
    released.facts.update(summary=summary, genai=True)
    m.record_tree(released)
    before = samples(telemetry)
    copy = tree([chat(cost_usd=Decimal("0.01"), cost_source="computed")], {**ROOT, semconv.TRACE_COST_USD: 0.01})
    copy.late = True  # the same spans again, after the release: their calls were counted then
    copy.facts["summary"] = summary
    m.record_tree(copy)
    assert samples(telemetry) == before and m.totals["trees"] == 1
    m2 = GenAIMetrics(SelfTelemetry())
    m2.record_tree(tree([Call(kind="tool", tool_name="search")], ROOT))
    got = samples(m2.telemetry)
    genai = {n for n, _, _ in got if n.startswith(("tokenwatch_tokens", "tokenwatch_cost", "tokenwatch_calls",
                                                   "tokenwatch_outcomes", "tokenwatch_trace_"))}
    assert genai == set()
    assert m2.totals["trees"] == 0
    m2.telemetry.shutdown()


def test_a_late_tree_of_a_trace_no_longer_remembered_counts_under_unknown(telemetry: SelfTelemetry) -> None:
    """Spans late beyond the late cache (or of an invalid trace id): their calls count, but no labels are known."""
    m = GenAIMetrics(telemetry)
    late = tree([chat(cost_usd=Decimal("0.01"), cost_source="computed")], ROOT)
    late.late = True
    m.record_tree(late)
    got = samples(telemetry)
    assert total(got, "tokenwatch_calls_total", workflow="unknown", team="unknown") == 1
    assert total(got, "tokenwatch_cost_USD_total") == pytest.approx(0.01)
    assert m.totals["trees"] == 0 and total(got, "tokenwatch_outcomes_total") == 0


def test_label_cardinality_is_capped_and_overflows_to_other(telemetry: SelfTelemetry) -> None:
    m = GenAIMetrics(telemetry, max_workflows=2, max_models=2)
    for i in range(5):
        wf = {**ROOT, semconv.WORKFLOW: f"wf-{i}"}
        m.record_tree(tree([chat(model=f"model-{i}", cost_usd=Decimal("0.001"), cost_source="computed")], wf))
    got = samples(telemetry)
    for name in ("tokenwatch_tokens_total", "tokenwatch_cost_USD_total", "tokenwatch_calls_total"):
        assert label_values(got, name, "workflow") == {"wf-0", "wf-1", "other"}
        assert label_values(got, name, "model") == {"model-0", "model-1", "other"}
    assert label_values(got, "tokenwatch_outcomes_total", "workflow") == {"wf-0", "wf-1", "other"}
    # nothing lost: the overflow carries the other three trees' calls
    assert total(got, "tokenwatch_calls_total", workflow="other") == 3
    assert total(got, "tokenwatch_calls_total") == 5


def test_no_person_and_no_free_text_outcome_in_any_label(telemetry: SelfTelemetry) -> None:
    person = "alice@example.com"
    sent = {"enduser.id": person, "user.id": person, "session.id": "sess-42"}
    t = tree([chat(principal=person, conversation_id="sess-42", cost_usd=Decimal("0.001"), cost_source="computed")],
             {**ROOT, semconv.OUTCOME: "closed by alice@example.com", semconv.TRACE_WASTE_SCORE: 0.0}, sent)
    GenAIMetrics(telemetry).record_tree(t)
    text = telemetry.prometheus_text().decode()
    assert "alice" not in text and "sess-42" not in text
    got = samples(telemetry)
    assert label_values(got, "tokenwatch_outcomes_total", "outcome") == {"unknown"}
    for name, labels, _ in got:
        if name.startswith("tokenwatch_"):
            assert set(labels) <= {"workflow", "team", "provider", "model", "token_type", "waste_reason",
                                   "cost_source", "status", "outcome", "kpi", "le"}, (name, labels)


@pytest.mark.parametrize("source", ["openai-v2-latest.jsonl", "openlit-openai.jsonl"])
def test_scrape_agrees_with_root_totals_on_real_fixtures(telemetry: SelfTelemetry, source: str) -> None:
    """Real spans through normalize, enrich and score: the scrape sums to what each root says it cost."""
    stages = default_stages()
    m = GenAIMetrics(telemetry)
    want_tokens = 0
    want_cost = 0.0
    want_trees: dict[str, int] = {}
    retry_storm = False
    for scenario, t in fixture_trees(source):
        for s in stages:
            s.process(t)
        m.record_tree(t)
        root = t.root()
        assert root is not None
        if not any(e.call is not None and e.call.kind == "inference" and (e.call.counted or e.call.error)
                   for e in t.spans):
            continue  # a tree that made no GenAI call (billed or failed) is no outcome of GenAI spend
        want_tokens += int(root.get(semconv.TRACE_TOKENS) or 0)  # type: ignore[call-overload]
        want_cost += float(root.get(semconv.TRACE_COST_USD) or 0.0)  # type: ignore[arg-type]
        wf = str(root.get(semconv.WORKFLOW))
        want_trees[wf] = want_trees.get(wf, 0) + 1
        retry_storm |= scenario == "retry_storm"
    got = samples(telemetry)
    assert want_tokens > 0 and want_cost > 0 and retry_storm
    assert total(got, "tokenwatch_tokens_total") == want_tokens
    assert total(got, "tokenwatch_cost_USD_total") == pytest.approx(want_cost, rel=1e-9)
    for wf, n in want_trees.items():
        assert total(got, "tokenwatch_outcomes_total", workflow=wf) == n, wf
        assert total(got, "tokenwatch_trace_cost_USD_count", workflow=wf) == n, wf
    # the retry-storm scenario's failed calls (billing nothing) are still calls, errors, with their reason:
    # what TokenwatchRetryStorm counts
    failed = sum(1 for _, t in fixture_trees(source) for e in t.spans if e.span.status.code == 2
                 and e.span.name.startswith("chat"))
    assert failed > 0
    assert total(got, "tokenwatch_calls_total", status="error") >= failed
    assert total(got, "tokenwatch_calls_total", status="error", waste_reason="none") == 0
    # the status page's running totals say what the scrape says: failed calls that billed nothing included
    assert m.totals["calls"] == total(got, "tokenwatch_calls_total")
    assert m.totals["failed_calls"] == total(got, "tokenwatch_calls_total", status="error") >= failed
    assert m.totals["tokens"] == want_tokens and m.totals["cost_usd"] == pytest.approx(want_cost, rel=1e-9)


def _request(*spans: tuple[int, int, str, dict[str, Any]]) -> bytes:
    """An encoded request of spans (id, parent id or 0, name, attributes) of one trace of service support-bot."""
    return request_of(*spans, service="support-bot").SerializeToString()


def _chat(i: int) -> dict[str, Any]:
    return {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 100 * i, "gen_ai.usage.output_tokens": 10, "gen_ai.response.id": f"r{i}"}


def test_calls_that_arrive_after_their_tree_are_spend_too_and_copies_are_not(telemetry: SelfTelemetry) -> None:
    """A run longer than tree_max_wait: the tree goes at the wait, its later turns arrive late. Their calls add to
    the counters under the labels the trace was counted with; the per-tree figures stay the tree's; a span
    received again late adds nothing."""
    from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler

    stages = default_stages()
    m = GenAIMetrics(telemetry)
    asm = Assembler(AssembleConfig())
    first = _request((1, 0, "session", {"app.workflow": "support-chat"}), (2, 1, "chat", _chat(1)))
    asm.add(None, 0.0, None, first)
    trees = asm.expire(120.0)  # past tree_max_wait: released
    trees += asm.add(None, 121.0, None, _request((3, 1, "chat", _chat(2))))  # the session's next turn
    trees += asm.add(None, 122.0, None, first)  # the first request again (a retried export), after the release
    trees += asm.flush(130.0)
    for t in trees:
        for s in stages:
            s.process(t)
        m.record_tree(t)
    assert [t.late for t in trees] == [False, True, True]
    got = samples(telemetry)
    calls = "tokenwatch_calls_total"
    # the session's first call, its second, and nothing for the copies
    assert total(got, "tokenwatch_tokens_total") == 110 + 210 == m.totals["tokens"]
    assert total(got, calls) == 2 == m.totals["calls"]
    assert total(got, calls, workflow="support-chat") == 2
    assert total(got, "tokenwatch_tokens_total", workflow="support-chat", token_type="input") == 300
    assert m.totals["trees"] == 1 and total(got, "tokenwatch_outcomes_total") == 1  # one tree, counted once
    assert total(got, "tokenwatch_trace_cost_USD_count") == 1


def test_a_run_longer_than_the_wait_is_named_by_its_service_not_by_a_step(telemetry: SelfTelemetry) -> None:
    """SDKs export a span when it ends, the root last: a run past tree_max_wait is released without its root, and
    its earliest span without a parent is a step ("chat"), not the run. Such a tree takes the service's name
    (resolve.workflow), and its late part, root and all, counts under the same labels. A local root that entered
    from another service (SpanKind SERVER) names its own request, as before."""
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
    from otel_tokenwatch.pipeline.tree import SpanEntry

    stages = default_stages()
    m = GenAIMetrics(telemetry)
    asm = Assembler(AssembleConfig())
    asm.add(None, 0.0, None, _request((2, 1, "chat", _chat(1))))
    trees = asm.expire(61.0)  # the run goes on past the wait
    trees += asm.add(None, 62.0, None, _request((3, 1, "chat", _chat(2)),
                                                (1, 0, "support-run", {"app.workflow": "support-chat"})))
    trees += asm.flush(70.0)
    for t in trees:
        for s in stages:
            s.process(t)
        m.record_tree(t)
    first = trees[0].spans[0]
    assert (first.get(semconv.WORKFLOW), first.get(semconv.WORKFLOW_SOURCE)) == ("support-bot", "service_name")
    got = samples(telemetry)
    assert total(got, "tokenwatch_calls_total", workflow="support-bot") == 2 == total(got, "tokenwatch_calls_total")

    entered = tree_of((7, 99, "POST /answer", {}), (8, 7, "chat", _chat(3)))  # its parent is the gateway's span
    e0 = entered.spans[0]
    s0 = Span.FromString(e0.data)
    s0.kind = Span.SPAN_KIND_SERVER
    entered.spans[0] = SpanEntry(e0.resource, e0.scope, s0.SerializeToString(), e0.span_id, e0.parent_id)
    for s in stages:
        s.process(entered)
    root = entered.root()
    assert root is not None and (root.get(semconv.WORKFLOW), root.get(semconv.WORKFLOW_SOURCE)) == (
        "POST /answer", "root_span_name")
