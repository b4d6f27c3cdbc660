//! The key archive of `cmp serve`: the private keys archived on enrollment
//! (the requester's pkiArchiveOptions, centrally generated keys), kept in
//! the store so that key recovery (krr) works after a restart and on every
//! instance sharing a PostgreSQL store.
//!
//! Keys are never stored in clear: each row holds the key sealed by an
//! [`ArchiveSealer`] (AES-256 key wrap with padding under a key derived by
//! HKDF-SHA256 from the CA's private key and the certificate), which every
//! instance can derive from the CA key it already has, and nobody with the
//! database alone can. Rows are read back through a [`KeyArchive`], which
//! checks each key against its certificate and gives a subject's keys
//! oldest first.

use std::fmt;
use std::sync::Arc;

use cmp_core::Timestamp;
use cmp_crypto_rustcrypto::{ArchiveSealer, KeyArchive};
use der::{Decode, Encode};
use rusqlite::params;
use x509_cert::Certificate;
use x509_cert::name::Name;

use super::pg::PgStore;
use super::policy::normalize;
use super::state::Db;

/// One archived key as stored: the certificate (DER) and the sealed key.
pub(crate) type ArchiveRow = (Vec<u8>, Vec<u8>);

/// Where the rows of the key archive live.
pub(crate) trait ArchiveRows: Send + Sync + fmt::Debug {
    /// Add the sealed key of the certificate `cert` (DER) with `serial`
    /// (normalized) and `subject` (DER).
    fn insert(
        &self,
        serial: &[u8],
        subject: &[u8],
        cert: &[u8],
        sealed: &[u8],
        now: Timestamp,
    ) -> Result<(), String>;
    /// The rows whose certificate's subject is `subject` (DER), oldest first.
    fn of_subject(&self, subject: &[u8]) -> Result<Vec<ArchiveRow>, String>;
}

/// The key archive in the store.
#[derive(Debug)]
pub(crate) struct StoredArchive {
    rows: Box<dyn ArchiveRows>,
    sealer: ArchiveSealer,
}

/// Milliseconds since the epoch, as both databases store times.
fn millis(t: Timestamp) -> i64 {
    i64::try_from(t.unix_millis()).unwrap_or(i64::MAX)
}

impl StoredArchive {
    /// The archive kept in `rows`, sealed by `sealer`.
    pub(crate) fn new(rows: Box<dyn ArchiveRows>, sealer: ArchiveSealer) -> Self {
        Self { rows, sealer }
    }

    /// Archive `private_key` (PKCS#8 DER), which must belong to `cert`.
    pub(crate) fn archive(
        &self,
        cert: &Certificate,
        private_key: &[u8],
        now: Timestamp,
    ) -> Result<(), String> {
        let sealed = self
            .sealer
            .seal(cert, private_key)
            .map_err(|e| e.to_string())?;
        let tbs = cert.tbs_certificate();
        let subject = tbs
            .subject()
            .to_der()
            .map_err(|e| format!("encoding the subject: {e}"))?;
        let der = cert
            .to_der()
            .map_err(|e| format!("encoding the certificate: {e}"))?;
        let serial = normalize(tbs.serial_number().as_bytes());
        self.rows.insert(&serial, &subject, &der, &sealed, now)
    }

    /// The archived keys of `subject`, oldest first, in a [`KeyArchive`];
    /// and what was wrong with rows that could not be used (a key sealed
    /// under another CA key, a damaged row), which are left out.
    pub(crate) fn keys_of(&self, subject: &Name) -> Result<(KeyArchive, Vec<String>), String> {
        let wanted = subject
            .to_der()
            .map_err(|e| format!("encoding the subject: {e}"))?;
        let mut archive = KeyArchive::new();
        let mut problems = Vec::new();
        for (der, sealed) in self.rows.of_subject(&wanted)? {
            let cert = match Certificate::from_der(&der) {
                Ok(c) => c,
                Err(e) => {
                    problems.push(format!("an archived certificate is corrupt: {e}"));
                    continue;
                }
            };
            let opened = self
                .sealer
                .open(&cert, &sealed)
                .map_err(|e| e.to_string())
                .and_then(|key| archive.archive(cert, &key).map_err(|e| e.to_string()));
            if let Err(e) = opened {
                problems.push(format!("an archived key cannot be used: {e}"));
            }
        }
        Ok((archive, problems))
    }
}

