"""The captured instrumentations (tests/normalize/data/) as normalized trees, read once per source for
every test module that checks them."""

from __future__ import annotations

from pathlib import Path

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
