"""Fake OpenAI Responses API (streaming SSE) + OTLP/HTTP receiver, loopback only.

Usage: fake_server.py <api_port> <otlp_port> <out_dir>
Writes <out_dir>/otlp.jsonl (one OTLP/JSON export request per line, tagged with the current scenario
from <out_dir>/scenario) and <out_dir>/truth.jsonl (every answer the fake API gave).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

OUT = Path(sys.argv[3])
LOCK = threading.Lock()
COUNTS: dict[str, int] = {}
#: per scenario: (input, cached, cache_write, output, reasoning); call k adds 10k input, k output so each
#: record matches one answer. OpenAI Responses usage: input_tokens includes input_tokens_details.cached_tokens
#: (and cache_write_tokens, which codex-rs reads from input_tokens_details too); output includes reasoning.
USAGE = {
    "healthy": (1201, 0, 0, 41, 12),
    "tool_loop": (2301, 0, 0, 51, 13),
    "errors": (3401, 0, 0, 61, 14),
    "cached": (45001, 40960, 2048, 71, 15),
}


def scenario() -> str:
    return (OUT / "scenario").read_text().strip()


def truth(rec: dict) -> None:
    with LOCK, open(OUT / "truth.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")


def _hex_ids(o):
    if isinstance(o, dict):
        return {k: (base64.b64decode(v).hex() if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str)
                    else _hex_ids(v)) for k, v in o.items()}
    if isinstance(o, list):
        return [_hex_ids(x) for x in o]
    return o


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # quiet
        pass

    def _body(self) -> bytes:
        n = int(self.headers.get("content-length") or 0)
        data = self.rfile.read(n)
        if self.headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        elif self.headers.get("content-encoding") == "zstd":
            import zstandard
            data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
        return data

    def do_GET(self):
        with open(OUT / "requests.log", "a") as f:
            f.write(f"GET {self.path}\n")
        body = json.dumps({"data": [], "models": []}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        raw = self._body()
        if self.server.server_port == OTLP_PORT:
            return self.otlp(raw)
        req = json.loads(raw or b"{}")
        text = json.dumps(req)
        with open(OUT / "requests.log", "a") as f:
            f.write(f"POST {self.path} {text[:200000]}\n")
        if not self.path.endswith("/responses"):  # analytics (turn-costs...): not a model call
            body = b"{}"
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        m = re.search(r"AFX-SCENARIO=(\w+)", text)
        sc = m.group(1) if m else scenario()
        with LOCK:
            n = COUNTS[sc] = COUNTS.get(sc, 0) + 1
        if sc == "errors" and n in (1, 2):
            status = 429 if n == 1 else 500
            truth({"scenario": sc, "n": n, "status": status})
            body = json.dumps({"error": {"message": "fake " + str(status), "type": "rate_limit_exceeded"
                                         if status == 429 else "server_error", "code": None}}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            if status == 429:
                self.send_header("retry-after", "1")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        outputs = text.count('"function_call_output"')
        tools = [t.get("name") for t in req.get("tools", []) if isinstance(t, dict)]
        want_calls = 6 if sc == "tool_loop" else 1
        if "AFX-SCENARIO" not in text:
            want_calls = 0  # auxiliary request (title, memory...): plain answer
        base_in, cached, cache_write, base_out, reasoning = USAGE.get(sc, (901, 0, 0, 31, 0))
        k = n
        usage = {"input_tokens": base_in + 10 * k, "input_tokens_details": {"cached_tokens": cached,
                                                                        "cache_write_tokens": cache_write},
                 "output_tokens": base_out + k, "output_tokens_details": {"reasoning_tokens": reasoning},
                 "total_tokens": base_in + 10 * k + base_out + k}
        rid = f"resp_{sc}_{n}"
        events = [{"type": "response.created", "response": {"id": rid}}]
        if outputs < want_calls:
            if "shell" in tools:
                name, args = "shell", json.dumps({"command": ["ls"]})
            else:
                name, args = "exec_command", json.dumps({"cmd": "ls"})
            item = {"type": "function_call", "id": f"fc_{n}", "call_id": f"call_{sc}_{n}", "name": name,
                    "arguments": args, "status": "completed"}
            kind = "tool_call"
        else:
            item = {"type": "message", "id": f"msg_{n}", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "Done: AFX answer.", "annotations": []}]}
            kind = "answer"
        if reasoning:
            events.append({"type": "response.output_item.done", "output_index": 0, "item": {
                "type": "reasoning", "id": f"rs_{n}", "summary": []}})
        events.append({"type": "response.output_item.added", "output_index": 1, "item": item})
        events.append({"type": "response.output_item.done", "output_index": 1, "item": item})
        events.append({"type": "response.completed", "response": {"id": rid, "status": "completed", "usage": usage,
                                                                   "output": [item]}})
        truth({"scenario": sc, "n": n, "status": 200, "kind": kind, "usage": usage, "model": req.get("model"),
               "tools": tools})
        payload = b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def otlp(self, raw: bytes):
        signal = self.path.rstrip("/").rsplit("/", 1)[-1]
        cls = {"logs": ExportLogsServiceRequest, "metrics": ExportMetricsServiceRequest,
               "traces": ExportTraceServiceRequest}.get(signal)
        if cls is not None:
            if "json" in (self.headers.get("content-type") or ""):
                obj = json.loads(raw)
            else:
                obj = _hex_ids(MessageToDict(cls.FromString(raw)))
            line = {"signal": signal, "scenario": scenario(), "source": "codex-" + (OUT / "version").read_text().strip(),
                    "otlp": obj}
            with LOCK, open(OUT / "otlp.jsonl", "a") as f:
                f.write(json.dumps(line, separators=(",", ":")) + "\n")
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()


API_PORT, OTLP_PORT = int(sys.argv[1]), int(sys.argv[2])
if __name__ == "__main__":
    a = ThreadingHTTPServer(("127.0.0.1", API_PORT), Api)
    o = ThreadingHTTPServer(("127.0.0.1", OTLP_PORT), Api)
    threading.Thread(target=o.serve_forever, daemon=True).start()
    a.serve_forever()
