"""A real Prometheus scrapes tokenwatch while the fixtures are replayed over OTLP: alerts fire, rules compute."""

from __future__ import annotations

import asyncio
import urllib.parse
from decimal import Decimal
from pathlib import Path

import aiohttp
import grpc
import pytest
import yaml

from otel_tokenwatch.otlp.files import read
from tests.conftest import FIXTURES, grpc_endpoint, http_endpoint, running, service_config, wait_for
from tests.servers import http_json, prometheus

pytestmark = pytest.mark.server
RULES = Path(__file__).resolve().parents[2] / "collector-config" / "prometheus" / "tokenwatch-rules.yaml"


def fast_rules(tmp: Path) -> Path:
    """The shipped rules, evaluated every second and without `for:` waits, so a test can see them fire."""
    doc = yaml.safe_load(RULES.read_text())
    for g in doc["groups"]:
        g["interval"] = "1s"
        for r in g["rules"]:
            r.pop("for", None)
    out = tmp / "rules-fast.yaml"
    out.write_text(yaml.safe_dump(doc))
    return out


def requests(source: str, scenario: str) -> list[bytes]:
    return [r.request.SerializeToString() for r in read(Path(FIXTURES) / source)  # type: ignore[attr-defined]
            if r.signal == "traces" and r.meta.get("scenario") == scenario]


def query(base: str, q: str) -> list[dict]:
    doc = http_json(f"{base}/api/v1/query?query={urllib.parse.quote(q)}")
    return doc["data"]["result"]  # type: ignore[index,no-any-return]


def gpt4o_mini_cost(inp: int, out: int) -> Decimal:
    """By hand, from OpenAI's list price: $0.15 / $0.60 per million tokens."""
    return (Decimal("0.15") * inp + Decimal("0.60") * out) / 10**6


async def test_retry_storm_fires_and_spend_per_success_is_recorded(tmp_path: Path) -> None:
    cfg = service_config(tmp_path, processors={"assemble": {"tree_idle": "200ms"}, "normalize": None,
                                               "enrich": None, "score": None},
                         traces_processors=["assemble", "normalize", "enrich", "score"],
                         exporters={"file": {"path": str(tmp_path / "out.jsonl")}})
    async with running(cfg) as svc:
        loop = asyncio.get_running_loop()
        with prometheus(tmp_path, svc.admin.endpoint, [fast_rules(tmp_path)]) as prom:
            await wait_for(lambda: bool(query(prom, 'up{job="tokenwatch"} == 1')), timeout=30)
            healthy = requests("openai-v2-latest.jsonl", "healthy")[0]
            from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

            req = ExportTraceServiceRequest.FromString(healthy)
            triage = next(s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans
                          if not s.parent_span_id and any(kv.key == "gen_ai.workflow.name" for kv in s.attributes))
            chats = [s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans
                     if s.trace_id == triage.trace_id and s.name.startswith("chat")]
            expected = sum(gpt4o_mini_cost(*[next(int(kv.value.int_value) for kv in s.attributes if kv.key == k)
                                             for k in ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens")])
                           for s in chats)
            # the ticket closed: a success, reported before the trace
            async with aiohttp.ClientSession() as http, http.post(
                    http_endpoint(svc) + "/v1/outcomes",
                    json={"trace_id": triage.trace_id.hex(), "outcome": "success"}) as r:
                assert r.status == 202
            async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
                export = ch.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
                # phase 1 makes the series exist (Prometheus's increase() ignores a series' first value)
                for body in [healthy, *requests("openai-v2-latest.jsonl", "retry_storm")]:
                    await export(body, timeout=10)
                await wait_for(lambda: bool(query(prom, 'tokenwatch_calls_total{status="error"}')), timeout=30)
                await asyncio.sleep(2.5)
                for source in ("openinference-openai.jsonl", "openllmetry-openai.jsonl", "openlit-openai.jsonl",
                               "langfuse-openai.jsonl", "openai-v2.jsonl"):
                    for body in requests(source, "retry_storm"):
                        await export(body, timeout=10)

            def firing() -> bool:
                alerts = http_json(f"{prom}/api/v1/alerts")["data"]["alerts"]  # type: ignore[index]
                return any(a["labels"]["alertname"] == "TokenwatchRetryStorm" and a["state"] == "firing"
                           and a["labels"].get("workflow") == "order-status" for a in alerts)

            await wait_for(firing, timeout=40, interval=0.5)
            got = await loop.run_in_executor(None, query, prom,
                                             'tokenwatch:spend_per_success:usd_total{workflow="support-triage"}')
            assert got, "the recording rule returned nothing"
            # the dashboard's GenAI and assembly metrics are all on the scrape after the replay
            import json
            import re

            dash = json.loads((RULES.parents[1] / "grafana" / "tokenwatch-dashboard.json").read_text())
            text = svc.telemetry.prometheus_text().decode()
            scraped = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
            used = {n for p in dash["panels"] for t in p["targets"]
                    for n in re.findall(r"tokenwatch_[A-Za-z0-9_]+", t["expr"])}
            # refusals and dead letters appear only once one happens (tests/relay shows them)
            missing = used - scraped - {"tokenwatch_receiver_refused_total", "tokenwatch_exporter_send_failed_total"}
            assert not missing, missing
            assert abs(Decimal(got[0]["value"][1]) - expected) < Decimal("1e-9"), (got, expected)
