//! The server's state in PostgreSQL, shared by several `cmp serve`
//! instances (`--store postgres://...`): open CMP transactions (a
//! [`TransactionStore`]), the CA's issued certificates and revocations as
//! rows ([`PgRecords`]), archived keys (`super::archive::PgArchive`), and
//! the settings every instance must agree on (`cmp_meta`: the CA
//! certificate, the demo hierarchy's keys).
//!
//! The driver is the `postgres` crate, the blocking facade of
//! `tokio-postgres`: the server handles one request at a time on one thread
//! (tiny_http), so each instance holds one connection behind a mutex and
//! reconnects when it was lost.
//!
//! Concurrency between instances rests on single statements, each atomic
//! in PostgreSQL, rather than on locks held across round trips:
//!
//! * a new transaction is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE`
//!   (taking over only an expired row), so of two instances seeing the same
//!   transactionID one wins and the other answers transactionIdInUse;
//! * a step of a transaction (decision, certConf) is one
//!   `UPDATE ... WHERE id = $1 AND record = $2 AND expires > $now`, a
//!   compare-and-swap: the row lock the UPDATE takes makes a concurrent
//!   UPDATE of the same row wait and then re-check its WHERE against the
//!   new row, so it fails instead of overwriting;
//! * the sweep is one `DELETE ... WHERE expires <= $now RETURNING`: each
//!   expired transaction goes to exactly one instance (which revokes a
//!   certificate that was never confirmed), and a certConf committed first
//!   has pushed `expires` forward so its row is not deleted;
//! * a certificate recorded but never delivered (an instance crashed
//!   before storing its transaction) is found by the sweep: unconfirmed,
//!   unrevoked, old, and in no transaction's record; it is revoked;
//! * a serial number is claimed by inserting the certificate under the
//!   primary key `serial`; a collision (never seen with 126 random bits) is
//!   retried with a new serial number.
//!
//! Schema migrations (`cmp-cli/migrations/*.sql`) are applied at start in one
//! database transaction holding an advisory lock, and recorded in
//! `schema_migrations`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use cmp_core::server::TransactionStore;
use cmp_core::{Error, Timestamp};
use cmp_crypto_rustcrypto::{CaError, IssueRequest, ReferenceCa, Revocation};
use der::Decode;
use postgres::{Client, NoTls};
use x509_cert::Certificate;

use super::policy::normalize;
use super::records::{CaRecords, Meta, RecordError, check_reason, issue_unique, whole_seconds};
use super::state::Expired;

/// The migrations shipped with this version, in order: (version, name, SQL).
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "0001_initial",
        include_str!("../../migrations/0001_initial.sql"),
    ),
    (
        2,
        "0002_key_archive",
        include_str!("../../migrations/0002_key_archive.sql"),
    ),
    (
        3,
        "0003_unconfirmed",
        include_str!("../../migrations/0003_unconfirmed.sql"),
    ),
];

/// Advisory lock key held while migrating ("cmp-migr").
const MIGRATION_LOCK: i64 = 0x636d_702d_6d69_6772;
/// Advisory lock key held while an instance sets up its CA ("cmp-ca-s").
const SETUP_LOCK: i64 = 0x636d_702d_6361_2d73;
/// Most open transactions held at once; new ones are refused beyond it.
const MAX_OPEN_TRANSACTIONS: i64 = 100_000;
/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Milliseconds since the epoch as PostgreSQL's bigint.
fn millis(t: Timestamp) -> i64 {
    i64::try_from(t.unix_millis()).unwrap_or(i64::MAX)
}

fn store_error(e: impl std::fmt::Display) -> Error {
    Error::Store(format!("PostgreSQL: {e}"))
}

