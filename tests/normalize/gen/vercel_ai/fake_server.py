"""Fake OpenAI + Anthropic HTTP server for the Vercel AI SDK span generator (loopback only, stdlib only).

Routes: POST /v1/chat/completions, /v1/responses, /v1/embeddings (OpenAI) and /v1/messages (Anthropic),
JSON or SSE (``"stream": true``). The generator scripts every answer through request headers:

* ``x-fixgen-scenario``: scenario name (ground truth is grouped by it);
* ``x-fixgen-plan``: a plan id, registered before by ``POST /_plan`` with JSON ``{"id": str, "steps": [step, ...]}``
  (kept out of the headers, which the SDK records as ``ai.request.headers.*``); the n-th request with that id
  gets ``steps[min(n, len - 1)]``. A step: ``{"status": 200|429|500, "input": int (incl. cache), "cache_read": int,
  "cache_write": int, "output": int (incl. reasoning), "reasoning": int, "finish": "stop"|"length"|"tool",
  "text": str, "tool": {"name": str, "args": {...}}, "retry_after": str}``.

``GET /_truth`` returns what was served: per scenario, every request with its status and token counts in
one convention (input includes cache, output includes reasoning), whatever the wire format says.
Run: ``python fake_server.py PORT`` (prints ``READY`` once listening).
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOCK = threading.Lock()
COUNTERS: dict[str, int] = {}
PLANS: dict[str, list[dict[str, Any]]] = {"default": [{}]}
TRUTH: list[dict[str, Any]] = []
SEQ = [0]


def _next_id(prefix: str) -> str:
    with LOCK:
        SEQ[0] += 1
        return f"{prefix}{SEQ[0]:06d}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/_truth":
            with LOCK:
                body = json.dumps(TRUTH).encode()
            self._send(200, body, "application/json")
        else:
            self._send(404, b"{}", "application/json")

    def _send(self, code: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _sse(self, events: list[tuple[str | None, dict[str, Any] | str]]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        for name, data in events:
            chunk = (f"event: {name}\n" if name else "") + "data: " + (
                data if isinstance(data, str) else json.dumps(data)) + "\n\n"
            self.wfile.write(chunk.encode())
            self.wfile.flush()
        self.close_connection = True

    def do_POST(self) -> None:
        n = int(self.headers.get("content-length") or 0)
        req = json.loads(self.rfile.read(n) or b"{}")
        if self.path == "/_plan":
            with LOCK:
                PLANS[req["id"]] = req["steps"]
            self._send(200, b"{}", "application/json")
            return
        scenario = self.headers.get("x-fixgen-scenario", "")
        with LOCK:
            pid = self.headers.get("x-fixgen-plan") or "default"
            plan = {"id": pid, "steps": PLANS[pid]}
            idx = COUNTERS.get(plan["id"], 0)
            COUNTERS[plan["id"]] = idx + 1
        step = {"status": 200, "input": 50, "cache_read": 0, "cache_write": 0, "output": 10, "reasoning": 0,
                "finish": "stop", "text": "OK."}
        step.update(plan["steps"][min(idx, len(plan["steps"]) - 1)])
        route = self.path.split("?", 1)[0]
        stream = bool(req.get("stream"))
        model = req.get("model", "unknown")
        rec = {"scenario": scenario, "plan": plan["id"], "n": idx, "route": route, "model": model,
               "stream": stream, "status": step["status"]}
        if step["status"] != 200:
            rec.update(input=0, cache_read=0, cache_write=0, output=0, reasoning=0)
            with LOCK:
                TRUTH.append(rec)
            extra = {"retry-after": step["retry_after"]} if step.get("retry_after") else {}
            if route == "/v1/messages":
                etype = "rate_limit_error" if step["status"] == 429 else "api_error"
                body = {"type": "error", "error": {"type": etype, "message": f"fake {step['status']}"}}
            else:
                body = {"error": {"message": f"fake {step['status']}", "type": "rate_limit_exceeded"
                                  if step["status"] == 429 else "server_error", "param": None, "code": None}}
            self._send(step["status"], json.dumps(body).encode(), "application/json", extra)
            return
        if route == "/v1/embeddings":
            inputs = req.get("input")
            inputs = inputs if isinstance(inputs, list) else [inputs]
            rec.update(input=step["input"], cache_read=0, cache_write=0, output=0, reasoning=0,
                       n_inputs=len(inputs))
            with LOCK:
                TRUTH.append(rec)
            body = {"object": "list", "model": model,
                    "data": [{"object": "embedding", "index": k, "embedding": [0.01 * (k + 1), 0.02, -0.03, 0.04]}
                             for k in range(len(inputs))],
                    "usage": {"prompt_tokens": step["input"], "total_tokens": step["input"]}}
            self._send(200, json.dumps(body).encode(), "application/json")
            return
        rec.update(input=step["input"], cache_read=step["cache_read"], cache_write=step["cache_write"],
                   output=step["output"], reasoning=step["reasoning"], finish=step["finish"])
        with LOCK:
            TRUTH.append(rec)
        if route == "/v1/chat/completions":
            self._chat(step, model, stream)
        elif route == "/v1/responses":
            self._responses(step, model, stream)
        elif route == "/v1/messages":
            self._messages(step, model, stream)
        else:
            self._send(404, b'{"error": {"message": "no route"}}', "application/json")

    # --- OpenAI Chat Completions ------------------------------------------------------------------
    def _chat(self, s: dict[str, Any], model: str, stream: bool) -> None:
        rid = _next_id("chatcmpl-fake")
        finish = {"stop": "stop", "length": "length", "tool": "tool_calls"}[s["finish"]]
        usage = {"prompt_tokens": s["input"], "completion_tokens": s["output"],
                 "total_tokens": s["input"] + s["output"],
                 "prompt_tokens_details": {"cached_tokens": s["cache_read"], "audio_tokens": 0},
                 "completion_tokens_details": {"reasoning_tokens": s["reasoning"], "audio_tokens": 0,
                                               "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
        tool_calls = None
        if s["finish"] == "tool":
            tool_calls = [{"index": 0, "id": _next_id("call_fake"), "type": "function",
                           "function": {"name": s["tool"]["name"], "arguments": json.dumps(s["tool"]["args"])}}]
        if not stream:
            msg: dict[str, Any] = {"role": "assistant", "content": None if tool_calls else s["text"]}
            if tool_calls:
                msg["tool_calls"] = [{k: v for k, v in t.items() if k != "index"} for t in tool_calls]
            body = {"id": rid, "object": "chat.completion", "created": 1767225600, "model": model,
                    "system_fingerprint": "fp_fake", "choices": [{"index": 0, "message": msg,
                                                                  "finish_reason": finish}], "usage": usage}
            self._send(200, json.dumps(body).encode(), "application/json")
            return
        base = {"id": rid, "object": "chat.completion.chunk", "created": 1767225600, "model": model,
                "system_fingerprint": "fp_fake"}
        ev: list[tuple[str | None, dict[str, Any] | str]] = [
            (None, {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                         "finish_reason": None}]})]
        if tool_calls:
            ev.append((None, {**base, "choices": [{"index": 0, "delta": {"tool_calls": tool_calls},
                                                   "finish_reason": None}]}))
        else:
            for word in s["text"].split(" "):
                ev.append((None, {**base, "choices": [{"index": 0, "delta": {"content": word + " "},
                                                       "finish_reason": None}]}))
        ev.append((None, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}))
        ev.append((None, {**base, "choices": [], "usage": usage}))
        ev.append((None, "[DONE]"))
        self._sse(ev)

    # --- OpenAI Responses -------------------------------------------------------------------------
    def _responses(self, s: dict[str, Any], model: str, stream: bool) -> None:
        rid = _next_id("resp_fake")
        usage = {"input_tokens": s["input"], "input_tokens_details": {"cached_tokens": s["cache_read"]},
                 "output_tokens": s["output"], "output_tokens_details": {"reasoning_tokens": s["reasoning"]},
                 "total_tokens": s["input"] + s["output"]}
        incomplete = {"reason": "max_output_tokens"} if s["finish"] == "length" else None
        output: list[dict[str, Any]] = []
        if s["reasoning"]:
            output.append({"type": "reasoning", "id": _next_id("rs_fake"), "summary": []})
        if s["finish"] == "tool":
            output.append({"type": "function_call", "id": _next_id("fc_fake"), "call_id": _next_id("call_fake"),
                           "name": s["tool"]["name"], "arguments": json.dumps(s["tool"]["args"]),
                           "status": "completed"})
        else:
            output.append({"type": "message", "id": _next_id("msg_fake"), "role": "assistant", "status": "completed",
                           "content": [{"type": "output_text", "text": s["text"], "annotations": []}]})
        resp = {"id": rid, "object": "response", "created_at": 1767225600, "model": model,
                "status": "incomplete" if incomplete else "completed", "output": output, "usage": usage,
                "incomplete_details": incomplete, "error": None}
        if not stream:
            self._send(200, json.dumps(resp).encode(), "application/json")
            return
        seq = iter(range(1000))
        ev: list[tuple[str | None, dict[str, Any] | str]] = [
            ("response.created", {"type": "response.created", "sequence_number": next(seq),
                                  "response": {**resp, "status": "in_progress", "output": [], "usage": None}})]
        for k, item in enumerate(output):
            added = dict(item)
            if item["type"] == "message":
                added = {**item, "content": [], "status": "in_progress"}
            ev.append(("response.output_item.added", {"type": "response.output_item.added",
                                                      "sequence_number": next(seq), "output_index": k,
                                                      "item": added}))
            if item["type"] == "message":
                for word in s["text"].split(" "):
                    ev.append(("response.output_text.delta", {
                        "type": "response.output_text.delta", "sequence_number": next(seq), "item_id": item["id"],
                        "output_index": k, "content_index": 0, "delta": word + " ", "logprobs": []}))
            ev.append(("response.output_item.done", {"type": "response.output_item.done",
                                                     "sequence_number": next(seq), "output_index": k,
                                                     "item": item}))
        kind = "response.incomplete" if incomplete else "response.completed"
        ev.append((kind, {"type": kind, "sequence_number": next(seq), "response": resp}))
        self._sse(ev)

    # --- Anthropic Messages ----------------------------------------------------------------------------
    def _messages(self, s: dict[str, Any], model: str, stream: bool) -> None:
        mid = _next_id("msg_fake")
        uncached = s["input"] - s["cache_read"] - s["cache_write"]  # Anthropic's input_tokens: cache excluded
        usage = {"input_tokens": uncached, "cache_creation_input_tokens": s["cache_write"],
                 "cache_read_input_tokens": s["cache_read"], "output_tokens": s["output"]}
        stop = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}[s["finish"]]
        if s["finish"] == "tool":
            content = [{"type": "tool_use", "id": _next_id("toolu_fake"), "name": s["tool"]["name"],
                        "input": s["tool"]["args"]}]
        else:
            content = [{"type": "text", "text": s["text"]}]
        if not stream:
            body = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": content,
                    "stop_reason": stop, "stop_sequence": None, "usage": usage}
            self._send(200, json.dumps(body).encode(), "application/json")
            return
        ev: list[tuple[str | None, dict[str, Any] | str]] = [
            ("message_start", {"type": "message_start", "message": {
                "id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}})]
        block = content[0]
        if block["type"] == "text":
            ev.append(("content_block_start", {"type": "content_block_start", "index": 0,
                                               "content_block": {"type": "text", "text": ""}}))
            ev.append(("ping", {"type": "ping"}))
            for word in s["text"].split(" "):
                ev.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                   "delta": {"type": "text_delta", "text": word + " "}}))
        else:
            ev.append(("content_block_start", {"type": "content_block_start", "index": 0,
                                               "content_block": {**block, "input": {}}}))
            ev.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(block["input"])}}))
        ev.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        # message_delta's usage is cumulative (Anthropic streaming docs): the final output count
        ev.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                     "usage": {"output_tokens": s["output"]}}))
        ev.append(("message_stop", {"type": "message_stop"}))
        self._sse(ev)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"READY {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
