"""The foundation's promise: SDK exporters in, every span out, unchanged but for tokenwatch.* attributes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.conftest import grpc_endpoint, http_endpoint, running, service_config, wait_for
from tests.relay.spans import by_span_id, expected, make_traces, read_file, strip_tokenwatch


async def test_sdk_exporters_through_two_tokenwatches_to_files(tmp_path: Path) -> None:
    traces = make_traces(400)
    total = sum(len(t) for t in traces)
    assert total > 3000
    b_out = tmp_path / "b.jsonl"
    a_out = tmp_path / "a.jsonl"
    b_cfg = service_config(tmp_path / "b", exporters={"file": {"path": str(b_out)}})
    async with running(b_cfg) as b:
        a_cfg = service_config(
            tmp_path / "a", processors={"assemble": {"tree_idle": "300ms", "tree_max_wait": "20s"}},
            traces_processors=["assemble"],
            exporters={"file": {"path": str(a_out)},
                       "otlp": {"endpoint": grpc_endpoint(b), "tls": {"insecure": True}}})
        async with running(a_cfg) as a:
            grpc_exp = GrpcSpanExporter(endpoint=grpc_endpoint(a), insecure=True)
            http_exp = HttpSpanExporter(endpoint=http_endpoint(a) + "/v1/traces")
            results = []
            for i, spans in enumerate(traces):
                root = [s for s in spans if s.parent is None]
                children = [s for s in spans if s.parent is not None]
                if i % 3 == 0:  # children over gRPC, the root later over HTTP: a late root, mixed transports
                    results.append(await asyncio.to_thread(grpc_exp.export, children))
                    results.append(await asyncio.to_thread(http_exp.export, root))
                elif i % 3 == 1:  # children in separate requests
                    half = len(children) // 2
                    results.append(await asyncio.to_thread(http_exp.export, children[:half]))
                    results.append(await asyncio.to_thread(grpc_exp.export, children[half:] + root))
                else:
                    results.append(await asyncio.to_thread(grpc_exp.export, spans))
            grpc_exp.shutdown()
            http_exp.shutdown()
            assert all(r == SpanExportResult.SUCCESS for r in results)
            await wait_for(lambda: len(by_span_id(read_file(a_out))) >= total, timeout=30)
            await wait_for(lambda: len(by_span_id(read_file(b_out))) >= total, timeout=30)
            status = a.status()
    want = expected(traces)
    for name, path in (("file", a_out), ("second tokenwatch", b_out)):
        got = by_span_id(read_file(path))
        assert set(got) == set(want), f"{name}: spans missing or extra"
        for sid, (res, scope, span) in want.items():
            g_res, g_scope, g_span = got[sid]
            clean, ours = strip_tokenwatch(g_span)
            assert clean == span, f"{name}: span {span.name} changed"
            assert g_res == res and g_scope == scope
            if not span.parent_span_id:
                assert ours["tokenwatch.trace.complete"].bool_value is True
                assert ours["tokenwatch.trace.spans"].int_value == sum(
                    1 for s in want.values() if s[2].trace_id == span.trace_id)
            else:
                assert not ours, f"{name}: unexpected attributes on a child: {sorted(ours)}"
    pipe = status["pipelines"][0]
    assert pipe["items_in"] == total and pipe["items_out"] == total
    assert pipe["released"].get("complete") == len(traces)


async def test_metrics_and_logs_pass_through_untouched(tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    cfg = service_config(tmp_path, exporters={"file": {"path": str(tmp_path / "t.jsonl")}}, metrics_logs=True)
    reader = InMemoryMetricReader()
    mp = MeterProvider(metric_readers=[reader])
    c = mp.get_meter("m").create_counter("requests")
    for i in range(5):
        c.add(i + 1, {"route": f"/r{i}"})
    data = reader.get_metrics_data()
    mem = InMemoryLogExporter()
    lp = LoggerProvider()
    lp.add_log_record_processor(SimpleLogRecordProcessor(mem))
    logger = lp.get_logger("l")
    import logging as _l

    from opentelemetry.sdk._logs import LoggingHandler

    pylog = _l.getLogger("tw-test-logs")
    pylog.addHandler(LoggingHandler(logger_provider=lp))
    pylog.warning("hello %s", "world")
    del logger
    async with running(cfg) as svc:
        mexp = OTLPMetricExporter(endpoint=http_endpoint(svc) + "/v1/metrics")
        lexp = OTLPLogExporter(endpoint=grpc_endpoint(svc), insecure=True)
        await asyncio.to_thread(mexp.export, data)
        await asyncio.to_thread(lexp.export, list(mem.get_finished_logs()))
        mexp.shutdown()
        lexp.shutdown()
        mfile, lfile = tmp_path / "metrics.jsonl", tmp_path / "logs.jsonl"
        await wait_for(lambda: mfile.exists() and lfile.exists() and mfile.stat().st_size > 0
                       and lfile.stat().st_size > 0)
    from otel_tokenwatch.otlp.files import read

    metrics = [r.request for r in read(mfile)]
    points = [dp.as_int for req in metrics for rm in req.resource_metrics for sm in rm.scope_metrics  # type: ignore[attr-defined]
              for m in sm.metrics for dp in m.sum.data_points]
    assert sorted(points) == [1, 2, 3, 4, 5]
    logs = [r.request for r in read(lfile)]
    bodies = [lr.body.string_value for req in logs for rl in req.resource_logs  # type: ignore[attr-defined]
              for sl in rl.scope_logs for lr in sl.log_records]
    assert bodies == ["hello world"]
