//! A small reference certification authority, for tests, demos and the CLI
//! server.
//!
//! [`ReferenceCa`] holds an issuing CA key and certificate (and the chain up
//! to its root), issues X.509 v3 end-entity certificates from an
//! [`IssueRequest`] with the `x509-cert` builder, keeps the certificates it
//! issued and revoked, signs CRLs, and saves and restores those records as
//! bytes ([`ReferenceCa::export_state`], [`ReferenceCa::import_state`]).
//!
//! Like the rest of the stack it never reads a clock: every operation that
//! needs the time takes `now`. Randomness (serial numbers, keys) comes from
//! the operating system's RNG, the same one [`crate::provider()`] uses.
//!
//! ```
//! use cmp_core::time::Timestamp;
//! use cmp_crypto_rustcrypto::ca::{IssueRequest, ReferenceCa};
//! use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey};
//! use cmp_core::crypto::SigningKey;
//! use std::str::FromStr;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = Timestamp::from_unix_secs(1_760_000_000);
//! let (mut ca, _root) = ReferenceCa::generate_hierarchy("Demo", now, KeyAlgorithm::EcP256)?;
//!
//! let key = PrivateKey::generate(KeyAlgorithm::EcP256)?;
//! let subject = x509_cert::name::Name::from_str("CN=device-1")?;
//! let cert = ca.issue(&IssueRequest::new(subject, key.public_key()), now)?;
//!
//! let serial = cert.tbs_certificate().serial_number().as_bytes().to_vec();
//! ca.revoke(&serial, Some(1), now)?;
//! assert!(ca.is_revoked(&serial));
//! let _crl = ca.crl(now)?;
//! # Ok(())
//! # }
//! ```

use alloc::collections::{BTreeMap, btree_map};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use cmp_core::alg::signature_from_identifier;
use cmp_core::asn1::oid;
use cmp_core::crypto::{CryptoError, CryptoProvider, DigestAlgorithm, SigningKey};
use cmp_core::time::Timestamp;
use der::asn1::{Any, BitString, ObjectIdentifier, OctetString, Uint, Utf8StringRef};
use der::oid::AssociatedOid;
use der::{DateTime, Decode, Encode, Sequence};
use signature::Keypair;
use spki::{
    AlgorithmIdentifierOwned, Document, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SubjectPublicKeyInfoOwned,
};
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlNumber, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::{hash, provider, rng};

/// id-at-commonName (2.5.4.3).
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

mod lifecycle;
pub use lifecycle::RootKeyUpdate;

/// One minute: certificates start this long before `now`, for clock skew.
const BACKDATE_SECS: u64 = 60;
/// One day: a CRL's nextUpdate is this long after its thisUpdate.
const CRL_VALIDITY_SECS: u64 = 86_400;
/// One year (365 days): the default validity of an issued certificate.
pub const DEFAULT_VALIDITY_SECS: u64 = 365 * 86_400;
/// Ten years (3653 days): the validity of the CA certificates that
/// [`ReferenceCa::generate_hierarchy`] makes.
pub const CA_VALIDITY_SECS: u64 = 3653 * 86_400;

/// Length of a generated serial number, in bytes.
const SERIAL_LEN: usize = 16;
/// How many fresh serial numbers to try before giving up (a collision with a
/// 126-bit random serial is already astronomically unlikely).
const SERIAL_ATTEMPTS: usize = 16;

/// Version of the [`ReferenceCa::export_state`] format.
const STATE_VERSION: u8 = 1;

/// What went wrong in a [`ReferenceCa`] operation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaError {
    /// The certificate request cannot be certified as asked (an empty
    /// subject without a subjectAltName, a malformed or contradictory
    /// requested extension, ...).
    BadTemplate(&'static str),
    /// No certificate with this serial number was issued by this CA.
    UnknownCertificate,
    /// The certificate with this serial number is already revoked.
    AlreadyRevoked,
    /// The revocation reason is not a CRLReason a base CRL may carry
    /// (RFC 5280 section 5.3.1: 0–6, 9 or 10).
    InvalidReason(u8),
    /// The CA key, certificate and chain handed to [`ReferenceCa::new`] do
    /// not fit together.
    BadCaCredentials(&'static str),
    /// Saved state handed to [`ReferenceCa::import_state`] is corrupt or
    /// belongs to another CA.
    BadState(&'static str),
    /// A time is outside what an X.509 certificate or CRL can express.
    TimeOutOfRange,
    /// The crypto backend failed (key generation, signing, RNG).
    Crypto(CryptoError),
    /// Encoding or decoding ASN.1 failed.
    Encoding(der::Error),
}

impl fmt::Display for CaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadTemplate(why) => write!(f, "bad certificate template: {why}"),
            Self::UnknownCertificate => f.write_str("no certificate with this serial number"),
            Self::AlreadyRevoked => f.write_str("certificate already revoked"),
            Self::InvalidReason(code) => write!(f, "invalid CRL reason code {code}"),
            Self::BadCaCredentials(why) => write!(f, "bad CA credentials: {why}"),
            Self::BadState(why) => write!(f, "bad CA state: {why}"),
            Self::TimeOutOfRange => f.write_str("time outside the range of X.509 validity"),
            Self::Crypto(e) => write!(f, "crypto failure: {e}"),
            Self::Encoding(e) => write!(f, "ASN.1 encoding failure: {e}"),
        }
    }
}

