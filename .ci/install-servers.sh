#!/usr/bin/env bash
# Installs the real servers the tests use, idempotently:
#   Debian: prometheus (+ promtool), redis-server, chromium
#   PyPI:   arize-phoenix, in its own venv (.venv-phoenix) so its heavy dependencies stay out of ours
# Run by `make test` (and so by .ci/run). Safe to run again: it skips what is present.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

need=()
# Debian's prometheus package ships both binaries
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need+=(prometheus)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)

if [ "${#need[@]}" -gt 0 ]; then
  echo "install-servers: installing ${need[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # --no-install-recommends keeps Prometheus from pulling exporters we do not use
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # the Debian packages start their services; the tests start their own instances on free ports
  for svc in prometheus redis-server; do
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true; fi
    if command -v service >/dev/null 2>&1; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
  done
fi

if [ ! -x .venv-phoenix/bin/phoenix ]; then
  echo "install-servers: installing arize-phoenix into .venv-phoenix" >&2
  PY="${PY:-python3}"
  "$PY" -m venv .venv-phoenix
  # (grep drops pip's notes about local index folders that this machine lacks)
  .venv-phoenix/bin/python -m pip install -q --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
  .venv-phoenix/bin/python -m pip install -q arize-phoenix 2>&1 | { grep -v "^WARNING: Location" || true; }
fi

for b in prometheus promtool redis-server chromium; do
  command -v "$b" >/dev/null 2>&1 || { echo "install-servers: $b is still missing" >&2; exit 1; }
done
.venv-phoenix/bin/phoenix --help >/dev/null 2>&1 || { echo "install-servers: phoenix does not start" >&2; exit 1; }
echo "install-servers: prometheus, promtool, redis-server, chromium and phoenix are ready" >&2
