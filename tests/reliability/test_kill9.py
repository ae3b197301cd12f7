"""kill -9 under load: every span the client got an OK for reaches the backend (duplicates allowed, losses zero)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.relay.backends import FlakyGrpcBackend
from tests.servers import free_port

TRACES = 20000
PER_REQUEST = 100  # traces per export request, 3 spans each


def request(first: int) -> tuple[bytes, set[bytes]]:
    ss = ScopeSpans()
    ss.scope.name = "loadgen"
    ids = set()
    for t in range(first, first + PER_REQUEST):
        tid = (t + 1).to_bytes(16, "big")
        for i, parent in ((1, 0), (2, 1), (3, 1)):
            s = Span(trace_id=tid, span_id=(t * 4 + i).to_bytes(8, "big"), name=f"s{i}",
                     start_time_unix_nano=1_700_000_000_000_000_000, end_time_unix_nano=1_700_000_000_100_000_000)
            if parent:
                s.parent_span_id = (t * 4 + parent).to_bytes(8, "big")
            ss.spans.append(s)
            ids.add(tid + s.span_id)
    rs = ResourceSpans(scope_spans=[ss])
    rs.resource.attributes.add(key="service.name").value.string_value = "loadgen"
    return ExportTraceServiceRequest(resource_spans=[rs]).SerializeToString(), ids


def start(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "otel_tokenwatch", "serve", "--config", str(cfg)],
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT)


async def test_sigkill_loses_nothing_acknowledged(tmp_path: Path) -> None:
    backend = FlakyGrpcBackend()
    backend_ep = await backend.start()
    port, admin = free_port(), free_port()
    cfg = tmp_path / "tw.yaml"
    cfg.write_text(f"""
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:{port}}}
processors:
  assemble: {{tree_idle: 300ms, tree_max_wait: 10s}}
exporters:
  otlp:
    endpoint: {backend_ep}
    tls: {{insecure: true}}
    retry_on_failure: {{initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0}}
service:
  data_dir: {tmp_path / 'data'}
  durability: {{mode: journal, sync: write}}
  pipelines:
    traces: {{receivers: [otlp], processors: [assemble], exporters: [otlp]}}
  telemetry:
    admin: {{endpoint: 127.0.0.1:{admin}}}
""")
    log = tmp_path / "tw.log"
    proc = start(cfg, log)
    acked: set[bytes] = set()
    kills = 0
    rnd = random.Random(11)
    kill_at = sorted(rnd.sample(range(20, TRACES // PER_REQUEST - 20), 4))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            export = ch.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
            t0 = time.monotonic()
            for n in range(TRACES // PER_REQUEST):
                body, ids = request(n * PER_REQUEST)
                if kill_at and n == kill_at[0]:
                    kill_at.pop(0)
                    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: open trees, queued exports, a busy journal
                    proc.wait()
                    kills += 1
                    proc = start(cfg, log)
                while True:  # the client retries until it gets an OK, as SDK exporters do
                    try:
                        await export(body, timeout=5, wait_for_ready=True)
                        acked |= ids
                        break
                    except grpc.aio.AioRpcError:
                        await asyncio.sleep(0.1)
                assert time.monotonic() - t0 < 240, "load did not finish in time"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            got = {s.trace_id + s.span_id for r in backend.requests for rs in r.resource_spans
                   for ss in rs.scope_spans for s in ss.spans}
            if acked <= got:
                break
            await asyncio.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        await backend.stop()
    delivered = [s.trace_id + s.span_id for r in backend.requests for rs in r.resource_spans
                 for ss in rs.scope_spans for s in ss.spans]
    lost = acked - set(delivered)
    dup = len(delivered) - len(set(delivered))
    print(f"\nkill -9 x{kills}: spans sent {TRACES * 3}, acknowledged {len(acked)}, delivered {len(set(delivered))}, "
          f"duplicated {dup}, lost {len(lost)}")
    assert kills == 4
    assert len(acked) == TRACES * 3
    assert not lost, f"{len(lost)} acknowledged spans never reached the backend; see {log}"
