"""Real spans of Semantic Kernel's agent framework and of LlamaIndex's own OpenTelemetry integration over the OpenAI
client, counted against the fake server's truth (tests/normalize/gen/skli/generate.py made the data files, nothing
sent beyond loopback; versions in its requirements.txt and in skli-truth.json).

* ``semantic-kernel-agent``: semantic-kernel 1.45.0 ``ChatCompletionAgent`` over ``OpenAIChatCompletion`` with a kernel
  function plugin, invoked by ``get_response`` / ``invoke`` / ``invoke_stream`` with a ``ChatHistoryAgentThread``,
  diagnostics on (``..._OTEL_DIAGNOSTICS`` and ``..._SENSITIVE``). ``invoke_agent support`` (scope
  ``semantic_kernel.utils.telemetry.agent_diagnostics.decorators``: gen_ai.operation.name invoke_agent, the agent's
  id, name, tool definitions and its new input / final output messages, no usage) > ``AutoFunctionInvocationLoop``
  (``sk.available_functions``) > ``chat {model}`` (the model diagnostics' span, as in semantic-kernel-openai:
  ``gen_ai.system`` openai, ``gen_ai.usage.input_tokens`` / ``output_tokens``, ``gen_ai.response.finish_reason`` as
  ``FinishReason.STOP``) and ``execute_tool orders-get_order_status`` (functions/kernel_function.py via
  model_diagnostics/function_tracer.py: gen_ai.tool.name, call id, arguments, result). One model call counts once; the
  agent span is an agent, never a call, its error (``error.type`` ServiceResponseException) no failed call.
* ``llamaindex-otel``: llama-index-observability-otel 0.7.0 ``LlamaIndexOpenTelemetry(...).start_registering()`` over a
  ``FunctionAgent`` (llama-index-core 0.14.25) and llama-index-llms-openai 0.8.3's ``OpenAI``. No GenAI attributes at
  all: one span per dispatcher span (``FunctionAgent.run`` > ``BaseWorkflowAgent.run_agent_step`` > ``OpenAI.achat``,
  ``FunctionTool.acall``, ...; scope ``llamaindex.opentelemetry.tracer``), the instrumentation events as span events
  named after their class with their ``model_dump()`` flattened into dot keys: the model call is the span with an
  ``LLMChatStartEvent`` (``model_dict.model_name``, ``model_dict.class_name`` openai_llm, ``messages``,
  ``additional_kwargs.tools``) and, when it answered, an ``LLMChatEndEvent`` whose ``response.raw.*`` is OpenAI's
  Chat Completions answer (id, served model, choices, the usage object with cached and reasoning tokens):
  read by dialects._llamaindex_otel_call; a failed call has the SDK's ``exception`` event.
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
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((DATA / "skli-truth.json").read_text())
SK, LI = "semantic-kernel-agent", "llamaindex-otel"
SOURCES = [SK, LI]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPES = {SK: "semantic_kernel.utils.telemetry.model_diagnostics.decorators", LI: "llamaindex.opentelemetry.tracer"}

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {
    # semantic-kernel 1.45.0 utils/telemetry/model_diagnostics/decorators.py _set_completion_response writes
    # ``usage.prompt_tokens`` and ``usage.completion_tokens`` only: the cache reads and the reasoning tokens the
    # CompletionUsage holds are inside input and output, never named (as in semantic-kernel-openai)
    (SK, "cached", "cache_read"): 0,
    (SK, "tool_use", "reasoning"): 0,
    # llama-index-observability-otel 0.7.0 base.py: a streamed call's dispatcher span (``OpenAI.astream_chat``) ends
    # when the method returns its generator (llama-index-core 0.14.25 core/llms/callbacks.py
    # wrapped_async_llm_chat returns ``wrapped_gen()``), and OTelCompatibleEventHandler.handle drops every event
    # for a span no longer open (``current_span_id not in self.span_handler.all_spans``): the chunks' and the
    # LLMChatEndEvent with the answer and its usage never reach a span. The 1st stream asked for no usage (truth
    # ``usage_unsent``), the 2nd did (``stream_options.include_usage``) and got it: neither span holds any
    (LI, "streaming", "input"): 0,
    (LI, "streaming", "output"): 0,
    (LI, "streaming", "unread"): 2,
}
#: what is read less exactly than the fake knew it, or not at all (no count is lost):
#: - SK: no served model (decorators.py writes no gen_ai.response.model) and no stream flag (trace_streaming_chat_
#:   completion opens the span trace_chat_completion does); its chat spans carry no content: the messages, the
#:   requested tool calls among them, go to Python log records only (``_set_completion_input`` /
#:   ``_set_completion_response`` ``logger.info``; the generator ships them as otlp_logs, which the normalizer does
#:   not read): no prompt, no requested tool on a model call; the tool run is the execute_tool span. The
#:   invoke_agent span's messages are the agent's new input and its final answer, not a request;
#: - SK's failed call: ``error.type`` is str() of the exception class (decorators.py ``str(type(exception))``);
#: - LlamaIndex: no max_tokens or temperature (LLMMetadata has ``num_output``, the LLM's output budget, which
#:   LLMs fill with defaults too, so it is not read as the request's max_tokens); the tool run
#:   (``FunctionTool.acall``, no attribute, no event) is no tool span.
STREAMED = {SK: [None, None], LI: [True, True]}


def truth(source: str, scenario: str) -> dict[str, Any]:
    t = TRUTH[source]["scenarios"][scenario]
    return with_gaps(t, GAPS, source, scenario, unread=t["usage_unsent"])


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True, roots_carry_totals=True) for s in SOURCES}


def test_captures_and_their_truth() -> None:
    """Both sources were captured for every scenario, and the fake did send cache reads, reasoning and a stream's
    usage: whatever is missed is the library's or the reader's, not the capture's."""
    assert sorted(TRUTH) == sorted(SOURCES)
    for s in SOURCES:
        capture_lines_are(s, SCENARIOS)
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        sc = TRUTH[s]["scenarios"]
        assert (sc["cached"]["cache_read"], sc["tool_use"]["reasoning"], sc["streaming"]["input"]) == (17920, 192, 1340)
    assert TRUTH[SK]["versions"]["semantic-kernel"] == "1.45.0"
    assert TRUTH[LI]["versions"]["llama-index-observability-otel"] == "0.7.0"
    assert TRUTH[SK]["scenarios"]["streaming"]["usage_unsent"] == 0  # SK asks for the stream's usage itself
    assert TRUTH[LI]["scenarios"]["streaming"]["usage_unsent"] == 1


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], truth(source, scenario)
    assert_totals(got, want)  # unread: the successful calls whose span holds no usage
    assert got["scopes"] <= {SCOPES[source]}
    assert got["providers"] <= {"openai"} and (got["providers"] or not got["calls"])
    assert got["models"] == [m for m, _ in want["models"]], "request model of each successful call"
    served = [s for _, s in want["models"]] if source == LI else [None] * len(want["models"])
    if source == LI and scenario == "streaming":
        served = [None, None]  # no answer on a stream's span (GAPS)
    assert got["served"] == served