const SQLITE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS archived_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    serial      BLOB    NOT NULL UNIQUE,  -- big-endian, no leading zero bytes
    subject     BLOB    NOT NULL,         -- DER of the certificate's subject
    certificate BLOB    NOT NULL,         -- DER
    sealed      BLOB    NOT NULL,         -- the private key, ArchiveSealer
    archived_at INTEGER NOT NULL          -- milliseconds since the epoch
);
CREATE INDEX IF NOT EXISTS archived_keys_subject ON archived_keys (subject, id);
";

/// The archive's rows in the SQLite state.
#[derive(Debug)]
pub(crate) struct SqliteArchive {
    db: Arc<Db>,
}

impl SqliteArchive {
    /// The rows in `db` (creating the table when missing).
    pub(crate) fn open(db: Arc<Db>) -> Result<Self, String> {
        db.lock()?
            .execute_batch(SQLITE_SCHEMA)
            .map_err(|e| format!("creating the key archive: {e}"))?;
        Ok(Self { db })
    }
}

impl ArchiveRows for SqliteArchive {
    fn insert(
        &self,
        serial: &[u8],
        subject: &[u8],
        cert: &[u8],
        sealed: &[u8],
        now: Timestamp,
    ) -> Result<(), String> {
        self.db
            .lock()?
            .execute(
                "INSERT INTO archived_keys (serial, subject, certificate, sealed, archived_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![serial, subject, cert, sealed, millis(now)],
            )
            .map_err(|e| format!("archiving a key: {e}"))?;
        Ok(())
    }

    fn of_subject(&self, subject: &[u8]) -> Result<Vec<ArchiveRow>, String> {
        let conn = self.db.lock()?;
        let mut stmt = conn
            .prepare("SELECT certificate, sealed FROM archived_keys WHERE subject = ?1 ORDER BY id")
            .map_err(|e| format!("reading the key archive: {e}"))?;
        let rows = stmt
            .query_map([subject], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| format!("reading the key archive: {e}"))?;
        rows.collect::<Result<Vec<ArchiveRow>, _>>()
            .map_err(|e| format!("reading the key archive: {e}"))
    }
}

/// The archive's rows in PostgreSQL (`cmp_archived_keys`, migration 0002),
/// shared by every instance.
#[derive(Debug)]
pub(crate) struct PgArchive {
    db: Arc<PgStore>,
}

impl PgArchive {
    /// The rows in `db`.
    pub(crate) fn new(db: Arc<PgStore>) -> Self {
        Self { db }
    }
}

impl ArchiveRows for PgArchive {
    fn insert(
        &self,
        serial: &[u8],
        subject: &[u8],
        _cert: &[u8],
        sealed: &[u8],
        now: Timestamp,
    ) -> Result<(), String> {
        // The certificate is the cmp_issued row the serial number refers to.
        self.db
            .with(|c| {
                c.execute(
                    "INSERT INTO cmp_archived_keys (serial, subject, sealed, archived_at)
                     VALUES ($1, $2, $3, $4)",
                    &[&serial, &subject, &sealed, &millis(now)],
                )
            })
            .map_err(|e| format!("archiving a key: {e}"))?;
        Ok(())
    }

