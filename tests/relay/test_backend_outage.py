"""A backend that is down, then throttles, still gets every span once it is back; refusals are counted."""

from __future__ import annotations

import asyncio
from pathlib import Path

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.conftest import grpc_endpoint, running, service_config, wait_for
from tests.relay.backends import FlakyGrpcBackend, FlakyHttpBackend, free_port
from tests.relay.spans import by_span_id, expected, make_traces

FAST_RETRY = {"initial_interval": "100ms", "max_interval": "500ms", "max_elapsed_time": "60s"}


def metric(svc, name: str, **labels: str) -> float:
    total = 0.0
    for line in svc.telemetry.prometheus_text().decode().splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_down_then_throttling_backends_receive_every_span(tmp_path: Path) -> None:
    traces = make_traces(60, seed=3)
    total = sum(len(t) for t in traces)
    gport, hport = free_port(), free_port()
    grpc_backend = FlakyGrpcBackend(fail_first=3, retry_delay=0.3, port=gport)
    http_backend = FlakyHttpBackend(fail_first=2, port=hport)
    cfg = service_config(tmp_path, processors={"assemble": {"tree_idle": "100ms"}}, traces_processors=["assemble"],
                         exporters={"otlp": {"endpoint": f"127.0.0.1:{gport}", "tls": {"insecure": True},
                                             "retry_on_failure": FAST_RETRY, "timeout": "2s",
                                             "sending_queue": {"num_consumers": 1}},
                                    "otlphttp": {"endpoint": f"http://127.0.0.1:{hport}",
                                                 "retry_on_failure": FAST_RETRY, "timeout": "2s",
                                                 "sending_queue": {"num_consumers": 1}}})
    async with running(cfg) as svc:
        exp = GrpcSpanExporter(endpoint=grpc_endpoint(svc), insecure=True)
        for spans in traces:
            assert await asyncio.to_thread(exp.export, spans) == SpanExportResult.SUCCESS
        exp.shutdown()
        # both backends are down: the exporters retry with backoff
        await wait_for(lambda: metric(svc, "tokenwatch_exporter_retries") >= 4, timeout=20)
        await grpc_backend.start()
        await http_backend.start()
        try:
            want = set(expected(traces))
            await wait_for(lambda: set(by_span_id(grpc_backend.requests)) == want, timeout=30)
            await wait_for(lambda: set(by_span_id(http_backend.requests)) == want, timeout=30)
            assert grpc_backend.calls > len(grpc_backend.requests)  # UNAVAILABLE answers were retried
            # the RetryInfo delay (0.3 s) was honoured after each refusal, not the 0.1 s backoff
            waits = [b - a for a, b in zip(grpc_backend.call_times, grpc_backend.call_times[1:4])]
            assert len(waits) == 3 and all(w >= 0.28 for w in waits), waits
            assert http_backend.calls > len(http_backend.requests)  # 503 answers were retried
            hwaits = [b - a for a, b in zip(http_backend.call_times, http_backend.call_times[1:3])]
            assert len(hwaits) == 2 and all(w >= 0.95 for w in hwaits), hwaits  # Retry-After: 1
            await wait_for(lambda: metric(svc, "tokenwatch_exporter_sent", exporter="otlp") >= total)
            assert metric(svc, "tokenwatch_exporter_send_failed") == 0
            status = svc.status()
            assert status["exporters"]["otlp (traces)"]["sent_items"] == total
        finally:
            await grpc_backend.stop()
            await http_backend.stop()


async def test_permanent_rejection_is_dead_lettered_and_counted(tmp_path: Path) -> None:
    traces = make_traces(5, seed=4)
    total = sum(len(t) for t in traces)
    backend = FlakyHttpBackend(fail_first=10**6, status=400)
    url = await backend.start()
    cfg = service_config(tmp_path, exporters={"otlphttp": {"endpoint": url, "retry_on_failure": FAST_RETRY}},
                         durability="none")
    try:
        async with running(cfg) as svc:
            exp = GrpcSpanExporter(endpoint=grpc_endpoint(svc), insecure=True)
            for spans in traces:
                await asyncio.to_thread(exp.export, spans)
            exp.shutdown()
            await wait_for(lambda: metric(svc, "tokenwatch_exporter_send_failed", reason="http_400") >= total)
            assert metric(svc, "tokenwatch_exporter_retries") == 0  # 400 is permanent
        dead = tmp_path / "data" / "deadletter" / "otlphttp.traces.jsonl"
        from tests.relay.spans import read_file

        assert set(by_span_id(read_file(dead))) == set(expected(traces))
    finally:
        await backend.stop()


async def test_full_queue_refuses_with_retry_hint(tmp_path: Path) -> None:
    """Past the queue's capacity the receiver answers 429/RESOURCE_EXHAUSTED; nothing accepted is lost."""
    import aiohttp

    backend_port = free_port()  # nothing listens: the queue only fills
    cfg = service_config(tmp_path, exporters={"otlphttp": {
        "endpoint": f"http://127.0.0.1:{backend_port}", "retry_on_failure": FAST_RETRY,
        "sending_queue": {"queue_size": 50}}}, durability="none")
    from tests.relay.test_bad_input import otlp_json

    async with running(cfg) as svc, aiohttp.ClientSession() as http:
        url = "http://" + svc.endpoints()["otlp"]["http"] + "/v1/traces"
        codes = []
        for i in range(4):
            async with http.post(url, json=otlp_json(30, f"{i + 1:032x}")) as r:
                codes.append(r.status)
                if r.status == 429:
                    assert r.headers["Retry-After"] == "1"
        assert codes[:2] == [200, 200] and codes[2:] == [429, 429]
        assert metric(svc, "tokenwatch_receiver_refused", reason="backpressure") == 2
