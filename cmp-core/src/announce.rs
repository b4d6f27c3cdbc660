//! CA-initiated announcements (RFC 9810 sections 5.3.13 to 5.3.16), sans-IO.
//!
//! A CA pushes four kinds of unsolicited messages to its end entities:
//! `ckuann` (its root key changed: newWithNew, newWithOld, oldWithNew),
//! `cann` (a certificate was issued), `rann` (a certificate is or will be
//! revoked) and `crlann` (new CRLs). No answer is expected.
//!
//! - [`AnnouncementBuilder`] is the CA side: it wraps the content into a
//!   protected PKIMessage (DER bytes, to deliver by any transport).
//! - [`AnnouncementValidator`] is the end-entity side: it checks the
//!   message's protection and its signer's chain against the trust store,
//!   then the content itself (for `ckuann` the three links between the old
//!   and the new root key), and returns an [`Announcement`] for the
//!   application to act on: install a new trust anchor, schedule a
//!   re-enrollment, stop using a certificate, replace a CRL. Each failed
//!   check is its own [`AnnounceError`] variant.
//!
//! [`validate_root_key_update`] checks a `RootCaKeyUpdateContent` on its
//! own, so the answer to a genm rootCaKeyUpdate (RFC 9483 section 4.3.2)
//! gets the same checks.
//!
//! # Example: a root CA key roll-over
//!
//! ```
//! use std::sync::Arc;
//! use cmp_core::announce::{Announcement, AnnouncementBuilder, AnnouncementValidator};
//! use cmp_core::asn1::RootCaKeyUpdateContent;
//! use cmp_core::protection::Protector;
//! use cmp_core::trust::TrustStore;
//! use cmp_core::Timestamp;
//! use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = Timestamp::now();
//! let provider = Arc::new(RustCryptoProvider);
//! let root = ReferenceCa::generate_root("Example Root", now, KeyAlgorithm::EcP256)?;
//!
//! // CA side: a new root key, the three certificates, a signed ckuann.
//! let update = root.root_key_update(PrivateKey::generate(KeyAlgorithm::EcP256)?, now)?;
//! let signer = Protector::Signature {
//!     key: Arc::new(root.signing_key().clone()),
//!     cert: root.certificate().clone(),
//!     chain: Vec::new(),
//! };
//! let bytes = AnnouncementBuilder::new(provider.clone(), signer).root_key_update(
//!     RootCaKeyUpdateContent {
//!         new_with_new: update.new_with_new.clone(),
//!         new_with_old: Some(update.new_with_old.clone()),
//!         old_with_new: Some(update.old_with_new.clone()),
//!     },
//!     now,
//! )?;
//!
//! // End-entity side: trusting the old root, it learns the new one.
//! let mut trust = TrustStore::new(vec![root.certificate().clone()]);
//! let validator = AnnouncementValidator::new(provider, trust.clone());
//! match validator.validate(&bytes, now)? {
//!     Announcement::RootKeyUpdate(u) => trust.add_anchor(u.new_root),
//!     other => panic!("unexpected {other:?}"),
//! }
//! assert!(trust.is_anchor(&update.new_with_new));
//! # Ok(())
//! # }
//! ```

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use der::Encode;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsages};
use x509_cert::name::Name;

use crate::alg;
use crate::asn1::cmp::pvno;
use crate::asn1::{
    BodyType, CaKeyUpdAnnContent, CaKeyUpdContent, CertId, PkiBody, PkiStatus, RevAnnContent,
    RootCaKeyUpdateContent,
};
use crate::crypto::CryptoProvider;
use crate::error::Error;
use crate::limits::Limits;
use crate::message::{HeaderBuilder, ParsedMessage};
use crate::protection::Protector;
use crate::time::Timestamp;
use crate::trust::{self, TrustStore, ValidationOptions, validate_chain};
use crate::verify::{self, Authenticated, ProtectionPolicy};

