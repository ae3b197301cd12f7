"""Two or three replicas behind trace-id routing, sharing Redis, score exactly like one instance; outcomes,
early or late, reach whichever replica they are sent to."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_tokenwatch.otlp.files import read
from tests.conftest import FIXTURES, grpc_endpoint, http_endpoint, running, service_config, wait_for
from tests.relay.spans import by_span_id, read_file, strip_tokenwatch
from tests.servers import redis_server

pytestmark = pytest.mark.server
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def split_by_trace(req: ExportTraceServiceRequest) -> dict[bytes, ExportTraceServiceRequest]:
    """One request per trace id, as the Collector's loadbalancing exporter (routing_key: traceID) sends."""
    out: dict[bytes, ExportTraceServiceRequest] = {}
    for rs in req.resource_spans:
        for ss in rs.scope_spans:
            for s in ss.spans:
                r = out.setdefault(s.trace_id, ExportTraceServiceRequest())
                if not r.resource_spans or r.resource_spans[-1].resource != rs.resource:
                    nrs = r.resource_spans.add()
                    nrs.resource.CopyFrom(rs.resource)
                nrs = r.resource_spans[-1]
                if not nrs.scope_spans or nrs.scope_spans[-1].scope != ss.scope:
                    nss = nrs.scope_spans.add()
                    nss.scope.CopyFrom(ss.scope)
                nrs.scope_spans[-1].spans.append(s)
    return out


PREFIX = f"tw-test-{time.time_ns()}:"  # one prefix: the replicas share their state


def cfg(tmp: Path, name: str, redis_url: str | None) -> dict[str, Any]:
    c = service_config(tmp / name, processors={"assemble": {"tree_idle": "100ms"}, "normalize": None,
                                                "enrich": None, "score": {"baseline_min_samples": 3}},
                       traces_processors=["assemble", "normalize", "enrich", "score"],
                       exporters={"file": {"path": str(tmp / name / "out.jsonl")}})
    if redis_url:
        c["service"]["state"] = {"redis_url": redis_url, "key_prefix": PREFIX}
    return c


def scores(path: Path) -> dict[str, tuple[float, str, str]]:
    out = {}
    for _, _, s in by_span_id(read_file(path)).values():
        a = strip_tokenwatch(s)[1]
        if "tokenwatch.trace.waste_score" in a:
            out[s.trace_id.hex()] = (round(a["tokenwatch.trace.waste_score"].double_value, 9),
                                     a["tokenwatch.trace.top_reason"].string_value,
                                     a["tokenwatch.outcome"].string_value)
    return out


async def replay(targets: list[Any], traces: list[tuple[bytes, ExportTraceServiceRequest]], out_paths: list[Path],
                 outcome_to: Any, outcome_trace: str) -> None:
    chans = [grpc.aio.insecure_channel(grpc_endpoint(t)) for t in targets]
    try:
        async with aiohttp.ClientSession() as http, http.post(http_endpoint(outcome_to) + "/v1/outcomes",
                             json={"trace_id": outcome_trace, "outcome": "success"}) as r:
            assert r.status == 202
        for i, (tid, req) in enumerate(traces):
            k = int(hashlib.sha256(tid).hexdigest(), 16) % len(targets)
            await chans[k].unary_unary(EXPORT)(req.SerializeToString(), timeout=10)
            # one tree at a time, so baselines see trees in the same order in both set-ups
            await wait_for(lambda i=i: sum(len(scores(p)) for p in out_paths) >= i + 1, timeout=15, interval=0.02)
    finally:
        for c in chans:
            await c.close()


def outcome_spans(paths: list[Path]) -> dict[str, tuple[bytes, dict[str, Any]]]:
    """Trace id -> (parent span id, tokenwatch attributes as text) of each tokenwatch.outcome span."""
    out = {}
    for p in paths:
        for _, _, s in by_span_id(read_file(p)).values():
            if s.name == "tokenwatch.outcome":
                out[s.trace_id.hex()] = (s.parent_span_id, {k: str(v).strip() for k, v in strip_tokenwatch(s)[1].items()})
    return out


