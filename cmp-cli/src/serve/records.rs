//! Where the reference CA's records (issued certificates, revocations,
//! serial numbers) live: as rows of the SQLite state of this instance
//! ([`LocalRecords`]), or as rows of a database shared by several server
//! instances (`super::pg::PgRecords`).

use std::fmt;
use std::sync::Arc;

use cmp_core::Timestamp;
use cmp_crypto_rustcrypto::{CaError, IssueRequest, ReferenceCa, Revocation};
use der::{Decode, Encode};
use rusqlite::{Connection, OptionalExtension, params};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use super::policy::normalize;
use super::state::{Db, keys, secs};

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

/// How often to draw a new random serial number when the drawn one is
/// taken (with 126 random bits, a second attempt is already improbable).
const SERIAL_ATTEMPTS: usize = 16;

/// Issue a certificate for `req` under a serial number nobody else holds:
/// `claim(serial, der, subject)` records the new certificate (`serial`
/// normalized, `der` its encoding, `subject` its RFC 4514 subject) and says
/// whether the serial number was free; a taken one is drawn again.
pub(crate) fn issue_unique(
    ca: &mut ReferenceCa,
    req: &IssueRequest,
    now: Timestamp,
    mut claim: impl FnMut(&[u8], &[u8], &str) -> Result<bool, RecordError>,
) -> Result<Certificate, RecordError> {
    for _ in 0..SERIAL_ATTEMPTS {
        let cert = ca.issue_unrecorded(req, now)?;
        let serial = normalize(cert.tbs_certificate().serial_number().as_bytes());
        let der = cert.to_der().map_err(CaError::Encoding)?;
        let subject = cert.tbs_certificate().subject().to_string();
        if claim(&serial, &der, &subject)? {
            return Ok(cert);
        }
    }
    Err(RecordError::Store(String::from(
        "no unused serial number found",
    )))
}

/// A CRLReason code a revocation may carry (RFC 5280 section 5.3.1: 7 is
/// unused, removeFromCRL (8) only appears in delta CRLs, above 10 undefined).
pub(crate) fn check_reason(reason: Option<u8>) -> Result<(), CaError> {
    match reason {
        Some(code @ (7 | 8 | 11..)) => Err(CaError::InvalidReason(code)),
        _ => Ok(()),
    }
}

/// Milliseconds since the epoch of the whole second of `now` (CRLs keep
/// whole seconds).
pub(crate) fn whole_seconds(now: Timestamp) -> i64 {
    i64::try_from(now.unix_secs())
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000)
}

/// The records as rows of the SQLite state (the `issued` and `revoked`
/// tables): one insert per certificate or revocation, so recording costs
/// the same however many certificates came before, and the CA holds none
/// of them in memory.
#[derive(Debug)]
pub(crate) struct LocalRecords {
    db: Arc<Db>,
}

impl LocalRecords {
    /// Records saved in `db`.
    pub(crate) fn new(db: Arc<Db>) -> Self {
        Self { db }
    }

    /// Run `f` on the locked connection; `what` names the operation in errors.
    fn sql<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, RecordError> {
        let mut conn = self.db.lock().map_err(RecordError::Store)?;
        f(&mut conn).map_err(|e| RecordError::Store(format!("{what}: {e}")))
    }

