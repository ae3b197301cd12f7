"""Score constructed trees through the real normalize and score stages."""

from __future__ import annotations

import json
from typing import Any

from otel_tokenwatch import semconv
from otel_tokenwatch.config.build import build
from otel_tokenwatch.pipeline.normalize.factory import NormalizeConfig, NormalizeProcessor
from otel_tokenwatch.pipeline.score.config import ScoreConfig
from otel_tokenwatch.pipeline.score.factory import ScoreProcessor
from otel_tokenwatch.pipeline.tree import Tree
from otel_tokenwatch.state import MemoryStore
from tests.normalize.spans import tree_of


def chat(prompt: str | None = None, inp: int = 1000, out: int = 100, model: str = "gpt-4o-mini",
         system: str | None = None, **extra: Any) -> dict[str, Any]:
    a: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                         "gen_ai.request.model": model, "gen_ai.usage.input_tokens": inp,
                         "gen_ai.usage.output_tokens": out, "gen_ai.response.finish_reasons": ["stop"]}
    if prompt is not None:
        msgs = ([{"role": "system", "parts": [{"type": "text", "content": system}]}] if system else []) + \
            [{"role": "user", "parts": [{"type": "text", "content": prompt}]}]
        a["gen_ai.input.messages"] = json.dumps(msgs)
    a.update(extra)
    return a


def tool_request(name: str, args: dict[str, Any] | None) -> str:
    part: dict[str, Any] = {"type": "tool_call", "name": name, "id": "c1"}
    if args is not None:
        part["arguments"] = args
    return json.dumps([{"role": "assistant", "parts": [part], "finish_reason": "tool_calls"}])


class Engine:
    """normalize -> score with one shared state, like one running service."""

    def __init__(self, **settings: Any) -> None:
        self.state = MemoryStore()
        self.normalize = NormalizeProcessor(NormalizeConfig())
        self.score = ScoreProcessor(build(ScoreConfig, settings, "processors.score"), self.state)

    def run(self, tree: Tree, outcome: str | None = None) -> Tree:
        self.normalize.process(tree)
        if outcome is not None:
            tree.facts["outcome"] = outcome
        self.score.process(tree)
        return tree


def calls(*attrs: dict[str, Any], error: set[int] | None = None, trace: bytes | None = None) -> Tree:
    """A root with one chat span per attribute dict (span ids 2, 3, ...), in order."""
    spans = [(1, 0, "root", {})] + [(i + 2, 1, f"chat {i}", a) for i, a in enumerate(attrs)]
    t = tree_of(*spans, error={e + 2 for e in (error or set())})
    if trace is not None:
        t.trace_id = trace
    return t


def root_score(t: Tree) -> float:
    r = t.root()
    assert r is not None
    return float(r.get(semconv.TRACE_WASTE_SCORE))  # type: ignore[arg-type]


def reasons(t: Tree) -> dict[str, str]:
    return {e.span.name: str(e.get(semconv.WASTE_REASON)) for e in t.spans if e.get(semconv.WASTE_REASON)}


def check_explainable(t: Tree) -> None:
    """The span attributes add up to the root's wasted units."""
    r = t.root()
    assert r is not None
    spans_sum = sum(float(e.get(semconv.WASTE_UNITS) or 0) for e in t.spans)  # type: ignore[arg-type]
    assert abs(spans_sum - float(r.get(semconv.TRACE_WASTED))) < 1e-9  # type: ignore[arg-type]
    assert 0.0 <= root_score(t) <= 1.0