/// Whether `spec` names a PostgreSQL database.
pub(crate) fn is_postgres_url(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

/// One instance's connection to the shared database.
pub(crate) struct PgStore {
    config: postgres::Config,
    client: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The configuration may hold a password.
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connect to `url` and bring the schema up to date.
    pub(crate) fn open(url: &str) -> Result<Self, String> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| format!("--store: not a PostgreSQL URL: {e}"))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("cmp serve");
        }
        let store = Self {
            config,
            client: Mutex::new(None),
        };
        store
            .with(migrate)
            .map_err(|e| format!("PostgreSQL schema migration: {e}"))?;
        Ok(store)
    }

    /// A description for the log, without credentials.
    pub(crate) fn describe(&self) -> String {
        let db = self.config.get_dbname().unwrap_or("(default)");
        let host = match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => String::from("localhost"),
        };
        format!("PostgreSQL database {db} on {host}")
    }

    fn lock(&self) -> Result<MutexGuard<'_, Option<Client>>, String> {
        self.client
            .lock()
            .map_err(|_| String::from("database connection lock poisoned"))
    }

    /// Run `f` on the connection, connecting first when there is none or
    /// it was closed. A statement that failed is not retried: it may have
    /// been committed before the connection broke.
    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, String> {
        let mut guard = self.lock()?;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = None;
            let client = self
                .config
                .connect(NoTls)
                .map_err(|e| format!("cannot connect: {e}"))?;
            *guard = Some(client);
        }
        let Some(client) = guard.as_mut() else {
            return Err(String::from("no database connection"));
        };
        f(client).map_err(|e| e.to_string())
    }

    /// Run `f` while holding the set-up advisory lock, so that instances
    /// starting together agree on one CA (e.g. one demo hierarchy).
    pub(crate) fn with_setup_lock<T>(
        &self,
        f: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, String> {
        self.with(|c| c.execute("SELECT pg_advisory_lock($1)", &[&SETUP_LOCK]))?;
        let result = f();
        self.with(|c| c.execute("SELECT pg_advisory_unlock($1)", &[&SETUP_LOCK]))?;
        result
    }

    /// Remove and return every transaction expired at `now`: (id, record).
    /// Each expired transaction is returned to exactly one instance.
    pub(crate) fn take_expired(&self, now: Timestamp) -> Result<Vec<Expired>, String> {
        let rows = self.with(|c| {
            c.query(
                "DELETE FROM cmp_transactions WHERE expires <= $1 RETURNING id, record",
                &[&millis(now)],
            )
        })?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<Vec<Expired>, postgres::Error>>()
            .map_err(|e| format!("sweeping transactions: {e}"))
    }
}

/// Apply the migrations this database lacks, in one transaction holding
/// the migration lock.
fn migrate(client: &mut Client) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer     PRIMARY KEY,
            name       text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )?;
    for (version, name, sql) in MIGRATIONS {
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[version],
            )?
            .is_some();
        if !done {
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[version, name],
            )?;
        }
    }
    tx.commit()
}

impl Meta for PgStore {
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.with(|c| {
            c.query_opt("SELECT value FROM cmp_meta WHERE key = $1", &[&key])?
                .map(|r| r.try_get(0))
                .transpose()
        })
        .map_err(|e| format!("reading state ({key}): {e}"))
    }

    fn put_meta(&self, entries: &[(&str, &[u8])]) -> Result<(), String> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            for (key, value) in entries {
                tx.execute(
                    "INSERT INTO cmp_meta (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[key, value],
                )?;
            }
            tx.commit()
        })
        .map_err(|e| format!("writing state: {e}"))
    }
}

impl TransactionStore for PgStore {
    fn get(&self, id: &[u8], now: Timestamp) -> cmp_core::Result<Option<Vec<u8>>> {
        self.with(|c| {
            c.query_opt(
                "SELECT record FROM cmp_transactions WHERE id = $1 AND expires > $2",
                &[&id, &millis(now)],
            )?
            .map(|r| r.try_get(0))
            .transpose()
        })
        .map_err(store_error)
    }

