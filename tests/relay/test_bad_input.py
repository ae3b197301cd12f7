"""Bad input gets the OTLP answer (400/413/415, INVALID_ARGUMENT), is counted, and the service keeps serving."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import aiohttp
import grpc
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tests.conftest import grpc_endpoint, http_endpoint, otlp_receiver, running, service_config, wait_for
from tests.relay.spans import by_span_id, read_file

TRACE_ID = "5b8efff798038103d269b633813fc60c"


def otlp_json(n: int, trace_id: str = TRACE_ID) -> dict:
    spans = [{"traceId": trace_id, "spanId": f"{i + 1:016x}", "name": f"s{i}", "kind": 1,
              "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000",
              "attributes": [{"key": "n", "value": {"intValue": str(i)}}]} for i in range(n)]
    return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name",
                                                            "value": {"stringValue": "curl"}}]},
                               "scopeSpans": [{"scope": {"name": "curl"}, "spans": spans}]}]}


def refused(svc, reason: str) -> float:
    text = svc.telemetry.prometheus_text().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("tokenwatch_receiver_refused") and f'reason="{reason}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_http_json_plain_and_gzip_like_curl(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    cfg = service_config(tmp_path, exporters={"file": {"path": str(out)}})
    async with running(cfg) as svc, aiohttp.ClientSession() as http:
        url = http_endpoint(svc) + "/v1/traces"
        body = json.dumps(otlp_json(3)).encode()
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
            assert r.status == 200 and r.content_type == "application/json"
            assert await r.json() == {}
        gz = gzip.compress(json.dumps(otlp_json(2, "aa" * 16)).encode())
        async with http.post(url, data=gz, headers={"Content-Type": "application/json",
                                                    "Content-Encoding": "gzip"}) as r:
            assert r.status == 200
        await wait_for(lambda: len(by_span_id(read_file(out))) == 5)
    got = by_span_id(read_file(out))
    assert {s.trace_id.hex() for _, _, s in got.values()} == {TRACE_ID, "aa" * 16}
    assert sorted(s.name for _, _, s in got.values()) == ["s0", "s0", "s1", "s1", "s2"]


async def test_http_bad_input_answers_and_survives(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    recv = {"otlp": otlp_receiver(http_settings={"max_request_body_size": "64KiB"})}
    cfg = service_config(tmp_path, receivers=recv, exporters={"file": {"path": str(out)}})
    async with running(cfg) as svc, aiohttp.ClientSession() as http:
        url = http_endpoint(svc) + "/v1/traces"
        # not protobuf
        async with http.post(url, data=b"\xff\xff\xff\xff garbage",
                             headers={"Content-Type": "application/x-protobuf"}) as r:
            assert r.status == 400
            st = status_pb2.Status.FromString(await r.read())
            assert "protobuf" in st.message and st.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        # not JSON
        async with http.post(url, data=b"{not json", headers={"Content-Type": "application/json"}) as r:
            assert r.status == 400
            assert "OTLP/JSON" in (await r.json())["message"]
        # a hex id that is not hex
        bad = otlp_json(1)
        bad["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "zz"
        async with http.post(url, json=bad) as r:
            assert r.status == 400 and "spanId" in (await r.json())["message"]
        # unknown content type
        async with http.post(url, data=b"x", headers={"Content-Type": "text/plain"}) as r:
            assert r.status == 415
        # too large, as sent and as inflated (a gzip bomb)
        async with http.post(url, data=b"\0" * (65 * 1024), headers={"Content-Type": "application/x-protobuf"}) as r:
            assert r.status == 413
        bomb = gzip.compress(b"\0" * (8 * 2**20))
        assert len(bomb) < 64 * 1024
        async with http.post(url, data=bomb, headers={"Content-Type": "application/x-protobuf",
                                                      "Content-Encoding": "gzip"}) as r:
            assert r.status == 413
        async with http.post(url, data=b"not gzip", headers={"Content-Type": "application/x-protobuf",
                                                             "Content-Encoding": "gzip"}) as r:
            assert r.status == 400
        # still serving, and a good request after all that is answered as OTLP says
        async with http.post(url, json=otlp_json(1)) as r:
            assert r.status == 200
        async with http.post(url, data=b"", headers={"Content-Type": "application/x-protobuf"}) as r:
            assert r.status == 200
            ExportTraceServiceResponse.FromString(await r.read())
        assert refused(svc, "bad_request") == 4
        assert refused(svc, "media_type") == 1
        assert refused(svc, "too_large") == 2


async def test_grpc_bad_input_is_invalid_argument_and_survives(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    cfg = service_config(tmp_path, exporters={"file": {"path": str(out)}})
    async with running(cfg) as svc:
        async with grpc.aio.insecure_channel(grpc_endpoint(svc)) as ch:
            call = ch.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
            try:
                await call(b"\xff\xff\xff\xff garbage", timeout=5)
                raise AssertionError("garbage was accepted")
            except grpc.aio.AioRpcError as e:
                assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
                assert "protobuf" in (e.details() or "")
            assert await call(b"", timeout=5) == b""
        assert refused(svc, "bad_request") == 1


async def test_item_and_memory_limits_refuse_with_clear_answers(tmp_path: Path) -> None:
    import asyncio

    cfg = service_config(tmp_path, exporters={"file": {"path": str(tmp_path / "o.jsonl")}})
    cfg["service"]["max_items_per_request"] = 10
    async with running(cfg) as svc, aiohttp.ClientSession() as http:
        url = http_endpoint(svc) + "/v1/traces"
        async with http.post(url, json=otlp_json(11)) as r:
            assert r.status == 413 and "max_items_per_request" in (await r.json())["message"]
        async with http.post(url, json=otlp_json(10)) as r:
            assert r.status == 200
        many = otlp_json(1)
        many["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = [
            {"key": f"k{i}", "value": {"intValue": str(i)}} for i in range(1100)]
        async with http.post(url, json=many) as r:
            assert r.status == 413 and "max_attributes_per_span" in (await r.json())["message"]
        huge = otlp_json(1)
        huge["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = [
            {"key": "blob", "value": {"stringValue": "x" * (2**20 + 10)}}]
        async with http.post(url, json=huge) as r:
            assert r.status == 413 and "max_span_size" in (await r.json())["message"]
    cfg["service"]["memory_limit"] = "1MiB"  # far below any Python process: always over
    async with running(cfg) as svc, aiohttp.ClientSession() as http:
        await asyncio.sleep(0.3)  # the ticker measures memory every 100 ms
        async with http.post(http_endpoint(svc) + "/v1/traces", json=otlp_json(1)) as r:
            assert r.status == 429 and r.headers["Retry-After"] == "1"
            assert "memory_limit" in (await r.json())["message"]
        assert svc.status()["rss_bytes"] > 2**20
