#!/usr/bin/env bash
# The project's one test command (README: "Run every test"): sets up what the
# tests need on a fresh machine, idempotently, then runs every check and test.
#   - the wasm32-wasip2 Rust target
#   - redis-server (Debian package) for the Redis backend tests
#   - a Python venv with models/requirements.txt for the model's CV gate
# then: rustfmt and clippy (native and wasm crates), component builds, the
# model gate, and `cargo test` (unit + end-to-end) in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "setup: Rust target wasm32-wasip2"
rustup target add wasm32-wasip2 >/dev/null
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "setup: redis-server"
if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  $apt_get update -qq
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq redis-server >/dev/null
fi
redis-server --version

step "setup: Python venv for models/"
"$root/models/setup.sh"

step "checks: rustfmt, clippy"
cargo fmt --all -- --check
cargo clippy --release --all-targets -- -D warnings
cargo clippy --release --target wasm32-wasip2 \
  -p analyze -p enhance -p fbposts-guest-kit -p misbehave -p kv-probe -p outbound-probe \
  -p predict -p inference-portable -p inference-wasi-nn \
  -p generate -p feedback -p experiments -- -D warnings

# Native crates (the Wasm components are built by `fbposts build`).
native=(--workspace --exclude analyze --exclude enhance --exclude fbposts-guest-kit --exclude misbehave --exclude kv-probe --exclude outbound-probe --exclude predict --exclude inference-wasi-nn --exclude generate --exclude feedback --exclude experiments)

step "build: host, native tests and components"
# One build of every native target: the host binary and the test binaries
# share one feature resolution, so `cargo test` below compiles nothing.
cargo build --release --all-targets "${native[@]}"
target/release/fbposts build -f spin.toml
target/release/fbposts build -f tests/spin.toml

step "models: cross-validation gate"
"$root/.venv/bin/python" models/train.py --cv-only

step "tests: unit and end-to-end"
FBPOSTS_E2E_PREBUILT=1 cargo test --release "${native[@]}"
