"""Capture real spans from OpenInference instrumentations of agent frameworks (pydantic-ai, Google ADK, Agno).

Every model-call span in the output was emitted by a real library wrapping a real client SDK, which talked HTTP to
a fake provider server on 127.0.0.1: the fake OpenAI Chat Completions API of ``../py_native/generate.py``
(``OpenAIHandler``, its ``SCRIPT`` and ``TRUTH_NOW``, imported, not copied: ``cached_tokens`` and
``reasoning_tokens`` included, finish reasons stop / length / tool_calls, 429 and 500 with OpenAI's error JSON,
SSE with usage in the last chunk when the client asks for it) and, for ADK, the fake Gemini API of
``../sk_adk_llamaindex/generate.py`` (``GeminiHandler``, whose ADK run is re-used as it is, with the
OpenInference instrumentor on top). The only spans made here are the trace roots (``workflow``, scope
``fixgen.app``, attribute ``app.workflow``); every framework runs the tool itself.

Sources (one process each, so that instrumentations never meet):

* ``pydantic-ai-openinference``  pydantic-ai ``Agent`` over ``OpenAIChatModel`` (``AsyncOpenAI(max_retries=0)``),
                                 pydantic-ai's own instrumentation (``Agent.instrument_all``, content included)
                                 converted by openinference-instrumentation-pydantic-ai's
                                 ``OpenInferenceSpanProcessor`` (added before the exporter: what is captured is
                                 what leaves the processor)
* ``google-adk-openinference``   google-adk ``LlmAgent`` over google-genai against the fake Gemini API, under
                                 openinference-instrumentation-google-adk (``GoogleADKInstrumentor``); the
                                 scenarios of ``../sk_adk_llamaindex/generate.py`` run_adk; ADK's default
                                 telemetry schema v2
* ``google-adk-openinference-legacy`` the same with ADK's legacy schema (``ADK_TELEMETRY_SCHEMA_VERSION_OPT_IN=1``:
                                 a ``call_llm`` span per model call)
* ``agno-openinference``         agno ``Agent`` over ``agno.models.openai.OpenAIChat`` (``max_retries=0``), one tool,
                                 under openinference-instrumentation-agno (``AgnoInstrumentor``)

Scenarios (the other captures' conventions): ``healthy`` (2 calls, one conversation), ``cached`` (a big static
system prompt, 3 calls, the 2nd and 3rd with cached tokens), ``streaming`` (2 streamed calls, the 2nd cut at
max tokens), ``tool_use`` (the model asks for get_order_status, with reasoning tokens; the framework runs the
tool, the model answers), ``errors`` (a 429 then a 500 surfaced to the app, no retries: 2 failed calls) and
``duplicate`` (the identical request twice, temperature 0).

Re-run (Python 3.11; one venv per section of requirements.txt under /tmp, never the project's .venv)::

    cd tests/normalize/gen/oi2
    sed -n '/^# \\[pai\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/pai.txt   # likewise [adk], [agno]
    python3 -m venv /tmp/oi2-pai && /tmp/oi2-pai/bin/pip install -r /tmp/pai.txt
    /tmp/oi2-pai/bin/python generate.py pydantic-ai-openinference
    /tmp/oi2-adk/bin/python generate.py google-adk-openinference
    /tmp/oi2-adk/bin/python generate.py google-adk-openinference-legacy
    /tmp/oi2-agno/bin/python generate.py agno-openinference

Versions: pydantic-ai-slim 2.68.0 with openinference-instrumentation-pydantic-ai 0.1.30, openai 3.57.0,
opentelemetry-sdk 1.45.2; google-adk 2.13.0 with openinference-instrumentation-google-adk 1.0.5, google-genai
2.34.0, opentelemetry-sdk 1.44.0 (ADK's pin: <=1.44); agno 3.1.10 with openinference-instrumentation-agno 1.0.15,
openai 3.57.0, opentelemetry-sdk 1.45.2 (all in requirements.txt and, per source, in the truth file).

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp", "otlp_logs"?}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack
traces as /app/) and sets its entry in ``tests/normalize/data/oi2-truth.json``: per scenario ``calls`` (model
calls answered, failed included), ``failed``, ``input`` (OpenAI ``prompt_tokens``, which includes
``cached_tokens``; Gemini ``promptTokenCount``, cache included), ``output`` (reasoning included), ``cache_read``,
``cache_write`` (0: neither API reports one), ``reasoning``, ``finish_reasons``, ``models`` ([request model, served
model] of the successful calls) and ``usage_unsent`` (streamed calls whose usage the server did not send).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve
from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "oi2-truth.json"
SOURCES = ("pydantic-ai-openinference", "google-adk-openinference", "google-adk-openinference-legacy",
           "agno-openinference")

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


def recorder(source: str, **kw: Any) -> Recorder:
    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, **kw)


def write(rec: Recorder, *packages: str) -> None:
    """The capture, and its truth under its own name with the versions of the packages that made it."""
    from importlib.metadata import version

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(rec.source, {"versions": {n: version(n) for n in packages}})


def base_url(srv: Any) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/v1"


# --------------------------------------------------------------------------------------------------------
# pydantic-ai, its spans converted by OpenInference's span processor
# --------------------------------------------------------------------------------------------------------

def run_pydantic_ai(source: str) -> None:
    from capture import RESOURCE
    from openinference.instrumentation.pydantic_ai import OpenInferenceSpanProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    # the processor rewrites a span's attributes as it ends: it goes first, the exporter sees its result
    tp, spans = TracerProvider(resource=Resource.create(RESOURCE)), InMemorySpanExporter()
    tp.add_span_processor(OpenInferenceSpanProcessor())
    tp.add_span_processor(SimpleSpanProcessor(spans))
    rec = recorder(source, tracer_provider=tp, spans=spans)
    srv = serve(OpenAIHandler)
    from openai import AsyncOpenAI
    from pydantic_ai import Agent
    from pydantic_ai.exceptions import ModelHTTPError
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    Agent.instrument_all(InstrumentationSettings(tracer_provider=tp, include_content=True))
    client = AsyncOpenAI(base_url=base_url(srv), api_key="sk-fake", max_retries=0)

    def agent(system: str = SYSTEM, model: str = "gpt-4o-mini", tools: Any = (), **settings: Any) -> Any:
        m = OpenAIChatModel(model, provider=OpenAIProvider(openai_client=client))
        return Agent(m, system_prompt=system, tools=list(tools), model_settings=settings or None)

    async def main() -> None:
        SCRIPT[:] = list(HEALTHY)
        with rec.root("healthy", "order-status"):
            a = agent(max_tokens=200)
            r = await a.run(Q1)
            await a.run(Q2, message_history=r.all_messages())  # one conversation
        rec.flush("healthy")

        SCRIPT[:] = list(CACHED)
        with rec.root("cached", "policy-qa"):
            for q in ("When is my refund?", Q1, Q2):
                await agent(BIG, max_tokens=300).run(q)
        rec.flush("cached")

        # run_stream: pydantic-ai's OpenAIChatModel asks for stream_options.include_usage
        SCRIPT[:] = list(STREAMING)
        with rec.root("streaming", "order-updates"):
            for q, mx in ((Q1, 256), (Q2, 64)):
                async with agent(max_tokens=mx).run_stream(q) as res:
                    async for _ in res.stream_text(delta=True):
                        pass
        rec.flush("streaming")

        SCRIPT[:] = list(TOOL_USE)
        with rec.root("tool_use", "order-agent"):
            await agent(model="o4-mini", tools=[get_order_status]).run(Q1)
        rec.flush("tool_use")

        SCRIPT[:] = list(ERRORS)
        surfaced: list[int] = []
        with rec.root("errors", "order-status"):
            for _ in range(2):
                try:
                    await agent(max_tokens=200).run(Q1)
                except ModelHTTPError as exc:  # pydantic-ai's wrapper of the openai APIStatusError
                    surfaced.append(exc.status_code)
        assert surfaced == [429, 500], surfaced
        rec.flush("errors")

        SCRIPT[:] = list(DUPLICATE)
        with rec.root("duplicate", "order-status"):
            for _ in range(2):
                await agent(max_tokens=100, temperature=0.0).run(Q1)
        rec.flush("duplicate")

    asyncio.run(main())
    srv.shutdown()
    write(rec, "pydantic-ai-slim", "openinference-instrumentation-pydantic-ai", "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# Google ADK under openinference-instrumentation-google-adk (the scenarios of sk_adk_llamaindex's run_adk)
# --------------------------------------------------------------------------------------------------------

def run_adk(source: str) -> None:
    from sk_adk_llamaindex import generate as adk

    if source.endswith("-legacy"):
        # ADK's legacy telemetry schema (google-adk telemetry/_schema_version.py: ``1``): a ``call_llm`` span per
        # model call; under the default schema v2 a call is recorded onto the caller's span (flows/llm_flows/core/
        # _model_call.py call_llm_async: "Schema v2 has no `call_llm` span; record onto the caller's span")
        os.environ["ADK_TELEMETRY_SCHEMA_VERSION_OPT_IN"] = "1"
    def adk_recorder(_: str) -> Recorder:
        rec = recorder(source, logs=True)
        from openinference.instrumentation.google_adk import GoogleADKInstrumentor

        GoogleADKInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
        return rec

    def adk_write(rec: Recorder, *packages: str) -> None:
        write(rec, *packages, "openinference-instrumentation-google-adk")

    adk.recorder, adk.write = adk_recorder, adk_write  # run_adk looks both up as it runs
    adk.run_adk(source)


# --------------------------------------------------------------------------------------------------------
# Agno under openinference-instrumentation-agno
# --------------------------------------------------------------------------------------------------------

def run_agno(source: str) -> None:
    os.environ["AGNO_TELEMETRY"] = "false"  # no calls home
    rec = recorder(source)
    from openinference.instrumentation.agno import AgnoInstrumentor

    AgnoInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
    srv = serve(OpenAIHandler)
    from agno.agent import Agent
    from agno.models.openai import OpenAIChat
    from agno.run.base import RunStatus

    def agent(system: str = SYSTEM, model: str = "gpt-4o-mini", tools: Any = (), **kw: Any) -> Any:
        m = OpenAIChat(id=model, base_url=base_url(srv), api_key="sk-fake", max_retries=0, **kw)
        return Agent(model=m, system_message=system, tools=list(tools), telemetry=False)

    SCRIPT[:] = list(HEALTHY)
    with rec.root("healthy", "order-status"):
        a = agent(max_tokens=200)
        a.run(Q1)
        a.run(Q2)
    rec.flush("healthy")

    SCRIPT[:] = list(CACHED)
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            agent(BIG, max_tokens=300).run(q)
    rec.flush("cached")

    SCRIPT[:] = list(STREAMING)
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            for _ in agent(max_tokens=mx).run(q, stream=True):
                pass
    rec.flush("streaming")

    SCRIPT[:] = list(TOOL_USE)
    with rec.root("tool_use", "order-agent"):
        agent(model="o4-mini", tools=[get_order_status]).run(Q1)
    rec.flush("tool_use")

    # agno returns a failed run rather than raising (agno 3.1 agent/_run.py: ``run_response.status =
    # RunStatus.error``, the error text as content; Agent(retries=0) is its default: one attempt)
    SCRIPT[:] = list(ERRORS)
    surfaced: list[str] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            r = agent(max_tokens=200).run(Q1)
            if r.status == RunStatus.error:
                surfaced.append(str(r.content)[:10])
    assert surfaced == ["Rate limit", "The server"], surfaced
    rec.flush("errors")

    SCRIPT[:] = list(DUPLICATE)
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            agent(max_tokens=100, temperature=0.0).run(Q1)
    rec.flush("duplicate")

    srv.shutdown()
    write(rec, "agno", "openinference-instrumentation-agno", "openai", "opentelemetry-sdk")


RUNS = {"pydantic-ai-openinference": run_pydantic_ai, "google-adk-openinference": run_adk,
        "google-adk-openinference-legacy": run_adk,
        "agno-openinference": run_agno}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNS:
        raise SystemExit(f"usage: generate.py SOURCE; one of {SOURCES}")
    RUNS[sys.argv[1]](sys.argv[1])
