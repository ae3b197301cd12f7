"""The exporter plugin in a real instrumented app: `opentelemetry-instrument` with OTEL_TRACES_EXPORTER=tokenwatch."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_tokenwatch import semconv
from otel_tokenwatch.otlp.jsoncodec import dumps
from tests.relay.backends import FlakyGrpcBackend
from tests.relay.spans import by_span_id, strip_tokenwatch
from tests.sdk.fake_llm import FakeLLM

HERE = Path(__file__).parent


async def test_instrumented_app_exports_enriched_spans_that_match_tokenwatch_score(tmp_path: Path) -> None:
    llm, backend = FakeLLM(), FlakyGrpcBackend()
    llm_url = await llm.start()
    ep = await backend.start()
    env = {**os.environ, "FAKE_LLM_URL": llm_url, "OTEL_TRACES_EXPORTER": "tokenwatch",
           "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none", "OTEL_SERVICE_NAME": "faq-bot",
           "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{ep}", "OTEL_EXPORTER_OTLP_INSECURE": "true",
           "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "TOKENWATCH_TREE_IDLE": "0.2",
           "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "aiohttp-client,aiohttp-server,requests,urllib,urllib3,httpx,grpc_client,grpc_server,grpc_aio_client,grpc_aio_server"}
    try:
        instrument = str(Path(sys.executable).parent / "opentelemetry-instrument")
        proc = await asyncio.create_subprocess_exec(instrument, sys.executable, str(HERE / "app.py"), env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 90)
        assert proc.returncode == 0, err.decode()[-3000:]
        got = by_span_id(backend.requests)
    finally:
        await llm.stop()
        await backend.stop()
    assert len(llm.requests) == 4
    spans = [s for _, _, s in got.values()]
    roots = [s for s in spans if not s.parent_span_id]
    assert len(roots) == 2
    scores = {}
    for r in roots:
        a = strip_tokenwatch(r)[1]
        scores[r.trace_id] = a[semconv.TRACE_WASTE_SCORE].double_value
    dup = [s for s in spans if strip_tokenwatch(s)[1].get(semconv.WASTE_REASON) is not None]
    assert [strip_tokenwatch(s)[1][semconv.WASTE_REASON].string_value for s in dup] == ["duplicate"]
    low, high = sorted(scores.values())
    assert low == 0.0 and 0.3 < high < 0.4  # 1 of 3 equal calls
    ok_root = next(r for r in roots if scores[r.trace_id] == 0.0)
    assert strip_tokenwatch(ok_root)[1][semconv.OUTCOME].string_value == "success"  # report_outcome() in the app

    # the same spans, without tokenwatch's attributes, through `tokenwatch score` give the same scores
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    clean = tmp_path / "clean.jsonl"
    with clean.open("wb") as f:
        for req in backend.requests:
            c = ExportTraceServiceRequest()
            c.CopyFrom(req)
            for rs in c.resource_spans:
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        s.CopyFrom(strip_tokenwatch(s)[0])
            f.write(dumps(c) + b"\n")
    import json
    import subprocess

    r = await asyncio.to_thread(  # off the event loop
        subprocess.run, [sys.executable, "-m", "otel_tokenwatch", "score", "-f", "json", "--no-progress", str(clean)],
        capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stderr
    cli = {t["trace_id"]: t["waste_score"] for t in json.loads(r.stdout)["traces"]}
    assert cli == {t.hex(): s for t, s in scores.items()}


def test_force_flush_delivers_open_trees_and_a_failing_stage_still_exports() -> None:
    from otel_tokenwatch.sdk.exporter import TokenwatchSpanExporter

    sink = InMemorySpanExporter()
    exp = TokenwatchSpanExporter(downstream=sink)

    def broken(trees: list[object]) -> Iterator[object]:
        yield from ()
        raise ZeroDivisionError

    exp.chain.processors[-1].process_many_steps = broken  # type: ignore[attr-defined]  # break the score stage
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exp))
    tracer = tp.get_tracer("t")
    with tracer.start_as_current_span("workflow"), tracer.start_as_current_span("chat gpt-4o-mini", attributes={
            "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10}):
        pass
    assert exp.force_flush(5000)
    out = sink.get_finished_spans()
    assert len(out) == 2  # delivered before the idle time passed
    chat = next(s for s in out if s.name.startswith("chat"))
    assert chat.attributes["tokenwatch.cost_usd"] > 0  # normalize ran
    assert "tokenwatch.trace.waste_score" not in next(s for s in out if s.name == "workflow").attributes
    assert exp.failed_trees == 1
    exp.shutdown()
    assert exp.export([]) == SpanExportResult.FAILURE


def test_past_the_queue_bound_spans_go_out_unscored_and_counted() -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from otel_tokenwatch.sdk.exporter import TokenwatchSpanExporter

    reader = InMemoryMetricReader()
    sink = InMemorySpanExporter()
    exp = TokenwatchSpanExporter(downstream=sink, meter_provider=MeterProvider(metric_readers=[reader]),
                                 max_queue_spans=1)
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(exp))
    tracer = tp.get_tracer("t")
    exp.queued_spans = 1  # the queue is full
    with tracer.start_as_current_span("burst"):
        pass
    assert [s.name for s in sink.get_finished_spans()] == ["burst"]  # delivered at once, unscored
    points = [dp.value for rm in reader.get_metrics_data().resource_metrics for sm in rm.scope_metrics
              for m in sm.metrics if m.name == "tokenwatch.sdk.unscored_spans" for dp in m.data.data_points]
    assert points == [1]
    exp.queued_spans = 0
    exp.shutdown()
