"""Capture real spans of OpenLIT over CrewAI and over the OpenAI Agents SDK, and of LlamaIndex's agent workflow
under OpenInference, against fake OpenAI APIs.

Every model-call span in the output was emitted by a real library wrapping a real client, which talked HTTP to
a fake OpenAI server on 127.0.0.1, imported, not copied: the Chat Completions server of
``../py_native/generate.py`` (``OpenAIHandler``: usage numbers chosen here, ``cached_tokens`` and
``reasoning_tokens`` included; finish reasons stop / length / tool_calls; 429 and 500 with OpenAI's error JSON;
SSE streams with usage in the last chunk when the client asks for it) and the Responses server of
``../agents_sdk/generate.py`` (``ResponsesHandler``, with that generator's scenario script ``run``, run unchanged
with OpenLIT in place of its instrumentations). The only spans made here are the trace roots (``workflow``,
scope ``fixgen.app``, attribute ``app.workflow``); every framework runs the tool itself.

Sources (one process each, so that instrumentations never meet):

* ``crewai-openlit``          crewai (its native OpenAI provider over ``openai``, ``LLM(max_retries=0)``) under
                              ``openlit.init(capture_message_content=True)``: OpenLIT instruments both CrewAI
                              (``openlit.instrumentation.crewai``: crew / task / agent spans, provider ``crewai``)
                              and the OpenAI SDK (``openlit.instrumentation.openai``: the ``chat`` span), so one
                              model call can be reported by both
* ``agents-openlit``          openai-agents 0.24.0 under ``openlit.init(capture_message_content=True)``
                              (``openlit.instrumentation.openai_agents``, a tracing processor, plus its OpenAI SDK
                              instrumentation); ``set_trace_processors([])`` first, so nothing goes to api.openai.com;
                              the agents_sdk generator's scenarios and truth
* ``llamaindex-agent-openinference`` llama_index.core.agent.workflow ``FunctionAgent`` with a tool over
                              llama-index-llms-openai ``OpenAI(max_retries=0)`` under
                              openinference-instrumentation-llama-index (content captured by default)

Scenarios (the other captures' conventions): ``healthy`` (2 calls), ``cached`` (a big static system prompt, 3
calls, the 2nd and 3rd with cached tokens), ``streaming`` (2 streamed calls, the 2nd cut at max tokens),
``tool_use`` (the model asks for get_order_status, the framework runs the tool, the model answers), ``errors``
(a 429 then a 500 surfaced to the app: 2 failed calls) and ``duplicate`` (the identical request twice,
temperature 0). CrewAI retries a 429 itself (crewai llms/retry.py, no switch), so its ``errors`` is one kickoff
whose retry gets the 500 (as crewai-openllmetry's is).

Re-run (Python 3.11; one venv per section of requirements.txt under /tmp, never the project's .venv; each section
is the venv's complete freeze, installed ``--no-deps``: openlit 1.45.0's full dependency set does not resolve)::

    cd tests/normalize/gen/py4
    sed -n '/^# \\[crew\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/crew.txt   # likewise [agents], [li]
    python3 -m venv /tmp/gen-py4-crew && /tmp/gen-py4-crew/bin/pip install --no-deps -r /tmp/crew.txt
    /tmp/gen-py4-crew/bin/python generate.py crewai-openlit
    /tmp/gen-py4-agents/bin/python generate.py agents-openlit
    /tmp/gen-py4-li/bin/python generate.py llamaindex-agent-openinference

Versions: crewai 1.15.30, openai 2.54.0 (crewai's pin), openlit 1.45.0; openai-agents 0.24.0, openai 3.57.0,
openlit 1.45.0; llama-index-core 0.14.25, llama-index-llms-openai 0.8.3, llama-index-workflows 2.26.1,
openinference-instrumentation-llama-index 4.6.1, openai 2.54.0; opentelemetry-sdk 1.45.2 everywhere (all in
requirements.txt and, per source, ``versions`` in the truth file). What the spans cannot tell (OpenLIT's Chat
Completions spans carry no reasoning count; OpenLIT's streamed Responses spans never end under the Agents SDK;
OpenInference's LlamaIndex LLM spans name no served model) is pinned in tests/normalize/test_captured_py4.py.

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack traces as /app/)
and sets its entry in ``tests/normalize/data/py4-truth.json``: per scenario ``calls`` (model calls answered,
failed included), ``failed``, ``input`` (``prompt_tokens`` / ``input_tokens``, cached included), ``output``
(reasoning included), ``cache_read``, ``cache_write`` (0: the API has none), ``reasoning``, ``finish_reasons``
(``statuses`` for the Responses API), ``models`` ([request model, served model]).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, out_dir, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "py4-truth.json"
SOURCES = ("crewai-openlit", "agents-openlit", "llamaindex-agent-openinference")


def _load(name: str, rel: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE.parent / rel)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


native = _load("py_native_generate", "py_native/generate.py")
OpenAIHandler, SCRIPT, TRUTH_NOW, oa = native.OpenAIHandler, native.SCRIPT, native.TRUTH_NOW, native.oa

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


def versions(*packages: str) -> dict[str, str]:
    from importlib.metadata import version

    return {n: version(n) for n in packages}


def recorder(source: str) -> Recorder:
    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)


def write(rec: Recorder, *packages: str) -> None:
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(rec.source, {"versions": versions(*packages)})


def base_url(srv: Any) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/v1"


def openlit_init() -> None:
    import openlit

    # the Recorder's TracerProvider is global already: openlit/otel/tracing.py setup_tracing keeps an existing
    # SDK TracerProvider; no metrics, no events, no exporter (OTEL_EXPORTER_OTLP_ENDPOINT unset); prices from
    # openlit_pricing.json beside this script (no fetch)
    openlit.init(application_name="support-bot", environment="fixture", capture_message_content=True,
                 pricing_json=str(HERE / "openlit_pricing.json"), disable_metrics=True, disable_events=True)


# --------------------------------------------------------------------------------------------------------
# CrewAI under OpenLIT
# --------------------------------------------------------------------------------------------------------

def react(answer: str) -> str:
    """CrewAI's agent executor parses the model's text (agents/parser.py): ``Thought: ... Final Answer: ...``."""
    return f"Thought: I now know the final answer\nFinal Answer: {answer}"


def as_react(step: dict[str, Any]) -> dict[str, Any]:
    return {**step, "text": react(step["text"])} if step["text"] else step


def run_crewai(source: str) -> None:
    os.environ["CREWAI_DISABLE_TELEMETRY"] = "true"  # no calls home (telemetry.crewai.com)
    os.environ["CREWAI_TRACING_ENABLED"] = "false"
    os.environ["OTEL_SDK_DISABLED"] = "false"
    rec = recorder(source)
    openlit_init()
    srv = serve(OpenAIHandler)
    from crewai import LLM, Agent, Crew, Task
    from crewai.tools import tool

    def llm(model: str = "gpt-4o-mini", **kw: Any) -> Any:
        return LLM(model=f"openai/{model}", api_key="sk-fake", base_url=base_url(srv), max_retries=0, **kw)

    def crew(question: str | tuple[str, ...], m: Any, backstory: str = "Answer briefly and politely.",
             tools: Any = ()) -> Any:
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
    # run_with_rate_limit_retry): one kickoff makes both calls, the retry answered 500, which reaches the app
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
    write(rec, "crewai", "openlit", "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# OpenLIT over the OpenAI Agents SDK: the agents_sdk generator's fake Responses API and scenario script
# --------------------------------------------------------------------------------------------------------

def run_agents(source: str) -> None:
    gen = _load("agents_sdk_generate", "agents_sdk/generate.py")

    def instrument(_: str, tp: Any) -> None:
        from agents import set_trace_processors

        set_trace_processors([])  # no export of the Agents SDK's traces to api.openai.com
        openlit_init()  # its OpenLITTracingProcessor is added after (openlit/instrumentation/openai_agents)

    gen.instrument = instrument
    with tempfile.TemporaryDirectory() as tmp:
        gen.TRUTH = Path(tmp) / "truth.json"  # the agents_sdk truth file is that generator's; ours is ours
        asyncio.run(gen.run(source))
        scenarios = json.loads(gen.TRUTH.read_text())["scenarios"]
    path = out_dir() / TRUTH.name
    truth = json.loads(path.read_text()) if path.exists() else {}
    truth[source] = {"scenarios": scenarios, "sources": [source],
                     "versions": versions("openai-agents", "openlit", "openai", "opentelemetry-sdk")}
    path.write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")


# --------------------------------------------------------------------------------------------------------
# LlamaIndex agent workflow (FunctionAgent) under OpenInference
# --------------------------------------------------------------------------------------------------------

def run_llamaindex(source: str) -> None:
    rec = recorder(source)
    from openinference.instrumentation.llama_index import LlamaIndexInstrumentor

    LlamaIndexInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
    srv = serve(OpenAIHandler)
    import openai
    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.core.tools import FunctionTool
    from llama_index.llms.openai import OpenAI

    def llm(model: str = "gpt-4o-mini", **kw: Any) -> Any:
        return OpenAI(model=model, api_key="sk-fake", api_base=base_url(srv), max_retries=0, **kw)

    def agent(m: Any, system: str = SYSTEM, tools: Any = (), stream: bool = False) -> Any:
        return FunctionAgent(name="support", description="ACME order support", system_prompt=system,
                             llm=m, tools=list(tools), streaming=stream)

    async def ask(a: Any, question: str, memory: Any = None, stream: bool = False) -> Any:
        handler = a.run(user_msg=question, memory=memory)
        if stream:
            async for _ in handler.stream_events():
                pass
        return await handler

    async def main() -> None:
        from llama_index.core.memory import ChatMemoryBuffer

        SCRIPT[:] = list(HEALTHY)
        with rec.root("healthy", "order-status"):
            a = agent(llm(max_tokens=200))
            # one memory for both runs: the second request holds the conversation (base_agent.py init_run
            # puts the run's memory in the context store; a fresh run without it starts a new one)
            memory = ChatMemoryBuffer.from_defaults()
            await ask(a, Q1, memory)
            await ask(a, Q2, memory)
        rec.flush("healthy")

        SCRIPT[:] = list(CACHED)
        with rec.root("cached", "policy-qa"):
            for q in ("When is my refund?", Q1, Q2):
                await ask(agent(llm(max_tokens=300), BIG), q)
        rec.flush("cached")

        # FunctionAgent(streaming=True) streams the chat (astream_chat_with_tools); llama-index-llms-openai asks
        # for the stream's usage with additional_kwargs stream_options
        SCRIPT[:] = list(STREAMING)
        with rec.root("streaming", "order-updates"):
            for q, mx in ((Q1, 256), (Q2, 64)):
                m = llm(max_tokens=mx, additional_kwargs={"stream_options": {"include_usage": True}})
                await ask(agent(m, stream=True), q, stream=True)
        rec.flush("streaming")

        SCRIPT[:] = list(TOOL_USE)
        with rec.root("tool_use", "order-agent"):
            await ask(agent(llm("o4-mini"), tools=[FunctionTool.from_defaults(get_order_status)]), Q1)
        rec.flush("tool_use")

        SCRIPT[:] = list(ERRORS)
        surfaced: list[str] = []
        with rec.root("errors", "order-status"):
            for _ in range(2):
                try:
                    await ask(agent(llm(max_tokens=200)), Q1)
                except openai.APIStatusError as exc:
                    surfaced.append(type(exc).__name__)
                except Exception as exc:  # noqa: BLE001 - the workflow may wrap it
                    cause = exc.__cause__ or exc
                    surfaced.append(type(cause).__name__)
        assert surfaced == ["RateLimitError", "InternalServerError"], surfaced
        rec.flush("errors")

        SCRIPT[:] = list(DUPLICATE)
        with rec.root("duplicate", "order-status"):
            for _ in range(2):
                await ask(agent(llm(max_tokens=100, temperature=0.0)), Q1)
        rec.flush("duplicate")

    asyncio.run(main())
    srv.shutdown()
    write(rec, "llama-index-core", "llama-index-llms-openai", "llama-index-workflows",
          "openinference-instrumentation-llama-index", "openai", "opentelemetry-sdk")


RUNS = {"crewai-openlit": run_crewai, "agents-openlit": run_agents, "llamaindex-agent-openinference": run_llamaindex}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNS:
        raise SystemExit(f"usage: generate.py SOURCE; one of {SOURCES}")
    RUNS[sys.argv[1]](sys.argv[1])
