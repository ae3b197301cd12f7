"""The admin port (metrics, health, status page) and assembly bounds/late spans through a running service."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.conftest import http_endpoint, running, service_config, wait_for
from tests.relay.spans import by_span_id, read_file, strip_tokenwatch
from tests.relay.test_bad_input import otlp_json


def with_root(n_children: int, trace_id: str, root: bool = True, offset: int = 0) -> dict:
    body = otlp_json(n_children, trace_id)
    spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
    for i, s in enumerate(spans):
        s["spanId"] = f"{offset + i + 2:016x}"
        s["parentSpanId"] = f"{1:016x}"
    if root:
        spans.append({"traceId": trace_id, "spanId": f"{1:016x}", "name": "root",
                      "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000002000000000"})
    return body


async def test_admin_endpoints(tmp_path: Path) -> None:
    cfg = service_config(tmp_path, processors={"assemble": {"tree_idle": "100ms"}}, traces_processors=["assemble"],
                         exporters={"file": {"path": str(tmp_path / "o.jsonl")}})
    async with running(cfg) as svc, aiohttp.ClientSession() as http:
        async with http.post(http_endpoint(svc) + "/v1/traces", json=with_root(3, "ab" * 16)) as r:
            assert r.status == 200
        await wait_for(lambda: svc.status()["pipelines"][0]["items_out"] == 4)
        admin = "http://" + svc.admin.endpoint
        async with http.get(admin + "/healthz") as r:
            assert r.status == 200
        async with http.get(admin + "/readyz") as r:
            assert r.status == 200 and (await r.json())["status"] == "ready"
        async with http.get(admin + "/metrics") as r:
            text = await r.text()
            assert r.status == 200
            assert 'tokenwatch_receiver_accepted_total{receiver="otlp",signal="traces",transport="http"} 4.0' in text
            assert 'tokenwatch_assembler_trees_released_total{reason="complete"} 1.0' in text
            assert "tokenwatch_assembler_open_trees" in text
            assert "tokenwatch_exporter_queue_capacity" in text
        async with http.get(admin + "/status.json") as r:
            st = await r.json()
            assert st["pipelines"][0]["items_in"] == 4 and st["ready"] is True
        async with http.get(admin + "/") as r:
            page = await r.text()
            assert r.content_type == "text/html" and "Pipelines" in page and "file (traces)" in page
            assert "GenAI since start" in page and "memory" in page


async def test_bounds_release_early_and_late_spans_are_marked(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    cfg = service_config(tmp_path, processors={"assemble": {"tree_idle": "300ms", "max_open_traces": 4}},
                         traces_processors=["assemble"], exporters={"file": {"path": str(out)}})
    async with running(cfg) as svc, aiohttp.ClientSession() as http:
        url = http_endpoint(svc) + "/v1/traces"
        # ten trees whose children are still to come: only four may stay open
        for i in range(10):
            async with http.post(url, json=with_root(1, f"{i + 1:032x}")) as r:
                assert r.status == 200
        await wait_for(lambda: len(by_span_id(read_file(out))) == 20)
        roots = {s.trace_id.hex(): strip_tokenwatch(s)[1] for _, _, s in by_span_id(read_file(out)).values()
                 if s.name == "root"}
        early = [t for t, a in roots.items() if a["tokenwatch.trace.complete"].bool_value is False]
        assert len(early) == 6
        # a child of an already released tree: forwarded at once, marked late
        async with http.post(url, json=with_root(1, f"{1:032x}", root=False, offset=50)) as r:
            assert r.status == 200
        await wait_for(lambda: len(by_span_id(read_file(out))) == 21)
        late = [s for _, _, s in by_span_id(read_file(out)).values() if s.span_id == (52).to_bytes(8, "big")]
        assert strip_tokenwatch(late[0])[1]["tokenwatch.late"].bool_value is True
        assert svc.status()["pipelines"][0]["released"]["max_open_traces"] == 6