    /// Move the records an earlier version kept as one
    /// `ReferenceCa::export_state` blob (`state`, checked against `ca`)
    /// into rows, and drop the blob, in one SQLite transaction. Certificates
    /// from the blob count as settled (it kept no confirmation state).
    pub(crate) fn import_legacy(&self, ca: &ReferenceCa, state: &[u8]) -> Result<(), String> {
        let mut legacy = ca.clone();
        legacy
            .import_state(state)
            .map_err(|e| format!("cannot restore the CA records: {e}"))?;
        let mut certs = Vec::new();
        for cert in legacy.issued() {
            let der = cert
                .to_der()
                .map_err(|e| format!("encoding a saved certificate: {e}"))?;
            let issued_at = cert
                .tbs_certificate()
                .validity()
                .not_before
                .to_unix_duration()
                .as_millis();
            certs.push((
                normalize(cert.tbs_certificate().serial_number().as_bytes()),
                der,
                i64::try_from(issued_at).unwrap_or(0),
            ));
        }
        let revocations: Vec<Revocation> = legacy.revoked().cloned().collect();
        self.sql("moving the saved CA records into tables", |conn| {
            let tx = conn.transaction()?;
            for (serial, der, issued_at) in &certs {
                tx.execute(
                    "INSERT OR IGNORE INTO issued (serial, certificate, issued_at, unconfirmed)
                     VALUES (?1, ?2, ?3, 0)",
                    params![serial, der, issued_at],
                )?;
            }
            for r in &revocations {
                tx.execute(
                    "INSERT OR IGNORE INTO revoked (serial, revoked_at, reason) VALUES (?1, ?2, ?3)",
                    params![r.serial, whole_seconds(r.revoked_at), r.reason],
                )?;
            }
            tx.execute("DELETE FROM meta WHERE key = ?1", [keys::CA_STATE])?;
            tx.commit()
        })
        .map_err(|e| e.to_string())
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

/// A certificate row back from its DER.
fn certificate_of(der: &[u8]) -> Result<Certificate, RecordError> {
    Certificate::from_der(der)
        .map_err(|e| RecordError::Store(format!("corrupt certificate row: {e}")))
}

impl CaRecords for LocalRecords {
    fn issue(
        &mut self,
        ca: &mut ReferenceCa,
        req: &IssueRequest,
        now: Timestamp,
    ) -> Result<Certificate, RecordError> {
        issue_unique(ca, req, now, |serial, der, _subject| {
            // Recorded as awaiting confirmation (see `undelivered`).
            let inserted = self.sql("recording a certificate", |c| {
                c.execute(
                    "INSERT OR IGNORE INTO issued (serial, certificate, issued_at, unconfirmed)
                     VALUES (?1, ?2, ?3, 1)",
                    params![serial, der, secs(now)],
                )
            })?;
            Ok(inserted == 1)
        })
    }

    fn find(&self, _ca: &ReferenceCa, serial: &[u8]) -> Result<Option<Certificate>, RecordError> {
        let serial = normalize(serial);
        let der: Option<Vec<u8>> = self.sql("looking up a certificate", |c| {
            c.query_row(
                "SELECT certificate FROM issued WHERE serial = ?1",
                [&serial],
                |row| row.get(0),
            )
            .optional()
        })?;
        der.map(|d| certificate_of(&d)).transpose()
    }

    fn is_revoked(&self, _ca: &ReferenceCa, serial: &[u8]) -> Result<bool, RecordError> {
        let serial = normalize(serial);
        self.sql("looking up a revocation", |c| {
            c.query_row("SELECT 1 FROM revoked WHERE serial = ?1", [&serial], |_| {
                Ok(())
            })
            .optional()
            .map(|found| found.is_some())
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
        let (inserted, issued) = self.sql("recording a revocation", |c| {
            let tx = c.transaction()?;
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO revoked (serial, revoked_at, reason)
                 SELECT serial, ?2, ?3 FROM issued WHERE serial = ?1",
                params![serial, whole_seconds(now), reason],
            )?;
            // A revoked certificate no longer awaits confirmation.
            let issued = tx.execute(
                "UPDATE issued SET unconfirmed = 0 WHERE serial = ?1",
                [&serial],
            )?;
            tx.commit()?;
            Ok((inserted, issued))
        })?;
        match (inserted, issued) {
            (1, _) => Ok(()),
            (_, 0) => Err(RecordError::Ca(CaError::UnknownCertificate)),
            _ => Err(RecordError::Ca(CaError::AlreadyRevoked)),
        }
    }

    fn revoked(&self, _ca: &ReferenceCa) -> Result<Vec<Revocation>, RecordError> {
        self.sql("listing revocations", |c| {
            let mut stmt =
                c.prepare("SELECT serial, revoked_at, reason FROM revoked ORDER BY serial")?;
            let rows = stmt.query_map([], |row| {
                let at: i64 = row.get(1)?;
                let reason: Option<i64> = row.get(2)?;
                Ok(Revocation {
                    serial: row.get(0)?,
                    revoked_at: Timestamp::from_unix_secs(u64::try_from(at / 1000).unwrap_or(0)),
                    reason: reason.and_then(|r| u8::try_from(r).ok()),
                })
            })?;
            rows.collect()
        })
    }

    fn issued_count(&self, _ca: &ReferenceCa) -> Result<usize, RecordError> {
        let n: i64 = self.sql("counting certificates", |c| {
            c.query_row("SELECT count(*) FROM issued", [], |row| row.get(0))
        })?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn confirmed(&mut self, cert: &Certificate, now: Timestamp) -> Result<(), RecordError> {
        let serial = normalize(cert.tbs_certificate().serial_number().as_bytes());
        self.sql("recording a confirmation", |c| {
            c.execute(
                "UPDATE issued SET confirmed_at = ?2, unconfirmed = 0
                 WHERE serial = ?1 AND confirmed_at IS NULL",
                params![serial, secs(now)],
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
        let rows: Vec<Vec<u8>> = self.sql("looking for undelivered certificates", |c| {
            let mut stmt = c.prepare(
                "SELECT certificate FROM issued i
                 WHERE unconfirmed = 1 AND issued_at <= ?1
                 AND NOT EXISTS (SELECT 1 FROM revoked r WHERE r.serial = i.serial)
                 AND NOT EXISTS (SELECT 1 FROM transactions t
                                 WHERE instr(t.record, i.certificate) > 0)
                 ORDER BY issued_at",
            )?;
            let rows = stmt.query_map([secs(before)], |row| row.get(0))?;
            rows.collect()
        })?;
        rows.iter().map(|d| certificate_of(d)).collect()
    }

    fn save(&self, _ca: &ReferenceCa) -> Result<(), RecordError> {
        // Every change was committed as it happened.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey};
    use x509_cert::name::Name;

    use super::*;

    fn request(cn: &str) -> Result<IssueRequest, String> {
        let key = PrivateKey::generate(KeyAlgorithm::EcP256).map_err(|e| e.to_string())?;
        let subject = Name::from_str(cn).map_err(|e| e.to_string())?;
        Ok(IssueRequest::new(
            subject,
            cmp_core::crypto::SigningKey::public_key(&key),
        ))
    }

    fn serial(c: &Certificate) -> Vec<u8> {
        normalize(c.tbs_certificate().serial_number().as_bytes())
    }

    /// Rows: issue, find, revoke (once, known serials only), list, count;
    /// the CA keeps nothing in memory.
    #[test]
    fn certificates_and_revocations_are_rows() -> Result<(), String> {
        let now = Timestamp::from_unix_secs(1_760_000_000);
        let (mut ca, _) = ReferenceCa::generate_hierarchy("Rows", now, KeyAlgorithm::EcP256)
            .map_err(|e| e.to_string())?;
        let mut records = LocalRecords::new(Arc::new(Db::open(None)?));
        let s = |e: RecordError| e.to_string();
        let a = records.issue(&mut ca, &request("CN=A")?, now).map_err(s)?;
        let b = records.issue(&mut ca, &request("CN=B")?, now).map_err(s)?;
        assert_eq!(ca.issued_count(), 0);
        assert_eq!(records.issued_count(&ca).map_err(s)?, 2);
        assert_eq!(records.find(&ca, &serial(&a)).map_err(s)?, Some(a.clone()));
        assert_eq!(records.find(&ca, &[0x7f; 16]).map_err(s)?, None);

        records
            .revoke(&mut ca, &serial(&b), Some(1), now)
            .map_err(s)?;
        assert!(records.is_revoked(&ca, &serial(&b)).map_err(s)?);
        assert!(!records.is_revoked(&ca, &serial(&a)).map_err(s)?);
        assert!(matches!(
            records.revoke(&mut ca, &serial(&b), None, now),
            Err(RecordError::Ca(CaError::AlreadyRevoked))
        ));
        assert!(matches!(
            records.revoke(&mut ca, &[0x7f; 16], None, now),
            Err(RecordError::Ca(CaError::UnknownCertificate))
        ));
        assert!(matches!(
            records.revoke(&mut ca, &serial(&a), Some(7), now),
            Err(RecordError::Ca(CaError::InvalidReason(7)))
        ));
        let revoked = records.revoked(&ca).map_err(s)?;
        assert_eq!(
            revoked,
            vec![Revocation {
                serial: serial(&b),
                revoked_at: now,
                reason: Some(1)
            }]
        );
        let crl = records.crl(&ca, now).map_err(s)?;
        assert_eq!(
            crl.tbs_cert_list.revoked_certificates.map(|r| r.len()),
            Some(1)
        );

        // unconfirmed until confirmed; revoked ones are not undelivered
        let later = Timestamp::from_unix_secs(now.unix_secs() + 60);
        assert_eq!(records.undelivered(&ca, later).map_err(s)?, vec![a.clone()]);
        records.confirmed(&a, now).map_err(s)?;
        assert!(records.undelivered(&ca, later).map_err(s)?.is_empty());
        Ok(())
    }

    /// A state file of an earlier version (one export_state blob) is moved
    /// into rows once, and the blob dropped.
    #[test]
    fn records_of_an_earlier_version_move_into_rows() -> Result<(), String> {
        let now = Timestamp::from_unix_secs(1_760_000_000);
        let (ca, _) = ReferenceCa::generate_hierarchy("Legacy", now, KeyAlgorithm::EcP256)
            .map_err(|e| e.to_string())?;
        let mut old = ca.clone();
        let a = old
            .issue(&request("CN=A")?, now)
            .map_err(|e| e.to_string())?;
        let b = old
            .issue(&request("CN=B")?, now)
            .map_err(|e| e.to_string())?;
        old.revoke(&serial(&b), Some(4), now)
            .map_err(|e| e.to_string())?;
        let db = Arc::new(Db::open(None)?);
        db.put_meta(&[(keys::CA_STATE, &old.export_state())])?;

        let state = db.get_meta(keys::CA_STATE)?.ok_or("no state")?;
        let records = LocalRecords::new(Arc::clone(&db));
        records.import_legacy(&ca, &state)?;
        assert_eq!(db.get_meta(keys::CA_STATE)?, None);
        let s = |e: RecordError| e.to_string();
        assert_eq!(records.issued_count(&ca).map_err(s)?, 2);
        assert_eq!(records.find(&ca, &serial(&a)).map_err(s)?, Some(a));
        assert!(records.is_revoked(&ca, &serial(&b)).map_err(s)?);
        assert_eq!(records.revoked(&ca).map_err(s)?[0].reason, Some(4));
        // certificates from the blob are settled: never revoked as undelivered
        let later = Timestamp::from_unix_secs(now.unix_secs() + 3600);
        assert!(records.undelivered(&ca, later).map_err(s)?.is_empty());

        // a blob of another CA is refused and left in place
        let (other, _) = ReferenceCa::generate_hierarchy("Other", now, KeyAlgorithm::EcP256)
            .map_err(|e| e.to_string())?;
        db.put_meta(&[(keys::CA_STATE, &old.export_state())])?;
        assert!(records.import_legacy(&other, &state).is_err());
        assert!(db.get_meta(keys::CA_STATE)?.is_some());
        Ok(())
    }
}
