//! Expiry of stored entries, portable to any Spin host.
//!
//! `spin:key-value` has no time-to-live (stock Spin's stores keep a value
//! until it is deleted), so entries that should not live forever — cached
//! responses, generated candidates, feedback records — carry their expiry
//! with them and are listed in a time-bucketed index that a scheduled job
//! walks (the `learning-loop` cron component). Nothing here needs the host's
//! help; a host-side TTL would only be an optimisation.
//!
//! - **Envelope** ([`seal`], [`open`]): the stored bytes are
//!   `"\0fbx1:<expires_at>\n"` followed by the value (`expires_at` in seconds
//!   since the Unix epoch). Reads treat an expired entry as absent; a value
//!   written before this envelope existed has none and never expires.
//! - **Index** ([`ExpiryIndex::record`]): each write of an expiring entry
//!   also takes the next slot of the bucket of its expiry
//!   (`expiry/<bucket>/count`, an atomic increment: no read-modify-write
//!   on a hot key) and stores the entry's key in `expiry/<bucket>/<slot>`.
//!   Buckets are [`BUCKET_SECS`] wide. The first writer of a bucket moves
//!   the cursor (`expiry/cursor`, where the pruner resumes) back to it if
//!   it is ahead. A writer that records many entries reserves their slots
//!   in blocks ([`SlotBlock`]): one increment for up to
//!   [`MAX_SLOT_BLOCK`] entries.
//! - **Pruning** ([`ExpiryIndex::prune`]): from the cursor up to the
//!   bucket of "now", read each bucket's slots, delete the entries whose
//!   envelope says they have expired (an entry rewritten since, with a later
//!   expiry, is kept: it is listed again in its new bucket), and, for a
//!   bucket that ended more than [`GRACE_SECS`] ago (so no writer with a
//!   slightly slow clock still adds to it), delete its slots and move the
//!   cursor past it. A run stops after [`PruneBudget`] entries or when its
//!   time is up and saves the cursor; the next run resumes there, so the
//!   work of one run is bounded whatever the size of the store.
//!
//! The index lives in the same store as the entries it lists (the `cache`
//! store indexes cached responses, `default` candidates and feedback).

use serde::{Deserialize, Serialize};

/// Width of one index bucket (seconds).
pub const BUCKET_SECS: u64 = 60;
/// How long after a bucket ends it is still read before its slots are
/// dropped: room for hosts whose clocks disagree by up to this much.
pub const GRACE_SECS: u64 = 120;
/// Keys read or deleted per batch call (the host allows 1,000).
pub const CHUNK: usize = 500;
/// Where the pruner resumes.
pub const CURSOR_KEY: &str = "expiry/cursor";

const MAGIC: &[u8] = b"\0fbx1:";

/// The value with its expiry, as stored.
pub fn seal(value: &[u8], expires_at: u64) -> Vec<u8> {
    let header = expires_at.to_string();
    let mut sealed = Vec::with_capacity(MAGIC.len() + header.len() + 1 + value.len());
    sealed.extend_from_slice(MAGIC);
    sealed.extend_from_slice(header.as_bytes());
    sealed.push(b'\n');
    sealed.extend_from_slice(value);
    sealed
}

/// A stored entry as read at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored<'a> {
    /// Sealed and not expired: the value.
    Live(&'a [u8]),
    /// Sealed and expired: treated as absent, deleted by the pruner.
    Expired,
    /// Written without an envelope (before expiry existed): never expires.
    Unsealed(&'a [u8]),
}

impl<'a> Stored<'a> {
    /// The value a read should see (`None` when expired).
    pub fn value(self) -> Option<&'a [u8]> {
        match self {
            Stored::Live(value) | Stored::Unsealed(value) => Some(value),
            Stored::Expired => None,
        }
    }
}

/// Reads stored bytes at `now` (seconds since the Unix epoch). An entry
/// expires at its `expires_at`: from then on it is [`Stored::Expired`].
pub fn open(bytes: &[u8], now: u64) -> Stored<'_> {
    match sealed_parts(bytes) {
        Some((at, _)) if at <= now => Stored::Expired,
        Some((_, value)) => Stored::Live(value),
        None => Stored::Unsealed(bytes),
    }
}

