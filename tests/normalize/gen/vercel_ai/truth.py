"""Fold the fake server's served-request logs (``GET /_truth``, one file per source) into vercel-ai-truth.json.

``python truth.py RAW_DIR OUT.json``: RAW_DIR holds ``<source>.truth.json``. Output: per source, per scenario:
``calls`` (model requests, failed ones included), ``failed``, ``input`` (includes cache), ``cache_read``,
``cache_write``, ``output`` (includes reasoning), ``reasoning``, ``embeddings`` (embedding requests among
``calls``), and ``requests``: every request as served (route, model, status, tokens), in order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FIELDS = ("input", "cache_read", "cache_write", "output", "reasoning")


def main() -> None:
    raw, out = Path(sys.argv[1]), Path(sys.argv[2])
    truth: dict[str, dict[str, dict[str, object]]] = {}
    for f in sorted(raw.glob("*.truth.json")):
        source = f.name.removesuffix(".truth.json")
        per: dict[str, dict[str, object]] = {}
        for r in json.loads(f.read_text()):
            t = per.setdefault(r["scenario"], {"calls": 0, "failed": 0, "embeddings": 0, **dict.fromkeys(FIELDS, 0),
                                               "requests": []})
            t["calls"] += 1
            t["failed"] += r["status"] != 200
            t["embeddings"] += r["route"] == "/v1/embeddings"
            for k in FIELDS:
                t[k] += r[k]
            t["requests"].append({k: r.get(k) for k in ("route", "model", "stream", "status", *FIELDS, "finish")
                                  if r.get(k) is not None})
        truth[source] = per
    out.write_text(json.dumps(truth, indent=1) + "\n")


if __name__ == "__main__":
    main()
