//! Compiled components on disk, mapped into the process rather than copied.
//!
//! A component's machine code is compiled once and kept in the cache
//! directory as `<key>.cwasm`, where the key is the SHA-256 of the engine's
//! compatibility hash and the (composed) component's bytes: a changed
//! component, a new wasmtime or another engine configuration is a new file.
//! Each start-up maps the file (`Component::deserialize_file`) instead of
//! reading it into memory:
//! - code and read-only data are file-backed pages that the kernel loads when
//!   first executed and may drop under pressure, so a route that is never
//!   called costs no resident memory (a copy, as wasmtime's own compilation
//!   cache makes, is anonymous memory, resident from start-up on);
//! - wasmtime maps linear-memory initial images straight from the same file
//!   instead of copying them into a memfd.
//!
//! A component not yet in the cache is compiled by a child process ([`child`])
//! when the cache is built with [`CompiledCache::compiling_in_child`], so
//! the compiler's working memory never belongs to the serving process. If
//! the child fails, the component is compiled in-process.
//!
//! Files are written whole under a temporary name and renamed into place, so
//! a reader never sees half a file and a file already mapped stays valid
//! when replaced or removed. Processes starting at once compile each
//! component once: the others wait for it ([`lock`]). A start-up
//! refreshes the modification time of every file it uses;
//! [`CompiledCache::prune`] removes the files no start-up has used for
//! [`UNUSED_FOR`]. Without a directory (`--no-cache`) components
//! are compiled in memory at every start.

use crate::engine::EngineLimits;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use wasmtime::Engine;
use wasmtime::component::Component;

mod child;
mod lock;

use child::compile_in_child;
pub use child::{CHILD_COMMAND, compile_child};
use lock::{CompileLock, LOCK};

/// The compiled components' directory, in the cache directory.
const DIR_NAME: &str = "components";

/// A compiled component no start-up has used for this long is removed.
pub const UNUSED_FOR: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// The extension of compiled components (wasmtime's own for precompiled code).
const EXTENSION: &str = "cwasm";
/// The extension of a compiled component being written.
const TEMPORARY: &str = "tmp";

/// Where compiled components are kept, for one engine configuration.
pub struct CompiledCache {
    dir: Option<PathBuf>,
    /// The directory as given (the child is given it too).
    base: Option<PathBuf>,
    /// What makes compiled code loadable by this engine, as a key prefix.
    engine_key: u64,
    /// Compile misses in a child process built with these engine limits.
    child: Option<EngineLimits>,
}

impl CompiledCache {
    /// The cache in `dir` (created when first written); `None` compiles in
    /// memory every time.
    pub fn new(engine: &Engine, dir: Option<&Path>) -> Self {
        // `DefaultHasher::new()` is deterministic within one build of the
        // host; a Rust release that changes it only means one recompile.
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir: dir.map(|dir| dir.join(DIR_NAME)),
            base: dir.map(Path::to_path_buf),
            engine_key: hasher.finish(),
            child: None,
        }
    }

    /// Compiles what is missing in a child process whose engine is built
    /// from `limits` (the limits this process built its engine from).
    pub fn compiling_in_child(mut self, limits: EngineLimits) -> Self {
        self.child = Some(limits);
        self
    }

    /// The compiled form of `bytes`: mapped from the cache when there,
    /// otherwise compiled, written to the cache and mapped from it. While
    /// one process compiles a component, another that needs the same one
    /// waits for it ([`CompileLock`]) and maps its file.
    pub fn component(&self, engine: &Engine, bytes: &[u8]) -> Result<Component> {
        let Some(dir) = &self.dir else {
            return Ok(Component::new(engine, bytes)?);
        };
        let key = self.key(bytes);
        let path = compiled_path(dir, &key);
        if let Some(component) = mapped(engine, &path) {
            return Ok(component);
        }
        let _lock = CompileLock::acquire(dir, &key);
        if let Some(component) = mapped(engine, &path) {
            return Ok(component);
        }
        let started = std::time::Instant::now();
        let compiled = || {
            let ms = started.elapsed().as_millis() as u64;
            tracing::info!(key = %key, ms, "component compiled");
        };
        if let (Some(limits), Some(base)) = (&self.child, &self.base) {
            match compile_in_child(base, limits, dir, bytes) {
                Ok(()) if path.is_file() => {
                    compiled();
                    return map(engine, &path);
                }
                Ok(()) => tracing::warn!("the compiling child wrote another key; compiling here"),
                Err(err) => tracing::warn!(error = %err, "compiling here instead of in a child"),
            }
        }
        match compile_to_file(engine, bytes, dir, &path) {
            Ok(()) => {
                compiled();
                map(engine, &path)
            }
            Err(err) => {
                tracing::warn!(
                    dir = %dir.display(),
                    error = %err,
                    "cannot keep the compiled component; compiling it in memory"
                );
                Ok(Component::new(engine, bytes)?)
            }
        }
    }

    /// Removes the compiled components no start-up has used for
    /// [`UNUSED_FOR`] (and temporary and lock files as old, left by a crash
    /// while compiling); returns how many. Failures are skipped: pruning is
    /// housekeeping.
    pub fn prune(&self) -> usize {
        let Some(dir) = &self.dir else {
            return 0;
        };
        let Ok(entries) = fs::read_dir(dir) else {
            return 0;
        };
        let now = SystemTime::now();
        entries
            .flatten()
            .filter(|entry| {
                let extension = entry.path().extension().map(|e| e.to_owned());
                extension.is_some_and(|e| e == EXTENSION || e == TEMPORARY || e == LOCK)
            })
            .filter(|entry| {
                let modified = entry.metadata().and_then(|m| m.modified());
                modified.is_ok_and(|at| now.duration_since(at).unwrap_or_default() > UNUSED_FOR)
            })
            .filter(|entry| fs::remove_file(entry.path()).is_ok())
            .count()
    }

    fn key(&self, bytes: &[u8]) -> String {
        let mut sha = Sha256::new();
        sha.update(self.engine_key.to_le_bytes());
        sha.update(bytes);
        hex::encode(sha.finalize())
    }
}

