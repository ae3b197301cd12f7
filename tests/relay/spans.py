"""Spans made by the OpenTelemetry SDK itself, and readers for what tokenwatch wrote out."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_tokenwatch.otlp.files import read


def make_traces(n_traces: int, seed: int = 7) -> list[list[ReadableSpan]]:
    """Traces of 3-20 spans: GenAI calls, tools, HTTP and DB spans, events, links, odd attribute types."""
    rnd = random.Random(seed)
    out: list[list[ReadableSpan]] = []
    providers = []
    for svc in ("support-bot", "billing-api"):
        mem = InMemorySpanExporter()
        tp = TracerProvider(resource=Resource.create({"service.name": svc, "deployment.environment": "test",
                                                      "host.cores": 2}))
        tp.add_span_processor(SimpleSpanProcessor(mem))
        providers.append((tp, mem))
    prev_ctx = None
    for i in range(n_traces):
        tp, mem = providers[i % 2]
        tracer = tp.get_tracer("app.scope", "1.2.3", schema_url="https://opentelemetry.io/schemas/1.30.0")
        mem.clear()
        links = [trace.Link(prev_ctx, {"link.kind": "previous"})] if prev_ctx is not None else []
        with tracer.start_as_current_span(f"workflow-{i % 7}", links=links,
                                          attributes={"app.workflow": f"wf-{i % 7}", "app.i": i}) as root:
            prev_ctx = root.get_span_context()
            for j in range(rnd.randint(2, 19)):
                kind = rnd.choice(["chat", "tool", "http", "db"])
                if kind == "chat":
                    with tracer.start_as_current_span("chat gpt-4o-mini", kind=trace.SpanKind.CLIENT, attributes={
                            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                            "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": rnd.randint(10, 900),
                            "gen_ai.usage.output_tokens": rnd.randint(1, 300),
                            "gen_ai.response.finish_reasons": ["stop"], "gen_ai.request.temperature": 0.2}) as s:
                        s.add_event("gen_ai.choice", {"index": 0, "finish_reason": "stop"})
                elif kind == "tool":
                    with tracer.start_as_current_span("execute_tool lookup", attributes={
                            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"}):
                        pass
                elif kind == "http":
                    with tracer.start_as_current_span("GET /orders", kind=trace.SpanKind.CLIENT, attributes={
                            "http.request.method": "GET", "http.response.status_code": 200,
                            "url.full": f"http://svc/orders/{j}", "flags": [True, False]}) as s:
                        s.set_status(trace.Status(trace.StatusCode.OK))
                else:
                    with tracer.start_as_current_span("SELECT orders", attributes={
                            "db.system.name": "postgresql", "db.query.text": "SELECT 1", "ratio": 0.5,
                            "ids": [1, 2, 3]}) as s:
                        s.record_exception(ValueError("boom"))
                        s.set_status(trace.Status(trace.StatusCode.ERROR, "boom"))
        out.append(list(mem.get_finished_spans()))
    return out


def by_span_id(requests: list[ExportTraceServiceRequest]) -> dict[bytes, tuple[Any, Any, Span]]:
    """trace id + span id -> (resource, scope, span) over several requests."""
    got: dict[bytes, tuple[Any, Any, Span]] = {}
    for req in requests:
        for rs in req.resource_spans:
            for ss in rs.scope_spans:
                for s in ss.spans:
                    got[s.trace_id + s.span_id] = (rs.resource, ss.scope, s)
    return got


def expected(traces: list[list[ReadableSpan]]) -> dict[bytes, tuple[Any, Any, Span]]:
    return by_span_id([encode_spans(spans) for spans in traces])


def read_file(path: Path) -> list[ExportTraceServiceRequest]:
    """The requests in a file another task may be appending to: complete lines only."""
    if not path.exists():
        return []
    data = path.read_bytes()
    complete = data[:data.rfind(b"\n") + 1]
    if not complete:
        return []
    snap = path.with_name(path.name + ".snapshot")
    snap.write_bytes(complete)
    return [r.request for r in read(snap) if r.signal == "traces"]  # type: ignore[misc]


def strip_tokenwatch(span: Span) -> tuple[Span, dict[str, Any]]:
    """The span without tokenwatch's own attributes, and those attributes."""
    clean = Span()
    clean.CopyFrom(span)
    del clean.attributes[:]
    ours: dict[str, Any] = {}
    for kv in span.attributes:
        if kv.key.startswith("tokenwatch."):
            ours[kv.key] = kv.value
        else:
            clean.attributes.append(kv)
    return clean, ours
