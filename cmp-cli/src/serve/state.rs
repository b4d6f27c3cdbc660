//! The server's persistent state in SQLite: open CMP transactions (a
//! [`TransactionStore`]) and the reference CA's records (and, for the demo
//! hierarchy, its keys), so that a restart with the same `--state` file
//! loses nothing. Without `--state` the same tables live in an in-memory
//! database.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use cmp_core::server::TransactionStore;
use cmp_core::{Error, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

/// An expired transaction: its transactionID and its serialized record.
pub(crate) type Expired = (Vec<u8>, Vec<u8>);

/// Most open transactions held at once; new ones are refused beyond it.
const MAX_OPEN_TRANSACTIONS: i64 = 100_000;

/// Keys of the `meta` table.
pub(crate) mod keys {
    /// DER of the issuing CA certificate the saved records belong to.
    pub(crate) const CA_CERT: &str = "ca_cert";
    /// `ReferenceCa::export_state` bytes: the records as earlier versions
    /// kept them, moved into the `issued` and `revoked` tables on start.
    pub(crate) const CA_STATE: &str = "ca_state";
    /// Demo hierarchy: the issuing CA key (PKCS#8 DER).
    pub(crate) const DEMO_KEY: &str = "demo_ca_key";
    /// Demo hierarchy: the issuing CA certificate (DER).
    pub(crate) const DEMO_CERT: &str = "demo_ca_cert";
    /// Demo hierarchy: the root certificate (DER).
    pub(crate) const DEMO_ROOT: &str = "demo_root";
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    id      BLOB PRIMARY KEY,
    record  BLOB NOT NULL,
    expires INTEGER NOT NULL -- milliseconds since the epoch
);
CREATE INDEX IF NOT EXISTS transactions_expires ON transactions (expires);
-- The reference CA's records, one row per certificate and revocation
-- (records.rs, LocalRecords), so that recording a certificate costs the
-- same however many came before it.
CREATE TABLE IF NOT EXISTS issued (
    serial       BLOB PRIMARY KEY,    -- big-endian, no leading zero bytes
    certificate  BLOB NOT NULL,       -- DER
    issued_at    INTEGER NOT NULL,    -- milliseconds since the epoch
    confirmed_at INTEGER,             -- certConf or implicit confirmation
    unconfirmed  INTEGER NOT NULL     -- 1 while the certificate awaits confirmation
);
CREATE TABLE IF NOT EXISTS revoked (
    serial     BLOB PRIMARY KEY REFERENCES issued (serial),
    revoked_at INTEGER NOT NULL,      -- milliseconds since the epoch, whole seconds
    reason     INTEGER                -- CRLReason code
);
";

/// One SQLite database (a file, or in memory).
#[derive(Debug)]
pub(crate) struct Db {
    conn: Mutex<Connection>,
    file: bool,
}

/// Milliseconds since the epoch as SQLite's INTEGER.
pub(crate) fn secs(t: Timestamp) -> i64 {
    i64::try_from(t.unix_millis()).unwrap_or(i64::MAX)
}

fn store_error(e: impl std::fmt::Display) -> Error {
    Error::Store(format!("SQLite: {e}"))
}

impl Db {
    /// Open (creating if needed) the database at `path`, or an in-memory one.
    pub(crate) fn open(path: Option<&Path>) -> Result<Self, String> {
        let conn = match path {
            Some(p) => Connection::open(p)
                .map_err(|e| format!("cannot open state file {}: {e}", p.display()))?,
            None => Connection::open_in_memory()
                .map_err(|e| format!("cannot create in-memory state: {e}"))?,
        };
        let what = |e: rusqlite::Error| match path {
            Some(p) => format!("state file {}: {e}", p.display()),
            None => format!("in-memory state: {e}"),
        };
        if path.is_some() {
            // WAL: every committed write is durable, readers never block.
            let _mode: String = conn
                .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
                .map_err(what)?;
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(what)?;
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(what)?;
        conn.execute_batch(SCHEMA).map_err(what)?;
        Ok(Self {
            conn: Mutex::new(conn),
            file: path.is_some(),
        })
    }

    /// The connection, locked.
    pub(super) fn lock(&self) -> Result<MutexGuard<'_, Connection>, String> {
        self.conn
            .lock()
            .map_err(|_| String::from("state lock poisoned"))
    }

    /// A value of the `meta` table.
    pub(crate) fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.lock()?
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|e| format!("reading state ({key}): {e}"))
    }

    /// Set several values of the `meta` table in one SQLite transaction.
    pub(crate) fn put_meta(&self, entries: &[(&str, &[u8])]) -> Result<(), String> {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction()
            .map_err(|e| format!("writing state: {e}"))?;
        for (key, value) in entries {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map_err(|e| format!("writing state ({key}): {e}"))?;
        }
        tx.commit().map_err(|e| format!("writing state: {e}"))
    }

    /// Remove and return every transaction expired at `now`: (id, record).
    pub(crate) fn take_expired(&self, now: Timestamp) -> Result<Vec<Expired>, String> {
        let mut conn = self.lock()?;
        let tx = conn
            .transaction()
            .map_err(|e| format!("sweeping transactions: {e}"))?;
        let expired = {
            let mut stmt = tx
                .prepare("SELECT id, record FROM transactions WHERE expires <= ?1")
                .map_err(|e| format!("sweeping transactions: {e}"))?;
            let rows = stmt
                .query_map([secs(now)], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(|e| format!("sweeping transactions: {e}"))?;
            rows.collect::<Result<Vec<Expired>, _>>()
                .map_err(|e| format!("sweeping transactions: {e}"))?
        };
        tx.execute("DELETE FROM transactions WHERE expires <= ?1", [secs(now)])
            .map_err(|e| format!("sweeping transactions: {e}"))?;
        tx.commit()
            .map_err(|e| format!("sweeping transactions: {e}"))?;
        Ok(expired)
    }

    /// Write everything to the main database file (after a WAL).
    pub(crate) fn flush(&self) -> Result<(), String> {
        if !self.file {
            return Ok(());
        }
        self.lock()?
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| format!("flushing state: {e}"))
    }
}

