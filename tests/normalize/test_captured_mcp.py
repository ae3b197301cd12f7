"""Real spans of agents that call a tool over the Model Context Protocol, counted against the fake OpenAI server's
truth (tests/normalize/gen/mcp/generate.py made the data files; versions in its requirements.txt and in
mcp-truth.json). The tool is ``get_order`` of a local stdio MCP server (gen/mcp/order_server.py).

* ``mcp-agents-openinference``: openai-agents 0.24.0 ``Agent(mcp_servers=[MCPServerStdio])`` over
  ``OpenAIChatCompletionsModel`` under openinference-instrumentation-openai-agents 2.6.0 (+ openinference-
  instrumentation-mcp 2.0.13, context only); mcp 2.3.0's own client spans (``MCP send tools/list``, ``MCP send
  tools/call get_order``: ``mcp.method.name``) beside the SDK's ``mcp_tools`` / ``get_order`` (TOOL) spans.
* ``mcp-openllmetry``: a plain ``mcp.ClientSession`` (mcp 1.30) between two openai chat calls, under OpenLLMetry's
  opentelemetry-instrumentation-mcp and -openai 0.62.4 (``initialize.mcp``, ``tools/list.mcp``,
  ``get_order.tool`` with traceloop.span.kind tool, ``ResponseStreamWriter``).
* ``mcp-langchain-openinference``: langchain-mcp-adapters 0.3.2 ``MultiServerMCPClient.get_tools()`` in LangGraph's
  prebuilt ``create_react_agent`` over langchain-openai ``ChatOpenAI`` under openinference-instrumentation-langchain
  0.1.80 (+ openinference-instrumentation-mcp): the MCP tool is a LangChain tool, its span ``get_order`` (TOOL).

An MCP tool span is a tool span: never a model call, no tokens; the model calls around it count once.
OpenAI's ``prompt_tokens`` includes ``cached_tokens``; ``completion_tokens`` includes ``reasoning_tokens``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.normalize.captured import (
    DATA,
    assert_totals,
    capture_lines_are,
    counted_once,
    failed_in_errors,
    scenario_totals,
    trees,
    with_gaps,
)

TRUTH: dict[str, Any] = json.loads((DATA / "mcp-truth.json").read_text())
SOURCES = ["mcp-agents-openinference", "mcp-openllmetry", "mcp-langchain-openinference"]
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
OI = "mcp-agents-openinference"

#: what a source's spans cannot carry, so no reader can count it: (source, scenario, field) -> value read
GAPS: dict[tuple[str, str, str], Any] = {}
# openinference-instrumentation-openai-agents 2.6.0 _processor.py _get_attributes_from_chat_completions_usage
# writes ``input_tokens`` / ``output_tokens`` only, although the Agents SDK's generation span keeps
# input_tokens_details / output_tokens_details (agents/models/openai_chatcompletions.py, span_data.usage): no cache
# read, no reasoning. And the span's output is the message only (span_data.output = [message.model_dump()]), its
# model the request's (generation_span(model=str(self.model))): no finish reason, no served model
for _sc, _t in TRUTH[OI]["scenarios"].items():
    GAPS.update({(OI, _sc, k): v for k, v in (("cache_read", 0), ("reasoning", 0), ("finish_reasons", []))
                 if _t[k] != v})
#: OpenLLMetry's OpenAI instrumentation writes the semantic conventions' ``tool_call`` for OpenAI's ``tool_calls``
FINISH_AS_SENT = {"mcp-openllmetry": {"tool_calls": "tool_call"}}
#: the stream flag read on the streaming scenario's calls: the Agents SDK's generation span has none
STREAMED = {OI: [None, None], "mcp-openllmetry": [True, True], "mcp-langchain-openinference": [True, True]}
#: the spans of the tool_use scenario that are the MCP tool execution, by source: (scope, span name)
TOOL_SPANS = {OI: {("openinference.instrumentation.openai_agents", "get_order"),
                   ("mcp-python-sdk", "MCP send tools/call get_order")},
              "mcp-openllmetry": {("opentelemetry.instrumentation.mcp.instrumentation", "get_order.tool")},
              "mcp-langchain-openinference": {("openinference.instrumentation.langchain", "get_order")}}
MCP_SCOPES = {"mcp-python-sdk", "opentelemetry.instrumentation.mcp.instrumentation"}


def expected(source: str, scenario: str) -> dict[str, Any]:
    t = TRUTH[source]["scenarios"][scenario]
    return with_gaps(t, GAPS, source, scenario, unread=t["usage_unsent"])


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True, roots_carry_totals=True) for s in SOURCES}


def test_every_source_was_captured_for_every_scenario() -> None:
    for s in SOURCES:
        assert sorted(TRUTH[s]["scenarios"]) == sorted(SCENARIOS), s
        capture_lines_are(s, SCENARIOS)


def test_the_gaps_are_real() -> None:
    for (s, sc, k), v in GAPS.items():
        assert TRUTH[s]["scenarios"][sc][k] != v, (s, sc, k)


@pytest.mark.parametrize(("source", "scenario"), [(s, sc) for s in SOURCES for sc in SCENARIOS])
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got, want = results[source][scenario], expected(source, scenario)
    assert_totals(got, want)
    assert want["cache_write"] == 0, "cache write tokens (OpenAI reports none)"
    assert got["providers"] == {"openai"}, got["providers"]
    assert sorted(got["models"]) == sorted(m for m, _ in want["models"]), "request model of each call"
    # openinference-instrumentation-langchain 0.1.80 _tracer.py _model_name: the served model from llm_output, which
    # a streamed ChatOpenAI result lacks (langchain-openai keeps it in generation_info): the request's model only
    no_served = source == OI or (source, scenario) == ("mcp-langchain-openinference", "streaming")
    served = [None] * len(want["models"]) if no_served else [s for _, s in want["models"]]
    assert sorted(got["served"], key=str) == sorted(served, key=str), "served model of each call"
    assert got["failed_models"] == ["gpt-4o-mini"] * want["failed"], "request model of each failed call"
    norm = FINISH_AS_SENT.get(source, {})
    assert sorted(got["finish_reasons"]) == sorted(norm.get(f, f) for f in want["finish_reasons"]), "finish reasons"
    if scenario == "streaming":
        assert got["streamed"] == STREAMED[source]
    else:
        assert all(s is not True for s in got["streamed"])


@pytest.mark.parametrize("source", SOURCES)
def test_model_calls_count_once_and_failed_calls_only_in_errors(source: str) -> None:
    for scenario, tree in trees(source):
        want = expected(source, scenario)
        calls = counted_once(tree, ("input", "output"))
        assert len(calls) == want["calls"] - want["failed"], scenario
    assert len(failed_in_errors(source, SCENARIOS)) == 2


@pytest.mark.parametrize("source", SOURCES)
def test_mcp_tool_spans_are_tools_never_counted(source: str) -> None:
    """The MCP tool execution reads as a tool span (kind tool, no usage, not counted), once per tool call, in the
    tool_use scenario only; the protocol's other requests (initialize, tools/list, the session's stream writer)
    are neither tools nor model calls."""
    for scenario, tree in trees(source):
        tools = {(e.scope.name, e.view.name) for e in tree.spans if e.call is not None and e.call.kind == "tool"}
        assert tools == (TOOL_SPANS[source] if scenario == "tool_use" else set()), scenario
        for e in tree.spans:
            c = e.call
            if (e.scope.name, e.view.name) in TOOL_SPANS[source]:
                assert c is not None and not c.counted and not c.has_usage and not c.error, e.view.name
                assert c.input_tokens is None and c.output_tokens is None
            if e.scope.name in MCP_SCOPES:
                assert c is None or (c.kind != "inference" and not c.counted), (scenario, e.view.name)
