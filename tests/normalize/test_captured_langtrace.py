"""Real spans of the Langtrace Python SDK (langtrace-python-sdk 3.8.21) over the OpenAI and Anthropic clients, and of
AgentOps (agentops 0.4.21) over the OpenAI client, counted against the fake servers' ground truth
(tests/normalize/gen/langtrace/generate.py made the data files, nothing sent beyond loopback; versions in its
requirements.txt and in langtrace-truth.json):

* ``langtrace-openai``: Langtrace's openai instrumentation (scope ``langtrace_python_sdk.instrumentation.openai.
  instrumentation``), ``gen_ai.system`` "openai", ``gen_ai.usage.input_tokens`` / ``output_tokens`` and the cache
  read as ``gen_ai.usage.cached_tokens`` (read as the cache read, within the input).
* ``agentops-openai``: AgentOps' own openai instrumentation (scope ``openai``), OpenLLMetry's older names
  (``gen_ai.usage.prompt_tokens`` / ``completion_tokens``, ``gen_ai.completion.0.finish_reason``), its own
  ``gen_ai.request.type`` and ``gen_ai.request.streaming`` (read as the operation and the stream flag).
* ``langtrace-anthropic``: Langtrace's anthropic instrumentation over ../anthropic/generate.py's scenarios and fake
  (the anthropic SDK's own tracing off): ``gen_ai.usage.input_tokens`` is Anthropic's ``usage.input_tokens``.

Input includes cache reads (the semantic conventions' meaning), output includes reasoning.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from otel_tokenwatch.pipeline.call import cut_by_finish_reason
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

TRUTH: dict[str, Any] = json.loads((DATA / "langtrace-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
OPENAI = ["langtrace-openai", "agentops-openai"]
SOURCES = [*OPENAI, "langtrace-anthropic"]
SCOPES = {"langtrace-openai": "langtrace_python_sdk.instrumentation.openai.instrumentation",
          "agentops-openai": "openai",
          "langtrace-anthropic": "langtrace_python_sdk.instrumentation.anthropic.instrumentation"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # Langtrace reads no completion_tokens_details (instrumentation/openai/patch.py _set_response_attributes:
    # prompt_tokens, completion_tokens, total_tokens and prompt_tokens_details.cached_tokens only); AgentOps looks
    # for the reasoning under the Responses API's name (instrumentation/providers/openai/wrappers/chat.py
    # handle_chat_attributes: ``usage.get("output_tokens_details", {})``), which a chat completion's usage has not
    ("langtrace-openai", "tool_use", "reasoning"): 0,
    ("agentops-openai", "tool_use", "reasoning"): 0,
    # AgentOps writes no cache count for chat completions (handle_chat_attributes: total, prompt and completion
    # tokens only; its LLM_USAGE_CACHE_READ_INPUT_TOKENS mapping is the Responses API's, attributes/response.py)
    ("agentops-openai", "cached", "cache_read"): 0,
}
#: finish reasons as read: Langtrace's chat completion spans write none (patch.py _set_response_attributes puts
#: role and content of each choice in its gen_ai.content.completion event, no finish_reason)
FINISH_GAPS = {"langtrace-openai": set(SCENARIOS)}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0, cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in OPENAI}


def test_captures_and_their_truth() -> None:
    """Every source was captured for every scenario, and the fake servers did send cache reads, reasoning and a
    stream's usage: the gaps are the libraries', not the captures'."""
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS)
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
    assert TRUTH["langtrace-openai"]["scenarios"] == TRUTH["agentops-openai"]["scenarios"]
    sc = TRUTH["langtrace-openai"]["scenarios"]
    assert (sc["cached"]["cache_read"], sc["tool_use"]["reasoning"], sc["streaming"]["input"]) == (17920, 128, 1340)
    assert sc["streaming"]["finish_reasons"] == ["stop", "length"]
    an = TRUTH["langtrace-anthropic"]["scenarios"]
    assert {k: (v["uncached_input"], v["cache_read"], v["cache_write"], v["output"]) for k, v in an.items()} == {
        "healthy": (2000, 0, 0, 240), "cached": (10040, 17920, 8960, 330), "streaming": (1200, 4096, 0, 264),
        "tool_use": (2070, 0, 0, 155), "errors": (400, 0, 0, 60), "duplicate": (1800, 0, 0, 160)}


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in OPENAI for sc in SCENARIOS])
def test_openai_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    assert got["scopes"] == ({SCOPES[source]} if want["calls"] else set()), got["scopes"]
    assert got["providers"] == ({"openai"} if want["calls"] else set()), got["providers"]
    assert got["models"] == [m[0] for m in want["models"]]
    assert got["served"] == [m[1] for m in want["models"]]
    assert len(failed_in_errors(source, SCENARIOS)) == 2


@pytest.mark.parametrize("source", OPENAI)
def test_openai_finish_reasons_and_streams(results: dict[str, Any], source: str) -> None:
    for scenario in SCENARIOS:
        want = [] if scenario in FINISH_GAPS.get(source, ()) else TRUTH[source]["scenarios"][scenario]["finish_reasons"]
        got = results[source][scenario]["finish"]
        assert [r for rs in got for r in rs] == want, scenario
        if want:
            assert [cut_by_finish_reason(rs) for rs in got] == [r == "length" for r in want], scenario
    assert results[source]["streaming"]["streamed"] == [True, True]
    # AgentOps writes its flag on every call (False when not streamed), Langtrace only when the request streams
    other = [False] if source == "agentops-openai" else [None]
    assert all(set(results[source][sc]["streamed"]) <= set(other) for sc in SCENARIOS if sc != "streaming")


