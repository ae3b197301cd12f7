"""Real spans from OpenInference's AutoGen AgentChat and Vertex AI instrumentations, counted against the fake
servers' ground truth (tests/normalize/gen/oi3/generate.py made the data files; versions in its requirements.txt
and in oi3-truth.json).

* ``autogen-agentchat-openinference``: autogen-agentchat 0.7.5 ``AssistantAgent`` over autogen-ext's
  ``OpenAIChatCompletionClient`` and py_native's fake OpenAI under openinference-instrumentation-autogen-agentchat
  0.1.22: ``OpenAIChatCompletionClient.create`` / ``create_stream`` (LLM) below ``support.on_messages_stream``
  (AGENT), the tool's span, and autogen-core's own ``create_agent`` / ``invoke_agent`` / ``execute_tool`` spans.
* ``vertexai-openinference``: google-cloud-aiplatform 2.7.0 ``GenerativeModel`` over contrib3's fake Vertex AI
  under openinference-instrumentation-vertexai 0.1.29: one ``generate_content`` span per call.
* ``portkey-openinference``: the portkey_ai 2.3.4 SDK (``Portkey(base_url=...)``) over py_native's fake OpenAI under
  openinference-instrumentation-portkey 0.1.22: one ``Completions`` span per call.

OpenAI's ``prompt_tokens`` includes ``cached_tokens``, Gemini's ``promptTokenCount`` its cached tokens (the semantic
conventions' input includes the cache); output includes reasoning / thoughts.
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
TRUTH: dict[str, Any] = json.loads((DATA / "oi3-truth.json").read_text())
SOURCES = ["autogen-agentchat-openinference", "vertexai-openinference", "portkey-openinference"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
CALL_SCOPES = {"autogen-agentchat-openinference": "openinference.instrumentation.autogen_agentchat",
               "vertexai-openinference": "openinference.instrumentation.vertexai",
               "portkey-openinference": "openinference.instrumentation.portkey"}
#: the provider read: AutoGen's LLM spans name none (no llm.provider / llm.system: _wrappers.py
#: _BaseOpenAIChatCompletionClientCreateWrapper writes the span kind, model, messages, tools and tokens only);
#: Vertex AI's llm.provider "google" (with llm.system "vertexai"), read as Vertex AI from its model, a Vertex
#: resource name (dialects._resource_models); Portkey's none either (_wrappers.py
#: _CompletionsWrapper: span kind, parameters, input / output and the response's attributes only)
PROVIDER: dict[str, str | None] = {"autogen-agentchat-openinference": None, "vertexai-openinference": "gcp.vertex_ai",
                                   "portkey-openinference": None}
#: Vertex AI's llm.model_name is ``req.model`` (_wrapper.py), the GAPIC request's full resource name
#: ``projects/acme-support/locations/us-central1/publishers/google/models/gemini-2.5-flash``: read as the model's
#: own name (prices and metric labels are by model; the path names the user's cloud project)
VERTEX_MODEL = "gemini-2.5-flash"

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # openinference-instrumentation-autogen-agentchat 0.1.22 _wrappers.py _extract_token_attributes: prompt,
    # completion and total from autogen's RequestUsage, which keeps prompt_tokens / completion_tokens only
    # (autogen_core/models/_types.py RequestUsage; autogen_ext _openai_client.py drops the usage details)
    ("autogen-agentchat-openinference", "cached", "cache_read"): 0,
    ("autogen-agentchat-openinference", "tool_use", "reasoning"): 0,
    # (openinference-instrumentation-vertexai 0.1.29 _wrapper.py _parse_usage_metadata yields prompt, candidates
    # and total only: its cache read is read from output.value, the response as JSON, so it is no gap)
    # openinference-instrumentation-portkey 0.1.22 _response_attributes_extractor.py: total, prompt and completion
    # tokens only (no prompt_tokens_details / completion_tokens_details)
    ("portkey-openinference", "cached", "cache_read"): 0,
    ("portkey-openinference", "tool_use", "reasoning"): 0,
    # _wrappers.py _CompletionsWrapper ends the span when create() returns: for a stream, output.value is the
    # Stream object's repr, no usage, no finish reason
    ("portkey-openinference", "streaming", "unread"): 2,
    ("portkey-openinference", "streaming", "input"): 0,
    ("portkey-openinference", "streaming", "output"): 0,
    ("portkey-openinference", "streaming", "finish_reasons"): [],
}
for _sc in SCENARIOS:
    # autogen's CreateResult.finish_reason is never written (no llm.finish_reason key in _wrappers.py)
    if TRUTH["autogen-agentchat-openinference"]["scenarios"][_sc]["finish_reasons"]:
        GAPS[("autogen-agentchat-openinference", _sc, "finish_reasons")] = []


#: the request model as the spans name it: AutoGen's llm.model_name is the client's ``_resolved_model``
#: (_wrappers.py _llm_model_name; autogen_ext models/openai/_model_info.py resolve_model: gpt-4o-mini ->
#: gpt-4o-mini-2024-07-18), not the model sent
RESOLVED = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "o4-mini": "o4-mini-2025-04-16"}


def request_models(source: str, sent: list[str]) -> list[str]:
    if source == "portkey-openinference":  # the request's, from llm.invocation_parameters
        return sent
    return [VERTEX_MODEL if source == "vertexai-openinference" else RESOLVED[m] for m in sent]


def expected(source: str, scenario: str) -> dict[str, Any]:
    t = TRUTH[source]["scenarios"][scenario]
    return with_gaps(t, GAPS, source, scenario, unread=t.get("usage_unsent", 0), cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, failed_providers_apart=True, roots_carry_totals=True, parts_within=True)
            for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    for s in SOURCES:
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert sorted(results[s]) == sorted(SCENARIOS), s
        capture_lines_are(s, SCENARIOS)


def test_the_gaps_are_real() -> None:
    """Each pinned gap hides a number the server did send: the truth differs from what the spans can carry."""
    for (s, sc, k), v in GAPS.items():
        t = TRUTH[s]["scenarios"][sc]
        assert {**t, "unread": t.get("usage_unsent", 0)}[k] != v, (s, sc, k)


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    sent = [m[0] if isinstance(m, list) else m for m in want["models"]]
    assert got["models"] == request_models(source, sent), "request model of each call"
    if source == "portkey-openinference":  # llm.model_name is the response's model
        assert got["served"] == [m[1] for m in want["models"] if scenario != "streaming"] + [None] * (
            len(sent) if scenario == "streaming" else 0)
    else:
        assert got["served"] == [None] * len(sent), "AutoGen and Vertex AI name no served model apart"
    default = "gemini-2.5-flash" if source == "vertexai-openinference" else "gpt-4o-mini"
    assert got["failed_models"] == request_models(source, [default] * want["failed"])
    assert got["providers"] <= {PROVIDER[source]}, got["providers"]
    assert got["failed_providers"] <= {PROVIDER[source]}, got["failed_providers"]
    assert got["finish_reasons"] == want["finish_reasons"], "finish reasons"


@pytest.mark.parametrize("source", SOURCES)
def test_each_call_counted_once_by_its_own_span(source: str) -> None:
    """Agents, autogen-core's invoke_agent / create_agent spans and tools never count; each call counts once, on
    the instrumentation's call span; the two failed calls are those spans too, in ``errors`` only."""
    scope = CALL_SCOPES[source]
    for scenario, tree in trees(source):
        want = expected(source, scenario)
        calls = counted_once(tree, ("input", "output", "cache_read"))
        assert len(calls) == want["calls"] - want["failed"] - want["unread"], scenario
        assert {(e.call.kind, e.scope.name) for e in calls if e.call} <= {("inference", scope)}, scenario
    failed = failed_in_errors(source, SCENARIOS)
    assert [e.scope.name for e in failed] == [scope, scope]


@pytest.mark.parametrize("source", SOURCES)
def test_streams_read_as_streams(source: str, results: dict[str, Any]) -> None:
    """AutoGen and Vertex AI tell a stream by the span name only (``create_stream``, ``stream_generate_content``),
    Portkey by its parameters' ``stream``."""
    assert results[source]["streaming"]["streamed"] == [True, True]
    assert all(s is not True for sc, r in results[source].items() if sc != "streaming" for s in r["streamed"])
