"""Capture real spans of OpenInference's Bedrock instrumentation over boto3's ``bedrock-agent-runtime``
``invoke_agent`` (``enableTrace=True``), against a fake Agents for Amazon Bedrock runtime, with nothing sent beyond
loopback.

Every span below the app's root was emitted by openinference-instrumentation-bedrock (version in requirements.txt)
wrapping the real boto3 client, which talked HTTP to a fake InvokeAgent endpoint on 127.0.0.1 started by this script
(``endpoint_url=...``, dummy credentials, botocore retries off: ``total_max_attempts=1``). The instrumentation makes
one ``bedrock_agent.invoke_agent`` span (kind AGENT) per call and, once the response stream ends, rebuilds the agent's
steps from the stream's ``trace`` events (_response_accumulator.py, _trace_collector.py): a CHAIN span per trace type
(``orchestrationTrace``, ``preProcessingTrace``) and below it an ``LLM`` span per model invocation
(modelInvocationInput + modelInvocationOutput, its ``metadata.usage`` as ``llm.token_count.*``), an ``action_group``
span (TOOL) per action group invocation and a ``knowledge_base`` span (RETRIEVER) per knowledge base lookup
(invocationInput + observation). The only spans made here are the trace roots (``workflow``, scope ``fixgen.app``).

The fake answers ``POST /agents/{agentId}/agentAliases/{agentAliasId}/sessions/{sessionId}/text`` (botocore's
bedrock-agent-runtime 2023-07-26 service model, operation InvokeAgent) with an AWS event stream
(``application/vnd.amazon.eventstream``) of ``trace`` events (TracePart: agentId, agentAliasId, agentVersion,
sessionId, eventTime, trace) and ``chunk`` events (PayloadPart: ``bytes``, base64 in the JSON payload as the
rest-json protocol writes a blob), framed by ``_frame`` of ../bedrock/generate.py (the framing botocore's own
eventstream parser reads back). The agent it plays runs Claude 3.5 Haiku (``foundationModel``
``anthropic.claude-3-5-haiku-20241022-v1:0``) with function calling: each orchestration step's
``modelInvocationOutput.rawResponse.content`` is the Anthropic Messages response as the model returned it (text and
``tool_use`` blocks, ``stop_reason``, ``usage``), ``metadata.usage`` its ``inputTokens`` / ``outputTokens`` (the
service model's Usage shape has no more fields: the cache is only in the raw response), ``metadata`` its start and
end times; ``rationale`` is the step's text, then an ``invocationInput`` (ACTION_GROUP ``OrderActions`` function
``get_order_status``, or KNOWLEDGE_BASE) and its ``observation``, or the ``finalResponse`` and the answer's chunks.
A failed invocation is an HTTP 429 ThrottlingException (``x-amzn-ErrorType``) or, mid-stream, an
``internalServerException`` event (``:message-type`` exception), after the step's modelInvocationInput.

Source: ``bedrock-agents-openinference``. Scenarios:

* healthy: two turns of one session; the first looks up the knowledge base (two model invocations), the second,
  with the first turn in its prompt, answers at once
* cached: two sessions of an agent whose prompt is cached: the first invocation writes the cache, the second reads it
* streaming: ``streamingConfigurations.streamFinalResponse``: the answer comes in several chunks; the second is cut
  at the agent's ``maximumLength`` (``stop_reason`` max_tokens)
* tool_use: pre-processing on (a model invocation of its own), then the action group call and the answer
* errors: a 429 at the front door, a 500 inside the stream after the step began, then the turn succeeds
* duplicate: the identical question twice (two sessions), the identical answer

Re-run (Python 3.11; a venv under /tmp, never the project's .venv; exact versions in requirements.txt)::

    python3 -m venv /tmp/venv-bragent && /tmp/venv-bragent/bin/pip install -r requirements.txt
    /tmp/venv-bragent/bin/python generate.py bedrock-agents-openinference

It writes ``tests/normalize/data/bedrock-agents-openinference.jsonl`` and merges the fake's truth into
``tests/normalize/data/bragent-truth.json``: per scenario ``invocations`` (InvokeAgent requests) and
``failed_invocations``; ``calls`` (model invocations the agent began) and ``failed``; ``uncached_input``
(``inputTokens``: Anthropic's input_tokens, cache left out), ``cache_read``, ``cache_write``, ``output``,
``reasoning`` (none), ``stop_reasons`` and ``models`` of the model invocations that answered; ``tools`` (the action
groups' functions and knowledge bases invoked, in order).
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bedrock.generate import ERRORS, _frame
from capture import JSONHandler, Recorder, Script, serve
from langtrace.generate import REFUSED, loopback_only

TRUTH = HERE.parent.parent / "data" / "bragent-truth.json"
SOURCES = ("bedrock-agents-openinference",)
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
SERVED = "claude-3-5-haiku-20241022"
AGENT_ID, ALIAS_ID, KB_ID = "AGT7ORDER1", "TSTALIASID", "KBACME0001"
SYSTEM = "You are a support assistant for ACME. Answer briefly and politely. Use the tools to look up orders."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
#: the tool names the agent gives the model (function calling: ``{actionGroup}__{function}``, the knowledge base as
#: ``GET__x_amz_knowledgebase_{id}__Search``), as in Bedrock Agents' orchestration prompts
ORDER_TOOL = "OrderActions__get_order_status"
KB_TOOL = f"GET__x_amz_knowledgebase_{KB_ID}__Search"


class Truth:
    def __init__(self) -> None:
        self.by_scenario: dict[str, dict[str, Any]] = {}
        self.scenario = ""

    def begin(self, scenario: str) -> None:
        self.scenario = scenario
        self.by_scenario.setdefault(scenario, {
            "invocations": 0, "failed_invocations": 0, "calls": 0, "failed": 0, "uncached_input": 0,
            "cache_read": 0, "cache_write": 0, "output": 0, "reasoning": 0, "stop_reasons": [], "models": [],
            "tools": []})

    @property
    def now(self) -> dict[str, Any]:
        return self.by_scenario[self.scenario]


TRUTH_NOW = Truth()
SCRIPT = Script()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _loose(role_texts: list[tuple[str, str]]) -> list[dict[str, str]]:
    """The orchestration prompt's messages as Bedrock Agents writes them: each content a Java-style list repr."""
    return [{"role": r, "content": f"[{{text={t}, type=text}}]"} for r, t in role_texts]


