//! The reference CA policy: how `cmp serve` decides the requests the
//! responder could not answer by itself.
//!
//! * ir, cr, p10cr: issue for the requested subject and key, copying the
//!   requested subjectAltName, keyUsage and extendedKeyUsage.
//! * kur: the certificate to update must be one this CA issued and did not
//!   revoke. A signature-protected kur must be signed with it (an oldCertID
//!   control, if present, must name it); a MAC-protected kur must name it in
//!   oldCertID. Otherwise: rejection with badCertId (certRevoked when it is
//!   revoked). The new certificate has the old subject; its extensions are
//!   the requested ones, or else those of the old certificate.
//! * rr: the certificate (issuer and serialNumber) must be one this CA issued
//!   (else badCertId) and not revoked (else certRevoked). A signature-protected
//!   rr must be signed by that certificate or by an RA (id-kp-cmcRA), else
//!   notAuthorized; MAC clients may revoke any. The reason comes from the
//!   reasonCode in crlEntryDetails.
//! * ccr: certify the requesting CA's key as a CA (basicConstraints cA,
//!   pathLenConstraint 0): a cross-certificate, answered with ccp. The
//!   subject must not be empty. (The demo hierarchy's issuing CA has
//!   pathLenConstraint 0 itself, so paths through its cross-certificates to
//!   the partner's end entities are too long; serve a root, or a CA without
//!   that constraint, with `--ca-cert` for usable cross-certification.)
//! * genm: see [`Policy::general_message`].
//! * `--poll N`: certificate requests are answered "waiting" (checkAfter 1 s)
//!   until the client has polled N times.

use cmp_core::asn1::{
    AttributeTypeAndValue, CertReqTemplateContent, CertTemplate, CrlStatus, FailureBit,
    InfoTypeAndValue, InfoValue, PkiStatusInfo, RootCaKeyUpdateContent, oid,
};
use cmp_core::client::EnrollKind;
use cmp_core::keygen::KeyGenAuthority;
use cmp_core::server::{PendingRequest, Reply, RequestKind};
use cmp_core::verify::Authenticated;
use cmp_core::{Error, Timestamp};
use cmp_crypto_rustcrypto::envelope::key_type_identifier;
use cmp_crypto_rustcrypto::{CaError, IssueRequest, KeyAlgorithm, ReferenceCa};
use der::Decode;
use der::asn1::{Any, ObjectIdentifier};
use der::oid::AssociatedOid as _;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, SubjectAltName};

use super::archive::StoredArchive;
use super::hex;
use super::records::{CaRecords, RecordError};

/// id-ce-cRLReasons.
const CRL_REASONS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
/// How long a CRL we hand out is meant to be used (the CA's nextUpdate).
const CRL_VALIDITY_SECS: u64 = 86_400;

/// What became of a request, for the transaction log.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outcome {
    /// Human-readable summary.
    pub(crate) text: String,
    /// Whether the transaction ends with this reply.
    pub(crate) finished: bool,
}

/// The CA and how it decides.
#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) ca: ReferenceCa,
    /// Where the CA's issued and revoked certificates are recorded.
    records: Box<dyn CaRecords>,
    poll: u32,
    /// What the decisions since the caller last emptied it did (several
    /// for a `nested` request).
    pub(crate) outcomes: Vec<Outcome>,
    /// A root CA key update to offer in answer to genm rootCaKeyUpdate.
    pub(crate) root_update: Option<RootCaKeyUpdateContent>,
    /// Archived keys (the requester's, centrally generated ones), for key
    /// recovery: sealed in the store, shared by every instance.
    archive: StoredArchive,
}

fn rejection(bit: FailureBit, text: &str) -> PkiStatusInfo {
    PkiStatusInfo::rejection(bit, text)
}

/// The normalized serial number of `cert` (no leading zero bytes).
fn serial_of(cert: &Certificate) -> Vec<u8> {
    normalize(cert.tbs_certificate().serial_number().as_bytes())
}

/// `serial` without leading zero bytes.
pub(crate) fn normalize(serial: &[u8]) -> Vec<u8> {
    let start = serial
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(serial.len().saturating_sub(1));
    serial.get(start..).unwrap_or_default().to_vec()
}