@pytest.mark.parametrize("source", SOURCES)
def test_finish_reasons_streams_and_parts(results: dict[str, Any], source: str) -> None:
    """The finish reasons as the fake sent them (SK's ``FinishReason.LENGTH`` read as length); the cut stream reads as
    a stream where the span tells (LlamaIndex: the method's name), and nothing else does."""
    for scenario in SCENARIOS:
        want = TRUTH[source]["scenarios"][scenario]["finish_reasons"]
        if source == LI and scenario == "streaming":
            want = []  # no LLMChatEndEvent on a stream's span (GAPS)
        assert results[source][scenario]["finish_reasons"] == want, scenario
    assert results[source]["streaming"]["streamed"] == STREAMED[source]
    assert all(set(results[source][sc]["streamed"]) <= {False, None} for sc in SCENARIOS if sc != "streaming")
    if source == SK:
        assert [cut_by_finish_reason(rs) for rs in results[SK]["streaming"]["finish"]] == [False, True]
    else:
        assert [e.call.cache_read_tokens for e in counted(LI, "cached")] == [0, 8960, 8960]  # type: ignore[union-attr]
        assert [e.call.reasoning_tokens for e in counted(LI, "tool_use")] == [128, 64]  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_errors_are_failed_calls_once(source: str) -> None:
    """429 then 500 surfaced to the app: two failed model calls, none with usage; SK's invoke_agent and
    AutoFunctionInvocationLoop spans around each, ERROR too, and LlamaIndex's run_agent_step and FunctionAgent.run
    spans, ERROR with the same exception event, are no calls."""
    failed = failed_in_errors(source, SCENARIOS)
    assert [(e.call.provider, e.call.request_model) for e in failed] == [("openai", "gpt-4o-mini")] * 2  # type: ignore[union-attr]
    types = [e.call.error_type for e in failed]  # type: ignore[union-attr]
    if source == SK:
        assert types == ["<class 'semantic_kernel.exceptions.service_exceptions.ServiceResponseException'>"] * 2
    else:
        assert types == ["openai.RateLimitError", "openai.InternalServerError"]
    for sc, tree in trees(source):
        if sc == "errors":
            around = [e for e in tree.spans if e.view.status_code == 2 and e.call is not None
                      and e.call.kind != "inference"]
            assert len(around) == 4, [e.view.name for e in around]  # two around each failed call
            assert {e.call.kind for e in around} == ({"agent", "other"} if source == SK else {"other"})  # type: ignore[union-attr]


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_counted_twice(source: str) -> None:
    """One counted span per answered call, with its response id; the agent, loop, workflow-step and tool spans are
    not calls; SK's execute_tool span is a tool with its name."""
    kinds: dict[str, set[str]] = {}
    for scenario, tree in trees(source):
        calls = counted_once(tree, ("input", "output"))
        t = truth(source, scenario)
        assert len(calls) == t["calls"] - t["failed"] - t["unread"], scenario
        ids = [e.call.response_id for e in calls if e.call is not None]
        assert len(set(ids)) == len(ids) and all(ids), scenario
        inference = [e for e in tree.spans if e.call is not None and e.call.kind == "inference"]
        assert len(inference) == t["calls"], scenario  # each call once, failed and unread ones included
        for e in tree.spans:
            if e.call is not None and e.call.kind != "inference":
                kinds.setdefault(e.view.name, set()).add(e.call.kind)
                assert not e.call.counted and not e.call.has_usage, e.view.name
    if source == SK:
        assert kinds == {"workflow": {"other"}, "invoke_agent support": {"agent"},
                         "AutoFunctionInvocationLoop": {"other"}, "execute_tool orders-get_order_status": {"tool"}}
        tools = [e.call for sc, t in trees(SK) if sc == "tool_use" for e in t.spans
                 if e.call is not None and e.call.kind == "tool"]
        assert [(c.tool_name, bool(c.tool_args_hash)) for c in tools] == [("orders-get_order_status", True)]
        agents = [e.call for _, t in trees(SK) for e in t.spans if e.call is not None and e.call.kind == "agent"]
        assert {c.agent_name for c in agents} == {"support"}
    else:
        assert kinds == {k: {"other"} for k in (
            "workflow", "FunctionAgent.run", "BaseWorkflowAgent.init_run", "BaseWorkflowAgent.setup_agent",
            "BaseWorkflowAgent.run_agent_step", "BaseWorkflowAgent.parse_agent_output", "BaseWorkflowAgent.call_tool",
            "BaseWorkflowAgent.aggregate_tool_results", "OpenAI._prepare_chat_with_tools", "FunctionTool.acall")}


