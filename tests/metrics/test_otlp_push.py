"""tokenwatch's own metrics pushed as OTLP through the metrics pipeline to a real OTLP/HTTP backend."""

from __future__ import annotations

from pathlib import Path

import grpc

from otel_tokenwatch.otlp.files import read
from tests.conftest import FIXTURES, grpc_endpoint, http_endpoint, running, service_config, wait_for


async def test_genai_metrics_reach_a_second_tokenwatch_over_otlp_http(tmp_path: Path) -> None:
    sink_file = tmp_path / "sink-metrics.jsonl"
    sink_cfg = service_config(tmp_path / "sink", exporters={"file": {"path": str(tmp_path / "sink-traces.jsonl")}},
                              metrics_logs=True)
    sink_cfg["exporters"]["file/metrics"]["path"] = str(sink_file)
    async with running(sink_cfg) as sink:
        cfg = service_config(tmp_path / "tw", processors={"assemble": {"tree_idle": "100ms"}, "normalize": None,
                                                          "enrich": None, "score": None},
                             traces_processors=["assemble", "normalize", "enrich", "score"],
                             exporters={"file": {"path": str(tmp_path / "t.jsonl")},
                                        "otlphttp/metrics": {"endpoint": http_endpoint(sink)}})
        cfg["service"]["pipelines"]["metrics"] = {"receivers": ["otlp"], "exporters": ["otlphttp/metrics"]}
        cfg["service"]["telemetry"]["metrics"] = {"export_interval": 0.3}
        async with running(cfg) as tw:
            async with grpc.aio.insecure_channel(grpc_endpoint(tw)) as ch:
                for rec in read(Path(FIXTURES) / "openlit-openai.jsonl"):
                    if rec.signal == "traces":
                        for rs in rec.request.resource_spans:  # type: ignore[attr-defined]
                            for ss in rs.scope_spans:
                                for sp in ss.spans:  # a person on every span, as apps often record
                                    sp.attributes.add(key="enduser.id").value.string_value = "alice@example.com"
                        await ch.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")(
                            rec.request.SerializeToString(), timeout=10)

            def names() -> set[str]:
                if not sink_file.exists():
                    return set()
                data = sink_file.read_bytes()
                snap = tmp_path / "snap.jsonl"
                snap.write_bytes(data[:data.rfind(b"\n") + 1])
                return {m.name for r in read(snap) if r.signal == "metrics"
                        for rm in r.request.resource_metrics  # type: ignore[attr-defined]
                        for sm in rm.scope_metrics for m in sm.metrics}

            await wait_for(lambda: {"tokenwatch.tokens", "tokenwatch.cost", "tokenwatch.trace.waste_score",
                                    "tokenwatch.receiver.accepted"} <= names(), timeout=20)
        # privacy: the person on every span is in no metric that was sent
        assert b"alice" not in sink_file.read_bytes()
