"""Capture real spans of OpenLLMetry's instrumentations of more vendors' SDKs (Writer, IBM watsonx.ai), against fakes of their APIs.

Every model-call span in the output was emitted by a real OpenLLMetry instrumentation (0.62.4, semconv-ai 0.5.1)
wrapping the vendor's real client, which talked HTTP to a fake of the vendor's API on 127.0.0.1 started by this
script (a socket guard refuses, and reports, any connection elsewhere). The only spans made here are the trace
roots (``workflow``, scope ``fixgen.app``) and, in ``tool_use``, the app's ``tool.get_order_status`` span.

Sources (one process each; ``TRACELOOP_TRACE_CONTENT=true``):

* ``writer-openllmetry``  opentelemetry-instrumentation-writer 0.62.4 over writer-sdk 2.4.0 (``writerai.Writer``,
                          ``chat.chat``; the instrumentation declares ``writer-sdk >= 2.2.1, < 3``). The fake is
                          py_native's OpenAI Chat Completions fake in Writer's spelling: ``POST /v1/chat``, usage
                          ``prompt_token_details.cached_tokens`` (writerai types/chat_completion_usage.py: not
                          OpenAI's ``prompt_tokens_details``) and ``completion_tokens_details.reasoning_tokens``;
                          streams carry the usage chunk with ``stream_options.include_usage`` (chat_chat_params.py
                          StreamOptions), which the app asks for. Model ``palmyra-x5``.
* ``watsonx-openllmetry`` opentelemetry-instrumentation-watsonx 0.62.4 over ibm-watsonx-ai 1.8.1 ``ModelInference``
                          (``generate`` and ``generate_text_stream``, the text generation API: 0.62.4 does not wrap
                          ``chat``), at the SDK's own cloud URL ``https://us-south.ml.cloud.ibm.com`` with an API key,
                          every request (IBM Cloud IAM's ``/identity/token``, the project lookup, the model specs, the
                          generation) carried to the fake on 127.0.0.1 by an httpx transport (``APIClient(httpx_client=)``).
                          The instrumentor imports ibm-watson-machine-learning's ModelInference too, so that package
                          (1.0.370) is in the venv beside ibm-watsonx-ai. Text generation has no tools: ``tool_use``
                          asks for the tool call as text. Model ``ibm/granite-3-8b-instruct``; stop reasons are the
                          API's (``eos_token``, ``max_tokens``); the API reports no cache and no reasoning.

Re-run (Python 3.11; one venv per source under /tmp, never the project's .venv; exact versions in requirements.txt,
one section per venv)::

    cd tests/normalize/gen/ollvendors
    for s in writer watsonx; do
      sed -n "/^# \\[$s\\]/,/^# \\[end\\]/p" requirements.txt > /tmp/olv_$s.txt
      python3 -m venv /tmp/olv_$s && /tmp/olv_$s/bin/pip install -r /tmp/olv_$s.txt
      /tmp/olv_$s/bin/python generate.py $s-openllmetry
    done

Each run writes ``tests/normalize/data/<source>.jsonl`` and its entry in ``tests/normalize/data/ollvendors-truth.json``
(py_native's truth fields per scenario, with the versions that made it).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import Recorder, serve
from chat_script import Q1, SYSTEM  # the shared prompts
from py_native.generate import SCRIPT, TRUTH_NOW, OpenAIHandler, _Base, oa
from py_vendors2.generate import openai_scenarios, versions

TRUTH = HERE.parent.parent / "data" / "ollvendors-truth.json"
TOOLS = [{"type": "function", "function": {
    "name": "get_order_status", "description": "Look up the shipping status of an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]
REFUSED: list[Any] = []


def loopback_only() -> None:
    """Every connection this process makes goes to 127.0.0.1: any other is refused and reported at the end."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            REFUSED.append(address)
            raise ConnectionRefusedError(f"capture: no network but loopback ({address})")
        return real(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]


class StatusError(Exception):
    def __init__(self, status_code: int) -> None:
        super().__init__(status_code)
        self.status_code = status_code


# --- Writer --------------------------------------------------------------------------------------------------

def _writer_usage(obj: Any) -> Any:
    """OpenAI's usage object as Writer spells it (writerai 2.4.0 types/chat_completion_usage.py)."""
    u = obj.get("usage") if isinstance(obj, dict) else None
    if isinstance(u, dict):
        obj["usage"] = {"prompt_tokens": u["prompt_tokens"], "completion_tokens": u["completion_tokens"],
                        "total_tokens": u["total_tokens"],
                        "prompt_token_details": {"cached_tokens": u["prompt_tokens_details"]["cached_tokens"]},
                        "completion_tokens_details": {
                            "reasoning_tokens": u["completion_tokens_details"]["reasoning_tokens"]}}
    return obj


