"""Shared state lost and back: a Redis that hangs or is gone never stops spans from flowing.

Replicas keep baselines, windows and outcomes in Redis; a state call runs on the event loop, so a
Redis that accepts connections but never answers would stall every tree for a socket timeout per
call. The store's breaker fails calls at once while Redis is out: the stages that need it are skipped
for those trees (counted in tokenwatch.processor.failed), the trees are forwarded as they came, the
outcome API answers 503 with the reason, and scoring resumes once Redis answers again.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest

from otel_tokenwatch.otlp.files import read
from tests.conftest import FIXTURES, grpc_endpoint, http_endpoint, running, service_config, wait_for
from tests.relay.spans import by_span_id, read_file
from tests.scaleout.test_replicas_redis import EXPORT, split_by_trace
from tests.servers import free_port, start_redis, stop

pytestmark = pytest.mark.server


def roots(path: Path) -> dict[str, dict[str, str]]:
    """Trace id -> the tokenwatch attributes its root came out with (as text), for every root forwarded."""
    out: dict[str, dict[str, str]] = {}
    if not path.exists():
        return out
    for _, _, s in by_span_id(read_file(path)).values():
        if not s.parent_span_id:
            out[s.trace_id.hex()] = {kv.key: str(kv.value).strip() for kv in s.attributes
                                     if kv.key.startswith("tokenwatch.")}
    return out


def whole(a: dict[str, str]) -> bool:
    """Scored with every stage: workflow and score written, no stage failed."""
    return "tokenwatch.trace.waste_score" in a and "tokenwatch.workflow" in a and "tokenwatch.processors.failed" not in a


async def test_redis_hanging_then_back(tmp_path: Path) -> None:
    traces = []
    for rec in read(Path(FIXTURES) / "openinference-openai.jsonl"):
        if rec.signal == "traces":
            traces += list(split_by_trace(rec.request).items())  # type: ignore[arg-type]
    assert len(traces) >= 6
    port = free_port()
    out = tmp_path / "out.jsonl"
    cfg: dict[str, Any] = service_config(
        tmp_path, processors={"assemble": {"tree_idle": "100ms"}, "normalize": None, "enrich": None, "score": None},
        traces_processors=["assemble", "normalize", "enrich", "score"], exporters={"file": {"path": str(out)}})
    cfg["service"]["state"] = {"redis_url": f"redis://127.0.0.1:{port}/0", "key_prefix": "tw-outage:"}
    redis = start_redis(port)
    hang: socket.socket | None = None
    try:
        async with running(cfg) as svc, aiohttp.ClientSession() as http:
            chan = grpc.aio.insecure_channel(grpc_endpoint(svc))
            send = chan.unary_unary(EXPORT)

            async def deliver(batch: list[tuple[bytes, Any]]) -> None:
                for _, req in batch:
                    await send(req.SerializeToString(), timeout=10)
                want = {tid.hex() for tid, _ in batch}
                await wait_for(lambda: want <= roots(out).keys(), timeout=20)

            first, during, after = traces[:2], traces[2:-2], traces[-2:]
            await deliver(first)
            assert all(whole(roots(out)[t.hex()]) for t, _ in first)

            # Redis stops answering: the port accepts connections (a listening socket nobody reads)
            # but no reply ever comes, the worst case for a client waiting on its socket timeout
            stop(redis, 10)
            hang = socket.socket()
            hang.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            hang.bind(("127.0.0.1", port))
            hang.listen(64)
            t0 = time.monotonic()
            await deliver(during)
            took = time.monotonic() - t0
            # every tree forwarded, saying which stage it lacks; without the breaker each would wait 1 s a call
            got = roots(out)
            assert all("enrich" in got[t.hex()].get("tokenwatch.processors.failed", "") for t, _ in during)
            assert took < 0.5 * len(during) + 3, f"{len(during)} trees took {took:.1f}s while Redis hung"
            admin = "http://" + svc.admin.endpoint
            async with http.get(admin + "/metrics") as r:
                text = await r.text()
            assert 'tokenwatch_processor_failed_total{processor="enrich"}' in text
            async with http.get(admin + "/status.json") as r:
                state = (await r.json())["state"]
            assert state["backend"] == "redis" and state["reachable"] is False and state["error"]
            async with http.post(http_endpoint(svc) + "/v1/outcomes",
                                 json={"trace_id": during[0][0].hex(), "outcome": "success"}) as r:
                assert r.status == 503
                assert "shared state" in (await r.json())["message"]

            # Redis is back on the same port: once the breaker's backoff has passed, trees are scored again
            hang.close()
            hang = None
            redis = start_redis(port)
            deadline = time.monotonic() + 40
            for i in range(200):
                tid, req = after[i % len(after)]
                fresh = type(req)()
                fresh.CopyFrom(req)
                new_tid = (i + 1).to_bytes(4, "big") + tid[4:]  # a new trace each time, same spans
                for rs in fresh.resource_spans:
                    for ss in rs.scope_spans:
                        for s in ss.spans:
                            s.trace_id = new_tid
                await deliver([(new_tid, fresh)])
                if whole(roots(out)[new_tid.hex()]):
                    break
                assert time.monotonic() < deadline, "scoring did not resume after Redis came back"
            await chan.close()
    finally:
        if hang is not None:
            hang.close()
        stop(redis, 10)