impl core::error::Error for CaError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Crypto(e) => Some(e),
            Self::Encoding(e) => Some(e),
            _ => None,
        }
    }
}

impl From<CryptoError> for CaError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

impl From<der::Error> for CaError {
    fn from(e: der::Error) -> Self {
        Self::Encoding(e)
    }
}

impl From<x509_cert::builder::Error> for CaError {
    fn from(e: x509_cert::builder::Error) -> Self {
        match e {
            x509_cert::builder::Error::Asn1(e) => Self::Encoding(e),
            x509_cert::builder::Error::PublicKey(_) => {
                Self::Crypto(CryptoError::InvalidKey("CA public key"))
            }
            _ => Self::Crypto(CryptoError::Other("certificate builder failed")),
        }
    }
}

/// What to certify: the parts of a certificate template the CA takes from
/// the requester.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueRequest {
    /// The subject name. May be empty only if a subjectAltName is requested.
    pub subject: Name,
    /// The public key to certify. Any algorithm is accepted as long as the
    /// `SubjectPublicKeyInfo` is well formed.
    pub public_key: SubjectPublicKeyInfoOwned,
    /// Requested extensions: subjectAltName, keyUsage and extendedKeyUsage
    /// are copied (re-encoded in DER); any other extension is ignored.
    pub extensions: Vec<Extension>,
    /// Validity in seconds from `now`; [`DEFAULT_VALIDITY_SECS`] (one year)
    /// if `None`. It never extends past the CA certificate's notAfter.
    pub validity_secs: Option<u64>,
}

impl IssueRequest {
    /// A request for `subject` and `public_key`, with no extensions and the
    /// default validity.
    pub fn new(subject: Name, public_key: SubjectPublicKeyInfoOwned) -> Self {
        Self {
            subject,
            public_key,
            extensions: Vec::new(),
            validity_secs: None,
        }
    }
}

/// A revoked certificate, as [`ReferenceCa::revoked`] lists it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Revocation {
    /// The certificate's serial number (big-endian, no leading zero bytes).
    pub serial: Vec<u8>,
    /// When it was revoked.
    pub revoked_at: Timestamp,
    /// The CRLReason code given at revocation (RFC 5280 section 5.3.1).
    pub reason: Option<u8>,
}

/// A reference certification authority: an issuing CA key and certificate,
/// the chain up to the root, and the records of what it issued and revoked.
///
/// Certificates it issues are X.509 v3 with a random positive 16-byte
/// serial number, validity from one minute before `now`, basicConstraints
/// `CA:FALSE` (critical), keyUsage (critical; digitalSignature unless the
/// request asks otherwise; keyEncipherment, and only that, for an ML-KEM
/// key), subjectKeyIdentifier (SHA-1 of the public key, RFC 5280 section
/// 4.2.1.2 method 1), authorityKeyIdentifier (the CA's
/// subjectKeyIdentifier), and subjectAltName / extendedKeyUsage as
/// requested. They are signed with the CA key's default algorithm (ECDSA
/// P-256 with SHA-256, Ed25519, RSA PKCS#1 v1.5 with SHA-256, ML-DSA, ...).
#[derive(Clone, Debug)]
pub struct ReferenceCa {
    key: PrivateKey,
    cert: Certificate,
    /// `cert` first, then up to the root.
    chain: Vec<Certificate>,
    /// The CA's subjectKeyIdentifier, used as authorityKeyIdentifier.
    key_id: Vec<u8>,
    issued: BTreeMap<Vec<u8>, Certificate>,
    revoked: BTreeMap<Vec<u8>, Revocation>,
}

