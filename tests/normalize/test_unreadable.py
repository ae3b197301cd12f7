"""A reader fault is a stage failure the chain says and counts, not a debug line: a span that raises in
the reader is marked, the rest of its tree is read, and the tree says normalize failed on it."""

from __future__ import annotations

from typing import Any

import pytest

from otel_tokenwatch import semconv
from otel_tokenwatch.config import load
from otel_tokenwatch.pipeline.normalize import factory
from otel_tokenwatch.pipeline.processor import ProcessorChain, ProcessorContext
from otel_tokenwatch.service import build_processors
from otel_tokenwatch.state import MemoryStore
from tests.enrich.trees import fixture_trees


def test_a_span_the_reader_cannot_read_fails_the_stage_on_its_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    real = factory.read_call_and_plan
    broken: list[bytes] = []

    def read(e: Any, share: bool = False) -> Any:
        if e.view.name.startswith("chat") and not broken:
            broken.append(e.span_id)
            raise KeyError("a reader's own bug")
        return real(e, share=share)

    monkeypatch.setattr(factory, "read_call_and_plan", read)
    failures: list[str] = []
    _, stages = build_processors(load(None), "traces", ProcessorContext(state=MemoryStore()))
    chain = ProcessorChain(stages, on_failure=failures.append)
    (_, tree), *_ = fixture_trees("pydantic-ai.jsonl")
    chain.process(tree)
    assert broken and failures == ["normalize"]
    root = tree.root()
    assert root is not None and root.added[semconv.PROCESSORS_FAILED] == "normalize"
    by_id = {e.span_id: e for e in tree.spans}
    assert by_id[broken[0]].added[semconv.NOT_NORMALIZABLE] == "<unreadable span>"
    # every other call of the tree was read, counted and scored
    assert sum(1 for e in tree.spans if e.call is not None and e.call.counted) >= 2
    assert semconv.TRACE_WASTE_SCORE in root.added
