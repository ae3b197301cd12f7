#!/usr/bin/env bash
# Capture Gemini CLI telemetry for tests/agents/data/gemini-cli-<version>.jsonl.
# Pinned: @google/gemini-cli 0.61.0 (npm "latest" on 2026-12-01), Node v20.20.2.
# Re-run: bash tests/agents/gen/gemini-cli/run.sh [version]   (from /work/main; loopback only)
set -euo pipefail
VER=${1:-0.61.0}
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
W=${W:-/tmp/gemcap}
rm -rf "$W"; mkdir -p "$W/out"
(cd "$W" && npm install --no-audit --no-fund "@google/gemini-cli@$VER" >/dev/null 2>&1)
API=18931; OTLP=18932
"$ROOT/.venv/bin/python" "$ROOT/tests/agents/gen/gemini-cli/harness.py" $API $OTLP "$W/out" &
HP=$!; trap 'kill $HP' EXIT
sleep 2
declare -A PROMPT=(
  [healthy]="AFX-SCENARIO=healthy List the files in this repo."
  [tool_loop]="AFX-SCENARIO=tool_loop List the files in this repo."
  [errors]="AFX-SCENARIO=errors List the files in this repo."
  [cached]="AFX-SCENARIO=cached List the files in this repo."
)
for sc in healthy tool_loop errors cached; do
  H="$W/home-$sc"; R="$W/repo-$sc"; mkdir -p "$H/.gemini" "$R"
  (cd "$R" && git init -q && echo "# demo" > README.md && echo 'print("hi")' > hello.py \
     && git add . && git -c user.email=dev@example.invalid -c user.name=dev commit -qm init)
  cat > "$H/.gemini/settings.json" <<JSON
{"telemetry": {"enabled": true, "target": "local", "otlpEndpoint": "http://127.0.0.1:$OTLP", "otlpProtocol": "http",
               "logPrompts": true, "traces": true},
 "privacy": {"usageStatisticsEnabled": false},
 "security": {"auth": {"selectedType": "gemini-api-key"}}}
JSON
  echo "== $sc"
  (cd "$R" && HOME="$H" GEMINI_API_KEY=fake-key GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:$API" \
     GEMINI_CLI_TRUST_WORKSPACE=true OTEL_RESOURCE_ATTRIBUTES="department=platform,team.id=agents-fixture" \
     NO_PROXY=127.0.0.1 timeout 180 node "$W/node_modules/@google/gemini-cli/bundle/gemini.js" \
     -p "${PROMPT[$sc]}" --approval-mode yolo --output-format json > "$W/out/$sc.stdout" 2> "$W/out/$sc.stderr" || true)
  sleep 3
  echo "$sc" >> "$W/out/marks"
  wc -l < "$W/out/otlp.jsonl" >> "$W/out/marks"
done
kill $HP; trap - EXIT
"$ROOT/.venv/bin/python" "$ROOT/tests/agents/gen/gemini-cli/convert.py" "$W/out" "$VER" "$W"
