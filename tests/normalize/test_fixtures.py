"""Every fixture source read right: the same calls, tokens and (where reported) cost, counted once."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from tests.enrich.trees import fixture_trees

OPENAI_SDK_SOURCES = ["openai-v2.jsonl", "openai-v2-latest.jsonl", "openinference-openai.jsonl",
                      "openllmetry-openai.jsonl", "openlit-openai.jsonl", "langfuse-openai.jsonl"]
# OpenLIT's local pricing file (fixtures README): USD per 1M tokens, cache read at half the input price
OPENLIT_PRICES = {"gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")), "gpt-4o": (Decimal("2.50"), Decimal(10)),
                  "o3-mini": (Decimal("1.10"), Decimal("4.40"))}


def totals(source: str) -> dict[str, tuple[int, int, int]]:
    """scenario -> (counted calls, input tokens, output tokens)."""
    stage = NormalizeProcessor(NormalizeConfig())
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for scenario, tree in fixture_trees(source):
        stage.process(tree)
        for e in tree.spans:
            if e.call is not None and e.call.counted:
                r = out[scenario]
                r[0] += 1
                r[1] += e.call.input_tokens or 0
                r[2] += e.call.output_tokens or 0
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def test_all_openai_sdk_sources_agree_call_for_call() -> None:
    reference = totals("openai-v2-latest.jsonl")
    assert reference["healthy"][0] == 5  # 3 + 2 calls (fixtures README)
    assert reference["tool_loop"][0] == 5
    for source in OPENAI_SDK_SOURCES:
        assert totals(source) == reference, source


@pytest.mark.parametrize("source", OPENAI_SDK_SOURCES + ["pydantic-ai.jsonl"])
def test_no_double_counting_and_root_totals(source: str) -> None:
    stage = NormalizeProcessor(NormalizeConfig())
    for _, tree in fixture_trees(source):
        stage.process(tree)
        counted = [e for e in tree.spans if e.call is not None and e.call.counted]
        ids = [e.call.response_id for e in counted if e.call.response_id]
        assert len(ids) == len(set(ids))
        for e in counted:  # no counted call has a counted call below it
            assert e.call.kind in ("inference", "embeddings")
        root = tree.root()
        assert root is not None
        assert root.get(semconv.TRACE_CALLS) == len(counted)
        assert root.get(semconv.TRACE_INPUT_TOKENS) == sum(e.call.input_tokens or 0 for e in counted)
        assert root.get(semconv.TRACE_TOKENS) == sum(e.call.total_tokens for e in counted)


def test_pydantic_agent_aggregates_are_not_added() -> None:
    stage = NormalizeProcessor(NormalizeConfig())
    for _, tree in fixture_trees("pydantic-ai.jsonl"):
        stage.process(tree)
        agents = [e for e in tree.spans if e.span.name.startswith("invoke_agent")]
        for a in agents:
            assert a.call is not None and a.call.kind == "agent" and not a.call.counted
            agg = a.attrs.get("gen_ai.aggregated_usage.input_tokens")
            if agg is not None:
                from otel_tokenwatch.pipeline.normalize.counting import _descendants

                below = sum(e.call.input_tokens or 0 for e in _descendants(a, tree.children())
                            if e.call is not None and e.call.counted)
                assert int(agg) == below


def test_openlit_reported_cost_matches_its_pricing_file() -> None:
    stage = NormalizeProcessor(NormalizeConfig())
    checked = 0
    for _, tree in fixture_trees("openlit-openai.jsonl"):
        stage.process(tree)
        for e in tree.spans:
            c = e.call
            if c is None or not c.counted:
                continue
            assert c.cost_source == "reported"
            pin, pout = OPENLIT_PRICES[c.request_model or ""]
            cr = c.cache_read_tokens or 0
            expect = (pin * ((c.input_tokens or 0) - cr) + pin / 2 * cr + pout * (c.output_tokens or 0)) / 10**6
            assert abs(c.cost_usd - expect) < Decimal("1e-9"), (c.request_model, c.cost_usd, expect)
            assert e.get(semconv.COST_SOURCE) == "reported"
            checked += 1
    assert checked > 40


def test_computed_cost_and_write_back_on_legacy_spans() -> None:
    stage = NormalizeProcessor(NormalizeConfig())
    for _, tree in fixture_trees("openai-v2.jsonl"):
        stage.process(tree)
        for e in tree.spans:
            c = e.call
            if c is None or not c.counted:
                continue
            assert c.cost_source == "computed" and c.cost_usd is not None and c.cost_usd > 0
            assert e.get(semconv.PRICE_SOURCE, "").startswith("genai-prices")  # type: ignore[union-attr]
            # the legacy path writes gen_ai.system only: the current name is added
            assert e.attrs.get("gen_ai.system") == "openai" and "gen_ai.provider.name" not in e.attrs
            assert e.added["gen_ai.provider.name"] == "openai"


def test_totals_match_the_table_and_the_fake_servers_answers() -> None:
    """expected_totals.json holds counted calls and token totals per file and scenario, derived from the
    spans' raw usage; the checks below tie them to what the fixtures' README says the server billed."""
    import json
    from pathlib import Path

    table = json.loads((Path(__file__).parent / "expected_totals.json").read_text())
    for source, scenarios in table.items():
        stage = NormalizeProcessor(NormalizeConfig())
        got: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        for scenario, tree in fixture_trees(source):
            stage.process(tree)
            for e in tree.spans:
                c = e.call
                if c is not None and c.counted:
                    r = got[scenario]
                    r[0] += 1
                    r[1] += c.input_tokens or 0
                    r[2] += c.output_tokens or 0
                    r[3] += c.cache_read_tokens or 0
                    r[4] += c.reasoning_tokens or 0
        for scenario, want in scenarios.items():
            assert got[scenario] == [want["calls"], want["input_tokens"], want["output_tokens"],
                                     want["cache_read_tokens"], want["reasoning_tokens"]], (source, scenario)
    # the README: cached = prompt_tokens 9,200 / 9,260 / 9,310 with cached_tokens 0 / 8,960 / 8,960
    for source in ("openinference-openai.jsonl", "openllmetry-openai.jsonl", "openlit-openai.jsonl",
                   "langfuse-openai.jsonl", "pydantic-ai.jsonl"):
        assert table[source]["cached"]["input_tokens"] == 9200 + 9260 + 9310
        assert table[source]["cached"]["cache_read_tokens"] == 2 * 8960
    # reasoning_burn: 14,080 + 12,096 reasoning tokens, inside the output (where the dialect reports them)
    for source in ("openinference-openai.jsonl", "openllmetry-openai.jsonl", "langfuse-openai.jsonl"):
        assert table[source]["tokenmaxx"]["reasoning_tokens"] == 14080 + 12096


def test_computed_cost_matches_a_hand_calculation_with_cache_tokens() -> None:
    """List prices per million tokens (the genai-prices data): gpt-4o-mini $0.15 in, $0.075 cached,
    $0.60 out; claude-3-5-sonnet $3 in, $0.30 cache read, $3.75 cache write, $15 out."""
    from decimal import Decimal

    from tests.normalize.spans import tree_of

    tree = tree_of(
        (1, 0, "root", {}),
        (2, 1, "openai", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                          "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 10000,
                          "gen_ai.usage.cache_read.input_tokens": 8000, "gen_ai.usage.output_tokens": 500}),
        (3, 1, "anthropic", {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
                             "gen_ai.request.model": "claude-3-5-sonnet-20241022",
                             "gen_ai.usage.input_tokens": 12000, "gen_ai.usage.cache_read.input_tokens": 6000,
                             "gen_ai.usage.cache_creation.input_tokens": 4000, "gen_ai.usage.output_tokens": 1000}))
    NormalizeProcessor(NormalizeConfig()).process(tree)
    got = {e.span.name: e.call for e in tree.spans}
    m = Decimal(1_000_000)
    openai = (Decimal("0.15") * 2000 + Decimal("0.075") * 8000 + Decimal("0.60") * 500) / m
    anthropic = (Decimal(3) * 2000 + Decimal("0.30") * 6000 + Decimal("3.75") * 4000 + Decimal(15) * 1000) / m
    assert got["openai"].cost_source == "computed" and got["openai"].cost_usd == openai
    assert got["anthropic"].cost_source == "computed" and got["anthropic"].cost_usd == anthropic


def test_pydantic_ai_omitted_cache_reads_are_zero_not_unknown() -> None:
    """pydantic-ai writes cache counts only above zero: its uncached calls read 0 (an uncached prefix can be
    seen), its cached ones what they report; sources that never record cache reads stay unknown."""
    stage = NormalizeProcessor(NormalizeConfig())
    reads = {}
    for source in ("pydantic-ai.jsonl", "openai-v2-latest.jsonl"):
        seen = set()
        for scenario, tree in fixture_trees(source):
            stage.process(tree)
            seen |= {(scenario, e.call.cache_read_tokens) for e in tree.spans
                     if e.call is not None and e.call.counted and e.call.kind == "inference"}
        reads[source] = seen
    assert ("healthy", 0) in reads["pydantic-ai.jsonl"]
    assert any(s == "cached" and (n or 0) > 0 for s, n in reads["pydantic-ai.jsonl"])
    assert {n for _, n in reads["openai-v2-latest.jsonl"]} == {None}  # "not recorded" (fixtures README)
