"""Capture real spans from instrumentations of boto3's ``bedrock-runtime`` client against a fake Bedrock Runtime.

Every span in the output was emitted by a real instrumentation library wrapping the real ``boto3`` client, which
talked HTTP to a fake Amazon Bedrock Runtime endpoint on 127.0.0.1 started by this script (``endpoint_url=...``,
dummy credentials, no botocore retries: ``total_max_attempts=1``). The only spans made here are the trace roots
(``workflow``, scope ``fixgen.app``) and, in ``tool_use``, the app-level tool span ``tool.get_order_status``
(attributes ``app.*``), as in the shared fixtures.

Sources (one process each, so that instrumentors never meet):

* ``bedrock-otel``          opentelemetry-instrumentation-botocore 0.66b2 (OTel contrib, its bedrock-runtime
                            extension), ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``: the content
                            goes to log events only (extensions/bedrock_utils.py), kept here in ``otlp_logs``
* ``bedrock-openllmetry``   opentelemetry-instrumentation-bedrock 0.62.4 (Traceloop OpenLLMetry),
                            ``TRACELOOP_TRACE_CONTENT=true``
* ``bedrock-openinference`` openinference-instrumentation-bedrock 0.1.61 (Arize); content captured by default
* ``strands-bedrock``       no instrumentation library: Strands Agents 1.62.0 (``strands-agents``) traces its own
                            agent, cycle, model and tool spans (strands/telemetry/tracer.py, on the global
                            TracerProvider; content as span events), its ``BedrockModel`` calling the same fake
                            endpoint (``endpoint_url=...``, ``retry_strategy=None``: no Strands retries). The same
                            scripted answers as the boto3 sources, so the truth file is shared; the calls are
                            Converse / ConverseStream only, made by the agent loop

APIs used: ``converse`` (cached, tool_use, errors, duplicate), ``converse_stream`` (streaming; the AWS
event-stream binary framing, written by ``_frame`` below per the AWS docs and read back by botocore's own
parser) and ``invoke_model`` with an Anthropic Claude body (healthy, cached) and an Amazon Nova body (healthy).

Re-run (Python 3.11; one venv per source, never the project's .venv; exact versions in requirements.txt,
requirements-openllmetry.txt, requirements-openinference.txt, requirements-strands.txt beside this script)::

    python3 -m venv /tmp/gen-bedrock/otel && /tmp/gen-bedrock/otel/bin/pip install -r requirements.txt
    python3 -m venv /tmp/gen-bedrock/tl && /tmp/gen-bedrock/tl/bin/pip install -r requirements-openllmetry.txt
    python3 -m venv /tmp/gen-bedrock/oi && /tmp/gen-bedrock/oi/bin/pip install -r requirements-openinference.txt
    python3 -m venv /tmp/gen-bedrock/strands && /tmp/gen-bedrock/strands/bin/pip install -r requirements-strands.txt
    /tmp/gen-bedrock/otel/bin/python generate.py bedrock-otel
    /tmp/gen-bedrock/tl/bin/python generate.py bedrock-openllmetry
    /tmp/gen-bedrock/oi/bin/python generate.py bedrock-openinference
    /tmp/gen-bedrock/strands/bin/python generate.py strands-bedrock

Each run writes ``tests/normalize/data/<source>.jsonl`` (the shared fixtures' line format) and merges the fake
server's ground truth into ``tests/normalize/data/bedrock-truth.json`` (it fails if an earlier source saw a
different truth).

Truth per scenario: ``calls`` (HTTP requests answered, failed ones included), ``failed``, ``uncached_input``
(Bedrock's ``inputTokens``, Claude's ``input_tokens``: both leave cache reads and writes out), ``cache_read``,
``cache_write``, ``output``, ``reasoning`` (Bedrock reports none apart), ``stop_reasons``, ``models`` (request
model ids of the successful calls).
"""

from __future__ import annotations

import binascii
import json
import os
import re
import struct
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from capture import JSONHandler, Recorder, Script, serve

DATA = HERE.parent.parent / "data"
TRUTH = DATA / "bedrock-truth.json"
SOURCES = ("bedrock-otel", "bedrock-openllmetry", "bedrock-openinference", "strands-bedrock")

HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "amazon.nova-lite-v1:0"
#: what InvokeModel's Claude body names as the model that answered
SERVED = {HAIKU: "claude-3-5-haiku-20241022", SONNET: "claude-sonnet-4-5-20250929"}


# --------------------------------------------------------------------------------------------------------
# fake Bedrock Runtime: answers from a script the generator sets per scenario, keeps the truth
# --------------------------------------------------------------------------------------------------------

class Truth:
    def __init__(self) -> None:
        self.by_scenario: dict[str, dict[str, Any]] = {}
        self.scenario = ""

    def begin(self, scenario: str) -> None:
        self.scenario = scenario
        self.by_scenario.setdefault(scenario, {"calls": 0, "failed": 0, "uncached_input": 0, "cache_read": 0,
                                               "cache_write": 0, "output": 0, "reasoning": 0,
                                               "stop_reasons": [], "models": []})

    def failed(self) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["failed"] += 1

    def ok(self, model: str, u: dict[str, int], stop: str) -> None:
        t = self.by_scenario[self.scenario]
        t["calls"] += 1
        t["uncached_input"] += u["in"]
        t["cache_read"] += u.get("read", 0)
        t["cache_write"] += u.get("write", 0)
        t["output"] += u["out"]
        t["stop_reasons"].append(stop)
        t["models"].append(model)


TRUTH_NOW = Truth()
SCRIPT = Script()


def converse_usage(u: dict[str, int]) -> dict[str, int]:
    """Converse ``TokenUsage`` (API reference): ``inputTokens`` leaves the cache out, ``totalTokens`` has it."""
    out = {"inputTokens": u["in"], "outputTokens": u["out"],
           "totalTokens": u["in"] + u["out"] + u.get("read", 0) + u.get("write", 0)}
    if u.get("read") or u.get("write"):
        out["cacheReadInputTokens"] = u.get("read", 0)
        out["cacheWriteInputTokens"] = u.get("write", 0)
    return out


#: Bedrock's error shapes: the code in x-amzn-ErrorType, the text in the JSON body's ``message``
ERRORS = {429: ("ThrottlingException", "Too many requests, please wait before trying again."),
          500: ("InternalServerException", "The server encountered an internal error while processing the request.")}


