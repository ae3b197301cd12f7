"""Capture real spans from pydantic-ai's built-in instrumentation and Langfuse v3+'s LangChain handler, against fakes.

Every model-call span in the output was emitted by a real library wrapping a real client SDK, which talked HTTP
to a fake provider server on 127.0.0.1 started by this script: the fake OpenAI Chat Completions server of
``../py_native/generate.py`` (``OpenAIHandler``: ``prompt_tokens`` includes ``cached_tokens``,
``completion_tokens`` includes ``reasoning_tokens``) or the fake Anthropic Messages server of
``../anthropic/generate.py`` (``AnthropicHandler``: ``input_tokens`` excludes the cache read and write), both
imported, not copied (finish reasons incl. a max-tokens cut and a tool call; 429 and 500 with the provider's error
JSON; SSE streams). The only spans made here are the trace roots (``workflow``, scope ``fixgen.app``, attribute
``app.workflow``) and, for LangChain, the app-level tool spans ``tool.get_order_status`` (attributes ``app.*``);
pydantic-ai runs its tool itself.

Sources (one process each):

* ``pydantic-ai-openai``      pydantic-ai ``Agent(OpenAIChatModel(...))`` under ``Agent.instrument_all(InstrumentationSettings(
                              tracer_provider=..., include_content=True))`` (its default data format version), an
                              ``AsyncOpenAI(max_retries=0)`` client: ``invoke_agent {agent}`` (run totals as
                              ``gen_ai.aggregated_usage.*``) > ``chat {model}`` / ``execute_tool {tool}``
* ``pydantic-ai-anthropic``   the same over ``AnthropicModel`` with ``AsyncAnthropic(max_retries=0)``; the anthropic
                              SDK's own tracing is off (``ANTHROPIC_OPEN_TELEMETRY=false``) so that pydantic-ai is
                              seen alone
* ``langfuse-langchain-openai``    Langfuse Python (OTel-based, ``Langfuse(tracer_provider=...)``, export to a
                              loopback sink that accepts anything) with ``langfuse.langchain.CallbackHandler`` over
                              langchain-openai ``ChatOpenAI(max_retries=0)``
* ``langfuse-langchain-anthropic`` the same over langchain-anthropic ``ChatAnthropic(max_retries=0)``

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; exact versions in requirements.txt and, per
source, in the truth file)::

    python3 -m venv /tmp/gen-semconv3 && /tmp/gen-semconv3/bin/pip install -r requirements.txt
    for s in pydantic-ai-openai pydantic-ai-anthropic langfuse-langchain-openai langfuse-langchain-anthropic; do
        /tmp/gen-semconv3/bin/python generate.py $s; done

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp"}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack traces as /app/)
and sets its entry in ``tests/normalize/data/py_semconv3-truth.json``: the fake server's truth per scenario (OpenAI:
``input`` includes the cache, ``reasoning``, ``finish_reasons``; Anthropic: ``uncached_input`` as the API counts
it, ``cache_read``, ``cache_write``, ``stop_reasons``), ``models`` ([request model, served model]) and the versions.
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
from capture import JSONHandler, Recorder, serve


def _load(name: str, folder: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE.parent / folder / "generate.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


native = _load("py_native_generate", "py_native")
anth = _load("anthropic_generate", "anthropic")
oa, usage = native.oa, anth.usage

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "py_semconv3-truth.json"
SOURCES = ("pydantic-ai-openai", "pydantic-ai-anthropic", "langfuse-langchain-openai", "langfuse-langchain-anthropic")

SYSTEM = "You are a support assistant for ACME. Answer briefly and politely."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
BIG = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 60
HAIKU, SONNET = "claude-haiku-4-5", "claude-sonnet-4-5"


def get_order_status(order_id: str) -> str:
    """Look up the shipping status of an order."""
    return "shipped" if order_id == "A-1001" else "packing"


# the scripted answers per fake API (every source of one API gets the same)
OPENAI = {
    "healthy": [oa(1200, 150, "stop", "Order A-1001 shipped yesterday and arrives Friday."),
                oa(1350, 90, "stop", "Order A-1002 is still being packed.")],
    "cached": [oa(9200, 120, "stop", "Refunds take 5 business days."),
               oa(9260, 110, "stop", "Order A-1001 shipped.", cached=8960),
               oa(9310, 100, "stop", "Order A-1002 is packing.", cached=8960)],
    "streaming": [oa(640, 48, "stop", "Your order A-1001 shipped yesterday and arrives Friday."),
                  oa(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")],
    "tool_use": [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[
                     {"function": {"name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}]),
                 oa(470, 90, "stop", "Order A-1001 has shipped.", reasoning=64)],
    "errors": [{"status": 429}, {"status": 500}],
    "duplicate": [oa(520, 30, "stop", "Order A-1001 shipped yesterday."),
                  oa(520, 30, "stop", "Order A-1001 shipped yesterday.")],
}
ANTHROPIC = {
    "healthy": [{"usage": usage(1200, 150), "stop": "end_turn", "text": "Order A-1001 shipped yesterday."},
                {"usage": usage(1350, 90), "stop": "end_turn", "text": "Order A-1002 is still being packed."}],
    "cached": [{"usage": usage(240, 120, write=8960), "stop": "end_turn", "text": "Refunds take 5 business days."},
               {"usage": usage(300, 110, read=8960), "stop": "end_turn", "text": "Order A-1001 shipped."},
               {"usage": usage(350, 100, read=8960), "stop": "end_turn", "text": "Order A-1002 is packing."}],
    "streaming": [{"usage": usage(640, 48), "stop": "end_turn",
                   "text": "Your order A-1001 shipped yesterday and arrives Friday."},
                  {"usage": usage(700, 64, read=4096), "stop": "max_tokens", "full_delta_usage": True,
                   "text": "Here is every shipment event recorded for order A-1002 so far"}],
    "tool_use": [{"usage": usage(600, 45), "stop": "tool_use", "text": "Let me check that order.",
                  "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1001"}}},
                 {"usage": usage(690, 40), "stop": "end_turn", "text": "Order A-1001 has shipped."}],
    "errors": [{"status": 429}, {"status": 500}],
    "duplicate": [{"usage": usage(520, 30), "stop": "end_turn", "text": "Order A-1001 shipped yesterday."},
                  {"usage": usage(520, 30), "stop": "end_turn", "text": "Order A-1001 shipped yesterday."}],
}


class Api:
    """One fake provider API: its handler, script, truth and the models the scenarios ask for."""

    def __init__(self, name: str) -> None:
        self.name = name
        mod = native if name == "openai" else anth
        self.handler, self.script, self.truth = (
            (mod.OpenAIHandler, mod.SCRIPT, mod.TRUTH_NOW) if name == "openai" else
            (mod.AnthropicHandler, mod.SCRIPT, mod.TRUTH_NOW))
        self.answers = OPENAI if name == "openai" else ANTHROPIC
        self.chat = "gpt-4o-mini" if name == "openai" else HAIKU
        self.reasoner = "o4-mini" if name == "openai" else SONNET
        self.srv = serve(self.handler)
        port = self.srv.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}" + ("/v1" if name == "openai" else "")

    def load(self, scenario: str) -> None:
        self.script[:] = list(self.answers[scenario])

    def recorder(self, source: str) -> Recorder:
        return Recorder(source, TRUTH, self.truth.begin, lambda: self.truth.by_scenario, HERE)

    def done(self, rec: Recorder, *packages: str) -> None:
        from importlib.metadata import version

        assert not self.script, f"unused answers: {self.script}"
        self.srv.shutdown()
        rec.write(rec.source, {"api": self.name, "versions": {n: version(n) for n in packages}})


# --------------------------------------------------------------------------------------------------------
# pydantic-ai's built-in instrumentation (pydantic_ai/models/instrumented.py, capabilities/instrumentation.py)
# --------------------------------------------------------------------------------------------------------

def run_pydantic_ai(source: str) -> None:
    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"  # anthropic>=2's own spans (anthropic/_tracing.py) off
    api = Api(source.removeprefix("pydantic-ai-"))
    rec = api.recorder(source)
    from pydantic_ai import Agent, InstrumentationSettings
    from pydantic_ai.exceptions import ModelHTTPError

    # the current release takes instrumentation as a capability or the class-wide default (agent/__init__.py
    # Agent.instrument_all): every agent here gets these settings
    Agent.instrument_all(InstrumentationSettings(tracer_provider=rec.tp, include_content=True))

    def model(name: str) -> Any:
        if api.name == "openai":
            from openai import AsyncOpenAI
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai import OpenAIProvider

            client = AsyncOpenAI(api_key="sk-fake", base_url=api.base_url, max_retries=0)
            return OpenAIChatModel(name, provider=OpenAIProvider(openai_client=client))
        from anthropic import AsyncAnthropic
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        aclient = AsyncAnthropic(api_key="sk-ant-fake", base_url=api.base_url, max_retries=0)
        return AnthropicModel(name, provider=AnthropicProvider(anthropic_client=aclient))

    def agent(system: str = SYSTEM, name: str | None = None, tools: Any = ()) -> Any:
        return Agent(model(name or api.chat), instructions=system, tools=list(tools), name="support")

    async def main() -> None:
        api.load("healthy")
        with rec.root("healthy", "order-status"):
            a = agent()
            r = await a.run(Q1, model_settings={"max_tokens": 200})
            await a.run(Q2, message_history=r.all_messages(), model_settings={"max_tokens": 200})
        rec.flush("healthy")

        api.load("cached")
        with rec.root("cached", "policy-qa"):
            settings_cache: dict[str, Any] = {"max_tokens": 300}
            if api.name == "anthropic":
                settings_cache["anthropic_cache_instructions"] = True
            for q in ("When is my refund?", Q1, Q2):
                await agent(BIG).run(q, model_settings=settings_cache)
        rec.flush("cached")

        api.load("streaming")
        with rec.root("streaming", "order-updates"):
            for q, mx in ((Q1, 256), (Q2, 64)):
                async with agent().run_stream(q, model_settings={"max_tokens": mx}) as s:
                    async for _ in s.stream_text(delta=True):
                        pass
        rec.flush("streaming")

        api.load("tool_use")
        with rec.root("tool_use", "order-agent"):
            await agent(name=api.reasoner, tools=[get_order_status]).run(Q1)
        rec.flush("tool_use")

        api.load("errors")
        surfaced: list[int] = []
        with rec.root("errors", "order-status"):
            for _ in range(2):
                try:
                    await agent().run(Q1, model_settings={"max_tokens": 200})
                except ModelHTTPError as exc:
                    surfaced.append(exc.status_code)
        assert surfaced == [429, 500], surfaced
        rec.flush("errors")

        api.load("duplicate")
        with rec.root("duplicate", "order-status"):
            for _ in range(2):
                await agent().run(Q1, model_settings={"max_tokens": 100, "temperature": 0.0})
        rec.flush("duplicate")

    asyncio.run(main())
    api.done(rec, "pydantic-ai-slim", "openai" if api.name == "openai" else "anthropic", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# Langfuse (OTel-based, v3+) with its LangChain CallbackHandler
# --------------------------------------------------------------------------------------------------------

class _Sink(JSONHandler):
    """A loopback Langfuse host that accepts anything (the client's own OTLP export and API calls)."""

    def _ok(self) -> None:
        n = int(self.headers.get("content-length") or 0)
        self.rfile.read(n)
        self.send_json(200, {})

    do_POST = do_GET = do_PUT = do_PATCH = _ok


def run_langfuse(source: str) -> None:
    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    api = Api(source.removeprefix("langfuse-langchain-"))
    rec = api.recorder(source)
    sink = serve(_Sink)
    from langfuse import Langfuse
    from langfuse.langchain import CallbackHandler

    lf = Langfuse(public_key="pk-lf-fake", secret_key="sk-lf-fake", host=f"http://127.0.0.1:{sink.server_address[1]}",
                  tracer_provider=rec.tp, flush_at=1)
    handler = CallbackHandler(public_key="pk-lf-fake")
    import anthropic
    import openai
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
    from langchain_core.tools import tool

    def llm(name: str | None = None, **kw: Any) -> Any:
        if api.name == "openai":
            from langchain_openai import ChatOpenAI

            return ChatOpenAI(model=name or api.chat, base_url=api.base_url, api_key="sk-fake", max_retries=0, **kw)
        from langchain_anthropic import ChatAnthropic

        kw.setdefault("max_tokens", 1024)
        return ChatAnthropic(model=name or api.chat, base_url=api.base_url, api_key="sk-ant-fake", max_retries=0,
                             **kw)

    cfg = {"callbacks": [handler]}

    api.load("healthy")
    with rec.root("healthy", "order-status"):
        m = llm(max_tokens=200)
        msgs: list[Any] = [SystemMessage(SYSTEM), HumanMessage(Q1)]
        msgs.append(m.invoke(msgs, config=cfg))
        m.invoke([*msgs, HumanMessage(Q2)], config=cfg)
    rec.flush("healthy")

    api.load("cached")
    with rec.root("cached", "policy-qa"):
        system: Any = BIG if api.name == "openai" else [
            {"type": "text", "text": BIG, "cache_control": {"type": "ephemeral"}}]
        m = llm(max_tokens=300)
        for q in ("When is my refund?", Q1, Q2):
            m.invoke([SystemMessage(system), HumanMessage(q)], config=cfg)
    rec.flush("cached")

    api.load("streaming")
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            kw: dict[str, Any] = {"max_tokens": mx}
            if api.name == "openai":
                kw["stream_usage"] = True
            for _ in llm(**kw).stream([SystemMessage(SYSTEM), HumanMessage(q)], config=cfg):
                pass
    rec.flush("streaming")

    order_tool = tool(get_order_status)
    tracer = rec.app
    api.load("tool_use")
    with rec.root("tool_use", "order-agent"):
        m = llm(api.reasoner).bind_tools([order_tool])
        msgs = [SystemMessage(SYSTEM), HumanMessage(Q1)]
        for iteration in range(1, 4):
            ai: AIMessage = m.invoke(msgs, config=cfg)
            msgs.append(ai)
            if not ai.tool_calls:
                break
            for tc in ai.tool_calls:
                with tracer.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tc["name"], "app.tool.call_id": tc["id"],
                        "app.tool.arguments": json.dumps(tc["args"]), "app.iteration": iteration}):
                    out = get_order_status(**tc["args"])
                msgs.append(ToolMessage(out, tool_call_id=tc["id"]))
    rec.flush("tool_use")

    api.load("errors")
    surfaced: list[str] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                llm(max_tokens=200).invoke([SystemMessage(SYSTEM), HumanMessage(Q1)], config=cfg)
            except (openai.APIStatusError, anthropic.APIStatusError) as exc:  # langchain-openai re-raises a subclass
                surfaced.append(type(exc).__name__)
    assert len(surfaced) == 2, surfaced  # a 429 then a 500, no retries (max_retries=0)
    rec.flush("errors")

    api.load("duplicate")
    with rec.root("duplicate", "order-status"):
        m = llm(max_tokens=100, temperature=0.0)
        for _ in range(2):
            m.invoke([SystemMessage(SYSTEM), HumanMessage(Q1)], config=cfg)
    rec.flush("duplicate")

    lf.flush()
    sink.shutdown()
    lc = "langchain-openai" if api.name == "openai" else "langchain-anthropic"
    api.done(rec, "langfuse", "langchain-core", lc, "openai" if api.name == "openai" else "anthropic",
             "opentelemetry-sdk")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    (run_pydantic_ai if sys.argv[1].startswith("pydantic-ai") else run_langfuse)(sys.argv[1])
