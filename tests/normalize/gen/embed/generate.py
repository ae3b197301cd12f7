"""Capture real spans of OpenAI embeddings calls (``client.embeddings.create``) beside chat calls, in a small RAG flow.

Every model-call span in the output was emitted by a real instrumentation wrapping the real ``openai`` SDK, which
talked HTTP to a fake OpenAI API on 127.0.0.1: the py_native generator's fake Chat Completions server
(``../py_native/generate.py`` ``OpenAIHandler``, its ``SCRIPT`` and truth keeping, imported unchanged), extended
here by ``/v1/embeddings`` (``usage: {prompt_tokens, total_tokens}``; base64 or float vectors, as the request's
``encoding_format`` asks: the SDK asks for base64 by default). The only spans made here are the trace roots
(``workflow``, scope ``fixgen.app``, attribute ``app.workflow``).

Sources (one process each, ``OpenAI(max_retries=0)``, content capture on):

* ``embed-openai-v2``      OTel contrib's opentelemetry-instrumentation-openai-v2 (the project's pin, 2.4b0),
                           ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``,
                           ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_AND_EVENT``
* ``embed-openinference``  openinference-instrumentation-openai
* ``embed-openllmetry``    OpenLLMetry's opentelemetry-instrumentation-openai, ``TRACELOOP_TRACE_CONTENT=true``
* ``embed-openlit``        openlit (``capture_message_content=True``, metrics and events off)

Versions: requirements.txt (and each source's entry in the truth file): openai 3.57.0 with
opentelemetry-instrumentation-openai-v2 2.4b0 (opentelemetry-util-genai 1.1b0: 1.3b0 lacks the instruments
module it imports), openinference-instrumentation-openai 0.1.66 (openai >= 2.8 only), opentelemetry-instrumentation-
openai 0.62.4; openlit 1.45.0 with openai 2.54.0 in a venv of its own. Not captured:
LangChain's OpenAIEmbeddings under OpenInference's LangChain instrumentation.

Scenarios (text-embedding-3-small for the embeddings, gpt-4o-mini for the chat):

* ``healthy``    embed the question (one string), one chat call answering it
* ``cached``     embed three policy passages (a list of strings), then three chat calls over a big static
                 system prompt, the 2nd and 3rd hitting OpenAI's prompt cache (``cached_tokens``)
* ``streaming``  embed both questions (a list), then 2 streamed chat calls (``stream_options.include_usage``),
                 the 2nd cut at max_tokens (``length``)
* ``tool_use``   embed the question, the model asks for get_order_status, the app runs it (span
                 ``tool.get_order_status``), the model answers
* ``errors``     an embeddings call answered 429, a chat call answered 500 (the API's error JSON), both surfaced
* ``duplicate``  the identical embeddings request twice, then one chat call (temperature 0): the waste score's
                 ``duplicate`` (docs/waste-score.md: a successful GenAI call, embeddings included, whose request
                 fingerprint equals an earlier one's) must name the second embedding

Re-run (Python 3.11, a venv of its own, never the project's .venv)::

    cd tests/normalize/gen/embed
    sed -n '/^# \\[main\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/embed-main.txt      # likewise [openlit]
    python3 -m venv /tmp/gen-embed && /tmp/gen-embed/bin/pip install -r /tmp/embed-main.txt
    python3 -m venv /tmp/gen-embed-lit && /tmp/gen-embed-lit/bin/pip install --no-deps -r /tmp/embed-openlit.txt
    for s in embed-openai-v2 embed-openinference embed-openllmetry; do /tmp/gen-embed/bin/python generate.py $s; done
    /tmp/gen-embed-lit/bin/python generate.py embed-openlit

Each run writes ``tests/normalize/data/<source>.jsonl`` and its entry in ``tests/normalize/data/embed-truth.json``:
per scenario the py_native truth's fields (embeddings calls add their ``prompt_tokens`` to ``input``, nothing to
``output``, and no finish reason) and ``embeddings`` (the embeddings calls answered, failed included).
"""

from __future__ import annotations

import base64
import json
import os
import struct
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve
from py_native.generate import (
    BIG,
    OPENAI_ERRORS,
    Q1,
    Q2,
    SCRIPT,
    SYSTEM,
    TOOLS_OA,
    TRUTH_NOW,
    OpenAIHandler,
    oa,
    versions,
)

TRUTH = HERE.parent.parent / "data" / "embed-truth.json"
EMBED = "text-embedding-3-small"
CHAT = "gpt-4o-mini"
PASSAGES = ["Refunds are processed within 5 business days of approval.",
            "Orders ship from the Berlin warehouse within 24 hours.",
            "Support is available Monday to Friday, 9:00 to 17:00 CET."]


def em(prompt: int) -> dict[str, Any]:
    """One scripted embeddings answer: ``usage.prompt_tokens`` (= ``total_tokens``: embeddings have no output)."""
    return {"embed": prompt}