impl ReferenceCa {
    /// A CA issuing with `key` under `cert`; `chain` holds the certificates
    /// above `cert` up to the root, root last (empty if `cert` is a
    /// self-signed root; a copy of `cert` at its front is tolerated).
    ///
    /// Fails with [`CaError::BadCaCredentials`] if `key` does not match the
    /// public key in `cert`, if `cert` says it is not a CA, or if the chain
    /// does not link by names (each certificate's issuer is the next one's
    /// subject).
    pub fn new(
        key: PrivateKey,
        cert: Certificate,
        chain: Vec<Certificate>,
    ) -> Result<Self, CaError> {
        if key.public_key() != *cert.tbs_certificate().subject_public_key_info() {
            return Err(CaError::BadCaCredentials(
                "private key does not match the CA certificate",
            ));
        }
        let not_ca = matches!(
            cert.tbs_certificate().get_extension::<BasicConstraints>(),
            Ok(Some((_, BasicConstraints { ca: false, .. })))
        );
        if not_ca {
            return Err(CaError::BadCaCredentials(
                "CA certificate has basicConstraints cA FALSE",
            ));
        }
        let mut full = Vec::with_capacity(chain.len().saturating_add(1));
        full.push(cert.clone());
        full.extend(chain.into_iter().skip_while(|c| *c == cert));
        let unlinked = full.windows(2).any(|pair| match pair {
            [lower, upper] => lower.tbs_certificate().issuer() != upper.tbs_certificate().subject(),
            _ => false,
        });
        if unlinked {
            return Err(CaError::BadCaCredentials(
                "chain does not link: issuer is not the next certificate's subject",
            ));
        }
        let key_id = match cert
            .tbs_certificate()
            .get_extension::<SubjectKeyIdentifier>()
        {
            Ok(Some((_, ski))) => ski.0.as_bytes().to_vec(),
            _ => key_identifier(cert.tbs_certificate().subject_public_key_info()),
        };
        Ok(Self {
            key,
            cert,
            chain: full,
            key_id,
            issued: BTreeMap::new(),
            revoked: BTreeMap::new(),
        })
    }

    /// Generate a two-level hierarchy with keys of type `alg`: a self-signed
    /// root "CN=`name_prefix` Root CA" and an issuing CA
    /// "CN=`name_prefix` Issuing CA" signed by it, both valid from one minute
    /// before `now` for ten years, with basicConstraints CA (critical; the
    /// issuing CA with pathLenConstraint 0), keyUsage keyCertSign, cRLSign
    /// and digitalSignature (critical), subjectKeyIdentifier and
    /// authorityKeyIdentifier.
    ///
    /// Returns the CA (issuing with the issuing CA key) and the root
    /// certificate, the trust anchor for what it issues.
    pub fn generate_hierarchy(
        name_prefix: &str,
        now: Timestamp,
        alg: KeyAlgorithm,
    ) -> Result<(Self, Certificate), CaError> {
        let root_key = PrivateKey::generate(alg)?;
        let root_name = common_name(&alloc::format!("{name_prefix} Root CA"))?;
        let root_spki = root_key.public_key();
        let root_id = key_identifier(&root_spki);
        let root = sign_certificate(
            &root_key,
            root_name.clone(),
            root_name.clone(),
            root_spki,
            random_serial()?,
            validity(now, CA_VALIDITY_SECS, None)?,
            ca_extensions(&root_id, &root_id, None)?,
        )?;

        let ca_key = PrivateKey::generate(alg)?;
        let ca_name = common_name(&alloc::format!("{name_prefix} Issuing CA"))?;
        let ca_spki = ca_key.public_key();
        let ca_id = key_identifier(&ca_spki);
        let ca_cert = sign_certificate(
            &root_key,
            root_name,
            ca_name,
            ca_spki,
            random_serial()?,
            validity(now, CA_VALIDITY_SECS, None)?,
            ca_extensions(&ca_id, &root_id, Some(0))?,
        )?;

        let ca = Self::new(ca_key, ca_cert, vec![root.clone()])?;
        Ok((ca, root))
    }

    /// Generate a key (of the CA key's type; P-256 if that has no
    /// [`KeyAlgorithm`]) and an end-entity certificate for `subject` to
    /// protect a server's CMP messages: keyUsage digitalSignature (critical),
    /// extendedKeyUsage id-kp-cmcRA, valid for one year from `now`.
    ///
    /// The certificate is not recorded among the issued ones.
    pub fn generate_cmp_signer(
        &self,
        subject: Name,
        now: Timestamp,
    ) -> Result<(PrivateKey, Certificate), CaError> {
        let alg = self.key.key_algorithm().unwrap_or(KeyAlgorithm::EcP256);
        let key = PrivateKey::generate(alg)?;
        let spki = key.public_key();
        let eku = ExtendedKeyUsage(vec![oid::KP_CMC_RA]);
        let requested = vec![extension(&eku, false)?];
        let extensions = self.end_entity_extensions(&subject, &spki, &requested)?;
        let cert = sign_certificate(
            &self.key,
            self.name().clone(),
            subject,
            spki,
            random_serial()?,
            self.end_entity_validity(now, DEFAULT_VALIDITY_SECS)?,
            extensions,
        )?;
        Ok((key, cert))
    }

