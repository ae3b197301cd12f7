"""`tokenwatch serve` says once, on stderr, where it listens and where spans go, with the ports as bound:
logs are quiet by default, and the line is all a person who just started it needs to point an exporter."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tests.conftest import otlp_receiver, service_config

READY = re.compile(r"^tokenwatch ready: otlp grpc (127\.0\.0\.1:\d+), otlp http (127\.0\.0\.1:\d+); "
                   r"exporting to file (\S+); status http://(127\.0\.0\.1:\d+)/, metrics http://\S+/metrics; "
                   r"config (\S+)$")


def test_serve_prints_one_ready_line_with_bound_ports_and_they_work(tmp_path: Path) -> None:
    out = tmp_path / "traces.jsonl"
    raw = service_config(tmp_path, processors={"assemble": {"tree_idle": "100ms"}}, traces_processors=["assemble"],
                         receivers={"otlp": otlp_receiver()}, exporters={"file": {"path": str(out)}})
    assert raw["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":0")  # ports chosen at bind
    cfg = tmp_path / "tw.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    proc = subprocess.Popen([sys.executable, "-m", "otel_tokenwatch", "serve", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().rstrip("\n")  # blocks until the line or the process's end
        m = READY.match(line)
        assert m, line
        grpc_ep, _http_ep, path, admin, source = m.groups()
        assert path == str(out) and source == str(cfg)
        assert not grpc_ep.endswith(":0") and not admin.endswith(":0")
        with urllib.request.urlopen(f"http://{admin}/readyz", timeout=5) as r:
            assert json.loads(r.read())["status"] == "ready"
        provider = TracerProvider(resource=Resource.create({"service.name": "ready-line"}))
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=grpc_ep, insecure=True)))
        with provider.get_tracer("t").start_as_current_span("chat gpt-4o") as s:
            s.set_attribute("gen_ai.operation.name", "chat")
        provider.shutdown()
        deadline = time.monotonic() + 15
        while not (out.exists() and b"chat gpt-4o" in out.read_bytes()):
            assert time.monotonic() < deadline, "the span sent to the printed endpoint did not reach the file"
            time.sleep(0.1)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "tokenwatch ready" not in err  # said once
