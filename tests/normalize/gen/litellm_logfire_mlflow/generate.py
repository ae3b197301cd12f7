"""Capture real spans from LiteLLM's OpenTelemetry logger, Pydantic Logfire and MLflow tracing against a fake
OpenAI API.

Every model-call span in the output was emitted by a real library wrapping (or, for LiteLLM, calling through)
the real ``openai`` client, which talked HTTP to a fake OpenAI API (Chat Completions) on 127.0.0.1 started by
this script. The only spans made here are the trace roots (``workflow``, scope ``fixgen.app``) and, in
``tool_use``, the app-level tool span ``tool.get_order_status`` (attributes ``app.*``), as in the shared fixtures.

Sources (one process each):

* ``litellm-otel``    litellm's own OpenTelemetry logger (``litellm/integrations/opentelemetry.py``,
                      ``litellm.callbacks = [OpenTelemetry(tracer_provider=...)]``: our TracerProvider with an
                      in-memory exporter; its default, legacy attribute mode: content on the spans);
                      ``litellm.completion(model="openai/...", num_retries=0, max_retries=0,
                      metadata={"litellm_parent_otel_span": <the app's current span>})`` (see make_chat);
                      ``LITELLM_LOCAL_MODEL_COST_MAP=True``, so the reported cost is from litellm's bundled map
* ``logfire-openai``  ``logfire.configure(send_to_logfire=False, console=False, additional_span_processors=[
                      SimpleSpanProcessor(InMemorySpanExporter())])`` and ``logfire.instrument_openai(client)``
                      (semconv version 2, the default; content is captured by default)
* ``logfire-openai-6.0`` the same with logfire 6.0.0b8, the newest release (a pre-release of the next major)
* ``mlflow-openai``   ``mlflow.openai.autolog()``, exported over OTLP/HTTP protobuf
                      (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` = a sink on 127.0.0.1 in this script that keeps
                      the decoded requests); ``MLFLOW_USE_DEFAULT_TRACER_PROVIDER=false`` so that MLflow's spans
                      join the global TracerProvider and nest under the app's ``workflow`` root

Re-run (Python 3.11; one venv per source, never the project's .venv; the exact versions are the
``requirements-<source>.txt`` freezes beside this script, the direct pins in requirements.txt: litellm 1.110.2,
logfire 5.4.0 (6.0.0b8 for ``logfire-openai-6.0``), mlflow-tracing 3.17.2, openai 3.57.0, opentelemetry-sdk
1.45.2)::

    for s in litellm-otel logfire-openai logfire-openai-6.0 mlflow-openai; do
        python3 -m venv /tmp/gen-$s && /tmp/gen-$s/bin/pip install -r requirements-$s.txt
    done
    /tmp/gen-litellm-otel/bin/python generate.py litellm-otel
    /tmp/gen-logfire-openai/bin/python generate.py logfire-openai
    /tmp/gen-logfire-openai-6.0/bin/python generate.py logfire-openai-6.0
    cd /tmp && MLFLOW_TRACKING_URI=file:///tmp/mlruns /tmp/gen-mlflow-openai/bin/python <this dir>/generate.py mlflow-openai

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and merges the fake
server's truth into ``tests/normalize/data/litellm_logfire_mlflow-truth.json`` (it fails if an earlier source saw
a different truth). ``loopback_only`` (../capture.py) refuses any connection beyond loopback; a run prints what
was refused.

Scenarios (one trace each, root ``workflow``): ``healthy`` (2 calls), ``cached`` (cached_tokens on the 2nd and
3rd), ``streaming`` (2 streamed Chat Completions, usage in the last chunk; the 2nd cut with ``length``),
``tool_use`` (o3-mini with reasoning tokens asks for get_order_status, the app runs it, then the answer),
``errors`` (429 then 500 surfaced, no SDK retries, then a success), ``duplicate`` (the identical request twice,
temperature 0), ``responses`` (the Responses API: a non-streamed call with cache and reasoning, then a stream
cut by max_output_tokens, ``status: incomplete``).

Truth per scenario: ``calls`` (HTTP requests answered, failed ones included), ``failed``, ``input``
(OpenAI's ``prompt_tokens``, which includes ``cached_tokens``), ``cache_read`` (``cached_tokens``), ``output``
(``completion_tokens``, which includes ``reasoning_tokens``), ``reasoning``, ``finish_reasons``, ``models``
(request model, served model) and ``streamed`` of the successful calls. OpenAI reports no cache writes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import REFUSED, JSONHandler, Recorder, Script, hexify, loopback_only, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "litellm_logfire_mlflow-truth.json"
SOURCES = ("litellm-otel", "logfire-openai", "mlflow-openai", "logfire-openai-6.0")
SERVED = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06", "o3-mini": "o3-mini-2025-01-31"}


# --------------------------------------------------------------------------------------------------------
# fake OpenAI Chat Completions API: answers from a script the generator sets per scenario, keeps the truth
# --------------------------------------------------------------------------------------------------------

class Truth:
    def __init__(self) -> None:
        self.by_scenario: dict[str, dict[str, Any]] = {}
        self.scenario = ""

    def begin(self, scenario: str) -> None:
        self.scenario = scenario
        self.by_scenario.setdefault(scenario, {"calls": 0, "failed": 0, "input": 0, "cache_read": 0, "output": 0,
                                               "reasoning": 0, "finish_reasons": [], "models": [], "streamed": []})

    def failed(self) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["failed"] += 1

    def ok(self, model: str, served: str, u: dict[str, Any], finish: str, streamed: bool) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["input"] += u["prompt_tokens"]
        t["cache_read"] += u["prompt_tokens_details"]["cached_tokens"]
        t["output"] += u["completion_tokens"]
        t["reasoning"] += u["completion_tokens_details"]["reasoning_tokens"]
        t["finish_reasons"].append(finish)
        t["models"].append([model, served])
        t["streamed"].append(streamed)


TRUTH_NOW = Truth()
#: the answers the server gives next, in order
SCRIPT = Script()


def usage(prompt: int, completion: int, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    """A Chat Completions ``usage`` object: ``prompt_tokens`` includes ``cached_tokens`` and
    ``completion_tokens`` includes ``reasoning_tokens`` (OpenAI API reference, "The chat completion object")."""
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


ERRORS = {429: ("rate_limit_exceeded", "requests", ("Rate limit reached for gpt-4o-mini in organization org-fake on "
                                                     "requests per min (RPM): Limit 3, Used 3, Requested 1.")),
          500: (None, "server_error", "The server had an error while processing your request. Sorry about that!")}


class OpenAIHandler(JSONHandler):
    def _send(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-request-id", SCRIPT.id("req-"))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.read_json()
        path = self.path.split("?")[0]
        if path.endswith("/responses"):
            self._responses(body)
            return
        if not path.endswith("/chat/completions"):
            self._send(404, {"error": {"message": "Not found", "type": "invalid_request_error", "code": None}})
            return
        step = SCRIPT.next()
        if "status" in step:
            code = step["status"]
            TRUTH_NOW.failed()
            ecode, etype, msg = ERRORS[code]
            self._send(code, {"error": {"message": msg, "type": etype, "param": None, "code": ecode}},
                       {"retry-after": "1"} if code == 429 else {})
            return
        model = body["model"]
        served = SERVED.get(model, model)
        u, finish = step["usage"], step["finish"]
        stream = bool(body.get("stream"))
        TRUTH_NOW.ok(model, served, u, finish, stream)
        msg: dict[str, Any] = {"role": "assistant", "content": step.get("text"), "refusal": None}
        if step.get("tool_calls"):
            msg["tool_calls"] = [{"id": SCRIPT.id("call-"), "type": "function",
                                  "function": {"name": tc["name"], "arguments": json.dumps(tc["arguments"])}}
                                 for tc in step["tool_calls"]]
        cid, created = SCRIPT.id("chatcmpl-"), int(time.time())
        if not stream:
            self._send(200, {"id": cid, "object": "chat.completion", "created": created, "model": served,
                             "system_fingerprint": "fp_fake", "service_tier": "default",
                             "choices": [{"index": 0, "message": msg, "logprobs": None, "finish_reason": finish}],
                             "usage": u})
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self._stream(cid, created, served, msg, u if include_usage else None, finish)

    def _responses(self, body: dict[str, Any]) -> None:
        """The Responses API: usage as ``input_tokens`` (incl. ``input_tokens_details.cached_tokens``) and
        ``output_tokens`` (incl. ``output_tokens_details.reasoning_tokens``); a max-output-tokens cut is
        ``status: incomplete`` with ``incomplete_details.reason = max_output_tokens`` (API reference, "The response
        object"). Streamed as typed server-sent events ending with ``response.completed`` / ``.incomplete``."""
        step = SCRIPT.next()
        model = body["model"]
        served = SERVED.get(model, model)
        u, finish = step["usage"], step["finish"]
        stream = bool(body.get("stream"))
        TRUTH_NOW.ok(model, served, u, finish, stream)
        ru = {"input_tokens": u["prompt_tokens"],
              "input_tokens_details": {"cached_tokens": u["prompt_tokens_details"]["cached_tokens"]},
              "output_tokens": u["completion_tokens"],
              "output_tokens_details": {"reasoning_tokens": u["completion_tokens_details"]["reasoning_tokens"]},
              "total_tokens": u["total_tokens"]}
        cut = finish == "length"
        rid, mid, created = SCRIPT.id("resp-"), SCRIPT.id("msg-"), int(time.time())
        text = step["text"]
        item = {"type": "message", "id": mid, "status": "incomplete" if cut else "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}
        resp: dict[str, Any] = {
            "id": rid, "object": "response", "created_at": created, "status": "incomplete" if cut else "completed",
            "error": None, "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
            "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
            "model": served, "output": [item], "parallel_tool_calls": True, "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None}, "store": True, "temperature": 1.0,
            "text": {"format": {"type": "text"}}, "tool_choice": "auto", "tools": [], "top_p": 1.0,
            "truncation": "disabled", "usage": ru, "user": None, "metadata": {}}
        if not stream:
            self._send(200, resp)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("x-request-id", SCRIPT.id("req-"))
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        seq = [0]

        def event(name: str, data: dict[str, Any]) -> None:
            data = {"type": name, "sequence_number": seq[0], **data}
            seq[0] += 1
            payload = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
            self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
            self.wfile.flush()

        start = {**resp, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
        event("response.created", {"response": start})
        event("response.in_progress", {"response": start})
        event("response.output_item.added", {"output_index": 0, "item": {**item, "status": "in_progress",
                                                                          "content": []}})
        event("response.content_part.added", {"item_id": mid, "output_index": 0, "content_index": 0,
                                              "part": {"type": "output_text", "text": "", "annotations": []}})
        words = text.split(" ")
        for j in range(0, len(words), 3):
            piece = " ".join(words[j:j + 3]) + (" " if j + 3 < len(words) else "")
            event("response.output_text.delta", {"item_id": mid, "output_index": 0, "content_index": 0,
                                                 "delta": piece, "logprobs": []})
        event("response.output_text.done", {"item_id": mid, "output_index": 0, "content_index": 0, "text": text,
                                            "logprobs": []})
        event("response.content_part.done", {"item_id": mid, "output_index": 0, "content_index": 0,
                                             "part": item["content"][0]})
        event("response.output_item.done", {"output_index": 0, "item": item})
        event("response.incomplete" if cut else "response.completed", {"response": resp})
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _stream(self, cid: str, created: int, served: str, msg: dict[str, Any], u: dict[str, Any] | None,
                finish: str) -> None:
        """Server-sent chunks as the API streams them: a role chunk, content deltas, the finish chunk, and with
        ``stream_options.include_usage`` a last chunk with empty ``choices`` and the usage; then ``[DONE]``."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("x-request-id", SCRIPT.id("req-"))
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

        def chunk(choices: list[dict[str, Any]], usage_: dict[str, Any] | None = None) -> None:
            d = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": served,
                 "system_fingerprint": "fp_fake", "service_tier": "default", "choices": choices}
            if u is not None:
                d["usage"] = usage_
            payload = f"data: {json.dumps(d)}\n\n".encode()
            self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
            self.wfile.flush()

        chunk([{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": None}, "logprobs": None,
                "finish_reason": None}])
        words = (msg.get("content") or "").split(" ")
        for j in range(0, len(words), 3):
            piece = " ".join(words[j:j + 3]) + (" " if j + 3 < len(words) else "")
            chunk([{"index": 0, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}])
        chunk([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish}])
        if u is not None:
            chunk([], u)
        payload = b"data: [DONE]\n\n"
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n")
        self.wfile.flush()


class OTLPSink(JSONHandler):
    """OTLP/HTTP protobuf receiver for MLflow's exporter: keeps every decoded ExportTraceServiceRequest."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n)
        if self.headers.get("content-encoding") == "gzip":
            import gzip

            raw = gzip.decompress(raw)
        req = ExportTraceServiceRequest()
        req.ParseFromString(raw)
        with SCRIPT.lock:
            OTLPSink.received.append(MessageToDict(req, use_integers_for_enums=True))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()


def recorder(source: str) -> Recorder:
    # LiteLLM's logger runs its success callbacks on a thread after the call returns: 0.2 s before each flush
    common: dict[str, Any] = {"begin": TRUTH_NOW.begin, "truth": lambda: TRUTH_NOW.by_scenario, "here": HERE,
                              "settle": 0.2}
    if source.startswith("logfire-openai"):
        import logfire
        from opentelemetry import trace
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        # logfire builds and sets the global TracerProvider; our exporter is one more processor on it
        spans = InMemorySpanExporter()
        logfire.configure(send_to_logfire=False, console=False, service_name="support-bot",
                          environment="fixture", additional_span_processors=[SimpleSpanProcessor(spans)],
                          metrics=False, inspect_arguments=False)
        return Recorder(source, TRUTH, tracer_provider=trace.get_tracer_provider(), spans=spans, **common)
    if source != "mlflow-openai":
        return Recorder(source, TRUTH, **common)
    # MLflow adds its OTLP exporter to the (global) provider: every span, the app's root included, goes to the sink
    sink = serve(OTLPSink)
    os.environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = f"http://127.0.0.1:{sink.server_address[1]}/v1/traces"
    os.environ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = "http/protobuf"
    os.environ["MLFLOW_USE_DEFAULT_TRACER_PROVIDER"] = "false"

    def collect() -> dict[str, Any]:
        with SCRIPT.lock:
            got, OTLPSink.received[:] = list(OTLPSink.received), []
        return hexify({"resourceSpans": [rs for req in got for rs in req.get("resourceSpans", [])]})  # type: ignore[no-any-return]

    return Recorder(source, TRUTH, collect=collect, **common)


# --------------------------------------------------------------------------------------------------------
# one client interface per source: chat(model, messages, **kw) -> (text, tool_calls, finish_reason)
# --------------------------------------------------------------------------------------------------------

class RateLimited(Exception):
    pass


def make_chat(source: str, rec: Recorder, base_url: str) -> Any:
    if source == "litellm-otel":
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # the bundled price map: no network
        import litellm
        from litellm.integrations.opentelemetry import OpenTelemetry, OpenTelemetryConfig

        # the logger exports with our provider (OpenTelemetry(tracer_provider=...)); message content is logged
        # unless litellm.turn_off_message_logging
        litellm.callbacks = [OpenTelemetry(config=OpenTelemetryConfig(exporter="console"), tracer_provider=rec.tp)]

        def chat(model: str, messages: list[dict[str, Any]], stream: bool = False, **kw: Any) -> Any:
            from opentelemetry import trace

            # the app's span is handed over as LiteLLM's documented parent (metadata litellm_parent_otel_span,
            # _get_span_context priority 1): the logger then makes its own litellm_request span under it. Left
            # to the active context (priority 3) it writes every call's attributes onto the app's span itself
            # (_handle_success: no primary span when a parent span exists, unless USE_OTEL_LITELLM_REQUEST_SPAN),
            # and a stream's callback thread has no active context at all
            args = dict(model=f"openai/{model}", messages=messages, api_base=base_url, api_key="sk-fake",
                        num_retries=0, max_retries=0,
                        metadata={"litellm_parent_otel_span": trace.get_current_span()}, **kw)
            if stream:
                text, finish = "", None
                for ch in litellm.completion(stream=True, stream_options={"include_usage": True}, **args):
                    if ch.choices:
                        text += ch.choices[0].delta.content or ""
                        finish = ch.choices[0].finish_reason or finish
                return text, [], finish
            r = litellm.completion(**args)
            m = r.choices[0].message
            return m.content, [(t.id, t.function.name, json.loads(t.function.arguments)) for t in m.tool_calls or []], \
                r.choices[0].finish_reason

        def respond(model: str, instructions: str, question: str, stream: bool = False, **kw: Any) -> str:
            from opentelemetry import trace

            args = dict(model=f"openai/{model}", input=question, instructions=instructions, api_base=base_url,
                        api_key="sk-fake", num_retries=0, max_retries=0,
                        metadata={"litellm_parent_otel_span": trace.get_current_span()}, **kw)
            if stream:
                out = ""
                for ev in litellm.responses(stream=True, **args):
                    out += getattr(ev, "delta", "") if getattr(ev, "type", "") == "response.output_text.delta" else ""
                return out
            return str(litellm.responses(**args).output_text)

        chat.errors = (litellm.RateLimitError, litellm.InternalServerError)  # type: ignore[attr-defined]
        chat.respond = respond  # type: ignore[attr-defined]
        return chat

    import openai

    client = openai.OpenAI(api_key="sk-fake", base_url=base_url, max_retries=0)
    if source.startswith("logfire-openai"):
        import logfire

        logfire.instrument_openai(client)
    elif source == "mlflow-openai":
        import mlflow

        mlflow.openai.autolog()
        # MLflow adds its processors to the global provider lazily, on its first span: done now, so that it
        # has seen the app's first root start (else that trace's MLflow spans fail to start: KeyError in
        # mlflow/tracing/trace_manager.py register_span)
        from mlflow.tracing.provider import get_bridged_tracer_provider

        get_bridged_tracer_provider()

    def chat_openai(model: str, messages: list[dict[str, Any]], stream: bool = False, **kw: Any) -> Any:
        if stream:
            text, finish = "", None
            for ch in client.chat.completions.create(model=model, messages=messages, stream=True,  # type: ignore[call-overload]
                                                     stream_options={"include_usage": True}, **kw):
                if ch.choices:
                    text += ch.choices[0].delta.content or ""
                    finish = ch.choices[0].finish_reason or finish
            return text, [], finish
        r = client.chat.completions.create(model=model, messages=messages, **kw)  # type: ignore[call-overload]
        m = r.choices[0].message
        return m.content, [(t.id, t.function.name, json.loads(t.function.arguments)) for t in m.tool_calls or []], \
            r.choices[0].finish_reason

    def respond_openai(model: str, instructions: str, question: str, stream: bool = False, **kw: Any) -> str:
        if stream:
            out = ""
            # create(stream=True), not the responses.stream() helper, whose get_final_response() wants a
            # response.completed event, and a cut response ends with response.incomplete
            for ev in client.responses.create(model=model, input=question, instructions=instructions, stream=True,
                                              **kw):
                if ev.type == "response.output_text.delta":
                    out += ev.delta
            return out
        return client.responses.create(model=model, input=question, instructions=instructions, **kw).output_text

    chat_openai.errors = (openai.RateLimitError, openai.InternalServerError)  # type: ignore[attr-defined]
    chat_openai.respond = respond_openai  # type: ignore[attr-defined]
    return chat_openai


# --------------------------------------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------------------------------------

MINI, O3 = "gpt-4o-mini", "o3-mini"
SYSTEM = "You are a support assistant for ACME. Answer briefly and only about ACME orders."
TOOLS = [{"type": "function", "function": {
    "name": "get_order_status", "description": "Look up the shipping status of an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]


def sys_user(q: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}]


def run(source: str) -> None:
    rec = recorder(source)
    srv = serve(OpenAIHandler)
    chat = make_chat(source, rec, f"http://127.0.0.1:{srv.server_address[1]}/v1")
    from opentelemetry import trace

    # healthy: 2 calls, a question and its follow-up, both stop (short prompts: below OpenAI's 1024-token
    # minimum for prompt caching, so the follow-up's repeated context is no cacheable prefix)
    SCRIPT[:] = [{"usage": usage(420, 40), "finish": "stop", "text": "Order A-1001 shipped on Monday."},
                 {"usage": usage(485, 30), "finish": "stop", "text": "Order A-1002 is still being packed."}]
    with rec.root("healthy", "support-triage"):
        msgs = sys_user("Where is order A-1001?")
        text, _, _ = chat(MINI, msgs, max_tokens=200)
        msgs += [{"role": "assistant", "content": text}, {"role": "user", "content": "And order A-1002?"}]
        chat(MINI, msgs, max_tokens=200)
    rec.flush("healthy")

    # cached: a big static system prompt; the provider reports cached prefix tokens on the 2nd and 3rd call
    big = SYSTEM + " POLICY: " + "Refunds are processed within 5 business days of approval. " * 600
    SCRIPT[:] = [{"usage": usage(9200, 120), "finish": "stop", "text": "Refunds take 5 days."},
                 {"usage": usage(9260, 110, cached=8960), "finish": "stop", "text": "Shipping is free over $50."},
                 {"usage": usage(9310, 100, cached=8960), "finish": "stop", "text": "Returns within 30 days."}]
    with rec.root("cached", "policy-qa"):
        for q in ("Where is order A-1001? When is my refund?", "And order A-1002? Is shipping free?",
                  "Can I return it?"):
            chat("gpt-4o", [{"role": "system", "content": big}, {"role": "user", "content": q}], max_tokens=300)
    rec.flush("cached")

    # streaming: 2 streamed calls (usage in the last chunk, stream_options.include_usage); the 2nd is cut by
    # max_tokens (finish_reason length) and reads a cached prefix
    SCRIPT[:] = [{"usage": usage(500, 200), "finish": "stop",
                  "text": "Your order A-1001 shipped yesterday and should arrive within three business days."},
                 {"usage": usage(4796, 64, cached=4096), "finish": "length",
                  "text": "Here is a detailed history of every shipment event recorded for your order so far"}]
    with rec.root("streaming", "order-updates"):
        chat(MINI, sys_user("Where is order A-1001?"), stream=True, max_tokens=400)
        chat(MINI, sys_user("And order A-1002? List every shipment event."), stream=True, max_tokens=64)
    rec.flush("streaming")

    # tool_use: o3-mini (reasoning tokens) asks for get_order_status, the app runs it, then the model answers
    SCRIPT[:] = [{"usage": usage(600, 145, reasoning=128), "finish": "tool_calls",
                  "tool_calls": [{"name": "get_order_status", "arguments": {"order_id": "A-1001"}}]},
                 {"usage": usage(690, 70, reasoning=32), "finish": "stop", "text": "Order A-1001 has shipped."}]
    tracer = trace.get_tracer("fixgen.app", "1.0.0")
    with rec.root("tool_use", "order-agent"):
        msgs = sys_user("Where is order A-1001?")
        for iteration in range(1, 4):
            text, calls, finish = chat(O3, msgs, tools=TOOLS, max_completion_tokens=1024)
            if finish != "tool_calls":
                break
            msgs.append({"role": "assistant", "content": text, "tool_calls": [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
                for cid, name, args in calls]})
            for cid, name, args in calls:
                with tracer.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": name, "app.tool.call_id": cid, "app.tool.arguments": json.dumps(args),
                        "app.iteration": iteration}):
                    status = "shipped" if args.get("order_id") == "A-1001" else "packing"
                msgs.append({"role": "tool", "tool_call_id": cid, "content": status})
    rec.flush("tool_use")

    # errors: 429 then 500 surfaced to the app (no SDK retries), the third attempt succeeds
    SCRIPT[:] = [{"status": 429}, {"status": 500},
                 {"usage": usage(400, 60), "finish": "stop", "text": "Order A-1001 shipped on Monday."}]
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                chat(MINI, sys_user("Where is order A-1001?"), max_tokens=128)
                break
            except chat.errors as exc:
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": type(exc).__name__})
    rec.flush("errors")

    # duplicate: the identical request twice in a row (temperature 0)
    SCRIPT[:] = [{"usage": usage(900, 80), "finish": "stop", "text": "We are open 9-5, Monday to Friday."},
                 {"usage": usage(900, 80), "finish": "stop", "text": "We are open 9-5, Monday to Friday."}]
    with rec.root("duplicate", "faq"):
        for _ in range(2):
            chat(MINI, sys_user("Where is order A-1001? And what are your opening hours?"), max_tokens=100,
                 temperature=0)
    rec.flush("duplicate")

    # responses: the Responses API, once with a cached prefix and reasoning (o3-mini), once streamed and cut by
    # max_output_tokens (status incomplete)
    SCRIPT[:] = [{"usage": usage(2300, 180, cached=1920, reasoning=96), "finish": "stop",
                  "text": "Order A-1001 shipped on Monday and arrives Thursday."},
                 {"usage": usage(640, 32), "finish": "length",
                  "text": "Order A-1002 left our warehouse and its full tracking history is as follows"}]
    with rec.root("responses", "order-updates"):
        chat.respond(O3, SYSTEM, "Where is order A-1001?", max_output_tokens=1024)
        chat.respond(MINI, SYSTEM, "And order A-1002? Give the full tracking history.", stream=True,
                     max_output_tokens=32)
    rec.flush("responses")

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write()
    srv.shutdown()


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    loopback_only()
    run(sys.argv[1])
    print(f"{sys.argv[1]}: connections refused beyond loopback: {REFUSED or 'none'}")
