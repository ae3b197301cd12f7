"""Turn capture.py's raw output into tests/agents/data/claude-code-<version>.jsonl and claude-code-truth.json.

Machine paths (the throwaway HOME / scratch repo under /tmp) become /app/; secret-looking values are refused.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

raw = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/cc/raw")
data = Path(__file__).resolve().parents[2] / "data"
t = json.loads((raw / "truth.json").read_text())
v = t["version"]
with open(data / f"claude-code-{v}.jsonl", "w") as out:
    for line in (raw / "capture.jsonl").read_text().splitlines():
        line = re.sub(r"/tmp/cc(home|repo)-[a-z_]+-[A-Za-z0-9_]+", "/app", line)
        line = re.sub(r"/(?:tmp|root)/", "/app/", line)
        assert not re.search(r"sk-ant|Bearer |api[_-]?key\"", line, re.IGNORECASE), "secret-looking value in capture"
        out.write(json.dumps(json.loads(line), separators=(",", ":")) + "\n")
truth = {"cli": "claude-code", "version": v,
         "note": "what the fake Anthropic API answered per scenario (every HTTP answer is a call; 429/500 answers "
                 "are failed calls). input_tokens INCLUDES cache read+write (uncached_input_tokens is Anthropic's "
                 "usage.input_tokens); output_tokens INCLUDES thinking: Anthropic counts thinking in "
                 "usage.output_tokens and reports no separate number, so reasoning_tokens is 0 although healthy "
                 "and cached streamed a thinking block on their first call",
         "scenarios": t["scenarios"]}
(data / "claude-code-truth.json").write_text(json.dumps(truth, indent=1) + "\n")
