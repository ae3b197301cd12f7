"""`tokenwatch serve` and `tokenwatch score` run the same stages: the same spans get the same scores."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.report.score_cli import Progress, score_files
from tests.conftest import FIXTURES, grpc_endpoint, running, service_config, wait_for

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def scored_roots(path: Path) -> dict[str, dict[str, object]]:
    """trace id -> the score attributes on its root, as the service exported them."""
    if not path.exists():
        return {}
    data = path.read_bytes()
    snap = path.with_suffix(".snap")
    snap.write_bytes(data[:data.rfind(b"\n") + 1])
    out: dict[str, dict[str, object]] = {}
    for rec in read(snap):
        for rs in rec.request.resource_spans:  # type: ignore[attr-defined]
            for ss in rs.scope_spans:
                for s in ss.spans:
                    attrs = {kv.key: kv.value for kv in s.attributes}
                    if semconv.TRACE_WASTE_SCORE in attrs:
                        out[s.trace_id.hex()] = {
                            "waste_score": attrs[semconv.TRACE_WASTE_SCORE].double_value,
                            "top_reason": attrs[semconv.TRACE_TOP_REASON].string_value,
                            "units": attrs[semconv.TRACE_UNITS].string_value}
    return out


@pytest.mark.parametrize("source", ["openinference-openai.jsonl", "pydantic-ai.jsonl", "openai-v2-latest.jsonl"])
async def test_service_and_score_cli_agree(tmp_path: Path, source: str) -> None:
    src = Path(FIXTURES) / source
    cli = {r.trace_id: {"waste_score": r.waste_score, "top_reason": r.top_reason, "units": r.units}
           for r in score_files([str(src)], None, Progress(False))}
    assert cli and any(v["waste_score"] > 0 for v in cli.values())
    out = tmp_path / "traces.jsonl"
    stages = ["assemble", "normalize", "enrich", "score"]
    cfg = service_config(tmp_path, processors={"assemble": {"tree_idle": "100ms"}, "normalize": None,
                                               "enrich": None, "score": None},
                         traces_processors=stages, exporters={"file": {"path": str(out)}})
    async with running(cfg) as svc:
        async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
            export = ch.unary_unary(EXPORT)
            for rec in read(src):
                if rec.signal == "traces":
                    await export(rec.request.SerializeToString(), timeout=10)  # type: ignore[attr-defined]
        await wait_for(lambda: set(cli) <= set(scored_roots(out)), timeout=30)
    served = scored_roots(out)
    assert {t: served[t] for t in cli} == cli
