"""A real trace backend (Arize Phoenix, standing in for Jaeger/Tempo) gets tokenwatch's enriched spans."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from otel_tokenwatch.otlp.files import read
from tests.conftest import FIXTURES, grpc_endpoint, running, service_config, wait_for
from tests.servers import http_json, phoenix

pytestmark = pytest.mark.server


def attrs(span: dict) -> dict[str, object]:
    out: dict[str, object] = {}
    for kv in span.get("attributes") or []:
        v = kv.get("value") or {}
        out[kv["key"]] = next((x for x in v.values() if x is not None), None)
    return out


async def test_phoenix_receives_scores_and_reasons(tmp_path: Path) -> None:
    bodies = [r.request.SerializeToString() for r in read(Path(FIXTURES) / "openinference-openai.jsonl")  # type: ignore[attr-defined]
              if r.signal == "traces" and r.meta.get("scenario") in ("tool_loop", "tokenmaxx", "healthy")]
    with phoenix(tmp_path) as (base, grpc_ep):
        cfg = service_config(tmp_path, processors={"assemble": {"tree_idle": "200ms"}, "normalize": None,
                                                   "enrich": None, "score": None},
                             traces_processors=["assemble", "normalize", "enrich", "score"],
                             exporters={"otlp": {"endpoint": grpc_ep, "tls": {"insecure": True}}})
        async with running(cfg) as svc:
            async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
                export = ch.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
                for b in bodies:
                    await export(b, timeout=10)

            def spans() -> list[dict]:
                doc = http_json(f"{base}/v1/projects/default/spans/otlpv1?limit=1000")
                return doc.get("data") or []  # type: ignore[union-attr,no-any-return]

            await wait_for(lambda: svc.status()["exporters"]["otlp (traces)"]["sent_items"] > 0, timeout=30)
            # Phoenix ingests asynchronously: wait for every scored root, not just the first one
            await wait_for(lambda: sum("tokenwatch.trace.waste_score" in attrs(s) for s in spans()) >= 9, timeout=60,
                           interval=0.5)
            got = spans()
    roots = {s["trace_id"]: attrs(s) for s in got if "tokenwatch.trace.waste_score" in attrs(s)}
    assert len(roots) >= 9  # 2 healthy + 1 tool loop + 6 tokenmaxx traces
    loop_root = next(a for a in roots.values() if a.get("tokenwatch.workflow") == "order-agent")
    assert float(loop_root["tokenwatch.trace.waste_score"]) == 1.0  # type: ignore[arg-type]
    assert loop_root["tokenwatch.outcome"] == "abandoned"
    reasons = {attrs(s).get("tokenwatch.waste.reason") for s in got} - {None}
    assert {"loop", "duplicate", "uncached_prefix"} <= reasons
    healthy = [a for a in roots.values() if a.get("tokenwatch.workflow") == "support-triage"]
    assert healthy and all(float(a["tokenwatch.trace.waste_score"]) == 0.0 for a in healthy)  # type: ignore[arg-type]
