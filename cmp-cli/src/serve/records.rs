//! Where the reference CA's records (issued certificates, revocations,
//! serial numbers) live: in the [`ReferenceCa`] itself, saved as one blob
//! in the SQLite state ([`LocalRecords`]), or as rows of a database shared
//! by several server instances (`super::pg::PgRecords`).

use std::fmt;
use std::sync::Arc;

use cmp_core::Timestamp;
use cmp_crypto_rustcrypto::{CaError, IssueRequest, ReferenceCa, Revocation};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use super::policy::normalize;
use super::state::{Db, keys};

/// Why a records operation failed.
#[derive(Debug)]
pub(crate) enum RecordError {
    /// The CA refused or failed.
    Ca(CaError),
    /// The database failed.
    Store(String),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ca(e) => write!(f, "{e}"),
            Self::Store(e) => write!(f, "database: {e}"),
        }
    }
}

impl From<CaError> for RecordError {
    fn from(e: CaError) -> Self {
        Self::Ca(e)
    }
}

/// Key/value settings of the state (the `meta` table).
pub(crate) trait Meta {
    /// A value.
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Set several values at once.
    fn put_meta(&self, entries: &[(&str, &[u8])]) -> Result<(), String>;
}

/// The records of what the CA issued and revoked.
pub(crate) trait CaRecords: Send + fmt::Debug {
    /// Issue a certificate for `req` with a serial number unique in these
    /// records, and record it.
    fn issue(
        &mut self,
        ca: &mut ReferenceCa,
        req: &IssueRequest,
        now: Timestamp,
    ) -> Result<Certificate, RecordError>;
    /// The certificate issued with `serial` (normalized: no leading zeros).
    fn find(&self, ca: &ReferenceCa, serial: &[u8]) -> Result<Option<Certificate>, RecordError>;
    /// Whether the certificate with `serial` is revoked.
    fn is_revoked(&self, ca: &ReferenceCa, serial: &[u8]) -> Result<bool, RecordError>;
    /// Revoke the certificate with `serial`.
    fn revoke(
        &mut self,
        ca: &mut ReferenceCa,
        serial: &[u8],
        reason: Option<u8>,
        now: Timestamp,
    ) -> Result<(), RecordError>;
    /// Every revocation.
    fn revoked(&self, ca: &ReferenceCa) -> Result<Vec<Revocation>, RecordError>;
    /// How many certificates were issued.
    fn issued_count(&self, ca: &ReferenceCa) -> Result<usize, RecordError>;
    /// Note that the client confirmed `cert` (certConf or implicit), or
    /// that it was delivered where no confirmation follows (krp).
    fn confirmed(&mut self, cert: &Certificate, now: Timestamp) -> Result<(), RecordError>;
    /// The certificates issued before `before`, neither confirmed nor
    /// revoked, that no open transaction holds: the CA recorded them, but
    /// the transaction that was to deliver them was never updated (the
    /// instance crashed in between). They are to be revoked.
    fn undelivered(
        &self,
        ca: &ReferenceCa,
        before: Timestamp,
    ) -> Result<Vec<Certificate>, RecordError>;
    /// Make the records durable (at shutdown and after changes).
    fn save(&self, ca: &ReferenceCa) -> Result<(), RecordError>;

    /// A CRL listing every revocation.
    fn crl(&self, ca: &ReferenceCa, now: Timestamp) -> Result<CertificateList, RecordError> {
        let revoked = self.revoked(ca)?;
        Ok(ca.crl_of(&revoked, now)?)
    }

    /// When the last revocation happened (the epoch if none did).
    fn last_revocation(&self, ca: &ReferenceCa) -> Result<Timestamp, RecordError> {
        Ok(self
            .revoked(ca)?
            .iter()
            .map(|r| r.revoked_at)
            .max()
            .unwrap_or(Timestamp::from_unix_secs(0)))
    }
}

/// The records kept by the [`ReferenceCa`] in memory and saved as
/// `ReferenceCa::export_state` bytes in the SQLite state after each change.
#[derive(Debug)]
pub(crate) struct LocalRecords {
    db: Arc<Db>,
}