/// Whether `cert` carries extendedKeyUsage id-kp-cmcRA.
fn is_ra(cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate().get_extension::<ExtendedKeyUsage>(),
        Ok(Some((_, eku))) if eku.0.contains(&oid::KP_CMC_RA)
    )
}

impl Policy {
    pub(crate) fn new(
        ca: ReferenceCa,
        records: Box<dyn CaRecords>,
        archive: StoredArchive,
        poll: u32,
    ) -> Self {
        Self {
            ca,
            records,
            poll,
            outcomes: Vec::new(),
            root_update: None,
            archive,
        }
    }

    /// Save the CA's records.
    pub(crate) fn save(&self) -> Result<(), String> {
        self.records.save(&self.ca).map_err(|e| e.to_string())
    }

    /// Note that the client confirmed `cert`; a failure is logged.
    pub(crate) fn confirmed(&mut self, cert: &Certificate, now: Timestamp) {
        if let Err(e) = self.records.confirmed(cert, now) {
            eprintln!("cmp serve: cannot record the confirmation: {e}");
        }
    }

    /// The certificate issued with `serial`; a database failure is logged
    /// and becomes systemFailure.
    fn find(&self, serial: &[u8]) -> Result<Option<Certificate>, (FailureBit, &'static str)> {
        self.records
            .find(&self.ca, serial)
            .map_err(|e| system_failure(&e))
    }

    /// Whether `serial` is revoked; a database failure is logged and
    /// becomes systemFailure.
    fn is_revoked(&self, serial: &[u8]) -> Result<bool, (FailureBit, &'static str)> {
        self.records
            .is_revoked(&self.ca, serial)
            .map_err(|e| system_failure(&e))
    }

    /// Whether `cert` is exactly a certificate this CA issued and recorded.
    fn is_issued_by_us(&self, cert: &Certificate) -> Result<bool, (FailureBit, &'static str)> {
        if cert.tbs_certificate().issuer() != self.ca.name() {
            return Ok(false);
        }
        Ok(self.find(&serial_of(cert))?.as_ref() == Some(cert))
    }

    fn note(&mut self, text: impl Into<String>, finished: bool) {
        self.outcomes.push(Outcome {
            text: text.into(),
            finished,
        });
    }

    /// Revoke `cert` (after a rejected or missing certConf). Returns what
    /// happened, for the log.
    pub(crate) fn revoke_unconfirmed(&mut self, cert: &Certificate, now: Timestamp) -> String {
        let serial = serial_of(cert);
        match self.records.revoke(&mut self.ca, &serial, None, now) {
            Ok(()) => format!("certificate {} revoked", hex(&serial)),
            Err(RecordError::Ca(CaError::AlreadyRevoked)) => {
                format!("certificate {} already revoked", hex(&serial))
            }
            Err(e) => format!("cannot revoke certificate {}: {e}", hex(&serial)),
        }
    }

    /// Revoke the certificates issued before `before` that were never
    /// delivered (see [`CaRecords::undelivered`]); what happened, for the
    /// log.
    pub(crate) fn withdraw_undelivered(
        &mut self,
        before: Timestamp,
        now: Timestamp,
    ) -> Vec<String> {
        let found = match self.records.undelivered(&self.ca, before) {
            Ok(f) => f,
            Err(e) => return vec![format!("cannot look for undelivered certificates: {e}")],
        };
        found
            .iter()
            .map(|cert| {
                format!(
                    "a certificate for \"{}\" was issued but never delivered: {}",
                    cert.tbs_certificate().subject(),
                    self.revoke_unconfirmed(cert, now)
                )
            })
            .collect()
    }

