"""Real spans of OpenLIT's LangGraph instrumentation (openlit 1.45.0, ``openlit.init``) over langgraph's prebuilt
``create_react_agent``, counted against the fake servers' ground truth (tests/normalize/gen/olgraph/generate.py made
the data files; versions in its requirements.txt and in olgraph-truth.json):

* ``openlit-langgraph``: over langchain-openai ``ChatOpenAI`` and the fake OpenAI Chat Completions API;
* ``openlit-langgraph-anthropic``: over langchain-anthropic ``ChatAnthropic`` and the fake Anthropic Messages API.

``openlit.init`` turns on every instrumentor whose library is installed; the truth file records the ones that were
on in both runs: ``anthropic``, ``langchain``, ``langgraph``, ``openai``. What each adds to a trace:

* langgraph (scope ``openlit.instrumentation.langgraph``): ``create_agent default`` when the graph compiles
  (instrumentation/langgraph/langgraph.py wrap_compile), ``invoke_workflow LangGraph`` per ``invoke``
  (general_wrap; ``gen_ai.operation.name`` invoke_workflow) and ``invoke_agent agent`` per run of the model node
  (wrap_add_node; the ToolNode is left unwrapped, _is_tool_node). The workflow and node spans copy the last
  message's model, ``token_usage``, finish reason and response id (utils.py extract_llm_info_from_result): OpenAI
  only, as langchain-anthropic's messages have no ``token_usage`` and their ``usage_metadata`` is a dict, which the
  ``hasattr(usage, "input_tokens")`` test misses. They read as a workflow and agents, never as calls; the node
  span is not the call's parent (LangChain's callback parents its spans by run id, so the ``chat`` span sits
  under the callback's own ``invoke_agent agent`` span, the node span's sibling): its copy is told by the
  response id it shares with the counted call (counting.py), not by nesting.
* langchain (scope ``openlit.instrumentation.langchain``): the callback's ``invoke_agent agent`` chain span, the
  ``chat {model}`` call span (CLIENT) and ``execute_tool get_order_status``; the call spans are the counted ones.
* openai / anthropic: instrumented, but silent under LangChain (openai.py / anthropic.py return ``wrapped(...)``
  when ``is_framework_llm_active()``, set by the callback's on_chat_model_start): no second span of any call.

The ChatAnthropic spans lose much (openlit 1.45.0 instrumentation/langchain/__init__.py, cited per gap below): the
request model is the placeholder ``anthropic``, the stop reason is never read (every call "stop"), the cache
counts are overwritten by 0 and the input is Anthropic's uncached ``input_tokens``, a stream's served model is
``anthropic`` too and a stream without input usage gets OpenLIT's tokenizer estimate.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch import semconv
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

TRUTH: dict[str, Any] = json.loads((DATA / "olgraph-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
OPENAI, ANTHROPIC = "openlit-langgraph", "openlit-langgraph-anthropic"
SOURCES = [OPENAI, ANTHROPIC]
CALL_SCOPE = "openlit.instrumentation.langchain"

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # openlit 1.45.0 instrumentation/langchain/__init__.py on_llm_end passes common_chat_logic input, output and
    # cache counts but never reasoning (utils.py writes gen_ai.usage.reasoning_tokens only ``if
    # scope._reasoning_tokens``): o4-mini's 128 + 64 reasoning tokens stay inside output, unnamed
    # (tests/normalize/test_captured_py_vendors2.py, the same callback over ChatOpenAI without LangGraph)
    (OPENAI, "tool_use", "reasoning"): 0,
}
#: the served model as read, per successful call: on a stream ``response.llm_output`` is None, so on_llm_end's
#: ``response_model = model_name`` stays the request's model (langchain-openai keeps the served one in the
#: message's response_metadata, which OpenLIT does not read for it); the LangGraph node span beside it has it
SERVED_GAPS = {(OPENAI, "streaming"): ["gpt-4o-mini", "gpt-4o-mini"]}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0, cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return scenario_totals(OPENAI, parts_within=True, roots_carry_totals=True)


def test_captures_their_truth_and_the_instrumentors_on() -> None:
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS)
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert TRUTH[s]["versions"]["openlit"] == "1.45.0", s
        assert TRUTH[s]["instrumentors"] == ["anthropic", "langchain", "langgraph", "openai"], s
    sc = TRUTH[OPENAI]["scenarios"]
    assert (sc["cached"]["cache_read"], sc["tool_use"]["reasoning"], sc["streaming"]["input"]) == (17920, 192, 1340)
    an = TRUTH[ANTHROPIC]["scenarios"]
    assert {k: (v["uncached_input"], v["cache_read"], v["cache_write"], v["output"]) for k, v in an.items()} == {
        "healthy": (2550, 0, 0, 240), "cached": (890, 17920, 8960, 330), "streaming": (1340, 0, 0, 112),
        "tool_use": (940, 0, 0, 100), "errors": (0, 0, 0, 0), "duplicate": (1040, 0, 0, 60)}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_openai_counts_match_the_fake_servers_truth(results: dict[str, Any], scenario: str) -> None:
    got, want = results[scenario], expected(OPENAI, scenario)
    assert_totals(got, want)
    assert got["scopes"] == {CALL_SCOPE}
    assert got["providers"] == {"openai"}  # the failed calls name it too
    assert got["models"] == [m[0] for m in want["models"]]
    assert got["served"] == SERVED_GAPS.get((OPENAI, scenario), [m[1] for m in want["models"]])
    assert [r for rs in got["finish"] for r in rs] == want["finish_reasons"]


def test_openai_streams_cache_and_cost(results: dict[str, Any]) -> None:
    """``gen_ai.request.stream`` on every call; the stream cut at max_tokens reads as cut; cached_tokens as cache
    reads; OpenLIT's own price (``gen_ai.usage.cost``, from the generator's pricing file) on every call."""
    assert results["streaming"]["streamed"] == [True, True]
    assert all(set(results[sc]["streamed"]) <= {False} for sc in SCENARIOS if sc != "streaming")
    assert [cut_by_finish_reason(rs) for rs in results["streaming"]["finish"]] == [False, True]
    assert [e.call.cache_read_tokens for e in counted(OPENAI, "cached")] == [0, 8960, 8960]  # type: ignore[union-attr]
    for scenario in SCENARIOS:
        for e in counted(OPENAI, scenario):
            assert e.call is not None and e.call.cost_source == "reported" and e.call.cost_usd, scenario


#: Anthropic's numbers as OpenLIT's LangChain callback writes them over ChatAnthropic (openlit 1.45.0
#: instrumentation/langchain/__init__.py): _extract_message_usage reads usage_metadata (LangChain's input, cache
#: included, and its cache details) and then lets response_metadata["usage"] (the raw Messages API usage, its
#: ``input_tokens`` without cache) overwrite the input; on_llm_end then reads llm_output["usage"] again, looks for
#: the cache under ``input_tokens_details`` / ``input_token_details`` only, which Anthropic's usage has not, and sets
#: both cache counts to 0. So every call reads Anthropic's uncached input, and no cache read or write is left on
#: any span (the LangChain chain span's ``gen_ai.workflow.output`` repr of the message is content, not usage).
#: A stream: langchain-anthropic 1.7.10 chat_models.py takes a stream's usage from message_delta only
#: (message_start: "don't include usage_metadata yet"); the first stream's message_delta carries output only (the
#: docs' example), so its input is 0 and OpenLIT puts its own tokenizer estimate (general_tokens of the prompt, 52)
#: in its place; the second's carries every count (as the API sends today) and reads right.
ANTHROPIC_READ = {"healthy": (2550, 0, 0, 240), "cached": (890, 0, 0, 330), "streaming": (52 + 700, 0, 0, 112),
                  "tool_use": (940, 0, 0, 100), "errors": (0, 0, 0, 0), "duplicate": (1040, 0, 0, 60)}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_anthropic_tokens_as_openlits_langchain_callback_leaves_them(scenario: str) -> None:
    truth = TRUTH[ANTHROPIC]["scenarios"][scenario]
    calls = counted(ANTHROPIC, scenario)
    assert len(calls) == truth["calls"] - truth["failed"]
    got = token_sums(calls, ("input", "cache_read", "cache_write", "output"))
    assert tuple(got.values()) == ANTHROPIC_READ[scenario]
    # every gap is a loss against the truth, never an over-count
    assert got["input"] <= truth["uncached_input"] + truth["cache_read"] + truth["cache_write"]
    assert got["output"] == truth["output"]
    for e in calls:
        c = e.call
        assert c is not None and c.provider == "anthropic" and e.scope.name == CALL_SCOPE


def test_anthropic_models_stop_reasons_and_streams() -> None:
    """The request model is ``anthropic`` for every call: extract_model_name's MODEL_PATTERNS entry
    ``("ChatAnthropic", "model", "anthropic")`` looks for ``model=`` in the serialized repr, which langchain-core 1.x
    does not serialize, and falls back to that default. The served model comes from ``llm_output["model"]``, absent
    for a stream (``anthropic`` again, so the streams are unpriced). The stop reason: the callback reads only
    ``response_metadata["finish_reason"]``, Anthropic's messages have ``stop_reason``, and SpanHolder's default
    ``finish_reason = "stop"`` is written: the tool_use turn and the stream cut at max_tokens read as "stop"
    (the cut stream is still a stream, so no truncation is scored: tests/score/test_captured_scores.py)."""
    an = TRUTH[ANTHROPIC]["scenarios"]
    for scenario in SCENARIOS:
        calls = counted(ANTHROPIC, scenario)
        assert {e.call.request_model for e in calls} <= {"anthropic"}, scenario  # type: ignore[union-attr]
        served = [e.call.response_model for e in calls]  # type: ignore[union-attr]
        want = [m[1] for m in an[scenario]["models"]]
        assert served == (["anthropic", "anthropic"] if scenario == "streaming" else want), scenario
        assert [r for e in calls for r in e.call.finish_reasons] == ["stop"] * len(calls)  # type: ignore[union-attr]
        assert [e.call.streaming for e in calls] == [scenario == "streaming"] * len(calls)  # type: ignore[union-attr]
        # OpenLIT's cost is "0" (no price for model "anthropic"): not a reported price; computed from the served model
        assert {e.call.cost_source for e in calls} <= {"unpriced" if scenario == "streaming" else "computed"}
    assert an["tool_use"]["stop_reasons"] == ["tool_use", "end_turn"]
    assert an["streaming"]["stop_reasons"] == ["end_turn", "max_tokens"]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_two_failed_calls_once_each(source: str) -> None:
    """429 then 500 surfaced to the app (langchain-openai / langchain-anthropic re-raise them as their own
    subclasses, the span's error.type): two failed ``chat`` spans; the node and callback agent spans above them are
    ERROR too, and are agents, no calls; the workflow span of a failed invoke has only its name attributes."""
    failed = failed_in_errors(source, SCENARIOS)
    model, provider, types = (("gpt-4o-mini", "openai", ["OpenAIRateLimitError", "OpenAIAPIError"]) if source == OPENAI
                              else ("anthropic", "anthropic", ["AnthropicRateLimitError", "AnthropicAPIError"]))
    assert [(e.call.provider, e.call.request_model) for e in failed] == [(provider, model)] * 2  # type: ignore[union-attr]
    assert [e.call.error_type for e in failed] == types  # type: ignore[union-attr]


#: every span that is not a call, by (name, scope's last part) -> the kinds it reads as
KINDS = {("workflow", "app"): {"other"}, ("create_agent default", "langgraph"): {"agent"},
         ("invoke_workflow LangGraph", "langgraph"): {"workflow", "other"},
         ("invoke_agent agent", "langgraph"): {"agent"}, ("invoke_agent agent", "langchain"): {"agent"},
         ("execute_tool get_order_status", "langchain"): {"tool"}}


@pytest.mark.parametrize("source", SOURCES)
def test_one_model_call_counts_once(source: str) -> None:
    """Each answered call counts once, on its LangChain ``chat`` span; the graph, node and agent spans read as
    workflow / agent kinds, never as calls, and the node span's copy of a call's usage (OpenAI) is marked as a copy
    of the counted span with the same response id, not counted as usage nothing below it reports."""
    kinds: dict[tuple[str, str], set[str]] = {}
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output"))
        truth = TRUTH[source]["scenarios"][scenario]
        assert len(calls) == truth["calls"] - truth["failed"], scenario
        assert all(e.view.name.startswith("chat ") and e.scope.name == CALL_SCOPE for e in calls), scenario
        inference = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert len(inference) == truth["calls"], scenario  # no second span of any call, failed ones included
        ids = {e.call.response_id: e for e in calls if e.call is not None and e.call.response_id}
        for e in tree.spans:
            c = e.call
            if c is None or c.kind == "inference":
                continue
            kinds.setdefault((e.view.name, e.scope.name.split(".")[-1]), set()).add(c.kind)
            assert not c.counted, (scenario, e.view.name)
            if e.view.name == "invoke_agent agent" and c.has_usage:
                assert source == OPENAI and c.response_id in ids, scenario
                assert e.get(semconv.USAGE_MISMATCH) == (
                    f"a copy of span {ids[c.response_id].span_id.hex()}'s usage (same response id)")
    assert set(kinds) == set(KINDS) and all(kinds[k] <= KINDS[k] for k in kinds), kinds


@pytest.mark.parametrize("source", SOURCES)
def test_prompts_and_requested_tools(source: str) -> None:
    """The system prompt (``gen_ai.system_instructions``) apart from the user's turns (``gen_ai.input.messages``);
    the tool the model asked for, from the call span's ``gen_ai.tool.name`` / ``gen_ai.tool.call.*``."""
    for scenario in SCENARIOS:
        for e in counted(source, scenario):
            c = e.call
            assert c is not None and c.system_content and c.input_content, (scenario, e.view.name)
            assert "ACME" in c.system_content and "user" in c.input_content and "ACME" not in c.input_content
    asked = [tuple(n for n, _ in e.call.requested_tools) for e in counted(source, "tool_use")]  # type: ignore[union-attr]
    assert asked == [("get_order_status",), ()]
    for scenario in SCENARIOS:
        if scenario != "tool_use":
            assert not any(e.call.requested_tools for e in counted(source, scenario))  # type: ignore[union-attr]
