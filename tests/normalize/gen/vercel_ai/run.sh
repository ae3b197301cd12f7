#!/usr/bin/env bash
# Re-generate tests/normalize/data/vercel-ai-*.jsonl and vercel-ai-truth.json (see README.md here).
# Needs node >= 20 and npm (the ai@7 line says node >= 22 but runs on 20), python3. Network: the npm registry only.
#   tests/normalize/gen/vercel_ai/run.sh [WORKDIR]        (default /tmp/gen-vercel)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${CAPTURE_OUT:-$here/../../data}"   # CAPTURE_OUT: write elsewhere
work="${1:-/tmp/gen-vercel}"
raw="$work/raw"; mkdir -p "$raw"; rm -f "$raw"/*.truth.json
for v in v5 v6 v7; do
  mkdir -p "$work/$v"
  cp "$here/$v/package.json" "$here/$v/package-lock.json" "$here/generate.mjs" "$here/../capture.mjs" "$work/$v/"
  (cd "$work/$v" && npm ci --no-audit --no-fund >/dev/null)
done
run() {  # run <version dir> <source>
  local port=$((20000 + RANDOM % 20000))
  python3 "$here/fake_server.py" "$port" > "$raw/$2.server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 50); do grep -q READY "$raw/$2.server.log" && break; sleep 0.1; done
  (cd "$work/$1" && node generate.mjs "$2" "$port" "$data/$2.jsonl" "$raw/$2.truth.json")
  kill "$pid"
}
run v5 vercel-ai-v5
run v6 vercel-ai-v6
run v7 vercel-ai-v7
run v7 vercel-ai-v7-legacy
python3 "$here/truth.py" "$raw" "$data/vercel-ai-truth.json"
