"""A real Prometheus scrapes GenAIMetrics' text and evaluates the shipped rules on it.

Narrower than test_prometheus_e2e (no tokenwatch service, no OTLP): a tiny
aiohttp server serves one SelfTelemetry's Prometheus text, filled by
GenAIMetrics from the fixture trees run through the real stages. It shows
that the rules' metric names are the ones the exporter really exposes:
every recording rule yields series, none fails to evaluate, and spend per
success equals what the trees' roots say.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otel_tokenwatch import semconv
from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.tree import Tree
from otel_tokenwatch.telemetry.genai_metrics import GenAIMetrics
from otel_tokenwatch.telemetry.selfmetrics import SelfTelemetry
from tests.conftest import FIXTURES
from tests.servers import free_port, prometheus
from tests.stages import default_stages

pytestmark = pytest.mark.server
RULES = Path(__file__).resolve().parents[2] / "collector-config" / "prometheus" / "tokenwatch-rules.yaml"
DEADLINE_S = 30.0


def fast_rules(tmp: Path) -> Path:
    """The shipped rules evaluated every second (instead of 5m), so a test sees them within seconds."""
    doc = yaml.safe_load(RULES.read_text())
    for g in doc["groups"]:
        g["interval"] = "1s"
        for r in g["rules"]:
            r.pop("for", None)
    out = tmp / "rules-fast.yaml"
    out.write_text(yaml.safe_dump(doc))
    return out


def processed_trees(source: str) -> list[Tree]:
    """Every trace of a fixture file through normalize, enrich and score; the healthy ones end resolved,
    marked as an application marks its outcome (an ``app.outcome`` attribute on the root span)."""
    stages = default_stages()
    trees: list[Tree] = []
    for rec in read(Path(FIXTURES) / source):
        if rec.signal != "traces":
            continue
        req = ExportTraceServiceRequest()
        req.CopyFrom(rec.request)
        if rec.meta.get("scenario") == "healthy":
            for rs in req.resource_spans:
                for ss in rs.scope_spans:
                    for sp in ss.spans:
                        if not sp.parent_span_id:
                            sp.attributes.add(key="app.outcome").value.string_value = "resolved"
        asm = Assembler(AssembleConfig())
        asm.add(req, 0.0, None)
        for t in asm.flush(0.0, "flush"):
            for s in stages:
                s.process(t)
            trees.append(t)
    return trees


@asynccontextmanager
async def metrics_server(tel: SelfTelemetry) -> AsyncIterator[str]:
    """Serves ``tel.prometheus_text()`` on /metrics at a free loopback port; yields host:port."""
    async def handle(_: web.Request) -> web.Response:
        return web.Response(body=tel.prometheus_text(), headers={"Content-Type": "text/plain; version=0.0.4"})

    app = web.Application()
    app.router.add_get("/metrics", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def query(http: aiohttp.ClientSession, base: str, q: str) -> list[dict[str, Any]]:
    async with http.get(f"{base}/api/v1/query", params={"query": q}) as r:
        doc = await r.json()
    assert doc["status"] == "success", doc
    return doc["data"]["result"]  # type: ignore[no-any-return]


async def until(cond, deadline: float, what: str):  # type: ignore[no-untyped-def]
    """Await ``cond()`` until it returns something truthy, within the test's one overall deadline."""
    while True:
        got = await cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"within {DEADLINE_S}s: {what}")
        await asyncio.sleep(0.25)


async def test_prometheus_scrapes_genai_metrics_and_every_recording_rule_yields(tmp_path: Path) -> None:
    trees = processed_trees("openai-v2-latest.jsonl")
    success: dict[str, list[float]] = {}
    for t in trees:
        root = t.root()
        assert root is not None
        if root.get(semconv.OUTCOME) == "success":
            success.setdefault(str(root.get(semconv.WORKFLOW)), []).append(float(root.get(semconv.TRACE_COST_USD)))  # type: ignore[arg-type]
    assert set(success) == {"support-triage", "feedback-reply"}, success  # the healthy scenario's two workflows

    tel = SelfTelemetry()
    metrics = GenAIMetrics(tel)
    for t in trees:
        metrics.record_tree(t)
    async with metrics_server(tel) as target, aiohttp.ClientSession() as http:
        with prometheus(tmp_path, target, [fast_rules(tmp_path)]) as prom:
            deadline = time.monotonic() + DEADLINE_S
            await until(lambda: query(http, prom, 'up{job="tokenwatch"} == 1'), deadline, "target up")
            # every GenAI metric the rules read is on the scrape under the name the rules use
            for name in ("tokenwatch_tokens_total", "tokenwatch_cost_USD_total", "tokenwatch_calls_total",
                         "tokenwatch_outcomes_total", "tokenwatch_trace_waste_score_bucket",
                         "tokenwatch_trace_cost_USD_count", "tokenwatch_outcome_spend_USD",
                         "tokenwatch_outcome_trees"):
                await until(lambda n=name: query(http, prom, n), deadline, f"{name} scraped")
            # the same traffic again: the counters move, so the increase() rules have something to see
            for t in trees:
                metrics.record_tree(t)
            groups = yaml.safe_load(RULES.read_text())["groups"]
            recorded = [r["record"] for g in groups for r in g["rules"] if "record" in r]
            for name in recorded:
                await until(lambda n=name: query(http, prom, n), deadline, f"recording rule {name} has a series")
            for wf, costs in success.items():
                got = await query(http, prom, f'tokenwatch:spend_per_success:usd_total{{workflow="{wf}"}}')
                assert float(got[0]["value"][1]) == pytest.approx(sum(costs) / len(costs), rel=1e-9), wf
            # wasted spend by reason: exactly the reasons whose counted calls wasted USD in the trees
            want = {e.call.waste_reason for t in trees for e in t.spans if e.call is not None and e.call.counted
                    and e.call.waste_reason and e.call.waste_cost_usd > 0}
            assert len(want) >= 3, want
            wasted = await query(http, prom, "tokenwatch:wasted_spend_by_reason:usd_1h")
            assert {s["metric"]["waste_reason"] for s in wasted} == want
            async with http.get(f"{prom}/api/v1/rules") as r:
                rules = (await r.json())["data"]["groups"]
            broken = {r["name"]: r.get("lastError") for g in rules for r in g["rules"] if r["health"] == "err"}
            assert not broken, broken
            assert sum(len(g["rules"]) for g in rules) == sum(len(g["rules"]) for g in groups)
    tel.shutdown()