/// When sealed bytes expire (`None` for bytes without an envelope).
pub fn expires_at(bytes: &[u8]) -> Option<u64> {
    sealed_parts(bytes).map(|(at, _)| at)
}

/// The expiry and the value of sealed bytes.
fn sealed_parts(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let newline = rest.iter().position(|&b| b == b'\n')?;
    let expires_at = std::str::from_utf8(&rest[..newline]).ok()?.parse().ok()?;
    Some((expires_at, &rest[newline + 1..]))
}

/// Seconds since the Unix epoch (the wall clock).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The bucket an expiry falls in.
pub fn bucket_of(expires_at: u64) -> u64 {
    expires_at / BUCKET_SECS
}

/// Whether no writer adds to `bucket` any more at `now` (so its slots can be
/// dropped and the cursor can pass it).
pub fn is_closed(bucket: u64, now: u64) -> bool {
    (bucket + 1)
        .saturating_mul(BUCKET_SECS)
        .saturating_add(GRACE_SECS)
        <= now
}

/// Key of a bucket's slot counter.
pub fn count_key(bucket: u64) -> String {
    format!("expiry/{bucket}/count")
}

/// Key of one slot of a bucket (slots count from 1).
pub fn slot_key(bucket: u64, slot: u64) -> String {
    format!("expiry/{bucket}/{slot}")
}

/// Where the pruner resumes: a bucket and its first slot not yet dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub bucket: u64,
    pub next_slot: u64,
}

impl Cursor {
    fn encode(self) -> Vec<u8> {
        serde_json::to_vec(&self).unwrap_or_default()
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }
}

/// The store operations the index needs (`wasi:keyvalue` store, atomics and
/// batch; an in-memory map in tests). Errors are messages.
pub trait IndexStore {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, String>;
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String>;
    fn delete_many(&self, keys: &[String]) -> Result<(), String>;
    fn increment(&self, key: &str, delta: i64) -> Result<i64, String>;
    /// Sets `key` to `new` if it holds `expected` (`None`: absent).
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, String>;

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.get_many(&[key.to_string()])?.pop().flatten())
    }
}

/// How much one pruning run may do.
pub struct PruneBudget<'a> {
    /// Index slots a run reads at most.
    pub max_slots: u64,
    /// Whether the run's time is up (checked between batches).
    pub out_of_time: &'a dyn Fn() -> bool,
}

/// What one pruning run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Index slots read.
    pub examined: u64,
    /// Expired entries deleted.
    pub pruned: u64,
    /// Buckets finished (their slots dropped).
    pub buckets_closed: u64,
    /// Whether the run stopped at its budget with work left.
    pub more: bool,
}

/// Most slots one [`SlotBlock`] reserves.
pub const MAX_SLOT_BLOCK: u64 = 16;

/// Slots of one bucket reserved by one writer (a component instance) with a
/// single increment of the bucket's counter and handed out one per
/// recorded entry. A writer that records once (a fresh instance per
/// request) reserves one slot, as if there were no blocks; each new block
/// of a writer is twice the last, up to [`MAX_SLOT_BLOCK`], so a reused
/// instance pays one counter write per 16 entries. Slots a writer reserves
/// but never fills (its instance ends first) stay empty: the pruner reads
/// and drops them like the slot of a writer that crashed. A block serves
/// only the minute of the clock it was reserved in: a writer whose clock
/// stepped back past a bucket the pruner has closed (its counter deleted)
/// reserves anew, which lists the bucket again, instead of filling slots
/// the pruner no longer reads.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SlotBlock {
    bucket: u64,
    /// The minute of the clock (`now / BUCKET_SECS`) it was reserved in.
    minute: u64,
    /// The next slot to hand out (0: none reserved yet).
    next: u64,
    last: u64,
    size: u64,
}

impl SlotBlock {
    /// The next reserved slot of `bucket`, if one is left for `minute`.
    fn take(&mut self, bucket: u64, minute: u64) -> Option<u64> {
        if self.bucket != bucket || self.minute != minute || self.next == 0 || self.next > self.last
        {
            return None;
        }
        self.next += 1;
        Some(self.next - 1)
    }

    /// Size of the next block: twice the last, from 1 to [`MAX_SLOT_BLOCK`].
    fn next_size(&self) -> u64 {
        (self.size * 2).clamp(1, MAX_SLOT_BLOCK)
    }
}

