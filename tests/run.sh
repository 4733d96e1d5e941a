#!/usr/bin/env bash
# The project's one test command (README: "Run every test"): sets up what the
# tests need on a fresh machine, idempotently, then runs every check and test.
#   - the wasm32-wasip2 Rust target, rustfmt and clippy
#   - redis-server (Debian package) for the Redis backend tests
#   - a Python venv with models/requirements.txt for the model's CV gate
#     and tests/api/requirements.txt for the API contract test (schemathesis)
#     and tests/browser/requirements.txt (Playwright) for the dashboard's
#     browser test, installed in the background while Rust compiles
#   - Debian's chromium for that browser test (tests/browser/setup.sh, in the
#     background)
# then: rustfmt; one build of every native target and one build of every Wasm
# component (scripts/wasm.sh), both with clippy as the compiler of the
# workspace's own crates (scripts/clippy-env.sh: lints and code in one pass,
# -D warnings); the model gate; `cargo test` in the `ci` profile (release at
# opt-level 1, Cargo.toml) with the same environment, so it compiles nothing:
# the unit tests and the end-to-end suite side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> [%ss] %s\n' "$SECONDS" "$*"; }
# Every long step has a time limit (generous: a slow machine must still pass,
# CI stops everything at 90 minutes), so a step that
# hangs fails here, named, with its log, instead of stalling the whole run.
limit() { local minutes=$1; shift; timeout --kill-after=30s "${minutes}m" "$@"; }
# A build's full output goes to a log file; the run shows its last lines (all
# of it when it fails), so the run's own output stays short enough to read.
show_log() { local tag=$1 log=$2 status=$3
  if [ "$status" = 0 ]; then tail -n 5 "$log" | sed "s/^/[$tag] /"; else sed "s/^/[$tag] /" "$log"; fi
}
# Background jobs (venv + model gate, Wasm build) do not outlive a failed step.
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

step "setup: Rust target wasm32-wasip2, rustfmt, clippy"
rustup target add wasm32-wasip2 >/dev/null
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "setup: redis-server"
if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  $apt_get update -qq
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq redis-server >/dev/null
fi
redis-server --version

step "setup: chromium (Debian, in the background) for the dashboard's browser test"
browser_log=$(mktemp)
limit 20 tests/browser/setup.sh chromium >"$browser_log" 2>&1 &
browser_setup=$!

step "setup + models: Python venv (model, API fuzzer, Playwright), then the model's cross-validation gate (in the background)"
# The gate is Python and runs beside the Rust builds; its outcome is checked
# after them. It is deterministic, so it reruns only when something it reads
# changed: models/engagement/cv_gate.json records the pass and the sha256 of
# its inputs (data, code, pinned packages); `train.py --cv-only` reruns it.
models_log=$(mktemp)
( limit 20 "$root/models/setup.sh" && limit 20 "$root/tests/api/setup.sh" \
  && limit 20 "$root/tests/browser/setup.sh" playwright \
  && limit 40 "$root/.venv/bin/python" models/train.py --cv-if-changed ) >"$models_log" 2>&1 &
models_gate=$!

step "checks: rustfmt"
cargo fmt --all -- --check

# From here on clippy compiles the workspace crates (see scripts/clippy-env.sh);
# every cargo command below, including those `fbposts build` and the e2e
# tests run, sees the same environment and so reuses the same artifacts.
. scripts/clippy-env.sh

# Native: every crate but the Wasm components (scripts/wasm.sh --list says
# which); analysis is the exception that keeps its unit tests native (its WIT
# round trip runs on both converters natively; a Wasm test binary would need a
# Wasm runner). inference-portable is tested as a component, by the e2e
# inference contract, so tract is compiled for Wasm only.
native=(--workspace)
for package in $(scripts/wasm.sh --list); do
  case "$package" in
    analysis) ;;
    *) native+=(--exclude "$package") ;;
  esac
done

step "build + clippy: Wasm components (in the background) and native crates"
# The two builds lock different directories (target/ci and
# target/wasm32-wasip2/wasm-release), so they run side by side and each fills
# the other's single-threaded stretches (big crates, LTO, links).
# `--timings` leaves target/cargo-timings/cargo-timing-*.html: where the time went.
wasm_log=$(mktemp)
limit 80 scripts/wasm.sh --timings >"$wasm_log" 2>&1 &
wasm_build=$!
# One build of every native target: the host binary and the test binaries
# share one feature resolution, so `cargo test` below compiles nothing.
native_log=$(mktemp)
native_status=0
limit 80 cargo build --profile ci --all-targets --timings "${native[@]}" >"$native_log" 2>&1 || native_status=$?
show_log native "$native_log" "$native_status"
wasm_status=0
wait "$wasm_build" || wasm_status=$?
show_log wasm "$wasm_log" "$wasm_status"
[ "$native_status" = 0 ] || exit "$native_status"
[ "$wasm_status" = 0 ] || exit "$wasm_status"

step "build: components through both manifests (fresh by now)"
# Both manifests' build commands are scripts/wasm.sh: fbposts runs it once
# per manifest and cargo finds everything built above.
target/ci/fbposts build -f spin.toml
target/ci/fbposts build -f tests/spin.toml

step "models: cross-validation gate"
models_status=0
wait "$models_gate" || models_status=$?
sed 's/^/[models] /' "$models_log"
[ "$models_status" = 0 ] || exit "$models_status"

step "setup: chromium for the dashboard's browser test (installed in the background)"
browser_status=0
wait "$browser_setup" || browser_status=$?
sed 's/^/[chromium] /' "$browser_log"
[ "$browser_status" = 0 ] || exit "$browser_status"

step "tests: unit and end-to-end, side by side"
# Cargo holds the build directory's lock while it compiles, not while the
# tests run, and everything is compiled by now: the unit tests (libraries,
# binaries, the other integration tests, doc tests) run in a second cargo
# process beside the end-to-end suite and fill the time its tests spend
# waiting on sockets and timers. Both keep the package selection above, so
# both see the build's feature resolution and compile nothing.
other_tests=()
while read -r name; do other_tests+=(--test "$name"); done < <(
  cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
excluded = set(sys.argv[1:])
names = {t["name"] for p in json.load(sys.stdin)["packages"] if p["name"] not in excluded
         for t in p["targets"] if "test" in t["kind"] and t["name"] != "e2e"}
print("\n".join(sorted(names)))' $(printf '%s\n' "${native[@]}" | grep -v '^--'))
unit_log=$(mktemp)
( limit 30 cargo test --profile ci "${native[@]}" --lib --bins "${other_tests[@]}" \
  && limit 10 cargo test --profile ci "${native[@]}" --doc ) >"$unit_log" 2>&1 &
unit_tests=$!
e2e_status=0
limit 45 env FBPOSTS_E2E_PREBUILT=1 cargo test --profile ci "${native[@]}" --test e2e || e2e_status=$?
unit_status=0
wait "$unit_tests" || unit_status=$?
sed 's/^/[unit] /' "$unit_log"
[ "$unit_status" = 0 ] || exit "$unit_status"
[ "$e2e_status" = 0 ] || exit "$e2e_status"

step "done"
echo "CPU time of this run (user, system), then of its child processes:"
times
