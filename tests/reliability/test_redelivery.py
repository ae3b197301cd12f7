"""A request received twice (an exporter's retry after a timeout on a request the receiver had taken: OTLP
delivery is at-least-once) within the assembly wait: every span goes out twice, as received, and every number
reads as if it had come once: calls, tokens, cost, the waste score, the metrics. Over every shared fixture and
every captured source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_tokenwatch import semconv
from otel_tokenwatch.otlp.files import read
from otel_tokenwatch.pipeline.assemble.assembler import AssembleConfig, Assembler
from otel_tokenwatch.pipeline.enrich.config import EnrichConfig, PrivacyConfig
from otel_tokenwatch.pipeline.enrich.factory import FACTORY as ENRICH
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from otel_tokenwatch.pipeline.processor import ProcessorContext
from otel_tokenwatch.state import MemoryStore
from otel_tokenwatch.telemetry.genai_metrics import GenAIMetrics
from otel_tokenwatch.telemetry.selfmetrics import SelfTelemetry
from tests.conftest import FIXTURES
from tests.stages import default_stages

SOURCES = sorted(Path(FIXTURES).glob("*.jsonl")) + sorted(
    (Path(__file__).resolve().parents[1] / "normalize" / "data").glob("*.jsonl"))
#: reasons found by judging a whole tree against other trees (score/engine.py _judge, _inflation_judge)
JUDGED_PER_TREE = frozenset({"over_baseline", "suspected_inflation"})
ROOT_KEYS = (semconv.TRACE_CALLS, semconv.TRACE_TOKENS, semconv.TRACE_COST_USD, semconv.TRACE_FAILED_CALLS,
             semconv.TRACE_WASTE_SCORE, semconv.TRACE_TOP_REASON, semconv.WORKFLOW)


def run(path: Path, times: int) -> tuple[dict[bytes, tuple[Any, ...]], dict[str, float], int, int]:
    """Per trace its root's numbers, the running totals the metrics keep, spans in and spans out."""
    stages = default_stages()
    metrics = GenAIMetrics(SelfTelemetry(readers=[InMemoryMetricReader()], prometheus=False))
    asm = Assembler(AssembleConfig())
    sent = 0
    for rec in read(path):
        if rec.signal != "traces":
            continue
        raw = rec.request.SerializeToString()  # type: ignore[union-attr]
        for _ in range(times):  # the copy right behind the first, as a retried export arrives
            asm.add(None, 0.0, None, raw)
            sent += sum(len(ss.spans) for rs in rec.request.resource_spans for ss in rs.scope_spans)  # type: ignore[union-attr]
    roots: dict[bytes, tuple[Any, ...]] = {}
    out = 0
    for t in asm.flush(0.0):
        for s in stages:
            s.process(t)
        metrics.record_tree(t)
        out += sum(len(ss.spans) for rs in ExportTraceServiceRequest.FromString(t.encode()).resource_spans
                   for ss in rs.scope_spans)
        root = t.root()
        if root is not None:
            roots[t.trace_id] = tuple(root.get(k) for k in ROOT_KEYS)
    return roots, dict(metrics.totals), sent, out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_request_received_twice_counts_once(path: Path) -> None:
    once, once_totals, sent1, out1 = run(path, 1)
    twice, twice_totals, sent2, out2 = run(path, 2)
    assert out1 == sent1 and out2 == sent2 == 2 * sent1  # lossless: both copies go out
    assert twice == once
    assert twice_totals == pytest.approx(once_totals)


def test_the_copy_leaves_as_its_first_leaves_and_stages_see_one() -> None:
    """Stages read each span once; the copy goes out with everything its first got (the enrichment, and the
    privacy rules' edits: a copy as received would carry the content they dropped)."""
    path = Path(FIXTURES) / "openinference-openai.jsonl"
    rec = next(r for r in read(path) if r.signal == "traces")
    raw = rec.request.SerializeToString()  # type: ignore[union-attr]
    asm = Assembler(AssembleConfig())
    asm.add(None, 0.0, None, raw)
    asm.add(None, 0.0, None, raw)
    trees = asm.flush(0.0)
    assert trees
    state = MemoryStore()
    enrich = ENRICH.create(EnrichConfig(privacy=PrivacyConfig(drop_content=True)), ProcessorContext(state=state))
    for tree in trees:
        ids = [e.span_id for e in tree.spans]
        assert len(ids) == len(set(ids)) and sorted(e.span_id for e in tree.copies) == sorted(ids)
        NormalizeProcessor(NormalizeConfig()).process(tree)
        enrich.process(tree)
        sent = ExportTraceServiceRequest.FromString(tree.encode())
        by_id: dict[bytes, list[bytes]] = {}
        for rs in sent.resource_spans:
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    by_id.setdefault(sp.span_id, []).append(sp.SerializeToString())
        assert all(len(v) == 2 and v[0] == v[1] for v in by_id.values()), "each span twice, the same both times"
        assert any(b"tokenwatch." in v[0] for v in by_id.values())
        assert not any(b"input.value" in v[0] or b"llm.input_messages" in v[0] for v in by_id.values())  # dropped