    /// Issue a certificate for `req` at time `now` and record it.
    ///
    /// Fails with [`CaError::BadTemplate`] for an empty subject without a
    /// requested subjectAltName, or a malformed or contradictory requested
    /// extension (a keyUsage with no bits or with keyCertSign, an empty
    /// subjectAltName or extendedKeyUsage, one of them twice).
    pub fn issue(&mut self, req: &IssueRequest, now: Timestamp) -> Result<Certificate, CaError> {
        for _ in 0..SERIAL_ATTEMPTS {
            let cert = self.issue_unrecorded(req, now)?;
            if let btree_map::Entry::Vacant(slot) = self.issued.entry(serial_of(&cert)) {
                slot.insert(cert.clone());
                return Ok(cert);
            }
        }
        Err(CaError::Crypto(CryptoError::Rng))
    }

    /// Issue a certificate for `req` at time `now` as [`issue`](Self::issue)
    /// does, with a fresh random serial number, but without recording it:
    /// for callers that keep the records elsewhere (a database shared by
    /// several servers) and make sure there that the serial number is unique.
    ///
    /// Fails like [`issue`](Self::issue).
    pub fn issue_unrecorded(
        &self,
        req: &IssueRequest,
        now: Timestamp,
    ) -> Result<Certificate, CaError> {
        // Fails early on an SPKI that does not encode.
        req.public_key
            .to_der()
            .map_err(|_| CaError::BadTemplate("public key does not encode"))?;
        let extensions =
            self.end_entity_extensions(&req.subject, &req.public_key, &req.extensions)?;
        let validity =
            self.end_entity_validity(now, req.validity_secs.unwrap_or(DEFAULT_VALIDITY_SECS))?;
        sign_certificate(
            &self.key,
            self.name().clone(),
            req.subject.clone(),
            req.public_key.clone(),
            random_serial()?,
            validity,
            extensions,
        )
    }

    /// The certificate this CA issued with serial number `serial`
    /// (big-endian; leading zero bytes are ignored).
    pub fn find(&self, serial: &[u8]) -> Option<&Certificate> {
        self.issued.get(&normalize_serial(serial))
    }

    /// Whether `cert` is exactly a certificate this CA issued and recorded.
    pub fn is_issued_by_us(&self, cert: &Certificate) -> bool {
        cert.tbs_certificate().issuer() == self.name()
            && self.issued.get(&serial_of(cert)) == Some(cert)
    }

    /// How many certificates this CA issued (revoked ones included).
    pub fn issued_count(&self) -> usize {
        self.issued.len()
    }

