"""Per-tree rows and per-workflow summaries: the numbers every report format shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.tree import Tree


@dataclass
class TreeRow:
    trace_id: str
    workflow: str
    team: str
    outcome: str
    calls: int
    failed_calls: int
    tokens: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: float
    units: str
    total: float
    wasted: float
    waste_score: float
    top_reason: str
    complete: bool
    reasons: dict[str, float] = field(default_factory=dict)


def row_of(tree: Tree) -> TreeRow | None:
    root = tree.root()
    if root is None or not tree.facts.get("genai"):
        return None
    g = root.get

    def num(key: str) -> float:
        v = g(key)
        return float(v) if isinstance(v, (int, float)) else 0.0

    return TreeRow(
        trace_id=tree.trace_id_hex, workflow=str(g(semconv.WORKFLOW) or root.view.name or "unknown"),
        team=str(g(semconv.TEAM) or "unknown"), outcome=str(g(semconv.OUTCOME) or "unknown"),
        calls=int(num(semconv.TRACE_CALLS)), failed_calls=int(num(semconv.TRACE_FAILED_CALLS)),
        tokens=int(num(semconv.TRACE_TOKENS)), input_tokens=int(num(semconv.TRACE_INPUT_TOKENS)),
        output_tokens=int(num(semconv.TRACE_OUTPUT_TOKENS)), cache_read_tokens=int(num(semconv.TRACE_CACHE_READ_TOKENS)),
        cache_write_tokens=int(num(semconv.TRACE_CACHE_WRITE_TOKENS)),
        reasoning_tokens=int(num(semconv.TRACE_REASONING_TOKENS)), cost_usd=num(semconv.TRACE_COST_USD),
        units=str(g(semconv.TRACE_UNITS) or "tokens"), total=num(semconv.TRACE_TOTAL), wasted=num(semconv.TRACE_WASTED),
        waste_score=num(semconv.TRACE_WASTE_SCORE), top_reason=str(g(semconv.TRACE_TOP_REASON) or "none"),
        complete=bool(tree.complete), reasons=dict(tree.facts.get("waste_by_reason", {})))


@dataclass
class WorkflowSummary:
    workflow: str
    trees: int = 0
    successes: int = 0
    cost_usd: float = 0.0
    wasted_usd: float = 0.0
    tokens: int = 0

    @property
    def cost_per_success(self) -> float | None:
        return self.cost_usd / self.successes if self.successes else None

    @property
    def waste_share(self) -> float:
        return self.wasted_usd / self.cost_usd if self.cost_usd else 0.0


def wasted_usd(r: TreeRow) -> float:
    """Exact when the tree is scored in USD, else the same share of its cost."""
    return r.wasted if r.units == "usd" else r.waste_score * r.cost_usd


def group(rows: list[TreeRow], key: str) -> dict[str, WorkflowSummary]:
    out: dict[str, WorkflowSummary] = {}
    for r in rows:
        name = getattr(r, key)
        g = out.setdefault(name, WorkflowSummary(name))
        g.trees += 1
        g.successes += r.outcome == "success"
        g.cost_usd += r.cost_usd
        g.tokens += r.tokens
        g.wasted_usd += wasted_usd(r)
    return out


def summarize(rows: list[TreeRow]) -> dict[str, Any]:
    wfs = group(rows, "workflow")
    teams = group(rows, "team")
    reasons: dict[str, float] = {}
    for r in rows:
        for reason, units in r.reasons.items():
            share = units / r.total if r.total else 0.0
            reasons[reason] = reasons.get(reason, 0.0) + share * r.cost_usd
    total_cost = sum(w.cost_usd for w in wfs.values())
    total_waste = sum(w.wasted_usd for w in wfs.values())
    return {
        "trees": len(rows), "cost_usd": total_cost, "wasted_usd": total_waste,
        "waste_share": total_waste / total_cost if total_cost else 0.0,
        "successes": sum(w.successes for w in wfs.values()),
        "workflows": [{**asdict(w), "cost_per_success": w.cost_per_success, "waste_share": w.waste_share}
                      for w in sorted(wfs.values(), key=lambda x: -x.cost_usd)],
        "wasted_usd_by_reason": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        # per team, as for workflows (team names are resolved by enrich; small teams roll up in metrics)
        "teams": [{"team": t.workflow, "trees": t.trees, "successes": t.successes, "cost_usd": t.cost_usd,
                   "wasted_usd": t.wasted_usd, "cost_per_success": t.cost_per_success, "waste_share": t.waste_share}
                  for t in sorted(teams.values(), key=lambda x: -x.cost_usd)],
    }
