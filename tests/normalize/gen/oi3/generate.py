"""Capture real spans from OpenInference's AutoGen AgentChat, Vertex AI and Portkey instrumentations.

Every model-call span in the output was emitted by a real instrumentation library wrapping a real client SDK,
which talked HTTP to a fake provider server on 127.0.0.1. The fake servers are imported, not copied: the OpenAI
Chat Completions fake of ``../py_native/generate.py`` (``OpenAIHandler``, ``SCRIPT``, ``TRUTH_NOW``: ``cached_tokens``
and ``reasoning_tokens``, finish reasons stop / length / tool_calls, 429 and 500 with OpenAI's error JSON, SSE with
usage in the last chunk when asked) with the scripted answers of ``../oi2/generate.py`` (HEALTHY, CACHED, ...), and
the Vertex AI REST fake of ``../contrib3/generate.py`` (``vertex_handler`` over the Gemini fake's truth of
``../gemini_langchain/generate.py``), whose ``run_vertex`` scenarios run here unchanged with OpenInference's
instrumentor in place of OTel contrib's. The only spans made here are the trace roots (``workflow``, scope
``fixgen.app``, attribute ``app.workflow``) and, in Vertex AI's ``tool_use``, contrib3's app-level tool span.

Sources (one process each, so that instrumentations never meet):

* ``autogen-agentchat-openinference``  openinference-instrumentation-autogen-agentchat over autogen-agentchat
                              ``AssistantAgent`` with autogen-ext ``OpenAIChatCompletionClient`` (``base_url`` to the
                              fake, ``max_retries=0``), one tool (``reflect_on_tool_use=True``)
* ``vertexai-openinference``  openinference-instrumentation-vertexai over google-cloud-aiplatform
                              ``vertexai.generative_models`` (REST, ``api_endpoint`` to loopback, anonymous credentials)
* ``portkey-openinference``   openinference-instrumentation-portkey over the portkey_ai SDK (``Portkey(base_url=...)``
                              to the fake OpenAI, its vendored OpenAI client's retries set to 0)

Not captured: openinference-instrumentation-instructor 0.1.29 over instructor 1.17.0. Its spans
(``instructor.create``) are CHAIN spans with model, provider and parameters but no token count and no call of
their own (_wrappers.py _V2CreateFactoryWrapper); the counts would come from openinference-instrumentation-openai
beside it, and with that one instrumenting the same client a sync stream (``create_partial``, ``Partial[...]``
with ``stream=True``) comes back as an async generator (``TypeError: 'async_generator' object is not iterable``).

Scenarios (the other captures' conventions): healthy, cached, streaming (the 2nd cut by max tokens), tool_use,
errors (a 429 then a 500 surfaced to the app, no retries), duplicate (the identical request twice, temperature 0).

Re-run (Python 3.11; one venv under /tmp, never the project's .venv; exact versions in requirements.txt)::

    python3 -m venv /tmp/oi3venv && /tmp/oi3venv/bin/pip install -r tests/normalize/gen/oi3/requirements.txt
    cd tests/normalize/gen/oi3
    /tmp/oi3venv/bin/python generate.py autogen-agentchat-openinference
    /tmp/oi3venv/bin/python generate.py vertexai-openinference
    /tmp/oi3venv/bin/python generate.py portkey-openinference

Versions: autogen-agentchat / autogen-ext 0.7.5 with openinference-instrumentation-autogen-agentchat 0.1.22,
openai 3.3.0; google-cloud-aiplatform 2.7.0 with openinference-instrumentation-vertexai 0.1.29; portkey-ai 2.3.4 with
openinference-instrumentation-portkey 0.1.22; opentelemetry-sdk
1.45.2 (per source also in the truth file).

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and sets its entry in
``tests/normalize/data/oi3-truth.json``: the fake server's truth per scenario (OpenAI: ``input`` = prompt_tokens,
cached included, ``output`` = completion_tokens, reasoning included; Gemini: promptTokenCount (+ tool use prompt),
candidatesTokenCount + thoughtsTokenCount), with the versions that made it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "oi3-truth.json"
SOURCES = ("autogen-agentchat-openinference", "vertexai-openinference", "portkey-openinference")


def versions(*packages: str) -> dict[str, str]:
    from importlib.metadata import version

    return {n: version(n) for n in packages}


# --------------------------------------------------------------------------------------------------------
# AutoGen AgentChat under openinference-instrumentation-autogen-agentchat
# --------------------------------------------------------------------------------------------------------

def run_autogen(source: str) -> None:
    from oi2.generate import BIG, CACHED, DUPLICATE, ERRORS, HEALTHY, Q1, Q2, STREAMING, SYSTEM, TOOL_USE, base_url
    from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    from openinference.instrumentation.autogen_agentchat import AutogenAgentChatInstrumentor

    AutogenAgentChatInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
    srv = serve(OpenAIHandler)
    import openai
    from autogen_agentchat.agents import AssistantAgent
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    def agent(system: str = SYSTEM, model: str = "gpt-4o-mini", tools: Any = (), stream: bool = False,
              **kw: Any) -> Any:
        client = OpenAIChatCompletionClient(model=model, base_url=base_url(srv), api_key="sk-fake", max_retries=0,
                                            **kw)
        return AssistantAgent("support", model_client=client, system_message=system, tools=list(tools) or None,
                              reflect_on_tool_use=bool(tools), model_client_stream=stream)

    async def done(scenario: str) -> None:
        """The agent's run leaves its ``on_messages_stream`` generator open: its span ends only when asyncio
        closes the collected generator (OpenInference's _AssistantAgentOnMessagesStreamWrapper ends the span as
        the generator ends), so collect it before the flush."""
        gc.collect()
        await asyncio.sleep(0.05)
        rec.flush(scenario)

    async def main() -> None:
        SCRIPT[:] = list(HEALTHY)
        with rec.root("healthy", "order-status"):
            a = agent(max_tokens=200)
            await a.run(task=Q1)
            await a.run(task=Q2)  # the agent keeps the conversation
        await done("healthy")

        SCRIPT[:] = list(CACHED)
        with rec.root("cached", "policy-qa"):
            for q in ("When is my refund?", Q1, Q2):
                await agent(BIG, max_tokens=300).run(task=q)
        await done("cached")

        # create_stream: usage only with stream_options.include_usage (autogen_ext _openai_client.py create_stream)
        SCRIPT[:] = list(STREAMING)
        with rec.root("streaming", "order-updates"):
            for q, mx in ((Q1, 256), (Q2, 64)):
                async for _ in agent(max_tokens=mx, stream=True,
                                     stream_options={"include_usage": True}).run_stream(task=q):
                    pass
        await done("streaming")

        SCRIPT[:] = list(TOOL_USE)
        with rec.root("tool_use", "order-agent"):
            await agent(model="o4-mini", tools=[get_order_status]).run(task=Q1)
        await done("tool_use")

        SCRIPT[:] = list(ERRORS)
        surfaced: list[int] = []
        with rec.root("errors", "order-status"):
            for _ in range(2):
                try:
                    await agent(max_tokens=200).run(task=Q1)
                except openai.APIStatusError as exc:
                    surfaced.append(exc.status_code)
        assert surfaced == [429, 500], surfaced
        await done("errors")

        SCRIPT[:] = list(DUPLICATE)
        with rec.root("duplicate", "order-status"):
            for _ in range(2):
                await agent(max_tokens=100, temperature=0.0).run(task=Q1)
        await done("duplicate")

    asyncio.run(main())
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(source, {"versions": versions("autogen-agentchat", "autogen-ext",
                                            "openinference-instrumentation-autogen-agentchat", "openai",
                                            "opentelemetry-sdk")})


# --------------------------------------------------------------------------------------------------------
# Vertex AI under openinference-instrumentation-vertexai: contrib3's run_vertex, OpenInference's instrumentor
# --------------------------------------------------------------------------------------------------------

def run_vertex(source: str) -> None:
    from contrib3 import generate as c3
    from openinference.instrumentation.vertexai import VertexAIInstrumentor

    class OpenInference:
        """What run_vertex instruments with: OpenInference's instrumentor (it takes no logger provider)."""

        def instrument(self, tracer_provider: Any, logger_provider: Any = None) -> None:
            VertexAIInstrumentor().instrument(tracer_provider=tracer_provider)  # content captured by default

    # run_vertex imports ``opentelemetry.instrumentation.vertexai.VertexAIInstrumentor`` as it runs
    shim = types.ModuleType("opentelemetry.instrumentation.vertexai")
    shim.VertexAIInstrumentor = OpenInference  # type: ignore[attr-defined]
    sys.modules["opentelemetry.instrumentation.vertexai"] = shim
    c3.TRUTH = TRUTH
    c3.versions = lambda *_: versions("openinference-instrumentation-vertexai", "google-cloud-aiplatform",
                                      "opentelemetry-sdk")
    c3.run_vertex(source)


