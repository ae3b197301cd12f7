"""Capture real spans of Semantic Kernel's agent framework and of LlamaIndex's own OpenTelemetry integration, against
the fake OpenAI Chat Completions API, with nothing sent beyond loopback.

Every model-call span in the output was emitted by a real library wrapping the real ``openai`` client, which talked
HTTP to the fake on 127.0.0.1 started by this script (py_native's ``OpenAIHandler``, its truth keeping and the
shared scripted answers of ../chat_script.py). The only spans made here are the trace roots (``workflow``, scope
``fixgen.app``); both frameworks run the tool themselves.

Sources (one process each, so that the instrumentations never meet):

* ``semantic-kernel-agent``  semantic-kernel ``ChatCompletionAgent`` over ``OpenAIChatCompletion``
                             (``AsyncOpenAI(max_retries=0)``) with a kernel function plugin (``orders``,
                             ``get_order_status``) as its tool, invoked by ``agent.get_response`` / ``invoke`` /
                             ``invoke_stream`` with a ``ChatHistoryAgentThread``; SK's diagnostics on
                             (``SEMANTICKERNEL_EXPERIMENTAL_GENAI_ENABLE_OTEL_DIAGNOSTICS`` and ``..._SENSITIVE``):
                             ``invoke_agent {name}`` (utils/telemetry/agent_diagnostics/decorators.py, with the
                             agent's input and output messages) > ``chat {model}`` (model_diagnostics/decorators.py)
                             and, under SK's ``AutoFunctionInvocationLoop``, ``execute_tool orders-get_order_status``
                             (function_tracer.py). The chat spans' content goes to Python log records only (as in
                             semantic-kernel-openai, ../sk_adk_llamaindex/generate.py), shipped here with OTel's
                             LoggingHandler into ``otlp_logs``.
* ``llamaindex-otel``        llama-index-observability-otel's ``LlamaIndexOpenTelemetry(span_exporter=...,
                             span_processor="simple", tracer_provider=...).start_registering()`` over llama-index-core's
                             ``FunctionAgent`` (a ``FunctionTool``) and llama-index-llms-openai's
                             ``OpenAI(max_retries=0)``: one span per dispatcher span (``FunctionAgent.run``,
                             ``OpenAI.achat``, ...; scope ``llamaindex.opentelemetry.tracer``), no GenAI attributes:
                             every instrumentation event (``LLMChatStartEvent``, ``LLMChatEndEvent``, ...) becomes a
                             span event named after its class with the event's ``model_dump()`` flattened into its
                             attributes (base.py OTelCompatibleEventHandler.handle, utils.py flatten_dict).

Scenarios: healthy (two turns, in one ChatHistoryAgentThread / one ChatMemoryBuffer; the agent has its tool, the model
does not ask for it), cached (a big static system prompt, the 2nd and 3rd call with OpenAI cached_tokens), streaming
(SK ``invoke_stream``, FunctionAgent's streaming mode: two streamed calls, the 2nd cut at max_tokens; LlamaIndex's
OpenAI LLM asks for the stream's usage only when told, so only its 2nd does), tool_use (o4-mini asks for
get_order_status with reasoning tokens, the framework runs it, then answers), errors (a 429 then a 500 surfaced to the
app, max_retries=0), duplicate (the identical run twice).

Re-run (Python 3.11; one venv per section of requirements.txt under /tmp, never the project's .venv)::

    cd tests/normalize/gen/skli
    sed -n '/^# \\[sk\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/skli-sk.txt   # likewise [li]
    python3 -m venv /tmp/gen-skli-sk && /tmp/gen-skli-sk/bin/pip install -r /tmp/skli-sk.txt
    /tmp/gen-skli-sk/bin/python generate.py semantic-kernel-agent
    /tmp/gen-skli-li/bin/python generate.py llamaindex-otel

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and its entry in
``tests/normalize/data/skli-truth.json``: py_native's truth fields per scenario (``calls``, ``failed``, ``input``
= ``prompt_tokens`` with ``cached_tokens`` inside, ``output`` = ``completion_tokens`` with ``reasoning_tokens``
inside, ``cache_read``, ``cache_write`` 0, ``reasoning``, ``finish_reasons``, ``models``, ``usage_unsent``: streamed
calls whose usage the server did not send because the client did not ask for it) and the versions that made it.
``loopback_only`` (../capture.py) refuses any connection beyond loopback; a run prints what was refused.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import RESOURCE, Recorder, serve
from chat_script import BIG, CACHED, DUPLICATE, ERRORS, HEALTHY, Q1, Q2, STREAMING, SYSTEM, get_order_status
from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler, oa
from pydgem.generate import REFUSED, loopback_only

TRUTH = HERE.parent.parent / "data" / "skli-truth.json"
SOURCES = ("semantic-kernel-agent", "llamaindex-otel")


def tool_use(tool_name: str) -> list[dict[str, Any]]:
    """chat_script's TOOL_USE with the tool named as the framework advertises it."""
    return [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[
                {"function": {"name": tool_name, "arguments": json.dumps({"order_id": "A-1001"})}}]),
            oa(470, 90, "stop", "Order A-1001 has shipped.", reasoning=64)]


