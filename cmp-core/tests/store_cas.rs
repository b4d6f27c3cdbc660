//! `TransactionStore::replace`: the compare-and-swap that keeps two front
//! ends from both moving one transaction on (MemoryStore's own and the
//! trait's default).
#![allow(clippy::unwrap_used, missing_docs)]

use cmp_core::Timestamp;
use cmp_core::server::{MemoryStore, TransactionStore};

/// A store using the trait's default `replace` (get, compare, update).
#[derive(Default)]
struct Plain(MemoryStore);

impl TransactionStore for Plain {
    fn get(&self, id: &[u8], now: Timestamp) -> cmp_core::Result<Option<Vec<u8>>> {
        self.0.get(id, now)
    }
    fn insert_new(
        &self,
        id: &[u8],
        record: Vec<u8>,
        expires: Timestamp,
        now: Timestamp,
    ) -> cmp_core::Result<bool> {
        self.0.insert_new(id, record, expires, now)
    }
    fn update(&self, id: &[u8], record: Vec<u8>, expires: Timestamp) -> cmp_core::Result<()> {
        self.0.update(id, record, expires)
    }
    fn remove(&self, id: &[u8]) -> cmp_core::Result<()> {
        self.0.remove(id)
    }
    fn sweep(&self, now: Timestamp) -> cmp_core::Result<usize> {
        self.0.sweep(now)
    }
    fn len(&self) -> cmp_core::Result<usize> {
        self.0.len()
    }
}

fn check(store: &dyn TransactionStore) {
    let t0 = Timestamp::from_unix_secs(1_000);
    let t1 = Timestamp::from_unix_secs(2_000);
    let t2 = Timestamp::from_unix_secs(3_000);
    assert!(store.insert_new(b"id", b"v1".to_vec(), t1, t0).unwrap());
    // against a stale record: refused, nothing changes
    assert!(!store.replace(b"id", b"v0", b"x".to_vec(), t2, t0).unwrap());
    assert_eq!(store.get(b"id", t0).unwrap(), Some(b"v1".to_vec()));
    // against the current one: done, with the new expiry
    assert!(store.replace(b"id", b"v1", b"v2".to_vec(), t2, t0).unwrap());
    assert_eq!(store.get(b"id", t1).unwrap(), Some(b"v2".to_vec()));
    // the loser of a race sees the winner's record and fails
    assert!(!store.replace(b"id", b"v1", b"v3".to_vec(), t2, t0).unwrap());
    // an expired record is not revived
    assert!(!store.replace(b"id", b"v2", b"v4".to_vec(), t2, t2).unwrap());
    // nor a removed one
    store.remove(b"id").unwrap();
    assert!(!store.replace(b"id", b"v2", b"v4".to_vec(), t2, t0).unwrap());
    assert_eq!(store.get(b"id", t0).unwrap(), None);
}

#[test]
fn memory_store_replace_is_compare_and_swap() {
    check(&MemoryStore::default());
}

#[test]
fn default_replace_is_compare_and_swap() {
    check(&Plain::default());
}