def test_two_different_spans_under_one_id_are_both_read() -> None:
    """Not a retry: a broken exporter's id collision. Both stay in the tree (and are read), as before."""
    from tests.normalize.spans import tree_of

    t = tree_of((1, 0, "root", {}), (2, 1, "chat a", {"gen_ai.operation.name": "chat"}),
                (2, 1, "chat b", {"gen_ai.operation.name": "chat"}))
    t.hold_copies()
    assert [e.view.name for e in t.spans] == ["root", "chat a", "chat b"] and t.copies == []


async def test_an_sdk_export_sent_twice_through_the_service_counts_once(tmp_path: Path) -> None:
    """The SDK's own OTLP exporter sends one batch twice (as its retry does after a timeout): the file exporter
    receives every span twice, the same both times, and the root says one call."""
    import asyncio

    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from tests.conftest import grpc_endpoint, running, service_config, wait_for
    from tests.relay.spans import read_file

    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "support-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("answer-ticket") as root:
        root.set_attribute("app.workflow", "support")
        with tracer.start_as_current_span("chat gpt-4o-mini") as s:
            s.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                              "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1200,
                              "gen_ai.usage.output_tokens": 80, "gen_ai.response.id": "chatcmpl-1",
                              "gen_ai.response.finish_reasons": ("stop",)})
    spans = memory.get_finished_spans()
    out = tmp_path / "out.jsonl"
    cfg = service_config(tmp_path, processors={"assemble": {"tree_idle": "500ms"}, "normalize": None,
                                               "enrich": None, "score": None},
                         traces_processors=["assemble", "normalize", "enrich", "score"],
                         exporters={"file": {"path": str(out)}})
    async with running(cfg) as svc:
        exporter = OTLPSpanExporter(endpoint=grpc_endpoint(svc), insecure=True)
        for _ in range(2):
            assert await asyncio.to_thread(exporter.export, spans) == SpanExportResult.SUCCESS
        exporter.shutdown()

        def sent() -> list[Any]:
            return [sp for req in read_file(out) for rs in req.resource_spans for ss in rs.scope_spans
                    for sp in ss.spans]
        await wait_for(lambda: len(sent()) >= 4, timeout=15)
    got = sent()
    assert len(got) == 4 and {sp.SerializeToString() for sp in got} == {
        sp.SerializeToString() for sp in got[:2]}  # each span twice, byte for byte the same
    roots = [sp for sp in got if not sp.parent_span_id]
    attrs = {kv.key: kv.value for kv in roots[0].attributes}
    assert attrs[semconv.TRACE_CALLS].int_value == 1 and attrs[semconv.TRACE_TOKENS].int_value == 1280
    assert attrs[semconv.TRACE_WASTE_SCORE].double_value == 0.0
    provider.shutdown()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_request_received_again_after_its_trees_release_reads_the_same_and_adds_nothing(path: Path) -> None:
    """The retry comes after the assembly wait: its spans are late. Each leaves with the waste its first copy got
    (the failed outcome of its trace included: the late cache keeps the outcome the tree was scored with), but
    for the judgments of a whole tree against the others (over its workflow's baseline, suspected inflation),
    which a copy does not get again (it adds no spend to judge); the counters do not move."""
    stages = default_stages()
    metrics = GenAIMetrics(SelfTelemetry(readers=[InMemoryMetricReader()], prometheus=False))
    asm = Assembler(AssembleConfig())
    raws = [rec.request.SerializeToString() for rec in read(path) if rec.signal == "traces"]  # type: ignore[union-attr]
    for raw in raws:
        asm.add(None, 0.0, None, raw)
    waste: dict[bytes, Any] = {}
    for t in asm.flush(0.0):
        for s in stages:
            s.process(t)
        metrics.record_tree(t)
        for e in t.spans:
            waste[t.trace_id + e.span_id] = (e.get(semconv.WASTE_REASON), e.get(semconv.WASTE_UNITS))
    before = dict(metrics.totals)
    late = [t for raw in raws for t in asm.add(None, 1.0, None, raw)] + asm.flush(1.0)
    assert late and all(t.late for t in late)
    for t in late:
        for s in stages:
            s.process(t)
        metrics.record_tree(t)
        for e in t.spans:
            want = waste[t.trace_id + e.span_id]
            if want[0] in JUDGED_PER_TREE:
                want = (None, None)  # its tree's judgment against others: a copy adds no spend
            assert (e.get(semconv.WASTE_REASON), e.get(semconv.WASTE_UNITS)) == want
    assert metrics.totals == before
