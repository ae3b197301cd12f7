"""Real spans of OpenLIT's and OpenLLMetry's instrumentations of more SDKs and frameworks, counted against the fake
servers' ground truth (tests/normalize/gen/py_vendors2/generate.py made the data files; versions in its
requirements.txt and in py_vendors2-truth.json):

* ``openlit-langchain-openai``: openlit 1.45.0 over langchain-openai ``ChatOpenAI`` and openai, both of its
  instrumentations on; its LangChain callback owns the call and its OpenAI wrapper passes through
  (openlit/instrumentation/openai/openai.py ``if is_framework_llm_active(): return wrapped(...)``): one span per call.
* ``openlit-google-genai``: openlit 1.45.0 over google-genai against a fake Gemini API.
* ``openllmetry-google-genai``: opentelemetry-instrumentation-google-generativeai 0.62.4 over google-genai.
* ``openllmetry-llamaindex``: opentelemetry-instrumentation-llamaindex 0.62.4 with opentelemetry-instrumentation-openai
  0.62.4 over llama-index-llms-openai; the LlamaIndex handler opens no span for the ``OpenAI`` LLM class and leaves the
  call to the OpenAI instrumentation (dispatcher_wrapper.py AVAILABLE_OPENLLMETRY_INSTRUMENTATIONS = ["OpenAI"]).

Input includes cache reads (the semantic conventions' meaning), output includes reasoning (Gemini's thoughts).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.call import cut_by_finish_reason
from otel_tokenwatch.pipeline.normalize.counting import _descendants
from tests.normalize.captured import DATA, assert_totals, capture_lines_are, scenario_totals, trees, with_gaps

TRUTH: dict[str, Any] = json.loads((DATA / "py_vendors2-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SOURCES = ["openlit-langchain-openai", "openlit-google-genai", "openllmetry-google-genai", "openllmetry-llamaindex"]
#: the provider as the spans name it: OpenLLMetry's google-genai instrumentation writes ``gcp.gen_ai`` for every call
#: (opentelemetry-instrumentation-google-generativeai 0.62.4 __init__.py _wrap: ``_GCP_GEN_AI``); OpenLIT's successful
#: spans say ``gemini`` and its failed ones only have their scope, ``openlit.instrumentation.google_ai_studio``
PROVIDER = {"openlit-langchain-openai": "openai", "openlit-google-genai": "gcp.gemini",
            "openllmetry-google-genai": "gcp.gen_ai", "openllmetry-llamaindex": "openai"}
#: the scope of every model-call span of a source
SCOPE = {"openlit-langchain-openai": "openlit.instrumentation.langchain",
         "openlit-google-genai": "openlit.instrumentation.google_ai_studio",
         "openllmetry-google-genai": "opentelemetry.instrumentation.google_generativeai",
         "openllmetry-llamaindex": "opentelemetry.instrumentation.openai.v1"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # openlit 1.45.0 instrumentation/langchain/__init__.py on_llm_end builds the scope for common_chat_logic with
    # input, output and cache counts but never ``_reasoning_tokens`` (utils.py writes gen_ai.usage.reasoning_tokens
    # only ``if scope._reasoning_tokens``): the 128 reasoning tokens stay inside completion_tokens, unnamed
    ("openlit-langchain-openai", "tool_use", "reasoning"): 0,
}
#: the stream flag of the two streamed calls as read: OpenLLMetry's google-genai spans have none
#: (__init__.py _wrap: the same span for generate_content and generate_content_stream)
STREAMED = {"openlit-langchain-openai": [True, True], "openlit-google-genai": [True, True],
            "openllmetry-google-genai": [None, None], "openllmetry-llamaindex": [True, True]}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0, cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True, roots_carry_totals=True) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario(results: dict[str, Any]) -> None:
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS)
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert sorted(results[s]) == sorted(SCENARIOS), s


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)  # unread: none, every successful call is counted
    assert want["cache_write"] == 0, "cache write tokens (neither API has them)"
    assert got["scopes"] <= {SCOPE[source]}, got["scopes"]
    assert got["providers"] == {PROVIDER[source]}, got["providers"]
    # request models of every call, failed ones included (OpenAI's truth: [request, served]; Gemini's: the model)
    default = "gemini-2.5-flash" if "google" in source else "gpt-4o-mini"
    ok = [m[0] if isinstance(m, list) else m for m in want["models"]]
    assert sorted(got["models"] + got["failed_models"]) == sorted(ok + [default] * want["failed"])


def test_truth_keeps_cache_and_reasoning() -> None:
    """The fake servers did send cache reads and reasoning: the gaps above are the libraries', not the captures'."""
    for s in SOURCES:
        sc = TRUTH[s]["scenarios"]
        assert sc["cached"]["cache_read"] == 17920, s
        assert sc["tool_use"]["reasoning"] == 128, s
        assert sc["errors"]["failed"] == 2 and sc["duplicate"]["calls"] == 2, s
    for s in ("openlit-google-genai", "openllmetry-google-genai"):
        assert TRUTH[s]["scenarios"]["healthy"]["reasoning"] == 64  # thoughts below the candidates: not inferable


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_and_streams(results: dict[str, Any], source: str) -> None:
    """Finish reasons as the API sent them (OpenLIT's ``FinishReason.MAX_TOKENS`` read as ``MAX_TOKENS``), the cut
    stream seen as cut, and the stream flags."""
    norm = {"tool_calls": "tool_call", "max_tokens": "length"}
    for scenario in SCENARIOS:
        want = [norm.get(r.lower(), r.lower()) for r in TRUTH[source]["scenarios"][scenario]["finish_reasons"]]
        got = results[source][scenario]["finish"]
        assert [norm.get(r.lower(), r.lower()) for rs in got for r in rs] == want, scenario
        assert [cut_by_finish_reason(rs) for rs in got] == [r == "length" for r in want], scenario
    assert results[source]["streaming"]["streamed"] == STREAMED[source]
    assert all(s is not True for sc in SCENARIOS if sc != "streaming" for s in results[source][sc]["streamed"])


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """One counted span per answered call, never one inside another, each with its own response id where the
    library keeps one (OpenLIT's LangChain spans of a stream have none: langchain-openai's streamed chunks carry
    no ``id`` in llm_output); the app's tool spans are tools."""
    for scenario, tree in trees(source):
        children = tree.children()
        calls = [e for e in tree.spans if e.call is not None and e.call.counted]
        ids = [e.call.response_id for e in calls if e.call is not None and e.call.response_id]
        assert len(ids) == len(set(ids)), scenario
        if not (source == "openlit-langchain-openai" and scenario == "streaming"):
            assert len(ids) == len(calls), scenario
        for e in calls:
            assert e.call is not None and e.call.kind == "inference"
            assert not any(d.call is not None and d.call.counted for d in _descendants(e, children))
        for e in tree.spans:
            if e.view.name.startswith(("tool.", "workflow")):
                assert e.call is None or not e.call.counted, (scenario, e.view.name)
