"""Capture real spans of mixed instrumentation stacks: two instrumentations from different vendors in one process,
so that every model call is reported by two spans.

Every model-call span in the output was emitted by a real instrumentation wrapping the real libraries, which talked
HTTP to a fake OpenAI API on 127.0.0.1: the py_native generator's fake Chat Completions server (``../py_native/
generate.py`` ``OpenAIHandler``, its ``SCRIPT`` and ``TRUTH_NOW``, imported unchanged) or the embed generator's
(``../embed/generate.py`` ``EmbedHandler``: the same with ``/v1/embeddings``, and its ``scenarios``). The only spans
made here are the trace roots (``workflow``, scope ``fixgen.app``, attribute ``app.workflow``) and the app's
``tool.get_order_status``. Every connection beyond loopback is refused (``../capture.py`` ``loopback_only``).

Sources (one process each, no SDK retries, content capture on):

* ``openinference-langchain-openai-v2``  openinference-instrumentation-langchain 0.1.80 (a span per LangChain run,
    never made current: _tracer.py) and the OTel contrib opentelemetry-instrumentation-openai-v2 2.4b0 (latest
    semconv, ``SPAN_AND_EVENT``) over langchain-openai ``ChatOpenAI`` (``max_retries=0``, ``stream_usage=True``
    for streams): a LangChain ``ChatOpenAI`` span and a ``chat gpt-4o-mini`` client span per call, siblings
* ``openllmetry-langchain-openinference-openai``  OpenLLMetry's opentelemetry-instrumentation-langchain 0.62.4
    (``TRACELOOP_TRACE_CONTENT=true``) and openinference-instrumentation-openai 0.1.66, which does not read
    Traceloop's SUPPRESS_LANGUAGE_MODEL_INSTRUMENTATION_KEY: a ``ChatOpenAI.chat`` span and a ``ChatCompletion``
    span per call
* ``openlit-openai-v2``  openlit 1.45.0 (``openlit.init``, its OpenAI instrumentation) and opentelemetry-
    instrumentation-openai-v2 2.4b0 (latest semconv, ``SPAN_AND_EVENT``) both patching the same ``openai`` 2.54.0
    client (``OpenAI(max_retries=0)``): two client spans per call, chat and embeddings (the embed scenarios)
* ``pydantic-ai-openinference-openai``  pydantic-ai-slim 2.68.0's own instrumentation (``Agent.instrument_all``,
    content included) and openinference-instrumentation-openai 0.1.66 under it, over ``OpenAIChatModel``
    (``AsyncOpenAI(max_retries=0)``): pydantic-ai's ``chat gpt-4o-mini`` span and a ``ChatCompletion`` span per call

Scenarios: the LangChain sources run py_vendors2's ``openai_scenarios`` (``healthy`` 2 calls, ``cached`` 3 calls over
a big static system prompt, the 2nd and 3rd with ``cached_tokens``, ``streaming`` 2 streamed calls the 2nd cut at
max_tokens, ``tool_use`` the model asks for get_order_status with reasoning tokens, the app runs it, ``errors`` a 429
and a 500 surfaced, ``duplicate`` the identical request twice at temperature 0); ``openlit-openai-v2`` runs the embed
scenarios (the same with embeddings calls beside the chat, the duplicate an identical embeddings request twice);
pydantic-ai runs oi2's (../oi2/generate.py run_pydantic_ai, the shared ../chat_script.py answers). The LangChain
sources and ``openlit-openai-v2`` add ``stream_no_usage``: the streaming scenario's two streams (the 2nd cut at
max_tokens) with no ``stream_options``, so the server sends no usage (truth ``usage_unsent``): ChatOpenAI at a base
URL of its own leaves ``stream_usage`` off, as a LangChain app pointed at a gateway does; pydantic-ai's
OpenAIChatModel always asks for it.

Re-run (Python 3.11, a venv per section of requirements.txt, never the project's .venv)::

    cd tests/normalize/gen/mixed
    sed -n '/^# \\[lc\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/mixed-lc.txt   # likewise [openlit] and [pai]
    python3 -m venv /tmp/venv-mixed-lc && /tmp/venv-mixed-lc/bin/pip install -r /tmp/mixed-lc.txt
    python3 -m venv /tmp/venv-mixed-lit && /tmp/venv-mixed-lit/bin/pip install --no-deps -r /tmp/mixed-openlit.txt
    python3 -m venv /tmp/venv-mixed-pai && /tmp/venv-mixed-pai/bin/pip install -r /tmp/mixed-pai.txt
    /tmp/venv-mixed-lc/bin/python generate.py openinference-langchain-openai-v2
    /tmp/venv-mixed-lc/bin/python generate.py openllmetry-langchain-openinference-openai
    /tmp/venv-mixed-lit/bin/python generate.py openlit-openai-v2
    /tmp/venv-mixed-pai/bin/python generate.py pydantic-ai-openinference-openai

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format, OTLP/JSON with lowercase
hex ids, ``otlp_logs`` beside it where a library logs) and its entry in ``tests/normalize/data/mixed-truth.json``:
the py_native truth's fields per scenario (embeddings calls add their ``prompt_tokens`` to ``input`` and
``embeddings`` counts them) and the versions that made it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import REFUSED, Recorder, loopback_only, serve
from py_native.generate import Q1, Q2, SCRIPT, SYSTEM, TRUTH_NOW, versions

TRUTH = HERE.parent.parent / "data" / "mixed-truth.json"
A1, CUT = "Order A-1001 shipped yesterday and arrives Friday.", "Here is every shipment event recorded for order A-1002 so far"
LANGCHAIN = ("openinference-langchain-openai-v2", "openllmetry-langchain-openinference-openai")
SOURCES = (*LANGCHAIN, "openlit-openai-v2", "pydantic-ai-openinference-openai")


def recorder(source: str) -> Recorder:
    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)


def write(rec: Recorder, *packages: str) -> None:
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    print("refused:", REFUSED or "none")
    rec.write(rec.source, {"versions": versions(*packages)})


def openai_v2(rec: Recorder) -> None:
    """The OTel contrib OpenAI instrumentation, latest semconv, content on the span and in its log event."""
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
    os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=rec.tp, logger_provider=rec.lp)


# --------------------------------------------------------------------------------------------------------
# LangChain ChatOpenAI under a LangChain instrumentation and an OpenAI one of another vendor
# --------------------------------------------------------------------------------------------------------

def run_langchain(source: str) -> None:
    from py_native.generate import OpenAIHandler, oa
    from py_vendors2.generate import openai_scenarios

    rec = recorder(source)
    if source == "openinference-langchain-openai-v2":
        from openinference.instrumentation.langchain import LangChainInstrumentor

        LangChainInstrumentor().instrument(tracer_provider=rec.tp)
        openai_v2(rec)
        packages: tuple[str, ...] = ("openinference-instrumentation-langchain", "opentelemetry-instrumentation-openai-v2",
                                     "opentelemetry-util-genai")
    else:
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        from openinference.instrumentation.openai import OpenAIInstrumentor
        from opentelemetry.instrumentation.langchain import LangchainInstrumentor

        LangchainInstrumentor().instrument(tracer_provider=rec.tp)
        OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
        packages = ("opentelemetry-instrumentation-langchain", "openinference-instrumentation-openai")
    srv = serve(OpenAIHandler)
    import openai
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"

    def llm(**kw: Any) -> Any:
        return ChatOpenAI(model="gpt-4o-mini", api_key="sk-fake", base_url=base, max_retries=0, **kw)

    def lc(turns: list[tuple[str, str]]) -> list[Any]:
        cls = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        return [cls[r](content=t) for r, t in turns]

    def chat(turns: list[tuple[str, str]], **kw: Any) -> str:
        return str(llm(**kw).invoke(lc(turns)).content)

    def stream(turns: list[tuple[str, str]], **kw: Any) -> None:
        for _ in llm(stream_usage=True, **kw).stream(lc(turns)):
            pass

    @tool
    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    bound = llm(max_tokens=512).bind_tools([get_order_status])

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        msgs = lc([("system", SYSTEM), ("user", Q1)]) if history is None else [
            ToolMessage(content=h[3], tool_call_id=h[1], name=h[2]) if isinstance(h, tuple) else h for h in history]
        r = bound.invoke(msgs)
        return [(tc["id"], tc["name"], tc["args"]) for tc in r.tool_calls], [*msgs, r]

    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (openai.APIStatusError,))
    # ChatOpenAI at a base_url of its own leaves stream_usage off (langchain-openai 1.7.4 chat_models/base.py:
    # ``Enable stream_usage by default if using default base URL and client``): no stream_options, no usage sent
    SCRIPT[:] = [oa(640, 48, "stop", A1), oa(700, 64, "length", CUT)]
    with rec.root("stream_no_usage", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            for _ in llm(max_tokens=mx).stream(lc([("system", SYSTEM), ("user", q)])):
                pass
    rec.flush("stream_no_usage")
    srv.shutdown()
    write(rec, *packages, "langchain-openai", "langchain-core", "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# OpenLIT and the OTel contrib instrumentation on the same OpenAI client (the embed scenarios)
# --------------------------------------------------------------------------------------------------------

def run_openlit_v2(source: str) -> None:
    from embed.generate import EmbedHandler, scenarios
    from py_native.generate import oa

    rec = recorder(source)
    import openlit

    openlit.init(application_name="support-bot", environment="fixture", capture_message_content=True,
                 pricing_json=str(HERE.parent / "py_vendors2" / "openlit_pricing.json"), disable_metrics=True,
                 disable_events=True)
    openai_v2(rec)  # patched after openlit: its wrapper is the outer one
    srv = serve(EmbedHandler)
    import openai

    client = openai.OpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", max_retries=0)
    scenarios(rec, client)
    SCRIPT[:] = [oa(640, 48, "stop", A1), oa(700, 64, "length", CUT)]  # streams without stream_options
    with rec.root("stream_no_usage", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            for _ in client.chat.completions.create(model="gpt-4o-mini", max_tokens=mx, stream=True, messages=[
                    {"role": "system", "content": SYSTEM}, {"role": "user", "content": q}]):
                pass
    rec.flush("stream_no_usage")
    srv.shutdown()
    write(rec, "openlit", "opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai", "openai",
          "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# pydantic-ai's own instrumentation with OpenInference's OpenAI instrumentation under it
# --------------------------------------------------------------------------------------------------------

def run_pydantic_ai(source: str) -> None:
    from chat_script import BIG, CACHED, DUPLICATE, ERRORS, HEALTHY, STREAMING, TOOL_USE, get_order_status
    from py_native.generate import OpenAIHandler

    rec = recorder(source)
    from openinference.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(OpenAIHandler)
    from openai import AsyncOpenAI
    from pydantic_ai import Agent
    from pydantic_ai.exceptions import ModelHTTPError
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    Agent.instrument_all(InstrumentationSettings(tracer_provider=rec.tp, include_content=True))
    client = AsyncOpenAI(base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1", api_key="sk-fake", max_retries=0)

    def agent(system: str = SYSTEM, model: str = "gpt-4o-mini", tools: Any = (), **settings: Any) -> Any:
        m = OpenAIChatModel(model, provider=OpenAIProvider(openai_client=client))
        return Agent(m, system_prompt=system, tools=list(tools), model_settings=settings or None)

    async def main() -> None:  # oi2's run_pydantic_ai scenarios
        SCRIPT[:] = list(HEALTHY)
        with rec.root("healthy", "order-status"):
            a = agent(max_tokens=200)
            r = await a.run(Q1)
            await a.run(Q2, message_history=r.all_messages())
        rec.flush("healthy")

        SCRIPT[:] = list(CACHED)
        with rec.root("cached", "policy-qa"):
            for q in ("When is my refund?", Q1, Q2):
                await agent(BIG, max_tokens=300).run(q)
        rec.flush("cached")

        SCRIPT[:] = list(STREAMING)  # OpenAIChatModel asks for stream_options.include_usage
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
                except ModelHTTPError as exc:
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
    write(rec, "pydantic-ai-slim", "openinference-instrumentation-openai", "openai", "opentelemetry-sdk")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    src = sys.argv[1]
    loopback_only()
    if src in LANGCHAIN:
        run_langchain(src)
    elif src == "openlit-openai-v2":
        run_openlit_v2(src)
    else:
        run_pydantic_ai(src)
