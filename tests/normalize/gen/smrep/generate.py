"""Capture real spans of OpenLLMetry's SageMaker and Replicate instrumentations against fakes on 127.0.0.1, with
nothing sent beyond loopback.

Every model-call span in the output was emitted by a real instrumentation library wrapping a real client, which
talked HTTP to a fake started by this script. The only spans made here are the trace roots (``workflow``, scope
``fixgen.app``) and, in ``tool_use``, the app's ``tool.get_order_status`` span.

Sources (one process each):

* ``sagemaker-openllmetry``  opentelemetry-instrumentation-sagemaker 0.62.4 over boto3's ``sagemaker-runtime``
                             client (``endpoint_url`` the fake, dummy credentials, ``total_max_attempts=1``):
                             ``invoke_endpoint`` and ``invoke_endpoint_with_response_stream``. The fake answers as
                             a Hugging Face TGI container (the HF LLM DLC behind a JumpStart endpoint) does on
                             ``/invocations`` (text-generation-inference router/src/sagemaker.rs: a body is a
                             generate request ``{"inputs", "parameters"}`` or a Messages API chat request): generate
                             answers ``[{"generated_text", "details": {"finish_reason", "generated_tokens", "seed",
                             "prefill", "tokens"}}]`` (``parameters.details`` true; finish reasons ``eos_token`` /
                             ``length``), a stream is TGI's SSE ``data:{"token", "generated_text", "details"}`` lines
                             (the last one with ``details.{finish_reason, generated_tokens, input_length}``) carried
                             in the event stream's ``PayloadPart`` events, and a chat request gets a
                             ``chat.completion`` with ``usage.{prompt,completion,total}_tokens`` (router/src/chat.rs:
                             tool calls with id "0" and the arguments as a JSON object, finish reason ``stop`` /
                             ``length``). Errors are botocore's rest-json shape (``x-amzn-ErrorType``).
* ``replicate-openllmetry``  opentelemetry-instrumentation-replicate 0.62.4 over the ``replicate`` client (module
                             functions ``replicate.run`` / ``replicate.stream``, which the instrumentation wraps),
                             ``REPLICATE_BASE_URL`` the fake predictions API: ``POST /v1/models/{owner}/{name}/
                             predictions`` (``Prefer: wait``) answers a finished prediction (``output`` a list of
                             text pieces, ``metrics.{input,output}_token_count``); a stream's create answers
                             ``starting`` with ``urls.stream``, whose SSE has ``output`` events and ``done``; errors
                             are RFC 7807 problem details (``{"title", "detail", "status"}``), not retried (replicate
                             1.0.7 client.py RetryTransport retries no POST).

Truth per scenario (``smrep-truth.json``, one entry per source): ``calls`` (model requests answered, failed ones
included), ``failed``, ``input``, ``output`` (what the fake reported: TGI's prompt_tokens / input_length and
generated_tokens / completion_tokens, Replicate's metrics), ``cache_read`` / ``cache_write`` / ``reasoning`` (neither
API reports any: 0), ``finish_reasons`` (what the fake said, where its API has one), ``models`` (the request's model:
the SageMaker endpoint name, the Replicate model).

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; exact versions in requirements.txt)::

    cd tests/normalize/gen/smrep
    python3 -m venv /tmp/venv-smrep && /tmp/venv-smrep/bin/pip install -r requirements.txt
    /tmp/venv-smrep/bin/python generate.py sagemaker-openllmetry
    /tmp/venv-smrep/bin/python generate.py replicate-openllmetry

``loopback_only`` (../capture.py) refuses any connection beyond loopback; a run prints what was refused.
"""

from __future__ import annotations

import binascii
import json
import os
import struct
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import JSONHandler, Recorder, Script, serve
from chat_script import BIG, Q1, Q2, SYSTEM  # the shared prompts
from langtrace.generate import REFUSED, loopback_only
from py_vendors2.generate import tool_span, versions

