# Sourced, not run, before building the release host (scripts/up.sh,
# scripts/pgo.sh; by hand: `. scripts/release-env.sh && cargo build
# --release -p fbposts`): optimises the host's crates with the committed
# profile host/pgo/fbposts.profdata (profile-guided optimisation, README
# "Profile-guided optimisation"), when it fits this toolchain — an
# x86_64 Linux host and the LLVM major version the profile was merged with.
# Otherwise it changes nothing and the host builds as plain `release`.
#
# Cargo fingerprints these flags: a release build without them (a plain
# `cargo build --release`) rebuilds the host's crates, and so does the next
# build with them. Wasm builds are not affected (the flags are x86_64's).
_pgo_profile="$PWD/host/pgo/fbposts.profdata"
_pgo_rustc=$(rustc -vV)
if [ -f "$_pgo_profile" ] \
  && [ "$(sed -n 's/^host: //p' <<<"$_pgo_rustc")" = x86_64-unknown-linux-gnu ] \
  && [ "$(sed -n 's/^LLVM version: \([0-9]*\).*/\1/p' <<<"$_pgo_rustc")" = "$(cat host/pgo/llvm-version 2>/dev/null)" ]; then
  # Functions changed since the profile was recorded keep no profile; LLVM's
  # warning for each would only be noise.
  export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-Cprofile-use=$_pgo_profile -Cllvm-args=-no-pgo-warn-mismatch"
fi
unset _pgo_profile _pgo_rustc
