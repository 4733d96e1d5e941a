#!/usr/bin/env bash
# Regenerates host/pgo/fbposts.profdata, the profile the release host is
# optimised with (profile-guided optimisation; scripts/release-env.sh says
# when it applies). Run it after changing the host's request path or
# Cargo.lock, and commit the result; nothing else needs it.
#
# 1. Builds the host instrumented (-Cprofile-generate), with the `release`
#    profile the profile will be used with, in target/pgo/.
# 2. Serves scripts/bench_table.py's workload with it (--server): every row,
#    the trivial component fresh and reused and the app's routes on cache hit
#    and miss, on an empty compiled cache so that Cranelift's compilation at
#    first start is part of it. The load generator is the release build.
# 3. Merges what the instrumented processes recorded (--sparse: only what
#    ran) with llvm-profdata of rustc's LLVM major version (Debian:
#    `apt-get install llvm-NN`), and records that version beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
rustc_info=$(rustc -vV)
host=$(sed -n 's/^host: //p' <<<"$rustc_info")
llvm_major=$(sed -n 's/^LLVM version: \([0-9]*\).*/\1/p' <<<"$rustc_info")
profdata=$(command -v "llvm-profdata-$llvm_major" || echo "/usr/lib/llvm-$llvm_major/bin/llvm-profdata")
if [ ! -x "$profdata" ]; then
  echo "needs llvm-profdata $llvm_major (rustc's LLVM): apt-get install llvm-$llvm_major" >&2
  exit 1
fi
work="$PWD/target/pgo"
rm -rf "$work/profraw" && mkdir -p "$work/profraw"
# --target: the flag reaches the host's crates, not build scripts.
RUSTFLAGS="-Cprofile-generate=$work/profraw" cargo build --release -p fbposts --bin fbposts \
  --target "$host" --target-dir "$work/build"
. scripts/release-env.sh
cargo build --release -p fbposts --bin fbposts --example native_peer
scripts/wasm.sh
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
XDG_CACHE_HOME="$cache" scripts/bench_table.py --seconds 2 \
  --server "$work/build/$host/release/fbposts" >"$work/training.txt"
"$profdata" merge --sparse -o host/pgo/fbposts.profdata "$work/profraw"
echo "$llvm_major" >host/pgo/llvm-version
ls -l host/pgo/fbposts.profdata
