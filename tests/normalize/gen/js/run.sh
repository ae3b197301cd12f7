#!/usr/bin/env bash
# Re-generate tests/normalize/data/{openllmetry-js-openai,openllmetry-js-anthropic,openinference-js-openai,
# openinference-js-anthropic,
# openinference-langchain-js}.jsonl
# and js-truth.json (see README.md here). Needs node >= 20 (@langchain/openai 1.6.0 says node >= 22 but runs on 20), npm, python3. Network: the npm registry only.
#   tests/normalize/gen/js/run.sh [WORKDIR]        (default /tmp/gen-js)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${CAPTURE_OUT:-$here/../../data}"   # CAPTURE_OUT: write elsewhere
server="$here/../vercel_ai/fake_server.py"   # the same fake OpenAI / Anthropic server
work="${1:-/tmp/gen-js}"
raw="$work/raw"; mkdir -p "$raw"; rm -f "$raw"/*.truth.json
cp "$here/package.json" "$here/package-lock.json" "$here/generate.mjs" "$here/../capture.mjs" "$work/"
(cd "$work" && npm ci --no-audit --no-fund >/dev/null)
for source in openllmetry-js-openai openllmetry-js-anthropic openinference-js-openai openinference-js-anthropic \
    openinference-langchain-js; do
  port=$((20000 + RANDOM % 20000))
  python3 "$server" "$port" > "$raw/$source.server.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do grep -q READY "$raw/$source.server.log" && break; sleep 0.1; done
  (cd "$work" && node generate.mjs "$source" "$port" "$data/$source.jsonl" "$raw/$source.truth.json")
  kill "$pid"
done
python3 "$here/../vercel_ai/truth.py" "$raw" "$data/js-truth.json"
