"""Capture real spans of agents that call a tool through the Model Context Protocol, against a fake OpenAI API.

The tool is ``get_order(order_id)`` of a tiny local MCP server (``order_server.py``, mcp's ``MCPServer`` over
stdio, started by the client as a subprocess). The model calls go to the fake OpenAI Chat Completions server of
``../py_native/generate.py`` (``OpenAIHandler``, imported, not copied: usage with ``cached_tokens`` and
``reasoning_tokens``, finish reasons stop / length / tool_calls, 429 and 500 with OpenAI's error JSON, SSE with
usage in the last chunk) on 127.0.0.1, and the scripted answers are ``../chat_script.py``'s, with the tool call
named ``get_order``. The only spans made here are the trace roots (``workflow``, scope ``fixgen.app``).

Sources (one process each):

* ``mcp-agents-openinference`` the OpenAI Agents SDK (openai-agents 0.24.0, ``MCPServerStdio``, the agent's model
  ``OpenAIChatCompletionsModel`` over ``AsyncOpenAI(max_retries=0)``) under openinference-instrumentation-openai-
  agents 2.6.0 with openinference-instrumentation-mcp 2.0.13 (context propagation only, no spans of its own);
  mcp 2.3.0 writes its own client spans (``tools/list``, ``tools/call get_order``: mcp/shared/jsonrpc_dispatcher.py,
  ``mcp.method.name``) in this process; the server's spans stay in its subprocess (no provider there)
* ``mcp-openllmetry``          a plain ``mcp.ClientSession`` over ``stdio_client`` (mcp 1.x: OpenLLMetry's
  opentelemetry-instrumentation-mcp 0.62.4 wraps ``mcp.shared.session.BaseSession.send_request``, which mcp 2
  no longer has) calling the tool between two ``openai`` chat calls, under opentelemetry-instrumentation-mcp and
  opentelemetry-instrumentation-openai 0.62.4 (``TRACELOOP_TRACE_CONTENT=true``)
* ``mcp-langchain-openinference`` langchain-mcp-adapters 0.3.2 (``MultiServerMCPClient``, stdio, mcp 1.30.0: its
  pin) tools in LangGraph 1.2.24's prebuilt ``create_react_agent`` over langchain-openai 1.7.4 ``ChatOpenAI``
  (``max_retries=0``) under openinference-instrumentation-langchain 0.1.80 and openinference-instrumentation-mcp

Scenarios: healthy (2 calls, one conversation), cached (big system prompt, 3 calls, 2nd and 3rd cached),
streaming (2 streamed calls, the 2nd cut at max_tokens), tool_use (o4-mini asks for get_order with reasoning
tokens, the app / agent runs it over MCP, the model answers), errors (a 429 then a 500 surfaced to the app) and
duplicate (the identical request twice, temperature 0). Every scenario opens its MCP session inside the root.

Re-run (Python 3.11; venvs under /tmp, never the project's .venv; requirements.txt has one section per venv)::

    cd tests/normalize/gen/mcp
    sed -n '/^# \\[agents\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/mcp-a.txt   # likewise [openllmetry]
    python3 -m venv /tmp/gen-mcp-a && /tmp/gen-mcp-a/bin/pip install -r /tmp/mcp-a.txt
    /tmp/gen-mcp-a/bin/python generate.py mcp-agents-openinference
    /tmp/gen-mcp-tl/bin/python generate.py mcp-openllmetry                 # section [openllmetry]
    /tmp/gen-mcp-lc/bin/python generate.py mcp-langchain-openinference     # section [langchain]

Each run writes ``tests/normalize/data/<source>.jsonl`` and its entry of ``tests/normalize/data/mcp-truth.json``
(py_native's truth: calls, failed, input incl. cache, output incl. reasoning, cache_read, cache_write 0,
reasoning, finish_reasons, models, usage_unsent; and ``versions``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve
from py_native import generate as native  # the module chat_script's answers come from (one SCRIPT, one truth)

OpenAIHandler, SCRIPT, TRUTH_NOW = native.OpenAIHandler, native.SCRIPT, native.TRUTH_NOW

from chat_script import BIG, CACHED, DUPLICATE, ERRORS, HEALTHY, Q1, Q2, STREAMING, SYSTEM, TOOL_USE

TRUTH = HERE.parent.parent / "data" / "mcp-truth.json"
SOURCES = ("mcp-agents-openinference", "mcp-openllmetry", "mcp-langchain-openinference")
SERVER = [sys.executable, str(HERE / "order_server.py")]
#: chat_script's tool turn, the tool being the MCP server's get_order
MCP_TOOL_USE = [{**TOOL_USE[0], "tool_calls": [{"function": {"name": "get_order",
                                                              "arguments": json.dumps({"order_id": "A-1001"})}}]},
                TOOL_USE[1]]


#: py_native's: the script used up, the truth under the source's name with the versions that made it
write = native.write


def recorder(source: str) -> tuple[Recorder, Any, Any]:
    """The source's recorder, the fake OpenAI server and a client of it that never retries."""
    import openai

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    srv = serve(OpenAIHandler)
    url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    return rec, srv, openai.AsyncOpenAI(api_key="sk-fake", base_url=url, max_retries=0)


