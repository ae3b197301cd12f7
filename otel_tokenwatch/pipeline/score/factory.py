"""The ``score`` processor: writes the waste score on the root and a reason on every wasteful call."""

from __future__ import annotations

from typing import Any

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.processor import BaseProcessor, ProcessorContext, ProcessorFactory
from otel_tokenwatch.pipeline.score.config import ScoreConfig
from otel_tokenwatch.pipeline.score.engine import Scorer, TreeScore
from otel_tokenwatch.pipeline.tree import Tree
from otel_tokenwatch.state import MemoryStore
from otel_tokenwatch.state.trip import Steps, run


class ScoreProcessor(BaseProcessor):
    name = "score"

    def __init__(self, cfg: ScoreConfig, state: Any) -> None:
        self.cfg = cfg
        self.scorer = Scorer(cfg, state if state is not None else MemoryStore())

    def process(self, tree: Tree) -> None:
        err = self.process_many([tree])[0]
        if err is not None:
            raise err

    def process_many(self, trees: list[Tree]) -> list[Exception | None]:
        """The trees released together: their baseline samples go to the shared state in one round
        trip (``Scorer.score_many``), each tree judged as if scored alone, in order."""
        return run(self.process_many_steps(trees))

    def process_many_steps(self, trees: list[Tree]) -> Steps[list[Exception | None]]:
        """``process_many`` with its round trip left to the driver (state/trip.py)."""
        errors: list[Exception | None] = [None] * len(trees)
        # not a GenAI tree (or normalize did not run): nothing to score
        genai = [i for i, t in enumerate(trees) if any(e.call is not None and e.call.kind != "other" for e in t.spans)]
        scored = yield from self.scorer.score_many_steps([trees[i] for i in genai])
        for i, got in zip(genai, scored):
            if isinstance(got, Exception):
                errors[i] = got
                continue
            try:
                self.write(trees[i], got)
            except Exception as exc:  # noqa: BLE001 - contained to this tree (the chain counts it)
                errors[i] = exc
        return errors

    def write(self, tree: Tree, ts: TreeScore) -> None:
        by_reason: dict[str, float] = {}
        for e in ts.calls:
            ws = ts.wastes.get(e.span_id)
            if not ws:
                continue
            c = e.call
            assert c is not None
            units = sum(w.units for w in ws)
            primary = max(ws, key=lambda w: w.units)  # ties: the earlier reason (max keeps the first)
            for w in ws:
                by_reason[w.reason] = by_reason.get(w.reason, 0.0) + w.units
            c.waste_reason = primary.reason
            c.waste_units = units
            toks: dict[str, int] = {}
            for w in ws:
                for t, n in w.tokens.items():
                    toks[t] = toks.get(t, 0) + n
            c.wasted_tokens = toks
            u = ts.units.get(e.span_id)
            if ts.usd:
                c.waste_cost_usd = units
            elif c.cost_usd is not None and u is not None and u.total:
                c.waste_cost_usd = float(c.cost_usd) * units / u.total
            e.set(semconv.WASTE_REASON, primary.reason)
            e.set(semconv.WASTE_UNITS, round(units, 12))
            if len(ws) > 1:
                e.set(semconv.WASTE_REASONS, [f"{w.reason}={w.units:.6g}" for w in ws])
            a = primary.attrs
            if "match" in a:
                e.set(semconv.WASTE_MATCH, a["match"])
            if "basis" in a:
                e.set(semconv.WASTE_BASIS, a["basis"])
            if "matched" in a:
                e.set(semconv.WASTE_MATCHED_SPAN, a["matched"])
            if "truncation" in a:
                e.set(semconv.WASTE_TRUNCATION, a["truncation"])
            baseline = next((w.attrs["baseline"] for w in ws if "baseline" in w.attrs), None)
            if baseline is not None:
                e.set(semconv.WASTE_BASELINE, float(baseline))
        if tree.late:
            return
        root = tree.root()
        if root is None:
            return
        total, wasted = ts.total, ts.wasted
        root.set(semconv.TRACE_UNITS, "usd" if ts.usd else "tokens")
        root.set(semconv.TRACE_TOTAL, round(total, 12))
        root.set(semconv.TRACE_WASTED, round(wasted, 12))
        root.set(semconv.TRACE_WASTE_SCORE, round(min(1.0, wasted / total), 6) if total > 0 else 0.0)
        top = max(by_reason.items(), key=lambda kv: kv[1])[0] if by_reason and wasted > 0 else "none"
        root.set(semconv.TRACE_TOP_REASON, top)
        root.set(semconv.TRACE_SCORE_FINAL, tree.complete)
        if "baseline_p90" in tree.facts:
            root.set(semconv.TRACE_BASELINE_P90, float(tree.facts["baseline_p90"]))
        tree.facts["waste_by_reason"] = by_reason
        tree.facts["score"] = wasted / total if total > 0 else 0.0


def _create(cfg: ScoreConfig, ctx: ProcessorContext) -> ScoreProcessor:
    # the carry, not the bare store: its first round trip per release takes enrich's calls along
    return ScoreProcessor(cfg, ctx.carry())


FACTORY = ProcessorFactory(type="score", config_class=ScoreConfig, create=_create)
