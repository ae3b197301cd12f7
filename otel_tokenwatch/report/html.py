"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no external assets)."""

from __future__ import annotations

import html
import os
from typing import Any

from otel_tokenwatch import __version__
from otel_tokenwatch.report.summary import TreeRow

COLORS = {"failed_call": "#b91c1c", "retry": "#ea580c", "duplicate": "#d97706", "truncated": "#ca8a04",
          "loop": "#7c3aed", "uncached_prefix": "#2563eb", "failed_outcome": "#db2777", "over_baseline": "#0891b2",
          "suspected_inflation": "#4b5563"}


def _e(v: Any) -> str:
    return html.escape(str(v))


def usd(v: float | None) -> str:
    if v is None:
        return "-"
    return f"${v:,.4f}" if v < 1 else f"${v:,.2f}"


def bars(items: list[tuple[str, float, str]], width: int = 560, unit: str = "usd") -> str:
    """Horizontal bars as inline SVG: (label, value, color)."""
    if not items:
        return "<p class=muted>nothing to show</p>"
    top = max(v for _, v, _ in items) or 1.0
    h = 26
    rows = []
    for i, (label, v, color) in enumerate(items):
        w = max(1.0, (width - 230) * v / top)
        y = i * h
        rows.append(f'<text x="0" y="{y + 17}" class="lbl">{_e(label)}</text>'
                    f'<rect x="170" y="{y + 5}" width="{w:.1f}" height="16" rx="3" fill="{color}"/>'
                    f'<text x="{176 + w:.1f}" y="{y + 17}" class="val">{_e(usd(v) if unit == "usd" else f"{v:.0%}")}'
                    f'</text>')
    return (f'<svg role="img" width="{width}" height="{h * len(items) + 4}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(rows)}</svg>')


def render(rows: list[TreeRow], summary: dict[str, Any], sources: list[str]) -> str:
    reasons = [(r, v, COLORS.get(r, "#6b7280")) for r, v in summary["wasted_usd_by_reason"].items() if v > 0]
    wf_spend = [(w["workflow"], w["cost_usd"], "#94a3b8") for w in summary["workflows"]][:15]
    wf_waste = [(w["workflow"], w["waste_share"], "#dc2626") for w in summary["workflows"]][:15]
    wf_rows = "".join(
        f"<tr><td>{_e(w['workflow'])}</td><td class=num>{w['trees']}</td><td class=num>{w['successes']}</td>"
        f"<td class=num>{usd(w['cost_usd'])}</td><td class=num>{usd(w['cost_per_success'])}</td>"
        f"<td class=num>{w['waste_share']:.0%}</td></tr>" for w in summary["workflows"])
    worst = sorted(rows, key=lambda r: -(r.wasted if r.units == "usd" else r.waste_score * r.cost_usd))[:50]
    tree_rows = "".join(
        f"<tr><td><code>{r.trace_id}</code></td><td>{_e(r.workflow)}</td><td>{_e(r.outcome)}</td>"
        f"<td class=num>{r.calls}</td><td class=num>{r.tokens:,}</td><td class=num>{usd(r.cost_usd)}</td>"
        f"<td class=num><span class=score style='--s:{r.waste_score:.3f}'>{r.waste_score:.2f}</span></td>"
        f"<td><span class=tag style='background:{COLORS.get(r.top_reason, '#e5e7eb')}'>{_e(r.top_reason)}</span></td></tr>"
        for r in worst)
    return f"""<!doctype html><html lang=en><head><meta charset=utf-8><title>tokenwatch report</title>
<style>
body{{font:14px/1.45 system-ui,sans-serif;margin:28px;color:#111827;background:#fafafa;max-width:1100px}}
h1{{font-size:22px;margin:0}}h2{{font-size:16px;margin:26px 0 8px}}.muted{{color:#6b7280}}
.cards{{display:flex;gap:14px;margin:16px 0}}.card{{background:#fff;border:1px solid #e5e7eb;border-radius:8px;
padding:10px 16px;min-width:150px}}.card b{{display:block;font-size:20px}}
table{{border-collapse:collapse;background:#fff;width:100%}}td,th{{border-bottom:1px solid #e5e7eb;padding:5px 8px;
text-align:left}}th{{background:#f3f4f6}}.num{{text-align:right;font-variant-numeric:tabular-nums}}
.tag{{color:#fff;border-radius:4px;padding:1px 6px;font-size:12px}}.score{{font-weight:600}}
svg .lbl{{font-size:12px;fill:#374151}}svg .val{{font-size:12px;fill:#111827}}.grid{{display:grid;
grid-template-columns:1fr 1fr;gap:18px}}
</style></head><body>
<h1>Where the spend went</h1>
<div class=muted>tokenwatch {__version__} · {len(rows)} GenAI traces from
{_e(", ".join(os.path.basename(x) for x in sources))}</div>
<div class=cards>
<div class=card>spend<b>{usd(summary['cost_usd'])}</b></div>
<div class=card>bought nothing<b>{usd(summary['wasted_usd'])}</b>{summary['waste_share']:.0%} of spend</div>
<div class=card>successful outcomes<b>{summary['successes']}</b></div>
</div>
<h2>Wasted spend by reason</h2>{bars(reasons)}
<div class=grid><div><h2>Spend by workflow</h2>{bars(wf_spend, 520)}</div>
<div><h2>Share of spend wasted, by workflow</h2>{bars(wf_waste, 520, unit="share")}</div></div>
<h2>Spend per successful outcome</h2>
<table><tr><th>workflow</th><th class=num>traces</th><th class=num>successes</th><th class=num>spend</th>
<th class=num>spend per success</th><th class=num>wasted</th></tr>{wf_rows}</table>
<h2>Most wasteful traces</h2>
<table><tr><th>trace id</th><th>workflow</th><th>outcome</th><th class=num>calls</th><th class=num>tokens</th>
<th class=num>spend</th><th class=num>score</th><th>top reason</th></tr>{tree_rows}</table>
<p class=muted>Scores are per trace: wasted units / total units; every wasted unit is attributed to a span
and a reason (span attributes tokenwatch.waste.*). No per-person figures are shown, by design.</p>
</body></html>"""
