"""Real spans of OpenLIT over agent frameworks: Google ADK, Agno, LlamaIndex and Haystack
(tests/normalize/data/openlit-{google-adk,agno,llamaindex,haystack}.jsonl), read right, call for call.

Captured by tests/normalize/gen/openlit3/generate.py (openlit 1.45.0; versions in its requirements.txt and in the
truth file) against the fake Gemini API of gen/sk_adk_llamaindex and the fake OpenAI Chat Completions API of
gen/py_native, with the scenario runners of gen/sk_adk_llamaindex (ADK, LlamaIndex), gen/oi2 (Agno) and
gen/py_frameworks (Haystack, its own OpenTelemetryTracer on too: OpenLIT's haystack spans and Haystack's) run
unchanged. The fake servers' answers are the truth (openlit3-truth.json): input includes cached tokens, output
includes reasoning. OpenLIT instruments the framework and the client SDK under it: OpenLIT's ``google_adk`` /
``agno`` agent spans, ADK's own ``generate_content`` span (scope gcp.vertex.agent, with usage) beside OpenLIT's
``google_ai_studio`` ``chat`` span of the same call: every call counted once, never a framework span.
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
    token_sums,
    trees,
    with_gaps,
)

TRUTH: dict[str, dict[str, Any]] = json.loads((DATA / "openlit3-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
#: the provider each source's calls name (ADK's Gemini API model: OpenLIT's ``gemini``, ADK's ``gcp.gemini``)
PROVIDER = {"openlit-google-adk": "gcp.gemini", "openlit-agno": "openai", "openlit-llamaindex": "openai",
            "openlit-haystack": "openai"}
#: the scope of the span that counts: the client SDK's, never a framework's
CLIENT_SCOPE = {"openlit-google-adk": "openlit.instrumentation.google_ai_studio",
                "openlit-agno": "openlit.instrumentation.openai",
                "openlit-llamaindex": "openlit.instrumentation.openai",
                "openlit-haystack": "openlit.instrumentation.openai"}
SOURCES = list(PROVIDER)
CASES = [(src, sc) for src in SOURCES for sc in SCENARIOS]

#: what a source's spans cannot carry, so that no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # openlit 1.45.0 instrumentation/openai/utils.py common_chat_logic (Chat Completions) writes no reasoning
    # count (only common_response_logic, the Responses API, reads output_tokens_details.reasoning_tokens)
    ("openlit-agno", "tool_use", "reasoning"): 0,
    ("openlit-llamaindex", "tool_use", "reasoning"): 0,
    # llama-index-llms-openai 0.8.3 sends no stream_options by default: the 1st stream's usage is never sent
    # (truth ``usage_unsent``), and openlit 1.45.0 instrumentation/openai/utils.py common_chat_logic then writes
    # its own estimate as the usage (``input_tokens = general_tokens(prompt)``, ``output_tokens =
    # general_tokens(scope._llmresponse)``: tiktoken counts of the text), on no attribute told apart: 52 in,
    # 28 out read for the call the server counted 640 / 48
    ("openlit-llamaindex", "streaming", "input"): 700 + 52,
    ("openlit-llamaindex", "streaming", "output"): 64 + 28,
}


def truth(source: str, scenario: str) -> dict[str, Any]:
    return TRUTH[source]["scenarios"][scenario]  # type: ignore[no-any-return]


@pytest.mark.parametrize("source", SOURCES)
def test_capture_and_truth_are_of_the_source(source: str) -> None:
    entry = TRUTH[source]
    assert (entry["sources"], sorted(entry["scenarios"]), entry["versions"]["openlit"]) == (
        [source], sorted(SCENARIOS), "1.45.0")
    capture_lines_are(source, SCENARIOS)


@pytest.mark.parametrize(("source", "scenario"), CASES)
def test_calls_and_tokens_are_the_fake_servers(source: str, scenario: str) -> None:
    want = with_gaps(truth(source, scenario), GAPS, source, scenario, unread=0)
    got = scenario_totals(source, failed_providers_apart=True, parts_within=True)[scenario]
    assert_totals(got, want)
    answered = want["calls"] > want["failed"]
    assert (got["models"], got["providers"]) == ([m for m, _ in want["models"]],
                                                 {PROVIDER[source]} if answered else set())
    assert got["finish_reasons"] == want["finish_reasons"]
    assert got["scopes"] == {CLIENT_SCOPE[source]} or source == "openlit-google-adk"


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_counted_once(source: str) -> None:
    """429 then 500 surfaced to the app: two failed calls, each once (ADK's failed generate_content span beside
    OpenLIT's failed chat span is paired with it)."""
    failed = failed_in_errors(source, SCENARIOS)
    assert len(failed) == truth(source, "errors")["failed"] == 2
    assert {(e.call.provider, e.call.counted) for e in failed} == {(PROVIDER[source], False)}  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice_and_framework_spans_never_count(source: str) -> None:
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output"))
        assert len(calls) == truth(source, scenario)["calls"] - truth(source, scenario)["failed"], scenario
        assert [e.scope.name for e in calls] == [CLIENT_SCOPE[source]] * len(calls), scenario
        ids = [e.call.response_id for e in calls if e.call.response_id]  # type: ignore[union-attr]
        assert len(ids) == len(set(ids)), scenario
        framework = [e for e in tree.spans if e.call is not None and e.call.counted
                     and e.scope.name in ("openlit.instrumentation.google_adk", "openlit.instrumentation.agno",
                                          "openlit.instrumentation.haystack", "gcp.vertex.agent", "haystack")]
        assert framework == [], scenario


def test_adk_streamed_call_counts_once_though_openlits_span_comes_after_adks() -> None:
    """OpenLIT's streamed Gemini span is made at the stream's end (async_google_ai_studio.py TracedAsyncStream),
    after ADK's generate_content span ended: siblings, one after the other; OpenLIT's counts, ADK's is its report,
    with the cut one's finish reason."""
    calls = counted("openlit-google-adk", "streaming")
    assert [(e.call.input_tokens, e.call.output_tokens, e.call.streaming) for e in calls] == [  # type: ignore[union-attr]
        (640, 48, True), (700, 64, True)]
    reports = [e for sc, t in trees("openlit-google-adk") if sc == "streaming" for e in t.spans
               if e.call is not None and e.scope.name == "gcp.vertex.agent" and e.call.kind == "inference"]
    assert len(reports) == 2 and all(not e.call.counted and e.call.report_of is not None for e in reports)  # type: ignore[union-attr]


def test_cache_and_reasoning_where_the_spans_carry_them() -> None:
    assert [e.call.cache_read_tokens for e in counted("openlit-google-adk", "cached")] == [0, 8960, 8960]  # type: ignore[union-attr]
    assert [e.call.cache_read_tokens for e in counted("openlit-agno", "cached")] == [0, 8960, 8960]  # type: ignore[union-attr]
    assert truth("openlit-google-adk", "tool_use")["reasoning"] == 240
    assert token_sums(counted("openlit-google-adk", "tool_use"), ("reasoning",)) == {"reasoning": 240}