def test_cache_reads_are_priced_as_such() -> None:
    """Where the cache read is seen (Langtrace) the cached calls cost less than the same calls read without it
    (AgentOps), priced by genai-prices from the same tokens otherwise."""
    lt, ao = counted("langtrace-openai", "cached"), counted("agentops-openai", "cached")
    assert [e.call.input_tokens for e in lt] == [e.call.input_tokens for e in ao]  # type: ignore[union-attr]
    assert all(e.call is not None and e.call.cost_source == "computed" and e.call.cost_usd for e in lt + ao)
    costs = [(a.call.cost_usd or Decimal(0), b.call.cost_usd or Decimal(0), a.call.cache_read_tokens)  # type: ignore[union-attr]
             for a, b in zip(lt, ao)]
    assert [c[2] for c in costs] == [0, 8960, 8960]
    assert all(c[0] == c[1] if not c[2] else c[0] < c[1] for c in costs), costs


#: langtrace-anthropic: Langtrace passes vars(usage) to set_usage_attributes (instrumentation/anthropic/patch.py
#: set_response_attributes; for messages.stream() InstrumentedStream.__next__ reads message_stop's message.usage),
#: which writes ``input_tokens`` / ``output_tokens`` / their sum only (utils/llm.py set_usage_attributes): Anthropic's
#: input_tokens leaves the cache reads and writes out, and the span names neither, so the input read is the
#: uncached input and no cache is seen
ANTHROPIC_TOKENS = ("input", "cache_read", "cache_write", "output")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_anthropic_tokens_as_the_span_holds_them(scenario: str) -> None:
    truth = TRUTH["langtrace-anthropic"]["scenarios"][scenario]
    calls = counted("langtrace-anthropic", scenario)
    assert len(calls) == truth["calls"] - truth["failed"]
    assert token_sums(calls, ANTHROPIC_TOKENS) == {"input": truth["uncached_input"], "cache_read": 0,
                                                   "cache_write": 0, "output": truth["output"]}
    for e in calls:
        c = e.call
        assert c is not None and c.provider == "anthropic" and c.kind == "inference" and e.scope.name == SCOPES[
            "langtrace-anthropic"]
    assert [e.call.request_model for e in calls] == [m for m, _ in truth["models"]]  # type: ignore[union-attr]
    # messages.stream() spans name no response model (InstrumentedStream sets only usage and the completion event)
    served = [e.call.response_model for e in calls]  # type: ignore[union-attr]
    assert served == [None if e.view.name == "anthropic.messages.stream" else s
                      for e, (_, s) in zip(calls, truth["models"])]


def test_anthropic_errors_streams_and_stop_reasons() -> None:
    """429 then 500 surfaced: two failed calls; create(stream=True) carries gen_ai.request.stream, messages.stream()
    no flag (patch.py messages_stream sets only the request attributes); no stop reason is written at all."""
    failed = failed_in_errors("langtrace-anthropic", SCENARIOS)
    assert [(e.call.provider, e.call.request_model) for e in failed] == [  # type: ignore[union-attr]
        ("anthropic", "claude-haiku-4-5")] * 2
    assert [e.call.streaming for e in counted("langtrace-anthropic", "streaming")] == [True, None]  # type: ignore[union-attr]
    for scenario in SCENARIOS:
        assert all(not e.call.finish_reasons for e in counted("langtrace-anthropic", scenario))  # type: ignore[union-attr]
        assert not any(e.call.streaming for e in counted("langtrace-anthropic", scenario)  # type: ignore[union-attr]
                       if scenario != "streaming")


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """One counted span per answered call (AgentOps': its own response id); the app's tool spans and AgentOps'
    ``tool_call.*`` spans (wrappers/chat.py, one per tool call of a response) are not calls."""
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output"))
        ids = [e.call.response_id for e in calls if e.call is not None]
        if source == "agentops-openai":
            assert len(set(ids)) == len(ids) and all(ids), scenario
        else:  # Langtrace writes no response id for chat completions nor messages (patch.py)
            assert not any(ids), scenario
        for e in tree.spans:
            if e.view.name.startswith(("tool.", "tool_call.", "workflow")):
                assert e.call is None or not e.call.counted, (scenario, e.view.name)


@pytest.mark.parametrize("source", SOURCES)
def test_prompts_are_read(source: str) -> None:
    """The request's messages: Langtrace keeps them in a ``gen_ai.content.prompt`` span event (utils/__init__.py
    set_event_prompt; content.prompt_event_messages), AgentOps as ``gen_ai.prompt.N.*`` attributes: the system prompt
    apart, the user's question in the input, so that the healthy follow-up is compared by its text, not its shape."""
    for scenario in ("healthy", "tool_use"):
        for e in counted(source, scenario):
            c = e.call
            assert c is not None and c.system_content and c.input_content, (scenario, e.view.name)
            assert "ACME" in c.system_content and "user" in c.input_content and "ACME" not in c.input_content
