"""Fake Gemini + Bedrock Runtime server for the js4 generator (loopback only, stdlib only).

The plan protocol and the served-request truth are ../vercel_ai/fake_server.py's (``POST /_plan``, the
``x-fixgen-scenario`` / ``x-fixgen-plan`` headers, ``GET /_truth``: input includes cache, output reasoning);
the wire formats are the existing generators' fake servers, fed one step at a time:

* ``/v1beta/models/{model}:generateContent`` / ``:streamGenerateContent?alt=sse``: ``GeminiHandler`` of
  ../gemini_langchain/generate.py (usageMetadata: promptTokenCount includes cachedContentTokenCount,
  candidatesTokenCount excludes thoughtsTokenCount; 429 RESOURCE_EXHAUSTED / 500 INTERNAL error JSON);
* ``/model/{id}/converse`` / ``converse-stream``: ``BedrockHandler`` of ../bedrock/generate.py (Converse
  TokenUsage: inputTokens leaves cacheRead/cacheWriteInputTokens out; AWS event-stream; ThrottlingException /
  InternalServerException in x-amzn-ErrorType).

Run: ``python fake_server.py PORT`` (prints ``READY`` once listening).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

GEN = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(GEN))
sys.path.insert(0, str(GEN / "vercel_ai"))
import fake_server as vs
from capture import JSONHandler


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


gl = _load("fixgen_gemini_langchain", GEN / "gemini_langchain" / "generate.py")
br = _load("fixgen_bedrock", GEN / "bedrock" / "generate.py")
GEMINI_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool": "STOP"}
BEDROCK_STOP = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}


def gemini_step(s: dict[str, Any]) -> dict[str, Any]:
    if s["status"] != 200:
        return {"status": s["status"], "message": f"fake {s['status']}"}
    out = {"usage": gl.gemini_usage(s["input"], s["output"] - s["reasoning"], s["cache_read"], s["reasoning"]),
           "finish": GEMINI_FINISH[s["finish"]], "text": s["text"]}
    if s["finish"] == "tool":
        out["function_call"] = s["tool"]
    return out


def bedrock_step(s: dict[str, Any]) -> dict[str, Any]:
    if s["status"] != 200:
        return {"status": s["status"]}
    u = {"in": s["input"] - s["cache_read"] - s["cache_write"], "out": s["output"], "read": s["cache_read"],
         "write": s["cache_write"]}
    if s["finish"] == "tool":
        return {"usage": u, "stop": "tool_use", "tool_use": {"name": s["tool"]["name"], "input": s["tool"]["args"]}}
    return {"usage": u, "stop": BEDROCK_STOP[s["finish"]], "text": s["text"]}


class Handler(JSONHandler):
    def _as(self, cls: type, method: str) -> None:
        """Answer this request as ``cls`` would (keep-alive: the next one on the connection is dispatched again)."""
        self.__class__ = cls
        try:
            getattr(self, method)()
        finally:
            self.__class__ = Handler

    def do_GET(self) -> None:
        self._as(vs.Handler, "do_GET")  # GET /_truth

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        gemini = re.match(r"^/v1beta/models/([^:/]+):(generateContent|streamGenerateContent)$", path)
        bedrock = re.match(r"^/model/([^/]+)/(converse|converse-stream)$", path)
        if not (gemini or bedrock):  # /_plan (and 404s)
            self._as(vs.Handler, "do_POST")
            return
        with vs.LOCK:
            pid = self.headers.get("x-fixgen-plan") or "default"
            idx = vs.COUNTERS.get(pid, 0)
            vs.COUNTERS[pid] = idx + 1
            s = {"status": 200, "input": 50, "cache_read": 0, "cache_write": 0, "output": 10, "reasoning": 0,
                 "finish": "stop", "text": "OK.", **vs.PLANS[pid][min(idx, len(vs.PLANS[pid]) - 1)]}
        from urllib.parse import unquote

        m = gemini or bedrock
        assert m is not None
        rec = {"scenario": self.headers.get("x-fixgen-scenario", ""), "plan": pid, "n": idx,
               "route": ("gemini:" if gemini else "bedrock:") + m.group(2), "model": unquote(m.group(1)),
               "stream": m.group(2) in ("streamGenerateContent", "converse-stream"), "status": s["status"],
               **({k: 0 for k in ("input", "cache_read", "cache_write", "output", "reasoning")} if s["status"] != 200
                  else {k: s[k] for k in ("input", "cache_read", "cache_write", "output", "reasoning", "finish")})}
        with vs.LOCK:
            vs.TRUTH.append(rec)
        for mod in (gl, br):
            mod.TRUTH_NOW.begin(rec["scenario"])
        if gemini:
            gl.SCRIPT[:] = [gemini_step(s)]
            self._as(gl.GeminiHandler, "do_POST")
        else:
            br.SCRIPT[:] = [bedrock_step(s)]
            self._as(br.BedrockHandler, "do_POST")


def main() -> None:
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(f"READY {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