    fn of_subject(&self, subject: &[u8]) -> Result<Vec<ArchiveRow>, String> {
        let rows = self
            .db
            .with(|c| {
                c.query(
                    "SELECT i.certificate, a.sealed
                     FROM cmp_archived_keys a JOIN cmp_issued i ON i.serial = a.serial
                     WHERE a.subject = $1 ORDER BY a.id",
                    &[&subject],
                )
            })
            .map_err(|e| format!("reading the key archive: {e}"))?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<Vec<ArchiveRow>, postgres::Error>>()
            .map_err(|e| format!("reading the key archive: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use cmp_core::crypto::SigningKey as _;
    use cmp_crypto_rustcrypto::{IssueRequest, KeyAlgorithm, PrivateKey, ReferenceCa};

    use super::*;

    /// Keys survive in the SQLite rows, sealed, and come back oldest first
    /// for their subject only.
    #[test]
    fn sqlite_archive_round_trip() -> Result<(), String> {
        let now = Timestamp::from_unix_secs(1_760_000_000);
        let e = |e: cmp_core::crypto::CryptoError| e.to_string();
        let (mut ca, _) = ReferenceCa::generate_hierarchy("Archive", now, KeyAlgorithm::EcP256)
            .map_err(|e| e.to_string())?;
        let db = Arc::new(Db::open(None)?);
        let ca_key = ca.signing_key().clone();
        let sealer = || ArchiveSealer::for_ca_key(&ca_key).map_err(e);
        let archive =
            StoredArchive::new(Box::new(SqliteArchive::open(Arc::clone(&db))?), sealer()?);
        let alice = Name::from_str("CN=Alice").map_err(|e| e.to_string())?;
        let bob = Name::from_str("CN=Bob").map_err(|e| e.to_string())?;
        let mut issued = Vec::new();
        for subject in [&alice, &bob, &alice] {
            let key = PrivateKey::generate(KeyAlgorithm::EcP256).map_err(e)?;
            let cert = ca
                .issue(&IssueRequest::new(subject.clone(), key.public_key()), now)
                .map_err(|e| e.to_string())?;
            let pkcs8 = key.to_pkcs8_der().map_err(e)?;
            archive.archive(&cert, &pkcs8, now)?;
            issued.push((cert, pkcs8));
        }
        // a key that is not the certificate's is refused
        let (cert0, _) = issued.first().ok_or("none")?;
        let (_, key1) = issued.get(1).ok_or("none")?;
        assert!(archive.archive(cert0, key1, now).is_err());

        // a second handle on the same database (a restart) sees them
        let again = StoredArchive::new(Box::new(SqliteArchive::open(Arc::clone(&db))?), sealer()?);
        let (found, problems) = again.keys_of(&alice)?;
        assert!(problems.is_empty(), "{problems:?}");
        let keys = found.keys_of(&alice);
        assert_eq!(keys.len(), 2);
        for (k, i) in keys.iter().zip([0usize, 2]) {
            let (cert, pkcs8) = issued.get(i).ok_or("none")?;
            assert_eq!(&k.cert, cert);
            assert_eq!(k.private_key.as_slice(), pkcs8.as_slice());
        }
        assert_eq!(again.keys_of(&bob)?.0.len(), 1);
        // not in clear in the table
        let conn = db.lock()?;
        let stored: Vec<u8> = conn
            .query_row(
                "SELECT sealed FROM archived_keys ORDER BY id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string())?;
        let (_, pkcs8) = issued.first().ok_or("none")?;
        assert!(!stored.windows(pkcs8.len()).any(|w| w == pkcs8.as_slice()));
        drop(conn);

        // under another CA key the rows are reported, not used
        let (other, _) = ReferenceCa::generate_hierarchy("Other", now, KeyAlgorithm::EcP256)
            .map_err(|e| e.to_string())?;
        let stranger = StoredArchive::new(
            Box::new(SqliteArchive::open(Arc::clone(&db))?),
            ArchiveSealer::for_ca_key(other.signing_key()).map_err(e)?,
        );
        let (found, problems) = stranger.keys_of(&alice)?;
        assert!(found.is_empty());
        assert_eq!(problems.len(), 2);
        Ok(())
    }
}