/// Why an announcement was not accepted. Every check has its own variant,
/// with a stable [`code`](Self::code) and [`name`](Self::name) (table in
/// `docs/errors.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnnounceError {
    /// The message itself failed: decoding, limits, header, protection or
    /// the signer's chain (the inner [`Error`] says which).
    Message(Box<Error>),
    /// The body is not ckuann, cann, rann or crlann.
    NotAnAnnouncement {
        /// The body received.
        got: &'static str,
    },
    /// ckuann without newWithOld: nothing links the new root to the old one.
    MissingNewWithOld,
    /// newWithOld names an issuer that is none of our trust anchors.
    UnknownOldRoot,
    /// newWithOld does not verify with the old root's public key.
    NewWithOldSignature,
    /// newWithOld certifies another key than newWithNew.
    NewWithOldKeyMismatch,
    /// newWithNew is not self-signed (issuer differs from subject, or its
    /// signature does not verify with its own key).
    NewWithNewNotSelfSigned,
    /// newWithNew is not a CA certificate (basicConstraints cA missing).
    NewRootNotCa,
    /// newWithNew is not valid now (expired, not yet valid, bad extensions).
    NewRootNotValid(&'static str),
    /// The new root has the old root's public key.
    KeyNotChanged,
    /// The three certificates do not all carry the old root's name.
    NameMismatch,
    /// oldWithNew does not verify with the new root's public key.
    OldWithNewSignature,
    /// oldWithNew certifies another key than the old root's.
    OldWithNewKeyMismatch,
    /// cann: the announced certificate does not validate to a trust anchor
    /// (the inner error says why).
    CertificateNotTrusted(Box<Error>),
    /// rann: the status is neither revocationWarning nor revocationNotification.
    BadRevocationStatus(PkiStatus),
    /// crlann without any CRL.
    EmptyCrlAnnouncement,
    /// crlann: no trusted CA certificate is named as the CRL's issuer.
    CrlIssuerUnknown,
    /// crlann: the CRL's signature does not verify with its issuer's key.
    CrlSignature,
}

impl AnnounceError {
    /// Every variant once (example payloads), for tables and bindings.
    pub fn catalogue() -> Vec<AnnounceError> {
        alloc::vec![
            Self::Message(Box::new(Error::BadMessageCheck)),
            Self::NotAnAnnouncement { got: "x" },
            Self::MissingNewWithOld,
            Self::UnknownOldRoot,
            Self::NewWithOldSignature,
            Self::NewWithOldKeyMismatch,
            Self::NewWithNewNotSelfSigned,
            Self::NewRootNotCa,
            Self::NewRootNotValid("x"),
            Self::KeyNotChanged,
            Self::NameMismatch,
            Self::OldWithNewSignature,
            Self::OldWithNewKeyMismatch,
            Self::CertificateNotTrusted(Box::new(Error::SignerNotTrusted("x"))),
            Self::BadRevocationStatus(PkiStatus::Accepted),
            Self::EmptyCrlAnnouncement,
            Self::CrlIssuerUnknown,
            Self::CrlSignature,
        ]
    }

    /// Stable numeric code; [`Self::Message`] has the inner error's code.
    pub fn code(&self) -> u16 {
        match self {
            Self::Message(e) => e.code(),
            Self::NotAnAnnouncement { .. } => 600,
            Self::MissingNewWithOld => 601,
            Self::UnknownOldRoot => 602,
            Self::NewWithOldSignature => 603,
            Self::NewWithOldKeyMismatch => 604,
            Self::NewWithNewNotSelfSigned => 605,
            Self::NewRootNotCa => 606,
            Self::NewRootNotValid(_) => 607,
            Self::KeyNotChanged => 608,
            Self::NameMismatch => 609,
            Self::OldWithNewSignature => 610,
            Self::OldWithNewKeyMismatch => 611,
            Self::CertificateNotTrusted(_) => 612,
            Self::BadRevocationStatus(_) => 613,
            Self::EmptyCrlAnnouncement => 614,
            Self::CrlIssuerUnknown => 615,
            Self::CrlSignature => 616,
        }
    }

