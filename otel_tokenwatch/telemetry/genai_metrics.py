"""Spend, tokens, calls, waste and outcomes per workflow, as metrics, from each processed tree.

Labels are bounded and private by design: workflow, team, provider, model,
token type, waste reason, outcome; never a user, session or trace id. A
label that would exceed its distinct-value budget is folded into "other"
so a misbehaving client cannot blow up a Prometheus server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otel_tokenwatch import semconv
from otel_tokenwatch.pipeline.tree import Tree, holds_id

if TYPE_CHECKING:
    from otel_tokenwatch.telemetry.selfmetrics import SelfTelemetry

TOKEN_TYPES = ("input", "output", "cache_read", "cache_write", "reasoning")
#: the outcome label's only values; enrich already maps to these, but a root written by an
#: application (the SDK plugin path) could carry anything, and a label is forever in a TSDB
OUTCOMES = ("success", "failure", "abandoned", "unknown")


class BoundedLabel:
    """Distinct values of one label, capped; the rest become ``other``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: object) -> str:
        v = str(value) if value not in (None, "") else "unknown"
        if v in self.seen:
            return v
        if len(self.seen) >= self.limit:
            return "other"
        self.seen.add(v)
        return v


_UNKNOWN_LABELS = ("unknown", "unknown")


class GenAIMetrics:
    def __init__(self, telemetry: SelfTelemetry, max_workflows: int = 200, max_models: int = 100, max_teams: int = 100) -> None:
        self.telemetry = telemetry
        self.workflow = BoundedLabel(max_workflows)
        self.model = BoundedLabel(max_models)
        self.team = BoundedLabel(max_teams)
        self.provider = BoundedLabel(50)
        self.kpi = BoundedLabel(50)
        #: maps a team to its reported label (the enrich stage rolls up teams below the k minimum)
        self.team_label: Any = lambda team: team
        #: running totals for the status page
        self.totals: dict[str, float] = {"trees": 0, "calls": 0, "failed_calls": 0, "cost_usd": 0.0,
                                         "wasted_usd": 0.0, "tokens": 0}
        self.wasted_by_reason: dict[str, float] = {}

    def record_tree(self, tree: Tree) -> None:
        """A released tree's calls into the counters, and the tree itself into the per-tree figures.

        A late tree (spans that came after their trace was released: a run longer than ``tree_max_wait``,
        a slow child) adds its calls to the counters under the labels its trace was counted with, which
        the assembler's memory of released traces keeps (``tree.facts["summary"]``), so that spend past
        the wait is spend too; the per-tree figures (trees, outcomes, the score and cost histograms)
        stay the released tree's. The same memory keeps the ids of the spans whose calls were counted:
        a span received again after its tree's release (a retried export) adds nothing.
        """
        summary: dict[str, Any] | None = tree.facts.get("summary")
        late = tree.late
        counted_ids = b""
        if late:
            workflow, team = summary.get("labels", _UNKNOWN_LABELS) if summary is not None else _UNKNOWN_LABELS
            outcome = "unknown"
            counted_ids = summary.get("counted", b"") if summary is not None else b""
        else:
            root = tree.root()
            get = root.get if root is not None else (lambda k, d=None: d)
            workflow = self.workflow(get(semconv.WORKFLOW))
            team = self.team(self.team_label(str(get(semconv.TEAM) or "unknown")))
            outcome = str(get(semconv.OUTCOME) or "unknown")
            if outcome not in OUTCOMES:
                outcome = "unknown"
        new_ids: list[bytes] = []
        tel = self.telemetry
        # the status page's running totals count what tokenwatch_calls counts: a failed call that billed
        # nothing and a retried attempt hidden in one span are calls, and failed ones
        totals = self.totals
        any_call = False
        # increments are summed here, keyed (metric, label pairs), and handed over once per tree
        acc: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        get_acc = acc.get
        wt = (("workflow", workflow), ("team", team))
        for e in tree.spans:
            c = e.call
            if c is None or (c.kind != "inference" and c.kind != "embeddings"):
                continue
            if late and counted_ids and holds_id(counted_ids, e.span_id):
                continue  # received again after its tree's release: counted then
            base = (*wt, ("provider", self.provider(c.provider)), ("model", self.model(c.model)))
            if c.attempts > 1:  # failed attempts hidden in one span: calls that billed nothing, retried
                any_call = True
                k = (semconv.M_CALLS, (*base, ("status", "error"), ("waste_reason", "retry")))
                acc[k] = get_acc(k, 0) + c.attempts - 1
                totals["calls"] += c.attempts - 1
                totals["failed_calls"] += c.attempts - 1
            if not c.counted:
                # a failed call that billed nothing still counts as a call, once: a coding agent's own failed
                # span (Gemini CLI llm_call, Claude Code llm_request) is counted from its session's api_error
                # event, which Gemini CLI logs per failed attempt (captured: tests/agents/data/gemini-cli-*)
                if c.error and not c.has_usage and not c.counted_elsewhere:
                    any_call = True
                    new_ids.append(e.span_id)
                    k = (semconv.M_CALLS, (*base, ("status", "error"), ("waste_reason", c.waste_reason or "none")))
                    acc[k] = get_acc(k, 0) + 1
                    totals["calls"] += 1
                    totals["failed_calls"] += 1
                continue
            any_call = True
            new_ids.append(e.span_id)
            reason = c.waste_reason or "none"
            wasted_by_type = c.wasted_tokens if c.waste_reason else None
            for tt, n in (("input", c.uncached_input_tokens),
                          ("output", (c.output_tokens or 0) - (c.reasoning_tokens or 0)),
                          ("cache_read", c.cache_read_tokens or 0), ("cache_write", c.cache_write_tokens or 0),
                          ("reasoning", c.reasoning_tokens or 0)):
                if n > 0:
                    wasted = min(n, int(wasted_by_type.get(tt, 0))) if wasted_by_type else 0
                    if wasted:
                        k = (semconv.M_TOKENS, (*base, ("token_type", tt), ("waste_reason", reason)))
                        acc[k] = get_acc(k, 0) + wasted
                    if n - wasted:
                        k = (semconv.M_TOKENS, (*base, ("token_type", tt), ("waste_reason", "none")))
                        acc[k] = get_acc(k, 0) + n - wasted
            totals["calls"] += 1
            totals["failed_calls"] += int(c.error)
            totals["tokens"] += c.total_tokens
            if c.cost_usd is not None:
                cost = float(c.cost_usd)
                wasted_cost = min(cost, c.waste_cost_usd) if c.waste_reason else 0.0
                self.totals["cost_usd"] += cost
                self.totals["wasted_usd"] += wasted_cost
                if wasted_cost and c.waste_reason:
                    self.wasted_by_reason[c.waste_reason] = self.wasted_by_reason.get(c.waste_reason, 0.0) + wasted_cost
                if wasted_cost:
                    k = (semconv.M_COST, (*base, ("waste_reason", reason), ("cost_source", c.cost_source)))
                    acc[k] = get_acc(k, 0) + wasted_cost
                if cost - wasted_cost:
                    k = (semconv.M_COST, (*base, ("waste_reason", "none"), ("cost_source", c.cost_source)))
                    acc[k] = get_acc(k, 0) + cost - wasted_cost
            k = (semconv.M_CALLS, (*base, ("status", "error" if c.error else "ok"), ("waste_reason", reason)))
            acc[k] = get_acc(k, 0) + 1
        if acc:
            tel.add_many(acc)
        if summary is not None and (new_ids or (not late and tree.facts.get("genai"))):
            summary["labels"] = (workflow, team)
            if new_ids:
                summary["counted"] = counted_ids + b"".join(i for i in new_ids if len(i) == 8)
        if not any_call or late:
            return
        totals["trees"] += 1
        score = get(semconv.TRACE_WASTE_SCORE)
        if isinstance(score, (int, float)):
            tel.record(semconv.M_TRACE_WASTE_SCORE, float(score), {"workflow": workflow, "outcome": outcome})
        tree_cost = get(semconv.TRACE_COST_USD)
        if isinstance(tree_cost, (int, float)):
            tel.record(semconv.M_TRACE_COST, float(tree_cost), {"workflow": workflow, "outcome": outcome})
        for kpi, value in (tree.facts.get("kpis") or {}).items():
            tel.record(semconv.M_OUTCOME_KPI, float(value), {"workflow": workflow, "kpi": self.kpi(kpi),
                                                              "outcome": outcome})
        labels = {"workflow": workflow, "team": team, "outcome": outcome}
        tel.add(semconv.M_OUTCOMES, 1, labels)
        tel.add(semconv.M_OUTCOME_TREES, 1, labels)
        if isinstance(tree_cost, (int, float)) and tree_cost:
            tel.add(semconv.M_OUTCOME_SPEND, float(tree_cost), labels)