# --------------------------------------------------------------------------------------------------------
# OpenAI Agents SDK with MCPServerStdio under OpenInference
# --------------------------------------------------------------------------------------------------------

def run_agents(source: str) -> None:
    rec, srv, client = recorder(source)
    from agents import set_trace_processors

    set_trace_processors([])  # no export of the Agents SDK's traces to api.openai.com
    from openinference.instrumentation.mcp import MCPInstrumentor
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    OpenAIAgentsInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
    MCPInstrumentor().instrument(tracer_provider=rec.tp)
    import openai
    from agents import Agent, ModelSettings, OpenAIChatCompletionsModel, Runner
    from agents.mcp import MCPServerStdio

    def agent(mcp: Any, system: str = SYSTEM, model: str = "gpt-4o-mini", **settings: Any) -> Any:
        return Agent(name="support", instructions=system, mcp_servers=[mcp],
                     model=OpenAIChatCompletionsModel(model=model, openai_client=client),
                     model_settings=ModelSettings(**settings))

    async def session(scenario: str, workflow: str, body: Any) -> None:
        with rec.root(scenario, workflow):
            async with MCPServerStdio(params={"command": SERVER[0], "args": SERVER[1:]}, name="acme-orders",
                                      cache_tools_list=True) as mcp:
                await body(mcp)
        rec.flush(scenario)

    async def healthy(mcp: Any) -> None:
        a = agent(mcp, max_tokens=200)
        r = await Runner.run(a, Q1)
        await Runner.run(a, r.to_input_list() + [{"role": "user", "content": Q2}])

    async def cached(mcp: Any) -> None:
        for q in ("When is my refund?", Q1, Q2):
            await Runner.run(agent(mcp, BIG, max_tokens=300), q)

    async def streaming(mcp: Any) -> None:
        for q, mx in ((Q1, 256), (Q2, 64)):
            r = Runner.run_streamed(agent(mcp, max_tokens=mx, include_usage=True), q)
            async for _ in r.stream_events():
                pass

    async def tool_use(mcp: Any) -> None:
        await Runner.run(agent(mcp, model="o4-mini"), Q1)

    async def errors(mcp: Any) -> None:
        surfaced = []
        for _ in range(2):
            try:
                await Runner.run(agent(mcp, max_tokens=200), Q1)
            except openai.APIStatusError as exc:
                surfaced.append(type(exc).__name__)
        assert surfaced == ["RateLimitError", "InternalServerError"], surfaced

    async def duplicate(mcp: Any) -> None:
        for _ in range(2):
            await Runner.run(agent(mcp, max_tokens=100, temperature=0.0), Q1)

    async def main() -> None:
        for scenario, workflow, steps, body in (
                ("healthy", "order-status", HEALTHY, healthy), ("cached", "policy-qa", CACHED, cached),
                ("streaming", "order-updates", STREAMING, streaming), ("tool_use", "order-agent", MCP_TOOL_USE, tool_use),
                ("errors", "order-status", ERRORS, errors), ("duplicate", "order-status", DUPLICATE, duplicate)):
            SCRIPT[:] = list(steps)
            await session(scenario, workflow, body)

    asyncio.run(main())
    srv.shutdown()
    write(rec, "openai-agents", "openai", "mcp", "openinference-instrumentation-openai-agents",
          "openinference-instrumentation-mcp", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# a plain MCP ClientSession between openai chat calls under OpenLLMetry
# --------------------------------------------------------------------------------------------------------

def run_openllmetry(source: str) -> None:
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    from opentelemetry.instrumentation.mcp import McpInstrumentor
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    rec, srv, client = recorder(source)
    McpInstrumentor().instrument(tracer_provider=rec.tp)
    OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
    import openai
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    def msgs(*qs: str, system: str = SYSTEM) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system}] + [{"role": "user", "content": q} for q in qs]

    async def healthy(s: Any) -> None:
        m = msgs(Q1)
        r = await client.chat.completions.create(model="gpt-4o-mini", messages=m, max_tokens=200)
        m += [{"role": "assistant", "content": r.choices[0].message.content}, {"role": "user", "content": Q2}]
        await client.chat.completions.create(model="gpt-4o-mini", messages=m, max_tokens=200)

    async def cached(s: Any) -> None:
        for q in ("When is my refund?", Q1, Q2):
            await client.chat.completions.create(model="gpt-4o-mini", messages=msgs(q, system=BIG), max_tokens=300)

    async def streaming(s: Any) -> None:
        for q, mx in ((Q1, 256), (Q2, 64)):
            stream = await client.chat.completions.create(model="gpt-4o-mini", messages=msgs(q), max_tokens=mx,
                                                          stream=True, stream_options={"include_usage": True})
            async for _ in stream:
                pass

    async def tool_use(s: Any) -> None:
        listed = await s.list_tools()
        tools = [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                   "parameters": t.inputSchema}} for t in listed.tools]
        m = msgs(Q1)
        r = await client.chat.completions.create(model="o4-mini", messages=m, tools=tools)
        call = r.choices[0].message.tool_calls[0]
        result = await s.call_tool(call.function.name, json.loads(call.function.arguments))
        m += [r.choices[0].message.model_dump(exclude_none=True),
              {"role": "tool", "tool_call_id": call.id, "content": result.content[0].text}]
        await client.chat.completions.create(model="o4-mini", messages=m, tools=tools)

    async def errors(s: Any) -> None:
        surfaced = []
        for _ in range(2):
            try:
                await client.chat.completions.create(model="gpt-4o-mini", messages=msgs(Q1), max_tokens=200)
            except openai.APIStatusError as exc:
                surfaced.append(type(exc).__name__)
        assert surfaced == ["RateLimitError", "InternalServerError"], surfaced

    async def duplicate(s: Any) -> None:
        for _ in range(2):
            await client.chat.completions.create(model="gpt-4o-mini", messages=msgs(Q1), max_tokens=100,
                                                 temperature=0)

    async def main() -> None:
        params = StdioServerParameters(command=SERVER[0], args=SERVER[1:])
        for scenario, workflow, steps, body in (
                ("healthy", "order-status", HEALTHY, healthy), ("cached", "policy-qa", CACHED, cached),
                ("streaming", "order-updates", STREAMING, streaming), ("tool_use", "order-agent", MCP_TOOL_USE, tool_use),
                ("errors", "order-status", ERRORS, errors), ("duplicate", "order-status", DUPLICATE, duplicate)):
            SCRIPT[:] = list(steps)
            with rec.root(scenario, workflow):
                async with stdio_client(params) as (read, write_), ClientSession(read, write_) as s:
                    await s.initialize()
                    await body(s)
            rec.flush(scenario)

    asyncio.run(main())
    srv.shutdown()
    write(rec, "mcp", "openai", "opentelemetry-instrumentation-mcp", "opentelemetry-instrumentation-openai",
          "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# langchain-mcp-adapters' tools in LangGraph's prebuilt ReAct agent under OpenInference's LangChain instrumentation
# --------------------------------------------------------------------------------------------------------

def run_langchain(source: str) -> None:
    from openinference.instrumentation.langchain import LangChainInstrumentor
    from openinference.instrumentation.mcp import MCPInstrumentor

    rec, srv, _ = recorder(source)
    LangChainInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
    MCPInstrumentor().instrument(tracer_provider=rec.tp)
    import openai
    from langchain_mcp_adapters.client import MultiServerMCPClient
    from langchain_openai import ChatOpenAI
    from langgraph.prebuilt import create_react_agent

    url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    mcp = MultiServerMCPClient({"acme-orders": {"command": SERVER[0], "args": SERVER[1:], "transport": "stdio"}})

    async def ask(tools: Any, *questions: str, system: str = SYSTEM, model: str = "gpt-4o-mini", **kw: Any) -> None:
        llm = ChatOpenAI(model=model, base_url=url, api_key="sk-fake", max_retries=0, **kw)
        a, messages = create_react_agent(llm, tools, prompt=system), []
        for q in questions:  # one conversation, the history sent again
            messages = (await a.ainvoke({"messages": [*messages, ("user", q)]}))["messages"]

    async def errors(tools: Any) -> None:
        surfaced = []
        for _ in range(2):
            try:
                await ask(tools, Q1, max_tokens=200)
            except openai.APIStatusError as exc:  # langchain-openai re-raises it as its own subclass
                surfaced.append(type(exc).__name__)
        assert len(surfaced) == 2, surfaced

    async def main() -> None:
        for scenario, workflow, steps in (
                ("healthy", "order-status", HEALTHY), ("cached", "policy-qa", CACHED),
                ("streaming", "order-updates", STREAMING), ("tool_use", "order-agent", MCP_TOOL_USE),
                ("errors", "order-status", ERRORS), ("duplicate", "order-status", DUPLICATE)):
            SCRIPT[:] = list(steps)
            with rec.root(scenario, workflow):
                tools = await mcp.get_tools()  # a session per call (langchain_mcp_adapters tools.py)
                if scenario == "healthy":
                    await ask(tools, Q1, Q2, max_tokens=200)
                elif scenario == "cached":
                    for q in ("When is my refund?", Q1, Q2):
                        await ask(tools, q, system=BIG, max_tokens=300)
                elif scenario == "streaming":
                    for q, mx in ((Q1, 256), (Q2, 64)):
                        await ask(tools, q, max_tokens=mx, streaming=True, stream_usage=True)
                elif scenario == "tool_use":
                    await ask(tools, Q1, model="o4-mini")
                elif scenario == "errors":
                    await errors(tools)
                else:
                    for _ in range(2):
                        await ask(tools, Q1, max_tokens=100, temperature=0.0)
            rec.flush(scenario)

    asyncio.run(main())
    srv.shutdown()
    write(rec, "langchain-mcp-adapters", "mcp", "langchain-openai", "langgraph", "openai",
          "openinference-instrumentation-langchain", "openinference-instrumentation-mcp", "opentelemetry-sdk")


RUNS = {"mcp-agents-openinference": run_agents, "mcp-openllmetry": run_openllmetry,
        "mcp-langchain-openinference": run_langchain}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNS:
        raise SystemExit(f"usage: generate.py SOURCE; one of {SOURCES}")
    RUNS[sys.argv[1]](sys.argv[1])
