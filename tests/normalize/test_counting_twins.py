"""One model call reported by two instrumentations side by side (counting.py _twins, _unread_twins) on spans made
here: a framework span and a client span of another instrumentation scope, siblings under one root, one or both
without usage (a stream the client asked no usage for: tests/normalize/test_captured_mixed.py has the real ones).
Whichever of the two carries the usage counts, the other is a report of it; two spans without usage are one call
without usage; spans of one scope, of two request models, or not inside one another's time stay apart."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otel_tokenwatch.otlp.wire import encode_attributes
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from otel_tokenwatch.pipeline.tree import Tree
from tests.normalize.spans import TRACE

T0 = 1_700_000_000_000_000_000
USAGE = {"gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10}


def side_by_side(*spans: tuple[int, str, int, int, dict[str, Any]], error: set[int] = frozenset()) -> Tree:  # type: ignore[assignment]
    """Spans as (id, scope, start ms, end ms, extra attributes), all chat calls of gpt-4o-mini under root 1."""
    rs = ResourceSpans()
    rs.resource.attributes.add(key="service.name").value.string_value = "test"
    root = rs.scope_spans.add()
    root.scope.name = "app"
    root.spans.append(Span(trace_id=TRACE, span_id=(1).to_bytes(8, "big"), name="workflow",
                           start_time_unix_nano=T0, end_time_unix_nano=T0 + 10_000_000_000))
    for sid, scope, start, end, extra in spans:
        ss = ScopeSpans()
        ss.scope.name = scope
        s = Span(trace_id=TRACE, span_id=sid.to_bytes(8, "big"), parent_span_id=(1).to_bytes(8, "big"),
                 name="chat gpt-4o-mini", start_time_unix_nano=T0 + start * 1_000_000,
                 end_time_unix_nano=T0 + end * 1_000_000)
        if sid in error:
            s.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR))
        attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                 "gen_ai.request.model": "gpt-4o-mini", **extra}
        ss.spans.append(Span.FromString(s.SerializeToString() + encode_attributes(list(attrs.items()))))
        rs.scope_spans.append(ss)
    asm = Assembler(AssembleConfig())
    asm.add(ExportTraceServiceRequest(resource_spans=[rs]), 0.0, None)
    tree = asm.flush(0.0)[0]
    NormalizeProcessor(NormalizeConfig()).process(tree)
    return tree


def calls_of(tree: Tree) -> dict[int, tuple[bool, int | None]]:
    """span id -> (counted, the span id it is a report of)."""
    return {int.from_bytes(e.span_id, "big"): (e.call.counted, e.call.report_of and int.from_bytes(e.call.report_of, "big"))
            for e in tree.spans if e.call is not None and e.call.kind == "inference"}  # type: ignore[union-attr]


def test_two_usage_less_spans_of_one_call_side_by_side_are_one_call() -> None:
    t = side_by_side((2, "framework", 0, 100, {}), (3, "client", 10, 90, {}))
    assert calls_of(t) == {2: (False, 3), 3: (False, None)}  # the outer a report of the inner


@pytest.mark.parametrize("usage_on", ["outer", "inner"])
def test_a_usage_less_span_beside_the_counted_one_is_its_report(usage_on: str) -> None:
    """Whichever of the two carries the usage counts; the other is a report of it, not a call without usage."""
    outer, inner = (USAGE, {}) if usage_on == "outer" else ({}, USAGE)
    t = side_by_side((2, "framework", 0, 100, outer), (3, "client", 10, 90, inner))
    kept, report = (2, 3) if usage_on == "outer" else (3, 2)
    assert calls_of(t) == {kept: (True, None), report: (False, kept)}


@pytest.mark.parametrize("second", [
    (3, "client", 10, 90, {"gen_ai.request.model": "gpt-4o"}),  # another model: another call
    (3, "framework", 10, 90, {}),  # one instrumentation: two calls of its own
    (3, "client", 150, 200, {}),  # after the first ended: not inside its time
])
def test_usage_less_spans_are_not_paired_without_the_same_call_s_marks(second: tuple[int, str, int, int, Any]) -> None:
    t = side_by_side((2, "framework", 0, 100, {}), second)
    assert calls_of(t) == {2: (False, None), 3: (False, None)}


def test_a_usage_less_span_pairs_once() -> None:
    """Two client calls inside one framework span's time: the framework span is a report of one of them only."""
    t = side_by_side((2, "framework", 0, 100, {}), (3, "client", 10, 40, {}), (4, "client", 50, 90, {}))
    assert calls_of(t) == {2: (False, 3), 3: (False, None), 4: (False, None)}
