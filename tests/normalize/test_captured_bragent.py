"""Real spans of OpenInference's Bedrock instrumentation over boto3's ``bedrock-agent-runtime`` ``invoke_agent``
(``enableTrace=True``), counted against the fake InvokeAgent's ground truth (tests/normalize/gen/bragent/generate.py
made the data file; versions in its requirements.txt and in bragent-truth.json).

``bedrock-agents-openinference`` (openinference-instrumentation-bedrock 0.1.61): per ``invoke_agent`` one
``bedrock_agent.invoke_agent`` span (AGENT, ``llm.provider`` aws, the input text only) and, rebuilt from the
stream's trace events when the stream ends (_response_accumulator.py), a CHAIN span per trace type
(``orchestrationTrace``, ``preProcessingTrace``) holding an ``LLM`` span per model invocation (``llm.token_count.*``
from the trace's ``modelInvocationOutput.metadata.usage``, the orchestration prompt as input messages, the raw
response's text and ``tool_use`` blocks as output messages), an ``action_group`` span (TOOL, ``tool.name`` the
function) per action group call and a ``knowledge_base`` span (RETRIEVER) per knowledge base lookup.

What the normalizer reads: each model invocation once, on its LLM span (provider aws.bedrock); the agent and chain
spans never count; the action group span and the knowledge base span are tools (dialects.OI_BEDROCK_KB_SPAN: the
lookup is a tool the agent's model asks for). The Usage shape of InvokeAgent's trace (botocore
bedrock-agent-runtime 2023-07-26) has inputTokens and outputTokens only; the cache and the stop reason are read
from the step's raw Anthropic response in ``output.value`` (dialects._Plan.oi_bedrock_raw), where the
instrumentation left it there.
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
    scenario_totals,
    trees,
    with_gaps,
)

SOURCE = "bedrock-agents-openinference"
TRUTH: dict[str, Any] = json.loads((DATA / "bragent-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPE = "openinference.instrumentation.bedrock"
FOUNDATION = "anthropic.claude-3-5-haiku-20241022-v1:0"
SERVED = "claude-3-5-haiku-20241022"

#: what the spans cannot carry, so no reader can count it: (source, scenario, field) -> value read.
#: errors: the 429 fails the ``invoke_agent`` call itself (its AGENT span ERROR, no model span); the 500 comes as an
#: ``internalServerException`` event after the step's modelInvocationInput: _ResponseAccumulator.__call__ still
#: builds the step's spans (_process_traces, then _handle_exception on the agent span only) and _create_spans
#: gives every rebuilt span status OK (StatusCode.ERROR only for a blocking guardrail), so the failed model
#: invocation reads as an answered call without usage, not as a failed one
GAPS: dict[tuple[str, str, str], Any] = {(SOURCE, "errors", "failed"): 0, (SOURCE, "errors", "unread"): 1}
#: the request model as read: ``llm.model_name`` is first the trace's ``foundationModel``
#: (get_attributes_from_model_invocation_input), then overwritten by the raw response's ``model``
#: (get_attributes_from_model_invocation_output, set after it in _create_chain_span); only the failed step, which
#: has no output, keeps the foundation model id
READ_MODEL = SERVED
#: finish reasons as read: a step that calls a tool has a ``rationale`` event, whose text replaces the raw response
#: in ``output.value`` (_process_rationale, after _process_model_invocation_output): its stop reason (tool_use) is
#: lost; the requested tool is still read from the output messages
FINISH = {"healthy": [(), ("end_turn",), ("end_turn",)], "tool_use": [("end_turn",), (), ("end_turn",)],
          "errors": [(), ("end_turn",)]}  # (the failed step, read as answered, has none)


def expected(scenario: str) -> dict[str, Any]:
    t = TRUTH["scenarios"][scenario]
    # the truth's input is Bedrock's inputTokens (cache left out); the normalized input has the cache in it
    want = {**t, "input": t["uncached_input"] + t["cache_read"] + t["cache_write"]}
    return with_gaps(want, GAPS, SOURCE, scenario, unread=0)


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    return scenario_totals(SOURCE, parts_within=True)


def test_capture_and_its_truth() -> None:
    capture_lines_are(SOURCE, SCENARIOS)
    assert TRUTH["sources"] == [SOURCE]
    assert TRUTH["versions"]["openinference-instrumentation-bedrock"] == "0.1.61"
    sc = TRUTH["scenarios"]
    assert sorted(sc) == sorted(SCENARIOS)
    assert {k: (v["invocations"], v["failed_invocations"], v["calls"], v["failed"]) for k, v in sc.items()} == {
        "healthy": (2, 0, 3, 0), "cached": (2, 0, 2, 0), "streaming": (2, 0, 2, 0), "tool_use": (1, 0, 3, 0),
        "errors": (3, 2, 2, 1), "duplicate": (2, 0, 2, 0)}
    assert (sc["cached"]["cache_read"], sc["cached"]["cache_write"]) == (2048, 2048)
    assert sc["healthy"]["tools"] == ["KBACME0001"] and sc["tool_use"]["tools"] == ["get_order_status"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_counts_match_the_fake_agents_truth(results: dict[str, Any], scenario: str) -> None:
    got, want = results[scenario], expected(scenario)
    assert_totals(got, want)
    assert got["scopes"] == {SCOPE}
    assert got["providers"] == {"aws.bedrock"}
    answered = [READ_MODEL] * len(want["models"])
    assert got["models"] == ([FOUNDATION] + answered if scenario == "errors" else answered)
    assert set(got["served"]) == {None}  # one model key only (llm.model_name)
    assert got["finish"] == FINISH.get(scenario, [(r,) for r in want["stop_reasons"]])


def test_cache_read_from_the_raw_response(results: dict[str, Any]) -> None:
    """The cache is only in the raw Anthropic response (``usage.cache_read_input_tokens`` /
    ``cache_creation_input_tokens``); ``llm.token_count.prompt`` is Bedrock's inputTokens, the same as that
    response's ``input_tokens``: the cache is added in."""
    calls = counted(SOURCE, "cached")
    assert [(e.call.input_tokens, e.call.cache_read_tokens, e.call.cache_write_tokens)  # type: ignore[union-attr]
            for e in calls] == [(120 + 2048, 0, 2048), (110 + 2048, 2048, 0)]
    assert all(e.call.cost_source == "computed" and e.call.cost_usd for e in calls)  # type: ignore[union-attr]


