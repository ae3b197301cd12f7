"""Fake Bedrock Runtime InvokeModel server (Anthropic Claude bodies) for the js5 generator (loopback only, stdlib).

The plan protocol and the served-request truth are ../vercel_ai/fake_server.py's (``POST /_plan``, the
``x-fixgen-scenario`` / ``x-fixgen-plan`` headers, ``GET /_truth``: input includes cache, output reasoning), every
other route ../js4/fake_server.py's. Added here: ``/model/{id}/invoke`` and ``invoke-with-response-stream``
answered as Claude on Bedrock does (the Anthropic Messages response; usage.input_tokens leaves
cache_read / cache_creation_input_tokens out; the stream as AWS event-stream ``chunk`` events, each
``{"bytes": base64(Anthropic stream event)}``, the last one with ``amazon-bedrock-invocationMetrics``), errors as
../bedrock/generate.py's (ThrottlingException / InternalServerException in x-amzn-ErrorType).

Run: ``python fake_server.py PORT`` (prints ``READY`` once listening).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

_spec = importlib.util.spec_from_file_location("fixgen_js4_server", Path(__file__).resolve().parents[1] / "js4" / "fake_server.py")
js4 = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(js4)  # type: ignore[union-attr]
vs, br = js4.vs, js4.br
STOP = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}


class Handler(js4.Handler):
    def do_POST(self) -> None:
        m = re.match(r"^/model/([^/]+)/(invoke|invoke-with-response-stream)$", self.path.split("?", 1)[0])
        if not m:
            super().do_POST()
            return
        self.read_json()
        s = {"status": 200, "input": 50, "cache_read": 0, "cache_write": 0, "output": 10, "reasoning": 0,
             "finish": "stop", "text": "OK.", **self._step()}
        model, stream = unquote(m.group(1)), m.group(2) != "invoke"
        ok = s["status"] == 200
        with vs.LOCK:
            vs.TRUTH.append({"scenario": self.headers.get("x-fixgen-scenario", ""), "route": "bedrock:" + m.group(2),
                             "model": model, "stream": stream, "status": s["status"],
                             **{k: s[k] if ok else 0 for k in ("input", "cache_read", "cache_write", "output",
                                                              "reasoning")}, **({"finish": s["finish"]} if ok else {})})
        if not ok:
            etype, msg = br.ERRORS[s["status"]]
            self._bytes(s["status"], json.dumps({"message": msg}).encode(), {
                "content-type": "application/json",
                "x-amzn-ErrorType": f"{etype}:http://internal.amazon.com/coral/com.amazon.bedrock/"})
            return
        usage = {"input_tokens": s["input"] - s["cache_read"] - s["cache_write"],
                 "cache_creation_input_tokens": s["cache_write"], "cache_read_input_tokens": s["cache_read"],
                 "output_tokens": s["output"]}
        block = ({"type": "tool_use", "id": br.SCRIPT.id("toolu_bdrk_01"), "name": s["tool"]["name"],
                  "input": s["tool"]["args"]} if s["finish"] == "tool" else {"type": "text", "text": s["text"]})
        msg_id = br.SCRIPT.id("msg_bdrk_01")
        if not stream:
            self._bytes(200, json.dumps({"id": msg_id, "type": "message", "role": "assistant", "model": model,
                                         "content": [block], "stop_reason": STOP[s["finish"]], "stop_sequence": None,
                                         "usage": usage}).encode(), {"content-type": "application/json"})
            return
        events: list[dict[str, Any]] = [
            {"type": "message_start", "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model,
                                                  "content": [], "stop_reason": None,
                                                  "usage": {**usage, "output_tokens": 1}}},
            {"type": "content_block_start", "index": 0, "content_block": {**block, "text": ""}},
            *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w + " "}}
              for w in s["text"].split(" ")),
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": {"stop_reason": STOP[s["finish"]], "stop_sequence": None},
             "usage": {"output_tokens": s["output"]}},
            {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": usage["input_tokens"], "outputTokenCount": s["output"], "invocationLatency": 530,
                "firstByteLatency": 120}}]
        frames = b"".join(br._frame({":event-type": "chunk", ":content-type": "application/json",
                                     ":message-type": "event"},
                                    json.dumps({"bytes": base64.b64encode(json.dumps(e).encode()).decode()}).encode())
                          for e in events)
        self._bytes(200, frames, {"content-type": "application/vnd.amazon.eventstream"})

    def _step(self) -> dict[str, Any]:
        with vs.LOCK:
            pid = self.headers.get("x-fixgen-plan") or "default"
            idx = vs.COUNTERS.get(pid, 0)
            vs.COUNTERS[pid] = idx + 1
            return dict(vs.PLANS[pid][min(idx, len(vs.PLANS[pid]) - 1)])

    def _bytes(self, code: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(code)
        self.send_header("content-length", str(len(body)))
        self.send_header("x-amzn-requestid", br.SCRIPT.id("5c1d7a0e-0000-4000-8000-"))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    js4.Handler = Handler  # js4's main serves its module's Handler: this one, which hands it every other route
    js4.main()
