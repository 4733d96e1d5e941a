//! The conformance suite every backend runs (SQLite file and memory, Redis,
//! each raw and behind `Checked`): the same calls must give the same answers
//! and lose nothing under concurrency.

use super::{Store, StoreError};
use std::sync::Arc;

/// set/get/exists/delete/get_keys round trip on an empty store.
pub(super) async fn round_trip(store: &dyn Store) {
    assert_eq!(store.get("missing").await.unwrap(), None);
    assert!(!store.exists("missing").await.unwrap());
    store.delete("missing").await.unwrap(); // deleting nothing is fine
    assert!(store.get_keys().await.unwrap().is_empty());

    store.set("b", b"two").await.unwrap();
    store.set("a", b"one").await.unwrap();
    store.set("empty", b"").await.unwrap();
    store.set("", b"empty key").await.unwrap();
    store.set("bin", &[0, 255, 1, 254]).await.unwrap();
    store.set("unicodé ✓", b"u").await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), Some(b"one".to_vec()));
    assert_eq!(store.get("empty").await.unwrap(), Some(Vec::new()));
    assert_eq!(store.get("").await.unwrap(), Some(b"empty key".to_vec()));
    assert_eq!(store.get("bin").await.unwrap(), Some(vec![0, 255, 1, 254]));
    assert!(store.exists("empty").await.unwrap());
    assert!(store.exists("unicodé ✓").await.unwrap());

    store.set("a", b"overwritten").await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), Some(b"overwritten".to_vec()));

    let keys = store.get_keys().await.unwrap();
    assert_eq!(keys, vec!["", "a", "b", "bin", "empty", "unicodé ✓"]);

    store.delete("a").await.unwrap();
    assert_eq!(store.get("a").await.unwrap(), None);
    assert!(!store.exists("a").await.unwrap());
    assert_eq!(store.get_keys().await.unwrap().len(), 5);
}

/// `tasks` tasks doing `ops` mixed operations each on their own keys plus a
/// shared hot key; panics on any error or lost write.
pub(super) async fn hammer(store: Arc<dyn Store>, tasks: usize, ops: usize) {
    store.set("hot", b"hot").await.unwrap();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..ops {
                let key = format!("t{t}-k{}", i % 10);
                match i % 5 {
                    0 => store
                        .set(&key, format!("{t}:{i}").as_bytes())
                        .await
                        .unwrap(),
                    1 => {
                        let _ = store.get(&key).await.unwrap();
                    }
                    2 => {
                        let _ = store.exists(&key).await.unwrap();
                    }
                    3 => assert_eq!(store.get("hot").await.unwrap(), Some(b"hot".to_vec())),
                    _ => {
                        if i % 50 == 4 {
                            let _ = store.get_keys().await.unwrap();
                        } else {
                            store
                                .delete(&format!("t{t}-k{}", (i + 3) % 10))
                                .await
                                .unwrap();
                        }
                    }
                }
            }
            store.set(&format!("t{t}-done"), b"1").await.unwrap();
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let keys = store.get_keys().await.unwrap();
    for t in 0..tasks {
        assert!(
            keys.contains(&format!("t{t}-done")),
            "lost write of task {t}"
        );
    }
}