/// Where the component of `key` is kept compiled, in the components' `dir`.
fn compiled_path(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.{EXTENSION}"))
}

/// The component compiled in `path`, when the file is there and usable;
/// a file that is not (damaged, from another wasmtime) is compiled again.
fn mapped(engine: &Engine, path: &Path) -> Option<Component> {
    if !path.is_file() {
        return None;
    }
    match map(engine, path) {
        Ok(component) => {
            refresh(path);
            Some(component)
        }
        Err(err) => {
            tracing::warn!(
                path = %path.display(),
                error = %err,
                "compiled component unusable; compiling again"
            );
            None
        }
    }
}

/// Compiles `bytes` with `engine` into `path`, written whole.
fn compile_to_file(engine: &Engine, bytes: &[u8], dir: &Path, path: &Path) -> Result<()> {
    let compiled = engine.precompile_component(bytes)?;
    write_whole(dir, path, &compiled)
}

/// Maps a compiled component from `path`: the one unsafe call of the host
/// (the workspace denies `unsafe_code`; this allows it for one call).
#[allow(unsafe_code)]
fn map(engine: &Engine, path: &Path) -> Result<Component> {
    // SAFETY: only this module writes the directory, each file whole before
    // it is renamed into place, and no file is modified afterwards (a new
    // version is a new name). wasmtime checks that the file was compiled by
    // a compatible engine before using it.
    Ok(unsafe { Component::deserialize_file(engine, path) }?)
}

/// Sets the modification time of `path`, which pruning goes by.
fn set_modified(path: &Path, at: SystemTime) -> std::io::Result<()> {
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(at))
}

/// Marks `path` as used now, so pruning keeps it.
fn refresh(path: &Path) {
    if let Err(err) = set_modified(path, SystemTime::now()) {
        tracing::debug!(path = %path.display(), error = %err, "cannot refresh the compiled component's time");
    }
}