    /// Decide `p`. Failures to build a reply become a reply without bytes
    /// but with the error, which the responder answers with an error message.
    pub(crate) fn decide(&mut self, p: PendingRequest, now: Timestamp) -> Reply {
        let transaction_id = p.transaction_id().to_vec();
        let result = match p.kind() {
            // A KEM-based MAC keyed by a ciphertext to our own KEM key
            // authenticates us to the requester, not the requester to us.
            _ if matches!(p.requester(), Authenticated::Kem { certificate: None }) => self.reject(
                p,
                FailureBit::NotAuthorized,
                "a KEM-based MAC from a ciphertext to our KEM key does not authenticate the \
                 requester: protect the request with a MAC secret or a signature",
                now,
            ),
            RequestKind::Enroll(_) | RequestKind::P10cr if p.polls() < self.poll => {
                let next = p.polls().saturating_add(1);
                self.note(format!("asked to poll ({next} of {})", self.poll), false);
                p.wait(1, now)
            }
            RequestKind::Enroll(EnrollKind::Kur) => self.key_update(p, now),
            RequestKind::Enroll(EnrollKind::Ccr) => self.cross_certify(p, now),
            RequestKind::Enroll(_) | RequestKind::P10cr => self.enroll(p, now),
            RequestKind::Revoke => self.revoke(p, now),
            RequestKind::Genm => self.general_message(p, now),
            RequestKind::KeyRecovery => self.key_recovery(p, now),
        };
        result.unwrap_or_else(|e| {
            self.note(format!("failed: {e}"), true);
            Reply {
                bytes: Vec::new(),
                body: cmp_core::asn1::BodyType::Error,
                transaction_id,
                error: Some(e),
                event: None,
                inner: Vec::new(),
            }
        })
    }

    fn reject(
        &mut self,
        p: PendingRequest,
        bit: FailureBit,
        text: &str,
        now: Timestamp,
    ) -> cmp_core::Result<Reply> {
        self.note(format!("rejected ({}): {text}", bit.name()), true);
        p.reject(rejection(bit, text), now)
    }

    fn cross_certify(&mut self, p: PendingRequest, now: Timestamp) -> cmp_core::Result<Reply> {
        let (Some(subject), Some(public_key)) = (p.subject().cloned(), p.public_key().cloned())
        else {
            return self.reject(
                p,
                FailureBit::BadCertTemplate,
                "ccr needs the requesting CA's subject and public key",
                now,
            );
        };
        match self
            .ca
            .issue_ca_certificate(subject, public_key, Some(0), now)
        {
            Ok(cert) => {
                self.note(
                    format!(
                        "cross-certified \"{}\" ({})",
                        cert.tbs_certificate().subject(),
                        hex(&serial_of(&cert))
                    ),
                    false,
                );
                p.issue(cert, None, now)
            }
            Err(CaError::BadTemplate(why)) => self.reject(p, FailureBit::BadCertTemplate, why, now),
            Err(e) => self.reject(p, FailureBit::SystemFailure, &e.to_string(), now),
        }
    }

    fn enroll(&mut self, p: PendingRequest, now: Timestamp) -> cmp_core::Result<Reply> {
        if p.central_keygen_requested() {
            return self.enroll_central(p, now);
        }
        let Some(public_key) = p.public_key().cloned() else {
            return self.reject(p, FailureBit::BadCertTemplate, "public key missing", now);
        };
        match issue_request(&p, public_key) {
            Ok(request) => self.issue(p, &request, now),
            Err(why) => self.reject(p, FailureBit::BadCertTemplate, why, now),
        }
    }

