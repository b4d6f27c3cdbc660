//! Which database holds the server's state: the embedded SQLite (a
//! `--state` file, or memory), or a PostgreSQL database shared by several
//! instances (`--store postgres://...`).

use std::path::Path;
use std::sync::Arc;

use cmp_core::Timestamp;
use cmp_core::server::TransactionStore;

use super::archive::{ArchiveRows, PgArchive, SqliteArchive};
use super::pg::{PgRecords, PgStore, is_postgres_url};
use super::records::{CaRecords, LocalRecords, Meta};
use super::state::{Db, Expired};

/// The server's state.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    /// SQLite, this instance alone.
    Sqlite(Arc<Db>),
    /// PostgreSQL, shared.
    Postgres(Arc<PgStore>),
}

impl Backend {
    /// Open the `--store` database when given (a `postgres://` or
    /// `postgresql://` URL, or `env:VAR` holding one), else the SQLite
    /// `--state` file (or memory).
    pub(crate) fn open(state: Option<&Path>, store: Option<&str>) -> Result<Self, String> {
        let Some(spec) = store else {
            return Ok(Self::Sqlite(Arc::new(Db::open(state)?)));
        };
        if state.is_some() {
            return Err(String::from("--state and --store exclude each other"));
        }
        let url = match spec.strip_prefix("env:") {
            Some(var) => std::env::var(var)
                .map_err(|_| format!("--store: environment variable {var} is not set"))?,
            None => spec.to_owned(),
        };
        if !is_postgres_url(&url) {
            return Err(String::from(
                "--store takes a postgres:// or postgresql:// URL (or env:VAR holding one)",
            ));
        }
        Ok(Self::Postgres(Arc::new(PgStore::open(&url)?)))
    }

    /// The open CMP transactions.
    pub(crate) fn transactions(&self) -> Arc<dyn TransactionStore> {
        match self {
            Self::Sqlite(db) => db.clone(),
            Self::Postgres(db) => db.clone(),
        }
    }

    /// The settings table.
    pub(crate) fn meta(&self) -> &dyn Meta {
        match self {
            Self::Sqlite(db) => db.as_ref(),
            Self::Postgres(db) => db.as_ref(),
        }
    }

    /// Run `f` so that no other instance sets up its CA meanwhile.
    pub(crate) fn with_setup_lock<T>(
        &self,
        f: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, String> {
        match self {
            Self::Sqlite(_) => f(),
            Self::Postgres(db) => db.with_setup_lock(f),
        }
    }

    /// Where the CA's issued and revoked certificates are recorded.
    pub(crate) fn records(&self) -> Box<dyn CaRecords> {
        match self {
            Self::Sqlite(db) => Box::new(LocalRecords::new(Arc::clone(db))),
            Self::Postgres(db) => Box::new(PgRecords::new(Arc::clone(db))),
        }
    }

    /// Where the key archive's rows are kept.
    pub(crate) fn archive_rows(&self) -> Result<Box<dyn ArchiveRows>, String> {
        Ok(match self {
            Self::Sqlite(db) => Box::new(SqliteArchive::open(Arc::clone(db))?),
            Self::Postgres(db) => Box::new(PgArchive::new(Arc::clone(db))),
        })
    }

    /// Remove and return the transactions expired at `now`.
    pub(crate) fn take_expired(&self, now: Timestamp) -> Result<Vec<Expired>, String> {
        match self {
            Self::Sqlite(db) => db.take_expired(now),
            Self::Postgres(db) => db.take_expired(now),
        }
    }

    /// Make everything durable (at shutdown).
    pub(crate) fn flush(&self) -> Result<(), String> {
        match self {
            Self::Sqlite(db) => db.flush(),
            // every statement was committed
            Self::Postgres(_) => Ok(()),
        }
    }

    /// For the start-up log line.
    pub(crate) fn describe(&self, state: Option<&Path>) -> String {
        match (self, state) {
            (Self::Postgres(db), _) => format!(", state in {}", db.describe()),
            (Self::Sqlite(_), Some(p)) => format!(", state in {}", p.display()),
            (Self::Sqlite(_), None) => String::new(),
        }
    }
}
