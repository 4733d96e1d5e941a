//! The envelope and the index against an in-memory store.

use super::*;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

/// A store in a map, counting the operations a run makes.
#[derive(Default)]
struct MapStore {
    map: RefCell<BTreeMap<String, Vec<u8>>>,
    reads: Cell<usize>,
    increments: Cell<usize>,
}

impl IndexStore for &MapStore {
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, String> {
        assert!(keys.len() <= 1000, "a batch over the host's limit");
        self.reads.set(self.reads.get() + keys.len());
        let map = self.map.borrow();
        Ok(keys.iter().map(|k| map.get(k).cloned()).collect())
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.map.borrow_mut().insert(key.into(), value.to_vec());
        Ok(())
    }
    fn delete_many(&self, keys: &[String]) -> Result<(), String> {
        assert!(keys.len() <= 1000, "a batch over the host's limit");
        let mut map = self.map.borrow_mut();
        for key in keys {
            map.remove(key);
        }
        Ok(())
    }
    fn increment(&self, key: &str, delta: i64) -> Result<i64, String> {
        self.increments.set(self.increments.get() + 1);
        let mut map = self.map.borrow_mut();
        let current: i64 = map
            .get(key)
            .map(|v| String::from_utf8_lossy(v).parse().unwrap())
            .unwrap_or(0);
        map.insert(key.into(), (current + delta).to_string().into_bytes());
        Ok(current + delta)
    }
    fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, String> {
        let mut map = self.map.borrow_mut();
        if map.get(key).map(Vec::as_slice) != expected {
            return Ok(false);
        }
        map.insert(key.into(), new.to_vec());
        Ok(true)
    }
}

impl MapStore {
    fn put(&self, key: &str, value: &[u8], expires_at: u64) {
        let index = ExpiryIndex::new(self);
        self.map
            .borrow_mut()
            .insert(key.into(), seal(value, expires_at));
        index.record(key, expires_at).unwrap();
    }

    /// Like [`Self::put`], with the slot taken from `block` (all in one
    /// minute of the writer's clock).
    fn put_in(&self, key: &str, expires_at: u64, block: &mut SlotBlock) {
        self.put_at(key, expires_at, T0 - 3_600, block);
    }

    /// Like [`Self::put_in`], written at `now`.
    fn put_at(&self, key: &str, expires_at: u64, now: u64, block: &mut SlotBlock) {
        self.map
            .borrow_mut()
            .insert(key.into(), seal(b"x", expires_at));
        ExpiryIndex::new(self)
            .record_in(key, expires_at, now, block)
            .unwrap();
    }

    fn slot(&self, bucket: u64, slot: u64) -> Option<String> {
        let map = self.map.borrow();
        let named = map.get(&slot_key(bucket, slot))?;
        Some(String::from_utf8(named.clone()).unwrap())
    }

    fn has(&self, key: &str) -> bool {
        self.map.borrow().contains_key(key)
    }

    fn index_keys(&self) -> Vec<String> {
        self.map
            .borrow()
            .keys()
            .filter(|k| k.starts_with("expiry/") && *k != CURSOR_KEY)
            .cloned()
            .collect()
    }

    fn cursor(&self) -> Option<Cursor> {
        self.map
            .borrow()
            .get(CURSOR_KEY)
            .and_then(|c| serde_json::from_slice(c).ok())
    }
}

fn never() -> bool {
    false
}

fn unlimited() -> PruneBudget<'static> {
    PruneBudget {
        max_slots: u64::MAX,
        out_of_time: &never,
    }
}

const T0: u64 = 1_800_000_000;

#[test]
fn a_sealed_value_is_live_until_its_expiry_and_expired_from_then_on() {
    let sealed = seal(b"{\"a\":1}", T0);
    assert_eq!(open(&sealed, T0 - 1), Stored::Live(b"{\"a\":1}"));
    assert_eq!(open(&sealed, T0), Stored::Expired);
    assert_eq!(open(&sealed, T0 + 1).value(), None);
    assert_eq!(expires_at(&sealed), Some(T0));
}

#[test]
fn a_value_written_without_an_envelope_never_expires() {
    assert_eq!(open(b"{\"a\":1}", u64::MAX), Stored::Unsealed(b"{\"a\":1}"));
    assert_eq!(open(b"", T0).value(), Some(&b""[..]));
    let broken = b"\0fbx1:12x\n{}";
    assert_eq!(open(broken, T0), Stored::Unsealed(broken));
    assert_eq!(expires_at(b"{}"), None);
}

