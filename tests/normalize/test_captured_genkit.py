"""Real Firebase Genkit spans (genkit 1.42.0 over @genkit-ai/compat-oai 1.42.0), counted against the fake server's truth.

Captured by tests/normalize/gen/genkit/generate.py (Node.js; versions pinned in its package.json /
package-lock.json) against the fake OpenAI server of tests/normalize/gen/vercel_ai/fake_server.py; the served
requests are the truth (genkit-truth.json, one convention: input includes the cache, output the reasoning).

``genkit-openai``: one span per Genkit action (scope ``genkit-tracer``, attributes ``genkit:*``): a ``generate``
util span per ai.generate() (a nested one per tool round), a model action span (``genkit:metadata:subtype`` model,
named ``openai/{model}``) per model request, a tool action span per tool run, a flow span per flow; the request
and response as JSON in ``genkit:input`` / ``genkit:output``. The tests read only the committed .jsonl files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from tests.normalize.captured import (
    assert_totals,
    capture_lines_are,
    counted,
    counted_once,
    failed_in_errors,
    scenario_totals,
    trees,
    with_gaps,
)
from tests.normalize.spans import tree_of

DATA = Path(__file__).parent / "data"
SOURCE = "genkit-openai"
TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "genkit-truth.json").read_text())[SOURCE]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]

#: what the spans cannot carry: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], int] = {
    # @genkit-ai/compat-oai 1.42.0 lib/model.js openAIModelRunner: ``usage: {inputTokens: usage.prompt_tokens,
    # outputTokens: usage.completion_tokens, totalTokens}`` and nothing else; cachedContentTokens / thoughtsTokens
    # (Genkit's GenerationUsage) stay unset, OpenAI's prompt_tokens_details / completion_tokens_details only in the
    # response's ``raw`` copy. Both are still inside those totals (OpenAI's meaning), so only the split is lost
    (SOURCE, "cached", "cache_read"): 0,
    (SOURCE, "cached", "reasoning"): 0,
}


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return scenario_totals(SOURCE, parts_within=True)


def test_every_scenario_was_captured() -> None:
    capture_lines_are(SOURCE, SCENARIOS)
    assert sorted(TRUTH) == sorted(SCENARIOS)
    assert {e.scope.name for _, t in trees(SOURCE) for e in t.spans} == {"fixgen.app", "genkit-tracer"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], scenario: str) -> None:
    got = results[scenario]
    assert_totals(got, with_gaps(TRUTH[scenario], GAPS, SOURCE, scenario, unread=0))
    served = [r["model"] for r in TRUTH[scenario]["requests"] if r["status"] == 200]
    assert got["models"] == served, "request model of each successful call: the action's name without the plugin"
    assert got["providers"] == {"openai"}


def test_cache_and_reasoning_stay_inside_the_totals() -> None:
    got = [(e.call.input_tokens, e.call.cache_read_tokens, e.call.output_tokens, e.call.reasoning_tokens)
           for e in counted(SOURCE, "cached") if e.call is not None]
    want = [(r["input"], None, r["output"], None) for r in TRUTH["cached"]["requests"]]
    assert got == want
    assert TRUTH["cached"]["cache_read"] == 2432 and TRUTH["cached"]["reasoning"] == 64


def test_nothing_counted_twice() -> None:
    """Only model action spans count; the generate util span repeating their usage is a workflow span."""
    for scenario, tree in trees(SOURCE):
        for e in counted_once(tree, ("input", "output")):
            assert e.attrs.get("genkit:metadata:subtype") == "model", (scenario, e.view.name)
        kinds = {e.view.name: e.call.kind for e in tree.spans if e.call is not None}
        assert kinds.get("generate") == "workflow", scenario
    tool = [e for _, t in trees(SOURCE) for e in t.spans if e.call is not None and e.call.kind == "tool"]
    assert [e.call.tool_name for e in tool] == ["get_order_status"]
    assert len(failed_in_errors(SOURCE, SCENARIOS)) == 2


def test_finish_reasons_and_request_shape() -> None:
    def ordered(scenario: str) -> list[Any]:
        return [e.call for e in sorted(counted(SOURCE, scenario), key=lambda e: int(e.view.start_time_unix_nano))]
    stream = ordered("streaming")
    assert [r for c in stream for r in c.finish_reasons] == ["stop", "length"]
    assert [c.max_tokens for c in stream] == [None, 16]
    # compat-oai maps OpenAI's tool_calls to Genkit's "stop" (lib/model.js finishReasonMap)
    assert ordered("tool_use")[0].finish_reasons == ("stop",)
    dup = ordered("duplicate")
    assert len(dup) == 2 and dup[0].temperature == 0 and dup[0].max_tokens == dup[1].max_tokens == 100


def test_prompts_are_read_from_genkit_input() -> None:
    """Genkit writes the GenerateRequest on every model span (genkit:input), system message included."""
    def calls(scenario: str) -> list[Any]:
        return [e.call for e in sorted(counted(SOURCE, scenario), key=lambda e: int(e.view.start_time_unix_nano))]
    dup = calls("duplicate")
    assert dup[0].system_content == dup[1].system_content and dup[0].input_content == dup[1].input_content
    assert (dup[0].system_content or "").startswith("You are a support assistant for ACME.")
    healthy = [c.input_content or "" for c in calls("healthy")]
    assert "Where is order A-1001?" in healthy[0] and "And order A-1002?" in healthy[1]
    flows = [e for _, t in trees(SOURCE) for e in t.spans if e.view.name == "supportFlow"]
    assert len(flows) == 2 and all(e.call is not None and e.call.kind == "workflow" for e in flows)


def test_gemini_plugin_usage_reads_thoughts_into_the_output() -> None:
    """Not captured (no Gemini fake here): a model span as Genkit's Google AI plugin fills its GenerationUsage,
    ``outputTokens`` = candidatesTokenCount and ``thoughtsTokens`` = thoughtsTokenCount apart, ``cachedContentTokens``
    inside inputTokens (genkit js/plugins/google-genai googleai/gemini.ts); the generate util span above it repeats
    the usage and is not counted."""
    usage = {"inputTokens": 1300, "outputTokens": 40, "thoughtsTokens": 60, "cachedContentTokens": 1024}
    out = json.dumps({"finishReason": "length", "message": {"role": "model", "content": []}, "usage": usage})
    t = tree_of((1, 0, "generate", {"genkit:type": "util", "genkit:name": "generate", "genkit:output": out}),
                (2, 1, "googleai/gemini-2.5-flash", {
                    "genkit:type": "action", "genkit:metadata:subtype": "model", "genkit:name": "googleai/gemini-2.5-flash",
                    "genkit:input": json.dumps({"messages": [{"role": "user", "content": [{"text": "Hi"}]}],
                                                "config": {"maxOutputTokens": 100, "temperature": 0.2}}),
                    "genkit:output": out}), scope="genkit-tracer")
    NormalizeProcessor(NormalizeConfig()).process(t)
    by = {e.view.name: e.call for e in t.spans}
    c = by["googleai/gemini-2.5-flash"]
    assert (c.kind, c.provider, c.request_model, c.finish_reasons) == ("inference", "gcp.gemini", "gemini-2.5-flash",
                                                                       ("length",))
    assert (c.input_tokens, c.cache_read_tokens, c.output_tokens, c.reasoning_tokens) == (1300, 1024, 100, 60)
    assert (c.max_tokens, c.temperature) == (100, 0.2)
    assert by["generate"].kind == "workflow" and not by["generate"].has_usage


def test_tool_requests_and_answers_are_part_of_the_prompt() -> None:
    """The agent step after a tool call carries the model's tool request and the tool's answer (Genkit's
    toolRequest / toolResponse parts): they are read into the prompt, so two steps that differ only by what a
    tool answered are two requests, not an exact duplicate."""
    step = max(counted(SOURCE, "tool_use"), key=lambda e: int(e.view.start_time_unix_nano)).call
    assert step is not None and step.input_content is not None
    texts = dict(json.loads(step.input_content))  # (role, text) pairs
    assert json.loads(texts["model"])["toolRequest"]["input"] == {"order_id": "A-1001"}
    assert json.loads(texts["tool"])["toolResponse"]["output"]["status"] == "in transit"
