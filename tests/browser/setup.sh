#!/usr/bin/env bash
# Adds tests/browser/requirements.txt (Playwright, PyPI) to <repo>/.venv, which
# models/setup.sh creates, and Debian's chromium, idempotently: pip runs only
# when requirements.txt changed, apt-get only when chromium is missing.
# Playwright's own browser download is never used (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD).
# usage: setup.sh [chromium|playwright]   (no argument: both)
set -euo pipefail
part=${1:-all}
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv"
req="$root/tests/browser/requirements.txt"
stamp="$venv/.browser-requirements.sha256"

if [ "$part" != playwright ] && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  $apt_get update -qq
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq chromium >/dev/null
fi

[ "$part" != chromium ] || exit 0
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