# --------------------------------------------------------------------------------------------------------
# Portkey's SDK under openinference-instrumentation-portkey (py_native's fake OpenAI as the gateway)
# --------------------------------------------------------------------------------------------------------

def run_portkey(source: str) -> None:
    """py_vendors2's ``openai_scenarios`` over the Portkey client (its tool_use runs the tool as an app span)."""
    from oi2.generate import base_url
    from py_native.generate import SCRIPT, TOOLS_OA, TRUTH_NOW, OpenAIHandler, oa
    from py_vendors2.generate import Q1, SYSTEM, openai_scenarios

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    from openinference.instrumentation.portkey import PortkeyInstrumentor

    PortkeyInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
    srv = serve(OpenAIHandler)
    from portkey_ai import Portkey
    from portkey_ai._vendor.openai import APIStatusError

    client = Portkey(base_url=base_url(srv), api_key="pk-fake", provider="openai")
    # portkey_ai 2.3.4 api_resources/client.py builds its vendored OpenAI client with ``max_retries=1`` whatever
    # it is given: no SDK retries, so the app sees the 429 and the 500 (the vendored _base_client reads
    # ``self.max_retries`` per request)
    client.openai_client.max_retries = 0

    def create(turns: list[Any], model: str = "gpt-4o-mini", **kw: Any) -> Any:
        msgs = [t if isinstance(t, dict) else {"role": t[0], "content": t[1]} for t in turns]
        return client.chat.completions.create(model=model, messages=msgs, **kw)

    def chat(turns: list[Any], **kw: Any) -> str:
        return str(create(turns, **kw).choices[0].message.content)

    def stream(turns: list[Any], **kw: Any) -> None:
        for _ in create(turns, stream=True, stream_options={"include_usage": True}, **kw):
            pass

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        msgs = [("system", SYSTEM), ("user", Q1)] if history is None else [
            {"role": "tool", "tool_call_id": h[1], "content": h[3]} if isinstance(h, tuple) and h[0] == "tool" else h
            for h in history]
        m = create(msgs, model="o4-mini", tools=TOOLS_OA).choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in m.tool_calls or []]
        return calls, [*msgs, m.model_dump(exclude_none=True)]

    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (APIStatusError,))
    srv.shutdown()
    rec.write(source, {"versions": versions("portkey-ai", "openinference-instrumentation-portkey",
                                            "opentelemetry-sdk")})


RUNNERS = {"autogen-agentchat-openinference": run_autogen, "vertexai-openinference": run_vertex,
           "portkey-openinference": run_portkey}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNNERS:
        raise SystemExit(f"usage: generate.py SOURCE; one of {SOURCES}")
    RUNNERS[sys.argv[1]](sys.argv[1])
