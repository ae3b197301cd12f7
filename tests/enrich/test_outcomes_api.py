"""Late outcomes over HTTP and gRPC (generated stubs): before the tree, after it, twice, unknown, bad."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import grpc
import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.outcome.v1 import outcome_pb2, outcome_pb2_grpc
from tests.conftest import FIXTURES, grpc_endpoint, http_endpoint, running, service_config, wait_for
from tests.relay.spans import by_span_id, read_file, strip_tokenwatch

TOKEN = "s3cret-token"


def healthy_request():  # type: ignore[no-untyped-def]
    for rec in read(Path(FIXTURES) / "openai-v2.jsonl"):
        if rec.signal == "traces" and rec.meta.get("scenario") == "healthy":
            return rec.request
    raise AssertionError("no healthy scenario in the fixture")


def config(tmp: Path) -> dict:
    return service_config(tmp, processors={"assemble": {"tree_idle": "100ms"},
                                           "enrich": {"outcome": {"auth_token": TOKEN}}},
                          traces_processors=["assemble", "enrich"],
                          exporters={"file": {"path": str(tmp / "out.jsonl")}})


def roots(path: Path) -> dict[str, dict]:
    out = {}
    for _, _, s in by_span_id(read_file(path)).values():
        if not s.parent_span_id:
            out[s.trace_id.hex()] = {k: v for k, v in strip_tokenwatch(s)[1].items()}
    return out


async def test_outcomes_before_after_twice_over_http_and_grpc(tmp_path: Path) -> None:
    req = healthy_request()
    trace_ids = sorted({s.trace_id.hex() for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans})
    assert len(trace_ids) == 2
    first, second = trace_ids
    out = tmp_path / "out.jsonl"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with running(config(tmp_path)) as svc, aiohttp.ClientSession() as http:
        url = http_endpoint(svc) + "/v1/outcomes"
        # before its tree: held
        async with http.post(url, json={"trace_id": first, "outcome": "success", "kpis": {"cycle_time_s": 840}},
                             headers=auth) as r:
            assert r.status == 202 and await r.json() == {"applied": 0, "held": 1, "duplicates": 0}
        async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
            stub = outcome_pb2_grpc.OutcomeServiceStub(ch)
            call = ch.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
            await call(req.SerializeToString(), timeout=5)
            await wait_for(lambda: len(roots(out)) == 2)
            got = roots(out)
            assert got[first][semconv.OUTCOME].string_value == "success"
            assert got[first][semconv.OUTCOME_SOURCE].string_value == "reported"
            assert got[first]["tokenwatch.outcome.kpi.cycle_time_s"].double_value == 840
            assert got[second][semconv.OUTCOME].string_value == "unknown"
            # after its tree, over gRPC: applied, and one tokenwatch.outcome span joins the trace
            md = (("authorization", f"Bearer {TOKEN}"),)
            resp = await stub.Report(outcome_pb2.ReportRequest(outcomes=[outcome_pb2.Outcome(
                trace_id=second, outcome="failure", kpis={"defects": 2})]), metadata=md, timeout=5)
            assert (resp.applied, resp.held, resp.duplicates) == (1, 0, 0)
            resp = await stub.Report(outcome_pb2.ReportRequest(outcomes=[outcome_pb2.Outcome(
                trace_id=second, outcome="failure", kpis={"defects": 2})]), metadata=md, timeout=5)
            assert resp.duplicates == 1
            root_id = next(s.span_id for _, _, s in by_span_id(read_file(out)).values()
                           if s.trace_id.hex() == second and not s.parent_span_id)
            await wait_for(lambda: any(s.name == "tokenwatch.outcome" for _, _, s in by_span_id(read_file(out)).values()))
            spans = [s for _, _, s in by_span_id(read_file(out)).values() if s.name == "tokenwatch.outcome"]
            assert len(spans) == 1
            span = spans[0]
            assert span.trace_id.hex() == second and span.parent_span_id == root_id
            attrs = strip_tokenwatch(span)[1]
            assert attrs[semconv.OUTCOME].string_value == "failure"
            assert attrs["tokenwatch.outcome.kpi.defects"].double_value == 2
            # bad requests over gRPC
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.Report(outcome_pb2.ReportRequest(outcomes=[outcome_pb2.Outcome(
                    trace_id=second, outcome="great")]), metadata=md, timeout=5)
            assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "outcome" in (e.value.details() or "")
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await stub.Report(outcome_pb2.ReportRequest(outcomes=[outcome_pb2.Outcome(
                    trace_id=second, outcome="success")]), timeout=5)
            assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # an unknown trace: held
        async with http.post(url, json=[{"trace_id": "ab" * 16, "outcome": "abandoned"}], headers=auth) as r:
            assert (await r.json())["held"] == 1
        text = svc.telemetry.prometheus_text().decode()
        assert 'tokenwatch_outcome_reports_total{result="duplicate"} 1.0' in text
        assert 'tokenwatch_outcome_reports_total{result="held"} 2.0' in text


async def test_bad_outcome_requests_change_nothing(tmp_path: Path) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with running(config(tmp_path)) as svc, aiohttp.ClientSession() as http:
        url = http_endpoint(svc) + "/v1/outcomes"
        cases = [
            ({"trace_id": "ab" * 16, "outcome": "great"}, auth, 400, "outcome.outcome"),
            ({"trace_id": "xyz", "outcome": "success"}, auth, 400, "outcome.trace_id"),
            ({"outcome": "success"}, auth, 400, "trace_id or a conversation_id"),
            ({"trace_id": "ab" * 16, "outcome": "success", "kpis": {"x": "many"}}, auth, 400, "kpis.x"),
            ({"trace_id": "ab" * 16, "outcome": "success"}, {}, 401, "bearer"),
            ({"trace_id": "ab" * 16, "outcome": "success"}, {"Authorization": "Bearer nope"}, 401, "bearer"),
        ]
        for body, headers, status, words in cases:
            async with http.post(url, json=body, headers=headers) as r:
                assert r.status == status, body
                assert words in (await r.json())["message"]
        import json

        big = json.dumps([{"outcome": "success", "trace_id": "ab" * 16}] * 30000).encode()
        assert len(big) > 2**20
        async with http.post(url, data=big, headers={**auth, "Content-Type": "application/json"}) as r:
            assert r.status == 413
        async with http.post(url, data=b"{", headers={**auth, "Content-Type": "application/json"}) as r:
            assert r.status == 400
        text = svc.telemetry.prometheus_text().decode()
        assert 'result="held"' not in text and 'result="applied"' not in text
        assert 'tokenwatch_outcome_reports_total{result="rejected"} 8.0' in text


def test_generated_outcome_code_is_fresh() -> None:
    from otel_tokenwatch.outcome.codegen import main

    assert main(["--check"]) == 0, "run python -m otel_tokenwatch.outcome.codegen"


async def test_an_outcome_for_an_unknown_trace_is_held_then_expires_and_is_counted(tmp_path: Path) -> None:
    import asyncio

    cfg = config(tmp_path)
    cfg["processors"]["enrich"]["outcome"]["pending_ttl"] = "300ms"
    async with running(cfg) as svc, aiohttp.ClientSession() as http:
        async with http.post(http_endpoint(svc) + "/v1/outcomes", json={"trace_id": "cd" * 16, "outcome": "failure"},
                             headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            assert (await r.json())["held"] == 1
        await asyncio.sleep(0.8)
        text = svc.telemetry.prometheus_text().decode()
        assert 'tokenwatch_outcome_reports_total{result="expired"} 1.0' in text
