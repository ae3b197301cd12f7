"""Real spans of OpenLIT over CrewAI and over the OpenAI Agents SDK, and of LlamaIndex's agent workflow under
OpenInference (tests/normalize/data/{crewai-openlit,agents-openlit,llamaindex-agent-openinference}.jsonl), read
right, call for call.

Captured by tests/normalize/gen/py4/generate.py against the fake OpenAI Chat Completions server of
gen/py_native and the fake Responses server (and scenario script) of gen/agents_sdk (versions in
gen/py4/requirements.txt and in the truth file). The fake servers' answers are the truth (py4-truth.json, one
entry per source): ``prompt_tokens`` / ``input_tokens`` include the cached tokens, the completion / output
count includes reasoning, as the semantic conventions' counts do. OpenLIT instruments both the framework and
the OpenAI SDK, so a call is reported by a framework span (provider ``crewai`` on CrewAI's) and the SDK's
``chat`` span: counted once, as ``openai``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.normalize.captured import DATA, capture_lines_are, counted, counted_once, failed_in_errors, token_sums, trees

TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "py4-truth.json").read_text())
SOURCES = ["crewai-openlit", "agents-openlit", "llamaindex-agent-openinference"]
SCENARIOS = {"crewai-openlit": ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"],
             "agents-openlit": ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"],
             "llamaindex-agent-openinference": ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]}
CASES = [(src, sc) for src in SOURCES for sc in SCENARIOS[src]]

#: what a source's spans cannot tell, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # openlit 1.45.0 instrumentation/openai/utils.py: common_chat_logic (Chat Completions) writes input, output
    # and cache counts but no reasoning count; only common_response_logic (the Responses API) sets
    # gen_ai.usage.reasoning_tokens. CrewAI's native provider uses Chat Completions.
    ("crewai-openlit", "tool_use", "reasoning"): 0,
    # openai-agents 0.24.0 models/openai_responses.py stream_response closes the stream after its terminal event
    # (_close_stream_allowing_background_completion -> aclose); openlit 1.45.0 instrumentation/openai/
    # async_openai.py TracedAsyncStream ends its span only on StopAsyncIteration in __anext__ and hands aclose
    # to the wrapped stream (__getattr__), so a streamed response's span is never ended, never exported. The
    # Agents SDK processor's spans (openai_agents/processor.py) carry no usage: both streamed calls are unseen.
    ("agents-openlit", "streaming", "calls"): 0,
    ("agents-openlit", "streaming", "input"): 0,
    ("agents-openlit", "streaming", "output"): 0,
    ("agents-openlit", "streaming", "reasoning"): 0,
    ("agents-openlit", "streaming", "models"): [],
}

#: sources whose model-call spans name no served model: openinference-instrumentation-llama-index 4.6.1
#: _handler.py sets llm.model_name from the LLM's metadata (``metadata.model_name``, the request's model) and
#: nothing from the response; the served model is only inside a workflow step's input.value (a Python repr)
NO_RESPONSE_MODEL = {"llamaindex-agent-openinference"}


def truth(source: str, scenario: str) -> dict[str, Any]:
    return TRUTH[source]["scenarios"][scenario]  # type: ignore[no-any-return]


def test_data_files_are_there() -> None:
    for source in SOURCES:
        assert TRUTH[source]["sources"] == [source]
        assert sorted(TRUTH[source]["scenarios"]) == sorted(SCENARIOS[source])
        capture_lines_are(source, SCENARIOS[source])


@pytest.mark.parametrize(("source", "scenario"), CASES)
def test_tokens_match_the_fake_servers_truth(source: str, scenario: str) -> None:
    t = truth(source, scenario)
    calls = counted(source, scenario)
    got = {"calls": len(calls), **token_sums(calls),
           "models": sorted(e.call.request_model for e in calls)}  # type: ignore[union-attr]
    want = {"calls": t["calls"] - t["failed"], "input": t["input"], "cache_read": t["cache_read"],
            "cache_write": t["cache_write"], "output": t["output"], "reasoning": t["reasoning"],
            "models": sorted(m for m, _ in t["models"])}
    for field, value in list(want.items()):
        want[field] = GAPS.get((source, scenario, field), value)
    assert got == want
    for e in calls:
        c = e.call
        assert c is not None and c.provider == "openai" and c.kind == "inference"
        assert (c.input_tokens or 0) >= (c.cache_read_tokens or 0)
        assert (c.output_tokens or 0) >= (c.reasoning_tokens or 0)
    served = [e.call.response_model for e in calls]  # type: ignore[union-attr]
    if source in NO_RESPONSE_MODEL:
        assert served == [None] * len(calls)
    elif not any(k[:2] == (source, scenario) for k in GAPS):
        assert sorted(served) == sorted(s for _, s in t["models"])  # type: ignore[type-var]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 then 500 surfaced to the app (CrewAI: its own 429 retry answered 500): two failed calls, each once,
    although OpenLIT reports each beside its framework span."""
    failed = failed_in_errors(source, SCENARIOS[source])
    assert len(failed) == truth(source, "errors")["failed"] == 2
    assert {(e.call.provider, e.call.counted, e.call.has_usage) for e in failed} == {  # type: ignore[union-attr]
        ("openai", False, False)}


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_root_totals(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output"))
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)), scenario
        # no framework span (CrewAI's provider "crewai", the Agents SDK's agent spans) is taken for a call
        assert all(e.call.provider == "openai" for e in calls), scenario  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_crewai_framework_spans_are_no_provider(source: str) -> None:
    """OpenLIT's CrewAI spans say gen_ai.provider.name=crewai (openlit instrumentation/crewai/utils.py,
    GEN_AI_SYSTEM_CREWAI); its crew span even sums the crew's usage: never a counted call."""
    for scenario in SCENARIOS[source]:
        for e in counted(source, scenario):
            assert e.scope.name != "openlit.instrumentation.crewai", (scenario, e.view.name)


def test_scenario_totals_are_what_the_generator_chose() -> None:
    by = {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["output"], v["reasoning"])
          for k, v in TRUTH["crewai-openlit"]["scenarios"].items()}
    assert by == {"healthy": (2, 0, 2550, 0, 240, 0), "cached": (3, 0, 27770, 17920, 330, 0),
                  "streaming": (2, 0, 1340, 0, 112, 0), "tool_use": (2, 0, 890, 0, 240, 192),
                  "errors": (2, 2, 0, 0, 0, 0), "duplicate": (2, 0, 1040, 0, 60, 0)}
    assert TRUTH["llamaindex-agent-openinference"]["scenarios"] == TRUTH["crewai-openlit"]["scenarios"]
    assert TRUTH["agents-openlit"]["scenarios"]["streaming"]["statuses"] == ["completed", "incomplete"]