class EmbedHandler(OpenAIHandler):
    """The py_native fake OpenAI API with ``/v1/embeddings``."""

    def do_POST(self) -> None:
        if not self.path.split("?")[0].endswith("/embeddings"):
            super().do_POST()
            return
        body = self._body()
        step = SCRIPT.next(body)
        t = TRUTH_NOW.by_scenario[TRUTH_NOW.scenario]
        t["embeddings"] = t.get("embeddings", 0) + 1
        if "status" in step:
            TRUTH_NOW.failed()
            code = step["status"]
            self._send(code, {"error": OPENAI_ERRORS[code]}, {"retry-after": "1"} if code == 429 else {})
            return
        assert "embed" in step, step
        model = body["model"]
        TRUTH_NOW.ok(model, model, step["embed"], 0, 0, 0, "")
        t["finish_reasons"].pop()  # an embedding has none
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = []
        for i, _ in enumerate(inputs):
            vec = [round(0.01 * (i + 1) * (k + 1), 4) for k in range(8)]
            emb: Any = (base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
                        if body.get("encoding_format") == "base64" else vec)
            data.append({"object": "embedding", "index": i, "embedding": emb})
        self._send(200, {"object": "list", "data": data, "model": model,
                         "usage": {"prompt_tokens": step["embed"], "total_tokens": step["embed"]}})


def scenarios(rec: Recorder, client: Any) -> None:
    import openai

    def msgs(q: str, system: str = SYSTEM) -> list[dict[str, Any]]:
        return [{"role": "system", "content": system}, {"role": "user", "content": q}]

    def stream(q: str, mx: int) -> None:
        for _ in client.chat.completions.create(model=CHAT, messages=msgs(q), max_tokens=mx, stream=True,
                                                stream_options={"include_usage": True}):
            pass

    SCRIPT[:] = [em(7), oa(1200, 150, "stop", "Order A-1001 shipped yesterday and arrives Friday.")]
    with rec.root("healthy", "order-status"):
        client.embeddings.create(model=EMBED, input=Q1)
        client.chat.completions.create(model=CHAT, messages=msgs(Q1), max_tokens=200)
    rec.flush("healthy")

    SCRIPT[:] = [em(36), oa(9200, 120, "stop", "Refunds take 5 business days."),
                 oa(9260, 110, "stop", "Order A-1001 shipped.", cached=8960),
                 oa(9310, 100, "stop", "Order A-1002 is packing.", cached=8960)]
    with rec.root("cached", "policy-qa"):
        client.embeddings.create(model=EMBED, input=PASSAGES)
        for q in ("When is my refund?", Q1, Q2):
            client.chat.completions.create(model=CHAT, messages=msgs(q, BIG), max_tokens=300)
    rec.flush("cached")

    SCRIPT[:] = [em(12), oa(640, 48, "stop", "Your order A-1001 shipped yesterday and arrives Friday."),
                 oa(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        client.embeddings.create(model=EMBED, input=[Q1, Q2])
        stream(Q1, 256)
        stream(Q2, 64)
    rec.flush("streaming")

    SCRIPT[:] = [em(7), oa(420, 24, "tool_calls", tool_calls=[{"function": {
                     "name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}]),
                 oa(470, 12, "stop", "Order A-1001 has shipped.")]
    with rec.root("tool_use", "order-agent"):
        client.embeddings.create(model=EMBED, input=Q1)
        history: list[Any] = msgs(Q1)
        for iteration in range(1, 4):
            m = client.chat.completions.create(model=CHAT, messages=history, tools=TOOLS_OA).choices[0].message
            history.append(m.model_dump(exclude_none=True))
            for tc in m.tool_calls or []:
                args = json.loads(tc.function.arguments)
                with rec.app.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tc.function.name, "app.tool.call_id": tc.id,
                        "app.tool.arguments": tc.function.arguments, "app.iteration": iteration}):
                    out = "shipped" if args.get("order_id") == "A-1001" else "packing"
                history.append({"role": "tool", "tool_call_id": tc.id, "content": out})
            if not m.tool_calls:
                break
    rec.flush("tool_use")

    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        try:
            client.embeddings.create(model=EMBED, input=Q1)
        except openai.APIStatusError as exc:
            surfaced.append(exc.status_code)
        try:
            client.chat.completions.create(model=CHAT, messages=msgs(Q1), max_tokens=200)
        except openai.APIStatusError as exc:
            surfaced.append(exc.status_code)
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [em(7), em(7), oa(520, 30, "stop", "Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            client.embeddings.create(model=EMBED, input=Q1)
        client.chat.completions.create(model=CHAT, messages=msgs(Q1), max_tokens=100, temperature=0.0)
    rec.flush("duplicate")


def instrument(source: str, rec: Recorder) -> tuple[str, ...]:
    """Turns the source's instrumentation on; the packages whose versions made the capture."""
    if source == "embed-openai-v2":
        os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=rec.tp, logger_provider=rec.lp)
        return ("opentelemetry-instrumentation-openai-v2",)
    if source == "embed-openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor as OIInstrumentor

        OIInstrumentor().instrument(tracer_provider=rec.tp)
        return ("openinference-instrumentation-openai",)
    if source == "embed-openllmetry":
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as TLInstrumentor

        TLInstrumentor().instrument(tracer_provider=rec.tp)
        return ("opentelemetry-instrumentation-openai",)
    import openlit

    openlit.init(application_name="support-bot", environment="fixture", capture_message_content=True,
                 pricing_json=str(HERE.parent / "py_vendors2" / "openlit_pricing.json"), disable_metrics=True,
                 disable_events=True)
    return ("openlit",)


SOURCES = ("embed-openai-v2", "embed-openinference", "embed-openllmetry", "embed-openlit")

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    src = sys.argv[1]
    recorder = Recorder(src, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)
    packages = instrument(src, recorder)
    srv = serve(EmbedHandler)
    import openai

    scenarios(recorder, openai.OpenAI(api_key="sk-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1",
                                      max_retries=0))
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    recorder.write(src, {"versions": versions("openai", "opentelemetry-sdk", *packages)})