    fn issue(
        &mut self,
        p: PendingRequest,
        request: &IssueRequest,
        now: Timestamp,
    ) -> cmp_core::Result<Reply> {
        let archived = match self.ca.archived_key(&p) {
            Ok(key) => key,
            Err(e) => return self.reject(p, e.failure_bit(), &e.to_string(), now),
        };
        match self.records.issue(&mut self.ca, request, now) {
            Ok(cert) => {
                if let Some(key) = archived {
                    match self.archive.archive(&cert, key.as_bytes(), now) {
                        Ok(()) => self.note("the requester's key archived", false),
                        Err(e) => self.note(format!("cannot archive the key: {e}"), false),
                    }
                }
                let implicit = p.implicit_confirm_requested();
                let reply = match p.issue(cert.clone(), None, now) {
                    Ok(r) => r,
                    Err(e) => {
                        // Issued but never delivered (e.g. another instance
                        // moved the transaction on): withdraw it.
                        let what = self.revoke_unconfirmed(&cert, now);
                        self.note(format!("not delivered: {e}; {what}"), true);
                        return Err(e);
                    }
                };
                let granted = reply.event.is_some();
                if granted {
                    self.confirmed(&cert, now);
                }
                self.note(
                    format!(
                        "issued {} to \"{}\"{}",
                        hex(&serial_of(&cert)),
                        cert.tbs_certificate().subject(),
                        match (implicit, granted) {
                            (_, true) => ", implicitly confirmed",
                            (true, false) => ", implicit confirmation not granted",
                            _ => "",
                        }
                    ),
                    granted,
                );
                Ok(reply)
            }
            Err(RecordError::Ca(CaError::BadTemplate(why))) => {
                self.reject(p, FailureBit::BadCertTemplate, why, now)
            }
            Err(e) => self.reject(p, FailureBit::SystemFailure, &e.to_string(), now),
        }
    }

    /// The certificate a kur updates, or why it is refused.
    fn certificate_to_update(
        &self,
        p: &PendingRequest,
        now: Timestamp,
    ) -> Result<Certificate, (FailureBit, &'static str)> {
        let old_id = p
            .old_cert_id()
            .map_err(|_| (FailureBit::BadDataFormat, "malformed oldCertID control"))?;
        let old = match (p.signer_certificate(), old_id) {
            (Some(signer), id) => {
                if !self.is_issued_by_us(signer)? {
                    return Err((
                        FailureBit::BadCertId,
                        "kur must be signed with a certificate this CA issued",
                    ));
                }
                if let Some(id) = id {
                    let names_signer = matches!(&id.issuer,
                        GeneralName::DirectoryName(n) if n == signer.tbs_certificate().issuer())
                        && normalize(id.serial_number.as_bytes()) == serial_of(signer);
                    if !names_signer {
                        return Err((
                            FailureBit::BadCertId,
                            "oldCertID does not name the certificate that signed the kur",
                        ));
                    }
                }
                signer.clone()
            }
            (None, Some(id)) => {
                let ours =
                    matches!(&id.issuer, GeneralName::DirectoryName(n) if n == self.ca.name());
                match self.find(id.serial_number.as_bytes())? {
                    Some(cert) if ours => cert,
                    _ => {
                        return Err((
                            FailureBit::BadCertId,
                            "oldCertID names no certificate issued by this CA",
                        ));
                    }
                }
            }
            (None, None) => {
                return Err((
                    FailureBit::BadCertId,
                    "kur needs signature protection with the certificate to update, or an oldCertID",
                ));
            }
        };
        if self.is_revoked(&serial_of(&old))? {
            return Err((
                FailureBit::CertRevoked,
                "the certificate to update is revoked",
            ));
        }
        let not_after = old
            .tbs_certificate()
            .validity()
            .not_after
            .to_unix_duration()
            .as_secs();
        if now.unix_secs() > not_after {
            return Err((
                FailureBit::BadCertId,
                "the certificate to update has expired",
            ));
        }
        Ok(old)
    }

    fn key_update(&mut self, p: PendingRequest, now: Timestamp) -> cmp_core::Result<Reply> {
        let old = match self.certificate_to_update(&p, now) {
            Ok(c) => c,
            Err((bit, why)) => return self.reject(p, bit, why, now),
        };
        let Some(public_key) = p.public_key().cloned() else {
            return self.reject(p, FailureBit::BadCertTemplate, "public key missing", now);
        };
        let mut request = match issue_request(&p, public_key) {
            Ok(r) => r,
            Err(why) => return self.reject(p, FailureBit::BadCertTemplate, why, now),
        };
        request.subject = old.tbs_certificate().subject().clone();
        if request.extensions.is_empty() {
            request.extensions = copied_extensions(&old);
        }
        self.issue(p, &request, now)
    }