def _frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message: prelude (total length, headers length, CRC32), headers (name length, name,
    type 7 = string, value length, value), payload, CRC32 of all before it."""
    hb = b"".join(bytes([len(k)]) + k.encode() + b"\x07" + struct.pack(">H", len(v)) + v.encode()
                  for k, v in headers.items())
    prelude = struct.pack(">II", 12 + len(hb) + len(payload) + 4, len(hb))
    prelude += struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF)
    msg = prelude + hb + payload
    return msg + struct.pack(">I", binascii.crc32(msg) & 0xFFFFFFFF)


def _event(name: str, body: dict[str, Any]) -> bytes:
    return _frame({":event-type": name, ":content-type": "application/json", ":message-type": "event"},
                  json.dumps(body).encode())


class BedrockHandler(JSONHandler):
    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("content-length", str(len(data)))
        self.send_header("x-amzn-requestid", SCRIPT.id("5c1d7a0e-0000-4000-8000-"))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = self.read_json()
        m = re.fullmatch(r"/model/([^/]+)/(converse|converse-stream|invoke)", self.path.split("?")[0])
        if not m:
            self._send(404, b'{"message":"Not found"}', {"content-type": "application/json",
                                                         "x-amzn-ErrorType": "UnknownOperationException:"})
            return
        from urllib.parse import unquote

        model, op = unquote(m.group(1)), m.group(2)
        step = SCRIPT.next()
        if "status" in step:
            code = step["status"]
            TRUTH_NOW.failed()
            etype, msg = ERRORS[code]
            self._send(code, json.dumps({"message": msg}).encode(), {
                "content-type": "application/json",
                "x-amzn-ErrorType": f"{etype}:http://internal.amazon.com/coral/com.amazon.bedrock/"})
            return
        u, stop = step["usage"], step["stop"]
        TRUTH_NOW.ok(model, u, stop)
        if op == "invoke":
            self._invoke(model, body, step)
            return
        content: list[dict[str, Any]] = []
        if step.get("text"):
            content.append({"text": step["text"]})
        if step.get("tool_use"):
            content.append({"toolUse": {"toolUseId": SCRIPT.id("tooluse_"), **step["tool_use"]}})
        if op == "converse":
            self._send(200, json.dumps({
                "output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop,
                "usage": converse_usage(u), "metrics": {"latencyMs": 412}}).encode(),
                {"content-type": "application/json"})
            return
        frames = [_event("messageStart", {"role": "assistant"})]
        for i, block in enumerate(content):
            if "text" in block:
                words = block["text"].split(" ")
                for j in range(0, len(words), 3):
                    piece = " ".join(words[j:j + 3]) + (" " if j + 3 < len(words) else "")
                    frames.append(_event("contentBlockDelta", {"contentBlockIndex": i, "delta": {"text": piece}}))
            else:
                tu = block["toolUse"]
                frames.append(_event("contentBlockStart", {"contentBlockIndex": i, "start": {
                    "toolUse": {"toolUseId": tu["toolUseId"], "name": tu["name"]}}}))
                frames.append(_event("contentBlockDelta", {"contentBlockIndex": i, "delta": {
                    "toolUse": {"input": json.dumps(tu["input"])}}}))
            frames.append(_event("contentBlockStop", {"contentBlockIndex": i}))
        frames.append(_event("messageStop", {"stopReason": stop}))
        frames.append(_event("metadata", {"usage": converse_usage(u), "metrics": {"latencyMs": 530}}))
        self.send_response(200)
        self.send_header("content-type", "application/vnd.amazon.eventstream")
        self.send_header("x-amzn-requestid", SCRIPT.id("5c1d7a0e-0000-4000-8000-"))
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for f in frames:
            self.wfile.write(f"{len(f):x}\r\n".encode() + f + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _invoke(self, model: str, body: dict[str, Any], step: dict[str, Any]) -> None:
        u, stop = step["usage"], step["stop"]
        if "anthropic" in model:
            # the Anthropic Messages response as Bedrock returns it (Claude on Bedrock, "Messages API")
            out: dict[str, Any] = {
                "id": SCRIPT.id("msg_bdrk_01"), "type": "message", "role": "assistant", "model": SERVED[model],
                "content": [{"type": "text", "text": step["text"]}], "stop_reason": stop, "stop_sequence": None,
                "usage": {"input_tokens": u["in"], "cache_creation_input_tokens": u.get("write", 0),
                          "cache_read_input_tokens": u.get("read", 0), "output_tokens": u["out"]}}
        else:
            # Amazon Nova InvokeModel response (Nova user guide, "Invoke API": usage *TokenCount for the cache)
            out = {"output": {"message": {"role": "assistant", "content": [{"text": step["text"]}]}},
                   "stopReason": stop, "usage": {"inputTokens": u["in"], "outputTokens": u["out"],
                                                 "totalTokens": u["in"] + u["out"] + u.get("read", 0),
                                                 "cacheReadInputTokenCount": u.get("read", 0),
                                                 "cacheWriteInputTokenCount": u.get("write", 0)}}
        headers = {"content-type": "application/json", "x-amzn-bedrock-input-token-count": str(u["in"]),
                   "x-amzn-bedrock-output-token-count": str(u["out"]), "x-amzn-bedrock-invocation-latency": "398"}
        # InvokeModel reports the cache in headers too (Bedrock user guide, "Prompt caching")
        if u.get("read") or u.get("write"):
            headers["x-amzn-bedrock-cache-read-input-token-count"] = str(u.get("read", 0))
            headers["x-amzn-bedrock-cache-write-input-token-count"] = str(u.get("write", 0))
        self._send(200, json.dumps(out).encode(), headers)


def recorder(source: str) -> Recorder:
    return Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE, logs=True)


# --------------------------------------------------------------------------------------------------------
# instrumentation per source
# --------------------------------------------------------------------------------------------------------

def instrument(source: str, tp: Any) -> None:
    if source == "bedrock-otel":
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true"
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        BotocoreInstrumentor().instrument(tracer_provider=tp)
    elif source == "bedrock-openllmetry":
        os.environ["TRACELOOP_TRACE_CONTENT"] = "true"
        from opentelemetry.instrumentation.bedrock import BedrockInstrumentor

        BedrockInstrumentor().instrument(tracer_provider=tp)
    elif source == "bedrock-openinference":
        from openinference.instrumentation.bedrock import BedrockInstrumentor as OIBedrockInstrumentor

        OIBedrockInstrumentor().instrument(tracer_provider=tp)  # content is captured by default (TraceConfig)
    elif source == "strands-bedrock":
        pass  # Strands traces itself on the global TracerProvider
    else:
        raise SystemExit(f"unknown source {source!r}; one of {SOURCES}")


# --------------------------------------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------------------------------------

SYSTEM = "You are a support assistant for ACME. Answer in one or two sentences."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
TOOLS = {"tools": [{"toolSpec": {"name": "get_order_status", "description": "Look up the shipping status of an order.",
                                 "inputSchema": {"json": {"type": "object",
                                                          "properties": {"order_id": {"type": "string"}},
                                                          "required": ["order_id"]}}}}]}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


def run(source: str) -> None:
    os.environ.update({"AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake/secret",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    rec = recorder(source)
    instrument(source, rec.tp)
    srv = serve(BedrockHandler)
    if source == "strands-bedrock":
        run_strands(rec, srv)
        return
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    from opentelemetry import trace

    client = boto3.client("bedrock-runtime", region_name="us-east-1",
                          endpoint_url=f"http://127.0.0.1:{srv.server_address[1]}",
                          config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))

    def invoke(model: str, body: dict[str, Any]) -> dict[str, Any]:
        r = client.invoke_model(modelId=model, body=json.dumps(body), contentType="application/json",
                                accept="application/json")
        return json.loads(r["body"].read())

    # healthy: InvokeModel with an Anthropic Claude body, then with an Amazon Nova body
    SCRIPT[:] = [{"usage": {"in": 1200, "out": 150}, "stop": "end_turn",
                  "text": "Order A-1001 shipped on Monday and arrives tomorrow."},
                 {"usage": {"in": 800, "out": 90}, "stop": "end_turn", "text": "Order A-1002 is being packed."}]
    with rec.root("healthy", "support-triage"):
        invoke(HAIKU, {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 200, "system": SYSTEM,
                       "messages": [{"role": "user", "content": Q1}]})
        invoke(NOVA, {"schemaVersion": "messages-v1", "system": [{"text": SYSTEM}],
                      "messages": [user(Q2)], "inferenceConfig": {"maxTokens": 200, "temperature": 0.3}})
    rec.flush("healthy")

    # cached: a big static system prompt behind a cachePoint; the first Converse call writes the cache, the
    # second reads it, then an InvokeModel Claude body with cache_control reads it too
    big = "POLICY: " + "Refunds are processed within 5 business days of approval. " * 60
    SCRIPT[:] = [{"usage": {"in": 40, "out": 30, "write": 2048}, "stop": "end_turn", "text": "It shipped."},
                 {"usage": {"in": 35, "out": 28, "read": 2048}, "stop": "end_turn", "text": "It is packing."},
                 {"usage": {"in": 3100, "out": 45, "read": 2048}, "stop": "end_turn", "text": "Refunds take 5 days."}]
    with rec.root("cached", "policy-qa"):
        system = [{"text": SYSTEM}, {"text": big}, {"cachePoint": {"type": "default"}}]
        for q in (Q1, Q2):
            client.converse(modelId=SONNET, system=system, messages=[user(q)], inferenceConfig={"maxTokens": 300})
        history = "Order history: " + "A-1003 shipped 2025-01-02, delivered 2025-01-05; " * 120
        invoke(SONNET, {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 300,
                        "system": [{"type": "text", "text": SYSTEM},
                                   {"type": "text", "text": big, "cache_control": {"type": "ephemeral"}}],
                        "messages": [{"role": "user", "content": f"When is my refund for A-1003?\n{history}"}]})
    rec.flush("cached")

    # streaming: ConverseStream ending end_turn, then one cut at maxTokens (with a cache read)
    SCRIPT[:] = [{"usage": {"in": 500, "out": 200}, "stop": "end_turn",
                  "text": "Your order A-1001 shipped yesterday and should arrive within three business days."},
                 {"usage": {"in": 700, "out": 64, "read": 2048}, "stop": "max_tokens",
                  "text": "Here is a detailed history of every shipment event recorded for order A-1002 so far"}]
    with rec.root("streaming", "order-updates"):
        for model, q, mx, system in ((HAIKU, Q1, 400, [{"text": SYSTEM}]),
                                     (SONNET, Q2 + " List every shipment event.", 64,
                                      [{"text": SYSTEM}, {"text": big}, {"cachePoint": {"type": "default"}}])):
            r = client.converse_stream(modelId=model, system=system, messages=[user(q)],
                                       inferenceConfig={"maxTokens": mx})
            for _ in r["stream"]:
                pass
    rec.flush("streaming")

    # tool_use: the model asks for get_order_status, the app runs it, then the model answers
    SCRIPT[:] = [{"usage": {"in": 600, "out": 45}, "stop": "tool_use", "text": "Let me check that order.",
                  "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1001"}}},
                 {"usage": {"in": 690, "out": 40}, "stop": "end_turn", "text": "Order A-1001 has shipped."}]
    tracer = trace.get_tracer("fixgen.app", "1.0.0")
    with rec.root("tool_use", "order-agent"):
        messages: list[dict[str, Any]] = [user(Q1)]
        for iteration in range(1, 4):
            r = client.converse(modelId=SONNET, system=[{"text": SYSTEM}], messages=messages, toolConfig=TOOLS,
                                inferenceConfig={"maxTokens": 512})
            if r["stopReason"] != "tool_use":
                break
            msg = r["output"]["message"]
            messages.append(msg)
            results = []
            for block in msg["content"]:
                if "toolUse" not in block:
                    continue
                tu = block["toolUse"]
                with tracer.start_as_current_span("tool.get_order_status", attributes={
                        "app.tool.name": tu["name"], "app.tool.call_id": tu["toolUseId"],
                        "app.tool.arguments": json.dumps(tu["input"]), "app.iteration": iteration}):
                    status = "shipped" if tu["input"].get("order_id") == "A-1001" else "packing"
                results.append({"toolResult": {"toolUseId": tu["toolUseId"], "content": [{"text": status}]}})
            messages.append({"role": "user", "content": results})
    rec.flush("tool_use")

    # errors: 429 then 500 surfaced to the app (no botocore retries), the third attempt succeeds
    SCRIPT[:] = [{"status": 429}, {"status": 500},
                 {"usage": {"in": 400, "out": 60}, "stop": "end_turn", "text": "Order A-1002 is being packed."}]
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                client.converse(modelId=HAIKU, system=[{"text": SYSTEM}], messages=[user(Q2)],
                                inferenceConfig={"maxTokens": 128})
                break
            except ClientError as exc:
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": exc.response["Error"]["Code"]})
    rec.flush("errors")

    # duplicate: the identical request twice in a row, temperature 0
    SCRIPT[:] = [{"usage": {"in": 900, "out": 80}, "stop": "end_turn", "text": "Order A-1001 shipped on Monday."},
                 {"usage": {"in": 900, "out": 80}, "stop": "end_turn", "text": "Order A-1001 shipped on Monday."}]
    with rec.root("duplicate", "faq"):
        for _ in range(2):
            client.converse(modelId=HAIKU, system=[{"text": SYSTEM}], messages=[user(Q1)],
                            inferenceConfig={"maxTokens": 100, "temperature": 0})
    rec.flush("duplicate")

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write()
    srv.shutdown()


def run_strands(rec: Recorder, srv: ThreadingHTTPServer) -> None:
    """The same scenarios and scripted answers, made by a Strands agent loop over BedrockModel."""
    from botocore.config import Config
    from strands import Agent, tool
    from strands.models.bedrock import BedrockModel
    from strands.types.exceptions import MaxTokensReachedException

    url = f"http://127.0.0.1:{srv.server_address[1]}"

    def agent(model: str, streaming: bool = False, tools: list[Any] | None = None, **cfg: Any) -> Any:
        bm = BedrockModel(model_id=model, region_name="us-east-1", endpoint_url=url, streaming=streaming,
                          boto_client_config=Config(retries={"total_max_attempts": 1, "mode": "standard"}), **cfg)
        return Agent(model=bm, system_prompt=SYSTEM, tools=tools or [], retry_strategy=None, callback_handler=None)

    SCRIPT[:] = [{"usage": {"in": 1200, "out": 150}, "stop": "end_turn",
                  "text": "Order A-1001 shipped on Monday and arrives tomorrow."},
                 {"usage": {"in": 800, "out": 90}, "stop": "end_turn", "text": "Order A-1002 is being packed."}]
    with rec.root("healthy", "support-triage"):
        agent(HAIKU, max_tokens=200)(Q1)
        agent(NOVA, max_tokens=200, temperature=0.3)(Q2)
    rec.flush("healthy")

    SCRIPT[:] = [{"usage": {"in": 40, "out": 30, "write": 2048}, "stop": "end_turn", "text": "It shipped."},
                 {"usage": {"in": 35, "out": 28, "read": 2048}, "stop": "end_turn", "text": "It is packing."},
                 {"usage": {"in": 3100, "out": 45, "read": 2048}, "stop": "end_turn", "text": "Refunds take 5 days."}]
    with rec.root("cached", "policy-qa"):
        history = "Order history: " + "A-1003 shipped 2025-01-02, delivered 2025-01-05; " * 120
        for q in (Q1, Q2, f"When is my refund for A-1003?\n{history}"):
            agent(SONNET, max_tokens=300)(q)
    rec.flush("cached")

    SCRIPT[:] = [{"usage": {"in": 500, "out": 200}, "stop": "end_turn",
                  "text": "Your order A-1001 shipped yesterday and should arrive within three business days."},
                 {"usage": {"in": 700, "out": 64, "read": 2048}, "stop": "max_tokens",
                  "text": "Here is a detailed history of every shipment event recorded for order A-1002 so far"}]
    with rec.root("streaming", "order-updates"):
        agent(HAIKU, streaming=True, max_tokens=400)(Q1)
        try:
            agent(SONNET, streaming=True, max_tokens=64)(Q2 + " List every shipment event.")
        except MaxTokensReachedException:
            pass  # Strands raises on a max_tokens stop (event_loop.py); the app takes the cut answer
    rec.flush("streaming")

    @tool
    def get_order_status(order_id: str) -> str:
        """Look up the shipping status of an order.

        Args:
            order_id: the order's id
        """
        return "shipped" if order_id == "A-1001" else "packing"

    SCRIPT[:] = [{"usage": {"in": 600, "out": 45}, "stop": "tool_use", "text": "Let me check that order.",
                  "tool_use": {"name": "get_order_status", "input": {"order_id": "A-1001"}}},
                 {"usage": {"in": 690, "out": 40}, "stop": "end_turn", "text": "Order A-1001 has shipped."}]
    with rec.root("tool_use", "order-agent"):
        agent(SONNET, tools=[get_order_status], max_tokens=512)(Q1)
    rec.flush("tool_use")

    from opentelemetry import trace

    SCRIPT[:] = [{"status": 429}, {"status": 500},
                 {"usage": {"in": 400, "out": 60}, "stop": "end_turn", "text": "Order A-1002 is being packed."}]
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                agent(HAIKU, max_tokens=128)(Q2)
                break
            except Exception as exc:  # noqa: BLE001 - ModelThrottledException, botocore ClientError
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": type(exc).__name__})
    rec.flush("errors")

    SCRIPT[:] = [{"usage": {"in": 900, "out": 80}, "stop": "end_turn", "text": "Order A-1001 shipped on Monday."},
                 {"usage": {"in": 900, "out": 80}, "stop": "end_turn", "text": "Order A-1001 shipped on Monday."}]
    with rec.root("duplicate", "faq"):
        for _ in range(2):
            agent(HAIKU, max_tokens=100, temperature=0)(Q1)
    rec.flush("duplicate")

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    rec.write()
    srv.shutdown()


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    run(sys.argv[1])
