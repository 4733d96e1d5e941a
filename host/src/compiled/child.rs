//! Compiling in a child process: a component not yet in the cache is
//! compiled by the same `fbposts` binary run as `compile-component`, with
//! the same engine limits, so the compiler's working memory (tens of MiB of
//! heap that the allocator keeps after it is freed) never belongs to the
//! serving process, whose first start is as small as every later one. The
//! parent holds the component's compile lock while it waits for the child.

use super::{CompiledCache, DIR_NAME, TEMPORARY, compile_to_file, compiled_path};
use crate::engine::EngineLimits;
use anyhow::{Context, Result, bail};
use std::fs;
use std::path::Path;

/// The hidden subcommand a child compiles with (see [`compile_in_child`]).
pub const CHILD_COMMAND: &str = "compile-component";

/// Runs `fbposts compile-component` on `bytes` (handed over in a temporary
/// file in `dir`) and waits for it.
pub(super) fn compile_in_child(
    base: &Path,
    limits: &EngineLimits,
    dir: &Path,
    bytes: &[u8],
) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let input = dir.join(format!("input.{}.{TEMPORARY}", std::process::id()));
    fs::write(&input, bytes).with_context(|| format!("writing {}", input.display()))?;
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg(CHILD_COMMAND)
        .arg("--cache-dir")
        .arg(base)
        .arg("--max-memory-bytes")
        .arg(limits.max_memory_bytes.to_string())
        .arg("--max-instances")
        .arg(limits.max_instances.to_string())
        .arg(&input)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status();
    let _ = fs::remove_file(&input);
    let status = status.context("starting the compiling child")?;
    if !status.success() {
        bail!("the compiling child exited with {status}");
    }
    Ok(())
}

/// What the child runs: compiles the component in `input` into the cache
/// in `base`, with an engine built from `limits`.
pub fn compile_child(base: &Path, limits: &EngineLimits, input: &Path) -> Result<()> {
    let bytes = fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let (engine, _) = crate::engine::build(limits)?;
    let dir = base.join(DIR_NAME);
    let path = compiled_path(&dir, &CompiledCache::new(&engine, Some(base)).key(&bytes));
    // No lock: the parent holds it while it waits for this process.
    compile_to_file(&engine, &bytes, &dir, &path)
}
