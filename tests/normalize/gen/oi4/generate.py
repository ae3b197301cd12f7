"""Capture real spans from OpenInference's Haystack, Instructor and BeeAI instrumentations.

Every model-call span in the output was emitted by a real instrumentation library wrapping a real client SDK,
which talked HTTP to a fake provider server on 127.0.0.1: the OpenAI Chat Completions fake of
``../py_native/generate.py`` (``OpenAIHandler``, ``SCRIPT``, ``TRUTH_NOW``, imported, not copied: ``cached_tokens``
and ``reasoning_tokens``, finish reasons stop / length / tool_calls, 429 and 500 with OpenAI's error JSON, SSE with
usage in the last chunk when asked). Haystack runs py_vendors2's ``openai_scenarios`` unchanged. The only spans made
here are the trace roots (``workflow``, scope ``fixgen.app``, attribute ``app.workflow``) and app-level tool spans.

Sources (one process each, so that instrumentations never meet):

* ``haystack-openinference``    openinference-instrumentation-haystack over a Haystack 2 ``Pipeline`` holding one
                                ``OpenAIChatGenerator`` (``api_base_url`` to the fake, ``max_retries=0``)
* ``instructor-openinference``  openinference-instrumentation-instructor over ``instructor.from_openai`` (Mode.TOOLS)
                                with openinference-instrumentation-openai beside it on the same ``OpenAI`` client
                                (``max_retries=0``); an extra scenario ``validation_retry``: the first answer fails
                                the response model's validator, Instructor asks again (``max_retries=2``), two calls
* ``beeai-openinference``       openinference-instrumentation-beeai over beeai-framework's ``OpenAIChatModel``
                                (LiteLLM below it; ``base_url`` to the fake, ``max_retries=0``), py_vendors2's
                                ``openai_scenarios`` unchanged

Scenarios (the other captures' conventions): healthy, cached, streaming (the 2nd cut by max tokens), tool_use,
errors (a 429 then a 500 surfaced to the app, no retries), duplicate (the identical request twice, temperature 0).

Re-run (Python 3.11; two venvs under /tmp, never the project's .venv; exact versions in requirements.txt, one
section per venv)::

    cd tests/normalize/gen/oi4
    sed -n '/^# \\[main\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/oi4main.txt   # likewise [beeai]
    python3 -m venv /tmp/oi4venv && /tmp/oi4venv/bin/pip install -r /tmp/oi4main.txt
    /tmp/oi4venv/bin/python generate.py haystack-openinference
    /tmp/oi4venv/bin/python generate.py instructor-openinference
    /tmp/oi4bee/bin/python generate.py beeai-openinference

Versions: haystack-ai 3.4.1 with openinference-instrumentation-haystack 0.1.46; instructor 1.17.0 with
openinference-instrumentation-instructor 0.1.29 and openinference-instrumentation-openai 0.1.66 (openai 3.3.0);
beeai-framework 0.1.85 with openinference-instrumentation-beeai 0.1.30 (litellm 1.110.2); opentelemetry-sdk 1.45.2.
See requirements.txt and, per source, the truth file ``tests/normalize/data/oi4-truth.json`` (the fake
server's truth per scenario: ``input`` = prompt_tokens, cached included, ``output`` = completion_tokens, reasoning
included, with the versions that made it).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "oi4-truth.json"
SOURCES = ("haystack-openinference", "instructor-openinference", "beeai-openinference")


def recorder(source: str) -> Recorder:
    from py_native.generate import TRUTH_NOW

    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)


def write(rec: Recorder, *packages: str) -> None:
    from importlib.metadata import version

    from py_native.generate import SCRIPT

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(rec.source, {"versions": {n: version(n) for n in packages}})


# --------------------------------------------------------------------------------------------------------
# Haystack 2 OpenAIChatGenerator in a Pipeline under openinference-instrumentation-haystack
# --------------------------------------------------------------------------------------------------------

def run_haystack(source: str) -> None:
    from oi2.generate import base_url
    from py_native.generate import SCRIPT, TOOLS_OA, OpenAIHandler, oa
    from py_vendors2.generate import Q1, SYSTEM, openai_scenarios

    rec = recorder(source)
    from openinference.instrumentation.haystack import HaystackInstrumentor

    HaystackInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
    srv = serve(OpenAIHandler)
    import openai
    from haystack import Pipeline
    from haystack.components.generators.chat import OpenAIChatGenerator
    from haystack.core.errors import PipelineRuntimeError
    from haystack.dataclasses import ChatMessage, ToolCall
    from haystack.tools import Tool
    from haystack.utils import Secret

    fn = TOOLS_OA[0]["function"]
    tool = Tool(name=fn["name"], description=fn["description"], parameters=fn["parameters"],
                function=lambda order_id: "shipped" if order_id == "A-1001" else "packing")

    def pipe(model: str = "gpt-4o-mini", **kw: Any) -> Any:
        p = Pipeline()
        p.add_component("llm", OpenAIChatGenerator(api_key=Secret.from_token("sk-fake"), model=model,
                                                   api_base_url=base_url(srv), max_retries=0, **kw))
        return p

    def msgs(turns: list[Any]) -> list[Any]:
        return [t if isinstance(t, ChatMessage) else getattr(ChatMessage, f"from_{t[0]}")(t[1]) for t in turns]

    def run(p: Any, messages: list[Any], **kw: Any) -> Any:
        try:
            return p.run({"llm": {"messages": messages, "generation_kwargs": kw}})["llm"]["replies"][0]
        except PipelineRuntimeError as exc:  # Pipeline.run wraps a component's error: surface the SDK's
            cause: BaseException | None = exc
            while cause is not None and not isinstance(cause, openai.APIStatusError):
                cause = cause.__cause__
            raise cause or exc from None

    def chat(turns: list[Any], **kw: Any) -> str:
        return str(run(pipe(), msgs(turns), **kw).text)

    def stream(turns: list[Any], **kw: Any) -> None:
        # the usage chunk only when asked for: haystack-ai's OpenAIChatGenerator passes generation_kwargs on
        run(pipe(streaming_callback=lambda chunk: None), msgs(turns), stream_options={"include_usage": True}, **kw)

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        prior: list[Any] = msgs([("system", SYSTEM), ("user", Q1)]) if history is None else []
        for h in history or []:
            if isinstance(h, tuple) and h[0] == "tool":
                call = next(tc for m in prior for tc in m.tool_calls if tc.id == h[1])
                prior.append(ChatMessage.from_tool(h[3], origin=call))
            else:
                prior.append(h)
        reply = run(pipe(model="o4-mini", tools=[tool]), prior)
        calls: list[ToolCall] = reply.tool_calls
        return [(tc.id, tc.tool_name, tc.arguments) for tc in calls], [*prior, reply]

    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (openai.APIStatusError,))
    srv.shutdown()
    write(rec, "haystack-ai", "openinference-instrumentation-haystack", "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# Instructor under openinference-instrumentation-instructor, openinference-instrumentation-openai beside it
# --------------------------------------------------------------------------------------------------------

def answer(text: str, **fields: Any) -> list[dict[str, Any]]:
    """Instructor's Mode.TOOLS: the model answers by calling the response model's function."""
    return [{"function": {"name": "Answer", "arguments": json.dumps({"answer": text, **fields})}}]


def run_instructor(source: str) -> None:
    from oi2.generate import base_url
    from py_native.generate import SCRIPT, OpenAIHandler, oa
    from py_vendors2.generate import A1, BIG, Q1, Q2, SYSTEM, status_of, tool_span

    rec = recorder(source)
    from openinference.instrumentation.instructor import InstructorInstrumentor
    from openinference.instrumentation.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
    InstructorInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(OpenAIHandler)
    import instructor
    import openai
    from instructor.core.exceptions import InstructorRetryException
    from pydantic import BaseModel, field_validator

    class Answer(BaseModel):
        answer: str

    class Lookup(BaseModel):
        """Ask the app to look up an order's shipping status."""

        order_id: str

    class Checked(BaseModel):
        """An answer that names the order it is about."""

        answer: str
        order_id: str

        @field_validator("order_id")
        @classmethod
        def known(cls, v: str) -> str:
            if not v.startswith("A-"):
                raise ValueError("order_id must look like A-1001")
            return v

    client = instructor.from_openai(openai.OpenAI(base_url=base_url(srv), api_key="sk-fake", max_retries=0))

    def ask(turns: list[tuple[str, str]], model: Any = Answer, llm: str = "gpt-4o-mini", retries: int = 0,
            **kw: Any) -> Any:
        return client.chat.completions.create(model=llm, response_model=model, max_retries=retries,
                                              messages=[{"role": r, "content": t} for r, t in turns], **kw)

    SCRIPT[:] = [oa(1200, 150, "stop", tool_calls=answer(A1)),
                 oa(1350, 90, "stop", tool_calls=answer("Order A-1002 is still being packed."))]
    with rec.root("healthy", "order-status"):
        a1 = ask([("system", SYSTEM), ("user", Q1)], max_tokens=200).answer
        ask([("system", SYSTEM), ("user", Q1), ("assistant", a1), ("user", Q2)], max_tokens=200)
    rec.flush("healthy")

    SCRIPT[:] = [oa(9200, 120, "stop", tool_calls=answer("Refunds take 5 business days.")),
                 oa(9260, 110, "stop", tool_calls=answer("Order A-1001 shipped."), cached=8960),
                 oa(9310, 100, "stop", tool_calls=answer("Order A-1002 is packing."), cached=8960)]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            ask([("system", BIG), ("user", q)], max_tokens=300)
    rec.flush("cached")

    SCRIPT[:] = [oa(640, 48, "stop", tool_calls=answer(A1)),
                 oa(700, 64, "length", tool_calls=[{"function": {"name": "Answer", "arguments":
                                                                  '{"answer": "Here is every shipment event'}}])]
    # a sync create_partial comes back as an async generator with both instrumentors on the client (TypeError:
    # 'async_generator' object is not iterable, see ../oi3/generate.py): the stream runs on the async client
    aclient = instructor.from_openai(openai.AsyncOpenAI(base_url=base_url(srv), api_key="sk-fake", max_retries=0))

    async def stream(q: str, mx: int) -> None:
        async for _ in aclient.chat.completions.create_partial(
                model="gpt-4o-mini", response_model=Answer, max_retries=0, stream=True, max_tokens=mx,
                stream_options={"include_usage": True},
                messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}]):
            pass

    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            asyncio.run(stream(q, mx))
    rec.flush("streaming")

    SCRIPT[:] = [oa(420, 150, "stop", reasoning=128, tool_calls=[{"function": {
                     "name": "Lookup", "arguments": json.dumps({"order_id": "A-1001"})}}]),
                 oa(470, 90, "stop", reasoning=64, tool_calls=answer("Order A-1001 has shipped."))]
    with rec.root("tool_use", "order-agent"):
        lookup = ask([("system", SYSTEM), ("user", Q1)], model=Lookup, llm="o4-mini")
        status = tool_span(rec, "get_order_status", "lookup-1", {"order_id": lookup.order_id}, 1)
        ask([("system", SYSTEM), ("user", Q1), ("assistant", f"Looking up {lookup.order_id}."),
             ("user", f"get_order_status({lookup.order_id}) returned: {status}")], llm="o4-mini")
    rec.flush("tool_use")

    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                ask([("system", SYSTEM), ("user", Q1)], max_tokens=200)
            except (openai.APIStatusError, InstructorRetryException) as exc:  # find the status on the chain
                cause: BaseException | None = exc
                while cause is not None and not status_of(cause):
                    cause = cause.__cause__ or cause.__context__
                surfaced.append(status_of(cause) if cause else 0)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [oa(520, 30, "stop", tool_calls=answer("Order A-1001 shipped yesterday.")),
                 oa(520, 30, "stop", tool_calls=answer("Order A-1001 shipped yesterday."))]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            ask([("system", SYSTEM), ("user", Q1)], max_tokens=100, temperature=0.0)
    rec.flush("duplicate")

    # the first answer fails Checked's validator: Instructor sends the error back and the model answers again
    SCRIPT[:] = [oa(610, 40, "stop", tool_calls=answer("Order 1001 shipped yesterday.", order_id="1001")),
                 oa(720, 42, "stop", tool_calls=answer("Order A-1001 shipped yesterday.", order_id="A-1001"))]
    with rec.root("validation_retry", "order-status"):
        got = ask([("system", SYSTEM), ("user", Q1)], model=Checked, retries=2, max_tokens=100)
        assert got.order_id == "A-1001", got
    rec.flush("validation_retry")

    srv.shutdown()
    write(rec, "instructor", "openinference-instrumentation-instructor", "openinference-instrumentation-openai",
          "openai", "opentelemetry-sdk")