/// Most compare-and-swap rounds to move the cursor.
const CURSOR_ROUNDS: u32 = 32;

/// The expiry index of one store.
pub struct ExpiryIndex<S> {
    pub store: S,
}

impl<S: IndexStore> ExpiryIndex<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// Lists `key`, which expires at `expires_at`, in the index, taking one
    /// slot of its bucket.
    pub fn record(&self, key: &str, expires_at: u64) -> Result<(), String> {
        self.record_in(key, expires_at, 0, &mut SlotBlock::default())
    }

    /// Lists `key` like [`Self::record`] at `now` (seconds since the Unix
    /// epoch), taking its slot from `block` and reserving a larger block
    /// when that one is used up or belongs to another bucket or minute.
    pub fn record_in(
        &self,
        key: &str,
        expires_at: u64,
        now: u64,
        block: &mut SlotBlock,
    ) -> Result<(), String> {
        let bucket = bucket_of(expires_at);
        let minute = now / BUCKET_SECS;
        let slot = match block.take(bucket, minute) {
            Some(slot) => slot,
            None => self.reserve(bucket, minute, block)?,
        };
        self.store.set(&slot_key(bucket, slot), key.as_bytes())
    }

    /// Reserves the next block of `bucket`'s slots in one increment and
    /// takes its first slot; the block that starts the bucket moves the
    /// cursor back to it.
    fn reserve(&self, bucket: u64, minute: u64, block: &mut SlotBlock) -> Result<u64, String> {
        let size = block.next_size();
        let last = self.store.increment(&count_key(bucket), size as i64)?;
        let last = u64::try_from(last).unwrap_or(0).max(size);
        *block = SlotBlock {
            bucket,
            minute,
            next: last - size + 1,
            last,
            size,
        };
        if block.next == 1 {
            self.rewind_cursor(bucket)?;
        }
        Ok(block.take(bucket, minute).unwrap_or(block.last))
    }

    /// Moves the cursor back to `bucket` if it is ahead (or absent).
    fn rewind_cursor(&self, bucket: u64) -> Result<(), String> {
        let wanted = Cursor {
            bucket,
            next_slot: 1,
        };
        for _ in 0..CURSOR_ROUNDS {
            let current = self.store.get(CURSOR_KEY)?;
            if current
                .as_deref()
                .and_then(Cursor::decode)
                .is_some_and(|c| c.bucket <= bucket)
            {
                return Ok(());
            }
            if self
                .store
                .compare_and_swap(CURSOR_KEY, current.as_deref(), &wanted.encode())?
            {
                return Ok(());
            }
        }
        Err("expiry cursor: still contended".into())
    }

    /// Saves where the run stopped, unless a writer moved the cursor back
    /// behind it meanwhile (that bucket must be read again).
    fn save_cursor(&self, read: Option<&[u8]>, next: Cursor) -> Result<(), String> {
        let mut expected = read.map(<[u8]>::to_vec);
        for _ in 0..CURSOR_ROUNDS {
            if expected.as_deref().map(Cursor::decode) == Some(Some(next)) {
                return Ok(());
            }
            if self
                .store
                .compare_and_swap(CURSOR_KEY, expected.as_deref(), &next.encode())?
            {
                return Ok(());
            }
            let current = self.store.get(CURSOR_KEY)?;
            if current
                .as_deref()
                .and_then(Cursor::decode)
                .is_some_and(|c| c.bucket < next.bucket)
            {
                return Ok(());
            }
            expected = current;
        }
        Err("expiry cursor: still contended".into())
    }

    /// Deletes the entries that expired by `now`, within `budget`.
    pub fn prune(&self, now: u64, budget: &PruneBudget<'_>) -> Result<PruneReport, String> {
        let read = self.store.get(CURSOR_KEY)?;
        let Some(start) = read.as_deref().and_then(Cursor::decode) else {
            return Ok(PruneReport::default());
        };
        let mut run = Run {
            index: self,
            now,
            budget,
            cursor: start,
            report: PruneReport::default(),
        };
        let outcome = run.walk();
        let cursor = run.cursor;
        let report = run.report;
        if cursor != start {
            self.save_cursor(read.as_deref(), cursor)?;
        }
        outcome.map(|()| report)
    }
}