/// Counters: created at the delta, decimal text, negative deltas, refusals.
pub(super) async fn atomics(store: &dyn Store) {
    assert_eq!(store.increment("counter", 5).await.unwrap(), 5);
    assert_eq!(store.increment("counter", -7).await.unwrap(), -2);
    assert_eq!(store.increment("counter", 0).await.unwrap(), -2);
    assert_eq!(store.get("counter").await.unwrap(), Some(b"-2".to_vec()));
    store.set("typed", b"41").await.unwrap();
    assert_eq!(store.increment("typed", 1).await.unwrap(), 42);

    store.set("text", b"not a number").await.unwrap();
    assert_eq!(
        store.increment("text", 1).await,
        Err(StoreError::NotACounter { key: "text".into() })
    );
    assert_eq!(
        store.get("text").await.unwrap(),
        Some(b"not a number".to_vec())
    );
    store
        .set("max", i64::MAX.to_string().as_bytes())
        .await
        .unwrap();
    assert_eq!(
        store.increment("max", 1).await,
        Err(StoreError::CounterOverflow { key: "max".into() })
    );

    // Compare-and-swap: absent → value, value → value, refusals change nothing.
    assert!(store.compare_and_swap("cas", None, b"first").await.unwrap());
    assert!(!store.compare_and_swap("cas", None, b"again").await.unwrap());
    assert!(
        !store
            .compare_and_swap("cas", Some(b"stale"), b"x")
            .await
            .unwrap()
    );
    assert_eq!(store.get("cas").await.unwrap(), Some(b"first".to_vec()));
    assert!(
        store
            .compare_and_swap("cas", Some(b"first"), b"second")
            .await
            .unwrap()
    );
    assert_eq!(store.get("cas").await.unwrap(), Some(b"second".to_vec()));
    assert!(
        !store
            .compare_and_swap("gone", Some(b"second"), b"x")
            .await
            .unwrap()
    );
    assert!(!store.exists("gone").await.unwrap());
    // Binary and empty values compare byte for byte.
    assert!(
        store
            .compare_and_swap("cas-bin", None, &[0, 255, 0])
            .await
            .unwrap()
    );
    assert!(
        !store
            .compare_and_swap("cas-bin", Some(&[0, 255]), b"x")
            .await
            .unwrap()
    );
    assert!(
        store
            .compare_and_swap("cas-bin", Some(&[0, 255, 0]), b"")
            .await
            .unwrap()
    );
    assert!(
        store
            .compare_and_swap("cas-bin", Some(b""), b"y")
            .await
            .unwrap()
    );
}

/// get_many / set_many / delete_many, including absent and repeated keys.
pub(super) async fn batches(store: &dyn Store) {
    let keys = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        store.get_many(&[]).await.unwrap(),
        Vec::<Option<Vec<u8>>>::new()
    );
    store.set_many(&[]).await.unwrap();
    store.delete_many(&[]).await.unwrap();
    store
        .set_many(&[
            ("b1".into(), b"one".to_vec()),
            ("b2".into(), Vec::new()),
            ("b3".into(), vec![0, 1, 2]),
        ])
        .await
        .unwrap();
    assert_eq!(
        store
            .get_many(&keys(&["b3", "absent", "b1", "b2", "b1"]))
            .await
            .unwrap(),
        vec![
            Some(vec![0, 1, 2]),
            None,
            Some(b"one".to_vec()),
            Some(Vec::new()),
            Some(b"one".to_vec())
        ]
    );
    store
        .delete_many(&keys(&["b1", "absent", "b3"]))
        .await
        .unwrap();
    assert_eq!(
        store.get_many(&keys(&["b1", "b2", "b3"])).await.unwrap(),
        vec![None, Some(Vec::new()), None]
    );
}

/// `tasks` tasks each add 1 to one counter `per_task` times: nothing is lost.
pub(super) async fn concurrent_increments(store: Arc<dyn Store>, tasks: i64, per_task: i64) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    store.increment("shared-counter", 1).await.unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(
        store.increment("shared-counter", 0).await.unwrap(),
        tasks * per_task
    );
}

/// `tasks` tasks race to claim one key (absent → theirs): exactly one wins;
/// then they all append to one list with read + CAS retry loops, and no
/// append is lost.
pub(super) async fn concurrent_compare_and_swap(store: Arc<dyn Store>, tasks: usize) {
    let claims: Vec<_> = (0..tasks)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .compare_and_swap("claim", None, format!("task {t}").as_bytes())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for claim in claims {
        winners += usize::from(claim.await.unwrap());
    }
    assert_eq!(winners, 1);

    let appends: Vec<_> = (0..tasks)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                loop {
                    let current = store.get("list").await.unwrap();
                    let mut next = current.clone().unwrap_or_default();
                    next.extend_from_slice(format!("{t},").as_bytes());
                    if store
                        .compare_and_swap("list", current.as_deref(), &next)
                        .await
                        .unwrap()
                    {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for append in appends {
        append.await.unwrap();
    }
    let list = String::from_utf8(store.get("list").await.unwrap().unwrap()).unwrap();
    let mut seen: Vec<usize> = list
        .split_terminator(',')
        .map(|n| n.parse().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..tasks).collect::<Vec<_>>());
}

/// Every check of this suite on an empty store.
pub(super) async fn full_suite(store: Arc<dyn Store>) {
    round_trip(store.as_ref()).await;
    atomics(store.as_ref()).await;
    batches(store.as_ref()).await;
    concurrent_increments(store.clone(), 64, 20).await;
    concurrent_compare_and_swap(store.clone(), 64).await;
    hammer(store, 64, 200).await;
}