class AgentHandler(JSONHandler):
    """The fake InvokeAgent: one scripted turn per request."""

    def do_POST(self) -> None:
        body = self.read_json()
        m = re.fullmatch(r"/agents/([^/]+)/agentAliases/([^/]+)/sessions/([^/]+)/text", self.path.split("?")[0])
        if not m:
            self.send_json(404, {"message": "Not found"}, {"x-amzn-ErrorType": "UnknownOperationException:"})
            return
        session = m.group(3)
        step = SCRIPT.next(body)
        t = TRUTH_NOW.now
        t["invocations"] += 1
        if "status" in step:
            t["failed_invocations"] += 1
            etype, msg = ERRORS[step["status"]]
            data = json.dumps({"message": msg}).encode()
            self.send_response(step["status"])
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-amzn-requestid", SCRIPT.id("7e2b9c40-0000-4000-8000-"))
            self.send_header("x-amzn-ErrorType", f"{etype}:http://internal.amazon.com/coral/com.amazon.bedrock/")
            self.end_headers()
            self.wfile.write(data)
            return
        frames = self._turn(body, session, step)
        self.send_response(200)
        self.send_header("content-type", "application/vnd.amazon.eventstream")
        self.send_header("x-amzn-requestid", SCRIPT.id("7e2b9c40-0000-4000-8000-"))
        self.send_header("x-amzn-bedrock-agent-content-type", "application/json")
        self.send_header("x-amz-bedrock-agent-session-id", session)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for f in frames:
            self.wfile.write(f"{len(f):x}\r\n".encode() + f + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # ----------------------------------------------------------------------------------------------------
    def _turn(self, body: dict[str, Any], session: str, step: dict[str, Any]) -> list[bytes]:
        """The turn's events: each model invocation's trace events, the tools', the answer's chunks."""
        t = TRUTH_NOW.now
        base = SCRIPT.id("")[-12:]
        trace_uuid = f"{base[:8]}-{base[8:12]}-4c1e-9a7b-{session[-12:].rjust(12, '0')}"
        frames: list[bytes] = []

        def tick(ms: int) -> tuple[str, str, int]:
            """A step of ``ms`` milliseconds, taken here (the answer is sent once the turn is done, so that the
            steps' times lie within the client's call)."""
            start = time.time()
            time.sleep(ms / 1000)
            end = time.time()
            return _iso(start), _iso(end), round((end - start) * 1000)

        def trace(kind: str, part: dict[str, Any]) -> None:
            frames.append(_frame({":event-type": "trace", ":content-type": "application/json",
                                  ":message-type": "event"}, json.dumps({
                                      "agentId": AGENT_ID, "agentAliasId": ALIAS_ID, "agentVersion": "1",
                                      "sessionId": session, "eventTime": _iso(time.time()),
                                      "trace": {kind: part}}).encode()))

        history: list[tuple[str, str]] = list(step.get("history", [])) + [("user", body["inputText"])]
        max_len = step.get("max_length", 2048)
        answer = ""
        for i, inv in enumerate(step["invocations"]):
            pre = inv.get("type") == "PRE_PROCESSING"
            kind = "preProcessingTrace" if pre else "orchestrationTrace"
            trace_id = f"{trace_uuid}-pre-0" if pre else f"{trace_uuid}-{i - int(step.get('pre', False))}"
            prompt = {"system": SYSTEM, "messages": _loose(history)}
            trace(kind, {"modelInvocationInput": {
                "traceId": trace_id, "type": inv.get("type", "ORCHESTRATION"), "text": json.dumps(prompt),
                "foundationModel": MODEL, "promptCreationMode": "DEFAULT", "parserMode": "DEFAULT",
                "inferenceConfiguration": {"maximumLength": max_len, "stopSequences": ["</answer>"],
                                           "temperature": 0.0, "topK": 250, "topP": 1.0}}})
            t["calls"] += 1
            if "fail" in inv:
                t["failed"] += 1
                t["failed_invocations"] += 1
                code = inv["fail"]
                frames.append(_frame({":exception-type": "internalServerException", ":content-type":
                                      "application/json", ":message-type": "exception"}, json.dumps({
                                          "message": ERRORS[code][1],
                                          "reason": "BEDROCK_MODEL_INVOCATION_SERVICE_UNAVAILABLE"}).encode()))
                return frames
            u, stop = inv["usage"], inv["stop"]
            content: list[dict[str, Any]] = [{"type": "text", "text": inv["text"]}]
            tool = inv.get("tool")
            tool_use_id = SCRIPT.id("toolu_bdrk_01")
            if tool:
                content.append({"type": "tool_use", "id": tool_use_id,
                                "name": ORDER_TOOL if tool["kind"] == "action" else KB_TOOL, "input": tool["input"]})
            raw = {"id": SCRIPT.id("msg_bdrk_01"), "type": "message", "role": "assistant", "model": SERVED,
                   "content": content, "stop_reason": stop, "stop_sequence": None,
                   "usage": {"input_tokens": u["in"], "cache_creation_input_tokens": u.get("write", 0),
                             "cache_read_input_tokens": u.get("read", 0), "output_tokens": u["out"]}}
            start, end, ms = tick(60)
            t["uncached_input"] += u["in"]
            t["cache_read"] += u.get("read", 0)
            t["cache_write"] += u.get("write", 0)
            t["output"] += u["out"]
            t["stop_reasons"].append(stop)
            t["models"].append(MODEL)
            output: dict[str, Any] = {"traceId": trace_id, "rawResponse": {"content": json.dumps(raw)},
                                      "metadata": {"clientRequestId": SCRIPT.id("c0ffee00-0000-4000-8000-"),
                                                   "startTime": start, "endTime": end, "totalTimeMs": ms,
                                                   "usage": {"inputTokens": u["in"], "outputTokens": u["out"]}}}
            if pre:
                output["parsedResponse"] = {"isValid": True, "rationale": inv["text"]}
                trace(kind, {"modelInvocationOutput": output})
                continue
            trace(kind, {"modelInvocationOutput": output})
            history.append(("assistant", inv["text"]))
            if tool:
                trace(kind, {"rationale": {"traceId": trace_id, "text": inv["text"]}})
                start, end, ms = tick(20)
                meta = {"clientRequestId": SCRIPT.id("c0ffee00-0000-4000-8000-"), "startTime": start,
                        "endTime": end, "totalTimeMs": ms}
                if tool["kind"] == "action":
                    t["tools"].append("get_order_status")
                    trace(kind, {"invocationInput": {
                        "traceId": trace_id, "invocationType": "ACTION_GROUP", "actionGroupInvocationInput": {
                            "actionGroupName": "OrderActions", "function": "get_order_status",
                            "executionType": "LAMBDA", "parameters": [
                                {"name": k, "type": "string", "value": v} for k, v in tool["input"].items()]}}})
                    trace(kind, {"observation": {"traceId": trace_id, "type": "ACTION_GROUP",
                                                 "actionGroupInvocationOutput": {"text": tool["result"],
                                                                                 "metadata": meta}}})
                else:
                    t["tools"].append(KB_ID)
                    trace(kind, {"invocationInput": {
                        "traceId": trace_id, "invocationType": "KNOWLEDGE_BASE", "knowledgeBaseLookupInput": {
                            "knowledgeBaseId": KB_ID, "text": tool["input"]["searchQuery"]}}})
                    trace(kind, {"observation": {"traceId": trace_id, "type": "KNOWLEDGE_BASE",
                                                 "knowledgeBaseLookupOutput": {"metadata": meta, "retrievedReferences": [
                                                     {"content": {"text": r, "type": "TEXT"},
                                                      "location": {"type": "S3", "s3Location": {
                                                          "uri": f"s3://acme-kb/orders/{n}.txt"}},
                                                      "metadata": {"x-amz-bedrock-kb-chunk-id": f"chunk-{n}",
                                                                   "x-amz-bedrock-kb-source-uri":
                                                                       f"s3://acme-kb/orders/{n}.txt"}}
                                                     for n, r in enumerate(tool["result"])]}}})
                history.append(("user", f"tool result: {tool['result']}"))
                continue
            answer = inv["text"]
            trace(kind, {"observation": {"traceId": trace_id, "type": "FINISH", "finalResponse": {
                "text": answer, "metadata": {"startTime": end, "endTime": end, "operationTotalTimeMs": ms}}}})
        pieces = [answer]
        if (body.get("streamingConfigurations") or {}).get("streamFinalResponse"):
            words = answer.split(" ")
            pieces = [" ".join(words[j:j + 4]) + (" " if j + 4 < len(words) else "") for j in range(0, len(words), 4)]
        for p in pieces:
            frames.append(_frame({":event-type": "chunk", ":content-type": "application/json",
                                  ":message-type": "event"},
                                 json.dumps({"bytes": base64.b64encode(p.encode()).decode()}).encode()))
        return frames


# --------------------------------------------------------------------------------------------------------
# scenarios
# --------------------------------------------------------------------------------------------------------

KB_REFS = ["Order A-1001: shipped 2025-03-03 via UPS; tracking 1Z999; delivery expected 2025-03-06.",
           "Shipping policy: orders ship within two business days of payment."]


def run(source: str) -> None:
    loopback_only()
    os.environ.update({"AWS_ACCESS_KEY_ID": "AKIDFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake-secret",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"})
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(k, None)
    rec = Recorder(source, TRUTH, TRUTH_NOW.begin, lambda: TRUTH_NOW.by_scenario, HERE)
    from openinference.instrumentation.bedrock import BedrockInstrumentor

    BedrockInstrumentor().instrument(tracer_provider=rec.tp)  # content is captured by default (TraceConfig)
    srv = serve(AgentHandler)
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError, EventStreamError
    from opentelemetry import trace

    client = boto3.client("bedrock-agent-runtime", region_name="us-east-1",
                          endpoint_url=f"http://127.0.0.1:{srv.server_address[1]}",
                          config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))

    def ask(session: str, text: str, **kw: Any) -> str:
        r = client.invoke_agent(agentId=AGENT_ID, agentAliasId=ALIAS_ID, sessionId=session, inputText=text,
                                enableTrace=True, **kw)
        out = ""
        for ev in r["completion"]:
            if "chunk" in ev:
                out += ev["chunk"]["bytes"].decode()
        return out

    # healthy: two turns of one session; the first searches the knowledge base
    SCRIPT[:] = [{"invocations": [
        {"usage": {"in": 1450, "out": 62}, "stop": "tool_use", "text": "I will search the order records.",
         "tool": {"kind": "kb", "input": {"searchQuery": "order A-1001 status"}, "result": KB_REFS}},
        {"usage": {"in": 1980, "out": 48}, "stop": "end_turn",
         "text": "Order A-1001 shipped on March 3 and arrives March 6."}]},
        {"history": [("user", Q1), ("assistant", "Order A-1001 shipped on March 3 and arrives March 6.")],
         "invocations": [{"usage": {"in": 1620, "out": 35}, "stop": "end_turn",
                          "text": "I have no record of order A-1002 yet."}]}]
    with rec.root("healthy", "support-triage"):
        ask("sess-healthy-0001", Q1)
        ask("sess-healthy-0001", Q2)
    rec.flush("healthy")

    # cached: the agent's long prompt prefix is cached: written by the first session, read by the second
    SCRIPT[:] = [{"invocations": [{"usage": {"in": 120, "out": 30, "write": 2048}, "stop": "end_turn",
                                   "text": "Refunds are processed within 5 business days."}]},
                 {"invocations": [{"usage": {"in": 110, "out": 28, "read": 2048}, "stop": "end_turn",
                                   "text": "Refunds are processed within 5 business days."}]}]
    with rec.root("cached", "policy-qa"):
        ask("sess-cached-0001", "How long do refunds take?")
        ask("sess-cached-0002", "How long does a refund take?")
    rec.flush("cached")

    # streaming: the final response streamed; the second cut at the agent's maximumLength
    SCRIPT[:] = [{"invocations": [{"usage": {"in": 900, "out": 70}, "stop": "end_turn",
                                   "text": "Your order A-1001 shipped yesterday and should arrive within three "
                                           "business days."}]},
                 {"max_length": 64, "invocations": [{"usage": {"in": 950, "out": 64}, "stop": "max_tokens",
                                                     "text": "Here is a detailed history of every shipment event "
                                                             "recorded for order A-1002 so far"}]}]
    with rec.root("streaming", "order-updates"):
        stream = {"streamingConfigurations": {"streamFinalResponse": True}}
        ask("sess-stream-0001", Q1, **stream)
        ask("sess-stream-0002", Q2 + " List every shipment event.", **stream)
    rec.flush("streaming")

    # tool_use: pre-processing on, then the action group's function, then the answer
    SCRIPT[:] = [{"pre": True, "invocations": [
        {"type": "PRE_PROCESSING", "usage": {"in": 700, "out": 40}, "stop": "end_turn",
         "text": "The user asks about an order: category D, a valid request."},
        {"usage": {"in": 1500, "out": 55}, "stop": "tool_use", "text": "Let me check that order.",
         "tool": {"kind": "action", "input": {"order_id": "A-1001"}, "result": '{"status": "shipped"}'}},
        {"usage": {"in": 1610, "out": 38}, "stop": "end_turn", "text": "Order A-1001 has shipped."}]}]
    with rec.root("tool_use", "order-agent"):
        ask("sess-tool-0001", Q1)
    rec.flush("tool_use")

    # errors: throttled at the front door (429), then a 500 inside the stream, then the turn succeeds
    SCRIPT[:] = [{"status": 429}, {"invocations": [{"fail": 500}]},
                 {"invocations": [{"usage": {"in": 1300, "out": 30}, "stop": "end_turn",
                                   "text": "Order A-1002 is being packed."}]}]
    with rec.root("errors", "account-help"):
        for attempt in range(1, 4):
            try:
                ask(f"sess-errors-000{attempt}", Q2)
                break
            except (ClientError, EventStreamError) as exc:
                trace.get_current_span().add_event("app.retry", {"app.attempt": attempt,
                                                                 "app.error": exc.response["Error"]["Code"]})
    rec.flush("errors")

    # duplicate: the identical question twice, the identical answer
    same = {"invocations": [{"usage": {"in": 1250, "out": 33}, "stop": "end_turn",
                             "text": "Order A-1001 shipped on Monday."}]}
    SCRIPT[:] = [same, same]
    with rec.root("duplicate", "faq"):
        for n in (1, 2):
            ask(f"sess-dup-000{n}", Q1)
    rec.flush("duplicate")

    assert not SCRIPT, f"unused answers: {SCRIPT}"
    from importlib.metadata import version

    rec.write(extra={"versions": {p: version(p) for p in (
        "openinference-instrumentation-bedrock", "openinference-instrumentation", "boto3", "botocore",
        "opentelemetry-sdk")}})
    srv.shutdown()
    if REFUSED:
        print("refused:", REFUSED)


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SOURCES:
        raise SystemExit(f"usage: generate.py {{{','.join(SOURCES)}}}")
    run(sys.argv[1])
