"""Shared helpers for the coding-agent tests: agent telemetry replayed through the real service or pipeline.

Service side: :func:`agent_config` (the traces pipeline plus the agents stage on logs and/or metrics),
:func:`post` / :func:`post_records` / :func:`send_grpc` (replay over OTLP/HTTP or gRPC), :func:`roots` /
:func:`children` (the session trees written to the traces file), :func:`forwarded_log_count` (log records
the logs pipeline wrote so far) and :func:`metric_total` (a sum over tokenwatch's Prometheus text).
In-process: :func:`scored` (the agents stage, then normalize, enrich and score).
"""

from __future__ import annotations

import asyncio
import copy
import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc

from otel_tokenwatch.agents.factory import AgentsConfig, AgentSessions
from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.otlp.wire import key_values_to_dict
from otel_tokenwatch.pipeline.tree import Tree
from tests.conftest import grpc_endpoint, http_endpoint, running, service_config, wait_for
from tests.relay.spans import by_span_id, read_file, strip_tokenwatch
from tests.stages import default_stages

PATHS = {"logs": "/v1/logs", "metrics": "/v1/metrics", "traces": "/v1/traces"}
METHODS = {"logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
           "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
           "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export"}
TRACES_PROCESSORS = ["assemble", "normalize", "enrich", "score"]
DATA = Path(__file__).parent / "data"


# --- configuration ---------------------------------------------------------------------------------------
def agent_config(tmp_path: Path, out: Path, *, agents: tuple[str, ...] = ("logs", "metrics"),
                 session_idle: str | None = "300ms", tree_idle: str | None = None,
                 normalize: dict[str, Any] | None = None, enrich: dict[str, Any] | None = None) -> dict[str, Any]:
    """The service with assemble/normalize/enrich/score on traces (written to ``out``) and the agents stage
    (``session_idle``; None: no agents stage, no metrics/logs pipelines) on the ``agents`` signals."""
    processors: dict[str, Any] = {"assemble": {"tree_idle": tree_idle} if tree_idle else None,
                                  "normalize": normalize, "enrich": enrich, "score": None}
    if session_idle is not None:
        processors["agents"] = {"session_idle": session_idle}
    cfg = service_config(tmp_path, processors=processors, traces_processors=list(TRACES_PROCESSORS),
                         exporters={"file": {"path": str(out)}}, metrics_logs=session_idle is not None)
    for signal in agents if session_idle is not None else ():
        cfg["service"]["pipelines"][signal]["processors"] = ["agents"]
    return cfg


def privacy(*pseudonymize: str) -> dict[str, Any]:
    """The enrich stage with content removal on and these attributes pseudonymized (key in ``TW_KEY``)."""
    return {"privacy": {"drop_content": True, "pseudonymize": list(pseudonymize), "key_env": "TW_KEY"}}


# --- captures ----------------------------------------------------------------------------------------------
def truth(agent: str) -> dict[str, Any]:
    """scenario -> what the fake API answered for it (tests/agents/data/<agent>-truth.json)."""
    scenarios: dict[str, Any] = json.loads((DATA / f"{agent}-truth.json").read_text())["scenarios"]
    return scenarios


def lines(capture: Path) -> list[dict[str, Any]]:
    """The capture's JSON lines (``signal``, ``scenario``, ``otlp``)."""
    return [json.loads(x) for x in capture.read_text().splitlines() if x.strip()]


def check_one_session_per_scenario(sessions: dict[str, str], scenarios: list[str], truth: dict[str, Any]) -> None:
    """``sessions`` (scenario -> session id) holds every scenario of the capture and of the truth, each its own."""
    assert set(sessions) == set(scenarios) == set(truth)
    assert len(set(sessions.values())) == len(scenarios)


