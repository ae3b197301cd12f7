"""Turn a harness capture into tests/agents/data/gemini-cli-<version>.jsonl and gemini-cli-truth.json.

Usage: python convert.py <capture_dir> <version> <scratch_prefix>
Post-processing: the scratch prefix is rewritten to /app; strings longer than 1200 characters keep their first
and last 500 characters around ``...[fixture: cut N chars]...`` (system prompts, request bodies); nothing else.
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

cap, version, prefix = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
data = Path(__file__).resolve().parents[2] / "data"
data.mkdir(exist_ok=True)


def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, str):
        v = v.replace(prefix, "/app")
        if len(v) > 1200:
            v = v[:500] + f"...[fixture: cut {len(v) - 1000} chars]..." + v[-500:]
    return v


marks = (cap / "marks").read_text().split()
bounds = [(marks[i], int(marks[i + 1])) for i in range(0, len(marks), 2)]
lines = (cap / "otlp.jsonl").read_text().splitlines()
out, start = [], 0
for scenario, end in bounds:
    for line in lines[start:end]:
        d = json.loads(line)
        out.append(json.dumps({"signal": d["signal"], "scenario": scenario, "source": f"gemini-cli-{version}",
                               "otlp": clean(d["otlp"])}, ensure_ascii=False))
    start = end
(data / f"gemini-cli-{version}.jsonl").write_text("\n".join(out) + "\n")

truth: dict[str, dict] = defaultdict(lambda: {"calls": 0, "failed_calls": 0, "input_tokens": 0,
                                              "cache_read_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
                                              "reasoning_tokens": 0, "tool_use_prompt_tokens": 0, "models": [],
                                              "answers": []})
for line in (cap / "truth.jsonl").read_text().splitlines():
    t = json.loads(line)
    s = truth[t["scenario"]]
    s["calls"] += 1
    if t["model"] not in s["models"]:
        s["models"].append(t["model"])
    if t["status"] != 200:
        s["failed_calls"] += 1
        s["answers"].append({"kind": t["kind"], "model": t["model"], "status": t["status"]})
        continue
    p, c, o, th, tu = t["usage"]
    s["input_tokens"] += p + tu  # promptTokenCount (incl. cachedContentTokenCount) + toolUsePromptTokenCount
    s["cache_read_tokens"] += c
    s["output_tokens"] += o + th  # candidatesTokenCount excludes thoughtsTokenCount
    s["reasoning_tokens"] += th
    s["tool_use_prompt_tokens"] += tu
    s["answers"].append({"kind": t["kind"], "model": t["model"], "status": 200, "promptTokenCount": p,
                         "cachedContentTokenCount": c, "candidatesTokenCount": o, "thoughtsTokenCount": th,
                         "toolUsePromptTokenCount": tu})
doc = {"source": f"gemini-cli-{version}", "meaning": "what the fake Gemini API answered, per scenario: calls "
       "(router + main, incl. failed), input incl. cache and toolUsePrompt, output incl. thoughts",
       "scenarios": truth}
(data / "gemini-cli-truth.json").write_text(json.dumps(doc, indent=1) + "\n")
