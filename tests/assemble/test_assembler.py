"""Trace assembly: completeness, bounds, late spans; time is passed in, so nothing sleeps."""

from __future__ import annotations

import os

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otel_tokenwatch import semconv
from otel_tokenwatch.otlp.wire import key_values_to_dict
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.assemble.factory import StampProcessor
from otel_tokenwatch.pipeline.tree import encode_spans


def span(tid: bytes, sid: bytes, parent: bytes = b"", name: str = "s", **attrs: str) -> Span:
    s = Span(trace_id=tid, span_id=sid, parent_span_id=parent, name=name, start_time_unix_nano=1)
    for k, v in attrs.items():
        kv = s.attributes.add()
        kv.key = k
        kv.value.string_value = v
    return s


def request(*spans: Span, service: str = "svc") -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", service
    ss = rs.scope_spans.add()
    ss.scope.name = "test"
    ss.spans.extend(spans)
    return req


T1, T2, T3 = os.urandom(16), os.urandom(16), os.urandom(16)


def test_complete_when_root_seen_and_idle() -> None:
    a = Assembler(AssembleConfig(tree_idle=1.0, tree_max_wait=30.0))
    assert a.add(request(span(T1, b"c" * 8, b"r" * 8)), now=0.0) == []
    assert a.add(request(span(T1, b"r" * 8)), now=0.5) == []
    assert a.expire(1.2) == []  # root seen at 0.5, idle only since then
    trees = a.expire(1.6)
    assert len(trees) == 1 and trees[0].complete and trees[0].release_reason == "complete"
    assert {e.span_id for e in trees[0].spans} == {b"c" * 8, b"r" * 8}
    assert a.open_trees == 0 and a.open_bytes == 0


def test_root_late_in_separate_requests_keeps_tree_together() -> None:
    a = Assembler(AssembleConfig(tree_idle=1.0, tree_max_wait=30.0))
    for i in range(5):
        a.add(request(span(T1, bytes([i]) * 8, b"r" * 8)), now=i * 0.5)
    assert a.expire(10.0) == []  # no root yet: waits for max_wait
    a.add(request(span(T1, b"r" * 8)), now=10.0)
    (tree,) = a.expire(11.1)
    assert tree.complete and len(tree.spans) == 6


def test_max_wait_releases_incomplete() -> None:
    a = Assembler(AssembleConfig(tree_idle=1.0, tree_max_wait=5.0))
    a.add(request(span(T1, b"c" * 8, b"r" * 8)), now=0.0)
    assert a.expire(4.9) == []
    (tree,) = a.expire(5.0)
    assert not tree.complete and tree.release_reason == "max_wait"


def test_late_span_is_marked_and_forwarded_at_once() -> None:
    a = Assembler(AssembleConfig(tree_idle=1.0, tree_max_wait=5.0))
    a.add(request(span(T1, b"r" * 8)), now=0.0)
    (tree,) = a.expire(2.0)
    tree.facts["summary"]["seen"] = True
    (late,) = a.add(request(span(T1, b"x" * 8, b"r" * 8)), now=3.0)
    assert late.late and late.release_reason == "late" and late.facts["summary"] == {"seen": True}
    StampProcessor().process(late)
    out = ExportTraceServiceRequest.FromString(encode_spans(late.spans))
    attrs = key_values_to_dict(out.resource_spans[0].scope_spans[0].spans[0].attributes)
    assert attrs[semconv.LATE] is True
    assert a.late_spans == 1


def test_bounds_release_oldest_early() -> None:
    a = Assembler(AssembleConfig(max_open_traces=2))
    a.add(request(span(T1, b"a" * 8, b"p" * 8)), now=0.0)
    a.add(request(span(T2, b"b" * 8, b"p" * 8)), now=1.0)
    (evicted,) = a.add(request(span(T3, b"c" * 8, b"p" * 8)), now=2.0)
    assert evicted.trace_id == T1 and evicted.release_reason == "max_open_traces" and not evicted.complete
    b = Assembler(AssembleConfig(max_bytes=200))
    out = []
    for i in range(5):
        out += b.add(request(span(os.urandom(16), b"z" * 8, b"p" * 8, attr="v" * 40)), now=float(i))
    assert out and all(t.release_reason == "max_bytes" for t in out)
    assert b.open_bytes <= 200
    assert b.released_by_reason["max_bytes"] == len(out)


