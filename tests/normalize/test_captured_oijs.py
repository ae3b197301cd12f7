"""Real spans of OpenInference JS's MCP instrumentation (an agent loop over OpenAI whose tools are an MCP server's)
and of OpenInference's LangChain.js instrumentation over ChatAnthropic alone, counted against the fake server's truth.

Captured by tests/normalize/gen/oijs/generate.py (Node.js; versions pinned in its package.json /
package-lock.json) against the fake OpenAI / Anthropic server of tests/normalize/gen/vercel_ai/fake_server.py; the
served requests are the truth (oijs-truth.json, one convention: input includes the cache, output the reasoning).

* ``openinference-js-mcp``: @arizeai/openinference-instrumentation-mcp 0.2.33 over @modelcontextprotocol/sdk 1.32.2
  (``Client`` and ``McpServer`` in one process over Streamable HTTP on 127.0.0.1), the model calls through
  @arizeai/openinference-instrumentation-openai 4.2.7 over openai 6.32.0 (``OpenAI Chat Completions`` LLM spans).
  The MCP instrumentation makes no spans (dist/src/mcp.js: it wraps the transports' ``send`` to inject the active
  context into ``params._meta`` and ``start`` to extract it around ``onmessage``): what it adds is the parent of the
  server's own tool span (``tool.get_order_status``, scope fixgen.mcp-server), which is the caller's.
* ``openinference-langchain-js-anthropic``: @arizeai/openinference-instrumentation-langchain 4.1.1 over
  @langchain/core 1.4.0 and @langchain/anthropic 1.5.11 ``ChatAnthropic``: ``ChatAnthropic`` LLM spans from
  LangChain's usage_metadata (input includes the cache), a TOOL span per LangChain tool run.

Not captured: BeeAI. @arizeai/openinference-instrumentation-beeai 1.5.30 (the newest) instruments beeai-framework
``>=0.1.9 <0.1.14`` only (dist/src/instrumentation.js INSTRUMENTS; ``manuallyInstrument`` warns and patches nothing
on the current 0.1.30), and over 0.1.13 it writes every emitter event as its own span after the run
(helpers/buildTraceTree.js: ``backend.openai.chat.start`` / ``.success`` / ``.finish`` each with
openinference.span.kind LLM, the usage on ``.success`` only), a shape that needs its own reader work first.
The tests read only the committed .jsonl files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.normalize.captured import assert_totals, capture_lines_are, counted, scenario_totals, trees, with_gaps

DATA = Path(__file__).parent / "data"
MCP = "openinference-js-mcp"
LC = "openinference-langchain-js-anthropic"
SOURCES = [MCP, LC]
TRUTH: dict[str, dict[str, dict[str, Any]]] = json.loads((DATA / "oijs-truth.json").read_text())
SCENARIOS = ["healthy", "cached", "streaming", "tool_use", "errors", "duplicate"]
SCOPES = {MCP: {"fixgen.app", "fixgen.mcp-server", "@arizeai/openinference-instrumentation-openai"},
          LC: {"fixgen.app", "@arizeai/openinference-instrumentation-langchain"}}
CALL_SCOPE = {MCP: "@arizeai/openinference-instrumentation-openai", LC: "@arizeai/openinference-instrumentation-langchain"}
PROVIDERS = {MCP: "openai", LC: "anthropic"}

#: what the spans cannot carry: (source, scenario, field) -> value read. ``unread``: successful calls without usage
GAPS: dict[tuple[str, str, str], int] = {
    # @arizeai/openinference-instrumentation-openai 4.2.7 dist/src/instrumentation.js
    # consumeChatCompletionStreamChunks skips chunks without choices (``if (chunk.choices.length <= 0) continue``):
    # the include_usage chunk is dropped, so the streamed calls carry no usage (as in test_captured_js.py)
    (MCP, "streaming", "unread"): 2, (MCP, "streaming", "input"): 0, (MCP, "streaming", "output"): 0,
    # ... and it ends a chat span on success only (invokeMaybeAPIPromise: ``promise._thenUnwrap(then)``): the 429
    # and the 500 leave no span (tests/score/test_captured_scores.py KNOWN)
    (MCP, "errors", "calls"): 0, (MCP, "errors", "failed"): 0,
    # @arizeai/openinference-instrumentation-langchain 4.1.1 dist/src/utils.js formatTokenCounts writes
    # usage_metadata's input_token_details.cache_read only, never cache_creation: the write stays inside the input
    # (LangChain's input_tokens adds both caches: @langchain/anthropic buildUsageMetadata), unnamed
    (LC, "cached", "cache_write"): 0,
    # @langchain/anthropic 1.5.11 dist/utils/message_outputs.js: a stream's message_start chunk carries
    # usage.output_tokens (Anthropic sends 1 there) and message_delta's the final cumulative count again;
    # AIMessageChunk concat sums them: 18 + 1 and 16 + 1
    (LC, "streaming", "output"): 36,
}


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, dict[str, Any]]]:
    return {s: scenario_totals(s, parts_within=True) for s in SOURCES}


def ordered(source: str, scenario: str) -> list[Any]:
    return [e.call for e in counted(source, scenario)]


def calls(source: str, scenario: str) -> list[Any]:
    """Every model call of a scenario, counted or not, in start order."""
    return [e.call for sc, t in trees(source) if sc == scenario
            for e in sorted(t.spans, key=lambda e: int(e.view.start_time_unix_nano))
            if e.call is not None and e.call.kind == "inference"]


@pytest.mark.parametrize("source", SOURCES)
def test_every_scenario_was_captured(source: str) -> None:
    capture_lines_are(source, SCENARIOS)
    assert sorted(TRUTH[source]) == sorted(SCENARIOS)
    assert {e.scope.name for _, t in trees(source) for e in t.spans} == SCOPES[source]
    # one trace per scenario: the MCP server's span joined its caller's trace
    assert [sc for sc, _ in trees(source)] == SCENARIOS


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_counts_match_the_fake_servers_truth(results: dict[str, Any], source: str, scenario: str) -> None:
    got = results[source][scenario]
    assert_totals(got, with_gaps(TRUTH[source][scenario], GAPS, source, scenario, unread=0))
    assert got["models"] == [r["model"] for r in TRUTH[source][scenario]["requests"] if r["status"] == 200]
    want = set() if (source, scenario) == (MCP, "errors") else {PROVIDERS[source]}
    assert got["providers"] == want
    assert got["scopes"] <= {CALL_SCOPE[source]}


@pytest.mark.parametrize("source", SOURCES)
def test_only_model_calls_count(source: str) -> None:
    """Tool spans (the MCP server's handler span, LangChain's TOOL span) and the roots are never model calls."""
    for scenario, tree in trees(source):
        for e in tree.spans:
            c = e.call
            if e.scope.name != CALL_SCOPE[source] or e.view.name == "get_order_status":
                assert c is None or (c.kind != "inference" and not c.counted), (scenario, e.view.name)
            elif c is not None and c.counted:
                assert c.kind == "inference", (scenario, e.view.name)


def test_mcp_server_span_is_the_callers_child() -> None:
    """The instrumentation's only effect on the spans: the server's tool span has the caller's span as parent
    (here the app's root, active when the agent loop calls ``callTool``), in the caller's trace; the http server's
    request handler runs outside the caller's context, so without the instrumentation it would be a trace root."""
    seen = 0
    for scenario, tree in trees(MCP):
        root = tree.root()
        assert root is not None and root.view.name == "workflow"
        for e in tree.spans:
            if e.view.name == "tool.get_order_status":
                seen += 1
                assert e.scope.name == "fixgen.mcp-server"
                assert e.parent_id == root.span_id, scenario
                assert e.span.trace_id == root.span.trace_id, scenario
    assert seen == 2  # healthy and tool_use call the tool once each


def test_mcp_calls_read() -> None:
    healthy = ordered(MCP, "healthy")
    # the tools offered are the MCP server's (tools/list), the model's call of one is read
    assert [[n for n, _ in c.requested_tools] for c in healthy] == [["get_order_status"], [], []]
    assert [c.finish_reasons for c in healthy] == [("tool_calls",), ("stop",), ("stop",)]
    assert all((c.system_content or "").startswith("You are a support assistant for ACME.") for c in healthy)
    assert "Where is order A-1001?" in (healthy[0].input_content or "")
    assert [c.max_tokens for c in healthy] == [200, 200, 200]
    cached = ordered(MCP, "cached")
    assert [(c.cache_read_tokens, c.reasoning_tokens) for c in cached] == [(0, 0), (1152, 0), (1280, 64)]
    tool = ordered(MCP, "tool_use")
    assert [(c.request_model, c.reasoning_tokens, c.finish_reasons) for c in tool] == [
        ("o4-mini", 64, ("tool_calls",)), ("o4-mini", 0, ("stop",))]
    # streamed: ``stream: true`` in llm.invocation_parameters; the cut one says ``length`` (no usage: GAPS)
    stream = calls(MCP, "streaming")
    assert [(c.streaming, c.finish_reasons, c.max_tokens, c.counted) for c in stream] == [
        (True, ("stop",), None, False), (True, ("length",), 16, False)]
    dup = ordered(MCP, "duplicate")
    assert [(c.temperature, c.max_tokens) for c in dup] == [(0, 100), (0, 100)]
    assert dup[0].input_content == dup[1].input_content
    assert {c.cost_source for sc in SCENARIOS for c in ordered(MCP, sc)} == {"computed"}


def test_langchain_anthropic_calls_read() -> None:
    healthy = ordered(LC, "healthy")
    assert [c.finish_reasons for c in healthy] == [("tool_use",), ("end_turn",), ("end_turn",)]
    assert all((c.system_content or "").startswith("You are a support assistant for ACME.") for c in healthy)
    assert "Where is order A-1001?" in (healthy[0].input_content or "")
    assert "And order A-1002?" in (healthy[2].input_content or "")
    # utils.js getToolCallDataFromAdditionalKwargs reads ``additional_kwargs.tool_calls`` (OpenAI's shape) only;
    # @langchain/anthropic 1.5.11 keeps a tool_use in the message's content blocks and ``tool_calls`` (the
    # serialized generation in output.value), so the model's request of get_order_status is not in the flat keys
    assert [c.requested_tools for c in ordered(LC, "tool_use")] == [(), ()]
    cached = ordered(LC, "cached")
    assert [(c.input_tokens, c.cache_read_tokens) for c in cached] == [(1300, None), (1310, 1200), (3100, 1200)]
    # utils.js getContentFromMessageData: ``isString(content) ? content : null``: a system message of content
    # blocks (the cache_control one) has its role written, no content (the text only inside input.value)
    assert [bool(c.system_content) for c in cached] == [False, False, False]
    assert all("Where is order A-1001?" in (c.input_content or "") for c in cached[:1])
    # LangChain's invocation params say ``stream: this.streaming``, the constructor option (@langchain/anthropic
    # 1.5.11 chat_models.js invocationParams): .stream() on a default model reads False, on ``streaming: true`` True;
    # a stream's stop_reason stays in additional_kwargs (message_outputs.js), which formatFinishReason does not read
    stream = ordered(LC, "streaming")
    assert [(c.streaming, c.max_tokens, c.finish_reasons) for c in stream] == [(False, 256, ()), (True, 16, ())]
    dup = ordered(LC, "duplicate")
    assert [(c.temperature, c.max_tokens) for c in dup] == [(0, 100), (0, 100)]
    assert dup[0].input_content == dup[1].input_content
    errors = calls(LC, "errors")
    assert [(c.error, c.provider, c.request_model) for c in errors] == [(True, "anthropic", "claude-haiku-4-5")] * 2
    assert {c.cost_source for sc in SCENARIOS for c in ordered(LC, sc)} == {"computed"}


def test_langchain_tool_span_is_a_tool() -> None:
    tools = [(sc, e) for sc, t in trees(LC) for e in t.spans if e.view.name == "get_order_status"]
    assert [sc for sc, _ in tools] == ["healthy", "tool_use"]
    assert all(e.call is not None and e.call.kind == "tool" and not e.call.counted for _, e in tools)
