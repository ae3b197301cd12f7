"""Real spans from two decorator SDKs that name workflows, over the OpenAI client, counted against the fake
OpenAI server's ground truth (tests/normalize/gen/lfts/generate.py made the data files; versions in its
requirements.txt and in the truth file).

* ``langfuse-py-openai``: Langfuse's Python SDK (langfuse 5.2.0, scope ``langfuse-sdk``): ``@observe`` spans
  (``langfuse.observation.type`` span / agent / tool) around the ``langfuse.openai`` drop-in's
  ``OpenAI-generation`` spans (``langfuse.observation.usage_details``: OpenAI's raw usage), the trace named by
  ``propagate_attributes(trace_name=...)`` (``langfuse.trace.name``); and ``manual``, a generation reported by
  hand with Langfuse's own disjoint usage keys and ``cost_details``.
* ``traceloop-sdk-openai``: traceloop-sdk 0.62.4 ``@workflow`` / ``@task`` / ``@agent`` / ``@tool`` spans
  (scope ``traceloop.tracer``, ``traceloop.span.kind`` / ``traceloop.entity.*``, ``traceloop.workflow.name`` on
  every span below a workflow) around its bundled OpenAI instrumentation's ``openai.chat`` spans.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.config import load
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
from otel_tokenwatch.service import build_processors
from otel_tokenwatch.state import MemoryStore
from tests.enrich.trees import trees_of
from tests.normalize.captured import (
    DATA,
    assert_totals,
    capture_lines_are,
    counted,
    counted_once,
    failed_in_errors,
    scenario_totals,
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((Path(DATA) / "lfts-truth.json").read_text())
SOURCES = ["langfuse-py-openai", "traceloop-sdk-openai"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
ALL = {"langfuse-py-openai": [*SCENARIOS, "manual"], "traceloop-sdk-openai": SCENARIOS}
PROVIDER = {
    # langfuse 5.2.0 langfuse/openai.py _wrap: the generation gets name, input, model, model_parameters, usage,
    # cost and (streams only) metadata; nothing names the provider (no ``gen_ai.system``, no ls_provider
    # metadata as its LangChain handler writes), and the OpenAI-compatible base_url is not recorded either
    "langfuse-py-openai": None,
    "traceloop-sdk-openai": "openai"}
#: the model each successful call's span names as requested
REQUEST_MODEL = {
    # langfuse 5.2.0 langfuse/openai.py _wrap starts the generation with the request's model and then
    # generation.update(model=<the response's model>) (_get_langfuse_data_from_default_response, and
    # _create_langfuse_update for streams): ``langfuse.observation.model.name`` ends as the served model; a
    # failed call (no response) keeps the request's
    "langfuse-py-openai": "gpt-4o-mini-2024-07-18",
    "traceloop-sdk-openai": "gpt-4o-mini"}
#: (source, scenario, field) -> what the spans carry where they cannot carry the truth
GAPS: dict[tuple[str, str, str], Any] = {}
#: finish reasons per call: langfuse 5.2.0 langfuse/openai.py _get_langfuse_data_from_default_response returns
#: model, completion, usage and service tier only (no finish_reason); its stream path keeps the chunks'
#: finish_reason in metadata (_extract_streamed_openai_response), read as langfuse.observation.metadata.finish_reason
FINISH = {"langfuse-py-openai": {"streaming": [("stop",), ("length",)]},
          "traceloop-sdk-openai": {"healthy": [("stop",)] * 2, "cached": [("stop",)] * 3, "duplicate": [("stop",)] * 2,
                                   "streaming": [("stop",), ("length",)], "tool_use": [("tool_call",), ("stop",)]}}


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    """Per source and scenario: its totals (every counted call's cache within its input, reasoning within its
    output; every root with the trace's totals)."""
    return {s: scenario_totals(s, parts_within=True, roots_carry_totals=True) for s in SOURCES}


@pytest.fixture(scope="module")
def resolved() -> dict[str, dict[str, Any]]:
    """Per source and scenario, the root after the full chain (as tests/score/test_captured_scores.py runs it)."""
    out: dict[str, dict[str, Any]] = {}
    for s in SOURCES:
        _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
        chain = ProcessorChain(stages)
        for scenario, tree in trees_of(Path(DATA) / f"{s}.jsonl"):
            chain.process_many([tree])
            out.setdefault(s, {})[scenario] = tree.root()
    return out


@pytest.mark.parametrize("source", SOURCES)
def test_every_scenario_was_captured(source: str) -> None:
    capture_lines_are(source, ALL[source])
    assert sorted(TRUTH[source]["scenarios"]) == sorted(ALL[source])


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in ALL[s]])
def test_tokens_match_the_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    truth = TRUTH[source]["scenarios"][scenario]
    got, want = results[source][scenario], with_gaps(truth, GAPS, source, scenario, unread=truth["usage_unsent"])
    assert_totals(got, want)
    assert got["providers"] <= {PROVIDER[source]}
    assert got["models"] == [REQUEST_MODEL[source]] * (want["calls"] - want["failed"])
    assert got["failed_models"] == ["gpt-4o-mini"] * want["failed"]
    assert got["finish"] == FINISH[source].get(scenario, [()] * (want["calls"] - want["failed"]))
    assert got["streamed"] == [scenario == "streaming"] * (want["calls"] - want["failed"])


