"""Trees from attribute dicts, for dialects the fixtures do not cover (documented meanings)."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otel_tokenwatch.otlp.wire import encode_attributes
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.tree import Tree

TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")


def tree_of(*spans: tuple[int, int, str, dict[str, Any]], scope: str = "app", error: set[int] | None = None) -> Tree:
    """Spans as (id, parent id or 0, name, attributes)."""
    asm = Assembler(AssembleConfig())
    asm.add(request_of(*spans, scope=scope, error=error), 0.0, None)
    return asm.flush(0.0)[0]


def request_of(*spans: tuple[int, int, str, dict[str, Any]], scope: str = "app", error: set[int] | None = None,
               service: str = "test") -> ExportTraceServiceRequest:
    """One request of spans (id, parent id or 0, name, attributes) of one trace, for tests that send it."""
    ss = ScopeSpans()
    ss.scope.name = scope
    for sid, parent, name, attrs in spans:
        s = Span(trace_id=TRACE, span_id=sid.to_bytes(8, "big"), name=name,
                 start_time_unix_nano=1_700_000_000_000_000_000 + sid, end_time_unix_nano=1_700_000_001_000_000_000)
        if parent:
            s.parent_span_id = parent.to_bytes(8, "big")
        if error and sid in error:
            s.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR))
        data = s.SerializeToString() + encode_attributes(list(attrs.items()))
        ss.spans.append(Span.FromString(data))
    rs = ResourceSpans(scope_spans=[ss])
    rs.resource.attributes.add(key="service.name").value.string_value = service
    return ExportTraceServiceRequest(resource_spans=[rs])
