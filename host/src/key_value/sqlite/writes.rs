//! Where a write on the writer connection runs, and when the WAL is
//! checkpointed.
//!
//! - **A file that syncs every commit** ([`Durability::Full`], the durable
//!   `default` store) waits for the disk, milliseconds: its writes run off
//!   the async worker (`block_in_place` on a multi-thread runtime, else the
//!   blocking pool), and SQLite checkpoints it on its own.
//! - **A file that does not** ([`Durability::Normal`], response caches) and
//!   an in-memory database commit into the OS page cache, microseconds: a
//!   write runs inline on the worker, as reads do, when nothing would make
//!   it wait. Handing the worker off cost a thread wake-up and two context
//!   switches per write; inline, `/api/analyze` misses (three writes each)
//!   went from about 1,650 to 2,060 req/s at c=64 on one core.
//!   - When another thread of this process holds the writer, the write
//!     waits for it off the worker (the blocking path).
//!   - When another process holds the file's write lock (e.g. a `spin up`
//!     sharing it), the inline attempt does not wait: it runs with a busy
//!     handler that gives up at once and notes it, and the write is redone
//!     on the blocking path, which waits up to [`BUSY_TIMEOUT`]. A `BUSY`
//!     leaves nothing written (single statements, or `BEGIN IMMEDIATE`
//!     before any read), so redoing it is safe.
//!   - Checkpoints are the only moment such a file is synced, and SQLite
//!     runs them inside the commit that takes the WAL past 1,000 pages:
//!     inline, that commit would hold the worker for two `fsync`s. So these
//!     files turn auto-checkpointing off, and every [`CHECKPOINT_EVERY`]
//!     commits a `PASSIVE` checkpoint runs on the blocking pool.

use super::{BUSY_TIMEOUT, Database, Durability, lock};
use rusqlite::Connection;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, TryLockError};
use tokio::runtime::Handle;

/// Commits between two checkpoints of a file written inline (a commit here
/// is one to three pages: about SQLite's own 1,000-page threshold).
pub const CHECKPOINT_EVERY: u64 = 400;

/// How writes to one database run.
#[derive(Debug)]
pub(super) struct WritePolicy {
    /// Commits do not wait for the disk: writes may run inline.
    inline: bool,
    /// The database has a WAL that this policy checkpoints.
    checkpoints: bool,
    commits: AtomicU64,
    checkpointing: AtomicBool,
}

impl WritePolicy {
    /// For a file opened with `sync`.
    pub(super) fn for_file(sync: Durability) -> Self {
        let inline = sync == Durability::Normal;
        Self::new(inline, inline)
    }

    /// For an in-memory database: inline, nothing to checkpoint.
    pub(super) fn in_memory() -> Self {
        Self::new(true, false)
    }

    fn new(inline: bool, checkpoints: bool) -> Self {
        Self {
            inline,
            checkpoints,
            commits: AtomicU64::new(0),
            checkpointing: AtomicBool::new(false),
        }
    }

    /// Whether this policy checkpoints the file (so SQLite's own
    /// auto-checkpoint is turned off).
    pub(super) fn takes_over_checkpoints(&self) -> bool {
        self.checkpoints
    }
}

thread_local! {
    /// Set by [`give_up_when_busy`] during an inline attempt.
    static SAW_BUSY: Cell<bool> = const { Cell::new(false) };
}

/// The busy handler of an inline attempt: note it, do not wait.
fn give_up_when_busy(_attempts: i32) -> bool {
    SAW_BUSY.set(true);
    false
}

impl Database {
    /// Runs `f` inline on the writer if the policy allows it and nothing
    /// makes it wait; `None`: run it on the blocking path instead.
    pub(super) fn write_inline<T>(self: &Arc<Self>, f: &impl Fn(&Connection) -> T) -> Option<T> {
        if !self.writes.inline {
            return None;
        }
        let conn = match self.writer.try_lock() {
            Ok(conn) => conn,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        conn.busy_handler(Some(give_up_when_busy)).ok()?;
        SAW_BUSY.set(false);
        let result = f(&conn);
        let busy = SAW_BUSY.replace(false);
        if let Err(err) = conn.busy_timeout(BUSY_TIMEOUT) {
            tracing::warn!(error = %err, "SQLite: could not restore the busy timeout");
        }
        drop(conn);
        if busy {
            return None;
        }
        self.committed();
        Some(result)
    }

    /// Counts a commit; every [`CHECKPOINT_EVERY`] starts a checkpoint on
    /// the blocking pool (unless one is running).
    pub(super) fn committed(self: &Arc<Self>) {
        let policy = &self.writes;
        if !policy.checkpoints
            || policy.commits.fetch_add(1, Ordering::Relaxed) + 1 < CHECKPOINT_EVERY
        {
            return;
        }
        if policy.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        policy.commits.store(0, Ordering::Relaxed);
        let db = self.clone();
        let checkpoint = move || {
            db.checkpoint();
            db.writes.checkpointing.store(false, Ordering::Release);
        };
        match Handle::try_current() {
            Ok(handle) => drop(handle.spawn_blocking(checkpoint)),
            Err(_) => checkpoint(),
        }
    }

    /// One `PASSIVE` checkpoint on the writer: copies what no reader still
    /// needs from the WAL into the file and syncs both.
    pub(super) fn checkpoint(&self) {
        let conn = lock(&self.writer);
        let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        });
        match outcome {
            Ok((frames, copied)) => tracing::debug!(frames, copied, "SQLite checkpoint"),
            Err(err) => tracing::warn!(error = %err, "SQLite checkpoint failed"),
        }
    }
}
