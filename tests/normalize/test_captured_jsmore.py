"""Real spans of OpenInference JS's Bedrock instrumentation and of OpenLLMetry JS's Together AI and Cohere
instrumentations, counted against the fake server's truth.

Captured by tests/normalize/gen/jsmore/generate.py (Node.js; versions pinned in its package.json /
package-lock.json) against the fake server of tests/normalize/gen/jsmore/fake_server.py (Bedrock Runtime,
OpenAI-shaped chat, Cohere v1 chat); the served requests are the truth (jsmore-truth.json, one convention: input
includes the cache, output the reasoning). Every instrumentation is registered by ``manuallyInstrument(module)``.

* ``openinference-js-bedrock``: @arizeai/openinference-instrumentation-bedrock 0.5.1 over
  @aws-sdk/client-bedrock-runtime 3.1164.0: one INTERNAL span per ``client.send`` (``bedrock.converse`` for
  Converse / ConverseStream, ``bedrock.invoke_model`` for InvokeModel / InvokeModelWithResponseStream), OpenInference
  ``llm.*`` attributes; InvokeModel's Anthropic usage as the body has it (``llm.token_count.prompt`` =
  ``input_tokens``, the cache apart in ``prompt_details.cache_read`` / ``cache_write``).
* ``openllmetry-js-together``: @traceloop/instrumentation-together 0.27.0 over together-ai 0.52.0: a CLIENT span
  ``together.chat`` per ``chat.completions.create`` (gen_ai.system TogetherAI, legacy ``gen_ai.prompt.*`` /
  ``gen_ai.completion.*``, gen_ai.usage.prompt_tokens / completion_tokens).
* ``openllmetry-js-cohere``: @traceloop/instrumentation-cohere 0.27.0 over cohere-ai 8.1.0 ``CohereClient`` (v1
  Chat API): a CLIENT span ``cohere.chat`` per ``chat`` / ``chatStream``.
The tests read only the committed .jsonl files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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

DATA = Path(__file__).parent / "data"
BEDROCK = "openinference-js-bedrock"
TOGETHER = "openllmetry-js-together"
COHERE = "openllmetry-js-cohere"
SOURCES = [BEDROCK, TOGETHER, COHERE]
TRUTH: dict[str, dict[str, dict[str, Any]]] = json.loads((DATA / "jsmore-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPES = {BEDROCK: {"fixgen.app", "@arizeai/openinference-instrumentation-bedrock"},
          TOGETHER: {"fixgen.app", "@traceloop/instrumentation-together-ai"},
          COHERE: {"fixgen.app", "@traceloop/instrumentation-cohere"}}
PROVIDERS = {BEDROCK: "aws.bedrock", TOGETHER: "together", COHERE: "cohere"}
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"

#: what the spans cannot carry: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], int] = {
    # @arizeai/openinference-instrumentation-bedrock 0.5.1 dist/src/attributes/converse-response-attributes.js
    # (extractUsageAttributes): a Converse answer's usage is written as inputTokens / outputTokens / totalTokens
    # only; Converse's inputTokens leaves cacheReadInputTokens out and neither cache count is written, so the third
    # cached call (Converse, 1152 read of 1320) reads 168 in and no cache (its llm.token_count.total, 1346, is
    # Converse's totalTokens with the cache inside). The two InvokeModel calls are read whole.
    (BEDROCK, "cached", "input"): 1300 + 1310 + 168, (BEDROCK, "cached", "cache_read"): 1152,
    # @traceloop/instrumentation-together 0.27.0 dist/index.js _endSpan: usage is total_tokens,
    # completion_tokens and prompt_tokens only; prompt_tokens_details.cached_tokens is not written
    (TOGETHER, "cached", "cache_read"): 0,
    # ... and _wrapPromise ends the span in ``promise._thenUnwrap(...)`` only, with no rejection handler: a call
    # that fails (the 429, the 500) leaves a span never ended, never exported: no call to see
    (TOGETHER, "errors", "calls"): 0, (TOGETHER, "errors", "failed"): 0,
    # @traceloop/instrumentation-cohere 0.27.0 dist/index.js _setResponseSpanForChat reads usage from
    # ``result.token_count`` only (prompt_tokens / response_tokens / total_tokens), a field the v1 Chat response
    # no longer has (cohere-ai 8.1.0 serialization/types/NonStreamedChatResponse.js: ``meta`` ApiMeta with
    # billed_units, tokens, cached_tokens): no Cohere chat span carries usage
    **{(COHERE, sc, "unread"): n for sc, n in (("healthy", 2), ("cached", 3), ("streaming", 2), ("tool_use", 2),
                                                ("duplicate", 2))},
    **{(COHERE, sc, k): 0 for sc in ("healthy", "cached", "streaming", "tool_use", "duplicate")
       for k in ("input", "output", "cache_read")},
}


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in SOURCES}


def ordered(source: str, scenario: str) -> list[Any]:
    return [e.call for e in counted(source, scenario)]


def calls(source: str, scenario: str) -> list[Any]:
    """Every model call of a scenario, counted or not, in start order."""
    return [e.call for sc, t in trees(source) if sc == scenario
            for e in sorted(t.spans, key=lambda e: int(e.view.start_time_unix_nano))
            if e.call is not None and e.call.kind == "inference"]


@pytest.mark.parametrize("source", SOURCES)
def test_every_scenario_was_captured(source: str) -> None:
    capture_lines_are(source, SCENARIOS)
    assert sorted(TRUTH[source]) == sorted(SCENARIOS)
    assert {e.scope.name for _, t in trees(source) for e in t.spans} == SCOPES[source]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got = results[source][scenario]
    assert_totals(got, with_gaps(TRUTH[source][scenario], GAPS, source, scenario, unread=0))
    served = [r["model"] for r in TRUTH[source][scenario]["requests"] if r["status"] == 200]
    if source == BEDROCK:
        # attribute-helpers.js extractModelName: the modelId's second dot-separated part, up to "-v" for
        # Anthropic; a cross-region id (``us.anthropic.claude-...``) gives its vendor, "anthropic"
        served = ["anthropic" if m == SONNET else m.split(".", 1)[1].rsplit("-v", 1)[0] for m in served]
    assert got["models"] == served
    want_providers = set() if (source, scenario) == (TOGETHER, "errors") else {PROVIDERS[source]}
    assert got["providers"] | got["failed_providers"] == want_providers


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    for scenario, tree in trees(source):
        if (source, scenario) == (TOGETHER, "errors"):  # the root alone (GAPS): no GenAI trace, no trace totals
            assert [e.view.name for e in tree.spans] == ["workflow"]
            continue
        counted_once(tree, ("input", "output"))
    assert len(failed_in_errors(source, SCENARIOS)) == (0 if source == TOGETHER else 2)


@pytest.mark.parametrize("source", SOURCES)
def test_streaming_is_not_marked(results: dict[str, Any], source: str) -> None:
    """No library says a call streamed: OpenInference's InvokeModelWithResponseStream span is a
    ``bedrock.invoke_model`` like InvokeModel's (instrumentation.js handleInvokeModelWithResponseStreamCommand;
    ConverseStream's ``"streaming": true`` sits inside output.value JSON only); OpenLLMetry JS's Together and
    Cohere spans have the keys of a plain call (dist/index.js _startSpan / _endSpan)."""
    assert results[source]["streaming"]["streamed"] == [None, None]
    assert [r["stream"] for r in TRUTH[source]["streaming"]["requests"]] == [True, True]


def test_bedrock_anthropic_cache_within_the_input() -> None:
    """InvokeModel's Anthropic usage: llm.token_count.prompt is ``input_tokens`` (the cache apart, as the body
    has it: invoke-model-helpers.js normalizeUsageAttributes), prompt_details.cache_read / cache_write beside it:
    read as the input with its cache inside."""
    got = [(c.input_tokens, c.cache_read_tokens, c.cache_write_tokens, c.output_tokens) for c in ordered(BEDROCK, "cached")]
    assert got == [(1300, 0, 1152, 30), (1310, 1152, 0, 28), (168, None, None, 26)]
    # the cross-region Sonnet id's model reads "anthropic": no price for it
    assert {c.request_model for c in ordered(BEDROCK, "cached")} == {"anthropic"}
    assert {c.cost_source for c in ordered(BEDROCK, "cached")} == {"unpriced"}
    assert {c.cost_source for c in ordered(BEDROCK, "healthy")} == {"computed"}


def test_bedrock_request_and_answer() -> None:
    healthy = ordered(BEDROCK, "healthy")
    # Converse: the system blocks are llm.input_messages.0 (role system); InvokeModel's Anthropic ``system`` is in
    # input.value only (invoke-model-helpers.js normalizeRequestContentBlocks keeps ``messages``)
    assert (healthy[0].system_content or "").startswith("You are a support assistant for ACME.")
    assert healthy[1].system_content is None
    assert "And order A-1002?" in (healthy[1].input_content or "")
    # InvokeModel's llm.invocation_parameters hold max_tokens / temperature; Converse's inferenceConfig likewise
    assert [c.max_tokens for c in ordered(BEDROCK, "streaming")] == [None, 16]
    dup = ordered(BEDROCK, "duplicate")
    assert [(c.temperature, c.max_tokens) for c in dup] == [(0, 100), (0, 100)]
    assert [c.finish_reasons for c in ordered(BEDROCK, "streaming")] == [("end_turn",), ("max_tokens",)]
    tool = ordered(BEDROCK, "tool_use")
    assert [c.finish_reasons for c in tool] == [("tool_use",), ("end_turn",)]
    assert [n for n, _ in tool[0].requested_tools] == ["get_order_status"]


def test_together_request_and_answer() -> None:
    healthy = ordered(TOGETHER, "healthy")
    assert all(c.operation == "chat" and c.response_model == c.request_model for c in healthy)
    assert (healthy[0].system_content or "").startswith("You are a support assistant for ACME.")
    assert "Where is order A-1001?" in (healthy[0].input_content or "")
    assert [c.max_tokens for c in healthy] == [200, 200]
    assert [c.finish_reasons for c in ordered(TOGETHER, "streaming")] == [("stop",), ("length",)]
    tool = ordered(TOGETHER, "tool_use")
    assert [c.finish_reasons for c in tool] == [("tool_calls",), ("stop",)]
    assert [n for n, _ in tool[0].requested_tools] == ["get_order_status"]
    # _startSpan writes gen_ai.request.temperature under ``if (params.temperature)``: a temperature of 0 is lost
    assert [(c.temperature, c.max_tokens) for c in ordered(TOGETHER, "duplicate")] == [(None, 100), (None, 100)]
    assert {c.cost_source for sc in SCENARIOS for c in ordered(TOGETHER, sc)} == {"computed"}


def test_cohere_request_and_answer() -> None:
    """No usage (GAPS); the request and answer are read: the user's text in ``gen_ai.prompt.{n}.user``
    (instrumentation-cohere 0.27.0 _startSpan), the chat history's in ``.content`` with Cohere's roles."""
    healthy = calls(COHERE, "healthy")
    assert all(c.operation == "chat" and not c.counted and not c.has_usage for c in healthy)
    assert (healthy[0].input_content or "").endswith('["user","Where is order A-1001?"]]')
    assert '["CHATBOT","Order A-1001 is in transit."]' in (healthy[1].input_content or "")
    assert "And order A-1002?" in (healthy[1].input_content or "")
    # the preamble (the system prompt) and the tools are not written (_startSpan reads message / chatHistory)
    assert all(c.system_content is None for c in healthy)
    assert calls(COHERE, "tool_use")[0].requested_tools == ()
    assert [c.max_tokens for c in healthy] == [200, 200]
    assert [c.finish_reasons for c in calls(COHERE, "streaming")] == [("COMPLETE",), ("MAX_TOKENS",)]
    assert [(c.temperature, c.max_tokens) for c in calls(COHERE, "duplicate")] == [(0, 100), (0, 100)]
    assert [c.error for c in calls(COHERE, "errors")] == [True, True]