# --------------------------------------------------------------------------------------------------------
# BeeAI framework's OpenAIChatModel (LiteLLM below it) under openinference-instrumentation-beeai
# --------------------------------------------------------------------------------------------------------

def run_beeai(source: str) -> None:
    from oi2.generate import base_url
    from py_native.generate import SCRIPT, OpenAIHandler, oa
    from py_vendors2.generate import Q1, SYSTEM, openai_scenarios

    rec = recorder(source)
    from openinference.instrumentation.beeai import BeeAIInstrumentor

    BeeAIInstrumentor().instrument(tracer_provider=rec.tp)  # content captured by default (TraceConfig)
    srv = serve(OpenAIHandler)
    from beeai_framework.adapters.openai import OpenAIChatModel
    from beeai_framework.backend import (
        AssistantMessage,
        ChatModelParameters,
        MessageToolResultContent,
        SystemMessage,
        ToolMessage,
        UserMessage,
    )
    from beeai_framework.tools import tool

    @tool
    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order."""
        return "shipped" if order_id == "A-1001" else "packing"

    def model(name: str = "gpt-4o-mini", **params: Any) -> Any:
        return OpenAIChatModel(name, api_key="sk-fake", base_url=base_url(srv), parameters=ChatModelParameters(
            **params))

    def msgs(turns: list[Any]) -> list[Any]:
        cls = {"system": SystemMessage, "user": UserMessage, "assistant": AssistantMessage}
        return [t if not isinstance(t, tuple) else cls[t[0]](t[1]) for t in turns]

    def run(m: Any, messages: list[Any], **kw: Any) -> Any:
        async def go() -> Any:
            return await m.run(messages, max_retries=0, **kw)

        try:
            return asyncio.run(go())
        except Exception as exc:  # BeeAI wraps LiteLLM's error: surface its status code
            cause: BaseException | None = exc
            while cause is not None and not getattr(cause, "status_code", None):
                cause = cause.__cause__ or cause.__context__
            raise Failed(getattr(cause, "status_code", 0)) from exc

    class Failed(Exception):
        def __init__(self, status: int) -> None:
            super().__init__(status)
            self.status_code = status

    def chat(turns: list[Any], **kw: Any) -> str:
        return str(run(model(**kw), msgs(turns)).get_text_content())

    def stream(turns: list[Any], **kw: Any) -> None:
        run(model(**kw), msgs(turns), stream=True)

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        prior = msgs([("system", SYSTEM), ("user", Q1)]) if history is None else [
            ToolMessage(MessageToolResultContent(result=h[3], tool_name=h[2], tool_call_id=h[1]))
            if isinstance(h, tuple) else h for h in history]
        out = run(model("o4-mini"), prior, tools=[get_order_status])
        reply = out.output  # RunnableOutput.output: the answer's messages
        return [(tc.id, tc.tool_name, json.loads(tc.args)) for tc in out.get_tool_calls()], [*prior, *reply]

    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (Failed,))
    srv.shutdown()
    write(rec, "beeai-framework", "openinference-instrumentation-beeai", "litellm", "openai", "opentelemetry-sdk")


RUNNERS = {"haystack-openinference": run_haystack, "instructor-openinference": run_instructor,
           "beeai-openinference": run_beeai}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNNERS:
        raise SystemExit(f"usage: generate.py SOURCE; one of {SOURCES}")
    RUNNERS[sys.argv[1]](sys.argv[1])