impl LocalRecords {
    /// Records saved in `db`.
    pub(crate) fn new(db: Arc<Db>) -> Self {
        Self { db }
    }
}

impl LocalRecords {
    /// Save; a failure is logged (the records stay in memory and are saved
    /// again with the next change and at shutdown).
    fn save_or_log(&self, ca: &ReferenceCa) {
        if let Err(e) = self.save(ca) {
            eprintln!("cmp serve: cannot save the CA state: {e}");
        }
    }
}

impl Meta for Db {
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        Db::get_meta(self, key)
    }

    fn put_meta(&self, entries: &[(&str, &[u8])]) -> Result<(), String> {
        Db::put_meta(self, entries)
    }
}

impl CaRecords for LocalRecords {
    fn issue(
        &mut self,
        ca: &mut ReferenceCa,
        req: &IssueRequest,
        now: Timestamp,
    ) -> Result<Certificate, RecordError> {
        let cert = ca.issue(req, now)?;
        // The records and the note that it awaits confirmation, together.
        let saved = (|| -> Result<(), String> {
            let ca_cert = ca
                .certificate()
                .to_der()
                .map_err(|e| format!("encoding the CA certificate: {e}"))?;
            let der = cert
                .to_der()
                .map_err(|e| format!("encoding the certificate: {e}"))?;
            let serial = normalize(cert.tbs_certificate().serial_number().as_bytes());
            self.db
                .save_issued(&ca_cert, &ca.export_state(), &serial, &der, now)
        })();
        if let Err(e) = saved {
            eprintln!("cmp serve: cannot save the CA state: {e}");
        }
        Ok(cert)
    }

    fn find(&self, ca: &ReferenceCa, serial: &[u8]) -> Result<Option<Certificate>, RecordError> {
        Ok(ca.find(serial).cloned())
    }

    fn is_revoked(&self, ca: &ReferenceCa, serial: &[u8]) -> Result<bool, RecordError> {
        Ok(ca.is_revoked(serial))
    }

    fn revoke(
        &mut self,
        ca: &mut ReferenceCa,
        serial: &[u8],
        reason: Option<u8>,
        now: Timestamp,
    ) -> Result<(), RecordError> {
        ca.revoke(serial, reason, now)?;
        self.save_or_log(ca);
        if let Err(e) = self.db.settled(&normalize(serial)) {
            eprintln!("cmp serve: {e}");
        }
        Ok(())
    }

    fn revoked(&self, ca: &ReferenceCa) -> Result<Vec<Revocation>, RecordError> {
        Ok(ca.revoked().cloned().collect())
    }

    fn issued_count(&self, ca: &ReferenceCa) -> Result<usize, RecordError> {
        Ok(ca.issued_count())
    }

    fn confirmed(&mut self, cert: &Certificate, _now: Timestamp) -> Result<(), RecordError> {
        // The blob keeps no confirmation time; the certificate no longer
        // awaits confirmation.
        let serial = normalize(cert.tbs_certificate().serial_number().as_bytes());
        self.db.settled(&serial).map_err(RecordError::Store)
    }

    fn undelivered(
        &self,
        ca: &ReferenceCa,
        before: Timestamp,
    ) -> Result<Vec<Certificate>, RecordError> {
        let mut out = Vec::new();
        for der in self.db.undelivered(before).map_err(RecordError::Store)? {
            let cert = Certificate::from_der(&der)
                .map_err(|e| RecordError::Store(format!("corrupt certificate row: {e}")))?;
            let serial = normalize(cert.tbs_certificate().serial_number().as_bytes());
            if ca.is_revoked(&serial) {
                self.db.settled(&serial).map_err(RecordError::Store)?;
            } else {
                out.push(cert);
            }
        }
        Ok(out)
    }

    fn save(&self, ca: &ReferenceCa) -> Result<(), RecordError> {
        let cert = ca
            .certificate()
            .to_der()
            .map_err(|e| RecordError::Store(format!("encoding the CA certificate: {e}")))?;
        let state = ca.export_state();
        self.db
            .put_meta(&[(keys::CA_CERT, &cert), (keys::CA_STATE, &state)])
            .map_err(RecordError::Store)
    }
}
