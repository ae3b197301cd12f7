"""Real spans of Genkit's Gemini API plugin and of OpenLLMetry JS's Bedrock instrumentation, counted against the
fake server's truth.

Captured by tests/normalize/gen/jsgem/generate.py (Node.js; versions pinned in its package.json /
package-lock.json) against the fake Gemini / Bedrock Runtime server of tests/normalize/gen/jsgem/fake_server.py;
the served requests are the truth (jsgem-truth.json, one convention: input includes the cache, output the
reasoning).

* ``genkit-googleai``: genkit 1.42.0 over @genkit-ai/google-genai 1.42.0 (``googleAI()``): Genkit's own action
  spans (scope ``genkit-tracer``, ``genkit:*``), a model action span ``googleai/{model}`` per model request whose
  ``genkit:output`` is the plugin's response: the deprecated ``candidates`` (finish reason there, not at the top)
  and GenerationUsage (inputTokens = promptTokenCount with cachedContentTokens inside, outputTokens =
  candidatesTokenCount with thoughtsTokens apart).
* ``bedrock-converse-openllmetry-js``: @traceloop/instrumentation-bedrock 0.27.0 over
  @aws-sdk/client-bedrock-runtime 3.1164.0: one CLIENT span per ``client.send``. It reads InvokeModel only
  (``chat {model}`` spans with usage); a Converse / ConverseStream call is a bare ``bedrock.completion`` span.
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
GENKIT = "genkit-googleai"
BEDROCK = "bedrock-converse-openllmetry-js"
SOURCES = [GENKIT, BEDROCK]
TRUTH: dict[str, dict[str, dict[str, Any]]] = json.loads((DATA / "jsgem-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPES = {GENKIT: {"fixgen.app", "genkit-tracer"}, BEDROCK: {"fixgen.app", "@traceloop/instrumentation-bedrock"}}
PROVIDERS = {GENKIT: "gcp.gemini", BEDROCK: "aws.bedrock"}

#: what the spans cannot carry: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], int] = {
    # @traceloop/instrumentation-bedrock 0.27.0 dist/index.js: _startSpan reads the request only when
    # ``input.body`` is a string (InvokeModel), _endSpan the response only when ``"body" in result``; a Converse or
    # ConverseStream call (``messages`` / ``stream`` in its input and output, no body) leaves a ``bedrock.completion``
    # span with gen_ai.provider.name and gen_ai.request.model only: a call without usage
    (BEDROCK, "healthy", "unread"): 1, (BEDROCK, "healthy", "input"): 430, (BEDROCK, "healthy", "output"): 22,
    (BEDROCK, "streaming", "unread"): 1, (BEDROCK, "streaming", "input"): 425, (BEDROCK, "streaming", "output"): 16,
    (BEDROCK, "tool_use", "unread"): 2, (BEDROCK, "tool_use", "input"): 0, (BEDROCK, "tool_use", "output"): 0,
    # ... and its Anthropic InvokeModel response reads ``usage.input_tokens`` / ``output_tokens`` only
    # (_setResponseAttributes, ANTHROPIC): Anthropic's input_tokens leaves cache_read_input_tokens and
    # cache_creation_input_tokens out, and neither is written, so the cache is lost, and 1300 + 1310 read as
    # 148 + 158 (the third call is Converse: unread)
    (BEDROCK, "cached", "unread"): 1, (BEDROCK, "cached", "input"): 306, (BEDROCK, "cached", "output"): 58,
    (BEDROCK, "cached", "cache_read"): 0, (BEDROCK, "cached", "cache_write"): 0,
}


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in SOURCES}


def ordered(source: str, scenario: str) -> list[Any]:
    return [e.call for e in counted(source, scenario)]


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
        # _extractVendorAndModel: the modelId without its vendor (and cross-region) prefix
        served = [m.split(".", 2)[-1] if m.startswith("us.") else m.split(".", 1)[1] for m in served]
    assert got["models"] == served
    assert got["providers"] == {PROVIDERS[source]}


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    for _, tree in trees(source):
        counted_once(tree, ("input", "output"))
    assert len(failed_in_errors(source, SCENARIOS)) == 2


def test_genkit_gemini_usage_cache_and_thoughts() -> None:
    """cachedContentTokens inside inputTokens, thoughtsTokens added to outputTokens (candidatesTokenCount)."""
    got = [(c.input_tokens, c.cache_read_tokens, c.output_tokens, c.reasoning_tokens) for c in ordered(GENKIT, "cached")]
    assert got == [(1300, None, 30, None), (1310, 1152, 28, None), (1320, 1280, 96, 64)]
    for scenario, tree in trees(GENKIT):
        for e in counted_once(tree, ("input", "output")):
            assert e.attrs.get("genkit:metadata:subtype") == "model", scenario
        assert {e.call.kind for e in tree.spans if e.call is not None and e.view.name == "generate"} <= {"workflow"}


def test_genkit_finish_reasons_from_the_first_candidate() -> None:
    """The plugin's model output carries finishReason on ``candidates[0]`` only (fromGeminiCandidate maps
    Gemini's STOP / MAX_TOKENS to stop / length; a function call is STOP)."""
    assert [r for c in ordered(GENKIT, "streaming") for r in c.finish_reasons] == ["stop", "length"]
    assert [c.max_tokens for c in ordered(GENKIT, "streaming")] == [None, 16]
    assert [c.finish_reasons for c in ordered(GENKIT, "tool_use")] == [("stop",), ("stop",)]
    dup = ordered(GENKIT, "duplicate")
    assert dup[0].temperature == 0 and dup[0].max_tokens == dup[1].max_tokens == 100
    assert (dup[0].system_content or "").startswith("You are a support assistant for ACME.")
    tools = [e.call.tool_name for _, t in trees(GENKIT) for e in t.spans if e.call is not None and e.call.kind == "tool"]
    assert tools == ["get_order_status"]


@pytest.mark.parametrize("source", SOURCES)
def test_streaming_is_not_marked(results: dict[str, Any], source: str) -> None:
    """Neither library says a call streamed: Genkit's model span input is the GenerateRequest whichever way it
    ran (@genkit-ai/ai lib/generate/action.js passes the streaming callback outside it); OpenLLMetry JS's
    InvokeModelWithResponseStream span has the same attributes as InvokeModel's (_endSpan reads the chunks into
    the same keys)."""
    assert results[source]["streaming"]["streamed"] == [None, None]
    assert [r["stream"] for r in TRUTH[source]["streaming"]["requests"]] == [True, True]


def test_bedrock_invoke_model_is_read_converse_is_not() -> None:
    healthy = [e for _, t in trees(BEDROCK) for e in t.spans if e.call is not None and e.call.kind == "inference"]
    converse = [e for e in healthy if e.view.name == "bedrock.completion"]
    invoke = [e for e in healthy if e.view.name.startswith("chat ")]
    assert len(converse) == 6 and not any(e.call.counted or e.call.has_usage for e in converse)
    assert len(invoke) == 7 and all(e.call.operation == "chat" for e in invoke)
    stream = ordered(BEDROCK, "streaming")
    assert [(c.input_tokens, c.output_tokens, c.finish_reasons, c.max_tokens) for c in stream] == [(425, 16, ("length",), 16)]
    dup = ordered(BEDROCK, "duplicate")
    assert len(dup) == 2 and dup[0].temperature == 0 and dup[0].max_tokens == 100
    assert (dup[0].system_content or "").startswith("You are a support assistant for ACME.")
    assert "Where is order A-1001?" in (dup[0].input_content or "")
