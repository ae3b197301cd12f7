"""The captured instrumentations (tests/normalize/data/) as normalized trees, read once per source for
every test module that checks them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from otel_tokenwatch.pipeline.tree import SpanEntry, Tree
from tests.enrich.trees import trees_of

DATA = Path(__file__).parent / "data"
_CACHE: dict[str, list[tuple[str, Tree]]] = {}


def _trees(source: str) -> list[tuple[str, Tree]]:
    """(scenario, normalized tree) for every trace of one capture, read afresh."""
    stage = NormalizeProcessor(NormalizeConfig())
    out = trees_of(DATA / f"{source}.jsonl")
    for _, t in out:
        stage.process(t)
    return out


def trees(source: str) -> list[tuple[str, Tree]]:
    """(scenario, normalized tree) for every trace of one capture."""
    if source not in _CACHE:
        _CACHE[source] = _trees(source)
    return _CACHE[source]


def counted(source: str, scenario: str) -> list[SpanEntry]:
    return sorted((e for sc, t in trees(source) if sc == scenario for e in t.spans
                   if e.call is not None and e.call.counted), key=lambda e: int(e.view.start_time_unix_nano))


def failed_calls(source: str, scenario: str) -> list[SpanEntry]:
    """Failed model calls: error spans of inference kind that are not a second report of another span."""
    return [e for sc, t in trees(source) if sc == scenario for e in t.spans
            if e.call is not None and e.call.kind == "inference" and e.call.error and e.call.report_of is None]


def scenario_totals(source: str) -> dict[str, dict[str, Any]]:
    """Per scenario: the model calls of a capture, added up as its truth file keeps them (failed calls carry
    no usage; ``unread``: successful calls whose spans hold none)."""
    got: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "calls": 0, "failed": 0, "unread": 0, "input": 0, "output": 0, "cache_read": 0, "cache_write": 0,
        "reasoning": 0, "providers": set(), "models": [], "root_calls": 0, "root_input": 0, "root_output": 0})
    for scenario, tree in trees(source):
        g = got[scenario]
        for e in tree.spans:
            c = e.call
            if c is None or c.kind != "inference" or c.report_of is not None:
                continue
            g["calls"] += 1
            g["providers"].add(c.provider)
            if c.error:
                g["failed"] += 1
                assert not c.counted and not c.has_usage, (scenario, e.view.name)
                continue
            g["models"].append(c.request_model)
            if not c.counted:
                g["unread"] += 1
                continue
            g["input"] += c.input_tokens or 0
            g["output"] += c.output_tokens or 0
            g["cache_read"] += c.cache_read_tokens or 0
            g["cache_write"] += c.cache_write_tokens or 0
            g["reasoning"] += c.reasoning_tokens or 0
        root = tree.root()
        assert root is not None and root.view.name == "workflow"
        g["root_calls"] += root.get(semconv.TRACE_CALLS) or 0
        g["root_input"] += root.get(semconv.TRACE_INPUT_TOKENS) or 0
        g["root_output"] += root.get(semconv.TRACE_OUTPUT_TOKENS) or 0
    return got