    /// Stable name; [`Self::Message`] has the inner error's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Message(e) => e.name(),
            Self::NotAnAnnouncement { .. } => "CMP_NOT_AN_ANNOUNCEMENT",
            Self::MissingNewWithOld => "CMP_MISSING_NEW_WITH_OLD",
            Self::UnknownOldRoot => "CMP_UNKNOWN_OLD_ROOT",
            Self::NewWithOldSignature => "CMP_NEW_WITH_OLD_SIGNATURE",
            Self::NewWithOldKeyMismatch => "CMP_NEW_WITH_OLD_KEY_MISMATCH",
            Self::NewWithNewNotSelfSigned => "CMP_NEW_WITH_NEW_NOT_SELF_SIGNED",
            Self::NewRootNotCa => "CMP_NEW_ROOT_NOT_CA",
            Self::NewRootNotValid(_) => "CMP_NEW_ROOT_NOT_VALID",
            Self::KeyNotChanged => "CMP_KEY_NOT_CHANGED",
            Self::NameMismatch => "CMP_ROOT_NAME_MISMATCH",
            Self::OldWithNewSignature => "CMP_OLD_WITH_NEW_SIGNATURE",
            Self::OldWithNewKeyMismatch => "CMP_OLD_WITH_NEW_KEY_MISMATCH",
            Self::CertificateNotTrusted(_) => "CMP_ANNOUNCED_CERT_NOT_TRUSTED",
            Self::BadRevocationStatus(_) => "CMP_BAD_REVOCATION_STATUS",
            Self::EmptyCrlAnnouncement => "CMP_EMPTY_CRL_ANNOUNCEMENT",
            Self::CrlIssuerUnknown => "CMP_CRL_ISSUER_UNKNOWN",
            Self::CrlSignature => "CMP_CRL_SIGNATURE",
        }
    }
}

impl fmt::Display for AnnounceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message(e) => write!(f, "{e}"),
            Self::NotAnAnnouncement { got } => write!(f, "{got} is not an announcement"),
            Self::MissingNewWithOld => f.write_str("root key update without newWithOld"),
            Self::UnknownOldRoot => f.write_str("newWithOld is not issued by a trusted root"),
            Self::NewWithOldSignature => {
                f.write_str("newWithOld does not verify with the old root key")
            }
            Self::NewWithOldKeyMismatch => {
                f.write_str("newWithOld certifies another key than newWithNew")
            }
            Self::NewWithNewNotSelfSigned => f.write_str("newWithNew is not self-signed"),
            Self::NewRootNotCa => f.write_str("newWithNew is not a CA certificate"),
            Self::NewRootNotValid(why) => write!(f, "newWithNew is not valid: {why}"),
            Self::KeyNotChanged => f.write_str("the new root key is the old one"),
            Self::NameMismatch => f.write_str("the root key update changes the root's name"),
            Self::OldWithNewSignature => {
                f.write_str("oldWithNew does not verify with the new root key")
            }
            Self::OldWithNewKeyMismatch => {
                f.write_str("oldWithNew certifies another key than the old root's")
            }
            Self::CertificateNotTrusted(e) => write!(f, "announced certificate not trusted: {e}"),
            Self::BadRevocationStatus(s) => {
                write!(f, "revocation announcement with status {s:?}")
            }
            Self::EmptyCrlAnnouncement => f.write_str("CRL announcement without CRLs"),
            Self::CrlIssuerUnknown => f.write_str("no trusted CA issued the announced CRL"),
            Self::CrlSignature => f.write_str("the announced CRL's signature does not verify"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AnnounceError {}

impl From<Error> for AnnounceError {
    fn from(e: Error) -> Self {
        Self::Message(Box::new(e))
    }
}

/// A root CA key update that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootKeyUpdate {
    /// The trust anchor being replaced (the issuer of newWithOld).
    pub old_root: Certificate,
    /// The new trust anchor to install (newWithNew).
    pub new_root: Certificate,
    /// The new key certified with the old one: an intermediate for paths
    /// from the new hierarchy to the old anchor.
    pub new_with_old: Certificate,
    /// The old key certified with the new one, if sent: an intermediate for
    /// paths from the old hierarchy to the new anchor.
    pub old_with_new: Option<Certificate>,
}

