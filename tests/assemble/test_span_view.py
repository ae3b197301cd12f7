"""The span readers (compiled ``_wirec`` and protobuf ``SpanView``) say exactly what the full protobuf says."""

from __future__ import annotations

import glob
import os

import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otel_tokenwatch.otlp import files, wire
from otel_tokenwatch.otlp.wire import SpanView, key_values_to_dict, view_attributes
from tests.anyvalue import any_value
from tests.conftest import FIXTURES

scalars = st.one_of(st.text(max_size=300), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True),
                    st.booleans(), st.binary(max_size=20), st.none())


values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=5), scalars, max_size=3))


def same(span: Span) -> None:
    data = span.SerializeToString()
    view, full = SpanView.FromString(data), Span.FromString(data)
    assert repr(sorted(view_attributes(view).items())) == repr(sorted(key_values_to_dict(full.attributes).items()))
    for f in ("name", "kind", "start_time_unix_nano", "end_time_unix_nano", "parent_span_id", "span_id"):
        assert getattr(view, f) == getattr(full, f), f
    assert view.status.code == full.status.code
    want = repr(sorted(key_values_to_dict(full.attributes).items()))
    readers = [wire.py_decode_span] + ([wire._wirec.decode_span] if wire.COMPILED else [])
    for read in readers:
        fields, attrs = read(data)
        assert repr(sorted(attrs.items())) == want, read
        assert (fields.name, fields.kind, fields.start_time_unix_nano, fields.end_time_unix_nano,
                fields.status_code) == (full.name, full.kind, full.start_time_unix_nano, full.end_time_unix_nano,
                                        full.status.code)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "gen_ai.usage.input_tokens", "x" * 200]), values), max_size=8),
       st.text(max_size=30), st.integers(0, 2), st.integers(0, 5))
def test_view_equals_the_full_span_for_any_attributes(attrs, name, code, kind) -> None:  # type: ignore[no-untyped-def]
    s = Span(name=name, kind=kind, span_id=b"\x01" * 8, start_time_unix_nano=5, end_time_unix_nano=2**63 + 1)
    s.status.code = code
    for k, v in attrs:  # repeated keys included: both keep the last
        s.attributes.append(KeyValue(key=k, value=any_value(v)))
    same(s)


def test_view_equals_the_full_span_on_every_fixture_span() -> None:
    n = 0
    for path in sorted(glob.glob(str(FIXTURES / "*.jsonl"))):
        for rec in files.read(path):
            if rec.signal != "traces":
                continue
            for rs in rec.request.resource_spans:  # type: ignore[union-attr]
                for ss in rs.scope_spans:
                    for sp in ss.spans:
                        same(sp)
                        n += 1
    assert n > 500


def fixture_requests() -> list[bytes]:
    out = []
    for path in sorted(glob.glob(str(FIXTURES / "*.jsonl"))):
        for rec in files.read(path):
            if rec.signal == "traces":
                out.append(rec.request.SerializeToString())  # type: ignore[union-attr]
    return out


def test_split_traces_cuts_every_fixture_request_as_protobuf_reads_it() -> None:
    reqs = fixture_requests()
    assert len(reqs) > 50
    for raw in reqs:
        got = wire.split_traces(raw)
        want = wire.split_request(ExportTraceServiceRequest.FromString(raw))
        assert [(r, rsu, [(s, ssu, [(Span.FromString(d), t, i, p) for d, t, i, p in spans])
                          for s, ssu, spans in scopes]) for r, rsu, scopes in got] == \
            [(r, rsu, [(s, ssu, [(Span.FromString(d), t, i, p) for d, t, i, p in spans])
                       for s, ssu, spans in scopes]) for r, rsu, scopes in want]


def test_the_compiled_reader_is_built_in_ci() -> None:
    """The set-up builds it (setup.py); only a machine without a C compiler runs on protobuf alone."""
    if os.environ.get("CI") != "true" and not wire.COMPILED:
        pytest.skip("no compiled reader on this machine (no C compiler at install time)")
    assert wire.COMPILED


@pytest.mark.skipif(not wire.COMPILED, reason="needs the compiled reader")
@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=120))
def test_the_compiled_reader_declines_or_agrees_on_any_bytes(data: bytes) -> None:
    """Hostile bytes: the compiled reader raises ValueError (the caller falls back) or reads what protobuf reads."""
    try:
        full = Span.FromString(data)
    except (DecodeError, RecursionError):
        full = None
    try:
        fields, attrs = wire._wirec.decode_span(data)
    except ValueError:
        pass
    else:
        if full is not None:
            assert repr(sorted(attrs.items())) == repr(sorted(key_values_to_dict(full.attributes).items()))
            assert fields.name == full.name and fields.kind == full.kind
    try:
        req = ExportTraceServiceRequest.FromString(data)
    except (DecodeError, RecursionError):
        req = None
    try:
        got = wire._wirec.split_traces(data)
    except ValueError:
        return
    if req is not None:
        want = wire.split_request(req)

        def parsed(groups: list) -> list:  # type: ignore[type-arg]
            # sliced and re-serialized bytes may differ in encoding, never in meaning
            return [(Resource.FromString(r), u, [(InstrumentationScope.FromString(s), su, [x[1:] for x in sp])
                                                 for s, su, sp in sc]) for r, u, sc in groups]
        assert parsed(got) == parsed(want)


@pytest.mark.skipif(not wire.COMPILED, reason="needs the compiled reader")
def test_spans_cut_from_a_request_are_the_bytes_as_sent() -> None:
    raw = fixture_requests()[0]
    for _, _, scopes in wire._wirec.split_traces(raw):
        for _, _, spans in scopes:
            for data, *_ in spans:
                assert data in raw
