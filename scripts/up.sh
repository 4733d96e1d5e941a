#!/usr/bin/env bash
# README command 1: sets up and serves the app on embedded defaults —
# SQLite key-value in .spin/, inference through wasi-nn on CPU ONNX Runtime.
# Idempotent: a second run only rebuilds what changed. Extra arguments go to
# `fbposts up` (e.g. --listen 0.0.0.0:3000, --nn-backend openvino).
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2 >/dev/null
# .venv with models/requirements.txt: ONNX Runtime's and OpenVINO's wheels,
# which the host loads at run time (nothing is downloaded by the build).
models/setup.sh
# The host is optimised with the committed profile (host/pgo/) when it fits.
. scripts/release-env.sh
exec cargo run --release -p fbposts -- up --build --inference wasi-nn "$@"
