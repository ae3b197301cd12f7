#!/usr/bin/env bash
# Re-run: bash tests/agents/gen/codex/run.sh   (from /work/main; needs npm + the project's .venv)
# Installs the pinned CLI into /tmp/codexcli, runs each scenario headless against fake_server.py, then
# post-processes into tests/agents/data/codex-<version>.jsonl and codex-truth.json.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
VERSION=${CODEX_VERSION:-$(cat "$HERE/VERSION")}
W=${WORK:-/tmp/codexgen}
API=18431; OTLP=18432
rm -rf "$W"; mkdir -p "$W/out"
[ -x /tmp/codexcli/node_modules/.bin/codex ] || npm install "@openai/codex@$VERSION" --prefix /tmp/codexcli
CODEX=/tmp/codexcli/node_modules/.bin/codex
echo "$VERSION" > "$W/out/version"; echo none > "$W/out/scenario"
"$ROOT/.venv/bin/python" "$HERE/fake_server.py" $API $OTLP "$W/out" & SRV=$!
trap 'kill $SRV' EXIT
sleep 1
for sc in ${SCENARIOS:-healthy tool_loop errors cached}; do
  echo "$sc" > "$W/out/scenario"
  home="$W/home-$sc"; repo="$W/repo-$sc"; mkdir -p "$home" "$repo"
  (cd "$repo" && git init -q && echo hi > a.txt && git add . && git -c user.email=x@y -c user.name=x commit -qm init)
  sed -e "s/@API@/$API/g" -e "s/@OTLP@/$OTLP/g" "$HERE/config.toml" > "$home/config.toml"
  case $sc in
    healthy) p="AFX-SCENARIO=healthy List the files in this directory, then say done.";;
    tool_loop) p="AFX-SCENARIO=tool_loop List the files in this directory until told otherwise.";;
    errors) p="AFX-SCENARIO=errors List the files in this directory, then say done.";;
    cached) p="AFX-SCENARIO=cached List the files in this directory, then say done.";;
  esac
  (cd "$repo" && env -i PATH="$PATH" HOME="$home" CODEX_HOME="$home" FAKE_OPENAI_KEY=sk-fake-0000 \
     OTEL_RESOURCE_ATTRIBUTES="department=platform,team.id=agents-fixture,cost_center=cc-0042" \
     timeout 180 "$CODEX" exec --json --dangerously-bypass-approvals-and-sandbox "$p" < /dev/null \
     > "$W/out/exec-$sc.jsonl" 2> "$W/out/exec-$sc.err") || echo "exit $? for $sc"
  sleep 6  # let the exporters flush
done
"$ROOT/.venv/bin/python" "$HERE/postprocess.py" "$W" "$VERSION" "$ROOT/tests/agents/data"
