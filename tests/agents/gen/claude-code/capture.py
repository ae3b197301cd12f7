"""Capture Claude Code's real OTLP output against a scripted fake Anthropic Messages API (loopback only).

Usage (see README.md next to this file):
    python capture.py --claude /tmp/cc/node_modules/.bin/claude --out /tmp/cc/raw
Writes <out>/capture.jsonl (one line per OTLP export request) and <out>/truth.json (what the fake API answered).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf.json_format import MessageToDict, Parse
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

STATE: dict[str, Any] = {"scenario": None, "lines": [], "truth": {}, "main_calls": {}, "requests": []}
LOCK = threading.Lock()

# distinctive usage per answered call: (input uncached, cache_read, cache_write, output)
SCRIPT = {
    "healthy": [("tool", (1201, 0, 0, 41)), ("text", (1313, 0, 0, 57))],
    "tool_loop": [("tool", (2101 + i * 10, 0, 0, 31 + i)) for i in range(6)] + [("text", (2207, 0, 0, 63))],
    "errors": [("429", None), ("500", None), ("tool", (3101, 0, 0, 43)), ("text", (3211, 0, 0, 59))],
    "cached": [("tool", (411, 40960, 2048, 47)), ("text", (427, 43008, 1024, 53))],
    "cumulative": [("tool", (5101, 0, 0, 45)), ("text", (5213, 0, 0, 61))],
    "api_fail": [("500", None)],  # every agent-loop request fails; run with CLAUDE_CODE_MAX_RETRIES=2
}
THINKING = {"healthy": 0, "cached": 0}  # thinking blocks are sent on the first call; Anthropic counts them in output
SIDE = (97, 0, 0, 7)  # any request without the agent tools (e.g. a title / quota call)


def _sse(ev: str, data: dict[str, Any]) -> bytes:
    return f"event: {ev}\ndata: {json.dumps(data)}\n\n".encode()


class Api(BaseHTTPRequestHandler):
    def log_message(self, *a: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            req = json.loads(body)
        except ValueError:
            req = {}
        sc = STATE["scenario"]
        path = self.path.split("?")[0]
        with LOCK:
            STATE["requests"].append({"scenario": sc, "path": path, "model": req.get("model"),
                                      "tools": len(req.get("tools") or []), "stream": req.get("stream"),
                                      "max_tokens": req.get("max_tokens")})
        if path.endswith("/count_tokens"):
            self._json(200, {"input_tokens": 10})
            return
        if not path.endswith("/v1/messages"):
            self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": "no"}})
            return
        text = json.dumps(req.get("messages", []))
        is_main = bool(req.get("tools")) and "AFX-SCENARIO=" in text
        t = STATE["truth"].setdefault(sc, {"calls": 0, "failed_calls": 0, "input_tokens": 0, "cache_read_tokens": 0,
                                           "cache_write_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0,
                                           "uncached_input_tokens": 0, "answers": []})
        if is_main:
            with LOCK:
                i = STATE["main_calls"].get(sc, 0)
                STATE["main_calls"][sc] = i + 1
            script = SCRIPT[sc]
            kind, usage = script[min(i, len(script) - 1)]
        else:
            kind, usage = "text", SIDE
        if kind in ("429", "500"):
            with LOCK:
                t["calls"] += 1
                t["failed_calls"] += 1
                t["answers"].append({"status": int(kind), "model": req.get("model")})
            extra = {"retry-after": "1"} if kind == "429" else {}
            et = "rate_limit_error" if kind == "429" else "api_error"
            self._json(int(kind), {"type": "error", "error": {"type": et, "message": f"fake {kind}"}}, extra)
            return
        inp, cr, cw, out = usage
        if sc == "cumulative" and is_main and i > 0:
            time.sleep(2.5)  # let a metric export (1 s interval) fall between the calls: growing cumulative points
        thinking = is_main and i == 0 and sc in THINKING
        with LOCK:
            t["calls"] += 1
            t["uncached_input_tokens"] += inp
            t["input_tokens"] += inp + cr + cw
            t["cache_read_tokens"] += cr
            t["cache_write_tokens"] += cw
            t["output_tokens"] += out  # Anthropic output_tokens include thinking
            t["answers"].append({"status": 200, "model": req.get("model"), "kind": kind, "main": is_main,
                                 "input": inp, "cache_read": cr, "cache_write": cw, "output": out,
                                 "thinking_block": thinking})
        model = req.get("model") or "claude-x"
        msg_id = f"msg_fake_{sc}_{len(t['answers'])}"
        usage0 = {"input_tokens": inp, "output_tokens": 1, "cache_read_input_tokens": cr,
                  "cache_creation_input_tokens": cw,
                  "cache_creation": {"ephemeral_5m_input_tokens": cw, "ephemeral_1h_input_tokens": 0}}
        if not req.get("stream"):
            content: list[dict[str, Any]] = [{"type": "text", "text": "OK"}]
            self._json(200, {"id": msg_id, "type": "message", "role": "assistant", "model": model, "content": content,
                             "stop_reason": "end_turn", "stop_sequence": None, "usage": {**usage0, "output_tokens": out}})
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("request-id", f"req_fake_{sc}_{len(t['answers'])}")
        self.end_headers()
        w = self.wfile.write
        w(_sse("message_start", {"type": "message_start", "message": {
            "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": usage0}}))
        idx = 0
        if thinking:
            w(_sse("content_block_start", {"type": "content_block_start", "index": idx,
                                           "content_block": {"type": "thinking", "thinking": "", "signature": ""}}))
            w(_sse("content_block_delta", {"type": "content_block_delta", "index": idx,
                                           "delta": {"type": "thinking_delta", "thinking": "I should list files."}}))
            w(_sse("content_block_delta", {"type": "content_block_delta", "index": idx,
                                           "delta": {"type": "signature_delta", "signature": "ZmFrZQ=="}}))
            w(_sse("content_block_stop", {"type": "content_block_stop", "index": idx}))
            idx += 1
        if kind == "tool":
            w(_sse("content_block_start", {"type": "content_block_start", "index": idx, "content_block": {
                "type": "tool_use", "id": f"toolu_fake_{sc}_{len(t['answers'])}", "name": "Bash", "input": {}}}))
            w(_sse("content_block_delta", {"type": "content_block_delta", "index": idx, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps({"command": "ls", "description": "List files"})}}))
            stop = "tool_use"
        else:
            w(_sse("content_block_start", {"type": "content_block_start", "index": idx,
                                           "content_block": {"type": "text", "text": ""}}))
            w(_sse("content_block_delta", {"type": "content_block_delta", "index": idx,
                                           "delta": {"type": "text_delta", "text": "Done: README.md"}}))
            stop = "end_turn"
        w(_sse("content_block_stop", {"type": "content_block_stop", "index": idx}))
        w(_sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                 "usage": {"output_tokens": out}}))
        w(_sse("message_stop", {"type": "message_stop"}))
        self.wfile.flush()

    def _json(self, code: int, obj: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


KINDS = {"/v1/logs": ("logs", ExportLogsServiceRequest), "/v1/metrics": ("metrics", ExportMetricsServiceRequest),
         "/v1/traces": ("traces", ExportTraceServiceRequest)}


def _hex_ids(o: Any) -> Any:
    import base64
    if isinstance(o, dict):
        return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str)
                    else _hex_ids(v)) for k, v in o.items()}
    if isinstance(o, list):
        return [_hex_ids(x) for x in o]
    return o


def _b64_ids(o: Any) -> Any:
    import base64
    if isinstance(o, dict):
        return {k: (base64.b64encode(bytes.fromhex(v)).decode() if k in ("traceId", "spanId", "parentSpanId")
                    and isinstance(v, str) else _b64_ids(v)) for k, v in o.items()}
    if isinstance(o, list):
        return [_b64_ids(x) for x in o]
    return o


class Otlp(BaseHTTPRequestHandler):
    def log_message(self, *a: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.headers.get("content-encoding") == "gzip":
            import gzip
            body = gzip.decompress(body)
        signal, cls = KINDS[self.path]
        msg = cls()
        if "json" in (self.headers.get("content-type") or ""):
            Parse(json.dumps(_b64_ids(json.loads(body))), msg, ignore_unknown_fields=True)  # OTLP/JSON ids are hex
            d = _hex_ids(MessageToDict(msg))  # same form as the protobuf path
        else:
            msg.ParseFromString(body)
            d = _hex_ids(MessageToDict(msg))
        with LOCK:
            STATE["lines"].append({"signal": signal, "scenario": STATE["scenario"], "otlp": d})
        self.send_response(200)
        self.send_header("content-type", self.headers.get("content-type") or "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"" if "json" not in (self.headers.get("content-type") or "") else b"{}")


PROMPTS = {
    "healthy": "AFX-SCENARIO=healthy List the files in this repo with one Bash ls call, then answer.",
    "tool_loop": "AFX-SCENARIO=tool_loop List the files in this repo, then answer.",
    "errors": "AFX-SCENARIO=errors List the files in this repo, then answer.",
    "cached": "AFX-SCENARIO=cached List the files in this repo, then answer.",
    "cumulative": "AFX-SCENARIO=cumulative List the files in this repo, then answer.",
    "api_fail": "AFX-SCENARIO=api_fail List the files in this repo, then answer.",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--claude", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--protocol", default="http/protobuf")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    otlp = ThreadingHTTPServer(("127.0.0.1", 0), Otlp)
    for s in (api, otlp):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    os.makedirs(args.out, exist_ok=True)
    version = subprocess.run([args.claude, "--version"], capture_output=True, text=True, check=True).stdout.split()[0]
    for sc in args.only or list(PROMPTS):
        STATE["scenario"] = sc
        home = tempfile.mkdtemp(prefix=f"cchome-{sc}-")
        repo = tempfile.mkdtemp(prefix=f"ccrepo-{sc}-")
        subprocess.run(["git", "init", "-q", repo], check=True)
        with open(os.path.join(repo, "README.md"), "w") as f:
            f.write("# scratch\n")
        env = {"PATH": os.environ["PATH"], "HOME": home, "TERM": "xterm", "LANG": "C.UTF-8",
               "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{api.server_port}", "ANTHROPIC_API_KEY": "sk-ant-fake",
               "CLAUDE_CODE_ENABLE_TELEMETRY": "1", "OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp",
               "OTEL_TRACES_EXPORTER": "otlp", "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
               "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json" if sc == "cumulative" else args.protocol,
               "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp.server_port}",
               "OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_LOGS_EXPORT_INTERVAL": "500",
               "OTEL_TRACES_EXPORT_INTERVAL": "500", "OTEL_LOG_USER_PROMPTS": "1", "OTEL_LOG_TOOL_DETAILS": "1", "OTEL_LOG_TOOL_CONTENT": "1",
               "OTEL_RESOURCE_ATTRIBUTES": "department=platform,team.id=agents-fixture,cost_center=cc-0042",
               "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
               "DISABLE_ERROR_REPORTING": "1",
               "CLAUDE_CODE_MAX_RETRIES": "2" if sc == "api_fail" else "4"}
        if sc == "cumulative":
            env["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"] = "cumulative"
        t0 = time.time()
        p = subprocess.run([args.claude, "-p", PROMPTS[sc], "--output-format", "json", "--allowedTools", "Bash", "Read"],
                           cwd=repo, env=env, capture_output=True, text=True, timeout=240, check=False)
        print(sc, "rc", p.returncode, round(time.time() - t0, 1), "s", p.stdout[:300], p.stderr[-500:], file=sys.stderr)
        time.sleep(3)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(repo, ignore_errors=True)
    with LOCK:
        with open(os.path.join(args.out, "capture.jsonl"), "w") as f:
            f.writelines(json.dumps({"signal": ln["signal"], "scenario": ln["scenario"],
                                    "source": f"claude-code-{version}", "otlp": ln["otlp"]}) + "\n" for ln in STATE["lines"])
        with open(os.path.join(args.out, "truth.json"), "w") as f:
            json.dump({"version": version, "scenarios": STATE["truth"], "requests": STATE["requests"]}, f, indent=1)


if __name__ == "__main__":
    main()