def test_stream_flag_and_the_cut(results: dict[str, Any]) -> None:
    """``streamFinalResponse`` leaves no mark on any span (the request's streamingConfigurations is not read,
    _wrappers.py _InvokeAgentWrapper.handle_request_attributes: input text, kind and provider only): no stream
    flag; the cut at maximumLength is read from the raw response's ``stop_reason``."""
    assert all(set(results[sc]["streamed"]) == {None} for sc in SCENARIOS)
    assert [cut_by_finish_reason(rs) for rs in results["streaming"]["finish"]] == [False, True]


def test_each_model_invocation_once_agent_and_chain_never() -> None:
    """One counted LLM span per answered model invocation, pre-processing's too; the AGENT span (which carries no
    usage) and the CHAIN spans never count; action group and knowledge base spans are tools."""
    kinds: dict[str, set[str]] = {}
    for scenario, tree in trees(SOURCE):
        calls = counted_once(tree, ("input", "output", "cache_read", "cache_write"))
        truth = TRUTH["scenarios"][scenario]
        assert len(calls) == truth["calls"] - truth["failed"], scenario
        assert all(e.view.name == "LLM" for e in calls)
        agents = [e for e in tree.spans if e.view.name == "bedrock_agent.invoke_agent"]
        assert len(agents) == truth["invocations"], scenario
        assert sum(e.view.status_code == 2 for e in agents) == truth["failed_invocations"], scenario
        for e in tree.spans:
            if e.call is not None and e.call.kind != "inference":
                kinds.setdefault(e.view.name, set()).add(e.call.kind)
                assert not e.call.counted and not e.call.has_usage, e.view.name
    assert kinds == {"workflow": {"other"}, "bedrock_agent.invoke_agent": {"agent"},
                     "orchestrationTrace": {"workflow"}, "preProcessingTrace": {"workflow"},
                     "knowledge_base": {"tool"}, "action_group": {"tool"}}


def test_tools_asked_and_run() -> None:
    """The tools the model asked for (its tool_use blocks, by the names the agent gave them), and the tool spans:
    the action group's function by ``tool.name``; the knowledge base span names no tool (its id is only in the
    ``metadata`` JSON, get_attributes_from_knowledge_base_lookup_input)."""
    asked = {sc: [tuple(n for n, _ in e.call.requested_tools) for e in counted(SOURCE, sc)]  # type: ignore[union-attr]
             for sc in ("healthy", "tool_use")}
    assert asked == {"healthy": [("GET__x_amz_knowledgebase_KBACME0001__Search",), (), ()],
                     "tool_use": [(), ("OrderActions__get_order_status",), ()]}
    tools = {sc: [e.call.tool_name for e in t.spans if e.call is not None and e.call.kind == "tool"]
             for sc, t in trees(SOURCE)}
    assert tools == {"healthy": [None], "cached": [], "streaming": [], "tool_use": ["get_order_status"],
                     "errors": [], "duplicate": []}
    for scenario in ("cached", "streaming", "errors", "duplicate"):
        assert not any(e.call.requested_tools for e in counted(SOURCE, scenario))  # type: ignore[union-attr]


def test_prompts_and_cost() -> None:
    """The orchestration prompt (``{"system", "messages"}`` as the agent sends it): the system prompt apart, the
    turn's question (and, on a later turn or step, the session's history) in the input; every cost computed."""
    for scenario in SCENARIOS:
        for e in counted(SOURCE, scenario):
            c = e.call
            assert c is not None and c.system_content and "ACME" in c.system_content, scenario
            assert c.input_content and "order" in c.input_content.lower() or "refund" in (c.input_content or "")
            assert "ACME" not in (c.input_content or "")
            assert c.cost_source == "computed" and c.cost_usd, scenario
    second_turn = counted(SOURCE, "healthy")[-1].call
    assert second_turn is not None and "A-1001" in (second_turn.input_content or "")


def test_kb_rule_is_narrow() -> None:
    """Only the Bedrock agent's knowledge base span is a tool; other RETRIEVER spans stay what they were."""
    from otel_tokenwatch.pipeline.normalize.dialects import kind_of

    assert kind_of({"openinference.span.kind": "RETRIEVER"}, "knowledge_base", None) == "tool"
    assert kind_of({"openinference.span.kind": "RETRIEVER"}, "VectorIndexRetriever.retrieve", None) == "other"
