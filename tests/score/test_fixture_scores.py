"""The whole chain (normalize, enrich, score) over every fixture source: the scenarios' waste is found."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from otel_tokenwatch.pipeline.score.config import ScoreConfig
from otel_tokenwatch.pipeline.score.factory import ScoreProcessor
from otel_tokenwatch.pipeline.tree import Tree
from otel_tokenwatch.state import MemoryStore
from tests.enrich.trees import fixture_trees
from tests.score.helpers import check_explainable
from tests.stages import default_stages

SOURCES = ["openai-v2.jsonl", "openai-v2-latest.jsonl", "openinference-openai.jsonl", "openllmetry-openai.jsonl",
           "openlit-openai.jsonl", "langfuse-openai.jsonl", "pydantic-ai.jsonl"]
#: sources that record finish reasons of streamed calls
STREAM_FINISH = ["openinference-openai.jsonl", "openllmetry-openai.jsonl", "openlit-openai.jsonl",
                 "langfuse-openai.jsonl"]
CACHE_REPORTED = ["openinference-openai.jsonl", "openllmetry-openai.jsonl", "openlit-openai.jsonl",
                  "langfuse-openai.jsonl"]
CONTENT_SOURCES = [s for s in SOURCES if s != "openai-v2.jsonl"]  # the legacy path puts content in log events


def scored_trees(source: str) -> list[tuple[str, Tree]]:
    """(scenario, tree) of one source after normalize, enrich and score with one shared state."""
    stages = default_stages()
    out = []
    for scenario, tree in fixture_trees(source):
        for s in stages:
            s.process(tree)
        check_explainable(tree)
        out.append((scenario, tree))
    return out


def scored(source: str) -> dict[str, dict]:
    out = {}
    for scenario, tree in scored_trees(source):
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


@pytest.mark.parametrize("variant,workflow", [("high_max_tokens", "faq-writer"), ("reasoning_burn", "calculator")])
def test_oversized_answers_are_caught_once_the_workflow_has_a_baseline(variant: str, workflow: str) -> None:
    """30 ordinary successful trees of the workflow (the healthy feedback-reply trace, relabelled), then the
    tokenmaxx tree: only a baseline can call its answers oversized."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from otel_tokenwatch.otlp.files import read
    from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
    from tests.conftest import FIXTURES

    stages = default_stages()
    source = Path(FIXTURES) / "openinference-openai.jsonl"
    healthy = next(r.request for r in read(source) if r.signal == "traces" and r.meta.get("scenario") == "healthy")
    small_tid = None
    for rs in healthy.resource_spans:  # type: ignore[attr-defined]
        for ss in rs.scope_spans:
            for s in ss.spans:
                if not s.parent_span_id and any(kv.value.string_value == "feedback-reply" for kv in s.attributes):
                    small_tid = s.trace_id
    assert small_tid is not None

    def run(req: ExportTraceServiceRequest) -> list:  # type: ignore[type-arg]
        asm = Assembler(AssembleConfig())
        trees = asm.add(req, 0.0, None) + asm.flush(0.0)
        for t in trees:
            for stage in stages:
                stage.process(t)
        return trees

    for i in range(30):
        req = ExportTraceServiceRequest()
        req.CopyFrom(healthy)  # type: ignore[arg-type]
        for rs in req.resource_spans:
            for ss in rs.scope_spans:
                keep = [s for s in ss.spans if s.trace_id == small_tid]
                del ss.spans[:]
                ss.spans.extend(keep)
                for s in ss.spans:
                    s.trace_id = (i + 1).to_bytes(16, "big")
                    for kv in s.attributes:
                        if kv.key == "app.workflow":
                            kv.value.string_value = workflow
                    if not s.parent_span_id:  # the ticket was closed: a success (not inflation)
                        s.attributes.add(key="app.outcome").value.string_value = "success"
        for t in run(req):
            assert t.facts.get("score", 0.0) == 0.0
    big = next(r.request for r in read(source) if r.signal == "traces" and r.meta.get("scenario") == "tokenmaxx"
               and any(kv.value.string_value == variant for rs in r.request.resource_spans  # type: ignore[attr-defined]
                       for ss in rs.scope_spans for s in ss.spans for kv in s.attributes))
    req = ExportTraceServiceRequest()
    req.CopyFrom(big)  # type: ignore[arg-type]
    trees = [t for t in run(req) if t.root() is not None and t.root().attrs.get("app.tokenmaxx.variant") == variant]
    assert trees and trees[0].facts["waste_by_reason"].get("over_baseline", 0) > 0
    assert trees[0].root().get(semconv.TRACE_TOP_REASON) == "over_baseline"
