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
//!     files turn auto-checkpointing off; a WAL hook notes the WAL's size
//!     after each commit, and each time it has grown by
//!     [`CHECKPOINT_PAGES`] a `PASSIVE` checkpoint runs on the blocking
//!     pool, on a connection of its own. Counting pages, not commits,
//!     keeps each checkpoint as small when commits are batches of hundreds
//!     of entries (a write-behind label) as when they are single rows; and
//!     a checkpoint on its own connection never holds the writer: a
//!     `PASSIVE` checkpoint takes no write lock, so writes go on while it
//!     copies and syncs.

use super::{BUSY_TIMEOUT, Database, Durability, lock};
use rusqlite::Connection;
use rusqlite::hooks::Wal;
use std::cell::Cell;
use std::ffi::c_int;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, TryLockError};
use tokio::runtime::Handle;

/// Pages the WAL of a file written inline grows by between two checkpoints
/// (SQLite's own auto-checkpoint threshold).
pub const CHECKPOINT_PAGES: u64 = 1_000;

/// How writes to one database run.
#[derive(Debug)]
pub(super) struct WritePolicy {
    /// Commits do not wait for the disk: writes may run inline.
    inline: bool,
    /// The database has a WAL that this policy checkpoints.
    checkpoints: bool,
    /// Pages in the WAL when the last checkpoint started.
    checkpointed_at: AtomicU64,
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
            checkpointed_at: AtomicU64::new(0),
            checkpointing: AtomicBool::new(false),
        }
    }

    /// Whether this policy checkpoints the file (so SQLite's own
    /// auto-checkpoint is turned off).
    pub(super) fn takes_over_checkpoints(&self) -> bool {
        self.checkpoints
    }

    /// Turns SQLite's auto-checkpoint off on `writer` and notes the WAL's
    /// size after each of its commits instead (the hook replaces SQLite's
    /// own, so the order of the two matters).
    pub(super) fn take_over_checkpoints(writer: &Connection) -> rusqlite::Result<()> {
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        writer.wal_hook(Some(note_wal_pages));
        Ok(())
    }
}

thread_local! {
    /// Set by [`give_up_when_busy`] during an inline attempt.
    static SAW_BUSY: Cell<bool> = const { Cell::new(false) };
    /// Set by [`note_wal_pages`] when a commit on this thread ends.
    static WAL_PAGES: Cell<Option<u64>> = const { Cell::new(None) };
}

/// The WAL hook: SQLite calls it on the committing thread, right after the
/// commit, with the number of pages now in the WAL.
fn note_wal_pages(_wal: &Wal, pages: c_int) -> rusqlite::Result<()> {
    WAL_PAGES.set(Some(u64::try_from(pages).unwrap_or(0)));
    Ok(())
}

/// Runs `work` (on the writer, on this thread) and returns what it gave
/// with the WAL size its last commit left (`None`: it committed nothing).
pub(super) fn counting_wal_pages<T>(work: impl FnOnce() -> T) -> (T, Option<u64>) {
    WAL_PAGES.take();
    let result = work();
    (result, WAL_PAGES.take())
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
        let (result, pages) = counting_wal_pages(|| f(&conn));
        let busy = SAW_BUSY.replace(false);
        if let Err(err) = conn.busy_timeout(BUSY_TIMEOUT) {
            tracing::warn!(error = %err, "SQLite: could not restore the busy timeout");
        }
        drop(conn);
        if busy {
            return None;
        }
        self.committed(pages);
        Some(result)
    }

    /// Notes a commit that left `pages` in the WAL (`None`: nothing was
    /// committed); once the WAL has grown by [`CHECKPOINT_PAGES`] since the
    /// last checkpoint, starts one on the blocking pool (unless one is
    /// running).
    pub(super) fn committed(self: &Arc<Self>, pages: Option<u64>) {
        let policy = &self.writes;
        let Some(pages) = pages.filter(|_| policy.checkpoints) else {
            return;
        };
        // A WAL smaller than at the last checkpoint has been restarted: it
        // counts from its start again.
        let since = match policy.checkpointed_at.load(Ordering::Relaxed) {
            last if pages >= last => pages - last,
            _ => {
                policy.checkpointed_at.store(0, Ordering::Relaxed);
                pages
            }
        };
        if since < CHECKPOINT_PAGES || policy.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        policy.checkpointed_at.store(pages, Ordering::Relaxed);
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

    /// Whether a checkpoint this policy started is still running.
    #[cfg(test)]
    pub(super) fn checkpoint_running(&self) -> bool {
        self.writes.checkpointing.load(Ordering::Acquire)
    }

    /// One `PASSIVE` checkpoint, on the checkpointer's connection (the
    /// writer's where there is none): copies what no reader still needs
    /// from the WAL into the file and syncs both.
    pub(super) fn checkpoint(&self) {
        let conn = lock(self.checkpointer.as_ref().unwrap_or(&self.writer));
        let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        });
        match outcome {
            Ok((frames, copied)) => tracing::debug!(frames, copied, "SQLite checkpoint"),
            Err(err) => tracing::warn!(error = %err, "SQLite checkpoint failed"),
        }
    }
}
