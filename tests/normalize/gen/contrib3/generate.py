"""Capture real spans from OTel contrib's Vertex AI instrumentation and OpenInference's Mistral and Groq ones.

Every model-call span in the output was emitted by a real instrumentation library wrapping a real client SDK,
which talked HTTP to a fake of the provider's own API on 127.0.0.1 started by this script. The only spans made
here are the trace roots (``workflow``, scope ``fixgen.app``, attribute ``app.workflow``) and, in ``tool_use``,
the app-level tool span ``tool.get_order_status`` (attributes ``app.*``): the app runs the tool itself.

Sources (one process each, so that instrumentations never meet):

* ``vertexai-otel``           OpenTelemetry contrib's opentelemetry-instrumentation-vertexai 2.2b0 (the
                              pre-release line of instrumentation-genai/opentelemetry-instrumentation-vertexai; the
                              0.x releases of that PyPI name are Traceloop's) over google-cloud-aiplatform 2.7.0
                              ``vertexai.generative_models.GenerativeModel`` (``vertexai.init(api_transport="rest",
                              api_endpoint="http://127.0.0.1:<port>", credentials=AnonymousCredentials())``), its
                              default semconv, ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``: the
                              messages go to log events (``gen_ai.user.message`` ..., in ``otlp_logs``)
* ``vertexai-otel-latest``    the same with ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` and
                              ``..._CAPTURE_MESSAGE_CONTENT=SPAN_AND_EVENT``: gen_ai.input.messages / output.messages
                              / system_instructions on the span, plus a ``gen_ai.client.inference.operation.details``
                              log record
* ``mistralai-openinference``  openinference-instrumentation-mistralai 2.2.2 over mistralai 3.7.0
                              (``mistralai.client.Mistral``, no retry_config); the SDK's own tracing
                              (mistralai/extra/observability, hooks in mistralai/client/_hooks/tracing.py) wrote no
                              span with its defaults, so OpenInference's span is the only one per call
* ``groq-openinference``      openinference-instrumentation-groq 0.1.33 over groq 1.7.0 (``max_retries=0``)

Not captured: OTel contrib's Anthropic instrumentation (instrumentation-genai/opentelemetry-instrumentation-anthropic)
has no release on PyPI: every version of ``opentelemetry-instrumentation-anthropic`` there, pre-releases included,
is Traceloop's (captured as anthropic-openllmetry).

The fake servers: Vertex AI's ``generateContent`` / ``streamGenerateContent`` (REST: a JSON array streamed in
chunks) is this script's ``VertexHandler``, over the Gemini fake's truth keeping, scripts and usageMetadata of
``../gemini_langchain/generate.py`` (``promptTokenCount`` includes ``cachedContentTokenCount``,
``candidatesTokenCount`` excludes ``thoughtsTokenCount``; RESOURCE_EXHAUSTED / INTERNAL errors); Mistral and Groq
are ``../py_native/generate.py``'s ``MistralHandler`` / ``GroqHandler`` and its scenario script
``compat_scenarios``, imported unchanged.

Re-run (Python 3.11; two venvs under /tmp, never the project's .venv; exact versions in requirements.txt, one
section per venv)::

    cd tests/normalize/gen/contrib3
    sed -n '/^# \\[vertex\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/c3v.txt
    sed -n '/^# \\[oi\\]/,/^# \\[end\\]/p' requirements.txt > /tmp/c3oi.txt
    python3 -m venv /tmp/c3-vertex && /tmp/c3-vertex/bin/pip install -r /tmp/c3v.txt
    python3 -m venv /tmp/c3-oi && /tmp/c3-oi/bin/pip install -r /tmp/c3oi.txt
    /tmp/c3-vertex/bin/python generate.py vertexai-otel
    /tmp/c3-vertex/bin/python generate.py vertexai-otel-latest
    /tmp/c3-oi/bin/python generate.py mistralai-openinference
    /tmp/c3-oi/bin/python generate.py groq-openinference

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format: ``{"scenario",
"source", "otlp", "otlp_logs"?}``, OTLP/JSON with lowercase hex ids, int64 as strings, machine paths in stack
traces rewritten to /app/) and sets its entry in ``tests/normalize/data/contrib3-truth.json`` with the versions
that made it: per scenario ``calls`` (model calls answered, failed included), ``failed``, ``input`` (the API's
input count, cache included: Gemini ``promptTokenCount`` + ``toolUsePromptTokenCount``; Mistral / Groq
``prompt_tokens``), ``output`` (reasoning included: Gemini ``candidatesTokenCount`` + ``thoughtsTokenCount``),
``cache_read``, ``reasoning``, ``finish_reasons``, ``models``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "contrib3-truth.json"
SYSTEM = "You are a support assistant for ACME. Answer briefly and politely."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
BIG = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 60
A1 = "Order A-1001 shipped yesterday and arrives Friday."


def versions(*packages: str) -> dict[str, str]:
    from importlib.metadata import version

    return {n: version(n) for n in packages}


def tool_span(rec: Recorder, name: str, cid: str, args: dict[str, Any], iteration: int) -> str:
    with rec.app.start_as_current_span("tool.get_order_status", attributes={
            "app.tool.name": name, "app.tool.call_id": cid, "app.tool.arguments": json.dumps(args),
            "app.iteration": iteration}):
        return "shipped" if args.get("order_id") == "A-1001" else "packing"


# --------------------------------------------------------------------------------------------------------
# fake Vertex AI generateContent / streamGenerateContent (the Gemini fake's truth and usage)
# --------------------------------------------------------------------------------------------------------

def vertex_handler() -> type:
    from gemini_langchain.generate import GEMINI_ERRORS, SCRIPT, TRUTH_NOW, _Base, gemini_usage

    class VertexHandler(_Base):
        """``/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent`` (and v1beta1); a
        stream is the REST mapping's JSON array of GenerateContentResponse, sent in chunks as it is produced,
        every element with usageMetadata so far and the last with the finish reason and the final counts."""

        def do_POST(self) -> None:
            m = re.match(r"^/v1(?:beta1)?/projects/[^/]+/locations/[^/]+/publishers/google/models/([^:/?]+)"
                         r":(generateContent|streamGenerateContent)", self.path)
            self._body()
            if not m:
                self._send(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
                return
            model, method = m.group(1), m.group(2)
            step = SCRIPT.next()
            if "status" in step:
                code = step["status"]
                TRUTH_NOW.failed()
                self._send(code, {"error": {"code": code, "message": step["message"], "status": GEMINI_ERRORS[code]}})
                return
            u = step["usage"]
            TRUTH_NOW.ok(model, u["promptTokenCount"] + u.get("toolUsePromptTokenCount", 0),
                         u["candidatesTokenCount"] + u.get("thoughtsTokenCount", 0),
                         u.get("cachedContentTokenCount", 0), u.get("thoughtsTokenCount", 0), step["finish"])
            rid = f"resp-{int(time.time() * 1e6):x}"
            served = f"{model}-001" if model.endswith("flash") else model
            parts = [{"functionCall": step["function_call"]}] if step.get("function_call") else [{"text": step["text"]}]
            if method == "generateContent":
                self._send(200, {"candidates": [{"content": {"role": "model", "parts": parts},
                                                 "finishReason": step["finish"], "avgLogprobs": -0.12}],
                                 "usageMetadata": u, "modelVersion": served, "createTime": "2026-12-01T12:00:00Z",
                                 "responseId": rid})
                return
            words = step["text"].split(" ")
            texts = [" ".join(words[: len(words) // 2]) + " ", " ".join(words[len(words) // 2:])]
            self.send_response(200)
            self.send_header("content-type", "application/json; charset=UTF-8")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for n, text in enumerate(texts):
                last = n == len(texts) - 1
                cand: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
                if last:
                    cand["finishReason"] = step["finish"]
                usage = dict(u) if last else gemini_usage(u["promptTokenCount"], 3, u.get("cachedContentTokenCount", 0))
                data = ("[" if n == 0 else ",\r\n") + json.dumps({
                    "candidates": [cand], "usageMetadata": usage, "modelVersion": served,
                    "createTime": "2026-12-01T12:00:00Z", "responseId": rid}) + ("]" if last else "")
                payload = data.encode()
                self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return VertexHandler


def run_vertex(source: str) -> None:
    from gemini_langchain.generate import SCRIPT, TRUTH_NOW, gemini_usage

    if source == "vertexai-otel-latest":
        os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    else:
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)
    from opentelemetry.instrumentation.vertexai import VertexAIInstrumentor

    VertexAIInstrumentor().instrument(tracer_provider=rec.tp, logger_provider=rec.lp)
    srv = serve(vertex_handler())
    import vertexai
    from google.api_core import exceptions
    from google.auth.credentials import AnonymousCredentials
    from vertexai.generative_models import Content, FunctionDeclaration, GenerationConfig, GenerativeModel, Part, Tool

    vertexai.init(project="acme-support", location="us-central1", api_transport="rest",
                  api_endpoint=f"http://127.0.0.1:{srv.server_address[1]}", credentials=AnonymousCredentials())
    flash = "gemini-2.5-flash"

    def model(system: str = SYSTEM, **kw: Any) -> Any:
        return GenerativeModel(flash, system_instruction=system, **kw)

    def turns(*ts: tuple[str, str]) -> list[Any]:
        return [Content(role="model" if r == "assistant" else "user", parts=[Part.from_text(t)]) for r, t in ts]

    SCRIPT[:] = [{"usage": gemini_usage(1200, 150), "finish": "STOP", "text": A1},
                 {"usage": gemini_usage(1350, 90, thoughts=64), "finish": "STOP",
                  "text": "Order A-1002 is still being packed."}]
    with rec.root("healthy", "order-status"):
        r = model().generate_content(turns(("user", Q1)), generation_config=GenerationConfig(max_output_tokens=200))
        model().generate_content(turns(("user", Q1), ("assistant", r.text), ("user", Q2)),
                                 generation_config=GenerationConfig(max_output_tokens=200))
    rec.flush("healthy")

    SCRIPT[:] = [{"usage": gemini_usage(9200, 120), "finish": "STOP", "text": "Refunds take 5 business days."},
                 {"usage": gemini_usage(9260, 110, cached=8960), "finish": "STOP", "text": "Order A-1001 shipped."},
                 {"usage": gemini_usage(9310, 100, cached=8960), "finish": "STOP", "text": "Order A-1002 is packing."}]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            model(BIG).generate_content(turns(("user", q)), generation_config=GenerationConfig(max_output_tokens=300))
    rec.flush("cached")

    SCRIPT[:] = [{"usage": gemini_usage(640, 48), "finish": "STOP", "text": A1},
                 {"usage": gemini_usage(700, 64), "finish": "MAX_TOKENS",
                  "text": "Here is every shipment event recorded for order A-1002 so far"}]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            for _ in model().generate_content(turns(("user", q)), stream=True,
                                              generation_config=GenerationConfig(max_output_tokens=mx)):
                pass
    rec.flush("streaming")

    tool = Tool(function_declarations=[FunctionDeclaration(
        name="get_order_status", description="Look up the shipping status of an order.",
        parameters={"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]})])
    SCRIPT[:] = [{"usage": gemini_usage(410, 18, thoughts=128), "finish": "STOP",
                  "function_call": {"name": "get_order_status", "args": {"order_id": "A-1001"}}},
                 {"usage": gemini_usage(460, 25), "finish": "STOP", "text": "Order A-1001 has shipped."}]
    with rec.root("tool_use", "order-agent"):
        agent = model(tools=[tool])
        contents: list[Any] = turns(("user", Q1))
        r = agent.generate_content(contents)
        fc = r.candidates[0].function_calls[0]
        result = tool_span(rec, fc.name, "", dict(fc.args), 1)
        contents += [r.candidates[0].content, Content(role="user", parts=[Part.from_function_response(
            name=fc.name, response={"status": result})])]
        agent.generate_content(contents)
    rec.flush("tool_use")

    SCRIPT[:] = [{"status": 429, "message": "Resource exhausted. Please try again later. Please refer to "
                                            "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 "
                                            "for more details."},
                 {"status": 500, "message": "Internal error encountered."}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:  # the GAPIC generate_content has no default retry
                model().generate_content(turns(("user", Q1)), generation_config=GenerationConfig(max_output_tokens=200))
            except exceptions.GoogleAPICallError as exc:
                surfaced.append(int(exc.code or 0))
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [{"usage": gemini_usage(520, 30), "finish": "STOP", "text": "Order A-1001 shipped yesterday."},
                 {"usage": gemini_usage(520, 30), "finish": "STOP", "text": "Order A-1001 shipped yesterday."}]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            model().generate_content(turns(("user", Q1)),
                                     generation_config=GenerationConfig(max_output_tokens=100, temperature=0.0))
    rec.flush("duplicate")
    assert not SCRIPT, SCRIPT
    srv.shutdown()
    rec.write(source, {"versions": versions("opentelemetry-instrumentation-vertexai", "google-cloud-aiplatform",
                                            "opentelemetry-sdk")})


# --------------------------------------------------------------------------------------------------------
# OpenInference over Mistral and Groq (the py_native fakes, truth and scenario script)
# --------------------------------------------------------------------------------------------------------

def run_mistral(source: str) -> None:
    from py_native.generate import SCRIPT, TRUTH_NOW, MistralHandler, compat_scenarios

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    from openinference.instrumentation.mistralai import MistralAIInstrumentor

    MistralAIInstrumentor().instrument(tracer_provider=rec.tp)  # content is captured by default (TraceConfig)
    srv = serve(MistralHandler)
    from mistralai.client import Mistral, errors, models

    client = Mistral(api_key="fake", server_url=f"http://127.0.0.1:{srv.server_address[1]}")  # no retry_config
    name = "mistral-small-latest"

    def typed(messages: list[dict[str, Any]]) -> list[Any]:
        out: list[Any] = []
        for m in messages:
            if m["role"] == "system":
                out.append(models.SystemMessage(content=m["content"]))
            elif m["role"] == "user":
                out.append(models.UserMessage(content=m["content"]))
            elif m["role"] == "assistant":
                out.append(models.AssistantMessage(content=m["content"], tool_calls=[
                    models.ToolCall(id=tc["id"], function=models.FunctionCall(
                        name=tc["function"]["name"], arguments=tc["function"]["arguments"]))
                    for tc in m.get("tool_calls") or []] or None))
            else:
                out.append(models.ToolMessage(content=m["content"], tool_call_id=m["tool_call_id"], name=m["name"]))
        return out

    def chat(messages: list[dict[str, Any]], **kw: Any) -> tuple[str, list[Any], dict[str, Any]]:
        r = client.chat.complete(model=name, messages=typed(messages), **kw)
        m = r.choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in m.tool_calls or []]
        msg: dict[str, Any] = {"role": "assistant", "content": m.content or ""}
        if m.tool_calls:
            msg["tool_calls"] = [{"id": tc.id, "type": "function", "function": {
                "name": tc.function.name, "arguments": tc.function.arguments}} for tc in m.tool_calls]
        return str(m.content or ""), calls, msg

    def stream(messages: list[dict[str, Any]], **kw: Any) -> None:
        for _ in client.chat.stream(model=name, messages=typed(messages), **kw):
            pass

    compat_scenarios(rec, name, chat, stream, (errors.SDKError,), lambda e: e.status_code)
    assert not SCRIPT, SCRIPT
    srv.shutdown()
    rec.write(source, {"versions": versions("openinference-instrumentation-mistralai", "mistralai", "opentelemetry-sdk")})


def run_groq(source: str) -> None:
    from py_native.generate import SCRIPT, TRUTH_NOW, GroqHandler, compat_scenarios

    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    from openinference.instrumentation.groq import GroqInstrumentor

    GroqInstrumentor().instrument(tracer_provider=rec.tp)  # content is captured by default (TraceConfig)
    srv = serve(GroqHandler)
    import groq

    client = groq.Groq(api_key="gsk_fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}", max_retries=0)
    name = "llama-3.3-70b-versatile"

    def chat(messages: list[dict[str, Any]], **kw: Any) -> tuple[str, list[Any], dict[str, Any]]:
        r = client.chat.completions.create(model=name, messages=messages, **kw)
        m = r.choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in m.tool_calls or []]
        return m.content or "", calls, m.model_dump(exclude_none=True)

    def stream(messages: list[dict[str, Any]], **kw: Any) -> None:
        for _ in client.chat.completions.create(model=name, messages=messages, stream=True, **kw):
            pass

    compat_scenarios(rec, name, chat, stream, (groq.APIStatusError,), lambda e: e.status_code)
    assert not SCRIPT, SCRIPT
    srv.shutdown()
    rec.write(source, {"versions": versions("openinference-instrumentation-groq", "groq", "opentelemetry-sdk")})


RUNNERS = {"vertexai-otel": run_vertex, "vertexai-otel-latest": run_vertex, "mistralai-openinference": run_mistral,
           "groq-openinference": run_groq}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNNERS:
        raise SystemExit(f"usage: generate.py {{{'|'.join(RUNNERS)}}}")
    RUNNERS[sys.argv[1]](sys.argv[1])
