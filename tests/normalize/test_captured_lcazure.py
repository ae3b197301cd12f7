"""Real spans of langchain-azure-ai's OpenTelemetry tracer (langchain-azure-ai 1.2.12, ``AzureAIOpenTelemetryTracer``
passed as a LangChain callback) over langgraph's prebuilt ``create_react_agent``, counted against the fake servers'
ground truth (tests/normalize/gen/lcazure/generate.py made the data files, with the Recorder's TracerProvider in
place of Azure Monitor, nothing sent beyond loopback; versions in its requirements.txt and in lcazure-truth.json):

* ``langchain-azure-ai-tracer``: over langchain-openai ``ChatOpenAI`` and the fake OpenAI Chat Completions API;
* ``langchain-azure-ai-tracer-anthropic``: over langchain-anthropic ``ChatAnthropic`` and the fake Anthropic API.

What the tracer writes (langchain_azure_ai/callbacks/tracers/inference_tracing.py, scope
``AzureAIOpenTelemetryTracer``, its ``name`` argument's default): ``invoke_agent {name}`` (CLIENT) for every chain
run its LangGraph filter keeps (on_chain_start, _should_ignore_agent_span): the graph (agent name the tracer's own
``name``), the model node ``call_model`` and, inside it, the ``RunnableSequence`` of prompt and model and its
``Prompt``; ``chat {model}`` (CLIENT) per chat-model run (_handle_model_start, on_llm_end) and ``execute_tool
{tool}`` (INTERNAL) per tool run. A ``chat`` span is the child of the ``RunnableSequence`` span (LangChain's run
ids), the node span's sibling. Each ``chat`` span's usage is added to every ``invoke_agent`` span above it
(_accumulate_usage_to_agent_spans: ``gen_ai.usage.input_tokens`` / ``output_tokens`` summed on the graph's and the
sequence's span): those aggregates read as agents' usage, cross-checked, never counted. Only
``gen_ai.usage.input_tokens`` and ``output_tokens`` are written: ``_extract_usage_tokens`` reads prompt / completion /
total counts and nothing else, so no cache or reasoning count is on any span. ``gen_ai.response.finish_reasons`` is a
JSON string (``_as_json_attribute``), read from ``generation_info["finish_reason"]``; the messages are semconv
``gen_ai.input.messages`` / ``gen_ai.output.messages`` / ``gen_ai.system_instructions`` JSON, the requested tools
the output messages' ``tool_call`` parts. No stream flag is written (on_llm_new_token records metrics only), and no
cost. Every field the reader needs is already read by the semconv rules: no reader change for this source.
"""

from __future__ import annotations

import json
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