def write(rec: Recorder, *packages: str) -> None:
    """The capture, and its truth under its own name with the versions of the packages that made it."""
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(rec.source, {"versions": {n: version(n) for n in packages}})


# --------------------------------------------------------------------------------------------------------
# Semantic Kernel agents
# --------------------------------------------------------------------------------------------------------

def run_semantic_kernel(source: str) -> None:
    # the diagnostics switches (semantic_kernel/utils/telemetry/model_diagnostics/model_diagnostics_settings.py),
    # which agent_diagnostics/decorators.py reuses for the invoke_agent spans
    os.environ["SEMANTICKERNEL_EXPERIMENTAL_GENAI_ENABLE_OTEL_DIAGNOSTICS"] = "true"
    os.environ["SEMANTICKERNEL_EXPERIMENTAL_GENAI_ENABLE_OTEL_DIAGNOSTICS_SENSITIVE"] = "true"
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)
    import logging

    from opentelemetry.sdk._logs import LoggingHandler

    # SK's chat spans carry no content: _SENSITIVE logs the messages (decorators.py _set_completion_input /
    # _set_completion_response ``logger.info(...)``), shipped as SK's telemetry samples do
    sk_log = logging.getLogger("semantic_kernel")
    sk_log.setLevel(logging.INFO)
    sk_log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=rec.lp))
    srv = serve(OpenAIHandler)
    from openai import AsyncOpenAI
    from semantic_kernel import Kernel
    from semantic_kernel.agents import ChatCompletionAgent, ChatHistoryAgentThread
    from semantic_kernel.connectors.ai.open_ai import OpenAIChatCompletion, OpenAIChatPromptExecutionSettings
    from semantic_kernel.exceptions import AgentInvokeException, ServiceResponseException
    from semantic_kernel.functions import KernelArguments, kernel_function

    client = AsyncOpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", max_retries=0)

    class Orders:
        @kernel_function(name="get_order_status", description="Look up the shipping status of an order.")
        def get_order_status(self, order_id: str) -> str:
            return get_order_status(order_id)

    def agent(instructions: str = SYSTEM, model: str = "gpt-4o-mini", **settings: Any) -> Any:
        # the plugin on a kernel of the agent's own, named "orders" (Agent._configure_plugins would name it
        # after its class; a dict of plugins is iterated for its keys there, semantic_kernel/agents/agent.py)
        kernel = Kernel()
        kernel.add_plugin(Orders(), plugin_name="orders")
        return ChatCompletionAgent(
            service=OpenAIChatCompletion(ai_model_id=model, async_client=client), name="support",
            instructions=instructions, kernel=kernel,
            arguments=KernelArguments(settings=OpenAIChatPromptExecutionSettings(**settings)) if settings else None)

    async def main() -> None:
        # healthy: two turns in one ChatHistoryAgentThread (get_response)
        SCRIPT[:] = list(HEALTHY)
        with rec.root("healthy", "order-status"):
            a, thread = agent(max_tokens=200), ChatHistoryAgentThread()
            for q in (Q1, Q2):
                r = await a.get_response(q, thread=thread)
                thread = r.thread
        rec.flush("healthy")

        # cached: a big static system prompt; the 2nd and 3rd call hit OpenAI's prompt cache
        SCRIPT[:] = list(CACHED)
        with rec.root("cached", "policy-qa"):
            a = agent(BIG, max_tokens=300)
            for q in ("When is my refund?", Q1, Q2):
                await a.get_response(q, thread=ChatHistoryAgentThread())
        rec.flush("cached")

        # streaming: invoke_stream twice, the 2nd cut at max_tokens (finish_reason length)
        SCRIPT[:] = list(STREAMING)
        with rec.root("streaming", "order-updates"):
            for q, mx in ((Q1, 256), (Q2, 64)):
                async for _ in agent(max_tokens=mx).invoke_stream(q, thread=ChatHistoryAgentThread()):
                    pass
        rec.flush("streaming")

        # tool_use: o4-mini asks for the plugin's function, SK runs it (auto function calling), then answers (invoke)
        SCRIPT[:] = tool_use("orders-get_order_status")
        with rec.root("tool_use", "order-agent"):
            async for _ in agent(model="o4-mini").invoke(Q1, thread=ChatHistoryAgentThread()):
                pass
        rec.flush("tool_use")

        # errors: a 429 then a 500 surfaced to the app (max_retries=0)
        SCRIPT[:] = list(ERRORS)
        surfaced: list[str] = []
        with rec.root("errors", "order-status"):
            for _ in range(2):
                try:
                    await agent(max_tokens=200).get_response(Q1, thread=ChatHistoryAgentThread())
                except (ServiceResponseException, AgentInvokeException) as exc:
                    cause = exc
                    while cause.__cause__ is not None:
                        cause = cause.__cause__  # type: ignore[assignment]
                    surfaced.append(type(cause).__name__)
        assert surfaced == ["RateLimitError", "InternalServerError"], surfaced
        rec.flush("errors")

        # duplicate: the identical request twice (temperature 0), each in a new thread
        SCRIPT[:] = list(DUPLICATE)
        with rec.root("duplicate", "order-status"):
            a = agent(max_tokens=100, temperature=0.0)
            for _ in range(2):
                await a.get_response(Q1, thread=ChatHistoryAgentThread())
        rec.flush("duplicate")

    asyncio.run(main())
    srv.shutdown()
    write(rec, "semantic-kernel", "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# LlamaIndex's own OpenTelemetry integration
# --------------------------------------------------------------------------------------------------------

def run_llamaindex(source: str) -> None:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    # our exporter and provider, handed to the integration: it adds the span processor and sets the provider global
    # (llama_index/observability/otel/base.py LlamaIndexOpenTelemetry._start_otel)
    spans, tp = InMemorySpanExporter(), TracerProvider(resource=Resource.create(RESOURCE))
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, tracer_provider=tp,
                   spans=spans)
    from llama_index.observability.otel import LlamaIndexOpenTelemetry

    LlamaIndexOpenTelemetry(span_exporter=spans, span_processor="simple", tracer_provider=tp,
                            service_name_or_resource=Resource.create(RESOURCE)).start_registering()
    srv = serve(OpenAIHandler)
    import openai
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.memory import ChatMemoryBuffer
    from llama_index.core.tools import FunctionTool
    from llama_index.llms.openai import OpenAI

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    tool = FunctionTool.from_defaults(fn=get_order_status)

    def agent(system: str = SYSTEM, model: str = "gpt-4o-mini", streaming: bool = False, **kw: Any) -> Any:
        llm = OpenAI(model=model, api_key="sk-fake", api_base=base, max_retries=0, **kw)
        return FunctionAgent(name="support", description="ACME support", tools=[tool], llm=llm,
                             system_prompt=system, streaming=streaming)

    async def main() -> None:
        # healthy: two turns, the second with the first in the agent's memory
        SCRIPT[:] = list(HEALTHY)
        with rec.root("healthy", "order-status"):
            a, memory = agent(max_tokens=200), ChatMemoryBuffer.from_defaults()
            for q in (Q1, Q2):
                await a.run(q, memory=memory)
        rec.flush("healthy")

        # cached: a big static system prompt
        SCRIPT[:] = list(CACHED)
        with rec.root("cached", "policy-qa"):
            a = agent(BIG, max_tokens=300)
            for q in ("When is my refund?", Q1, Q2):
                await a.run(q)
        rec.flush("cached")

        # streaming: FunctionAgent's streaming mode (astream_chat_with_tools), the 2nd cut at max_tokens;
        # llama-index-llms-openai sends stream_options only from additional_kwargs (base.py): the 1st stream asks
        # for no usage, the 2nd asks for it as an app can
        SCRIPT[:] = list(STREAMING)
        with rec.root("streaming", "order-updates"):
            for q, mx, extra in ((Q1, 256, {}), (Q2, 64, {"stream_options": {"include_usage": True}})):
                handler = agent(streaming=True, max_tokens=mx, additional_kwargs=extra).run(q)
                async for _ in handler.stream_events():
                    pass
                await handler
        rec.flush("streaming")

        # tool_use: o4-mini asks for get_order_status, the agent runs it, then answers
        SCRIPT[:] = tool_use("get_order_status")
        with rec.root("tool_use", "order-agent"):
            await agent(model="o4-mini").run(Q1)
        rec.flush("tool_use")

        # errors: a 429 then a 500 surfaced to the app (max_retries=0)
        SCRIPT[:] = list(ERRORS)
        surfaced: list[int] = []
        with rec.root("errors", "order-status"):
            for _ in range(2):
                try:
                    await agent(max_tokens=200).run(Q1)
                except openai.APIStatusError as exc:  # the workflow re-raises the step's exception as it is
                    surfaced.append(exc.status_code)
        assert surfaced == [429, 500], surfaced
        rec.flush("errors")

        # duplicate: the identical request twice (temperature 0)
        SCRIPT[:] = list(DUPLICATE)
        with rec.root("duplicate", "order-status"):
            for _ in range(2):
                await agent(max_tokens=100, temperature=0.0).run(Q1)
        rec.flush("duplicate")

    asyncio.run(main())
    srv.shutdown()
    write(rec, "llama-index-observability-otel", "llama-index-core", "llama-index-llms-openai",
          "llama-index-instrumentation", "openai", "opentelemetry-sdk")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    loopback_only()
    {"semantic-kernel-agent": run_semantic_kernel, "llamaindex-otel": run_llamaindex}[sys.argv[1]](sys.argv[1])
    print(f"{sys.argv[1]}: connections refused beyond loopback: {REFUSED or 'none'}")