#[test]
fn sealing_keeps_any_bytes_including_newlines_and_the_magic_itself() {
    let value = b"\0fbx1:5\nline\n\0";
    let sealed = seal(value, T0);
    assert_eq!(open(&sealed, 0), Stored::Live(value));
}

#[test]
fn buckets_close_only_after_their_grace() {
    let bucket = bucket_of(T0);
    let end = (bucket + 1) * BUCKET_SECS;
    assert!(!is_closed(bucket, end));
    assert!(!is_closed(bucket, end + GRACE_SECS - 1));
    assert!(is_closed(bucket, end + GRACE_SECS));
}

#[test]
fn recording_takes_a_slot_and_points_the_cursor_at_the_earliest_bucket() {
    let store = MapStore::default();
    store.put("candidate/b", b"b", T0 + 600);
    assert_eq!(store.cursor().unwrap().bucket, bucket_of(T0 + 600));
    store.put("candidate/a", b"a", T0);
    store.put("candidate/c", b"c", T0 + 1);
    let cursor = store.cursor().unwrap();
    assert_eq!(
        cursor.bucket,
        bucket_of(T0),
        "moved back to the earlier bucket"
    );
    let bucket = bucket_of(T0);
    assert_eq!(
        store.map.borrow()[&slot_key(bucket, 2)],
        b"candidate/c".to_vec()
    );
    assert_eq!(store.map.borrow()[&count_key(bucket)], b"2".to_vec());
}

#[test]
fn pruning_deletes_expired_entries_and_keeps_fresh_ones() {
    let store = MapStore::default();
    store.put("candidate/old", b"old", T0);
    store.put("candidate/fresh", b"fresh", T0 + 7 * 86_400);
    store
        .map
        .borrow_mut()
        .insert("candidate/legacy".into(), b"legacy".to_vec());
    let index = ExpiryIndex::new(&store);
    let report = index.prune(T0 + 1, &unlimited()).unwrap();
    assert!(!store.has("candidate/old"));
    assert!(store.has("candidate/fresh"));
    assert!(store.has("candidate/legacy"));
    assert_eq!(report.pruned, 1);
    assert!(!report.more);
}

#[test]
fn an_entry_rewritten_with_a_later_expiry_survives_its_old_slot() {
    let store = MapStore::default();
    store.put("cache:k", b"v1", T0);
    store.put("cache:k", b"v2", T0 + 86_400);
    let index = ExpiryIndex::new(&store);
    let report = index.prune(T0 + 3_600, &unlimited()).unwrap();
    assert_eq!(report.pruned, 0);
    assert_eq!(
        open(&store.map.borrow()["cache:k"], T0 + 3_600),
        Stored::Live(b"v2")
    );
    index.prune(T0 + 86_400, &unlimited()).unwrap();
    assert!(!store.has("cache:k"));
}

#[test]
fn closed_buckets_leave_no_index_keys_and_the_cursor_moves_past_them() {
    let store = MapStore::default();
    for i in 0..50 {
        store.put(&format!("c/{i}"), b"x", T0 + i * 7);
    }
    let index = ExpiryIndex::new(&store);
    let now = T0 + 50 * 7 + BUCKET_SECS + GRACE_SECS;
    let report = index.prune(now, &unlimited()).unwrap();
    assert_eq!(report.pruned, 50);
    assert!(store.index_keys().is_empty(), "{:?}", store.index_keys());
    assert_eq!(store.cursor().unwrap().bucket, now / BUCKET_SECS - 2);
    assert!(store.map.borrow().keys().all(|k| k == CURSOR_KEY));
}

#[test]
fn an_open_bucket_is_pruned_but_kept_until_it_closes() {
    let store = MapStore::default();
    store.put("c/early", b"x", T0);
    store.put("c/late", b"x", T0 + 30);
    let index = ExpiryIndex::new(&store);
    let report = index.prune(T0 + 1, &unlimited()).unwrap();
    assert_eq!(report.pruned, 1);
    assert!(store.has("c/late"));
    assert_eq!(store.cursor().unwrap().bucket, bucket_of(T0));
    assert_eq!(
        store.index_keys().len(),
        3,
        "two slots and the count remain"
    );
}