/// What a validated announcement tells the end entity.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Announcement {
    /// ckuann: install `new_root` as trust anchor (keep the old one until it
    /// expires, or drop it), and re-enroll when certificates must chain to
    /// the new root.
    RootKeyUpdate(RootKeyUpdate),
    /// cann: a certificate was issued; it validated along `path` (leaf
    /// first, anchor last).
    CertificateAnnounced {
        /// The certificate.
        cert: Certificate,
        /// Its validated path.
        path: Vec<Certificate>,
    },
    /// rann: a certificate is revoked, or will be.
    RevocationAnnounced {
        /// revocationWarning (imminent) or revocationNotification (done).
        status: PkiStatus,
        /// Issuer and serial number of the certificate.
        cert_id: CertId,
        /// When the revocation takes effect.
        will_be_revoked_at: Timestamp,
        /// Since when the certificate is considered bad.
        bad_since: Timestamp,
        /// CRL entry extensions (reason, ...), if any.
        crl_details: Option<Extensions>,
    },
    /// crlann: new CRLs, each signed by a trusted CA.
    CrlAnnounced(Vec<CertificateList>),
}

/// The CA side: builds protected announcement messages.
#[derive(Clone)]
pub struct AnnouncementBuilder {
    provider: Arc<dyn CryptoProvider>,
    protector: Protector,
    /// Extra certificates for every announcement (after the signer's chain).
    pub extra_certs: Vec<Certificate>,
    /// The recipient; default NULL-DN (a broadcast).
    pub recipient: Option<Name>,
}

impl fmt::Debug for AnnouncementBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnnouncementBuilder")
            .field("protector", &self.protector)
            .finish_non_exhaustive()
    }
}

impl AnnouncementBuilder {
    /// A builder protecting with `protector` (normally a signature, so that
    /// every end entity can check it against its trust anchors).
    pub fn new(provider: Arc<dyn CryptoProvider>, protector: Protector) -> Self {
        Self {
            provider,
            protector,
            extra_certs: Vec::new(),
            recipient: None,
        }
    }

    /// ckuann in the RFC 9810 form (cAKeyUpdAnnV3, pvno 3).
    pub fn root_key_update(
        &self,
        content: RootCaKeyUpdateContent,
        now: Timestamp,
    ) -> Result<Vec<u8>, Error> {
        self.build(
            PkiBody::Ckuann(CaKeyUpdContent::V3(content)),
            pvno::CMP2021,
            now,
        )
    }

    /// ckuann in the deprecated RFC 4210 form (cAKeyUpdAnnV2, pvno 2), for
    /// end entities that only know that one.
    pub fn root_key_update_v2(
        &self,
        content: CaKeyUpdAnnContent,
        now: Timestamp,
    ) -> Result<Vec<u8>, Error> {
        self.build(
            PkiBody::Ckuann(CaKeyUpdContent::V2(content)),
            pvno::CMP2000,
            now,
        )
    }

    /// cann: announce a newly issued certificate.
    pub fn certificate(&self, cert: Certificate, now: Timestamp) -> Result<Vec<u8>, Error> {
        self.build(PkiBody::Cann(cert), pvno::CMP2000, now)
    }