    /// The certificates this CA issued, in serial number order.
    pub fn issued(&self) -> impl Iterator<Item = &Certificate> + '_ {
        self.issued.values()
    }

    /// Revoke the certificate with serial number `serial` at `now`, with an
    /// optional CRLReason code.
    ///
    /// Fails with [`CaError::UnknownCertificate`] if this CA did not issue
    /// it, [`CaError::AlreadyRevoked`] if it is revoked already, and
    /// [`CaError::InvalidReason`] for 7, 8 (removeFromCRL, for delta CRLs
    /// only) or anything above 10.
    pub fn revoke(
        &mut self,
        serial: &[u8],
        reason: Option<u8>,
        now: Timestamp,
    ) -> Result<(), CaError> {
        let serial = normalize_serial(serial);
        if !self.issued.contains_key(&serial) {
            return Err(CaError::UnknownCertificate);
        }
        if self.revoked.contains_key(&serial) {
            return Err(CaError::AlreadyRevoked);
        }
        if let Some(code) = reason {
            crl_reason(code)?;
        }
        self.revoked.insert(
            serial.clone(),
            Revocation {
                serial,
                // CRLs and the exported state keep whole seconds
                revoked_at: Timestamp::from_unix_secs(now.unix_secs()),
                reason,
            },
        );
        Ok(())
    }

    /// Whether the certificate with serial number `serial` is revoked.
    pub fn is_revoked(&self, serial: &[u8]) -> bool {
        self.revoked.contains_key(&normalize_serial(serial))
    }

    /// The revoked certificates, in serial number order.
    pub fn revoked(&self) -> impl Iterator<Item = &Revocation> + '_ {
        self.revoked.values()
    }

    /// A v2 CRL signed by the CA key, issued at `now` with nextUpdate one
    /// day later, listing every revoked certificate with its reason code
    /// (no reasonCode entry extension for "none given" or unspecified (0),
    /// as RFC 5280 section 5.3.1 asks).
    ///
    /// Extensions: authorityKeyIdentifier (the CA's key identifier) and
    /// cRLNumber, which is `now` in seconds since the epoch, so it grows
    /// with every CRL issued at a later time.
    pub fn crl(&self, now: Timestamp) -> Result<CertificateList, CaError> {
        self.crl_of(self.revoked.values(), now)
    }

    /// A CRL as [`crl`](Self::crl) makes it, listing `revoked` instead of
    /// this CA's own records (kept elsewhere, e.g. in a shared database).
    ///
    /// Fails with [`CaError::InvalidReason`] for a reason code a base CRL
    /// cannot carry.
    pub fn crl_of<'a>(
        &self,
        records: impl IntoIterator<Item = &'a Revocation>,
        now: Timestamp,
    ) -> Result<CertificateList, CaError> {
        let mut revoked = Vec::new();
        for entry in records {
            let entry_extensions = match entry.reason {
                Some(code) if code != 0 => Some(vec![extension(&crl_reason(code)?, false)?]),
                _ => None,
            };
            revoked.push(RevokedCert {
                serial_number: SerialNumber::new(&entry.serial)?,
                revocation_date: x509_time(entry.revoked_at)?,
                crl_entry_extensions: entry_extensions,
            });
        }
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(self.key_id.clone())?),
            ..Default::default()
        };
        let crl_number = CrlNumber(Uint::new(&now.unix_secs().to_be_bytes())?);
        let tbs = TbsCertList {
            version: Version::V2,
            signature: self.key.algorithm_identifier(),
            issuer: self.name().clone(),
            this_update: x509_time(now)?,
            next_update: Some(x509_time(now.plus_secs(CRL_VALIDITY_SECS))?),
            revoked_certificates: if revoked.is_empty() {
                None
            } else {
                Some(revoked)
            },
            crl_extensions: Some(vec![
                extension(&aki, false)?,
                extension(&crl_number, false)?,
            ]),
        };
        let signature = self.key.sign(&tbs.to_der()?)?;
        Ok(CertificateList {
            signature_algorithm: tbs.signature.clone(),
            tbs_cert_list: tbs,
            signature: BitString::from_bytes(&signature)?,
        })
    }

    /// The issued and revoked records, as DER bytes for
    /// [`ReferenceCa::import_state`]:
    ///
    /// ```text
    /// ReferenceCaState ::= SEQUENCE {
    ///     version   INTEGER (1),
    ///     issued    SEQUENCE OF Certificate,
    ///     revoked   SEQUENCE OF SEQUENCE {
    ///         serial     CertificateSerialNumber,
    ///         revokedAt  INTEGER,                      -- seconds since the epoch
    ///         reason     [0] IMPLICIT INTEGER OPTIONAL -- CRLReason code
    ///     }
    /// }
    /// ```
    ///
    /// The CA key and certificates are not part of it.
    pub fn export_state(&self) -> Vec<u8> {
        let state = StateDer {
            version: STATE_VERSION,
            issued: self.issued.values().cloned().collect(),
            revoked: self
                .revoked
                .values()
                .filter_map(|r| {
                    Some(RevocationDer {
                        serial: SerialNumber::new(&r.serial).ok()?,
                        revoked_at: r.revoked_at.unix_secs(),
                        reason: r.reason,
                    })
                })
                .collect(),
        };
        // Everything in the state was built or checked by this CA, so it
        // encodes; an empty result would fail `import_state` loudly.
        state.to_der().unwrap_or_default()
    }

    /// Replace the issued and revoked records with those saved by
    /// [`ReferenceCa::export_state`].
    ///
    /// Every certificate must be issued by this CA (issuer name and a
    /// signature that verifies with the CA key), every revoked serial must be
    /// among them, and nothing may appear twice; otherwise this fails with
    /// [`CaError::BadState`] and leaves the records as they were.
    pub fn import_state(&mut self, bytes: &[u8]) -> Result<(), CaError> {
        let state = StateDer::from_der(bytes).map_err(|_| CaError::BadState("malformed DER"))?;
        if state.version != STATE_VERSION {
            return Err(CaError::BadState("unsupported state version"));
        }
        let ca_spki = self.key.public_key();
        let mut issued = BTreeMap::new();
        for cert in state.issued {
            if cert.tbs_certificate().issuer() != self.name() {
                return Err(CaError::BadState("certificate issued by another CA"));
            }
            let signature = cert.signature().as_bytes().ok_or(CaError::BadState(
                "signature is not a whole number of bytes",
            ))?;
            verify_signed(
                &ca_spki,
                cert.signature_algorithm(),
                &cert.tbs_certificate().to_der()?,
                signature,
            )
            .map_err(|_| CaError::BadState("certificate not signed by this CA's key"))?;
            if issued.insert(serial_of(&cert), cert).is_some() {
                return Err(CaError::BadState("serial number appears twice"));
            }
        }
        let mut revoked = BTreeMap::new();
        for record in state.revoked {
            let serial = normalize_serial(record.serial.as_bytes());
            if !issued.contains_key(&serial) {
                return Err(CaError::BadState("revoked serial number was not issued"));
            }
            if let Some(code) = record.reason {
                crl_reason(code).map_err(|_| CaError::BadState("invalid reason code"))?;
            }
            let entry = Revocation {
                serial: serial.clone(),
                revoked_at: Timestamp::from_unix_secs(record.revoked_at),
                reason: record.reason,
            };
            if revoked.insert(serial, entry).is_some() {
                return Err(CaError::BadState("revoked serial number appears twice"));
            }
        }
        self.issued = issued;
        self.revoked = revoked;
        Ok(())
    }

    /// The issuing CA certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The issuing CA certificate first, then the chain up to the root.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// The root of the chain (the CA certificate itself if it is the root).
    pub fn root(&self) -> &Certificate {
        self.chain.last().unwrap_or(&self.cert)
    }

    /// The CA's signing key.
    pub fn signing_key(&self) -> &PrivateKey {
        &self.key
    }

    /// The private key a requester archives with `request`
    /// (pkiArchiveOptions, [`cmp_core::archive`]), encrypted for this CA's
    /// key or under the request's MAC secret, and checked to belong to the
    /// requested public key; `None` when the request archives nothing.
    pub fn archived_key(
        &self,
        request: &cmp_core::server::PendingRequest,
    ) -> cmp_core::Result<Option<cmp_core::keygen::PrivateKeyDer>> {
        use cmp_core::crypto::EnvelopeOpener;
        let ca = crate::EnvelopeKey::private_key(self.key.clone(), self.cert.clone());
        let password = request.mac_secret().map(crate::EnvelopeKey::password);
        let mut openers: Vec<&dyn EnvelopeOpener> = vec![&ca];
        openers.extend(password.as_ref().map(|k| k as &dyn EnvelopeOpener));
        request.archived_key(&openers)
    }

    /// The CA's name: the subject of its certificate, the issuer of what it
    /// issues.
    pub fn name(&self) -> &Name {
        self.cert.tbs_certificate().subject()
    }

    /// Extensions of an end-entity certificate for `subject` and `spki`,
    /// taking subjectAltName, keyUsage and extendedKeyUsage from `requested`.
    fn end_entity_extensions(
        &self,
        subject: &Name,
        spki: &SubjectPublicKeyInfoOwned,
        requested: &[Extension],
    ) -> Result<Vec<Extension>, CaError> {
        let mut san = None;
        let mut key_usage = None;
        let mut eku = None;
        for ext in requested {
            let bytes = ext.extn_value.as_bytes();
            if ext.extn_id == SubjectAltName::OID {
                let value = SubjectAltName::from_der(bytes)
                    .map_err(|_| CaError::BadTemplate("malformed subjectAltName"))?;
                if value.0.is_empty() {
                    return Err(CaError::BadTemplate("empty subjectAltName"));
                }
                if san.replace(value).is_some() {
                    return Err(CaError::BadTemplate("subjectAltName requested twice"));
                }
            } else if ext.extn_id == KeyUsage::OID {
                let value = KeyUsage::from_der(bytes)
                    .map_err(|_| CaError::BadTemplate("malformed keyUsage"))?;
                if value.0.is_empty() {
                    return Err(CaError::BadTemplate("keyUsage without any bit"));
                }
                if value.0.contains(KeyUsages::KeyCertSign) {
                    return Err(CaError::BadTemplate(
                        "keyCertSign requested for an end entity",
                    ));
                }
                if key_usage.replace(value).is_some() {
                    return Err(CaError::BadTemplate("keyUsage requested twice"));
                }
            } else if ext.extn_id == ExtendedKeyUsage::OID {
                let value = ExtendedKeyUsage::from_der(bytes)
                    .map_err(|_| CaError::BadTemplate("malformed extendedKeyUsage"))?;
                if value.0.is_empty() {
                    return Err(CaError::BadTemplate("empty extendedKeyUsage"));
                }
                if eku.replace((value, ext.critical)).is_some() {
                    return Err(CaError::BadTemplate("extendedKeyUsage requested twice"));
                }
            }
        }
        if subject.is_empty() && san.is_none() {
            return Err(CaError::BadTemplate("empty subject needs a subjectAltName"));
        }

        // A KEM key can only encapsulate (ML-KEM in X.509: keyEncipherment,
        // and nothing else); every other key signs by default.
        let kem_key = cmp_core::kem::kem_from_oid(&spki.algorithm.oid).is_ok();
        let key_usage = match key_usage {
            Some(ku) if kem_key && ku.0 != KeyUsages::KeyEncipherment => {
                return Err(CaError::BadTemplate(
                    "a KEM key's keyUsage is keyEncipherment only",
                ));
            }
            Some(ku) => ku,
            None if kem_key => KeyUsage(KeyUsages::KeyEncipherment.into()),
            None => KeyUsage(KeyUsages::DigitalSignature.into()),
        };
        let basic = BasicConstraints {
            ca: false,
            path_len_constraint: None,
        };
        let mut out = vec![extension(&basic, true)?, extension(&key_usage, true)?];
        if let Some((eku, critical)) = eku {
            out.push(extension(&eku, critical)?);
        }
        if let Some(san) = san {
            // RFC 5280 section 4.2.1.6: critical when the subject is empty.
            out.push(extension(&san, subject.is_empty())?);
        }
        out.push(extension(
            &SubjectKeyIdentifier(OctetString::new(key_identifier(spki))?),
            false,
        )?);
        out.push(extension(
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(self.key_id.clone())?),
                ..Default::default()
            },
            false,
        )?);
        Ok(out)
    }

    /// Validity from one minute before `now` for `secs` seconds after `now`,
    /// ending no later than the CA certificate.
    fn end_entity_validity(&self, now: Timestamp, secs: u64) -> Result<Validity, CaError> {
        let ca_not_after = self
            .cert
            .tbs_certificate()
            .validity()
            .not_after
            .to_unix_duration()
            .as_secs();
        validity(now, secs, Some(Timestamp::from_unix_secs(ca_not_after)))
    }
}

