"""The status page: one self-contained HTML document, readable without JavaScript.

Rendered from the same dict as /status.json so the page and the API cannot
disagree. It refreshes itself every 5 s; bars show queue fill at a glance.
"""

from __future__ import annotations

import html
import time
from typing import Any

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2430;background:#f7f8fa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:22px 0 8px}
.meta{color:#5b6575}table{border-collapse:collapse;background:#fff;min-width:520px}
td,th{border:1px solid #dde1e7;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#e6e9ee;width:160px;height:10px;border-radius:5px;overflow:hidden;display:inline-block;
vertical-align:middle}
.bar>div{height:10px;background:#3b82f6}.bar.hot>div{background:#dc2626}
.cards{display:flex;gap:12px;margin:4px 0 10px}.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;
padding:6px 14px;min-width:120px}.card b{display:block;font-size:18px}
.ok{color:#15803d}.bad{color:#b91c1c}code{background:#eef1f5;padding:0 4px;border-radius:3px}
"""


def _e(v: Any) -> str:
    return html.escape(str(v))


def _bar(value: float, cap: float) -> str:
    frac = 0.0 if cap <= 0 else min(1.0, value / cap)
    hot = " hot" if frac >= 0.8 else ""
    return f'<div class="bar{hot}" title="{value:.0f} / {cap:.0f}"><div style="width:{frac * 100:.1f}%"></div></div>'


def render_status_page(s: dict[str, Any]) -> str:
    ready = '<span class="ok">ready</span>' if s.get("ready") else '<span class="bad">not ready</span>'
    rows = []
    for p in s.get("pipelines", []):
        rel = p.get("released") or {}
        rows.append(
            f"<tr><td><code>{_e(p['id'])}</code></td><td>{_e(', '.join(p['receivers']))}</td>"
            f"<td>{_e(', '.join(p['processors']) or '-')}</td><td>{_e(', '.join(p['exporters']))}</td>"
            f"<td class=num>{p.get('items_in', 0)}</td><td class=num>{p.get('items_out', '-')}</td>"
            f"<td class=num>{p.get('open_trees', '-')}</td><td class=num>{p.get('late_spans', '-')}</td>"
            f"<td>{_e(', '.join(f'{k}: {v}' for k, v in rel.items()) or '-')}</td></tr>")
    exp = []
    for name, e in s.get("exporters", {}).items():
        exp.append(
            f"<tr><td><code>{_e(name)}</code></td><td>{_bar(e.get('queued_items', 0), e.get('queue_capacity', 1))}"
            f"</td><td class=num>{e.get('queued_items', 0)}</td><td class=num>{e.get('sent_items', 0)}</td>"
            f"<td class=num>{e.get('retries', 0)}</td><td class=num>{e.get('failed_items', 0)}</td>"
            f"<td>{_e(e.get('last_error') or '-')}</td></tr>")
    rec = []
    for rid, transports in s.get("receivers", {}).items():
        for t, r in transports.items():
            rec.append(f"<tr><td><code>{_e(rid)}</code></td><td>{_e(t)}</td><td>{_e(r.get('endpoint'))}</td>"
                       f"<td class=num>{r.get('requests', 0)}</td><td class=num>{r.get('refused', 0)}</td></tr>")
    g = s.get("genai") or {}
    cost, wasted = float(g.get("cost_usd", 0.0)), float(g.get("wasted_usd", 0.0))
    share = wasted / cost if cost else 0.0
    reasons = sorted((g.get("wasted_usd_by_reason") or {}).items(), key=lambda kv: -kv[1])
    top = max((v for _, v in reasons), default=0.0)
    reason_rows = "".join(f"<tr><td>{_e(r)}</td><td>{_bar(v, top)}</td><td class=num>${v:,.4f}</td></tr>"
                          for r, v in reasons)
    genai = (f"<div class=cards><div class=card>GenAI traces<b>{int(g.get('trees', 0))}</b></div>"
             f"<div class=card>calls<b>{int(g.get('calls', 0))}</b>{int(g.get('failed_calls', 0))} failed</div>"
             f"<div class=card>spend<b>${cost:,.4f}</b></div>"
             f"<div class=card>bought nothing<b>${wasted:,.4f}</b>{share:.0%} of spend</div></div>"
             f"<table><tr><th>waste reason</th><th></th><th>USD</th></tr>"
             f"{reason_rows or '<tr><td colspan=3>no waste yet</td></tr>'}</table>")
    rss, limit = float(s.get("rss_bytes") or 0), float(s.get("memory_limit") or 0)
    memory = (f"memory {rss / 2**20:,.0f} MiB of {limit / 2**20:,.0f} MiB {_bar(rss, limit)}" if limit else "")
    j = s.get("journal")
    if j:
        memory += (f" · journal {j['bytes'] / 2**20:,.1f} MiB of {j['max_bytes'] / 2**20:,.0f} MiB "
                   f"{_bar(j['bytes'], j['max_bytes'])}")
    errs = []
    for e in reversed(s.get("recent_errors", [])):
        when = time.strftime("%H:%M:%S", time.localtime(e.get("time", 0)))
        detail = ", ".join(f"{k}={v}" for k, v in e.items() if k not in ("time", "level", "logger", "msg"))
        errs.append(f"<tr><td>{when}</td><td>{_e(e.get('level'))}</td><td>{_e(e.get('msg'))}</td>"
                    f"<td>{_e(detail)}</td></tr>")
    return f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<meta http-equiv=refresh content=5><title>tokenwatch status</title><style>{_CSS}</style></head><body>
<h1>tokenwatch {_e(s.get('version', ''))}</h1>
<div class=meta>{ready} · up {_e(s.get('uptime_s'))} s · config {_e(s.get('config_source'))} ·
<a href="/metrics">/metrics</a> · <a href="/status.json">/status.json</a></div>
<h2>GenAI since start</h2>{genai}
<p class=meta>{memory}</p>
<h2>Pipelines</h2><table><tr><th>pipeline</th><th>receivers</th><th>processors</th><th>exporters</th>
<th>in</th><th>out</th><th>open trees</th><th>late spans</th><th>trees released by reason</th></tr>
{''.join(rows)}</table>
<h2>Receivers</h2><table><tr><th>receiver</th><th>transport</th><th>endpoint</th><th>requests</th>
<th>refused</th></tr>{''.join(rec)}</table>
<h2>Exporters</h2><table><tr><th>exporter</th><th>queue</th><th>queued</th><th>sent</th><th>retries</th>
<th>dead-lettered</th><th>last error</th></tr>{''.join(exp)}</table>
<h2>Recent warnings and errors</h2><table><tr><th>time</th><th>level</th><th>message</th><th>detail</th></tr>
{''.join(errs) or '<tr><td colspan=4>none</td></tr>'}</table>
</body></html>"""
