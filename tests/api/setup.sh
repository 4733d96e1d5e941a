#!/usr/bin/env bash
# Installs tests/api/requirements.txt (schemathesis, PyPI only) into
# <repo>/.venv, idempotently: reinstalls only when requirements.txt changed.
# The venv is the one models/setup.sh makes (run after it by tests/run.sh,
# in the background beside the Rust builds).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv"
req="$root/tests/api/requirements.txt"
stamp="$venv/.api-requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/schemathesis" ]; then
  exit 0
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