async def late_outcome(to: Any, trace: str, paths: list[Path]) -> dict[str, tuple[bytes, dict[str, Any]]]:
    """Report an outcome for a trace already exported; the outcome span it makes, once it is out."""
    async with aiohttp.ClientSession() as http, http.post(http_endpoint(to) + "/v1/outcomes", json={
            "trace_id": trace, "outcome": "failure", "kpis": {"defects": 3}}) as r:
        assert r.status == 202 and (await r.json())["applied"] == 1
    await wait_for(lambda: trace in outcome_spans(paths), timeout=15)
    return outcome_spans(paths)


def route(trace_hex: str, n: int) -> int:
    """The replica a trace goes to (as replay routes it)."""
    return int(hashlib.sha256(bytes.fromhex(trace_hex)).hexdigest(), 16) % n


@pytest.mark.parametrize("n", [2, 3])
async def test_replicas_with_redis_equal_one_instance(tmp_path: Path, n: int) -> None:
    with redis_server() as url:
        traces: list[tuple[bytes, ExportTraceServiceRequest]] = []
        for rec in read(Path(FIXTURES) / "openinference-openai.jsonl"):
            if rec.signal == "traces":
                traces += list(split_by_trace(rec.request).items())  # type: ignore[arg-type]
        target = traces[2][0].hex()
        late = traces[4][0].hex()
        async with running(cfg(tmp_path, "single", None)) as one:
            await replay([one], traces, [tmp_path / "single" / "out.jsonl"], one, target)
            single_late = await late_outcome(one, late, [tmp_path / "single" / "out.jsonl"])
        names = [f"r{i}" for i in range(n)]
        outs = [tmp_path / name / "out.jsonl" for name in names]
        async with contextlib.AsyncExitStack() as stack:
            reps = [await stack.enter_async_context(running(cfg(tmp_path, name, url))) for name in names]
            other = reps[(route(target, n) + 1) % n]  # the early outcome goes to a replica that will NOT get the trace
            await replay(reps, traces, outs, other, target)
            # a late outcome (its tree already exported) reaching a replica that never saw the tree; its
            # outcome span leaves through that replica: the summary it needs came from Redis
            k = (route(late, n) + 1) % n
            replicas_late = await late_outcome(reps[k], late, [outs[k]])
        single = scores(tmp_path / "single" / "out.jsonl")
        replicas = {t: v for o in outs for t, v in scores(o).items()}
        assert len(single) == len(traces)
        assert replicas == single
        assert single[target][2] == "success"  # the early outcome reached the tree on the other replica
        # the late one made the same outcome span, under the same root, from the other replica
        assert replicas_late[late] == single_late[late]
        assert single_late[late][1]["tokenwatch.outcome"] == 'string_value: "failure"'
        assert all(scores(o) for o in outs)  # every replica scored some of the trees


async def test_trees_due_together_share_their_round_trips_to_redis(tmp_path: Path) -> None:
    """60 trees arriving in one request come due together, a backlog: the service takes their
    outcomes, stores their summaries and appends their baseline samples a slice at a time. Counted by Redis itself
    (INFO commandstats): one tree at a time took two or more scripts per tree."""
    import redis

    from tests.score.test_released_together import N_TREES, workload

    reqs, _ = workload()
    one = ExportTraceServiceRequest()
    for r in reqs:
        one.MergeFromString(r)  # repeated fields concatenate: every tree in one request
    with redis_server() as url:
        client = redis.Redis.from_url(url)
        out = tmp_path / "r0" / "out.jsonl"
        async with running(cfg(tmp_path, "r0", url)) as svc:
            client.config_resetstat()
            ch = grpc.aio.insecure_channel(grpc_endpoint(svc))
            await ch.unary_unary(EXPORT)(one.SerializeToString(), timeout=10)
            await ch.close()
            await wait_for(lambda: len(scores(out)) >= N_TREES * 0.8, timeout=15, interval=0.05)
            await asyncio.sleep(0.5)  # the stragglers (idle release) too
            stats = client.info("commandstats")
        scripts = sum(stats.get(f"cmdstat_{c}", {}).get("calls", 0) for c in ("evalsha", "eval"))
        trees = len(scores(out))
        assert trees >= N_TREES * 0.8
        # here ~45 scripts for 60 trees (8 at a time while 16 or more are due, then one by one);
        # emitted one by one throughout, 130
        assert scripts <= trees, f"{scripts} scripts for {trees} trees: {stats}"
        client.close()
