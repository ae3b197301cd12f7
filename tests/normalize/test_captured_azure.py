"""Real spans of the OpenAI SDK's ``AzureOpenAI`` client (tests/normalize/data/azure-*.jsonl) read right, call for call.

Captured by tests/normalize/gen/azure/generate.py (versions in its requirements.txt and in azure-truth.json) under OTel
contrib's openai-v2, OpenInference's and OpenLLMetry's OpenAI instrumentations and OpenLIT, each alone, against a
fake Azure OpenAI resource (``https://acme-support.openai.azure.com``, routed to 127.0.0.1): the deployment
``support-gpt4o`` serves ``gpt-4o-mini-2024-07-18``, so the request model is a deployment name no price list knows
and the price comes from the response model. The fake server's answers are the truth: ``prompt_tokens`` includes
``cached_tokens``, ``completion_tokens`` includes ``reasoning_tokens``, as the semantic conventions' counts do.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

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

TRUTH: dict[str, Any] = json.loads((DATA / "azure-truth.json").read_text())
SOURCES = ["azure-openai-v2", "azure-openinference", "azure-openllmetry", "azure-openlit", "azure-ai-inference"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
DEPLOYMENT, SERVED = "support-gpt4o", "gpt-4o-mini-2024-07-18"

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # opentelemetry-instrumentation-openai-v2 2.4b0 patch.py _set_response_properties sets the chat invocation's
    # input_tokens / output_tokens from usage.prompt_tokens / completion_tokens only: no cache read
    # (prompt_tokens_details.cached_tokens is read for the Responses API only, response_extractors.py) and no
    # reasoning count (the package never reads completion_tokens_details)
    ("azure-openai-v2", "cached", "cache_read"): 0,
    ("azure-openai-v2", "tool_use", "reasoning"): 0,
    # openlit 1.45.0 instrumentation/openai/utils.py common_chat_logic (Chat Completions) writes input, output and
    # cache counts but no reasoning count (only common_response_logic, the Responses API, does)
    ("azure-openlit", "tool_use", "reasoning"): 0,
    # azure-ai-inference 1.0.0b9 tracing.py _add_response_chat_attributes writes gen_ai.usage.input_tokens /
    # output_tokens from usage.prompt_tokens / completion_tokens only: no cache read, no reasoning count
    ("azure-ai-inference", "cached", "cache_read"): 0,
    ("azure-ai-inference", "tool_use", "reasoning"): 0,
}

#: the provider each source's spans name, as read. Azure OpenAI is ``azure.ai.openai`` (semconv
#: gen_ai.provider.name); OpenLLMetry 0.62.4 writes it itself (shared/__init__.py _get_vendor_from_url:
#: "openai.azure.com" in the base URL), OpenInference 0.1.66 writes llm.provider "azure" (from the client's base
#: URL), OpenLIT 1.45.0 writes "openai" with server.address acme-support.openai.azure.com (read by
#: providers.provider_at_host). openai-v2 2.4b0 writes "openai" for every client (utils.py create_chat_invocation:
#: GenAiProviderNameValues.OPENAI) and, under openai >= 3, no server.address either: utils.py
#: get_server_address_and_port tests ``isinstance(base_url, httpx.URL)`` and openai 3's base_url is an httpx2.URL,
#: so its spans cannot tell an Azure call from an OpenAI one
#: azure-ai-inference writes gen_ai.system "az.ai.inference" (tracing.py _INFERENCE_GEN_AI_SYSTEM_NAME) for any
#: endpoint, an Azure OpenAI deployment's included (server.address acme-support.openai.azure.com): the API it
#: spoke, Azure AI Inference's, and the semconv value azure.ai.inference; priced as gpt-4o-mini under any provider
PROVIDER = {"azure-openai-v2": "openai", "azure-openinference": "azure.ai.openai",
            "azure-openllmetry": "azure.ai.openai", "azure-openlit": "azure.ai.openai",
            "azure-ai-inference": "azure.ai.inference"}
#: finish reasons a library renames: opentelemetry-instrumentation-openai 0.62.4 shared/__init__.py
#: OPENAI_FINISH_REASON_MAP writes the semantic conventions' ``tool_call`` for OpenAI's ``tool_calls``
FINISH = {"azure-openllmetry": {"tool_calls": "tool_call"}}
#: streamed as read: openai-v2 2.4b0's chat span has no stream attribute (patch.py starts the same invocation
#: either way; is_streaming(kwargs) only picks ChatStreamWrapper for the answer), but its stream is the span with
#: finish reasons in the output messages only (ChatStreamWrapper keeps ``finish_reasons: list = []``, never
#: appended to: dialects._Plan.output_finish / util_stream)
#: azure-ai-inference 1.0.0b9's chat span neither (tracing.py _add_request_chat_attributes writes no stream flag)
STREAMED = {"azure-openai-v2": [True, True], "azure-ai-inference": [None, None]}


def expected(source: str, scenario: str) -> dict[str, Any]:
    t = TRUTH[source]["scenarios"][scenario]
    return with_gaps(t, GAPS, source, scenario, unread=t["usage_unsent"])


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, failed_providers_apart=True, roots_carry_totals=True, parts_within=True)
            for s in SOURCES}


def test_every_source_was_captured_for_every_scenario() -> None:
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert TRUTH[s]["scenarios"] == TRUTH[SOURCES[0]]["scenarios"], "every source saw the same answers"
        capture_lines_are(s, SCENARIOS)


def test_the_gaps_are_real() -> None:
    """Each pinned gap hides a number the server did send: the truth differs from what the spans can carry."""
    for (s, sc, k), v in GAPS.items():
        assert TRUTH[s]["scenarios"][sc][k] != v, (s, sc, k)


def test_scenario_totals_are_what_the_generator_chose() -> None:
    by = {k: (v["calls"], v["failed"], v["input"], v["cache_read"], v["output"], v["reasoning"], v["usage_unsent"])
          for k, v in TRUTH[SOURCES[0]]["scenarios"].items()}
    assert by == {"healthy": (2, 0, 2550, 0, 240, 0, 0), "cached": (3, 0, 27770, 17920, 330, 0, 0),
                  "streaming": (2, 0, 1340, 0, 112, 0, 0), "tool_use": (2, 0, 890, 0, 240, 192, 0),
                  "errors": (2, 2, 0, 0, 0, 0, 0), "duplicate": (2, 0, 1040, 0, 60, 0, 0)}


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    assert got["models"] == [DEPLOYMENT] * len(want["models"]) == [m for m, _ in want["models"]], "deployment"
    assert got["served"] == [s for _, s in want["models"]], "served model of each call"
    assert got["failed_models"] == [DEPLOYMENT] * want["failed"], "request model of each failed call"
    assert got["providers"] <= {PROVIDER[source]} and got["failed_providers"] <= {PROVIDER[source]}
    norm = FINISH.get(source, {})
    assert got["finish_reasons"] == [norm.get(f, f) for f in want["finish_reasons"]], "finish reasons"


@pytest.mark.parametrize("source", SOURCES)
def test_priced_from_the_served_model_not_the_deployment(source: str) -> None:
    """A deployment name is no price-list model: every counted call is priced (cost > 0) from the response model;
    OpenLIT's own ``gen_ai.usage.cost`` (0: its price list knows no ``support-gpt4o``) is not taken for a price."""
    for scenario in SCENARIOS:
        for e in counted(source, scenario):
            c = e.call
            assert c is not None and c.request_model == DEPLOYMENT and c.response_model == SERVED
            assert c.cost_source == "computed" and c.cost_usd is not None and c.cost_usd > 0, (scenario, e.view.name)


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output", "cache_read"))
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)), scenario
        want = expected(source, scenario)
        assert len(calls) == want["calls"] - want["failed"] - want["unread"], scenario