/// Writes `bytes` to `path` through a temporary file of this process in the
/// same directory, renamed into place once complete.
fn write_whole(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let temporary = path.with_extension(format!("{EXTENSION}.{}.{TEMPORARY}", std::process::id()));
    let written = fs::write(&temporary, bytes)
        .with_context(|| format!("writing {}", temporary.display()))
        .and_then(|()| {
            fs::rename(&temporary, path)
                .with_context(|| format!("renaming into {}", path.display()))
        });
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The empty component (the binary preamble of a component, layer 1),
    /// and another one: the same with a custom section.
    const EMPTY: &[u8] = b"\0asm\x0d\0\x01\0";
    const OTHER: &[u8] = b"\0asm\x0d\0\x01\0\0\x02\x01x";

    fn engine() -> Engine {
        Engine::default()
    }

    fn cwasm_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<_> = fs::read_dir(dir.join("components"))
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == EXTENSION));
        files.sort();
        files
    }

    #[test]
    fn a_component_is_compiled_once_and_mapped_from_its_file_after() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = CompiledCache::new(&engine, Some(dir.path()));
        cache.component(&engine, EMPTY).unwrap();
        let files = cwasm_files(dir.path());
        assert_eq!(files.len(), 1, "{files:?}");
        let written = fs::metadata(&files[0]).unwrap().len();
        assert!(written > 0);

        // A second start maps the same file: nothing new is written.
        let again = CompiledCache::new(&engine, Some(dir.path()));
        again.component(&engine, EMPTY).unwrap();
        assert_eq!(cwasm_files(dir.path()), files);
        // Another component is another file.
        again.component(&engine, OTHER).unwrap();
        assert_eq!(cwasm_files(dir.path()).len(), 2);
    }

    #[test]
    fn a_damaged_file_is_compiled_again_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = CompiledCache::new(&engine, Some(dir.path()));
        cache.component(&engine, EMPTY).unwrap();
        let file = cwasm_files(dir.path()).remove(0);
        let good = fs::read(&file).unwrap();
        fs::write(&file, b"not a compiled component").unwrap();

        cache.component(&engine, EMPTY).unwrap();
        assert_eq!(fs::read(&file).unwrap(), good);
    }

    #[test]
    fn an_engine_configured_differently_gets_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let plain = engine();
        CompiledCache::new(&plain, Some(dir.path()))
            .component(&plain, EMPTY)
            .unwrap();
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let interruptible = Engine::new(&config).unwrap();
        CompiledCache::new(&interruptible, Some(dir.path()))
            .component(&interruptible, EMPTY)
            .unwrap();
        assert_eq!(cwasm_files(dir.path()).len(), 2);
    }

    #[test]
    fn pruning_removes_only_files_unused_for_the_whole_period() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = CompiledCache::new(&engine, Some(dir.path()));
        cache.component(&engine, EMPTY).unwrap();
        cache.component(&engine, OTHER).unwrap();
        let files = cwasm_files(dir.path());
        let stale = SystemTime::now() - UNUSED_FOR - Duration::from_secs(60);
        set_modified(&files[0], stale).unwrap();

        assert_eq!(cache.prune(), 1);
        assert_eq!(cwasm_files(dir.path()), vec![files[1].clone()]);
    }

    #[test]
    fn what_a_child_compiles_is_the_file_its_parent_maps() {
        let dir = tempfile::tempdir().unwrap();
        let limits = EngineLimits {
            max_memory_bytes: 16 << 20,
            max_instances: 4,
        };
        // The parent's engine and the child's are built apart, from the same limits.
        let (engine, _) = crate::engine::build(&limits).unwrap();
        let input = dir.path().join("input.wasm");
        fs::write(&input, OTHER).unwrap();
        compile_child(dir.path(), &limits, &input).unwrap();
        let files = cwasm_files(dir.path());
        assert_eq!(files.len(), 1, "{files:?}");

        let before = fs::read(&files[0]).unwrap();
        CompiledCache::new(&engine, Some(dir.path()))
            .component(&engine, OTHER)
            .unwrap();
        assert_eq!(cwasm_files(dir.path()), files, "mapped, not compiled again");
        assert_eq!(fs::read(&files[0]).unwrap(), before);
    }

    #[test]
    fn a_process_that_needs_a_component_another_is_compiling_waits_and_maps_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = CompiledCache::new(&engine, Some(dir.path()));
        let components = dir.path().join(DIR_NAME);
        let key = cache.key(EMPTY);
        let path = compiled_path(&components, &key);

        // The first process holds the lock while it compiles.
        let held = CompileLock::acquire(&components, &key).expect("this file system locks");
        let waiter = std::thread::spawn({
            let engine = engine.clone();
            let base = dir.path().to_path_buf();
            move || {
                CompiledCache::new(&engine, Some(&base))
                    .component(&engine, EMPTY)
                    .map(|_| ())
            }
        });
        std::thread::sleep(Duration::from_millis(200));
        compile_to_file(&engine, EMPTY, &components, &path).unwrap();
        let written = inode(&path);
        assert!(
            !waiter.is_finished(),
            "the second waits while the lock is held"
        );
        drop(held);

        waiter.join().unwrap().unwrap();
        assert_eq!(
            inode(&path),
            written,
            "mapped the first one's file, not compiled again"
        );
        let leftovers: Vec<_> = fs::read_dir(&components)
            .unwrap()
            .flatten()
            .map(|entry| entry.path())
            .filter(|p| p.extension().is_some_and(|e| e == LOCK))
            .collect();
        assert_eq!(leftovers, Vec::<PathBuf>::new(), "no lock file is left");
    }

    fn inode(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(path).unwrap().ino()
    }

    #[test]
    fn without_a_directory_nothing_is_written() {
        let engine = engine();
        let cache = CompiledCache::new(&engine, None);
        cache.component(&engine, EMPTY).unwrap();
        assert_eq!(cache.prune(), 0);
    }
}