    /// rann: announce that `cert` will be (`RevocationWarning`) or has been
    /// (`RevocationNotification`) revoked at `at`, considered bad since
    /// `bad_since`.
    pub fn revocation(
        &self,
        cert: &Certificate,
        status: PkiStatus,
        at: Timestamp,
        bad_since: Timestamp,
        crl_details: Option<Extensions>,
        now: Timestamp,
    ) -> Result<Vec<u8>, Error> {
        if !matches!(
            status,
            PkiStatus::RevocationWarning | PkiStatus::RevocationNotification
        ) {
            return Err(Error::Usage(
                "a revocation announcement has status revocationWarning or revocationNotification",
            ));
        }
        let content = RevAnnContent {
            status,
            cert_id: cert_id_of(cert)?,
            will_be_revoked_at: at.to_generalized_time()?,
            bad_since_date: bad_since.to_generalized_time()?,
            crl_details,
        };
        self.build(PkiBody::Rann(content), pvno::CMP2000, now)
    }

    /// crlann: announce CRLs.
    pub fn crls(&self, crls: Vec<CertificateList>, now: Timestamp) -> Result<Vec<u8>, Error> {
        if crls.is_empty() {
            return Err(Error::Usage("a CRL announcement needs at least one CRL"));
        }
        self.build(PkiBody::Crlann(crls), pvno::CMP2000, now)
    }

    fn build(&self, body: PkiBody, pv: u64, now: Timestamp) -> Result<Vec<u8>, Error> {
        let sender = self
            .protector
            .signer_subject()
            .cloned()
            .map(GeneralName::DirectoryName)
            .unwrap_or_else(crate::message::null_dn);
        let recipient = self
            .recipient
            .clone()
            .map(GeneralName::DirectoryName)
            .unwrap_or_else(crate::message::null_dn);
        let header = HeaderBuilder::new()
            .pvno(pv)
            .sender(sender)
            .recipient(recipient)
            .build(self.provider.as_ref(), now)?;
        self.protector.protect_to_der(
            header,
            body,
            self.extra_certs.clone(),
            self.provider.as_ref(),
        )
    }
}

/// The end-entity side: checks announcements against a trust store.
#[derive(Clone)]
pub struct AnnouncementValidator {
    provider: Arc<dyn CryptoProvider>,
    /// Trust anchors for the announcement's signer, the announced
    /// certificates and CRLs, and the old root of a key update.
    pub trust: TrustStore,
    /// Further untrusted intermediates.
    pub untrusted: Vec<Certificate>,
    /// Shared secret, if MAC-protected announcements are accepted.
    pub secret: Option<Vec<u8>>,
    /// Largest accepted difference between messageTime and `now`, seconds.
    pub max_time_skew: Option<u64>,
    /// Decoding and verification caps.
    pub limits: Limits,
}

impl fmt::Debug for AnnouncementValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnnouncementValidator")
            .field("anchors", &self.trust.anchors().len())
            .finish_non_exhaustive()
    }
}

impl AnnouncementValidator {
    /// A validator trusting `trust`, signatures only, with default limits
    /// and a ten-minute messageTime window.
    pub fn new(provider: Arc<dyn CryptoProvider>, trust: TrustStore) -> Self {
        Self {
            provider,
            trust,
            untrusted: Vec::new(),
            secret: None,
            max_time_skew: Some(600),
            limits: Limits::DEFAULT,
        }
    }

