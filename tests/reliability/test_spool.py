"""A dead backend does not hold the others back: its undelivered items move to its own spool,
the shared journal is released, the healthy backend keeps receiving, and after a restart the
spool delivers everything to the revived backend."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc

from tests.conftest import grpc_endpoint, running, service_config, wait_for
from tests.relay.backends import FlakyGrpcBackend, free_port
from tests.relay.spans import by_span_id, read_file
from tests.reliability.test_kill9 import request

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def config(tmp: Path, dead_port: int, spill_after: str) -> dict[str, Any]:
    cfg = service_config(tmp, exporters={
        "file": {"path": str(tmp / "fast.jsonl")},
        "otlp/slow": {"endpoint": f"127.0.0.1:{dead_port}", "tls": {"insecure": True}, "timeout": "1s",
                      "retry_on_failure": {"initial_interval": "200ms", "max_interval": "1s", "max_elapsed_time": 0},
                      "sending_queue": {"spill_after": spill_after}}})
    cfg["service"]["durability"] = {"mode": "journal", "max_bytes": "1MiB", "segment_bytes": "128KiB"}
    return cfg


async def push(svc: Any, n: int) -> tuple[set[bytes], int]:
    acked: set[bytes] = set()
    refused = 0
    async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
        for i in range(n):
            body, ids = request(i * 100)
            try:
                await ch.unary_unary(EXPORT)(body, timeout=5)
                acked |= ids
            except grpc.aio.AioRpcError as e:
                assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                refused += 1
            await asyncio.sleep(0.02)
    return acked, refused


async def test_journal_alone_fills_but_the_spool_keeps_data_flowing(tmp_path: Path) -> None:
    dead = free_port()
    # without spilling, the dead backend holds every request in the journal until it is full
    async with running(config(tmp_path / "nospill", dead, "0s")) as svc:
        _, refused = await push(svc, 120)
    assert refused > 0

    async with running(config(tmp_path / "spill", dead, "300ms")) as svc:
        acked, refused = await push(svc, 120)
        fast = tmp_path / "spill" / "fast.jsonl"
        await wait_for(lambda: len(by_span_id(read_file(fast))) == len(acked), timeout=20)
        await wait_for(lambda: (svc.status()["exporters"]["otlp/slow (traces)"]["spooled_bytes"] or 0) > 0)
        assert svc.journal is not None
        await wait_for(lambda: svc.journal.bytes_on_disk < 2**19, timeout=10)  # released, not held by the dead one
    assert refused == 0 and len(acked) == 120 * 300

    # the backend comes back: a restart delivers what the spool (and the journal) held
    backend = FlakyGrpcBackend(port=dead)
    await backend.start()
    try:
        async with running(config(tmp_path / "spill", dead, "300ms")):
            await wait_for(lambda: acked <= set(by_span_id(backend.requests)), timeout=30)
    finally:
        await backend.stop()
    assert not (tmp_path / "spill" / "data" / "spool" / "otlp_slow.traces.spool").exists()  # delivered, removed