    fn revoke(&mut self, p: PendingRequest, now: Timestamp) -> cmp_core::Result<Reply> {
        let Some(details) = p.revocation().cloned() else {
            return self.reject(p, FailureBit::BadRequest, "no revocation details", now);
        };
        let template = &details.cert_details;
        let (Some(issuer), Some(serial)) = (&template.issuer, &template.serial_number) else {
            return self.reject(
                p,
                FailureBit::BadCertTemplate,
                "revocation needs issuer and serialNumber",
                now,
            );
        };
        let serial = normalize(serial.as_bytes());
        let found = match self.find(&serial) {
            Ok(f) => f,
            Err((bit, why)) => return self.reject(p, bit, why, now),
        };
        let cert = match found {
            Some(c) if issuer == self.ca.name() => c,
            _ => {
                return self.reject(
                    p,
                    FailureBit::BadCertId,
                    "no certificate with this issuer and serial number was issued here",
                    now,
                );
            }
        };
        if let Authenticated::Signature { signer, .. } = p.requester()
            && *signer != cert
            && !is_ra(signer)
        {
            return self.reject(
                p,
                FailureBit::NotAuthorized,
                "rr must be signed by the certificate to revoke or by an RA",
                now,
            );
        }
        let revoked = match self.is_revoked(&serial) {
            Ok(r) => r,
            Err((bit, why)) => return self.reject(p, bit, why, now),
        };
        if revoked {
            return self.reject(p, FailureBit::CertRevoked, "already revoked", now);
        }
        let reason = match requested_reason(details.crl_entry_details.as_deref()) {
            Ok(r) => r,
            Err(why) => return self.reject(p, FailureBit::BadDataFormat, why, now),
        };
        match self.records.revoke(&mut self.ca, &serial, reason, now) {
            Ok(()) => {}
            Err(RecordError::Ca(CaError::InvalidReason(_))) => {
                return self.reject(p, FailureBit::BadRequest, "invalid revocation reason", now);
            }
            Err(RecordError::Ca(CaError::AlreadyRevoked)) => {
                return self.reject(p, FailureBit::CertRevoked, "already revoked", now);
            }
            Err(e) => return self.reject(p, FailureBit::SystemFailure, &e.to_string(), now),
        }
        self.note(
            format!(
                "revoked {}{}",
                hex(&serial),
                reason.map(|r| format!(" (reason {r})")).unwrap_or_default()
            ),
            true,
        );
        p.revoke(now)
    }

    /// The CA as key generation authority.
    fn kga(&self) -> KeyGenAuthority {
        KeyGenAuthority::new(
            std::sync::Arc::new(self.ca.signing_key().clone()),
            self.ca.certificate().clone(),
        )
    }

    /// Central key generation (ir/cr without a key): a key of the requested
    /// type (default EC P-256), certified, signed by the CA, encrypted for
    /// the requester, and archived for key recovery.
    fn enroll_central(&mut self, p: PendingRequest, now: Timestamp) -> cmp_core::Result<Reply> {
        let (key, public_key) = match p.generate_key(&key_type_identifier(KeyAlgorithm::EcP256)) {
            Ok(k) => k,
            Err(e) => return self.reject(p, FailureBit::BadAlg, &e.to_string(), now),
        };
        let request = match issue_request(&p, public_key) {
            Ok(r) => r,
            Err(why) => return self.reject(p, FailureBit::BadCertTemplate, why, now),
        };
        let cert = match self.records.issue(&mut self.ca, &request, now) {
            Ok(cert) => cert,
            Err(RecordError::Ca(CaError::BadTemplate(why))) => {
                return self.reject(p, FailureBit::BadCertTemplate, why, now);
            }
            Err(e) => return self.reject(p, FailureBit::SystemFailure, &e.to_string(), now),
        };
        let kga = self.kga();
        let reply = match p.issue_with_key(cert.clone(), key.as_bytes(), &kga, None, now) {
            Ok(r) => r,
            Err(e) => {
                let what = self.revoke_unconfirmed(&cert, now);
                self.note(format!("not delivered: {e}; {what}"), true);
                return Err(e);
            }
        };
        if let Err(e) = self.archive.archive(&cert, key.as_bytes(), now) {
            self.note(format!("cannot archive the generated key: {e}"), false);
        }
        let granted = reply.event.is_some();
        if granted {
            self.confirmed(&cert, now);
        }
        self.note(
            format!(
                "issued {} to \"{}\" with a centrally generated key",
                hex(&serial_of(&cert)),
                cert.tbs_certificate().subject()
            ),
            granted,
        );
        Ok(reply)
    }