@pytest.mark.parametrize("source", SOURCES)
def test_failed_calls_only_in_errors(source: str) -> None:
    """A 429 then a 500 with Azure's error JSON, surfaced (max_retries=0): two failed calls, none counted."""
    failed = failed_in_errors(source, SCENARIOS)
    assert len(failed) == 2
    assert {(e.call.provider, e.call.request_model) for e in failed} == {  # type: ignore[union-attr]
        (PROVIDER[source], DEPLOYMENT)}


@pytest.mark.parametrize("source", SOURCES)
def test_streams_read_as_streams(results: dict[str, Any], source: str) -> None:
    assert results[source]["streaming"]["streamed"] == STREAMED.get(source, [True, True])
    assert all(s is not True for sc, r in results[source].items() if sc != "streaming" for s in r["streamed"])


def test_ai_inference_stream_finish_reasons_come_from_its_choice_events() -> None:
    """azure-ai-inference's streamed chat span has no gen_ai.response.finish_reasons (taken from the last chunk,
    the usage chunk, which has no choices); the accumulated finish reason is in its gen_ai.choice event's
    gen_ai.event.content JSON: read from there, so the stream cut at max_tokens reads as cut."""
    calls = counted("azure-ai-inference", "streaming")
    assert [e.call.finish_reasons for e in calls] == [("stop",), ("length",)]  # type: ignore[union-attr]
    assert not any(e.get("gen_ai.response.finish_reasons") for e in calls)
