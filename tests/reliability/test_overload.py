"""Overload at several times capacity: refusals with retry hints, memory under budget, all accepted delivered."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc

from tests.relay.backends import FlakyGrpcBackend
from tests.reliability.test_kill9 import request
from tests.servers import free_port

LIMIT_MIB = 400


class SlowBackend(FlakyGrpcBackend):
    """Takes every export, slowly: about 0.5 ms per span."""

    async def _export(self, body: bytes, context: grpc.aio.ServicerContext) -> bytes:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        req = ExportTraceServiceRequest.FromString(body)
        n = sum(len(ss.spans) for rs in req.resource_spans for ss in rs.scope_spans)
        await asyncio.sleep(n / 2000)
        return await super()._export(body, context)


def rss(pid: int) -> int:
    import os

    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def test_overload_is_refused_not_fatal(tmp_path: Path) -> None:
    backend = SlowBackend()
    ep = await backend.start()
    port, admin = free_port(), free_port()
    cfg = tmp_path / "tw.yaml"
    cfg.write_text(f"""
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:{port}}}
processors:
  assemble: {{tree_idle: 100ms}}
exporters:
  otlp:
    endpoint: {ep}
    tls: {{insecure: true}}
    sending_queue: {{queue_size: 3000, num_consumers: 1}}
    batch: {{max_items: 600}}
    retry_on_failure: {{initial_interval: 100ms, max_elapsed_time: 0}}
service:
  data_dir: {tmp_path / 'data'}
  memory_limit: {LIMIT_MIB}MiB
  pipelines:
    traces: {{receivers: [otlp], processors: [assemble], exporters: [otlp]}}
  telemetry:
    admin: {{endpoint: 127.0.0.1:{admin}}}
""")
    # start-up, before the loop under test runs; the log stays open as long as the service runs
    proc = subprocess.Popen([sys.executable, "-m", "otel_tokenwatch", "serve", "--config", str(cfg)],  # noqa: ASYNC220
                            stdout=open(tmp_path / "tw.log", "wb"),  # noqa: ASYNC230, SIM115
                            stderr=subprocess.STDOUT)
    acked: set[bytes] = set()
    refused = other = 0
    peak = 0
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
            export = ch.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
            await export(b"", timeout=20, wait_for_ready=True)

            async def client(k: int) -> None:
                nonlocal refused, other
                n = 0
                t_end = time.monotonic() + 4
                while time.monotonic() < t_end:  # several times what the backend takes, for 4 s
                    body, ids = request((k * 10_000 + n) * 100)
                    n += 1
                    try:
                        await export(body, timeout=10)
                        acked.update(ids)
                    except grpc.aio.AioRpcError as e:
                        if e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                            refused += 1
                            md = dict(e.trailing_metadata() or ())
                            assert "grpc-status-details-bin" in md  # RetryInfo for the client
                            await asyncio.sleep(0.05)
                        else:
                            other += 1

            async def watch() -> None:
                nonlocal peak
                while proc.poll() is None:
                    peak = max(peak, rss(proc.pid))
                    await asyncio.sleep(0.1)

            w = asyncio.create_task(watch())
            await asyncio.gather(*(client(k) for k in range(8)))
            assert proc.poll() is None, "tokenwatch died under overload"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                got = {s.trace_id + s.span_id for r in backend.requests for rs in r.resource_spans
                       for ss in rs.scope_spans for s in ss.spans}
                if acked <= got:
                    break
                await asyncio.sleep(0.5)
            w.cancel()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        await backend.stop()
    lost = acked - got
    print(f"\noverload: acknowledged {len(acked)} spans, refused {refused} requests, other errors {other}, "
          f"peak RSS {peak / 2**20:.0f} MiB (budget {LIMIT_MIB}), lost {len(lost)}")
    assert refused > 0 and other == 0
    assert peak < LIMIT_MIB * 2**20 * 1.1
    assert not lost
