"""Fake Gemini API + OTLP/HTTP receiver for capturing Gemini CLI telemetry (loopback only).

Usage: python harness.py <api_port> <otlp_port> <out_dir>
Writes <out_dir>/otlp.jsonl ({"signal","otlp"} per export request, arrival order) and
<out_dir>/truth.jsonl (one line per model API answer: scenario, kind, status, usage).
"""
from __future__ import annotations

import gzip
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from aiohttp import web
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_tokenwatch.otlp.jsoncodec import parse, to_dict

API_PORT, OTLP_PORT, OUT = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
OUT.mkdir(parents=True, exist_ok=True)
KINDS = {"logs": ExportLogsServiceRequest, "metrics": ExportMetricsServiceRequest, "traces": ExportTraceServiceRequest}
main_calls: dict[str, int] = defaultdict(int)

# per scenario: main-call index -> (status, usage, part). usage = (prompt incl cache, cached, candidates excl thoughts,
# thoughts, toolUsePrompt)
LS = {"functionCall": {"name": "run_shell_command", "args": {"command": "ls", "description": "List files"}}}
DONE = {"text": "Done: the repository contains README.md and hello.py."}
SCRIPT = {
    "healthy": [(200, (2101, 0, 31, 17, 0), LS), (200, (2203, 0, 43, 19, 0), DONE)],
    "tool_loop": [(200, (3101 + i, 0, 51 + i, 11 + i, 0), LS) for i in range(6)] + [(200, (3301, 0, 61, 13, 0), DONE)],
    "errors": [(429, None, None), (500, None, None), (200, (4101, 0, 71, 23, 0), LS),
               (200, (4203, 0, 73, 29, 0), DONE)],
    "cached": [(200, (52001, 48001, 81, 37, 0), LS), (200, (52103, 50003, 83, 41, 7), DONE)],
}
ROUTER = (1117, 0, 9, 0, 0)


def usage(u):
    p, c, o, t, tu = u
    d = {"promptTokenCount": p, "candidatesTokenCount": o, "totalTokenCount": p + o + t + tu}
    if c:
        d["cachedContentTokenCount"] = c
    if t:
        d["thoughtsTokenCount"] = t
    if tu:
        d["toolUsePromptTokenCount"] = tu
    return d


def _append(path: Path, line: str) -> None:
    with path.open("a") as f:
        f.write(line + "\n")


def truth(scenario, kind, model, status, u):
    with open(OUT / "truth.jsonl", "a") as f:
        f.write(json.dumps({"scenario": scenario, "kind": kind, "model": model, "status": status,
                            "usage": list(u) if u else None}) + "\n")


async def model_api(request: web.Request) -> web.StreamResponse:
    body = await request.text()
    m = re.search(r"AFX-SCENARIO=(\w+)", body)
    scenario = m.group(1) if m else "unknown"
    path = request.path
    model = path.split("/models/")[-1].split(":")[0] if "/models/" in path else "?"
    if path.endswith(":countTokens"):
        return web.json_response({"totalTokens": 10})
    if path.endswith(":generateContent"):  # router / utility calls (JSON answers)
        truth(scenario, "utility", model, 200, ROUTER)
        text = json.dumps({"complexity_reasoning": "Simple task.", "complexity_score": 12})
        return web.json_response({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                                                  "finishReason": "STOP", "index": 0}],
                                  "usageMetadata": usage(ROUTER), "modelVersion": model,
                                  "responseId": f"resp_u{main_calls[scenario]}"})
    i = main_calls[scenario]
    main_calls[scenario] += 1
    script = SCRIPT.get(scenario, SCRIPT["healthy"])
    status, u, part = script[min(i, len(script) - 1)]
    truth(scenario, "main", model, status, u)
    if status != 200:
        hdr = {"retry-after": "1"} if status == 429 else {}
        return web.json_response({"error": {"code": status, "message": "fake failure", "status":
                                            "RESOURCE_EXHAUSTED" if status == 429 else "INTERNAL"}},
                                 status=status, headers=hdr)
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    chunk = {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
             "usageMetadata": usage(u), "modelVersion": model, "responseId": f"resp_{scenario}_{i}"}
    await resp.write(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")
    await resp.write_eof()
    return resp


async def otlp(request: web.Request) -> web.Response:
    sig = next((k for k in KINDS if request.path.rstrip("/").endswith(k)), None)
    if sig is None:
        return web.Response(status=404)
    raw = await request.read()
    if request.headers.get("Content-Encoding") == "gzip":
        raw = gzip.decompress(raw)
    msg = KINDS[sig]()
    if "json" in request.headers.get("Content-Type", ""):
        parse(raw, msg)
    else:
        msg.ParseFromString(raw)
    _append(OUT / "otlp.jsonl", json.dumps({"signal": sig, "otlp": to_dict(msg)}))
    return web.Response(body=b"", content_type="application/x-protobuf")


async def main() -> None:
    api = web.Application(client_max_size=64 << 20)
    api.router.add_route("*", "/{tail:.*}", model_api)
    rx = web.Application(client_max_size=64 << 20)
    rx.router.add_route("POST", "/{tail:.*}", otlp)
    for app, port in ((api, API_PORT), (rx, OTLP_PORT)):
        r = web.AppRunner(app)
        await r.setup()
        await web.TCPSite(r, "127.0.0.1", port).start()
    import asyncio
    await asyncio.Event().wait()

if __name__ == "__main__":
    import asyncio
    asyncio.run(main())