    /// krr: the archived keys of the requested subject. A signer may
    /// recover only its own subject's keys; a MAC sender (the shared secret
    /// is the authorisation, as for ir) any subject's. A new key in the
    /// request gets a new signing certificate.
    fn key_recovery(&mut self, p: PendingRequest, now: Timestamp) -> cmp_core::Result<Reply> {
        let Some(subject) = p.subject().cloned() else {
            return self.reject(p, FailureBit::BadCertTemplate, "krr names no subject", now);
        };
        if let Some(signer) = p.signer_certificate()
            && signer.tbs_certificate().subject() != &subject
        {
            return self.reject(
                p,
                FailureBit::NotAuthorized,
                "a signer may recover only its own keys",
                now,
            );
        }
        let archive = match self.archive.keys_of(&subject) {
            Ok((archive, problems)) => {
                for problem in problems {
                    eprintln!("cmp serve: key archive: {problem}");
                }
                archive
            }
            Err(e) => {
                eprintln!("cmp serve: key archive: {e}");
                return self.reject(
                    p,
                    FailureBit::SystemFailure,
                    "the key archive is unavailable",
                    now,
                );
            }
        };
        let history: Vec<(Certificate, &[u8])> = archive
            .keys_of(&subject)
            .into_iter()
            .map(|k| (k.cert.clone(), k.private_key.as_slice()))
            .collect();
        if history.is_empty() {
            return self.reject(p, FailureBit::BadCertId, "no archived keys", now);
        }
        let new_sig_cert = match p.public_key().cloned() {
            Some(public_key) => {
                let request = IssueRequest::new(subject.clone(), public_key);
                match self.records.issue(&mut self.ca, &request, now) {
                    Ok(cert) => Some(cert),
                    Err(e) => {
                        return self.reject(p, FailureBit::BadCertTemplate, &e.to_string(), now);
                    }
                }
            }
            None => None,
        };
        let keys = history;
        let kga = self.kga();
        let chain = self.ca.chain().to_vec();
        let reply = match p.recover_keys(&keys, new_sig_cert.clone(), chain, &kga, now) {
            Ok(r) => r,
            Err(e) => {
                let what = match &new_sig_cert {
                    Some(cert) => format!("; {}", self.revoke_unconfirmed(cert, now)),
                    None => String::new(),
                };
                self.note(format!("not delivered: {e}{what}"), true);
                return Err(e);
            }
        };
        // krp has no certConf: the new signing certificate is delivered.
        if let Some(cert) = &new_sig_cert {
            self.confirmed(cert, now);
        }
        self.note(
            format!(
                "recovered {} key{} of \"{subject}\"",
                keys.len(),
                if keys.len() == 1 { "" } else { "s" }
            ),
            true,
        );
        Ok(reply)
    }

