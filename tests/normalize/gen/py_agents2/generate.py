"""Capture real spans from Python agent frameworks (AutoGen, smolagents, LangGraph, CrewAI) against a fake OpenAI API.

Every model-call span in the output was emitted by a real library wrapping a real client, which talked HTTP
to the fake OpenAI Chat Completions server of ``../py_native/generate.py`` (``OpenAIHandler``, imported, not
copied: usage numbers chosen here, ``cached_tokens`` and ``reasoning_tokens`` included; finish reasons stop /
length / tool_calls; 429 and 500 with OpenAI's error JSON; SSE streams with usage in the last chunk when the
client asks for it) on 127.0.0.1. The only spans made here are the trace roots (``workflow``, scope
``fixgen.app``, attribute ``app.workflow``); every framework runs the tool itself.

Sources (one process each, so that instrumentations never meet):

* ``autogen-openai-v2``       autogen-agentchat ``AssistantAgent`` over autogen-ext's ``OpenAIChatCompletionClient``
                              (``max_retries=0``): AutoGen's built-in tracing (autogen_core/_telemetry/_genai.py,
                              global TracerProvider: ``create_agent`` / ``invoke_agent support`` / ``execute_tool``
                              spans, ``gen_ai.system=autogen``, no model span, no usage, no content) with
                              OpenTelemetry contrib's opentelemetry-instrumentation-openai-v2 for the model calls
                              (``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``, content on the span)
* ``smolagents-openinference`` smolagents ``ToolCallingAgent`` over ``OpenAIServerModel`` (``retry=False``, openai
                              ``max_retries=0``) under openinference-instrumentation-smolagents: the agent's
                              AGENT span (``ToolCallingAgent.run``, with the agent monitor's cumulative token
                              totals), ``Step N`` chains, ``OpenAIModel.generate`` / ``generate_stream`` LLM spans
                              and tool spans
* ``langgraph-openinference`` langgraph's prebuilt ``create_react_agent`` over langchain-openai ``ChatOpenAI``
                              (``max_retries=0``) under openinference-instrumentation-langchain
* ``crewai-openllmetry``      crewai (its native OpenAI provider over ``openai``, ``LLM(max_retries=0)``) under
                              OpenLLMetry's opentelemetry-instrumentation-crewai with opentelemetry-instrumentation-
                              openai (``TRACELOOP_TRACE_CONTENT=true``): ``crewai.workflow`` > ``{task}.task`` >
                              ``{role}.agent`` (all ``invoke_agent``, provider crewai) > ``openai.chat``
* ``crewai-openllmetry-litellm`` the same on CrewAI's LiteLLM route (``LLM(..., is_litellm=True)``, crewai[litellm]):
                              LiteLLM's own HTTP client, so no OpenAI span; the call is OpenLLMetry's ``{model}.llm``
                              span (``crewai.llm.LLM.call``) and the usage only the agent spans' running totals

Scenarios (the other captures' conventions): ``healthy`` (2 calls, one conversation), ``cached`` (a big static
system prompt, 3 calls, the 2nd and 3rd with ``cached_tokens``), ``streaming`` (2 streamed calls, the 2nd cut at
max_tokens), ``tool_use`` (o4-mini asks for get_order_status with reasoning tokens, the framework runs the tool,
the model answers), ``errors`` (a 429 then a 500 surfaced to the app: 2 failed calls) and ``duplicate`` (the
identical request twice, temperature 0). CrewAI's healthy run is one crew whose one agent does two tasks (its agent
spans then carry the agent's running token total); CrewAI retries a 429 itself (crewai llms/retry.py, no switch),
so its ``errors`` is one kickoff whose retry gets the 500, and its prompts are its own (``You are {role}...``, the
role chosen so that the system prompt starts as everywhere, ReAct ``Final Answer:`` texts). smolagents'
ToolCallingAgent answers through its ``final_answer`` tool, so each of its turns is a tool call (finish reason
``tool_calls``); its system prompt is smolagents' own, with ours in front.

Re-run (Python 3.11; one venv per section of requirements.txt under /tmp, never the project's .venv)::

    cd tests/normalize/gen/py_agents2
    sed -n '/^# \\[autogen\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/autogen.txt   # likewise [smol], [lg], [crew]
    python3 -m venv /tmp/gen-pa2-autogen && /tmp/gen-pa2-autogen/bin/pip install -r /tmp/autogen.txt
    /tmp/gen-pa2-autogen/bin/python generate.py autogen-openai-v2
    /tmp/gen-pa2-smol/bin/python generate.py smolagents-openinference
    /tmp/gen-pa2-lg/bin/python generate.py langgraph-openinference
    /tmp/gen-pa2-crew/bin/python generate.py crewai-openllmetry
    /tmp/gen-pa2-crew/bin/python generate.py crewai-openllmetry-litellm

Versions: autogen-agentchat / autogen-core / autogen-ext 0.7.5, opentelemetry-instrumentation-openai-v2 2.4b0
(opentelemetry-util-genai 1.1b0), openai 3.57.0; smolagents 1.26.0, openinference-instrumentation-smolagents
0.1.43; langgraph 1.2.24 (langgraph-prebuilt 1.1.3), langchain-openai 1.7.4, openinference-instrumentation-langchain
0.1.80; crewai 1.15.30, opentelemetry-instrumentation-crewai / -openai 0.62.4, litellm 1.110.2, openai 2.54.0
(crewai's pin); opentelemetry-sdk 1.45.2 everywhere (all in requirements.txt and, per source, the truth file).

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack traces as
/app/) and sets its entry in ``tests/normalize/data/py_agents2-truth.json``: per scenario ``calls`` (model calls
answered, failed included), ``failed``, ``input`` (``prompt_tokens``, which includes ``cached_tokens``),
``output`` (``completion_tokens``, reasoning included), ``cache_read``, ``cache_write`` (0: the API has none),
``reasoning``, ``finish_reasons``, ``models`` ([request model, served model] of the successful calls) and
``usage_unsent`` (streamed calls whose usage the server did not send because the client did not ask for it).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve

_spec = importlib.util.spec_from_file_location("py_native_generate", HERE.parent / "py_native" / "generate.py")
assert _spec is not None and _spec.loader is not None
native = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(native)
OpenAIHandler, SCRIPT, TRUTH_NOW, oa = native.OpenAIHandler, native.SCRIPT, native.TRUTH_NOW, native.oa

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "py_agents2-truth.json"
SOURCES = ("autogen-openai-v2", "smolagents-openinference", "langgraph-openinference", "crewai-openllmetry",
           "crewai-openllmetry-litellm")

from chat_script import (
    BIG,
    CACHED,
    DUPLICATE,
    ERRORS,
    HEALTHY,
    Q1,
    Q2,
    STREAMING,
    SYSTEM,
    TOOL_USE,
    get_order_status,
)


def recorder(source: str) -> Recorder:
    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)


def write(rec: Recorder, *packages: str) -> None:
    """The capture, and its truth under its own name with the versions of the packages that made it."""
    from importlib.metadata import version

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(rec.source, {"versions": {n: version(n) for n in packages}})


def base_url(srv: Any) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/v1"


# --------------------------------------------------------------------------------------------------------
# AutoGen (autogen-agentchat 0.7) with OpenTelemetry contrib's openai-v2 instrumentation
# --------------------------------------------------------------------------------------------------------

def run_autogen(source: str) -> None:
    rec = recorder(source)
    # util-genai's latest experimental semconv, messages on the span (opentelemetry-util-genai utils.py
    # get_content_capturing_mode reads OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT in that mode)
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(OpenAIHandler)
    import openai
    from autogen_agentchat.agents import AssistantAgent
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    def agent(system: str = SYSTEM, model: str = "gpt-4o-mini", tools: Any = None, stream: bool = False,
              **create_args: Any) -> Any:
        client = OpenAIChatCompletionClient(model=model, api_key="sk-fake", base_url=base_url(srv), max_retries=0,
                                            **create_args)
        return AssistantAgent("support", model_client=client, system_message=system, tools=tools,
                              model_client_stream=stream, reflect_on_tool_use=bool(tools))

    async def main() -> None:
        SCRIPT[:] = list(HEALTHY)
        with rec.root("healthy", "order-status"):
            a = agent(max_tokens=200)
            await a.run(task=Q1)
            await a.run(task=Q2)  # the agent keeps the conversation
        rec.flush("healthy")

        SCRIPT[:] = list(CACHED)
        with rec.root("cached", "policy-qa"):
            for q in ("When is my refund?", Q1, Q2):
                await agent(BIG, max_tokens=300).run(task=q)
        rec.flush("cached")

        # the client's create_stream asks for usage only when told (autogen_ext/models/openai/_openai_client.py
        # create_stream: include_usage / stream_options)
        SCRIPT[:] = list(STREAMING)
        with rec.root("streaming", "order-updates"):
            for q, mx in ((Q1, 256), (Q2, 64)):
                await agent(stream=True, max_tokens=mx, stream_options={"include_usage": True}).run(task=q)
        rec.flush("streaming")

        SCRIPT[:] = list(TOOL_USE)
        with rec.root("tool_use", "order-agent"):
            await agent(model="o4-mini", tools=[get_order_status]).run(task=Q1)
        rec.flush("tool_use")

        SCRIPT[:] = list(ERRORS)
        surfaced: list[str] = []
        with rec.root("errors", "order-status"):
            for _ in range(2):
                try:
                    await agent(max_tokens=200).run(task=Q1)
                except openai.APIStatusError as exc:  # the openai error, re-raised through the agent
                    surfaced.append(type(exc).__name__)
        assert surfaced == ["RateLimitError", "InternalServerError"], surfaced
        rec.flush("errors")

        SCRIPT[:] = list(DUPLICATE)
        with rec.root("duplicate", "order-status"):
            for _ in range(2):
                await agent(max_tokens=100, temperature=0.0).run(task=Q1)
        rec.flush("duplicate")

    asyncio.run(main())
    srv.shutdown()
    write(rec, "autogen-agentchat", "autogen-core", "autogen-ext", "openai", "opentelemetry-instrumentation-openai-v2",
          "opentelemetry-util-genai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# smolagents under openinference-instrumentation-smolagents
# --------------------------------------------------------------------------------------------------------

def final(answer: str) -> dict[str, Any]:
    """smolagents' ToolCallingAgent ends a run with its final_answer tool."""
    return {"function": {"name": "final_answer", "arguments": json.dumps({"answer": answer})}}