def with_attributes(lines: list[dict[str, Any]], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of the capture lines with the OTLP/JSON attributes ``extra`` added to every log record,
    metric data point and span."""
    out = copy.deepcopy(lines)
    for ln in out:
        o = ln["otlp"]
        for rl in o.get("resourceLogs", []):
            for sl in rl.get("scopeLogs", []):
                for lr in sl.get("logRecords", []):
                    lr.setdefault("attributes", []).extend(copy.deepcopy(extra))
        for rm in o.get("resourceMetrics", []):
            for sm in rm.get("scopeMetrics", []):
                for m in sm.get("metrics", []):
                    for kind in ("sum", "gauge", "histogram"):
                        for p in m.get(kind, {}).get("dataPoints", []):
                            p.setdefault("attributes", []).extend(copy.deepcopy(extra))
        for rs in o.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    s.setdefault("attributes", []).extend(copy.deepcopy(extra))
    return out


def log_records(records: Iterable[Any]) -> Iterator[Any]:
    """Every log record of the ``logs`` requests among ``records`` (from :func:`read`)."""
    for r in records:
        if r.signal == "logs":
            for rl in r.request.resource_logs:
                for sl in rl.scope_logs:
                    yield from sl.log_records


def log_attributes(records: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """The attributes of every log record among ``records``, as a dict each."""
    for lr in log_records(records):
        yield key_values_to_dict(lr.attributes)


# --- replay ------------------------------------------------------------------------------------------------
async def post_records(svc: Any, records: Iterable[Any], *, compress: bool = True) -> None:
    """Each request over OTLP/HTTP protobuf (gzip unless ``compress`` is false); every one accepted."""
    async with aiohttp.ClientSession() as http:
        for r in records:
            body = r.request.SerializeToString()
            headers = {"Content-Type": "application/x-protobuf"}
            if compress:
                body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
            async with http.post(http_endpoint(svc) + PATHS[r.signal], data=body, headers=headers) as resp:
                assert resp.status == 200


async def post(svc: Any, lines: list[dict[str, Any]], tmp_path: Path) -> None:
    """The capture lines over OTLP/HTTP (gzip), in order."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    await post_records(svc, read(src))


async def replay(tmp_path: Path, out: Path, lines: list[dict[str, Any]], sessions: Iterable[str], *,
                 timeout: float, settle: float = 0.0, **config: Any) -> tuple[dict[str, dict[str, Any]], str]:
    """Post ``lines`` to a service made by :func:`agent_config` (``config``; traces to ``out``), wait until every
    conversation id in ``sessions`` has a session root, then ``settle`` seconds more; the roots and
    tokenwatch's own metrics (Prometheus text)."""
    wanted = set(sessions)
    async with running(agent_config(tmp_path, out, **config)) as svc:
        await post(svc, lines, tmp_path)
        await wait_for(lambda: wanted <= set(roots(out)), timeout=timeout)
        if settle:
            await asyncio.sleep(settle)
        text = svc.telemetry.prometheus_text().decode()
    return roots(out), text


async def send_grpc(svc: Any, records: Iterable[Any]) -> None:
    async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
        for r in records:
            await ch.unary_unary(METHODS[r.signal])(r.request.SerializeToString(), timeout=10)


# --- results -----------------------------------------------------------------------------------------------
def roots(out: Path) -> dict[str, dict[str, Any]]:
    """conversation id -> the tokenwatch attributes of its session root, from the traces file."""
    got = {}
    for _, _, s in by_span_id(read_file(out)).values():
        a = strip_tokenwatch(s)[1]
        if "tokenwatch.agent.tool" in a:
            got[key_values_to_dict(s.attributes)["gen_ai.conversation.id"]] = a
    return got


def children(out: Path, sid: str) -> list[Any]:
    """The spans under the session root of conversation ``sid``."""
    spans = by_span_id(read_file(out)).values()
    root = {s.trace_id for _, _, s in spans
            if "tokenwatch.agent.tool" in strip_tokenwatch(s)[1]
            and key_values_to_dict(s.attributes).get("gen_ai.conversation.id") == sid}
    return [s for _, _, s in spans if s.trace_id in root and s.parent_span_id]


def forwarded_log_count(logs_file: Path, tmp_path: Path) -> int:
    """Log records the logs pipeline has written so far (only its complete lines: it may be mid-write)."""
    if not logs_file.exists():
        return 0
    data = logs_file.read_bytes()
    snap = tmp_path / "snap.jsonl"
    snap.write_bytes(data[:data.rfind(b"\n") + 1])
    return sum(1 for _ in log_records(read(snap)))


def metric_total(text: str, name: str, *having: str, without: tuple[str, ...] = ()) -> float:
    """The sum of the Prometheus samples of ``name`` whose line holds every ``having`` and no ``without``."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{") and all(h in line for h in having)
               and not any(w in line for w in without))


# --- in-process pipeline -------------------------------------------------------------------------------------
def scored(*raws: bytes, agents: AgentSessions | None = None) -> list[Tree]:
    """The session trees the agents stage (``agents``, or a new one) makes of these requests, through
    normalize, enrich and score."""
    stages = default_stages()
    trees: list[Tree] = []
    if agents is None:
        agents = AgentSessions(AgentsConfig())

    def emit(tree: Tree) -> None:
        for stage in stages:
            stage.process(tree)
        trees.append(tree)

    agents.emit = emit
    for raw in raws:
        agents.consume(raw, now=0.0)
    agents.flush()
    return trees