#[test]
fn a_run_stops_at_its_budget_and_the_next_run_resumes_where_it_stopped() {
    let store = MapStore::default();
    for i in 0..2_400 {
        store.put(&format!("c/{i}"), b"x", T0 + (i % 3) * BUCKET_SECS);
    }
    let index = ExpiryIndex::new(&store);
    let now = T0 + 10 * BUCKET_SECS;
    let budget = PruneBudget {
        max_slots: 1_000,
        out_of_time: &never,
    };
    let first = index.prune(now, &budget).unwrap();
    assert!(first.more);
    assert!(first.examined <= 1_000 + CHUNK as u64);
    let mut total = first.pruned;
    let mut runs = 1;
    loop {
        let report = index.prune(now, &budget).unwrap();
        total += report.pruned;
        runs += 1;
        if !report.more {
            break;
        }
        assert!(runs < 10, "no progress");
    }
    assert_eq!(total, 2_400);
    assert!(store.index_keys().is_empty());
}

#[test]
fn a_run_reads_a_bounded_number_of_keys_whatever_else_the_store_holds() {
    let store = MapStore::default();
    for i in 0..5_000 {
        store
            .map
            .borrow_mut()
            .insert(format!("page/{i}/model/x"), b"{}".to_vec());
    }
    store.put("c/one", b"x", T0);
    let index = ExpiryIndex::new(&store);
    // An hour later: 61 buckets (one batch of counts) and one slot.
    index.prune(T0 + 3_600, &unlimited()).unwrap();
    assert!(store.reads.get() < 100, "{} keys read", store.reads.get());
}

#[test]
fn a_run_that_is_out_of_time_saves_its_cursor_and_stops() {
    let store = MapStore::default();
    store.put("c/one", b"x", T0);
    let index = ExpiryIndex::new(&store);
    let always = || true;
    let report = index
        .prune(
            T0 + 3_600,
            &PruneBudget {
                max_slots: u64::MAX,
                out_of_time: &always,
            },
        )
        .unwrap();
    assert!(report.more);
    assert!(store.has("c/one"));
}

#[test]
fn a_write_into_a_bucket_behind_the_cursor_moves_it_back() {
    let store = MapStore::default();
    store.put("c/a", b"x", T0);
    let index = ExpiryIndex::new(&store);
    index
        .prune(T0 + BUCKET_SECS + GRACE_SECS, &unlimited())
        .unwrap();
    assert!(store.cursor().unwrap().bucket > bucket_of(T0));
    // A host whose clock is behind writes into the closed bucket.
    store.put("c/b", b"x", T0 + 1);
    assert_eq!(store.cursor().unwrap().bucket, bucket_of(T0));
    index
        .prune(T0 + 2 * BUCKET_SECS + GRACE_SECS, &unlimited())
        .unwrap();
    assert!(!store.has("c/b"));
}

#[test]
fn a_writer_reserves_slots_in_blocks_that_double_up_to_sixteen() {
    let store = MapStore::default();
    let mut block = SlotBlock::default();
    for n in 1..=47 {
        store.put_in(&format!("c/{n}"), T0, &mut block);
    }
    // Blocks of 1, 2, 4, 8, 16 and 16: 47 slots in six counter writes.
    assert_eq!(store.increments.get(), 6);
    let bucket = bucket_of(T0);
    assert_eq!(store.map.borrow()[&count_key(bucket)], b"47".to_vec());
    for n in 1..=47 {
        assert_eq!(store.slot(bucket, n), Some(format!("c/{n}")), "slot {n}");
    }
}

#[test]
fn a_single_entry_reserves_a_single_slot_as_without_blocks() {
    let store = MapStore::default();
    store.put_in("c/a", T0, &mut SlotBlock::default());
    store.put_in("c/b", T0, &mut SlotBlock::default());
    let bucket = bucket_of(T0);
    assert_eq!(store.map.borrow()[&count_key(bucket)], b"2".to_vec());
    assert_eq!(store.slot(bucket, 1).as_deref(), Some("c/a"));
    assert_eq!(store.slot(bucket, 2).as_deref(), Some("c/b"));
}