/// The saved form of [`ReferenceCa`]'s records (see `export_state`).
#[derive(Sequence)]
struct StateDer {
    version: u8,
    issued: Vec<Certificate>,
    revoked: Vec<RevocationDer>,
}

/// One revocation record in [`StateDer`].
#[derive(Sequence)]
struct RevocationDer {
    serial: SerialNumber,
    revoked_at: u64,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    reason: Option<u8>,
}

/// The [`BuilderProfile`] of every certificate this module makes: names and
/// extensions fixed in advance.
struct FixedProfile {
    issuer: Name,
    subject: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for FixedProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

/// A public key as the certificate builder wants it from a signer.
#[derive(Clone)]
struct PublicKey(SubjectPublicKeyInfoOwned);

impl EncodePublicKey for PublicKey {
    fn to_public_key_der(&self) -> spki::Result<Document> {
        Ok(Document::encode_msg(&self.0)?)
    }
}

/// [`PrivateKey`] in the shape of the certificate builder's signer bounds;
/// the signature itself is made with [`SigningKey::sign`].
struct BuilderSigner<'a>(&'a PrivateKey);

impl Keypair for BuilderSigner<'_> {
    type VerifyingKey = PublicKey;

    fn verifying_key(&self) -> PublicKey {
        PublicKey(self.0.public_key())
    }
}