def test_spans_per_trace_bound() -> None:
    a = Assembler(AssembleConfig(max_spans_per_trace=3))
    out = a.add(request(*[span(T1, bytes([i]) * 8, b"r" * 8) for i in range(4)]), now=0.0)
    assert [t.release_reason for t in out] == ["max_spans_per_trace", "late"]
    assert len(out[0].spans) == 3 and len(out[1].spans) == 1


def test_invalid_trace_ids_pass_through() -> None:
    a = Assembler(AssembleConfig())
    out = a.add(request(span(b"\x00" * 16, b"a" * 8), span(b"short", b"b" * 8)), now=0.0)
    assert sorted(t.release_reason for t in out) == ["invalid_trace_id", "invalid_trace_id"]
    assert a.open_trees == 0


def test_stamp_and_encode_keep_everything() -> None:
    a = Assembler(AssembleConfig())
    root = span(T1, b"r" * 8, name="root", keep="me")
    ev = root.events.add()
    ev.name, ev.time_unix_nano = "ev", 5
    link = root.links.add()
    link.trace_id, link.span_id = T2, b"l" * 8
    req = request(root, span(T1, b"c" * 8, b"r" * 8, name="child"))
    req.resource_spans[0].schema_url = "https://opentelemetry.io/schemas/1.30.0"
    req.resource_spans[0].scope_spans[0].scope.version = "1.2.3"
    a.add(req, now=0.0)
    (tree,) = a.flush(1.0)
    StampProcessor().process(tree)
    out = ExportTraceServiceRequest.FromString(tree.encode())
    rs = out.resource_spans[0]
    assert rs.schema_url == "https://opentelemetry.io/schemas/1.30.0"
    assert rs.scope_spans[0].scope.version == "1.2.3"
    spans = {s.name: s for s in rs.scope_spans[0].spans}
    r = spans["root"]
    attrs = key_values_to_dict(r.attributes)
    assert attrs["keep"] == "me" and attrs[semconv.TRACE_SPANS] == 2 and attrs[semconv.TRACE_COMPLETE] is True
    assert r.events[0].name == "ev" and r.links[0].trace_id == T2
    assert semconv.TRACE_SPANS not in key_values_to_dict(spans["child"].attributes)


def test_replacing_an_existing_key_does_not_duplicate_it() -> None:
    a = Assembler(AssembleConfig())
    a.add(request(span(T1, b"r" * 8, **{semconv.TRACE_SPANS: "stale"})), now=0.0)
    (tree,) = a.flush(1.0)
    StampProcessor().process(tree)
    out = ExportTraceServiceRequest.FromString(tree.encode())
    keys = [kv.key for kv in out.resource_spans[0].scope_spans[0].spans[0].attributes]
    assert keys.count(semconv.TRACE_SPANS) == 1


def test_next_due_is_when_expire_releases_the_next_tree() -> None:
    """The service sleeps until next_due rather than polling: releasing at that time must release."""
    a = Assembler(AssembleConfig(tree_idle=1.0, tree_max_wait=30.0))
    assert a.next_due() is None
    a.add(request(span(T1, b"c" * 8, b"r" * 8)), now=0.0)  # no root yet: only tree_max_wait applies
    assert a.next_due() == 30.0
    a.add(request(span(T2, b"r" * 8)), now=2.0)  # T2's root: idle-complete at 3.0
    assert a.next_due() == 3.0
    a.add(request(span(T2, b"x" * 8, b"r" * 8)), now=2.5)  # a new span moves T2's wait
    assert a.next_due() == 3.5
    assert a.expire(3.49) == []
    assert [t.trace_id for t in a.expire(a.next_due())] == [T2]
    assert a.next_due() == 30.0
    assert [t.trace_id for t in a.expire(30.0)] == [T1] and a.next_due() is None
