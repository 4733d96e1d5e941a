//! One compilation of a component at a time, across processes.
//!
//! Hosts started together on a cold cache (a deployment's replicas, the
//! end-to-end tests) each needed the same components and each compiled
//! them: tens of seconds of CPU apiece for a component that embeds tract.
//! Now the first takes an exclusive advisory lock on `<key>.lock` beside
//! the compiled file before it compiles; the others block on the same lock
//! and, once they hold it, find the file written and map it.
//!
//! The lock is the kernel's (`flock`, `std::fs::File::lock`): a process that
//! dies holding it releases it. Where the file system has no locks the host
//! compiles unlocked, as before: at worst two processes compile the same
//! component, and each writes it whole (the module doc of
//! [`crate::compiled`]). The lock file is removed when its holder is done;
//! a waiter still holding the removed file then finds the compiled file, and
//! leftovers of a crash are pruned like temporary files.

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The extension of lock files.
pub const LOCK: &str = "lock";

/// Held while this process compiles one component (released on drop).
pub struct CompileLock {
    file: File,
    path: PathBuf,
}

impl CompileLock {
    /// Waits until no other process compiles `key` in `dir`, then holds the
    /// lock; `None` when the file system cannot lock.
    pub fn acquire(dir: &Path, key: &str) -> Option<Self> {
        let path = dir.join(format!("{key}.{LOCK}"));
        let file = fs::create_dir_all(dir)
            .and_then(|()| {
                File::options()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
            })
            .map_err(unlocked)
            .ok()?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let waiting = Instant::now();
                tracing::info!(
                    key,
                    "another process is compiling this component; waiting for it"
                );
                file.lock().map_err(unlocked).ok()?;
                let ms = waiting.elapsed().as_millis() as u64;
                tracing::info!(key, ms, "the other process is done");
            }
            Err(TryLockError::Error(err)) => {
                unlocked(err);
                return None;
            }
        }
        Some(Self { file, path })
    }
}

/// Logs why this compilation goes unlocked.
fn unlocked(err: std::io::Error) {
    tracing::debug!(error = %err, "no compile lock; compiling unlocked");
}

impl Drop for CompileLock {
    fn drop(&mut self) {
        // Removed before it is released, so no process locks a file that is
        // about to disappear while the compiled file is still missing.
        let _ = fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}