TRUTH: dict[str, Any] = json.loads((DATA / "lcazure-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
OPENAI, ANTHROPIC = "langchain-azure-ai-tracer", "langchain-azure-ai-tracer-anthropic"
SOURCES = [OPENAI, ANTHROPIC]
SCOPE = "AzureAIOpenTelemetryTracer"

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read.
#: langchain-azure-ai 1.2.12 inference_tracing.py on_llm_end -> _resolve_usage_from_llm_output -> _extract_usage_tokens
#: takes ``prompt_tokens`` / ``completion_tokens`` / ``total_tokens`` from ChatOpenAI's ``llm_output["token_usage"]``
#: and drops ``prompt_tokens_details.cached_tokens`` and ``completion_tokens_details.reasoning_tokens``: the input
#: (cache included, as OpenAI counts it) and the output (reasoning included) are right, their parts are not on the span
GAPS: dict[tuple[str, str, str], Any] = {
    (OPENAI, "cached", "cache_read"): 0,
    (OPENAI, "tool_use", "reasoning"): 0,
}
#: the served model as read, per successful call: a stream's ``LLMResult.llm_output`` is None (langchain-core's
#: generate_from_stream), and on_llm_end reads ``gen_ai.response.model`` / ``gen_ai.response.id`` from
#: ``llm_output["model_name"]`` / ``llm_output["id"]`` only (the id falls back to the message's
#: ``response_metadata["id"]``, which langchain-openai 1.8.1 does not set on a streamed message): no served model and
#: no response id on a streamed call's span
SERVED_GAPS = {(OPENAI, "streaming"): [None, None]}


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0, cache_write=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return scenario_totals(OPENAI, parts_within=True, roots_carry_totals=True)


def test_captures_and_their_truth() -> None:
    """Both sources were captured for every scenario, and the fakes did send cache reads and writes, reasoning and
    a stream's usage."""
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS)
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        assert TRUTH[s]["versions"]["langchain-azure-ai"] == "1.2.12", s
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
    assert got["scopes"] == {SCOPE}
    assert got["providers"] == {"openai"}  # ls_provider "openai" (_infer_provider_name); the failed calls name it too
    assert got["models"] == [m[0] for m in want["models"]]
    assert got["served"] == SERVED_GAPS.get((OPENAI, scenario), [m[1] for m in want["models"]])
    assert [r for rs in got["finish"] for r in rs] == want["finish_reasons"]


def test_openai_streams_cut_and_cost(results: dict[str, Any]) -> None:
    """The stream cut at max_tokens reads as cut (``["length"]``); no call reads as streamed: the tracer writes no
    stream flag (on_llm_new_token only records the time-to-first-chunk / per-chunk histograms; a streamed call's span
    has the keys of a plain one less the served model and id), so the cut stream scores as a truncated answer
    (tests/score/test_captured_scores.py KNOWN). Every cost is computed."""
    assert all(set(results[sc]["streamed"]) <= {None} for sc in SCENARIOS)
    assert [cut_by_finish_reason(rs) for rs in results["streaming"]["finish"]] == [False, True]
    for scenario in SCENARIOS:
        assert {e.call.cost_source for e in counted(OPENAI, scenario)} <= {"computed"}  # type: ignore[union-attr]
    assert [e.call.response_id for e in counted(OPENAI, "streaming")] == [None, None]  # type: ignore[union-attr]


#: Anthropic's numbers as the tracer writes them over ChatAnthropic: on_llm_end -> _resolve_usage_from_llm_output
#: tries _extract_bedrock_usage first, which takes ``llm_output["usage"]`` (langchain-anthropic 1.7.10 chat_models.py
#: _format_output puts the raw Messages API usage there) before the message's usage_metadata: ``input_tokens`` is
#: Anthropic's, without the cache reads and writes, and ``cache_read_input_tokens`` / ``cache_creation_input_tokens``
#: are dropped (_normalize_bedrock_usage_dict keeps prompt / completion / total only). So every call reads Anthropic's
#: uncached input and no cache count is on any span. A stream: its llm_output is None, the tracer falls back to the
#: message's usage_metadata, which langchain-anthropic 1.7.10 takes from message_delta only (message_start: "don't
#: include usage_metadata yet"); the first stream's message_delta carries output only (the docs' example), so its
#: input is 0; the second's carries every count (as the API sends today) and reads right.
ANTHROPIC_READ = {"healthy": (2550, 0, 0, 240), "cached": (890, 0, 0, 330), "streaming": (0 + 700, 0, 0, 112),
                  "tool_use": (940, 0, 0, 100), "errors": (0, 0, 0, 0), "duplicate": (1040, 0, 0, 60)}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_anthropic_tokens_as_the_tracer_leaves_them(scenario: str) -> None:
    truth = TRUTH[ANTHROPIC]["scenarios"][scenario]
    calls = counted(ANTHROPIC, scenario)
    assert len(calls) == truth["calls"] - truth["failed"]
    got = token_sums(calls, ("input", "cache_read", "cache_write", "output"))
    assert tuple(got.values()) == ANTHROPIC_READ[scenario]
    # every gap is a loss against the truth, never an over-count
    assert got["input"] <= truth["uncached_input"] + truth["cache_read"] + truth["cache_write"]
    assert got["output"] == truth["output"]
    assert all(e.scope.name == SCOPE for e in calls)


def test_anthropic_provider_models_stop_reasons_and_streams() -> None:
    """No provider on any span: _infer_provider_name knows ``ls_provider`` openai / azure / github / bedrock and
    OpenAI-style ``base_url`` hosts only, and ChatAnthropic's ``ls_provider`` "anthropic" is none of them (no
    ``server.address`` either: ChatAnthropic's URL is ``anthropic_api_url``); the cost is still computed, from the
    model's name (providers.provider_from_model, for pricing only). The request model is right; the served model is
    ``llm_output["model_name"]``, absent for a stream. No stop reason: the tracer reads
    ``generation_info["finish_reason"]``, ChatAnthropic's generations have no generation_info (the stop reason is in
    llm_output / response_metadata ``stop_reason``): the tool_use turn and the stream cut at max_tokens carry no
    finish reason, so no truncation is scored (tests/score/test_captured_scores.py). No stream flag."""
    an = TRUTH[ANTHROPIC]["scenarios"]
    for scenario in SCENARIOS:
        calls = counted(ANTHROPIC, scenario)
        assert {e.call.provider for e in calls} <= {None}, scenario  # type: ignore[union-attr]
        assert [e.call.request_model for e in calls] == [m[0] for m in an[scenario]["models"]]  # type: ignore[union-attr]
        served = [e.call.response_model for e in calls]  # type: ignore[union-attr]
        assert served == ([None, None] if scenario == "streaming" else [m[1] for m in an[scenario]["models"]])
        assert [r for e in calls for r in e.call.finish_reasons] == [], scenario  # type: ignore[union-attr]
        assert [e.call.streaming for e in calls] == [None] * len(calls), scenario  # type: ignore[union-attr]
        assert {e.call.cost_source for e in calls} <= {"computed"}, scenario  # type: ignore[union-attr]
    assert an["tool_use"]["stop_reasons"] == ["tool_use", "end_turn"]
    assert an["streaming"]["stop_reasons"] == ["end_turn", "max_tokens"]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_two_failed_calls_once_each(source: str) -> None:
    """429 then 500 surfaced to the app (langchain-openai / langchain-anthropic re-raise them as their own subclasses,
    the span's error.type, on_llm_error -> _end_span): two failed ``chat`` spans, no usage; the graph, node and
    sequence spans above them are ERROR too (on_chain_error), agents, no calls."""
    failed = failed_in_errors(source, SCENARIOS)
    model, provider, types = (("gpt-4o-mini", "openai", ["OpenAIRateLimitError", "OpenAIAPIError"]) if source == OPENAI
                              else ("claude-haiku-4-5", None, ["AnthropicRateLimitError", "AnthropicAPIError"]))
    assert [(e.call.provider, e.call.request_model) for e in failed] == [(provider, model)] * 2  # type: ignore[union-attr]
    assert [e.call.error_type for e in failed] == types  # type: ignore[union-attr]
    for sc, tree in trees(source):
        if sc == "errors":
            agents = [e for e in tree.spans if e.view.name.startswith("invoke_agent") and e.view.status_code == 2]
            assert len(agents) == 6 and all(e.call is not None and e.call.kind == "agent" for e in agents)


#: every span that is not a call -> the kinds it reads as
KINDS = {"workflow": {"other"}, f"invoke_agent {SCOPE}": {"agent"}, "invoke_agent call_model": {"agent"},
         "invoke_agent RunnableSequence": {"agent"}, "invoke_agent Prompt": {"agent"},
         "execute_tool get_order_status": {"tool"}}


@pytest.mark.parametrize("source", SOURCES)
def test_one_model_call_counts_once(source: str) -> None:
    """Each answered call counts once, on its ``chat`` span; the graph, node, sequence and prompt spans
    (``invoke_agent``, some with the summed usage of the calls below them) read as agents, never as calls, and their
    sums agree with the counted calls below them (no usage mismatch marked)."""
    from otel_tokenwatch import semconv

    kinds: dict[str, set[str]] = {}
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output"))
        truth = TRUTH[source]["scenarios"][scenario]
        assert len(calls) == truth["calls"] - truth["failed"], scenario
        assert all(e.view.name.startswith("chat ") and e.scope.name == SCOPE for e in calls), scenario
        inference = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert len(inference) == truth["calls"], scenario  # no second span of any call, failed ones included
        for e in tree.spans:
            c = e.call
            if c is None or c.kind == "inference":
                continue
            kinds.setdefault(e.view.name, set()).add(c.kind)
            assert not c.counted and e.get(semconv.USAGE_MISMATCH) is None, (scenario, e.view.name)
    assert kinds == KINDS


@pytest.mark.parametrize("source", SOURCES)
def test_prompts_and_requested_tools(source: str) -> None:
    """The system prompt (``gen_ai.system_instructions``) apart from the user's turns (``gen_ai.input.messages``);
    the tool the model asked for, from the output messages' ``tool_call`` parts."""
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
