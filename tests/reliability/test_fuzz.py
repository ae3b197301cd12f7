"""Property-based fuzzing: decoders and stages never crash on hostile input; every span still goes out."""

from __future__ import annotations

import math

import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otel_tokenwatch.errors import BadRequest
from otel_tokenwatch.otlp.wire import TraceCheck, check_traces
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.receivers.otlp.signals import SIGNALS
from tests.anyvalue import any_value
from tests.stages import default_stages

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = ["gen_ai.operation.name", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens", "gen_ai.request.model", "gen_ai.provider.name", "gen_ai.system",
        "gen_ai.response.finish_reasons", "gen_ai.input.messages", "gen_ai.output.messages", "llm.token_count.prompt",
        "langfuse.observation.usage_details", "gen_ai.usage.cost", "openinference.span.kind", "gen_ai.response.id",
        "gen_ai.conversation.id", "enduser.id", "gen_ai.tool.name", "gen_ai.tool.call.arguments", "error.type",
        "mlflow.chat.tokenUsage", "app.outcome", "gen_ai.workflow.name"]
hostile_scalar = st.one_of(
    st.text(max_size=50), st.sampled_from(["", "None", "True", "nan", "-1", "1e309", '{"input": -5}', "[1,",
                                           '["length"]', "chat", "LLM", "x" * 100_000]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans())


span_attrs = st.dictionaries(st.sampled_from(KEYS), st.one_of(hostile_scalar, st.lists(hostile_scalar, max_size=4)),
                             max_size=12)
span_ids = st.binary(min_size=0, max_size=9)


@st.composite
def hostile_request(draw: st.DrawFn) -> ExportTraceServiceRequest:
    ss = ScopeSpans()
    trace_id = draw(st.sampled_from([b"\x01" * 16, b"\x00" * 16, b"", b"\x02" * 15, b"\x03" * 17]))
    n = draw(st.integers(1, 8))
    ids = [draw(st.sampled_from([b"\x00" * 8, b"\x01" * 8, b"\x02" * 8, b"\x03" * 8, b""])) for _ in range(n)]
    for i in range(n):
        s = Span(trace_id=trace_id, span_id=ids[i], parent_span_id=draw(st.sampled_from(ids + [b"", b"\x09" * 8])),
                 name=draw(st.text(max_size=20)), start_time_unix_nano=draw(st.integers(0, 2**63)),
                 end_time_unix_nano=draw(st.integers(0, 2**63)))
        s.status.code = draw(st.sampled_from([0, 1, 2]))
        for k, v in draw(span_attrs).items():
            s.attributes.append(KeyValue(key=k, value=any_value(v)))
        ss.spans.append(s)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ss])])


def stages():  # type: ignore[no-untyped-def]
    return default_stages()


@FUZZ
@given(st.binary(max_size=2000))
def test_protobuf_decoder_answers_400_or_parses(body: bytes) -> None:
    for sig in SIGNALS.values():
        try:
            got = sig.decode(body, json=False)
        except BadRequest:
            continue
        if isinstance(got, TraceCheck):  # accepted without a parse: protobuf must parse it, with as many spans
            req = ExportTraceServiceRequest.FromString(body)
            assert got.spans == sum(len(x.spans) for rs in req.resource_spans for x in rs.scope_spans)


@FUZZ
@given(hostile_request(), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4))
def test_the_compiled_check_accepts_only_what_protobuf_parses(req: ExportTraceServiceRequest,
                                                               flips: list[tuple[int, int]]) -> None:
    """Near-valid bytes (a real request with a few bytes changed) are where a lax check would slip."""
    body = bytearray(req.SerializeToString())
    if not body:
        return
    for at, b in flips:
        body[at % len(body)] = b
    got = check_traces(bytes(body))
    try:
        parsed = ExportTraceServiceRequest.FromString(bytes(body))
    except DecodeError:
        assert got is None
        return
    if got is not None:
        assert got.spans == sum(len(x.spans) for rs in parsed.resource_spans for x in rs.scope_spans)


@FUZZ
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=10)),
                    lambda c: st.one_of(st.lists(c, max_size=3), st.dictionaries(
                        st.sampled_from(["resourceSpans", "scopeSpans", "spans", "traceId", "spanId", "attributes",
                                         "key", "value", "intValue", "name", "zz"]), c, max_size=4)), max_leaves=20))
def test_json_decoder_answers_400_or_parses(doc: object) -> None:
    import orjson

    try:
        SIGNALS["traces"].decode(orjson.dumps(doc), json=True)
    except BadRequest:
        pass


@pytest.mark.parametrize("from_bytes", [False, True])
@FUZZ
@given(req=hostile_request())
def test_stages_never_raise_and_every_span_goes_out(req: ExportTraceServiceRequest, from_bytes: bool) -> None:
    asm = Assembler(AssembleConfig())
    if from_bytes:  # the service's path: spans cut from the request's bytes
        trees = asm.add(None, 0.0, None, req.SerializeToString()) + asm.flush(0.0)
    else:
        trees = asm.add(req, 0.0, None) + asm.flush(0.0)
    s = stages()
    out = 0
    for t in trees:
        for stage in s:
            stage.process(t)  # no ProcessorChain here: a raise fails the test
        data = t.encode()
        out += sum(len(x.spans) for rs in ExportTraceServiceRequest.FromString(data).resource_spans
                   for x in rs.scope_spans)
        root = t.root()
        if root is not None:
            score = root.get("tokenwatch.trace.waste_score")
            assert score is None or (0.0 <= float(score) <= 1.0 and not math.isnan(float(score)))  # type: ignore[arg-type]
    assert out == sum(len(x.spans) for rs in req.resource_spans for x in rs.scope_spans)


def test_deep_nesting_and_invalid_utf8_are_bad_requests() -> None:
    from otel_tokenwatch.otlp.wire import field_bytes

    v = AnyValue(string_value="leaf").SerializeToString()
    for _ in range(300):  # AnyValue{array_value: ArrayValue{values: [v]}}, built as bytes
        v = field_bytes(5, field_bytes(1, v))
    kv = field_bytes(1, b"deep") + field_bytes(2, v)
    span = Span(trace_id=b"\x01" * 16, span_id=b"\x01" * 8, name="deep").SerializeToString() + field_bytes(9, kv)
    body = field_bytes(1, field_bytes(2, field_bytes(2, span)))
    with pytest.raises(BadRequest):
        SIGNALS["traces"].decode(body, json=False)
    good = Span(trace_id=b"\x01" * 16, span_id=b"\x01" * 8, name="XX").SerializeToString()
    bad_utf8 = good.replace(b"XX", b"\xff\xfe")
    with pytest.raises(BadRequest):
        SIGNALS["traces"].decode(field_bytes(1, field_bytes(2, field_bytes(2, bad_utf8))), json=False)


def test_a_trace_of_150000_spans_is_bounded_and_forwarded() -> None:
    ss = ScopeSpans()
    for i in range(150_000):
        ss.spans.append(Span(trace_id=b"\x07" * 16, span_id=(i + 1).to_bytes(8, "big"),
                             parent_span_id=b"" if i == 0 else (1).to_bytes(8, "big"), name="s"))
    req = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ss])])
    asm = Assembler(AssembleConfig(max_spans_per_trace=100_000))
    trees = asm.add(req, 0.0, None) + asm.flush(0.0)
    assert sum(len(t.spans) for t in trees) == 150_000  # the excess passes on as late spans, never dropped
    assert max(len(t.spans) for t in trees) <= 100_000
