"""Capture real spans of Elastic's EDOT OpenAI instrumentation and of the AsyncOpenAI client's async paths.

Every model-call span in the output was emitted by a real instrumentation wrapping the real ``openai`` SDK, which
talked HTTP to a fake OpenAI API on 127.0.0.1: the embed generator's fake Chat Completions + Embeddings server
(``../embed/generate.py`` ``EmbedHandler`` over ``../py_native/generate.py`` ``OpenAIHandler``, its ``SCRIPT`` and
truth keeping, imported unchanged), extended here by one answer kind: a stream that the server breaks off mid-way
with the API's error event (``data: {"error": {...}}``, which the SDK raises as ``openai.APIError``). The only
spans made here are the trace roots (``workflow``, scope ``fixgen.app``) and the app's ``tool.get_order_status``.

Sources (one process each, ``max_retries=0``, content capture on):

* ``edot-openai``          elastic-opentelemetry-instrumentation-openai 1.2.0 over the sync ``OpenAI`` client:
                           the embed generator's scenarios (``../embed/generate.py`` ``scenarios``) unchanged
                           (chat, embeddings, streaming with ``stream_options.include_usage``, a tool call),
                           ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`` (its events as log records)
* ``edot-openai-async``    the same instrumentation over ``AsyncOpenAI``: the async scenarios below
* ``async-openai-v2``      OTel contrib's opentelemetry-instrumentation-openai-v2 over ``AsyncOpenAI``,
                           ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``,
                           ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_AND_EVENT``
* ``async-openllmetry``    OpenLLMetry's opentelemetry-instrumentation-openai over ``AsyncOpenAI``,
                           ``TRACELOOP_TRACE_CONTENT=true``

Async scenarios (gpt-4o-mini; answers from ``../chat_script.py``): ``healthy`` (2 calls), ``cached`` (3 calls
over a big system prompt, the 2nd and 3rd with ``cached_tokens``), ``streaming`` (Q1 streamed with
``include_usage``; Q2 streamed WITHOUT it, cut at max_tokens: its usage is never sent, ``usage_unsent``),
``tool_use``, ``errors`` (a 429 then a 500), ``duplicate`` (the identical request twice, temperature 0) and
``stream_edges``: an async stream the app stops reading after its first content chunk (``await stream.close()``;
the server sent its usage, the app never read it: ``usage_unsent``), then an async stream the server breaks
off mid-way with an error event (a failed call).

Re-run (Python 3.11, one venv per section of requirements.txt, never the project's .venv)::

    cd tests/normalize/gen/edot
    sed -n '/^# \\[edot\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/edot.txt   # likewise [v2], [ollm]
    python3 -m venv /tmp/gen-edot && /tmp/gen-edot/bin/pip install -r /tmp/edot.txt
    /tmp/gen-edot/bin/python generate.py edot-openai; /tmp/gen-edot/bin/python generate.py edot-openai-async
    /tmp/gen-asyncv2/bin/python generate.py async-openai-v2
    /tmp/gen-asyncollm/bin/python generate.py async-openllmetry

Each run writes ``tests/normalize/data/<source>.jsonl`` and its entry in ``tests/normalize/data/edot-truth.json``
(the py_native truth's fields per scenario; ``embeddings`` where the embed scenarios ran; the versions).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve
from chat_script import CACHED, DUPLICATE, ERRORS, HEALTHY, STREAMING, TOOL_USE, get_order_status
from embed.generate import EmbedHandler, scenarios
from py_native.generate import BIG, OPENAI_ERRORS, Q1, Q2, SCRIPT, SYSTEM, TOOLS_OA, TRUTH_NOW, oa, versions

TRUTH = HERE.parent.parent / "data" / "edot-truth.json"
CHAT = "gpt-4o-mini"
SOURCES = ("edot-openai", "edot-openai-async", "async-openai-v2", "async-openllmetry")
#: chat_script's healthy answers with the token counts of what is sent (a 67-character system prompt and a short
#: question, ~40 tokens): its 1200 / 1350 against that text read, where the library reports cache reads of 0
#: (OpenLLMetry), as a 79% shared prefix of 1066 tokens resent uncached (score/engine.py uncached_prefix scales
#: the shared text's share by the call's tokens)
HEALTHY_SHORT = [oa(38, 12, "stop", HEALTHY[0]["text"]), oa(41, 9, "stop", HEALTHY[1]["text"])]


class Handler(EmbedHandler):
    """The embed fake API, and ``{"midway": ...}``: a stream broken off after its first content chunk."""

    def do_POST(self) -> None:
        if not SCRIPT.steps or "midway" not in SCRIPT.steps[0]:
            super().do_POST()
            return
        self._body()
        SCRIPT.next()
        TRUTH_NOW.failed()
        self._sse_start()
        base = {"id": SCRIPT.id("chatcmpl-"), "object": "chat.completion.chunk", "created": int(time.time()),
                "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_fake"}
        for delta in ({"role": "assistant", "content": ""}, {"content": "Order A-1001 "}):
            obj = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]}
            self._chunk(f"data: {json.dumps(obj)}\n\n".encode())
        self._chunk(f"data: {json.dumps({'error': OPENAI_ERRORS[500]})}\n\n".encode())
        self._sse_end()


def run_tool(rec: Recorder, tc: Any, iteration: int) -> dict[str, Any]:
    """The app runs the tool the model asked for (span ``tool.get_order_status``); the tool message back."""
    attrs = {"app.tool.name": tc.function.name, "app.tool.call_id": tc.id, "app.tool.arguments": tc.function.arguments,
             "app.iteration": iteration}
    with rec.app.start_as_current_span("tool.get_order_status", attributes=attrs):
        return {"role": "tool", "tool_call_id": tc.id, "content": get_order_status(**json.loads(tc.function.arguments))}


def msgs(q: str, system: str = SYSTEM) -> list[dict[str, Any]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": q}]


async def async_scenarios(rec: Recorder, client: Any) -> None:
    import openai

    async def chat(q: str, system: str = SYSTEM, **kw: Any) -> Any:
        return await client.chat.completions.create(model=CHAT, messages=msgs(q, system), **kw)

    SCRIPT[:] = list(HEALTHY_SHORT)
    with rec.root("healthy", "order-status"):
        for q in (Q1, Q2):
            await chat(q, max_tokens=200)
    rec.flush("healthy")

    SCRIPT[:] = list(CACHED)
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            await chat(q, BIG, max_tokens=300)
    rec.flush("cached")

    SCRIPT[:] = list(STREAMING)
    with rec.root("streaming", "order-updates"):
        async for _ in await chat(Q1, max_tokens=256, stream=True, stream_options={"include_usage": True}):
            pass
        async for _ in await chat(Q2, max_tokens=64, stream=True):  # no include_usage: no usage sent
            pass
    rec.flush("streaming")

    SCRIPT[:] = list(TOOL_USE)
    with rec.root("tool_use", "order-agent"):
        history: list[Any] = msgs(Q1)
        for n in range(1, 4):
            m = (await client.chat.completions.create(model=CHAT, messages=history, tools=TOOLS_OA)).choices[0].message
            history += [m.model_dump(exclude_none=True), *(run_tool(rec, tc, n) for tc in m.tool_calls or [])]
            if not m.tool_calls:
                break
    rec.flush("tool_use")

    SCRIPT[:] = list(ERRORS)
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for q in (Q1, Q2):
            try:
                await chat(q, max_tokens=200)
            except openai.APIStatusError as exc:
                surfaced.append(exc.status_code)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = list(DUPLICATE)
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            await chat(Q1, max_tokens=100, temperature=0.0)
    rec.flush("duplicate")

    SCRIPT[:] = [oa(640, 48, "stop", "Your order A-1001 shipped yesterday and arrives Friday."), {"midway": True}]
    raised: list[str] = []
    with rec.root("stream_edges", "order-updates"):
        stream = await chat(Q1, max_tokens=256, stream=True, stream_options={"include_usage": True})
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                break  # the app has what it needs and stops reading
        closed = stream.close()  # opentelemetry-instrumentation-openai-v2 2.4b0 patch.py BaseStreamWrapper.close is
        if inspect.isawaitable(closed):  # sync (it calls AsyncStream.close() unawaited, then ends the span)
            await closed
        try:
            async for _ in await chat(Q2, max_tokens=256, stream=True, stream_options={"include_usage": True}):
                pass
        except openai.APIError as exc:
            raised.append(type(exc).__name__)
    assert raised == ["APIError"], raised
    # the early-stopped stream's usage was sent but never read by the app
    TRUTH_NOW.by_scenario["stream_edges"]["usage_unsent"] += 1
    rec.flush("stream_edges")


def instrument(source: str, rec: Recorder) -> tuple[str, ...]:
    if source.startswith("edot-"):
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor

        # not logger_provider=: elastic-opentelemetry-instrumentation-openai 1.2.0 __init__.py _instrument calls
        # get_logger(__name__, logger_provider), whose 2nd argument is the scope's version; the global one is set
        OpenAIInstrumentor().instrument(tracer_provider=rec.tp)
        return ("elastic-opentelemetry-instrumentation-openai",)
    if source == "async-openai-v2":
        os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as V2

        V2().instrument(tracer_provider=rec.tp, logger_provider=rec.lp)
        return ("opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai")
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor as TL

    TL().instrument(tracer_provider=rec.tp)
    return ("opentelemetry-instrumentation-openai",)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    src = sys.argv[1]
    rec = Recorder(src, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)
    packages = instrument(src, rec)
    srv = serve(Handler)
    import openai

    url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    if src == "edot-openai":
        scenarios(rec, openai.OpenAI(api_key="sk-fake", base_url=url, max_retries=0))
    else:
        asyncio.run(async_scenarios(rec, openai.AsyncOpenAI(api_key="sk-fake", base_url=url, max_retries=0)))
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(src, {"versions": versions("openai", "opentelemetry-sdk", *packages)})
