"""Fake Gemini + Bedrock Runtime server for the jsgem generator (loopback only, stdlib only).

../js4/fake_server.py (Gemini ``generateContent`` / ``streamGenerateContent``, Bedrock ``converse`` /
``converse-stream``; the plan protocol and served-request truth of ../vercel_ai/fake_server.py), plus the two
InvokeModel routes OpenLLMetry JS's Bedrock instrumentation reads usage from:

* ``/model/{id}/invoke``: ``BedrockHandler._invoke`` of ../bedrock/generate.py (Anthropic Messages body: usage
  ``input_tokens`` leaves ``cache_read_input_tokens`` / ``cache_creation_input_tokens`` out);
* ``/model/{id}/invoke-with-response-stream``: AWS event-stream ``chunk`` events, each ``{"bytes": base64}`` of one
  Anthropic Messages stream event (message_start with the input usage, content_block_delta text pieces,
  message_delta with stop_reason and output_tokens, message_stop with ``amazon-bedrock-invocationMetrics``
  ``inputTokenCount`` / ``outputTokenCount``, as Bedrock appends it: Bedrock user guide, "InvokeModelWithResponseStream").

Run: ``python fake_server.py PORT`` (prints ``READY`` once listening).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

GEN = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


js4 = _load("fixgen_js4_fake", GEN / "js4" / "fake_server.py")
vs, br = js4.vs, js4.br
INVOKE = re.compile(r"^/model/([^/]+)/(invoke|invoke-with-response-stream)$")


class Handler(js4.Handler):
    def _as(self, cls: type, method: str) -> None:
        """js4's, coming back to this class (keep-alive: the next request is dispatched here again)."""
        self.__class__ = cls
        try:
            getattr(self, method)()
        finally:
            self.__class__ = Handler

    def do_POST(self) -> None:
        m = INVOKE.match(self.path.split("?", 1)[0])
        if not m:
            super().do_POST()
            return
        with vs.LOCK:
            pid = self.headers.get("x-fixgen-plan") or "default"
            idx = vs.COUNTERS.get(pid, 0)
            vs.COUNTERS[pid] = idx + 1
            s = {"status": 200, "input": 50, "cache_read": 0, "cache_write": 0, "output": 10, "reasoning": 0,
                 "finish": "stop", "text": "OK.", **vs.PLANS[pid][min(idx, len(vs.PLANS[pid]) - 1)]}
        model, op = unquote(m.group(1)), m.group(2)
        rec = {"scenario": self.headers.get("x-fixgen-scenario", ""), "plan": pid, "n": idx,
               "route": "bedrock:" + op, "model": model, "stream": op != "invoke", "status": s["status"],
               **({k: 0 for k in ("input", "cache_read", "cache_write", "output", "reasoning")} if s["status"] != 200
                  else {k: s[k] for k in ("input", "cache_read", "cache_write", "output", "reasoning", "finish")})}
        with vs.LOCK:
            vs.TRUTH.append(rec)
        br.TRUTH_NOW.begin(rec["scenario"])
        br.SCRIPT[:] = [js4.bedrock_step(s)]
        if op == "invoke":
            self._as(br.BedrockHandler, "do_POST")
            return
        self._stream(model, br.SCRIPT.next())

    def _stream(self, model: str, step: dict[str, Any]) -> None:
        self.read_json()
        if "status" in step:
            etype, msg = br.ERRORS[step["status"]]
            data = json.dumps({"message": msg}).encode()
            self.send_response(step["status"])
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("x-amzn-ErrorType", f"{etype}:http://internal.amazon.com/coral/com.amazon.bedrock/")
            self.end_headers()
            self.wfile.write(data)
            return
        u, stop = step["usage"], step["stop"]
        events: list[dict[str, Any]] = [
            {"type": "message_start", "message": {
                "id": br.SCRIPT.id("msg_bdrk_01"), "type": "message", "role": "assistant",
                "model": br.SERVED.get(model, model), "content": [], "stop_reason": None,
                "usage": {"input_tokens": u["in"], "cache_creation_input_tokens": u["write"],
                          "cache_read_input_tokens": u["read"], "output_tokens": 1}}},
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}]
        words = step.get("text", "").split(" ")
        for j in range(0, len(words), 3):
            piece = " ".join(words[j:j + 3]) + (" " if j + 3 < len(words) else "")
            events.append({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}})
        events += [{"type": "content_block_stop", "index": 0},
                   {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": u["out"]}},
                   {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
                       "inputTokenCount": u["in"], "outputTokenCount": u["out"], "invocationLatency": 512,
                       "firstByteLatency": 210}}]
        self.send_response(200)
        self.send_header("content-type", "application/vnd.amazon.eventstream")
        self.send_header("x-amzn-requestid", br.SCRIPT.id("5c1d7a0e-0000-4000-8000-"))
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for ev in events:
            f = br._event("chunk", {"bytes": base64.b64encode(json.dumps(ev).encode()).decode()})
            self.wfile.write(f"{len(f):x}\r\n".encode() + f + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def main() -> None:
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(f"READY {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