/// One pruning run's progress.
struct Run<'i, 'b, S> {
    index: &'i ExpiryIndex<S>,
    now: u64,
    budget: &'b PruneBudget<'b>,
    /// Where the next run resumes (moves only past closed buckets).
    cursor: Cursor,
    report: PruneReport,
}

impl<S: IndexStore> Run<'_, '_, S> {
    fn exhausted(&self) -> bool {
        self.report.examined >= self.budget.max_slots || (self.budget.out_of_time)()
    }

    /// Walks the buckets from the cursor to the bucket of `now`.
    fn walk(&mut self) -> Result<(), String> {
        let last = self.now / BUCKET_SECS;
        let mut bucket = self.cursor.bucket;
        let mut first_slot = self.cursor.next_slot.max(1);
        while bucket <= last {
            let end = last.min(bucket + CHUNK as u64 - 1);
            let keys: Vec<String> = (bucket..=end).map(count_key).collect();
            let counts = self.index.store.get_many(&keys)?;
            for (b, count) in (bucket..=end).zip(counts) {
                let count = count
                    .as_deref()
                    .and_then(|c| std::str::from_utf8(c).ok()?.trim().parse::<u64>().ok())
                    .unwrap_or(0);
                if !self.bucket(b, first_slot, count)? {
                    self.report.more = true;
                    return Ok(());
                }
                first_slot = 1;
            }
            bucket = end + 1;
        }
        Ok(())
    }

    /// Reads slots `first..=count` of `bucket`; returns false when the
    /// budget ran out.
    fn bucket(&mut self, bucket: u64, first: u64, count: u64) -> Result<bool, String> {
        let closed = is_closed(bucket, self.now);
        let mut slot = first;
        while slot <= count {
            if self.exhausted() {
                return Ok(false);
            }
            let last = count.min(slot + CHUNK as u64 - 1);
            let slot_keys: Vec<String> = (slot..=last).map(|s| slot_key(bucket, s)).collect();
            self.expire(&slot_keys)?;
            if closed {
                self.index.store.delete_many(&slot_keys)?;
                self.cursor = Cursor {
                    bucket,
                    next_slot: last + 1,
                };
            }
            slot = last + 1;
        }
        if closed {
            if count > 0 {
                self.index.store.delete_many(&[count_key(bucket)])?;
                self.report.buckets_closed += 1;
            }
            self.cursor = Cursor {
                bucket: bucket + 1,
                next_slot: 1,
            };
        }
        Ok(true)
    }

    /// Deletes the expired entries the slots name.
    fn expire(&mut self, slot_keys: &[String]) -> Result<(), String> {
        self.report.examined += slot_keys.len() as u64;
        let named: Vec<String> = self
            .index
            .store
            .get_many(slot_keys)?
            .into_iter()
            .flatten()
            .filter_map(|k| String::from_utf8(k).ok())
            .collect();
        if named.is_empty() {
            return Ok(());
        }
        let values = self.index.store.get_many(&named)?;
        let mut expired: Vec<String> = named
            .into_iter()
            .zip(values)
            .filter(|(_, value)| {
                value
                    .as_deref()
                    .is_some_and(|v| open(v, self.now) == Stored::Expired)
            })
            .map(|(key, _)| key)
            .collect();
        expired.sort();
        expired.dedup();
        if !expired.is_empty() {
            self.index.store.delete_many(&expired)?;
            self.report.pruned += expired.len() as u64;
        }
        Ok(())
    }
}

/// A lifetime in seconds from a Spin variable (`None`: the variable is not
/// set or not declared; a value that is not a whole number ≥ 1 is logged and
/// ignored).
pub fn parse_lifetime(name: &str, value: Option<&str>) -> Option<u64> {
    let value = value?.trim();
    if value.is_empty() {
        return None;
    }
    match value.parse::<u64>() {
        Ok(secs) if secs >= 1 => Some(secs),
        _ => {
            eprintln!("{name}: {value:?} is not a whole number of seconds ≥ 1; using the default");
            None
        }
    }
}

/// The lifetime (seconds) set by the Spin variable `name` (read once per
/// instance), else `default`.
pub async fn lifetime_from_variable(name: &'static str, default: u64) -> u64 {
    let value = crate::instance::variable(name).await;
    parse_lifetime(name, value.as_deref()).unwrap_or(default)
}

#[cfg(test)]
#[path = "expiry_tests.rs"]
mod tests;
