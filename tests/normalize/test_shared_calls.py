"""Tool, agent and workflow spans that read alike share one Call: nothing downstream may change it."""

from __future__ import annotations

import glob
from pathlib import Path

from otel_tokenwatch.config import load
from otel_tokenwatch.pipeline.normalize import dialects
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
from otel_tokenwatch.service import build_processors
from otel_tokenwatch.state import MemoryStore
from tests.conftest import FIXTURES
from tests.enrich.trees import fixture_trees


def all_fixture_trees() -> list:  # type: ignore[type-arg]
    return [t for path in sorted(glob.glob(str(Path(FIXTURES) / "*.jsonl")))
            for _, t in fixture_trees(Path(path).name)]


def test_shared_calls_are_what_a_fresh_read_says_after_every_stage_ran() -> None:
    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    chain = ProcessorChain(stages)
    normalize = next(s for s in stages if s.name == "normalize")
    trees = all_fixture_trees() + all_fixture_trees()  # the second pass reuses the first pass's Calls
    for t in trees:
        chain.process(t)
        assert not t.facts.get("failed_stages")
    shared = 0
    seen: set[int] = set()
    for t in trees:
        for e in t.spans:
            c = e.call
            if c is None or c.kind not in dialects.SHARED_KINDS:
                continue
            if id(c) in seen:
                shared += 1
            seen.add(id(c))
            fresh = normalize._read(e, share=False)  # type: ignore[attr-defined]
            assert c == fresh, (e.view.name, c, fresh)
    assert shared > 0  # the fixtures do have repeated tool and agent spans


def test_values_equal_across_types_do_not_share_a_call() -> None:
    """1 == 1.0 == True in Python: the share key carries the value types, so each reads as itself."""
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

    from otel_tokenwatch.otlp.wire import encode_attributes
    from otel_tokenwatch.pipeline.normalize import coerce
    from otel_tokenwatch.pipeline.tree import ResourceInfo, ScopeInfo, SpanEntry

    res, scope = ResourceInfo(b"", ""), ScopeInfo(b"", "")
    for v in (1, True, 1.0, "1", 1, True):
        data = Span(name="execute_tool", span_id=b"\x01" * 8).SerializeToString() + encode_attributes(
            [("gen_ai.operation.name", "execute_tool"), ("gen_ai.tool.name", v)])
        call, _ = dialects.read_call_and_plan(SpanEntry(res, scope, data, b"\x01" * 8, b""), share=True)
        assert call.tool_name == coerce.to_str(v), v