#[test]
fn writers_with_blocks_of_their_own_never_share_a_slot() {
    let store = MapStore::default();
    let (mut first, mut second) = (SlotBlock::default(), SlotBlock::default());
    for n in 0..20 {
        store.put_in(&format!("first/{n}"), T0, &mut first);
        store.put_in(&format!("second/{n}"), T0, &mut second);
    }
    let bucket = bucket_of(T0);
    let count: u64 = String::from_utf8(store.map.borrow()[&count_key(bucket)].clone())
        .unwrap()
        .parse()
        .unwrap();
    let named: Vec<String> = (1..=count).filter_map(|s| store.slot(bucket, s)).collect();
    assert_eq!(named.len(), 40, "every entry has a slot of its own");
    // Each writer reserved 1 + 2 + 4 + 8 + 16 = 31 slots and used 20.
    assert_eq!(count, 62);
}

#[test]
fn a_block_serves_only_its_own_bucket_and_a_new_bucket_moves_the_cursor_back() {
    let store = MapStore::default();
    let mut block = SlotBlock::default();
    store.put_in("c/late", T0 + 10 * BUCKET_SECS, &mut block);
    store.put_in("c/late2", T0 + 10 * BUCKET_SECS, &mut block);
    store.put_in("c/early", T0, &mut block);
    let early = bucket_of(T0);
    assert_eq!(store.slot(early, 1).as_deref(), Some("c/early"));
    assert_eq!(store.cursor().unwrap().bucket, early);
}

#[test]
fn a_block_is_not_used_after_its_minute_so_a_late_writer_lists_a_closed_bucket_again() {
    let store = MapStore::default();
    let mut block = SlotBlock::default();
    let written = T0 - 600;
    // Blocks of 1 and 2: slot 3 is reserved and left over.
    store.put_at("c/a", T0, written, &mut block);
    store.put_at("c/b", T0, written, &mut block);
    let index = ExpiryIndex::new(&store);
    index
        .prune(T0 + BUCKET_SECS + GRACE_SECS, &unlimited())
        .unwrap();
    assert!(store.index_keys().is_empty(), "the bucket is closed");
    // The writer's clock stepped back: it writes into the closed bucket a
    // minute after it reserved slot 3.
    store.put_at("c/late", T0, written + BUCKET_SECS, &mut block);
    index
        .prune(T0 + 2 * BUCKET_SECS + GRACE_SECS, &unlimited())
        .unwrap();
    assert!(!store.has("c/late"), "the late entry was listed and pruned");
}

#[test]
fn entries_recorded_in_blocks_are_pruned_and_unfilled_slots_leave_with_their_bucket() {
    let store = MapStore::default();
    let mut block = SlotBlock::default();
    for n in 0..5 {
        // 1 + 2 + 4 slots reserved, 5 filled: slots 6 and 7 stay empty.
        store.put_in(&format!("c/{n}"), T0, &mut block);
    }
    store.put("c/fresh", b"x", T0 + 7 * 86_400);
    let report = ExpiryIndex::new(&store)
        .prune(T0 + BUCKET_SECS + GRACE_SECS, &unlimited())
        .unwrap();
    assert_eq!(
        (report.pruned, report.examined, report.buckets_closed),
        (5, 7, 1)
    );
    assert!((0..5).all(|n| !store.has(&format!("c/{n}"))));
    assert!(store.has("c/fresh"));
    let fresh_bucket = bucket_of(T0 + 7 * 86_400);
    assert!(
        store
            .index_keys()
            .iter()
            .all(|k| k.starts_with(&format!("expiry/{fresh_bucket}/"))),
        "only the fresh entry's bucket is left in the index"
    );
}

#[test]
fn an_empty_index_is_a_no_op() {
    let store = MapStore::default();
    let report = ExpiryIndex::new(&store).prune(T0, &unlimited()).unwrap();
    assert_eq!(report, PruneReport::default());
}

#[test]
fn lifetimes_are_whole_seconds_of_at_least_one() {
    assert_eq!(parse_lifetime("x", Some("604800")), Some(604_800));
    assert_eq!(parse_lifetime("x", Some(" 2 ")), Some(2));
    assert_eq!(parse_lifetime("x", Some("0")), None);
    assert_eq!(parse_lifetime("x", Some("-5")), None);
    assert_eq!(parse_lifetime("x", Some("1.5")), None);
    assert_eq!(parse_lifetime("x", Some("")), None);
    assert_eq!(parse_lifetime("x", None), None);
}