def as_final(step: dict[str, Any]) -> dict[str, Any]:
    if step["finish"] != "stop":
        return step
    return {**step, "finish": "tool_calls", "text": None, "tool_calls": [final(step["text"])]}


def run_smolagents(source: str) -> None:
    rec = recorder(source)
    from openinference.instrumentation.smolagents import SmolagentsInstrumentor

    SmolagentsInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
    srv = serve(OpenAIHandler)
    import importlib.resources

    import yaml
    from smolagents import OpenAIServerModel, ToolCallingAgent, tool
    from smolagents.utils import AgentGenerationError

    defaults = yaml.safe_load(importlib.resources.files("smolagents.prompts").joinpath("toolcalling_agent.yaml")
                              .read_text())

    @tool
    def order_status(order_id: str) -> str:
        """Look up the shipping status of an order.

        Args:
            order_id: the order's id, e.g. A-1001
        """
        return get_order_status(order_id)

    order_status.name = "get_order_status"

    def agent(system: str = SYSTEM, model: str = "gpt-4o-mini", tools: Any = (), stream: bool = False,
              **kwargs: Any) -> Any:
        m = OpenAIServerModel(model_id=model, api_base=base_url(srv), api_key="sk-fake", retry=False,
                              client_kwargs={"max_retries": 0}, **kwargs)
        prompts = {**defaults, "system_prompt": system + "\n\n" + defaults["system_prompt"]}
        return ToolCallingAgent(tools=list(tools), model=m, prompt_templates=prompts, stream_outputs=stream,
                                max_steps=3, verbosity_level=0)

    SCRIPT[:] = [as_final(s) for s in HEALTHY]
    with rec.root("healthy", "order-status"):
        a = agent(max_tokens=200)
        a.run(Q1)
        a.run(Q2, reset=False)  # the same conversation
    rec.flush("healthy")

    SCRIPT[:] = [as_final(s) for s in CACHED]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            agent(BIG, max_tokens=300).run(q)
    rec.flush("cached")

    # the 1st through the agent (stream_outputs: OpenAIModel.generate_stream, which asks for
    # stream_options.include_usage), the 2nd straight on the model: a stream cut at max_tokens holds no tool
    # call, which the agent would take as a parsing error and ask again (smolagents agents.py _step_stream)
    SCRIPT[:] = [as_final(STREAMING[0]), STREAMING[1]]
    with rec.root("streaming", "order-updates"):
        agent(stream=True, max_tokens=256).run(Q1)
        m = OpenAIServerModel(model_id="gpt-4o-mini", api_base=base_url(srv), api_key="sk-fake", retry=False,
                              client_kwargs={"max_retries": 0}, max_tokens=64)
        for _ in m.generate_stream([{"role": "system", "content": [{"type": "text", "text": SYSTEM}]},
                                    {"role": "user", "content": [{"type": "text", "text": Q2}]}]):
            pass
    rec.flush("streaming")

    SCRIPT[:] = [TOOL_USE[0], as_final(TOOL_USE[1])]
    with rec.root("tool_use", "order-agent"):
        agent(model="o4-mini", tools=[order_status]).run(Q1)
    rec.flush("tool_use")

    SCRIPT[:] = list(ERRORS)
    surfaced: list[str] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                agent(max_tokens=200).run(Q1)
            except AgentGenerationError as exc:  # smolagents wraps the openai error (agents.py _step_stream)
                surfaced.append(type(exc.__cause__).__name__)
    assert surfaced == ["RateLimitError", "InternalServerError"], surfaced
    rec.flush("errors")

    SCRIPT[:] = [as_final(s) for s in DUPLICATE]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            agent(max_tokens=100, temperature=0.0).run(Q1)
    rec.flush("duplicate")

    srv.shutdown()
    write(rec, "smolagents", "openinference-instrumentation-smolagents", "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# LangGraph's prebuilt ReAct agent under openinference-instrumentation-langchain
# --------------------------------------------------------------------------------------------------------

def run_langgraph(source: str) -> None:
    rec = recorder(source)
    from openinference.instrumentation.langchain import LangChainInstrumentor

    LangChainInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
    srv = serve(OpenAIHandler)
    import openai
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI
    from langgraph.prebuilt import create_react_agent

    order_status = tool(get_order_status)

    def agent(system: str = SYSTEM, model: str = "gpt-4o-mini", tools: Any = (), **kwargs: Any) -> Any:
        llm = ChatOpenAI(model=model, base_url=base_url(srv), api_key="sk-fake", max_retries=0, **kwargs)
        return create_react_agent(llm, list(tools), prompt=system)

    def ask(a: Any, *questions: str) -> None:
        messages: list[Any] = []
        for q in questions:
            messages = a.invoke({"messages": [*messages, ("user", q)]})["messages"]

    SCRIPT[:] = list(HEALTHY)
    with rec.root("healthy", "order-status"):
        ask(agent(max_tokens=200), Q1, Q2)  # one conversation, the history sent again
    rec.flush("healthy")

    SCRIPT[:] = list(CACHED)
    with rec.root("cached", "policy-qa"):
        a = agent(BIG, max_tokens=300)
        for q in ("When is my refund?", Q1, Q2):
            ask(a, q)
    rec.flush("cached")

    # ChatOpenAI(streaming=True) streams inside invoke; stream_usage asks for stream_options.include_usage
    SCRIPT[:] = list(STREAMING)
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            ask(agent(max_tokens=mx, streaming=True, stream_usage=True), q)
    rec.flush("streaming")

    SCRIPT[:] = list(TOOL_USE)
    with rec.root("tool_use", "order-agent"):
        ask(agent(model="o4-mini", tools=[order_status]), Q1)
    rec.flush("tool_use")

    SCRIPT[:] = list(ERRORS)
    surfaced: list[str] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                ask(agent(max_tokens=200), Q1)
            except openai.APIStatusError as exc:  # langchain-openai re-raises it as its own subclass
                surfaced.append(type(exc).__name__)
    assert surfaced == ["OpenAIRateLimitError", "OpenAIAPIError"], surfaced
    rec.flush("errors")

    SCRIPT[:] = list(DUPLICATE)
    with rec.root("duplicate", "order-status"):
        a = agent(max_tokens=100, temperature=0.0)
        for _ in range(2):
            ask(a, Q1)
    rec.flush("duplicate")

    srv.shutdown()
    write(rec, "langgraph", "langgraph-prebuilt", "langchain-core", "langchain-openai", "openai",
          "openinference-instrumentation-langchain", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# CrewAI under OpenLLMetry (opentelemetry-instrumentation-crewai with opentelemetry-instrumentation-openai)
# --------------------------------------------------------------------------------------------------------

def react(answer: str) -> str:
    """CrewAI's agent executor parses the model's text (agents/parser.py): a final answer is
    ``Thought: ... Final Answer: ...``."""
    return f"Thought: I now know the final answer\nFinal Answer: {answer}"


def as_react(step: dict[str, Any]) -> dict[str, Any]:
    return {**step, "text": react(step["text"])} if step["text"] else step


def run_crewai(source: str) -> None:
    os.environ["CREWAI_DISABLE_TELEMETRY"] = "true"  # no calls home (telemetry.crewai.com)
    os.environ["CREWAI_TRACING_ENABLED"] = "false"
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # LiteLLM's bundled prices, no fetch
    rec = recorder(source)
    from opentelemetry.instrumentation.crewai import CrewAIInstrumentor
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    CrewAIInstrumentor().instrument(tracer_provider=rec.tp)
    OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(OpenAIHandler)
    from crewai import LLM, Agent, Crew, Task
    from crewai.tools import tool

    litellm = source.endswith("-litellm")  # CrewAI's LiteLLM route (crewai llm.py LLM.__new__ is_litellm)

    def llm(model: str = "gpt-4o-mini", **kw: Any) -> Any:
        return LLM(model=f"openai/{model}", api_key="sk-fake", base_url=base_url(srv), max_retries=0,
                   is_litellm=litellm, **kw)

    def crew(question: str | tuple[str, ...], m: Any, backstory: str = "Answer briefly and politely.",
             tools: Any = ()) -> Any:
        """One crew of one agent, with a task per question (in order, the agent doing each)."""
        # CrewAI's system prompt is ``You are {role}. {backstory}\nYour personal goal is: {goal}``
        # (crewai translations/en.json role_playing): the role makes it start as every capture's does
        a = Agent(role="a support assistant for ACME", goal="Tell customers where their orders are.",
                  backstory=backstory, llm=m, tools=list(tools), max_iter=3, max_retry_limit=0, verbose=False,
                  allow_delegation=False)
        tasks = [Task(description=q, expected_output="One short sentence.", agent=a)
                 for q in ((question,) if isinstance(question, str) else question)]
        return Crew(agents=[a], tasks=tasks, verbose=False).kickoff()

    SCRIPT[:] = [as_react(s) for s in HEALTHY]
    with rec.root("healthy", "order-status"):
        # one agent doing two tasks: its agent spans (one per task) carry the agent's running total on the LiteLLM
        # route (opentelemetry-instrumentation-crewai 0.62.4 wrap_agent_execute_task: _token_process.get_summary())
        crew((Q1, Q2), llm(max_tokens=200))
    rec.flush("healthy")

    SCRIPT[:] = [as_react(s) for s in CACHED]
    with rec.root("cached", "policy-qa"):
        m = llm(max_tokens=300)
        for q in ("When is my refund?", Q1, Q2):
            crew(q, m, backstory=BIG[len("You are a support assistant for ACME. "):])
    rec.flush("cached")

    # LLM(stream=True): stream_options.include_usage (crewai llms/providers/openai/completion.py)
    SCRIPT[:] = [as_react(s) for s in STREAMING]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            crew(q, llm(max_tokens=mx, stream=True))
    rec.flush("streaming")

    @tool("get_order_status")
    def order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return get_order_status(order_id)

    SCRIPT[:] = list(TOOL_USE)
    with rec.root("tool_use", "order-agent"):
        crew(Q1, llm("o4-mini"), tools=[order_status])
    rec.flush("tool_use")

    # CrewAI retries a rate limit itself whatever the SDK's max_retries (crewai llms/retry.py
    # run_with_rate_limit_retry, no switch): one kickoff makes both calls, the 429 and its retry answered 500,
    # which reaches the app (Agent max_retry_limit=0: no task re-run)
    SCRIPT[:] = list(ERRORS)
    surfaced: list[str] = []
    with rec.root("errors", "order-status"):
        try:
            crew(Q1, llm(max_tokens=200))
        except Exception as exc:  # noqa: BLE001 - CrewAI re-raises the openai error
            surfaced.append(type(exc).__name__)
    assert surfaced == ["InternalServerError"], surfaced
    rec.flush("errors")

    SCRIPT[:] = [as_react(s) for s in DUPLICATE]
    with rec.root("duplicate", "order-status"):
        m = llm(max_tokens=100, temperature=0.0)
        for _ in range(2):
            crew(Q1, m)
    rec.flush("duplicate")

    srv.shutdown()
    write(rec, "crewai", "opentelemetry-instrumentation-crewai", "opentelemetry-instrumentation-openai", "openai",
          "opentelemetry-sdk", *(("litellm",) if litellm else ()))


RUNS = {"autogen-openai-v2": run_autogen, "smolagents-openinference": run_smolagents,
        "langgraph-openinference": run_langgraph, "crewai-openllmetry": run_crewai,
        "crewai-openllmetry-litellm": run_crewai}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNS:
        raise SystemExit(f"usage: generate.py SOURCE; one of {SOURCES}")
    RUNS[sys.argv[1]](sys.argv[1])
