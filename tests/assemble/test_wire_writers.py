"""The compiled writers (``_wirec.encode_attributes``, ``encode_request``) write what the Python ones write."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otel_tokenwatch.otlp import wire
from otel_tokenwatch.pipeline import tree as tree_module
from otel_tokenwatch.pipeline.tree import ResourceInfo, ScopeInfo, SpanEntry, encode_spans

pytestmark = pytest.mark.skipif(not wire.COMPILED, reason="needs the compiled writer")

def encoded_with(entries: list[SpanEntry], entries_writer: bool = True, request_writer: bool = True) -> bytes:
    """``encode_spans`` with some of the compiled writers switched off (the others as built)."""
    saved = tree_module.c_encode_request, tree_module.c_encode_entries
    if not request_writer:
        tree_module.c_encode_request = None
    if not entries_writer:
        tree_module.c_encode_entries = None
    try:
        return encode_spans(entries)
    finally:
        tree_module.c_encode_request, tree_module.c_encode_entries = saved


values = st.one_of(st.text(max_size=200), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                   st.floats(allow_nan=False), st.lists(st.integers(0, 9), max_size=3))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=40), values), max_size=12), st.sampled_from([6, 9]))
def test_encoded_attributes_equal_the_python_encoding(items, field) -> None:  # type: ignore[no-untyped-def]
    assert wire.encode_attributes(items, field) == wire.py_encode_attributes(items, field)


def test_ints_beyond_int64_are_left_to_python() -> None:
    assert wire._wirec.encode_attributes([("a", 2**64)], 9) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.binary(max_size=300),
                          st.dictionaries(st.sampled_from(["tokenwatch.x", "y", "z"]), values, max_size=3)),
                max_size=20),
       st.sampled_from(["", "https://opentelemetry.io/schemas/1.26.0"]), st.sampled_from(["all", "none", "half"]))
def test_requests_equal_the_python_encoding(spans, schema, decoded) -> None:  # type: ignore[no-untyped-def]
    resources = [ResourceInfo(bytes([10, 0]) * i, schema) for i in range(3)]  # 0-2 empty attributes
    scopes = [ScopeInfo(bytes([10, 1, 65 + i]), schema if i else "") for i in range(3)]
    entries = []
    for r, s, name, added in spans:
        sp = Span(name=name.hex(), trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
        if r == 0:  # these carry "y" already: an addition of "y" replaces it
            sp.attributes.add(key="y").value.string_value = "old"
        e = SpanEntry(resources[r], scopes[s], sp.SerializeToString(), b"\x02" * 8, b"")
        for k, v in added.items():
            e.set(k, v)
        entries.append(e)
    for e in entries[:: 1 if decoded == "all" else 2] if decoded != "none" else []:
        e.attrs  # noqa: B018 - the one-call writer needs decoded spans (to see replaced keys)
    direct = wire.c_encode_entries(entries)  # type: ignore[misc]
    simple = all(e._attrs is not None and not (e.added.keys() & e._attrs.keys())
                 and not any(isinstance(v, list) for v in e.added.values()) for e in entries if e.added)
    assert (direct is not None) == simple
    got = encode_spans(entries)
    half = encoded_with(entries, entries_writer=False)  # grouped in Python, framed by the compiled writer
    want = encoded_with(entries, entries_writer=False, request_writer=False)  # all Python
    assert got == half == want
    if direct is not None:
        assert direct == want
    ExportTraceServiceRequest.FromString(got)  # and it parses


@pytest.mark.parametrize("span", [b"", b"z", b"\x0a\x00"])
@pytest.mark.parametrize("resource", [b"", b"x", b"x" * 256])
def test_tiny_spans_at_the_end_of_the_buffer(span: bytes, resource: bytes) -> None:
    """The writer fills a buffer of the exact size: nothing may reserve more than it writes
    (an empty last span once did; found by the atheris run)."""
    res, scope = ResourceInfo(resource, ""), ScopeInfo(b"", "")
    entries = [SpanEntry(res, scope, span, b"", b""), SpanEntry(res, scope, span, b"", b"")]
    for e in entries:
        e._attrs = {}
    assert encode_spans(entries) == encoded_with(entries, entries_writer=False, request_writer=False)


def test_a_failing_compiled_writer_never_loses_the_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    res, scope = ResourceInfo(b"", ""), ScopeInfo(b"", "")
    entries = [SpanEntry(res, scope, Span(name="s").SerializeToString(), b"", b"")]
    entries[0].set("tokenwatch.x", 1)
    want = encode_spans(entries)

    def broken(_: object) -> bytes:
        raise RuntimeError("encode_request: size mismatch")

    monkeypatch.setattr(tree_module, "c_encode_entries", broken)
    monkeypatch.setattr(tree_module, "c_encode_request", broken)
    assert encode_spans(entries) == want


def _entry(span_id: bytes) -> SpanEntry:
    return SpanEntry(ResourceInfo(b"", ""), ScopeInfo(b"", ""), b"", span_id, b"")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"\x00" * 8, b"\x01" * 8, b"\x00" * 7 + b"\x01", b"\xff" * 8, b"", b"\x02" * 9,
                                 *(bytes([i]) * 8 for i in range(3, 40))]), max_size=300))
def test_repeated_ids_answers_as_a_set_of_the_ids_would(ids: list[bytes]) -> None:
    """tree.hold_copies asks the compiled check first: True or False exactly as a Python set answers, None (ask
    Python) only where an id is not 8 bytes; lists past the stack table (128 slots) included."""
    got = wire.c_repeated_ids([_entry(i) for i in ids])  # type: ignore[misc]
    want = len(set(ids)) < len(ids)
    if got is None:
        assert any(len(i) != 8 for i in ids)
    else:
        assert got == want
        if not want and len(ids) > 1:  # one entry or none: no repeat, whatever its id
            assert all(len(i) == 8 for i in ids)
