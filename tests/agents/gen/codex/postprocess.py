"""Turn a run's raw capture into tests/agents/data/codex-<version>.jsonl and codex-truth.json.

Post-processing (same rules as /work/shared/fixtures/coding-agents/README.md, plus the brief's):
* the scratch directory (/tmp/codexgen) becomes /app; host.name becomes "dev-host";
* string values longer than 300 characters are cut and end in "...[fixture: truncated N chars]";
* the dummy API key (never sent by Codex in telemetry, checked) is replaced if it ever appears.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

W, VERSION, DEST = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])


def clean(o):
    if isinstance(o, dict):
        if o.get("key") == "host.name" and "value" in o:
            return {"key": "host.name", "value": {"stringValue": "dev-host"}}
        return {k: clean(v) for k, v in o.items()}
    if isinstance(o, list):
        return [clean(x) for x in o]
    if isinstance(o, str):
        o = o.replace(str(W), "/app").replace("sk-fake-0000", "sk-REDACTED")
        if len(o) > 300:
            o = o[:300] + f"...[fixture: truncated {len(o) - 300} chars]"
    return o


lines = []
for line in (W / "out" / "otlp.jsonl").read_text().splitlines():
    rec = json.loads(line)
    rec["otlp"] = clean(rec["otlp"])
    lines.append(json.dumps(rec, separators=(",", ":")))
(DEST / f"codex-{VERSION}.jsonl").write_text("\n".join(lines) + "\n")

truth: dict[str, dict] = defaultdict(lambda: {"calls": 0, "failed_calls": 0, "statuses": [], "input_tokens": 0,
                                              "cache_read_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
                                              "reasoning_tokens": 0, "tool_calls": 0, "model": None})
for line in (W / "out" / "truth.jsonl").read_text().splitlines():
    r = json.loads(line)
    t = truth[r["scenario"]]
    t["statuses"].append(r["status"])
    if r["status"] != 200:
        t["failed_calls"] += 1
        continue
    u = r["usage"]
    t["calls"] += 1
    t["model"] = r["model"]
    t["input_tokens"] += u["input_tokens"]  # OpenAI Responses: input_tokens includes cached_tokens
    t["cache_read_tokens"] += u["input_tokens_details"]["cached_tokens"]
    t["cache_write_tokens"] += u["input_tokens_details"].get("cache_write_tokens", 0)
    t["output_tokens"] += u["output_tokens"]  # output_tokens includes reasoning_tokens
    t["reasoning_tokens"] += u["output_tokens_details"]["reasoning_tokens"]
    t["tool_calls"] += r["kind"] == "tool_call"
doc = {"source": f"codex-{VERSION}", "note": "what the fake Responses API answered per scenario (gen/codex/"
       "fake_server.py); input_tokens includes cache read and cache write, output includes "
       "reasoning", "scenarios": truth}
(DEST / "codex-truth.json").write_text(json.dumps(doc, indent=1) + "\n")
print("wrote", len(lines), "lines;", json.dumps(truth))