@pytest.mark.parametrize("source", SOURCES)
def test_prompts_tools_and_cost(source: str) -> None:
    """LlamaIndex: the request from the LLMChatStartEvent's messages (the system prompt apart, the question, the
    first turn in the second, the tool call and its result in the step after it), the tool the model asked for
    from the answer's choices, the tool definitions. SK: no content on a chat span (see above). Neither writes a
    cost: all computed from the tokens."""
    for scenario in SCENARIOS:
        for e in counted(source, scenario):
            c = e.call
            assert c is not None and c.cost_source == "computed" and c.cost_usd, (scenario, e.view.name)
            if source == SK:
                assert c.system_content is None and c.input_content is None and not c.requested_tools
                continue
            assert c.system_content and "ACME" in c.system_content, scenario
            assert c.input_content and "ACME" not in c.input_content and c.tool_definitions_digest
    if source == SK:
        return
    healthy = [json.loads(e.call.input_content) for e in counted(LI, "healthy")]  # type: ignore[union-attr,arg-type]
    first = ["user", "Where is order A-1001?"]
    assert healthy == [[first], [first, ["assistant", "Order A-1001 shipped yesterday and arrives Friday."],
                                 ["user", "And order A-1002?"]]]
    step2 = json.loads(counted(LI, "tool_use")[1].call.input_content)  # type: ignore[union-attr,arg-type]
    assert [r for r, _ in step2] == ["user", "assistant", "tool"] and "get_order_status" in step2[1][1]
    assert step2[2][1] == "shipped"
    asked = [tuple(n for n, _ in e.call.requested_tools) for e in counted(LI, "tool_use")]  # type: ignore[union-attr]
    assert asked == [("get_order_status",), ()]
    assert counted(LI, "tool_use")[0].call.requested_tools[0][1]  # type: ignore[union-attr]  # the arguments' hash
    for scenario in SCENARIOS:
        if scenario != "tool_use":
            assert not any(e.call.requested_tools for e in counted(LI, scenario))  # type: ignore[union-attr]
    # the streamed calls, unread, still carry their request
    streamed = [e.call for sc, t in trees(LI) if sc == "streaming" for e in t.spans
                if e.call is not None and e.call.kind == "inference"]
    assert [c.input_content for c in streamed] == ['[["user","Where is order A-1001?"]]',
                                                   '[["user","And order A-1002?"]]']


