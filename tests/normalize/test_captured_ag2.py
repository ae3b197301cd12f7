"""Real spans of AG2's ``autogen`` agents (ag2 0.14.0: a ``UserProxyAgent`` initiating a chat with an
``AssistantAgent`` whose ``LLMConfig`` points at the fake OpenAI API, a function tool registered with
``register_function``), counted against the fake server's truth (tests/normalize/gen/ag2/generate.py made the data
files, nothing sent beyond loopback; versions in its requirements.txt and in ag2-truth.json). AG2's answer cache is
off (``cache_seed=None``) except in ag2-otel's ``disk_cache`` scenario. ag2 1.x has no ``autogen`` package (a new
``ag2.Agent`` framework with a TelemetryMiddleware, captured as ``ag2-telemetry``: test_captured_ag2new.py): both
tracers below trace the 0.x line only.

* ``ag2-otel``: AG2's own tracing (autogen/opentelemetry, scope ``opentelemetry.instrumentation.ag2``).
  ``instrument_llm_wrapper`` makes one ``chat {model}`` CLIENT span per ``OpenAIWrapper.create`` (semconv names:
  gen_ai.operation.name chat, gen_ai.provider.name openai from the config's api_type, request and served model,
  ``gen_ai.usage.input_tokens`` / ``output_tokens`` = the response's prompt / completion tokens, finish reasons as a
  JSON string, AG2's own price as ``gen_ai.usage.cost``, with capture_messages the request and answer as semconv
  gen_ai.input.messages / output.messages with tool_call parts); ``instrument_agent`` makes ``conversation
  {agent}`` (initiate_chat), ``invoke_agent {agent}`` (generate_reply) and ``execute_tool {tool}`` spans. The
  conversation span's usage is its agents' running total (dialects._Plan: no usage of that span), an agent step.
* ``ag2-openlit``: OpenLIT 1.45.0. Its ag2 instrumentor's spans (scope ``openlit.instrumentation.ag2``, provider
  ``ag2``): ``create_agent {agent}`` per ConversableAgent built (``unknown_agent`` for an AssistantAgent, an ERROR
  span with ``error.type`` AttributeError for a UserProxyAgent: OpenLIT's own failure, the agent is built), and
  ``execute_task {agent}`` per generate_reply / receive / send (``gen_ai.agent.message_type``), which say operation
  ``chat`` and carry estimated tokens: agent steps without usage (dialects.OPENLIT_AG2_STEP). Each model call is the
  ``chat gpt-4o-mini`` span of OpenLIT's openai instrumentor inside the assistant's generate_reply step, read as
  openlit-langchain-openai's are (cache reads, a stream flag, a response id, OpenLIT's price as cost).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_tokenwatch.pipeline.call import cut_by_finish_reason
from otel_tokenwatch.pipeline.normalize.dialects import kind_of
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

TRUTH: dict[str, Any] = json.loads((DATA / "ag2-truth.json").read_text())
OTEL, OPENLIT = "ag2-otel", "ag2-openlit"
SOURCES = [OTEL, OPENLIT]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCENARIOS_OF = {OTEL: [*SCENARIOS, "disk_cache"], OPENLIT: SCENARIOS}
SCOPES = {OTEL: "opentelemetry.instrumentation.ag2", OPENLIT: "openlit.instrumentation.openai"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # ag2 0.14.0 autogen/opentelemetry/instrumentators/llm_wrapper.py _set_llm_response_attributes writes
    # ``usage.prompt_tokens`` and ``usage.completion_tokens`` only: the cache reads and reasoning tokens of the
    # response's prompt_tokens_details / completion_tokens_details stay inside input and output, never named
    (OTEL, "cached", "cache_read"): 0,
    (OTEL, "tool_use", "reasoning"): 0,
    # ... and traced_create wraps OpenAIWrapper.create around AG2's cache lookup (oai/client.py create: ``cache.get
    # (key)``, returned without calling the client): the 2nd identical chat's answer, from AG2's disk cache, is a
    # ``chat`` span with the cached response's usage, cost and finish reason, no response id (none is written) and
    # nothing that says cache; the fake got one request. Two calls read, the 2nd's tokens never billed
    (OTEL, "disk_cache", "calls"): 2,
    (OTEL, "disk_cache", "input"): 1040,
    (OTEL, "disk_cache", "output"): 60,
    # openlit 1.45.0 instrumentation/openai/utils.py process_chat_response reads prompt_tokens, completion_tokens and
    # prompt_tokens_details.cached_tokens; ``_reasoning_tokens`` is set for the Responses API only (the
    # response.completed branch): a chat completion's reasoning tokens stay inside its output, unnamed
    (OPENLIT, "tool_use", "reasoning"): 0,
}
#: the stream flag per counted call: AG2's chat span has none (autogen/opentelemetry/utils.py set_llm_request_params:
#: temperature, max_tokens, top_p and the penalties; a stream cut at max_tokens scores as a truncated answer,
#: tests/score/test_captured_scores.py KNOWN); OpenLIT writes gen_ai.request.stream on every call
STREAMED = {OTEL: [None, None], OPENLIT: [True, True]}
#: also read less exactly than the fake knew it, or not at all (no count is lost):
#: - ag2-otel: no response id (llm_wrapper.py sets none), so nothing can tell a cache hit from a call; AG2's
#:   ``gen_ai.usage.cost`` is its own price table's (oai/client.py cost, OAI_PRICE1K); that key alone makes
#:   the span read as dialect "openlit" (dialects.dialect_of), whose only consequence, an Anthropic input read as
#:   cache-exclusive, has nothing to act on here (AG2 writes no cache count);
#: - ag2-openlit: the ag2 steps' names say nothing of which model the agent uses (``gen_ai.request.model``
#:   "unknown": utils.py reads ``llm_config.get("model")`` of an LLMConfig object); no conversation span at all
#:   (initiate_chat is not wrapped, only ConversableAgent.run): the steps of one chat are siblings under the root.


def expected(source: str, scenario: str) -> dict[str, Any]:
    return with_gaps(TRUTH[source]["scenarios"][scenario], GAPS, source, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True, roots_carry_totals=True) for s in SOURCES}


def test_captures_and_their_truth() -> None:
    """Both sources were captured for every scenario (ag2-otel's disk-cache one too), and the fake did send cache
    reads, reasoning and the streams' usage (AG2's OpenAIClient asks for it itself)."""
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS_OF[s])
        assert TRUTH[s]["versions"]["ag2"] == "0.14.0", s
        sc = TRUTH[s]["scenarios"]
        assert (sc["cached"]["cache_read"], sc["tool_use"]["reasoning"], sc["streaming"]["input"]) == (17920, 192, 1340)
        assert sc["streaming"]["usage_unsent"] == 0
    assert TRUTH[OPENLIT]["versions"]["openlit"] == "1.45.0"
    assert TRUTH[OTEL]["scenarios"]["disk_cache"]["calls"] == 1  # the 2nd chat never reached the fake


@pytest.mark.parametrize("source", SOURCES)
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str) -> None:
    for scenario in SCENARIOS_OF[source]:
        got, want = results[source][scenario], expected(source, scenario)
        assert_totals(got, want)
        assert got["scopes"] == {SCOPES[source]}, scenario
        assert got["providers"] == {"openai"}, scenario  # a failed call names its provider too
        n = want["calls"] - want["failed"]
        models = want["models"] * n if scenario == "disk_cache" else want["models"]
        assert got["models"] == [m[0] for m in models], scenario
        assert got["served"] == [m[1] for m in models], scenario
        reasons = [r for rs in got["finish"] for r in rs]
        assert reasons == (want["finish_reasons"] * n if scenario == "disk_cache" else want["finish_reasons"])


@pytest.mark.parametrize("source", SOURCES)
def test_streams_and_cache(results: dict[str, Any], source: str) -> None:
    r = results[source]
    assert r["streaming"]["streamed"] == STREAMED[source]
    assert all(set(r[sc]["streamed"]) <= {False, None} for sc in SCENARIOS if sc != "streaming")
    assert [cut_by_finish_reason(rs) for rs in r["streaming"]["finish"]] == [False, True]
    if source == OPENLIT:
        assert [e.call.cache_read_tokens for e in counted(source, "cached")] == [0, 8960, 8960]  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_and_agent_steps_are_not(source: str) -> None:
    """429 then 500 surfaced to the app (AG2's OpenAIWrapper re-raises the openai error of its last config): two
    failed ``chat`` spans, each once; the agent spans around them, ERROR too, are no calls."""
    failed = failed_in_errors(source, SCENARIOS_OF[source])
    assert [(e.call.provider, e.call.request_model) for e in failed] == [("openai", "gpt-4o-mini")] * 2  # type: ignore[union-attr]
    if source == OTEL:
        assert [e.call.error_type for e in failed] == ["RateLimitError", "InternalServerError"]  # type: ignore[union-attr]
    for sc, tree in trees(source):
        if sc == "errors":
            steps = [e for e in tree.spans if e.view.status_code == 2 and not e.view.name.startswith("chat ")]
            assert steps and all(e.call is None or e.call.kind in ("agent", "other") for e in steps)


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """One counted span per answered call (ag2-otel's cache hit aside: GAPS); the agent spans are agents (AG2's
    conversation and invoke_agent, OpenLIT's create_agent and execute_task steps), never calls, whatever operation
    or usage they write, and the tool run is a tool."""
    kinds: dict[str, set[str]] = {}
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output"))
        want = expected(source, scenario)
        assert len(calls) == want["calls"] - want["failed"], scenario
        ids = [e.call.response_id for e in calls if e.call is not None]
        assert all(ids) if source == OPENLIT else not any(ids), scenario
        for e in tree.spans:
            if e.call is not None and e.call.kind != "inference":
                kinds.setdefault(e.view.name.split(" ")[0], set()).add(e.call.kind)
            if e.call is not None and e.call.kind == "agent":
                assert not e.call.has_usage and not e.call.counted, (scenario, e.view.name)
    if source == OTEL:
        assert kinds == {"workflow": {"other"}, "conversation": {"agent"}, "invoke_agent": {"agent"},
                         "execute_tool": {"tool"}}
    else:
        # spans that failed carry no attribute at all, only the error (the UserProxyAgent's create_agent, the
        # error scenario's steps): "other"
        assert kinds == {"workflow": {"other"}, "create_agent": {"agent", "other"}, "execute_task": {"agent", "other"}}


@pytest.mark.parametrize("source", SOURCES)
def test_prompts_tools_and_cost(source: str) -> None:
    """The request's messages (AG2: semconv gen_ai.input.messages with parts; OpenLIT: its openai span's): the
    system prompt apart, the customer's question in the input; the tool the model asked for, from the output
    messages' tool_call part; cost as each library reported it (AG2's price table, OpenLIT's pricing file)."""
    for scenario in SCENARIOS_OF[source]:
        for e in counted(source, scenario):
            c = e.call
            assert c is not None and c.system_content and c.input_content, (scenario, e.view.name)
            assert "ACME" in c.system_content and "user" in c.input_content and "ACME" not in c.input_content
            assert c.cost_source == "reported" and c.cost_usd, (scenario, e.view.name)
    asked = [tuple(n for n, _ in e.call.requested_tools) for e in counted(source, "tool_use")]  # type: ignore[union-attr]
    assert asked == [("get_order_status",), ()]
    for scenario in SCENARIOS_OF[source]:
        if scenario != "tool_use":
            assert not any(e.call.requested_tools for e in counted(source, scenario))  # type: ignore[union-attr]


def test_the_tool_run_is_ag2s_execute_tool_span() -> None:
    tools = [e for sc, t in trees(OTEL) if sc == "tool_use" for e in t.spans
             if e.call is not None and e.call.kind == "tool"]
    assert [(e.view.name, e.call.tool_name) for e in tools] == [  # type: ignore[union-attr]
        ("execute_tool get_order_status", "get_order_status")]


def test_openlit_ag2_steps_are_agents_by_their_message_type() -> None:
    """OpenLIT's ag2 step spans say operation chat (instrumentation/ag2/utils.py): the step key makes them agents;
    a chat span without it stays a model call."""
    step = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "ag2", "gen_ai.agent.message_type": "send",
            "gen_ai.usage.input_tokens": 18}
    assert kind_of(step, "execute_task support", "chat") == "agent"
    del step["gen_ai.agent.message_type"]
    assert kind_of(step, "chat gpt-4o-mini", "chat") == "inference"