    /// Answer a genm (RFC 9483 section 4.3, RFC 9810 section 5.3.19):
    ///
    /// * caCerts: the issuing CA certificate and the chain up to the root;
    /// * rootCaKeyUpdate (with or without rootCaCert), or rootCaCert alone
    ///   (RFC 9483 section 4.3.2): the update given with `--root-update`,
    ///   unless the client already names its new root as the one it has;
    ///   else no update, a rootCaKeyUpdate itav without a value;
    /// * certReqTemplate: a template with an empty subject and, in keySpec,
    ///   id-regCtrl-algId for an EC P-256 key;
    /// * crlStatusList: id-it-crls with the current CRL, or without a value
    ///   when the client's CRL (its thisUpdate) is still current;
    ///   currentCRL (RFC 4210): the current CRL;
    /// * an empty genm means "send what you think useful" (RFC 9810): the
    ///   caCerts answer;
    /// * OIDs we do not support are ignored, as RFC 9810 allows, and listed in
    ///   an id-it-unsupportedOIDs itav;
    /// * a value where a request must have none (caCerts, rootCaKeyUpdate,
    ///   certReqTemplate, currentCRL) or a malformed crlStatusList: an error
    ///   message with badRequest.
    fn general_message(&mut self, p: PendingRequest, now: Timestamp) -> cmp_core::Result<Reply> {
        let asked = p.general_message().to_vec();
        let mut answer = Vec::new();
        let mut names = Vec::new();
        let mut unsupported = Vec::new();
        let wants_root_update = asked
            .iter()
            .any(|i| i.info_type == oid::IT_ROOT_CA_KEY_UPDATE);
        let client_root = asked.iter().find_map(|i| match InfoValue::from_itav(i) {
            Ok(Some(InfoValue::RootCaCert(c))) => c,
            _ => None,
        });
        let root_update = self
            .root_update
            .clone()
            .filter(|u| client_root.as_ref() != Some(&u.new_with_new));
        for itav in &asked {
            let name = cmp_core::message::oid_name(&itav.info_type)
                .map(String::from)
                .unwrap_or_else(|| itav.info_type.to_string());
            let no_value_expected = [
                oid::IT_CA_CERTS,
                oid::IT_ROOT_CA_KEY_UPDATE,
                oid::IT_CERT_REQ_TEMPLATE,
                oid::IT_CURRENT_CRL,
            ];
            if no_value_expected.contains(&itav.info_type) && itav.info_value.is_some() {
                let text = format!("{name}: a request carries no value");
                return self.reject(p, FailureBit::BadRequest, &text, now);
            }
            let item = match itav.info_type {
                oid::IT_CA_CERTS => Some(self.ca_certs()?),
                oid::IT_ROOT_CA_KEY_UPDATE => {
                    Some(itav_of(&InfoValue::RootCaKeyUpdate(root_update.clone()))?)
                }
                // the old root accompanying rootCaKeyUpdate: no answer of its own
                oid::IT_ROOT_CA_CERT if wants_root_update => None,
                // RFC 9483 section 4.3.2 asks with rootCaCert alone: answered by
                // rootCaKeyUpdate, without a value as long as the root is not renewed
                oid::IT_ROOT_CA_CERT => {
                    Some(itav_of(&InfoValue::RootCaKeyUpdate(root_update.clone()))?)
                }
                oid::IT_CERT_REQ_TEMPLATE => Some(cert_req_template()?),
                oid::IT_CRL_STATUS_LIST => match InfoValue::from_itav(itav) {
                    Ok(Some(InfoValue::CrlStatusList(list))) => Some(self.crls(&list, now)?),
                    _ => {
                        return self.reject(
                            p,
                            FailureBit::BadRequest,
                            "malformed crlStatusList",
                            now,
                        );
                    }
                },
                oid::IT_CURRENT_CRL => Some(self.current_crl(now)?),
                _ => {
                    unsupported.push(itav.info_type);
                    None
                }
            };
            if let Some(item) = item {
                names.push(name);
                answer.push(item);
            }
        }
        if asked.is_empty() {
            names.push(String::from("caCerts"));
            answer.push(self.ca_certs()?);
        }
        if !unsupported.is_empty() {
            names.push(format!(
                "unsupportedOIDs [{}]",
                unsupported
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            answer.push(InfoTypeAndValue {
                info_type: oid::IT_UNSUPPORTED_OIDS,
                info_value: Some(Any::encode_from(&unsupported).map_err(Error::Encode)?),
            });
        }
        self.note(format!("genp: {}", names.join(", ")), true);
        p.respond_genp(answer, now)
    }

    fn ca_certs(&self) -> cmp_core::Result<InfoTypeAndValue> {
        itav_of(&InfoValue::CaCerts(Some(self.ca.chain().to_vec())))
    }

    fn crl(&self, now: Timestamp) -> cmp_core::Result<x509_cert::crl::CertificateList> {
        self.records
            .crl(&self.ca, now)
            .map_err(|e| Error::Store(format!("cannot sign a CRL: {e}")))
    }

    fn crls(&self, have: &[CrlStatus], now: Timestamp) -> cmp_core::Result<InfoTypeAndValue> {
        // The client's CRL is current when it was issued after the last
        // revocation and is still within its validity.
        let last_revocation = self
            .records
            .last_revocation(&self.ca)
            .map_err(|e| Error::Store(e.to_string()))?;
        let fresh_after = last_revocation
            .unix_secs()
            .max(now.unix_secs().saturating_sub(CRL_VALIDITY_SECS));
        let current = !have.is_empty()
            && have.iter().all(|s| {
                s.this_update
                    .is_some_and(|t| t.to_unix_duration().as_secs() >= fresh_after)
            });
        if current {
            itav_of(&InfoValue::Crls(None))
        } else {
            itav_of(&InfoValue::Crls(Some(vec![self.crl(now)?])))
        }
    }

    fn current_crl(&self, now: Timestamp) -> cmp_core::Result<InfoTypeAndValue> {
        Ok(InfoTypeAndValue {
            info_type: oid::IT_CURRENT_CRL,
            info_value: Some(Any::encode_from(&self.crl(now)?).map_err(Error::Encode)?),
        })
    }
}

/// Log a records failure; the client sees systemFailure.
fn system_failure(e: &RecordError) -> (FailureBit, &'static str) {
    eprintln!("cmp serve: CA records: {e}");
    (FailureBit::SystemFailure, "the CA records are unavailable")
}

fn itav_of(value: &InfoValue) -> cmp_core::Result<InfoTypeAndValue> {
    value.to_itav().map_err(Error::Encode)
}

/// The certReqTemplate answer: an empty subject to fill in, and an EC P-256 key.
fn cert_req_template() -> cmp_core::Result<InfoTypeAndValue> {
    let p256 = AlgorithmIdentifierOwned {
        oid: oid::EC_PUBLIC_KEY,
        parameters: Some(Any::encode_from(&oid::SECP256R1).map_err(Error::Encode)?),
    };
    let content = CertReqTemplateContent {
        cert_template: CertTemplate {
            subject: Some(x509_cert::name::Name::default()),
            ..CertTemplate::default()
        },
        key_spec: Some(vec![AttributeTypeAndValue {
            oid: oid::REG_CTRL_ALG_ID,
            value: Any::encode_from(&p256).map_err(Error::Encode)?,
        }]),
    };
    itav_of(&InfoValue::CertReqTemplate(Some(content)))
}

/// What to certify for `public_key`: the requested subject and
/// extensions of `p`; malformed requested extensions are a reason to refuse
/// (badCertTemplate).
fn issue_request(
    p: &PendingRequest,
    public_key: spki::SubjectPublicKeyInfoOwned,
) -> Result<IssueRequest, &'static str> {
    let extensions = p
        .extensions()
        .map_err(|_| "malformed requested extensions")?;
    Ok(IssueRequest {
        subject: p.subject().cloned().unwrap_or_default(),
        public_key,
        extensions,
        validity_secs: None,
    })
}

/// subjectAltName, keyUsage and extendedKeyUsage of `cert`, to carry over in a kur.
fn copied_extensions(cert: &Certificate) -> Vec<Extension> {
    let wanted = [SubjectAltName::OID, KeyUsage::OID, ExtendedKeyUsage::OID];
    cert.tbs_certificate()
        .extensions()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|e| wanted.contains(&e.extn_id))
        .cloned()
        .collect()
}

/// The reasonCode of rr's crlEntryDetails (`None` if absent).
fn requested_reason(details: Option<&[Extension]>) -> Result<Option<u8>, &'static str> {
    let Some(ext) = details
        .unwrap_or_default()
        .iter()
        .find(|e| e.extn_id == CRL_REASONS)
    else {
        return Ok(None);
    };
    let reason = CrlReason::from_der(ext.extn_value.as_bytes())
        .map_err(|_| "malformed reasonCode in crlEntryDetails")?;
    u8::try_from(reason as u32)
        .map(Some)
        .map_err(|_| "reasonCode out of range")
}