impl DynSignatureAlgorithmIdentifier for BuilderSigner<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(self.0.algorithm_identifier())
    }
}

/// Build and sign a v3 certificate with `signer`.
fn sign_certificate(
    signer: &PrivateKey,
    issuer: Name,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    serial: SerialNumber,
    validity: Validity,
    extensions: Vec<Extension>,
) -> Result<Certificate, CaError> {
    let profile = FixedProfile {
        issuer,
        subject,
        extensions,
    };
    let adapter = BuilderSigner(signer);
    let mut builder = CertificateBuilder::new(profile, serial, validity, spki)?;
    let tbs = builder.finalize(&adapter)?;
    let signature = signer.sign(&tbs)?;
    Ok(builder.assemble(BitString::from_bytes(&signature)?, &adapter)?)
}

/// Extensions of a CA certificate.
fn ca_extensions(
    subject_key_id: &[u8],
    authority_key_id: &[u8],
    path_len: Option<u8>,
) -> Result<Vec<Extension>, CaError> {
    let basic = BasicConstraints {
        ca: true,
        path_len_constraint: path_len,
    };
    let usage = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature);
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(authority_key_id)?),
        ..Default::default()
    };
    Ok(vec![
        extension(&basic, true)?,
        extension(&usage, true)?,
        extension(
            &SubjectKeyIdentifier(OctetString::new(subject_key_id)?),
            false,
        )?,
        extension(&aki, false)?,
    ])
}