    /// Check the announcement in `bytes` and say what it announces.
    pub fn validate(&self, bytes: &[u8], now: Timestamp) -> Result<Announcement, AnnounceError> {
        let msg = ParsedMessage::decode(bytes, &self.limits)?;
        let policy = ProtectionPolicy {
            secret: self.secret.as_deref(),
            trust: Some(&self.trust),
            untrusted: &self.untrusted,
            accept_unprotected: false,
        };
        let provider = self.provider.as_ref();
        let auth = verify::authenticate(&msg, &policy, now, provider, &self.limits)?;
        let pv = msg.pvno();
        if pv != pvno::CMP2000 && pv != pvno::CMP2021 {
            return Err(Error::UnsupportedVersion(pv).into());
        }
        verify::check_message_time(&msg, now, self.max_time_skew)?;
        let mut pool: Vec<Certificate> = msg.extra_certs().to_vec();
        pool.extend(self.untrusted.iter().cloned());
        if let Authenticated::Signature { path, .. } = &auth {
            pool.extend(path.iter().cloned());
        }
        match msg.body() {
            PkiBody::Ckuann(content) => {
                let content = match content {
                    CaKeyUpdContent::V3(c) => c.clone(),
                    CaKeyUpdContent::V2(c) => RootCaKeyUpdateContent {
                        new_with_new: c.new_with_new.clone(),
                        new_with_old: Some(c.new_with_old.clone()),
                        old_with_new: Some(c.old_with_new.clone()),
                    },
                };
                validate_root_key_update(&content, &self.trust, now, provider)
                    .map(Announcement::RootKeyUpdate)
            }
            PkiBody::Cann(cert) => {
                // any certificate may be announced: no key usage is required
                let opts = ValidationOptions {
                    required_key_usage: None,
                    ..ValidationOptions::default()
                };
                let path = validate_chain(cert, &pool, &self.trust, now, &opts, provider)
                    .map_err(|e| AnnounceError::CertificateNotTrusted(Box::new(e)))?;
                Ok(Announcement::CertificateAnnounced {
                    cert: cert.clone(),
                    path: path.into_certificates(),
                })
            }
            PkiBody::Rann(content) => {
                if !matches!(
                    content.status,
                    PkiStatus::RevocationWarning | PkiStatus::RevocationNotification
                ) {
                    return Err(AnnounceError::BadRevocationStatus(content.status));
                }
                Ok(Announcement::RevocationAnnounced {
                    status: content.status,
                    cert_id: content.cert_id.clone(),
                    will_be_revoked_at: Timestamp::from_generalized_time(
                        &content.will_be_revoked_at,
                    ),
                    bad_since: Timestamp::from_generalized_time(&content.bad_since_date),
                    crl_details: content.crl_details.clone(),
                })
            }
            PkiBody::Crlann(crls) => {
                if crls.is_empty() {
                    return Err(AnnounceError::EmptyCrlAnnouncement);
                }
                for crl in crls {
                    self.check_crl(crl, &pool, now)?;
                }
                Ok(Announcement::CrlAnnounced(crls.clone()))
            }
            other => Err(AnnounceError::NotAnAnnouncement {
                got: BodyType::name(other.body_type()),
            }),
        }
    }

    /// A CRL must be signed by a CA certificate that validates to an anchor.
    fn check_crl(
        &self,
        crl: &CertificateList,
        pool: &[Certificate],
        now: Timestamp,
    ) -> Result<(), AnnounceError> {
        let issuer_name = &crl.tbs_cert_list.issuer;
        let provider = self.provider.as_ref();
        let tbs = crl
            .tbs_cert_list
            .to_der()
            .map_err(|e| AnnounceError::Message(Box::new(Error::Encode(e))))?;
        let alg_id = &crl.signature_algorithm;
        let signature = crl
            .signature
            .as_bytes()
            .ok_or(AnnounceError::CrlSignature)?;
        let sig_alg =
            alg::signature_from_identifier(alg_id).map_err(|_| AnnounceError::CrlSignature)?;
        let mut named = false;
        for candidate in self.trust.anchors().iter().chain(pool.iter()) {
            if candidate.tbs_certificate().subject() != issuer_name {
                continue;
            }
            named = true;
            let spki = candidate.tbs_certificate().subject_public_key_info();
            if provider
                .verify_signature(sig_alg, alg_id, spki, &tbs, signature)
                .is_err()
            {
                continue;
            }
            // The signer must itself be trusted, and allowed to sign CRLs.
            let opts = ValidationOptions {
                required_key_usage: Some(KeyUsages::CRLSign.into()),
                ..ValidationOptions::default()
            };
            if validate_chain(candidate, pool, &self.trust, now, &opts, provider).is_ok() {
                return Ok(());
            }
        }
        Err(if named {
            AnnounceError::CrlSignature
        } else {
            AnnounceError::CrlIssuerUnknown
        })
    }
}