impl TransactionStore for Db {
    fn get(&self, id: &[u8], now: Timestamp) -> cmp_core::Result<Option<Vec<u8>>> {
        self.lock()
            .map_err(Error::Store)?
            .query_row(
                "SELECT record FROM transactions WHERE id = ?1 AND expires > ?2",
                params![id, secs(now)],
                |row| row.get(0),
            )
            .optional()
            .map_err(store_error)
    }

    fn insert_new(
        &self,
        id: &[u8],
        record: Vec<u8>,
        expires: Timestamp,
        now: Timestamp,
    ) -> cmp_core::Result<bool> {
        let conn = self.lock().map_err(Error::Store)?;
        let open: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM transactions WHERE expires > ?1",
                [secs(now)],
                |row| row.get(0),
            )
            .map_err(store_error)?;
        if open >= MAX_OPEN_TRANSACTIONS {
            return Err(Error::Store(String::from("too many open transactions")));
        }
        // One statement: atomic even with several servers on one file.
        let changed = conn
            .execute(
                "INSERT INTO transactions (id, record, expires) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires = excluded.expires
                 WHERE transactions.expires <= ?4",
                params![id, record, secs(expires), secs(now)],
            )
            .map_err(store_error)?;
        Ok(changed == 1)
    }

    fn update(&self, id: &[u8], record: Vec<u8>, expires: Timestamp) -> cmp_core::Result<()> {
        self.lock()
            .map_err(Error::Store)?
            .execute(
                "INSERT INTO transactions (id, record, expires) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires = excluded.expires",
                params![id, record, secs(expires)],
            )
            .map_err(store_error)?;
        Ok(())
    }

    fn replace(
        &self,
        id: &[u8],
        expected: &[u8],
        record: Vec<u8>,
        expires: Timestamp,
        now: Timestamp,
    ) -> cmp_core::Result<bool> {
        // One statement: atomic even with several servers on one file.
        let changed = self
            .lock()
            .map_err(Error::Store)?
            .execute(
                "UPDATE transactions SET record = ?3, expires = ?4
                 WHERE id = ?1 AND record = ?2 AND expires > ?5",
                params![id, expected, record, secs(expires), secs(now)],
            )
            .map_err(store_error)?;
        Ok(changed == 1)
    }

    fn remove(&self, id: &[u8]) -> cmp_core::Result<()> {
        self.lock()
            .map_err(Error::Store)?
            .execute("DELETE FROM transactions WHERE id = ?1", [id])
            .map_err(store_error)?;
        Ok(())
    }

    fn sweep(&self, now: Timestamp) -> cmp_core::Result<usize> {
        self.lock()
            .map_err(Error::Store)?
            .execute("DELETE FROM transactions WHERE expires <= ?1", [secs(now)])
            .map_err(store_error)
    }

    fn len(&self) -> cmp_core::Result<usize> {
        let n: i64 = self
            .lock()
            .map_err(Error::Store)?
            .query_row("SELECT COUNT(*) FROM transactions", [], |row| row.get(0))
            .map_err(store_error)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_semantics() -> Result<(), String> {
        let db = Db::open(None)?;
        let t0 = Timestamp::from_unix_secs(1_000);
        let t1 = Timestamp::from_unix_secs(2_000);
        let s = |r: cmp_core::Result<bool>| r.map_err(|e| e.to_string());
        assert!(s(db.insert_new(b"a", b"r1".to_vec(), t1, t0))?);
        // in use until it expires
        assert!(!s(db.insert_new(b"a", b"r2".to_vec(), t1, t0))?);
        assert_eq!(
            db.get(b"a", t0).map_err(|e| e.to_string())?,
            Some(b"r1".to_vec())
        );
        assert_eq!(db.get(b"a", t1).map_err(|e| e.to_string())?, None);
        // an expired one may be replaced
        let t2 = Timestamp::from_unix_secs(3_000);
        assert!(s(db.insert_new(b"a", b"r3".to_vec(), t2, t1))?);
        db.update(b"b", b"x".to_vec(), t1)
            .map_err(|e| e.to_string())?;
        assert_eq!(db.len().map_err(|e| e.to_string())?, 2);
        let expired = db.take_expired(t1)?;
        assert_eq!(expired, vec![(b"b".to_vec(), b"x".to_vec())]);
        // compare-and-swap: only against the current record
        let r = |r: cmp_core::Result<bool>| r.map_err(|e| e.to_string());
        assert!(!r(db.replace(b"a", b"r1", b"r4".to_vec(), t2, t1))?);
        assert!(r(db.replace(b"a", b"r3", b"r4".to_vec(), t2, t1))?);
        assert!(!r(db.replace(b"a", b"r3", b"r5".to_vec(), t2, t1))?);
        assert_eq!(
            db.get(b"a", t1).map_err(|e| e.to_string())?,
            Some(b"r4".to_vec())
        );
        // not once expired
        assert!(!r(db.replace(b"a", b"r4", b"r5".to_vec(), t2, t2))?);
        db.remove(b"a").map_err(|e| e.to_string())?;
        assert!(db.is_empty().map_err(|e| e.to_string())?);
        db.put_meta(&[("k", b"v1"), ("l", b"w")])?;
        db.put_meta(&[("k", b"v2")])?;
        assert_eq!(db.get_meta("k")?, Some(b"v2".to_vec()));
        assert_eq!(db.get_meta("none")?, None);
        Ok(())
    }
}