/// An extension holding the DER of `value`.
fn extension<T: Encode + AssociatedOid>(value: &T, critical: bool) -> Result<Extension, CaError> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// Key identifier of RFC 5280 section 4.2.1.2, method 1: SHA-1 of the
/// subjectPublicKey BIT STRING's bytes.
fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    hash::digest(
        DigestAlgorithm::Sha1,
        &[spki.subject_public_key.raw_bytes()],
    )
}

/// A Name with the single attribute commonName = `cn` (a UTF8String).
fn common_name(cn: &str) -> Result<Name, CaError> {
    let value = Any::encode_from(&Utf8StringRef::new(cn)?)?;
    let rdn = RelativeDistinguishedName::try_from(vec![AttributeTypeAndValue {
        oid: COMMON_NAME,
        value,
    }])?;
    let rdns = RdnSequence::from(vec![rdn]);
    Ok(Name::from_der(&rdns.to_der()?)?)
}

/// A random positive serial number of exactly [`SERIAL_LEN`] bytes (the top
/// bit clear, the next one set: 126 random bits).
fn random_serial() -> Result<SerialNumber, CaError> {
    let mut bytes = [0u8; SERIAL_LEN];
    rng::fill(&mut bytes)?;
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0x3f) | 0x40;
    }
    Ok(SerialNumber::new(&bytes)?)
}

/// A serial number without leading zero bytes (one zero byte for zero).
fn normalize_serial(serial: &[u8]) -> Vec<u8> {
    let start = serial
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(serial.len().saturating_sub(1));
    serial.get(start..).unwrap_or_default().to_vec()
}

/// The normalized serial number of `cert`.
fn serial_of(cert: &Certificate) -> Vec<u8> {
    normalize_serial(cert.tbs_certificate().serial_number().as_bytes())
}

/// `t` as an X.509 Time (UTCTime through 2049, GeneralizedTime after).
fn x509_time(t: Timestamp) -> Result<Time, CaError> {
    DateTime::from_unix_duration(Duration::from_secs(t.unix_secs()))
        .map(Time::from)
        .map_err(|_| CaError::TimeOutOfRange)
}

/// Validity from one minute before `now` to `secs` after it, capped at
/// `cap` if given.
fn validity(now: Timestamp, secs: u64, cap: Option<Timestamp>) -> Result<Validity, CaError> {
    let not_before = Timestamp::from_unix_secs(now.unix_secs().saturating_sub(BACKDATE_SECS));
    let mut not_after = now.plus_secs(secs);
    if let Some(cap) = cap {
        not_after = not_after.min(cap);
    }
    if not_after < not_before {
        return Err(CaError::TimeOutOfRange);
    }
    Ok(Validity::new(x509_time(not_before)?, x509_time(not_after)?))
}

/// The CRLReason for `code`, if a base CRL may carry it.
fn crl_reason(code: u8) -> Result<CrlReason, CaError> {
    Ok(match code {
        0 => CrlReason::Unspecified,
        1 => CrlReason::KeyCompromise,
        2 => CrlReason::CaCompromise,
        3 => CrlReason::AffiliationChanged,
        4 => CrlReason::Superseded,
        5 => CrlReason::CessationOfOperation,
        6 => CrlReason::CertificateHold,
        9 => CrlReason::PrivilegeWithdrawn,
        10 => CrlReason::AaCompromise,
        _ => return Err(CaError::InvalidReason(code)),
    })
}

/// Verify a signature by `spki` over `message` under `alg`.
fn verify_signed(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CaError> {
    let sig_alg = signature_from_identifier(alg)
        .map_err(|_| CaError::Crypto(CryptoError::Unsupported("signature algorithm")))?;
    provider().verify_signature(sig_alg, alg, spki, message, signature)?;
    Ok(())
}