/// The CertId (issuer, serialNumber) of `cert`.
fn cert_id_of(cert: &Certificate) -> Result<CertId, Error> {
    let tbs = cert.tbs_certificate();
    Ok(CertId {
        issuer: GeneralName::DirectoryName(tbs.issuer().clone()),
        serial_number: der::asn1::Int::new(tbs.serial_number().as_bytes())
            .map_err(Error::Encode)?,
    })
}

/// Check a root CA key update against the anchors in `trust`:
///
/// 1. newWithOld is present, names a trust anchor as issuer and verifies
///    with that anchor's key (the old root);
/// 2. newWithNew is self-signed (names and signature), a CA, valid at `now`,
///    with a key that differs from the old one, and newWithOld certifies
///    exactly that key;
/// 3. all three certificates carry the old root's name;
/// 4. oldWithNew, if present, certifies the old root's key and verifies
///    with the new key.
pub fn validate_root_key_update(
    content: &RootCaKeyUpdateContent,
    trust: &TrustStore,
    now: Timestamp,
    provider: &dyn CryptoProvider,
) -> Result<RootKeyUpdate, AnnounceError> {
    let new_root = &content.new_with_new;
    let new_with_old = content
        .new_with_old
        .as_ref()
        .ok_or(AnnounceError::MissingNewWithOld)?;

    // 1. the old root vouches for the new key
    let mut named = false;
    let mut old_root = None;
    for anchor in trust.anchors() {
        if anchor.tbs_certificate().subject() != new_with_old.tbs_certificate().issuer() {
            continue;
        }
        named = true;
        if trust::verify_certificate_signature(new_with_old, anchor, provider).is_ok() {
            old_root = Some(anchor.clone());
            break;
        }
    }
    let old_root = match old_root {
        Some(r) => r,
        None if named => return Err(AnnounceError::NewWithOldSignature),
        None => return Err(AnnounceError::UnknownOldRoot),
    };

    // 2. the new root itself
    let new_tbs = new_root.tbs_certificate();
    if new_tbs.issuer() != new_tbs.subject()
        || trust::verify_certificate_signature(new_root, new_root, provider).is_err()
    {
        return Err(AnnounceError::NewWithNewNotSelfSigned);
    }
    let is_ca = matches!(
        new_tbs.get_extension::<BasicConstraints>(),
        Ok(Some((_, BasicConstraints { ca: true, .. })))
    );
    if !is_ca {
        return Err(AnnounceError::NewRootNotCa);
    }
    trust::check_validity(new_root, now).map_err(|e| match e {
        Error::SignerNotTrusted(why) => AnnounceError::NewRootNotValid(why),
        other => AnnounceError::from(other),
    })?;
    let old_key = old_root.tbs_certificate().subject_public_key_info();
    let new_key = new_tbs.subject_public_key_info();
    if new_key == old_key {
        return Err(AnnounceError::KeyNotChanged);
    }
    if new_with_old.tbs_certificate().subject_public_key_info() != new_key {
        return Err(AnnounceError::NewWithOldKeyMismatch);
    }

    // 3. one name throughout
    let name = old_root.tbs_certificate().subject();
    if new_tbs.subject() != name || new_with_old.tbs_certificate().subject() != name {
        return Err(AnnounceError::NameMismatch);
    }

    // 4. the new root vouches for the old key
    if let Some(old_with_new) = &content.old_with_new {
        let tbs = old_with_new.tbs_certificate();
        if tbs.subject() != name || tbs.issuer() != name {
            return Err(AnnounceError::NameMismatch);
        }
        if tbs.subject_public_key_info() != old_key {
            return Err(AnnounceError::OldWithNewKeyMismatch);
        }
        if trust::verify_certificate_signature(old_with_new, new_root, provider).is_err() {
            return Err(AnnounceError::OldWithNewSignature);
        }
    }
    Ok(RootKeyUpdate {
        old_root,
        new_root: new_root.clone(),
        new_with_old: new_with_old.clone(),
        old_with_new: content.old_with_new.clone(),
    })
}
