"""Fake Bedrock Runtime + OpenAI-shaped + Cohere v1 server for the jsmore generator (loopback only, stdlib only).

../jsgem/fake_server.py unchanged (Bedrock ``converse`` / ``converse-stream`` / ``invoke`` /
``invoke-with-response-stream``, Anthropic Claude bodies; every other route goes on to ../vercel_ai/fake_server.py:
``/v1/chat/completions`` is the OpenAI-shaped chat Together's API speaks, and the plan protocol ``POST /_plan`` /
``GET /_truth``), plus Cohere's v1 Chat API:

* ``/v1/chat``: a NonStreamedChatResponse (Cohere API reference "Chat (v1)"; cohere-ai 8.1.0
  serialization/types/NonStreamedChatResponse.js: ``text``, ``generation_id``, ``finish_reason`` COMPLETE /
  MAX_TOKENS, ``tool_calls`` ``[{name, parameters}]``, ``meta`` ApiMeta: ``billed_units`` and ``tokens``
  ``{input_tokens, output_tokens}``, ``cached_tokens``); ``"stream": true``: newline-delimited JSON events
  (Client.js chatStream: ``eventShape {type: "json", messageTerminator: "\\n"}``) ``stream-start``,
  ``text-generation`` pieces / ``tool-calls-generation``, ``stream-end`` with the whole response. Errors: 429 / 500
  with ``{"message"}`` (TooManyRequestsError / InternalServerError).

Run: ``python fake_server.py PORT`` (prints ``READY`` once listening).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

GEN = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


jsgem = _load("fixgen_jsgem_fake", GEN / "jsgem" / "fake_server.py")
vs = jsgem.vs
COHERE_FINISH = {"stop": "COMPLETE", "length": "MAX_TOKENS", "tool": "COMPLETE"}
COHERE_ERRORS = {429: "You are using a Trial key, which is limited to 10 API calls / minute.",
                 500: "internal server error, this has been reported to our developers"}


class Handler(jsgem.Handler):
    def _as(self, cls: type, method: str) -> None:
        """jsgem's and js4's, coming back to this class (keep-alive: the next request is dispatched here again)."""
        self.__class__ = cls
        try:
            getattr(self, method)()
        finally:
            self.__class__ = Handler

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/v1/chat":
            super().do_POST()
            return
        req = self.read_json()
        with vs.LOCK:
            pid = self.headers.get("x-fixgen-plan") or "default"
            idx = vs.COUNTERS.get(pid, 0)
            vs.COUNTERS[pid] = idx + 1
            s = {"status": 200, "input": 50, "cache_read": 0, "cache_write": 0, "output": 10, "reasoning": 0,
                 "finish": "stop", "text": "OK.", **vs.PLANS[pid][min(idx, len(vs.PLANS[pid]) - 1)]}
        stream = bool(req.get("stream"))
        rec = {"scenario": self.headers.get("x-fixgen-scenario", ""), "plan": pid, "n": idx, "route": "cohere:/v1/chat",
               "model": req.get("model", "command"), "stream": stream, "status": s["status"],
               **({k: 0 for k in ("input", "cache_read", "cache_write", "output", "reasoning")} if s["status"] != 200
                  else {k: s[k] for k in ("input", "cache_read", "cache_write", "output", "reasoning", "finish")})}
        with vs.LOCK:
            vs.TRUTH.append(rec)
        if s["status"] != 200:
            self.send_json(s["status"], {"id": f"err-fake-{s['status']}", "message": COHERE_ERRORS[s["status"]]})
            return
        gid = vs._next_id("5c1d7a0e-0000-4000-8000-")
        meta: dict[str, Any] = {"api_version": {"version": "1"},
                                "billed_units": {"input_tokens": s["input"], "output_tokens": s["output"]},
                                "tokens": {"input_tokens": s["input"], "output_tokens": s["output"]}}
        if s["cache_read"]:
            meta["cached_tokens"] = s["cache_read"]
        resp: dict[str, Any] = {"response_id": vs._next_id("c0be7e1d-0000-4000-8000-"), "text": "",
                                "generation_id": gid, "finish_reason": COHERE_FINISH[s["finish"]], "meta": meta}
        if s["finish"] == "tool":
            resp["text"] = "I will look up the order status."
            resp["tool_calls"] = [{"name": s["tool"]["name"], "parameters": s["tool"]["args"]}]
        else:
            resp["text"] = s["text"]
        if not stream:
            self.send_json(200, resp)
            return
        events: list[dict[str, Any]] = [{"is_finished": False, "event_type": "stream-start", "generation_id": gid}]
        words = resp["text"].split(" ")
        for j in range(0, len(words), 3):
            events.append({"is_finished": False, "event_type": "text-generation",
                           "text": " ".join(words[j:j + 3]) + (" " if j + 3 < len(words) else "")})
        if resp.get("tool_calls"):
            events.append({"is_finished": False, "event_type": "tool-calls-generation", "text": resp["text"],
                           "tool_calls": resp["tool_calls"]})
        events.append({"is_finished": True, "event_type": "stream-end", "finish_reason": resp["finish_reason"],
                       "response": resp})
        self.send_response(200)
        self.send_header("content-type", "application/stream+json")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for ev in events:
            line = json.dumps(ev).encode() + b"\n"
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def main() -> None:
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(f"READY {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