def test_llamaindex_events_make_a_call_only_under_its_tracer() -> None:
    """An ``LLMChatStartEvent`` makes a model call of a span of LlamaIndex's OTel tracer only; a span of that tracer
    without one (a workflow step, a tool) is none."""
    from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    from otel_tokenwatch.pipeline.normalize.dialects import read_call
    from otel_tokenwatch.pipeline.tree import ResourceInfo, ScopeInfo, SpanEntry

    def entry(scope: str, events: list[str]) -> SpanEntry:
        sp = Span(name="OpenAI.achat", span_id=b"\x01" * 8)
        for n in events:
            kv = sp.events.add(name=n).attributes.add(key="model_dict.model_name")
            kv.value.string_value = "gpt-4o-mini"
        return SpanEntry(ResourceInfo(b"", ""), ScopeInfo(InstrumentationScope(name=scope).SerializeToString(), ""),
                         sp.SerializeToString(), b"\x01" * 8, b"")

    got = read_call(entry("llamaindex.opentelemetry.tracer", ["LLMChatStartEvent"]))
    assert (got.kind, got.request_model, got.streaming, got.has_usage) == ("inference", "gpt-4o-mini", False, False)
    assert read_call(entry("llamaindex.opentelemetry.tracer", ["step.output"])).kind == "other"
    assert read_call(entry("some.other.tracer", ["LLMChatStartEvent"])).kind == "other"


def test_llamaindex_event_content_is_content_under_its_tracer_only() -> None:
    """drop_content takes LlamaIndex's flattened event fields that hold text (privacy.LI_CONTENT_FIELDS) from that
    tracer's spans, and keeps a response's ids, model and usage; the same generic keys elsewhere are not content."""
    from otel_tokenwatch.pipeline.enrich.privacy import LI_OTEL_SCOPE, SCOPE_CONTENT_RULES

    rule = SCOPE_CONTENT_RULES[LI_OTEL_SCOPE]
    assert all(rule(k) for k in ("messages", "response.raw.choices", "response.message.blocks", "output",
                                 "additional_kwargs.tools", "llamaindex.step.input_summary", "nodes"))
    assert not any(rule(k) for k in ("response.raw.usage.prompt_tokens", "response.raw.model", "response.raw.id",
                                     "model_dict.model_name", "additional_kwargs.tool_choice", "err_str"))
    assert list(SCOPE_CONTENT_RULES) == [LI_OTEL_SCOPE]