TRUTH = HERE.parent.parent / "data" / "smrep-truth.json"
SOURCES = ("sagemaker-openllmetry", "replicate-openllmetry")
#: a JumpStart endpoint's default name (the model id and a timestamp); the container's own model id
ENDPOINT = "jumpstart-dft-meta-textgeneration-l-20260115-101500"
TGI_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
REPLICATE_MODEL = "meta/meta-llama-3-8b-instruct"
REPLICATE_VERSION = "5a6809ca6288247d06daf6365557e5e429063f32a21146b2a807c682652136b8"
TOOLS = [{"type": "function", "function": {
    "name": "get_order_status", "description": "Look up the shipping status of an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]


class Truth:
    def __init__(self) -> None:
        self.by_scenario: dict[str, dict[str, Any]] = {}
        self.scenario = ""

    def begin(self, scenario: str) -> None:
        self.scenario = scenario
        self.by_scenario.setdefault(scenario, {"calls": 0, "failed": 0, "input": 0, "output": 0, "cache_read": 0,
                                               "cache_write": 0, "reasoning": 0, "finish_reasons": [],
                                               "models": []})

    def failed(self) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["failed"] += 1

    def ok(self, model: str, inp: int, out: int, finish: str | None) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["input"] += inp
        t["output"] += out
        if finish:
            t["finish_reasons"].append(finish)
        t["models"].append(model)


TRUTH_NOW = Truth()
SCRIPT = Script()


def step(inp: int, out: int, finish: str, text: str | None = None, tool: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"in": inp, "out": out, "finish": finish, "text": text, "tool": tool}


# --------------------------------------------------------------------------------------------------------
# fake SageMaker Runtime with a TGI container behind the endpoint
# --------------------------------------------------------------------------------------------------------

SM_ERRORS = {429: ("ThrottlingException", "Rate exceeded"),
             500: ("InternalFailure", "An internal error occurred while processing the request.")}


def _frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message (prelude, string headers, payload, CRCs), as ../bedrock/generate.py writes it."""
    hb = b"".join(bytes([len(k)]) + k.encode() + b"\x07" + struct.pack(">H", len(v)) + v.encode()
                  for k, v in headers.items())
    prelude = struct.pack(">II", 12 + len(hb) + len(payload) + 4, len(hb))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    msg = prelude + hb + payload
    return msg + struct.pack(">I", binascii.crc32(msg) & 0xFFFFFFFF)


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i + 1 < len(words) else "") for i, w in enumerate(words)]


class SageMakerHandler(JSONHandler):
    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("content-length", str(len(data)))
        self.send_header("x-amzn-requestid", SCRIPT.id("7d2e9b1c-0000-4000-8000-"))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        from urllib.parse import unquote

        body = self.read_json()
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 3 or parts[0] != "endpoints" or parts[2] not in ("invocations",
                                                                         "invocations-response-stream"):
            self._send(404, b'{"message":"Not found"}', {"content-type": "application/json",
                                                         "x-amzn-ErrorType": "UnknownOperationException:"})
            return
        endpoint, stream = unquote(parts[1]), parts[2] == "invocations-response-stream"
        s = SCRIPT.next(body)
        if "status" in s:
            code = s["status"]
            TRUTH_NOW.failed()
            etype, msg = SM_ERRORS[code]
            self._send(code, json.dumps({"message": msg}).encode(),
                       {"content-type": "application/json", "x-amzn-ErrorType": f"{etype}:"})
            return
        TRUTH_NOW.ok(endpoint, s["in"], s["out"], s["finish"])
        variant = {"x-Amzn-Invoked-Production-Variant": "AllTraffic"}
        if "messages" in body:
            self._send(200, json.dumps(self._chat(s)).encode(), {"content-type": "application/json", **variant})
        elif not stream:
            out = [{"generated_text": s["text"], "details": {
                "finish_reason": s["finish"], "generated_tokens": s["out"], "seed": None, "prefill": [],
                "tokens": []}}]
            self._send(200, json.dumps(out).encode(), {"content-type": "application/json", **variant})
        else:
            self._stream(s, variant)

    def _chat(self, s: dict[str, Any]) -> dict[str, Any]:
        msg: dict[str, Any] = {"role": "assistant", "content": s["text"]}
        if s["tool"]:
            msg = {"role": "assistant", "tool_calls": [{"id": "0", "type": "function", "function": {
                "description": None, "name": s["tool"]["name"], "arguments": s["tool"]["arguments"]}}]}
        return {"object": "chat.completion", "id": "", "created": int(time.time()), "model": TGI_MODEL,
                "system_fingerprint": "3.3.6-sha-0bdf9f8", "choices": [
                    {"index": 0, "message": msg, "logprobs": None, "finish_reason": s["finish"]}],
                "usage": {"prompt_tokens": s["in"], "completion_tokens": s["out"],
                          "total_tokens": s["in"] + s["out"]}}

    def _stream(self, s: dict[str, Any], headers: dict[str, str]) -> None:
        pieces = _words(s["text"])
        lines = []
        for i, w in enumerate(pieces):
            last = i + 1 == len(pieces)
            ev = {"index": i + 1, "token": {"id": 1000 + i, "text": w, "logprob": -0.1, "special": False},
                  "top_tokens": None, "generated_text": s["text"] if last else None,
                  "details": {"finish_reason": s["finish"], "generated_tokens": s["out"], "seed": None,
                              "input_length": s["in"]} if last else None}
            lines.append(f"data:{json.dumps(ev)}\n\n".encode())
        self.send_response(200)
        self.send_header("content-type", "application/vnd.amazon.eventstream")
        self.send_header("x-amzn-requestid", SCRIPT.id("7d2e9b1c-0000-4000-8000-"))
        self.send_header("x-amzn-sagemaker-content-type", "text/event-stream")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for data in lines:
            f = _frame({":event-type": "PayloadPart", ":content-type": "application/octet-stream",
                        ":message-type": "event"}, data)
            self.wfile.write(f"{len(f):x}\r\n".encode() + f + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def llama_prompt(turns: list[tuple[str, str]]) -> str:
    """The Llama 3 chat template, as an app writes ``inputs`` for TGI's generate route."""
    out = "<|begin_of_text|>"
    for role, text in turns:
        out += f"<|start_header_id|>{role}<|end_header_id|>\n\n{text}<|eot_id|>"
    return out + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def run_sagemaker(rec: Recorder) -> None:
    os.environ.update({"AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake/secret",
                       "AWS_DEFAULT_REGION": "us-east-1", "TRACELOOP_TRACE_CONTENT": "true"})
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(k, None)
    from opentelemetry.instrumentation.sagemaker import SageMakerInstrumentor

    SageMakerInstrumentor().instrument(tracer_provider=rec.tp)
    srv = serve(SageMakerHandler)
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    client = boto3.client("sagemaker-runtime", region_name="us-east-1",
                          endpoint_url=f"http://127.0.0.1:{srv.server_address[1]}",
                          config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))

    def generate(turns: list[tuple[str, str]], max_new: int, **params: Any) -> str:
        body = {"inputs": llama_prompt(turns), "parameters": {"max_new_tokens": max_new, "details": True, **params}}
        r = client.invoke_endpoint(EndpointName=ENDPOINT, Body=json.dumps(body), ContentType="application/json",
                                   Accept="application/json")
        return str(json.loads(r["Body"].read())[0]["generated_text"])

    def chat(messages: list[dict[str, Any]], max_tokens: int, **kw: Any) -> dict[str, Any]:
        body = {"messages": messages, "max_tokens": max_tokens, **kw}
        r = client.invoke_endpoint(EndpointName=ENDPOINT, Body=json.dumps(body), ContentType="application/json",
                                   Accept="application/json")
        return json.loads(r["Body"].read())  # type: ignore[no-any-return]

    def stream(turns: list[tuple[str, str]], max_new: int) -> None:
        body = {"inputs": llama_prompt(turns), "parameters": {"max_new_tokens": max_new, "details": True},
                "stream": True}
        r = client.invoke_endpoint_with_response_stream(EndpointName=ENDPOINT, Body=json.dumps(body),
                                                        ContentType="application/json")
        for _ in r["Body"]:
            pass

    a1 = "Order A-1001 shipped yesterday and arrives Friday."
    SCRIPT[:] = [step(1200, 150, "eos_token", a1), step(1350, 90, "stop", "Order A-1002 is still being packed.")]
    with rec.root("healthy", "order-status"):
        generate([("system", SYSTEM), ("user", Q1)], 200)
        chat([{"role": "system", "content": SYSTEM}, {"role": "user", "content": Q1},
              {"role": "assistant", "content": a1}, {"role": "user", "content": Q2}], 200)
    rec.flush("healthy")

    # cached: the same big system prompt thrice; TGI (prefix caching in 3.x) reports no cached tokens
    SCRIPT[:] = [step(9200, 120, "stop", "Refunds take 5 business days."),
                 step(9260, 110, "stop", "Order A-1001 shipped."), step(9310, 100, "stop", "Order A-1002 is packing.")]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            chat([{"role": "system", "content": BIG}, {"role": "user", "content": q}], 300)
    rec.flush("cached")

    SCRIPT[:] = [step(640, 12, "eos_token", "Your order A-1001 shipped yesterday and arrives Friday."),
                 step(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            stream([("system", SYSTEM), ("user", q)], mx)
    rec.flush("streaming")

    SCRIPT[:] = [step(420, 24, "stop", tool={"name": "get_order_status", "arguments": {"order_id": "A-1001"}}),
                 step(470, 12, "stop", "Order A-1001 has shipped.")]
    with rec.root("tool_use", "order-agent"):
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": Q1}]
        for iteration in range(1, 4):
            r = chat(messages, 512, tools=TOOLS)
            msg = r["choices"][0]["message"]
            messages.append(msg)
            if not msg.get("tool_calls"):
                break
            for tc in msg["tool_calls"]:
                args = tc["function"]["arguments"]
                result = tool_span(rec, tc["function"]["name"], tc["id"], args, iteration)
                messages.append({"role": "tool", "tool_call_id": tc["id"], "content": result})
    rec.flush("tool_use")

    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                generate([("system", SYSTEM), ("user", Q1)], 200)
            except ClientError as exc:
                surfaced.append(int(exc.response["ResponseMetadata"]["HTTPStatusCode"]))
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [step(520, 30, "eos_token", "Order A-1001 shipped yesterday."),
                 step(520, 30, "eos_token", "Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            generate([("system", SYSTEM), ("user", Q1)], 100, temperature=0.01)
    rec.flush("duplicate")
    srv.shutdown()
    assert not SCRIPT, f"unused answers: {SCRIPT}"


# --------------------------------------------------------------------------------------------------------
# fake Replicate predictions API
# --------------------------------------------------------------------------------------------------------

RP_ERRORS = {429: ("Too Many Requests", "Request was throttled. Your rate limit resets in ~1s."),
             500: ("Internal Server Error", "An unexpected error occurred.")}
STREAMS: dict[str, dict[str, Any]] = {}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())


class ReplicateHandler(JSONHandler):
    def do_POST(self) -> None:
        body = self.read_json()
        path = self.path.split("?")[0]
        if not (path.startswith("/v1/models/") and path.endswith("/predictions")):
            self.send_json(404, {"title": "Not found", "detail": "Not found", "status": 404})
            return
        model = path[len("/v1/models/"):-len("/predictions")]
        s = SCRIPT.next(body)
        if "status" in s:
            code = s["status"]
            TRUTH_NOW.failed()
            title, detail = RP_ERRORS[code]
            data = json.dumps({"title": title, "detail": detail, "status": code}).encode()
            self.send_response(code)
            self.send_header("content-type", "application/problem+json")
            self.send_header("content-length", str(len(data)))
            if code == 429:
                self.send_header("retry-after", "1")
            self.end_headers()
            self.wfile.write(data)
            return
        TRUTH_NOW.ok(model, s["in"], s["out"], None)
        pid = SCRIPT.id("rp")
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        pred: dict[str, Any] = {
            "id": pid, "model": model, "version": REPLICATE_VERSION, "input": body.get("input"), "logs": "",
            "error": None, "data_removed": False, "created_at": _now(),
            "urls": {"cancel": f"{base}/v1/predictions/{pid}/cancel", "get": f"{base}/v1/predictions/{pid}",
                     "web": f"https://replicate.com/p/{pid}"}}
        metrics = {"input_token_count": s["in"], "output_token_count": s["out"], "predict_time": 0.81,
                   "time_to_first_token": 0.12, "tokens_per_second": 74.2, "total_time": 0.93}
        if body.get("stream"):
            pred["urls"]["stream"] = f"{base}/v1/streams/{pid}"
            STREAMS[pid] = s
            self.send_json(201, {**pred, "status": "starting", "output": None, "metrics": {}, "started_at": None,
                                 "completed_at": None})
            return
        self.send_json(201, {**pred, "status": "succeeded", "output": _words(s["text"]), "metrics": metrics,
                             "started_at": _now(), "completed_at": _now()})

    def do_GET(self) -> None:
        pid = self.path.split("?")[0].rsplit("/", 1)[-1]
        s = STREAMS.pop(pid, None)
        if not self.path.startswith("/v1/streams/") or s is None:
            self.send_json(404, {"title": "Not found", "detail": "Not found", "status": 404})
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-store")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        events = [("output", w) for w in _words(s["text"])] + [("done", "{}")]
        for i, (name, data) in enumerate(events):
            chunk = f"event: {name}\nid: {int(time.time())}:{i}\ndata: {data}\n\n".encode()
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def llama_turns(turns: list[tuple[str, str]]) -> dict[str, Any]:
    """Replicate's Llama 3 input: ``system_prompt`` and one ``prompt`` (earlier turns written into it)."""
    system = next((t for r, t in turns if r == "system"), "")
    rest = [(r, t) for r, t in turns if r != "system"]
    prompt = "\n".join(f"{r}: {t}" for r, t in rest[:-1]) + ("\n" if len(rest) > 1 else "") + rest[-1][1]
    return {"system_prompt": system, "prompt": prompt}


def run_replicate(rec: Recorder, port: int) -> None:
    os.environ.update({"REPLICATE_API_TOKEN": "r8_fakefakefakefakefakefakefakefakefake",
                       "REPLICATE_BASE_URL": f"http://127.0.0.1:{port}", "TRACELOOP_TRACE_CONTENT": "true"})
    from opentelemetry.instrumentation.replicate import ReplicateInstrumentor

    ReplicateInstrumentor().instrument(tracer_provider=rec.tp)
    import replicate
    from replicate.exceptions import ReplicateError

    def run(turns: list[tuple[str, str]], max_tokens: int, **kw: Any) -> str:
        out = replicate.run(REPLICATE_MODEL, input={**llama_turns(turns), "max_tokens": max_tokens, **kw})
        return "".join(out)

    def stream(turns: list[tuple[str, str]], max_tokens: int) -> None:
        for _ in replicate.stream(REPLICATE_MODEL, input={**llama_turns(turns), "max_tokens": max_tokens}):
            pass

    a1 = "Order A-1001 shipped yesterday and arrives Friday."
    SCRIPT[:] = [step(1200, 150, "stop", a1), step(1350, 90, "stop", "Order A-1002 is still being packed.")]
    with rec.root("healthy", "order-status"):
        run([("system", SYSTEM), ("user", Q1)], 200)
        run([("system", SYSTEM), ("user", Q1), ("assistant", a1), ("user", Q2)], 200)
    rec.flush("healthy")

    SCRIPT[:] = [step(9200, 120, "stop", "Refunds take 5 business days."),
                 step(9260, 110, "stop", "Order A-1001 shipped."), step(9310, 100, "stop", "Order A-1002 is packing.")]
    with rec.root("cached", "policy-qa"):
        for q in ("When is my refund?", Q1, Q2):
            run([("system", BIG), ("user", q)], 300)
    rec.flush("cached")

    SCRIPT[:] = [step(640, 12, "stop", "Your order A-1001 shipped yesterday and arrives Friday."),
                 step(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")]
    with rec.root("streaming", "order-updates"):
        for q, mx in ((Q1, 256), (Q2, 64)):
            stream([("system", SYSTEM), ("user", q)], mx)
    rec.flush("streaming")

    # tool_use: Replicate's Llama has no tool API: the app asks for a JSON tool request in the prompt
    ask = SYSTEM + ' To look up an order, answer only {"tool": "get_order_status", "order_id": ...}.'
    SCRIPT[:] = [step(420, 24, "stop", '{"tool": "get_order_status", "order_id": "A-1001"}'),
                 step(470, 12, "stop", "Order A-1001 has shipped.")]
    with rec.root("tool_use", "order-agent"):
        turns = [("system", ask), ("user", Q1)]
        for iteration in range(1, 4):
            answer = run(turns, 512)
            turns.append(("assistant", answer))
            if not answer.startswith("{"):
                break
            req = json.loads(answer)
            result = tool_span(rec, req["tool"], f"call_{iteration}", {"order_id": req["order_id"]}, iteration)
            turns.append(("user", f"Tool result: {result}"))
    rec.flush("tool_use")

    SCRIPT[:] = [{"status": 429}, {"status": 500}]
    surfaced: list[int] = []
    with rec.root("errors", "order-status"):
        for _ in range(2):
            try:
                run([("system", SYSTEM), ("user", Q1)], 200)
            except ReplicateError as exc:
                surfaced.append(int(exc.status or 0))
    assert surfaced == [429, 500], surfaced
    rec.flush("errors")

    SCRIPT[:] = [step(520, 30, "stop", "Order A-1001 shipped yesterday."),
                 step(520, 30, "stop", "Order A-1001 shipped yesterday.")]
    with rec.root("duplicate", "order-status"):
        for _ in range(2):
            run([("system", SYSTEM), ("user", Q1)], 100, temperature=0.01)
    rec.flush("duplicate")
    assert not SCRIPT, f"unused answers: {SCRIPT}"


def main(source: str) -> None:
    loopback_only()
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    if source == "sagemaker-openllmetry":
        run_sagemaker(rec)
        libs: tuple[str, ...] = ("opentelemetry-instrumentation-sagemaker", "boto3", "botocore")
    else:
        srv = serve(ReplicateHandler)
        run_replicate(rec, srv.server_address[1])
        srv.shutdown()
        libs = ("opentelemetry-instrumentation-replicate", "replicate", "httpx")
    rec.write(source, {"versions": versions(*libs, "opentelemetry-sdk", "opentelemetry-semantic-conventions-ai")})
    print(f"{source}: connections refused beyond loopback: {REFUSED or 'none'}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{'|'.join(SOURCES)}}}")
    main(sys.argv[1])
