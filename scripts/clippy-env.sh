# Sourced, not run: makes clippy the compiler of the workspace's own crates
# for every cargo command that follows, so `cargo build` lints and compiles in
# one pass instead of `cargo clippy` (a check pass) plus `cargo build`.
#
# This is what `cargo clippy` does internally (RUSTC_WORKSPACE_WRAPPER =
# clippy-driver, arguments in CLIPPY_ARGS joined by __CLIPPY_HACKERY__), with
# `build`/`test` instead of `check`. Dependencies are compiled by plain rustc.
# Cargo fingerprints these variables: keep them identical for every command
# of a run (tests/run.sh exports them once) or the workspace crates rebuild.
# Trade-off: clippy-driver turns off MIR optimisations (LLVM still optimises)
# for the workspace crates; fine for testing, not for shipping binaries.
clippy_driver="$(rustc --print sysroot)/bin/clippy-driver"
if [ ! -x "$clippy_driver" ]; then
  echo "clippy-driver not found at $clippy_driver (rustup component add clippy)" >&2
  return 1
fi
export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