class WriterHandler(OpenAIHandler):
    """``POST /v1/chat`` (writerai 2.4.0 resources/chat.py), answered as py_native's fake answers chat/completions."""

    def do_POST(self) -> None:
        if self.path.split("?")[0] == "/v1/chat":
            self.path = "/v1/chat/completions"
        OpenAIHandler.do_POST(self)

    def _send(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        OpenAIHandler._send(self, status, _writer_usage(obj), headers)

    def _chunk(self, payload: bytes) -> None:
        text = payload.decode()
        if text.startswith("data: {"):
            text = f"data: {json.dumps(_writer_usage(json.loads(text[6:])))}\n\n"
        OpenAIHandler._chunk(self, text.encode())


WRITER_MODEL = "palmyra-x5"


def run_writer(source: str) -> None:
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    srv = serve(WriterHandler)
    from opentelemetry.instrumentation.writer import WriterInstrumentor

    WriterInstrumentor().instrument(tracer_provider=rec.tp)
    import writerai

    client = writerai.Writer(api_key="wr-fake", base_url=f"http://127.0.0.1:{srv.server_address[1]}", max_retries=0)

    def msgs(turns: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return [{"role": r, "content": t} for r, t in turns]

    def chat(turns: list[tuple[str, str]], **kw: Any) -> str:
        try:
            r = client.chat.chat(model=WRITER_MODEL, messages=msgs(turns), **kw)
        except writerai.APIStatusError as exc:
            raise StatusError(exc.status_code) from exc
        return str(r.choices[0].message.content)

    def stream(turns: list[tuple[str, str]], **kw: Any) -> None:
        for _ in client.chat.chat(model=WRITER_MODEL, messages=msgs(turns), stream=True,
                                  stream_options={"include_usage": True}, **kw):
            pass

    def tool_turn(history: Any) -> tuple[list[Any], Any]:
        m = msgs([("system", SYSTEM), ("user", Q1)]) if history is None else [
            {"role": "tool", "tool_call_id": h[1], "name": h[2], "content": h[3]} if isinstance(h, tuple) else h
            for h in history]
        msg = client.chat.chat(model=WRITER_MODEL, messages=m, tools=TOOLS, max_tokens=512).choices[0].message
        calls = [(tc.id, tc.function.name, json.loads(tc.function.arguments)) for tc in msg.tool_calls or []]
        answer = {"role": "assistant", "content": msg.content, **({"tool_calls": [
            {"id": tc.id, "type": "function", "function": {"name": tc.function.name,
                                                           "arguments": tc.function.arguments}}
            for tc in msg.tool_calls]} if msg.tool_calls else {})}
        return calls, [*m, answer]

    openai_scenarios(rec, SCRIPT, oa, chat, stream, tool_turn, (StatusError,))
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write(source, {"versions": versions("opentelemetry-instrumentation-writer", "writer-sdk",
                                            "opentelemetry-sdk")})


# --- prompt-in / text-out APIs (watsonx.ai text generation, SageMaker, Replicate) -----------------------------

def tx(prompt: int, completion: int, finish: str, text: str) -> dict[str, Any]:
    """One scripted text-generation answer: the API's input and output token counts, its own stop reason."""
    return {"prompt": prompt, "completion": completion, "finish": finish, "text": text}


TOOL_CALL_TEXT = '<tool_call>[{"name": "get_order_status", "arguments": {"order_id": "A-1001"}}]'


def text_scenarios(rec: Recorder, script: Any, stop: str, cut: str, gen: Any, stream: Any, errors: tuple[type, ...]
                   ) -> None:
    """py_vendors2's openai_scenarios for a prompt-in / text-out API: ``gen(prompt, max_new_tokens)`` -> text,
    ``stream(prompt, max_new_tokens)`` drains a stream; ``stop`` / ``cut``: the API's stop reasons for an end of
    sequence and for the token limit. A text API has no tools: in ``tool_use`` the model writes its tool call in
    its text (Granite's / Llama's ``<tool_call>`` convention), the app parses it and runs the tool."""
    from py_vendors2.generate import A1, BIG, Q2, status_of, tool_span

    def p(*turns: str) -> str:
        return "\n".join([SYSTEM, *turns, "Assistant:"])

    script[:] = [tx(1200, 150, stop, A1), tx(1350, 90, stop, "Order A-1002 is still being packed.")]
    with rec.root("healthy", "order-status"):
        a1 = gen(p(f"User: {Q1}"), 200)
        gen(p(f"User: {Q1}", f"Assistant: {a1}", f"User: {Q2}"), 200)
    rec.flush("healthy")

    script[:] = [tx(9200, 120, stop, "Refunds take 5 business days."), tx(9260, 110, stop, "Order A-1001 shipped."),
                 tx(9310, 100, stop, "Order A-1002 is packing.")]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            gen("\n".join([BIG, f"User: {q}", "Assistant:"]), 300)
    rec.flush("cached")

    script[:] = [tx(640, 48, stop, A1),
                 tx(700, 64, cut, "Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            stream(p(f"User: {q}"), mx)
    rec.flush("streaming")

    script[:] = [tx(420, 30, stop, TOOL_CALL_TEXT), tx(470, 12, stop, "Order A-1001 has shipped.")]
    with rec.root("tool_use", "order-agent"):
        turns = [f"User: {Q1}"]
        for iteration in range(1, 4):
            out = gen(p(*turns), 512)
            if not out.startswith("<tool_call>"):
                break
            call = json.loads(out[len("<tool_call>"):])[0]
            result = tool_span(rec, call["name"], f"call_{iteration}", call["arguments"], iteration)
            turns += [f"Assistant: {out}", f"Tool: {result}"]
    rec.flush("tool_use")

    script[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                gen(p(f"User: {Q1}"), 200)
            except errors as exc:
                surfaced.append(status_of(exc))
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    script[:] = [tx(520, 30, stop, "Order A-1001 shipped yesterday."), tx(520, 30, stop, "Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            gen(p(f"User: {Q1}"), 100)
    rec.flush("duplicate")
    assert not script, f"unused answers: {script}"


def to_loopback(port: int) -> Any:
    """An httpx client whose requests, to whatever host the SDK means, go to the fake on 127.0.0.1 (the Host header
    keeps the host meant, so the fake tells the IAM token service from the watsonx.ai API)."""
    import httpx

    class ToLoopback(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.headers["x-fake-host"] = request.url.host
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
            return super().handle_request(request)

    return httpx.Client(transport=ToLoopback())


# --- IBM watsonx.ai -----------------------------------------------------------------------------------------

WATSONX_MODEL = "ibm/granite-3-8b-instruct"
WATSONX_URL = "https://us-south.ml.cloud.ibm.com"
PROJECT_ID = "5f0e8b2c-0000-4000-8000-00000000f1c5"
#: the API's error bodies (cloud.ibm.com/apidocs/watsonx-ai: ``errors`` [{code, message}], ``trace``, ``status_code``)
WATSONX_ERRORS = {429: ("rate_limit_exceeded", "The request rate limit of 8 requests per second was exceeded."),
                  500: ("internal_server_error", "An internal error occurred while processing the request.")}


def _jwt() -> str:
    """An unsigned JWT with the claims ibm_watsonx_ai reads (exp; iam_id), as IBM Cloud IAM's /identity/token gives."""
    import base64

    def b64(o: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()

    now = int(time.time())
    return ".".join([b64({"alg": "RS256", "typ": "JWT", "kid": "fake"}),
                     b64({"iam_id": "IBMid-fixture", "sub": "fixture@example.com", "iat": now, "exp": now + 3600}),
                     "c2lnbmF0dXJl"])


class WatsonxHandler(_Base):
    """IBM Cloud IAM's token endpoint, the project lookup and the model specs ibm_watsonx_ai 1.8.1 asks for before the
    first call (client.py APIClient.__init__, Set.default_project, fm_model_inference.py FMModelInference.__init__),
    and the text generation API: ``POST /ml/v1/text/generation`` (``results[0]``: generated_text,
    generated_token_count, input_token_count, stop_reason) and ``/ml/v1/text/generation_stream`` (SSE, one
    ``results`` object per event: the text delta, generated_token_count so far, input_token_count in the first
    event only and 0 after, stop_reason ``not_finished`` until the last)."""

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.startswith("/v2/projects/"):
            self._send(200, {"metadata": {"guid": PROJECT_ID}, "entity": {
                "name": "support-bot", "storage": {"type": "assetfiles"},
                "compute": [{"type": "machine_learning", "guid": "7c3d0000-0000-4000-8000-00000000aa01",
                             "name": "watsonx-ai", "crn": "crn:v1:bluemix:public:pm-20:us-south:a/fake::"}]}})
        elif path == "/ml/v1/foundation_model_specs":
            self._send(200, {"total_count": 1, "limit": 200, "first": {"href": self.path}, "resources": [{
                "model_id": WATSONX_MODEL, "label": "granite-3-8b-instruct", "provider": "IBM",
                "source": "IBM", "functions": [{"id": "text_generation"}, {"id": "text_chat"}],
                "model_limits": {"max_sequence_length": 131072, "max_output_tokens": 8192},
                "lifecycle": [{"id": "available", "start_date": "2024-12-18"}]}]})
        else:
            self._send(404, {"errors": [{"code": "not_found", "message": f"{path} not found"}], "status_code": 404})

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        if path == "/identity/token":
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self._send(200, {"access_token": _jwt(), "refresh_token": "not_supported", "token_type": "Bearer",
                             "expires_in": 3600, "expiration": int(time.time()) + 3600, "scope": "ibm openid"})
            return
        body = self._body()
        if path not in ("/ml/v1/text/generation", "/ml/v1/text/generation_stream"):
            self._send(404, {"errors": [{"code": "not_found", "message": f"{path} not found"}], "status_code": 404})
            return
        step = SCRIPT.next(body)
        if "status" in step:
            code = step["status"]
            TRUTH_NOW.failed()
            err, msg = WATSONX_ERRORS[code]
            self._send(code, {"errors": [{"code": err, "message": msg}], "trace": SCRIPT.id("trace"),
                              "status_code": code})
            return
        model = body["model_id"]
        TRUTH_NOW.ok(model, model, step["prompt"], step["completion"], 0, 0, step["finish"])
        created = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        head = {"model_id": model, "model_version": "1.1.0", "created_at": created}
        if path.endswith("/generation"):
            self._send(200, {**head, "results": [{
                "generated_text": step["text"], "generated_token_count": step["completion"],
                "input_token_count": step["prompt"], "stop_reason": step["finish"]}]})
            return
        self._sse_start()
        words = step["text"].split(" ")
        pieces = [" ".join(words[j:j + 3]) + (" " if j + 3 < len(words) else "") for j in range(0, len(words), 3)]
        for n, piece in enumerate(pieces, 1):
            last = n == len(pieces)
            res = {"generated_text": piece,
                   "generated_token_count": step["completion"] if last else n * 3,
                   "input_token_count": step["prompt"] if n == 1 else 0,
                   "stop_reason": step["finish"] if last else "not_finished"}
            self._chunk(f"id: {n}\nevent: message\ndata: {json.dumps({**head, 'results': [res]})}\n\n".encode())
        self._sse_end()


def run_watsonx(source: str) -> None:
    models: dict[str, Any] = {}

    def begin(scenario: str) -> None:  # one ModelInference per scenario, made by its first call, inside its trace
        models.clear()
        TRUTH_NOW.begin(scenario)

    rec = Recorder(source, TRUTH, begin, lambda: TRUTH_NOW.by_scenario, HERE)
    srv = serve(WatsonxHandler)
    from opentelemetry.instrumentation.watsonx import WatsonxInstrumentor

    # the instrumentor declares ``ibm-watson-machine-learning >= 1.0.333`` (the SDK's old name) and wraps both
    # packages' ModelInference (__init__.py WATSON_MODULES), importing each: without the old package installed
    # beside ibm-watsonx-ai, instrument() fails (wrapt TargetModuleNotFoundError), so the venv has both; the calls
    # are ibm-watsonx-ai's
    WatsonxInstrumentor().instrument(tracer_provider=rec.tp)
    from ibm_watsonx_ai import APIClient, Credentials
    from ibm_watsonx_ai.foundation_models import ModelInference
    from ibm_watsonx_ai.wml_client_error import ApiRequestFailure

    client = APIClient(Credentials(url=WATSONX_URL, api_key="wx-fake-apikey"), project_id=PROJECT_ID,
                       httpx_client=to_loopback(srv.server_address[1]))

    def model() -> Any:
        if not models:
            models["m"] = ModelInference(model_id=WATSONX_MODEL, api_client=client, max_retries=0,
                                         params={"decoding_method": "greedy"})
        return models["m"]

    def gen(prompt: str, max_new: int) -> str:
        try:
            r = model().generate(prompt=prompt, params={"decoding_method": "greedy", "max_new_tokens": max_new})
        except ApiRequestFailure as exc:
            raise StatusError(exc.response.status_code) from exc
        return str(r["results"][0]["generated_text"])

    def stream(prompt: str, max_new: int) -> None:
        for _ in model().generate_text_stream(prompt=prompt, params={"decoding_method": "greedy",
                                                                      "max_new_tokens": max_new}):
            pass

    text_scenarios(rec, SCRIPT, "eos_token", "max_tokens", gen, stream, (StatusError,))
    srv.shutdown()
    rec.write(source, {"versions": versions("opentelemetry-instrumentation-watsonx", "ibm-watsonx-ai",
                                            "opentelemetry-sdk")})


RUNS = {"writer-openllmetry": run_writer, "watsonx-openllmetry": run_watsonx}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RUNS:
        raise SystemExit(f"usage: generate.py {{{'|'.join(RUNS)}}}")
    os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
    os.environ["TRACELOOP_METRICS_ENABLED"] = "false"
    loopback_only()
    RUNS[sys.argv[1]](sys.argv[1])
    assert not REFUSED, f"refused connections: {REFUSED}"