    fn insert_new(
        &self,
        id: &[u8],
        record: Vec<u8>,
        expires: Timestamp,
        now: Timestamp,
    ) -> cmp_core::Result<bool> {
        let open: i64 = self
            .with(|c| {
                c.query_one(
                    "SELECT count(*) FROM cmp_transactions WHERE expires > $1",
                    &[&millis(now)],
                )?
                .try_get(0)
            })
            .map_err(store_error)?;
        if open >= MAX_OPEN_TRANSACTIONS {
            return Err(Error::Store(String::from("too many open transactions")));
        }
        // One statement: of two instances inserting the same id, one wins.
        let changed = self
            .with(|c| {
                c.execute(
                    "INSERT INTO cmp_transactions (id, record, expires) VALUES ($1, $2, $3)
                     ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires = excluded.expires
                     WHERE cmp_transactions.expires <= $4",
                    &[&id, &record, &millis(expires), &millis(now)],
                )
            })
            .map_err(store_error)?;
        Ok(changed == 1)
    }

    fn update(&self, id: &[u8], record: Vec<u8>, expires: Timestamp) -> cmp_core::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO cmp_transactions (id, record, expires) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires = excluded.expires",
                &[&id, &record, &millis(expires)],
            )
        })
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
        let changed = self
            .with(|c| {
                c.execute(
                    "UPDATE cmp_transactions SET record = $3, expires = $4
                     WHERE id = $1 AND record = $2 AND expires > $5",
                    &[&id, &expected, &record, &millis(expires), &millis(now)],
                )
            })
            .map_err(store_error)?;
        Ok(changed == 1)
    }

    fn remove(&self, id: &[u8]) -> cmp_core::Result<()> {
        self.with(|c| c.execute("DELETE FROM cmp_transactions WHERE id = $1", &[&id]))
            .map_err(store_error)?;
        Ok(())
    }

    fn sweep(&self, now: Timestamp) -> cmp_core::Result<usize> {
        let n = self
            .with(|c| {
                c.execute(
                    "DELETE FROM cmp_transactions WHERE expires <= $1",
                    &[&millis(now)],
                )
            })
            .map_err(store_error)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn len(&self) -> cmp_core::Result<usize> {
        let n: i64 = self
            .with(|c| {
                c.query_one("SELECT count(*) FROM cmp_transactions", &[])?
                    .try_get(0)
            })
            .map_err(store_error)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

/// The CA's records as rows of `cmp_issued` and `cmp_revoked`.
#[derive(Debug)]
pub(crate) struct PgRecords {
    db: Arc<PgStore>,
}

impl PgRecords {
    /// The records in `db`.
    pub(crate) fn new(db: Arc<PgStore>) -> Self {
        Self { db }
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, RecordError> {
        self.db.with(f).map_err(RecordError::Store)
    }
}

impl CaRecords for PgRecords {
    fn issue(
        &mut self,
        ca: &mut ReferenceCa,
        req: &IssueRequest,
        now: Timestamp,
    ) -> Result<Certificate, RecordError> {
        issue_unique(ca, req, now, |serial, der, subject| {
            let inserted = self.with(|c| {
                c.execute(
                    "INSERT INTO cmp_issued (serial, certificate, subject, issued_at, unconfirmed)
                     VALUES ($1, $2, $3, $4, true) ON CONFLICT (serial) DO NOTHING",
                    &[&serial, &der, &subject, &millis(now)],
                )
            })?;
            Ok(inserted == 1)
        })
    }

    fn find(&self, _ca: &ReferenceCa, serial: &[u8]) -> Result<Option<Certificate>, RecordError> {
        let serial = normalize(serial);
        let der: Option<Vec<u8>> = self.with(|c| {
            c.query_opt(
                "SELECT certificate FROM cmp_issued WHERE serial = $1",
                &[&serial],
            )?
            .map(|r| r.try_get(0))
            .transpose()
        })?;
        der.map(|d| {
            Certificate::from_der(&d)
                .map_err(|e| RecordError::Store(format!("corrupt certificate row: {e}")))
        })
        .transpose()
    }

    fn is_revoked(&self, _ca: &ReferenceCa, serial: &[u8]) -> Result<bool, RecordError> {
        let serial = normalize(serial);
        self.with(|c| {
            Ok(
                c.query_opt("SELECT 1 FROM cmp_revoked WHERE serial = $1", &[&serial])?
                    .is_some(),
            )
        })
    }

    fn revoke(
        &mut self,
        _ca: &mut ReferenceCa,
        serial: &[u8],
        reason: Option<u8>,
        now: Timestamp,
    ) -> Result<(), RecordError> {
        check_reason(reason)?;
        let serial = normalize(serial);
        let at = whole_seconds(now);
        let code = reason.map(i16::from);
        let inserted = self.with(|c| {
            c.execute(
                "INSERT INTO cmp_revoked (serial, revoked_at, reason)
                 SELECT serial, $2, $3 FROM cmp_issued WHERE serial = $1
                 ON CONFLICT (serial) DO NOTHING",
                &[&serial, &at, &code],
            )
        })?;
        if inserted == 1 {
            return Ok(());
        }
        let issued = self.with(|c| {
            Ok(
                c.query_opt("SELECT 1 FROM cmp_issued WHERE serial = $1", &[&serial])?
                    .is_some(),
            )
        })?;
        Err(RecordError::Ca(if issued {
            CaError::AlreadyRevoked
        } else {
            CaError::UnknownCertificate
        }))
    }

    fn revoked(&self, _ca: &ReferenceCa) -> Result<Vec<Revocation>, RecordError> {
        let rows = self.with(|c| {
            c.query(
                "SELECT serial, revoked_at, reason FROM cmp_revoked ORDER BY serial",
                &[],
            )
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let read = || -> Result<Revocation, postgres::Error> {
                let at: i64 = row.try_get(1)?;
                let reason: Option<i16> = row.try_get(2)?;
                Ok(Revocation {
                    serial: row.try_get(0)?,
                    revoked_at: Timestamp::from_unix_secs(u64::try_from(at / 1000).unwrap_or(0)),
                    reason: reason.and_then(|r| u8::try_from(r).ok()),
                })
            };
            out.push(read().map_err(|e| RecordError::Store(e.to_string()))?);
        }
        Ok(out)
    }

    fn issued_count(&self, _ca: &ReferenceCa) -> Result<usize, RecordError> {
        let n: i64 = self.with(|c| {
            c.query_one("SELECT count(*) FROM cmp_issued", &[])?
                .try_get(0)
        })?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn confirmed(&mut self, cert: &Certificate, now: Timestamp) -> Result<(), RecordError> {
        let serial = normalize(cert.tbs_certificate().serial_number().as_bytes());
        self.with(|c| {
            c.execute(
                "UPDATE cmp_issued SET confirmed_at = $2, unconfirmed = false
                 WHERE serial = $1 AND confirmed_at IS NULL",
                &[&serial, &millis(now)],
            )
        })?;
        Ok(())
    }

    fn undelivered(
        &self,
        _ca: &ReferenceCa,
        before: Timestamp,
    ) -> Result<Vec<Certificate>, RecordError> {
        // A transaction awaiting certConf holds its certificate's DER in
        // its record.
        let rows = self.with(|c| {
            c.query(
                "SELECT certificate FROM cmp_issued i
                 WHERE unconfirmed AND issued_at <= $1
                 AND NOT EXISTS (SELECT 1 FROM cmp_revoked r WHERE r.serial = i.serial)
                 AND NOT EXISTS (SELECT 1 FROM cmp_transactions t
                                 WHERE position(i.certificate IN t.record) > 0)
                 ORDER BY issued_at",
                &[&millis(before)],
            )
        })?;
        rows.iter()
            .map(|r| {
                let der: Vec<u8> = r
                    .try_get(0)
                    .map_err(|e| RecordError::Store(e.to_string()))?;
                Certificate::from_der(&der)
                    .map_err(|e| RecordError::Store(format!("corrupt certificate row: {e}")))
            })
            .collect()
    }

    fn save(&self, _ca: &ReferenceCa) -> Result<(), RecordError> {
        // Every change was committed when it was made.
        Ok(())
    }

    fn last_revocation(&self, _ca: &ReferenceCa) -> Result<Timestamp, RecordError> {
        let at: Option<i64> = self.with(|c| {
            c.query_one("SELECT max(revoked_at) FROM cmp_revoked", &[])?
                .try_get(0)
        })?;
        Ok(Timestamp::from_unix_secs(
            u64::try_from(at.unwrap_or(0) / 1000).unwrap_or(0),
        ))
    }
}
