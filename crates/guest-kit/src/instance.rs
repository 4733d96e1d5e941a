//! What one component instance keeps across the requests it serves: the
//! key-value stores it has opened (through `spin:key-value` and through
//! `wasi:keyvalue`), the Spin variables it has read and the expiry-index
//! slots it has reserved ([`crate::expiry::SlotBlock`]: a reused instance
//! takes a counter write per 16 cached answers instead of one per answer).
//!
//! A reused instance (`[component.X.tool.fbposts] instance_reuse`) serves
//! many requests, and each host call costs a few microseconds of the
//! component runtime's task machinery: opening the `cache` store and reading
//! the events address on every request was two of the calls of a cache hit
//! (measured: 6 % of `/api/analyze` hit throughput). A fresh instance per
//! request (Spin's semantics) opens and reads once, as before. A variable
//! is read once per instance: a changed value is seen by the next instance.
//!
//! Wasm components are single-threaded; concurrent requests of one P3
//! instance share these through `Rc` (a store handle may be used by several
//! calls at once).
//!
//! A shared handle hides which request is calling: the host's single-flight
//! (a miss leads its key until the handle that missed `set`s it) would take
//! a second request of the instance, missing the same key through the same
//! handle, for the leader re-reading, and both would compute. So a request
//! claims a key before it looks it up through a shared handle
//! ([`claim_shared_lookup`]); a request that finds the key claimed looks it
//! up through a handle of its own, which the host makes wait for the
//! leader's `set`.

use crate::expiry::SlotBlock;
use crate::state::bindings::store::{self as wasi_store, Bucket};
use spin_sdk::key_value::{Error, Store};
use spin_sdk::variables::Error as VariableError;
use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

thread_local! {
    static STORES: RefCell<Vec<(&'static str, Rc<Store>)>> = const { RefCell::new(Vec::new()) };
    static BUCKETS: RefCell<Vec<(&'static str, Rc<Bucket>)>> = const { RefCell::new(Vec::new()) };
    static VARIABLES: RefCell<Vec<(&'static str, Option<String>)>> = const { RefCell::new(Vec::new()) };
    static SLOT_BLOCKS: RefCell<Vec<(&'static str, SlotBlock)>> = const { RefCell::new(Vec::new()) };
    static SHARED_LOOKUPS: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// A key one request of this instance is looking up, or computing after a
/// miss, through a shared store handle; released when dropped.
#[derive(Debug)]
pub struct SharedLookup {
    key: String,
}

impl Drop for SharedLookup {
    fn drop(&mut self) {
        SHARED_LOOKUPS.with(|claimed| claimed.borrow_mut().remove(&self.key));
    }
}

/// Claims `key` (a store key, label included where keys of several stores
/// could meet) for a lookup through a shared handle; `None` while another
/// request of this instance holds it.
pub fn claim_shared_lookup(key: &str) -> Option<SharedLookup> {
    SHARED_LOOKUPS.with(|claimed| {
        claimed
            .borrow_mut()
            .insert(key.to_string())
            .then(|| SharedLookup {
                key: key.to_string(),
            })
    })
}

/// The store `label`, opened at its first use by this instance. A failed
/// open is not remembered: the next request tries again.
pub async fn store(label: &'static str) -> Result<Rc<Store>, Error> {
    if let Some(open) = remembered(&STORES, label) {
        return Ok(open);
    }
    let opened = Rc::new(Store::open(label).await?);
    remember(&STORES, label, opened.clone());
    Ok(opened)
}

/// The `wasi:keyvalue` bucket `label`, opened at its first use by this
/// instance. A failed open is not remembered.
pub fn bucket(label: &'static str) -> Result<Rc<Bucket>, wasi_store::Error> {
    if let Some(open) = remembered(&BUCKETS, label) {
        return Ok(open);
    }
    let opened = Rc::new(wasi_store::open(label)?);
    remember(&BUCKETS, label, opened.clone());
    Ok(opened)
}

/// The Spin variable `name` (`None` when it cannot be read), read at its
/// first use by this instance. A value, or an undefined or invalid name, is
/// remembered; a provider's failure is not: the next request asks again.
pub async fn variable(name: &'static str) -> Option<String> {
    if let Some(read) = remembered(&VARIABLES, name) {
        return read;
    }
    let read = spin_sdk::variables::get(name).await;
    let settled = !matches!(
        read,
        Err(VariableError::Provider(_) | VariableError::Other(_))
    );
    let value = read.ok();
    if settled {
        remember(&VARIABLES, name, value.clone());
    }
    value
}

/// Runs `record` with this instance's expiry-index slots of the store
/// `label` (none reserved at first). `record` must not await: concurrent
/// requests of the instance take turns on the same block.
pub fn with_slot_block<R>(label: &'static str, record: impl FnOnce(&mut SlotBlock) -> R) -> R {
    SLOT_BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        let at = match blocks.iter().position(|(known, _)| *known == label) {
            Some(at) => at,
            None => {
                blocks.push((label, SlotBlock::default()));
                blocks.len() - 1
            }
        };
        record(&mut blocks[at].1)
    })
}

type Remembered<T> = RefCell<Vec<(&'static str, T)>>;

fn remembered<T: Clone>(
    table: &'static std::thread::LocalKey<Remembered<T>>,
    name: &str,
) -> Option<T> {
    table.with(|entries| {
        entries
            .borrow()
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| value.clone())
    })
}

/// Keeps `value` under `name` unless a concurrent request kept one first.
fn remember<T>(table: &'static std::thread::LocalKey<Remembered<T>>, name: &'static str, value: T) {
    table.with(|entries| {
        let mut entries = entries.borrow_mut();
        if !entries.iter().any(|(known, _)| *known == name) {
            entries.push((name, value));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static TABLE: Remembered<u32> = const { RefCell::new(Vec::new()) };
    }

    #[test]
    fn a_claimed_key_is_refused_to_a_second_request_until_the_first_lets_go() {
        let first = claim_shared_lookup("cache:analyze:k").expect("free");
        assert!(claim_shared_lookup("cache:analyze:k").is_none());
        let other = claim_shared_lookup("cache:analyze:other");
        assert!(other.is_some(), "another key is not held");
        drop(first);
        assert!(claim_shared_lookup("cache:analyze:k").is_some());
    }

    #[test]
    fn a_value_is_found_under_its_name_and_only_there() {
        remember(&TABLE, "cache", 1);
        assert_eq!(remembered(&TABLE, "cache"), Some(1));
        assert_eq!(remembered(&TABLE, "default"), None);
    }

    #[test]
    fn the_first_value_kept_under_a_name_wins() {
        remember(&TABLE, "address", 1);
        remember(&TABLE, "address", 2);
        assert_eq!(remembered(&TABLE, "address"), Some(1));
        TABLE.with(|entries| {
            let kept = entries
                .borrow()
                .iter()
                .filter(|(n, _)| *n == "address")
                .count();
            assert_eq!(kept, 1);
        });
    }
}
