#!/usr/bin/env bash
# Builds every Wasm component of the workspace in ONE cargo invocation.
#
# The layout is the rule, and this script is the one place that applies it:
# a crate under components/ or tests/test-components/ is a Wasm component
# (target wasm32-wasip2, profile wasm-release); every other crate is native.
# One invocation means one feature resolution, so a dependency shared by
# several components is compiled once. Every `[component.X.build] command` in
# spin.toml and tests/spin.toml is this script: `spin build` runs it once per
# component and all runs after the first find everything fresh (`fbposts build`
# runs each distinct command once).
#
# usage: scripts/wasm.sh            build all components
#        scripts/wasm.sh --clippy   the same build with clippy as the compiler
#                                   of the workspace crates (-D warnings):
#                                   lints and code in one pass
#        scripts/wasm.sh --list     print the component package names
# Extra arguments after the mode go to cargo (e.g. --timings).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# `name = "…"` of the [package] table of each crate the layout makes Wasm.
packages() {
  local manifest
  for manifest in "$root"/components/*/Cargo.toml "$root"/tests/test-components/*/Cargo.toml; do
    [ -f "$manifest" ] || continue
    awk '/^\[/ { in_package = ($0 == "[package]") }
         in_package && /^name *=/ { gsub(/^name *= *"|".*$/, ""); print; exit }' "$manifest"
  done
}

mode=build
case "${1:-}" in
  --list) packages; exit 0 ;;
  --clippy) mode=clippy; shift ;;
esac

if [ "$mode" = clippy ]; then
  # shellcheck source=scripts/clippy-env.sh
  . "$root/scripts/clippy-env.sh"
fi

# A fresh machine with rustup lacks the target: add it (quiet when present).
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi

args=()
while read -r package; do args+=(-p "$package"); done < <(packages)
cd "$root"
exec cargo build --target wasm32-wasip2 --profile wasm-release "${args[@]}" "$@"