def test_the_truth_has_the_numbers_the_scenarios_need() -> None:
    for s in SOURCES:
        t = TRUTH[s]["scenarios"]
        assert t["cached"]["cache_read"] == 17920 and t["tool_use"]["reasoning"] == 128
        assert t["streaming"]["finish_reasons"] == ["stop", "length"] and t["errors"]["failed"] == 2
    assert TRUTH["langfuse-py-openai"]["scenarios"]["manual"] == {
        "cache_read": 8960, "cache_write": 0, "calls": 1, "failed": 0, "finish_reasons": ["stop"], "input": 9260,
        "models": [["gpt-4o-mini", "gpt-4o-mini-2024-07-18"]], "output": 140, "reasoning": 64, "usage_unsent": 0}


@pytest.mark.parametrize("source", SOURCES)
def test_each_call_counted_once_and_decorator_spans_never(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        assert {e.scope.name for e in calls} <= {"langfuse-sdk", "opentelemetry.instrumentation.openai.v1"}
        for e in tree.spans:
            entity = e.attrs.get("traceloop.span.kind") or (
                e.attrs.get("langfuse.observation.type") not in (None, "generation") and "langfuse")
            if entity:
                assert e.call is None or not e.call.counted, (scenario, e.view.name)
        assert not any(e.scope.name == "traceloop.tracer" and e.call is not None and e.call.counted
                       for e in tree.spans), scenario
    assert len(failed_in_errors(source, ALL[source])) == 2


def test_the_hand_reported_generation_is_read_whole() -> None:
    """Langfuse's own keys are disjoint (``input`` without ``input_cached_tokens``, ``output`` without
    ``output_reasoning_tokens``): read back as the semantic conventions' totals, with its reported cost."""
    (e,) = counted("langfuse-py-openai", "manual")
    c = e.call
    assert c is not None and e.view.name == "policy-answer"
    assert (c.input_tokens, c.output_tokens, c.cache_read_tokens, c.reasoning_tokens) == (9260, 140, 8960, 64)
    assert (str(c.cost_usd), c.cost_source) == ("0.000801", "reported")


@pytest.mark.parametrize("source", SOURCES)
def test_the_workflow_is_the_one_the_sdk_named(resolved: dict[str, Any], source: str) -> None:
    """``traceloop.workflow.name`` (the @workflow's name) and ``langfuse.trace.name`` win over the root's
    app.workflow: the generator named every scenario's workflow ``support-<scenario>``."""
    key = {"langfuse-py-openai": "langfuse.trace.name", "traceloop-sdk-openai": "traceloop.workflow.name"}[source]
    for scenario in ALL[source]:
        root = resolved[source][scenario]
        assert (root.get(semconv.WORKFLOW), root.get(semconv.WORKFLOW_SOURCE)) == (f"support-{scenario}", key)
