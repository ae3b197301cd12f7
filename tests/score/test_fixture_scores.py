"""The whole chain (normalize, enrich, score) over every fixture source: the scenarios' waste is found."""

from __future__ import annotations

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.enrich.config import EnrichConfig
from otel_tokenwatch.pipeline.enrich.factory import FACTORY as ENRICH
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from otel_tokenwatch.pipeline.processor import ProcessorContext
from otel_tokenwatch.pipeline.score.config import ScoreConfig
from otel_tokenwatch.pipeline.score.factory import ScoreProcessor
from otel_tokenwatch.state import MemoryStore
from tests.enrich.trees import fixture_trees
from tests.score.helpers import check_explainable

SOURCES = ["openai-v2.jsonl", "openai-v2-latest.jsonl", "openinference-openai.jsonl", "openllmetry-openai.jsonl",
           "openlit-openai.jsonl", "langfuse-openai.jsonl", "pydantic-ai.jsonl"]
#: sources that record finish reasons of streamed calls
STREAM_FINISH = ["openinference-openai.jsonl", "openllmetry-openai.jsonl", "openlit-openai.jsonl",
                 "langfuse-openai.jsonl"]
CACHE_REPORTED = ["openinference-openai.jsonl", "openllmetry-openai.jsonl", "openlit-openai.jsonl",
                  "langfuse-openai.jsonl"]
CONTENT_SOURCES = [s for s in SOURCES if s != "openai-v2.jsonl"]  # the legacy path puts content in log events


def scored(source: str) -> dict[str, dict]:
    state = MemoryStore()
    stages = [NormalizeProcessor(NormalizeConfig()), ENRICH.create(EnrichConfig(), ProcessorContext(state=state)),
              ScoreProcessor(ScoreConfig(), state)]
    out = {}
    for scenario, tree in fixture_trees(source):
        for s in stages:
            s.process(tree)
        check_explainable(tree)
        root = tree.root()
        assert root is not None
        name = str(root.attrs.get("app.tokenmaxx.variant") or f"{scenario}/{root.attrs.get('app.workflow')}")
        while name in out:
            name += "+"
        out[name] = {"score": root.get(semconv.TRACE_WASTE_SCORE), "top": root.get(semconv.TRACE_TOP_REASON),
                     "reasons": dict(tree.facts.get("waste_by_reason", {})), "units": root.get(semconv.TRACE_UNITS)}
    return out


@pytest.mark.parametrize("source", SOURCES)
def test_scenarios(source: str) -> None:
    s = scored(source)
    for name, r in s.items():
        if name.startswith(("healthy/", "streaming/", "cached/")):
            # a streamed answer cut at max_tokens was read as it arrived; cache hits are not waste
            assert r["score"] == 0.0, (name, r)
    assert s["tool_loop/order-agent"]["score"] == 1.0  # the agent gave up: abandoned, all units wasted
    assert s["re_ask_same_prompt"]["top"] == "duplicate" and s["re_ask_same_prompt"]["score"] > 0.8
    assert s["huge_prompt_repeated"]["top"] == "duplicate"
    assert s["duplicate/invoice-lookup"]["score"] == 0.5
    if source in CONTENT_SOURCES and source != "pydantic-ai.jsonl":
        assert "loop" in s["tool_loop/order-agent"]["reasons"]
        if source in CACHE_REPORTED:  # without cache-read counts a cache hit cannot be ruled out
            assert s["context_snowball"]["top"] == "uncached_prefix"
            assert s["uncached_static_prefix"]["top"] == "uncached_prefix"
        if source != "langfuse-openai.jsonl":  # Langfuse records the finish reason of the last call only
            assert s["truncation/incident-summary"]["top"] == "retry"
    assert all(r["units"] == "usd" for n, r in s.items() if not n.startswith("rate_limited"))


def test_baselines_survive_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.score.helpers import calls, chat

    path = str(tmp_path / "state.json")
    state = MemoryStore(snapshot_path=path)
    stage = ScoreProcessor(ScoreConfig(baseline_min_samples=5), state)
    norm = NormalizeProcessor(NormalizeConfig())
    for i in range(5):
        t = calls(chat(f"q{i}", inp=1000, out=100))
        norm.process(t)
        t.facts["outcome"] = "success"
        stage.process(t)
    state.close()
    restored = MemoryStore(snapshot_path=path)
    stage = ScoreProcessor(ScoreConfig(baseline_min_samples=5), restored)
    t = calls(chat("long", inp=1000, out=4000))
    norm.process(t)
    t.facts["outcome"] = "success"
    stage.process(t)
    assert t.facts["waste_by_reason"].get("over_baseline", 0) > 0
