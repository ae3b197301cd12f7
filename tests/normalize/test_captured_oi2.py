"""Real spans from OpenInference instrumentations of agent frameworks, counted against the fake servers' ground
truth (tests/normalize/gen/oi2/generate.py made the data files; versions in its requirements.txt and in
oi2-truth.json).

* ``pydantic-ai-openinference``: pydantic-ai's own spans (``Agent.instrument_all``) as openinference-
  instrumentation-pydantic-ai's ``OpenInferenceSpanProcessor`` leaves them (OpenInference keys added to the
  semconv ones), pydantic-ai over ``OpenAIChatModel`` and the fake OpenAI Chat Completions API.
* ``google-adk-openinference``: google-adk 2.13 over the fake Gemini API under openinference-instrumentation-
  google-adk 1.0.5; ADK's default schema v2 has no per-call span: ADK and OpenInference both record the call
  onto ``invoke_agent {name}`` (scope gcp.vertex.agent), OpenInference's own spans are the agent run, the
  invocation and the tools.
* ``google-adk-openinference-legacy``: the same with ADK's legacy schema: a ``call_llm`` span per call.
* ``agno-openinference``: agno ``Agent`` over ``OpenAIChat`` under openinference-instrumentation-agno 1.0.15:
  ``Agent.run`` (AGENT) > ``OpenAIChat.invoke`` / ``invoke_stream`` (LLM) and the tool's span.

OpenAI's ``prompt_tokens`` includes ``cached_tokens``, Gemini's ``promptTokenCount`` its cached tokens (the
semantic conventions' input includes the cache); output includes reasoning / thoughts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.normalize.captured import (
    assert_totals,
    capture_lines_are,
    counted_once,
    failed_in_errors,
    scenario_totals,
    trees,
    with_gaps,
)

DATA = Path(__file__).parent / "data"
TRUTH: dict[str, Any] = json.loads((DATA / "oi2-truth.json").read_text())
SOURCES = ["pydantic-ai-openinference", "google-adk-openinference", "google-adk-openinference-legacy",
           "agno-openinference"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
#: the scope of each source's model-call spans (the only spans that count)
CALL_SCOPES = {"pydantic-ai-openinference": "pydantic-ai", "google-adk-openinference": "gcp.vertex.agent",
               "google-adk-openinference-legacy": "gcp.vertex.agent",
               "agno-openinference": "openinference.instrumentation.agno"}
#: the provider read: the semconv value (ADK's v2 gen_ai.provider.name "gcp.gemini"; on the legacy call_llm span
#: ADK names itself, gen_ai.system "gcp.vertex.agent", and OpenInference's llm.provider "google" is read)
PROVIDER = {"pydantic-ai-openinference": "openai", "google-adk-openinference": "gcp.gemini",
            "google-adk-openinference-legacy": "gcp.gen_ai", "agno-openinference": "openai"}
#: the finish reasons as read, from the server's: Gemini's enum names lower-cased (ADK writes the semconv
#: values), pydantic-ai's ``tool_call`` for OpenAI's ``tool_calls`` (pydantic_ai/models/openai.py
#: _CHAT_FINISH_REASON_MAP)
FINISH = {"pydantic-ai-openinference": {"tool_calls": "tool_call"},
          "google-adk-openinference": {"STOP": "stop", "MAX_TOKENS": "max_tokens"},
          "google-adk-openinference-legacy": {"STOP": "stop", "MAX_TOKENS": "max_tokens"}, "agno-openinference": {}}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # google-adk 2.13 schema v2: no call_llm span (telemetry/tracing.py _start_call_llm_span returns None; flows/
    # llm_flows/core/_model_call.py call_llm_async: "record onto the caller's span"), and OpenInference's
    # generate_content suppression (openinference-instrumentation-google-adk 1.0.5 __init__.py
    # _disable_existing_tracers, _SelectiveExecuteToolTracer) leaves that caller the ``invoke_agent`` span: the
    # tool turn's two calls are written onto one span, the second's attributes over the first's (usage, finish
    # reason, messages): only the answer's call is left
    ("google-adk-openinference", "tool_use", "calls"): 1,
    ("google-adk-openinference", "tool_use", "input"): 460,
    ("google-adk-openinference", "tool_use", "output"): 65,
    ("google-adk-openinference", "tool_use", "reasoning"): 40,
    ("google-adk-openinference", "tool_use", "finish_reasons"): ["STOP"],
    ("google-adk-openinference", "tool_use", "models"): [["gemini-2.5-flash", "gemini-2.5-flash"]],
    # openinference-instrumentation-agno 1.0.15 _model_wrapper.py (invoke / invoke_stream) writes prompt,
    # completion, cache read / write and cost from ``response_usage``; agno's Metrics.reasoning_tokens is never
    # written, nor any finish reason
    ("agno-openinference", "tool_use", "reasoning"): 0,
}
for _sc in SCENARIOS:
    if TRUTH["agno-openinference"]["scenarios"][_sc]["finish_reasons"]:
        GAPS[("agno-openinference", _sc, "finish_reasons")] = []
#: sources whose spans name the request model only: Agno's llm.model_name is ``model.id`` (_model_wrapper.py);
#: ADK's spans carry no gen_ai.response.model and OpenInference's llm.model_name is the request's
NO_SERVED_MODEL = {"agno-openinference", "google-adk-openinference", "google-adk-openinference-legacy"}
#: streamed as read: pydantic-ai's stream spans say so; ADK's v2 span only for the cut stream (its output messages,
#: dialects._adk_streamed), the legacy call_llm span never (the aggregated response, the request has no streaming
#: mode); Agno's by its span name ``{model}.invoke_stream``
STREAMED = {"pydantic-ai-openinference": [True, True], "google-adk-openinference": [None, True],
            "google-adk-openinference-legacy": [None, None], "agno-openinference": [True, True]}


def expected(source: str, scenario: str) -> dict[str, Any]:
    t = TRUTH[source]["scenarios"][scenario]
    return with_gaps(t, GAPS, source, scenario, unread=t["usage_unsent"])


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, usage_on_error=True, failed_providers_apart=True, roots_carry_totals=True,
                               parts_within=True) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    for s in SOURCES:
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert sorted(results[s]) == sorted(SCENARIOS), s
        capture_lines_are(s, SCENARIOS)


def test_the_gaps_are_real() -> None:
    """Each pinned gap hides a number the server did send: the truth differs from what the spans can carry."""
    for (s, sc, k), v in GAPS.items():
        t = TRUTH[s]["scenarios"][sc]
        assert {**t, "unread": t["usage_unsent"]}[k] != v, (s, sc, k)


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    assert want["cache_write"] == 0, "cache write tokens (neither API reports one)"
    assert got["models"] == [m for m, _ in want["models"]], "request model of each call"
    if source in NO_SERVED_MODEL:
        assert got["served"] == [None] * len(want["models"])
    else:
        assert got["served"] == [s for _, s in want["models"]], "served model of each call"
    model = want["models"][0][0] if want["models"] else ("gemini-2.5-flash" if "adk" in source else "gpt-4o-mini")
    assert got["failed_models"] == [model] * want["failed"], "request model of each failed call"
    assert got["providers"] <= {PROVIDER[source]}, got["providers"]
    assert got["failed_providers"] <= {PROVIDER[source].replace("gcp.gen_ai", "gcp.gemini")}
    norm = FINISH[source]
    assert got["finish_reasons"] == [norm.get(f, f) for f in want["finish_reasons"]], "finish reasons"


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """Agents, runs, invocations and tools never count, even where they carry usage; each call counts once."""
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        want = expected(source, scenario)
        assert len(calls) == want["calls"] - want["failed"] - want["unread"], scenario
        for e in calls:
            assert e.call is not None and e.call.kind == "inference", (scenario, e.view.name)
            assert e.scope.name == CALL_SCOPES[source], (scenario, e.scope.name)


@pytest.mark.parametrize("source", SOURCES)
def test_failed_calls_only_in_errors(source: str) -> None:
    failed = failed_in_errors(source, SCENARIOS)
    assert len(failed) == 2
    assert all(e.scope.name == CALL_SCOPES[source] for e in failed)


@pytest.mark.parametrize("source", SOURCES)
def test_streams_read_as_streams(source: str, results: dict[str, Any]) -> None:
    assert results[source]["streaming"]["streamed"] == STREAMED[source]
    assert all(s is not True for sc, r in results[source].items() if sc != "streaming" for s in r["streamed"])


def test_adk_v2_call_is_the_invoke_agent_span() -> None:
    """Under ADK's schema v2 the model call's attributes (ADK's semconv ones and OpenInference's llm.*) are on
    ``invoke_agent {name}``; OpenInference's ``agent_run [name]`` above it is an agent, never counted."""
    for scenario, tree in trees("google-adk-openinference"):
        for e in tree.spans:
            if e.view.name.startswith("invoke_agent ") and scenario != "errors":
                assert e.call is not None and e.call.kind == "inference" and e.call.counted, (scenario, e.view.name)
            if e.view.name.startswith("agent_run ["):
                assert e.call is not None and not e.call.counted and e.call.kind == "agent", (scenario, e.view.name)
