//! What a client asks for, and the request bodies built from it.

use alloc::sync::Arc;
use alloc::vec::Vec;

use der::asn1::{Any, OctetString};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::asn1::{
    AttributeTypeAndValue, CertId, CertReqMsg, CertRequest, CertTemplate, PkiBody, RevDetails, oid,
};
use crate::crypto::{DecapsulationKey, EnvelopeOpener, SigningKey};
use crate::error::{Error, Result};
use crate::pop;

/// Which enrollment body to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnrollKind {
    /// Initialization request (first certificate from this PKI).
    Ir,
    /// Certification request (another certificate).
    Cr,
    /// Key update request (renew a certificate with a new key).
    Kur,
    /// Cross-certification request: a CA asks another CA to certify its
    /// (CA) public key (RFC 9810 section 5.3.11); answered with ccp.
    Ccr,
}

/// How proof-of-possession is given.
#[derive(Clone)]
pub enum PopMethod {
    /// The new key signs the request (RFC 4211 section 4.1).
    Signature(Arc<dyn SigningKey>),
    /// An RA vouches for possession; the public key is given.
    RaVerified(SubjectPublicKeyInfoOwned),
    /// No POP at all (negative tests).
    None(SubjectPublicKeyInfoOwned),
    /// A KEM key (ML-KEM): ask for the certificate encrypted to it and prove
    /// possession by decrypting it (indirect method, RFC 9810 section
    /// 5.2.8.3, [`crate::pop_kem`]). The request is sent with pvno 3.
    EncryptedCert(Arc<dyn DecapsulationKey>),
    /// A KEM key (ML-KEM): prove possession by answering the responder's
    /// challenge (direct method, `subsequentMessage challengeResp`, RFC 9810
    /// section 5.2.8.3, [`crate::pop_challenge`]): the ir/cr/kur is answered
    /// by a popdecc, the transaction decrypts it and sends the popdecr, and
    /// the certificate then comes in the clear. The request is sent with
    /// pvno 3.
    ChallengeResponse(Arc<dyn DecapsulationKey>),
    /// Central key generation (RFC 9483 section 4.1.6): the PKI generates
    /// the key and returns it encrypted; no POP is sent.
    CentralKeyGen {
        /// The key type wanted (the algorithm of the template's public key,
        /// sent with an empty key); `None` leaves it to the PKI.
        algorithm: Option<spki::AlgorithmIdentifierOwned>,
        /// Opens the returned EnvelopedData: the private key of the
        /// protection certificate (RSA: key transport, EC: key agreement),
        /// or the MAC shared secret (password).
        opener: Arc<dyn EnvelopeOpener>,
    },
}

impl PopMethod {
    /// The template's public key: `None` for central key generation
    /// without a key type.
    fn template_key(&self) -> Option<SubjectPublicKeyInfoOwned> {
        match self {
            Self::Signature(key) => Some(key.public_key()),
            Self::RaVerified(spki) | Self::None(spki) => Some(spki.clone()),
            Self::EncryptedCert(key) | Self::ChallengeResponse(key) => Some(key.public_key()),
            Self::CentralKeyGen { algorithm, .. } => {
                algorithm.as_ref().map(|alg| SubjectPublicKeyInfoOwned {
                    algorithm: alg.clone(),
                    subject_public_key: empty_bit_string(),
                })
            }
        }
    }
}

impl core::fmt::Debug for PopMethod {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Signature(key) => f.debug_tuple("Signature").field(key).finish(),
            Self::RaVerified(_) => f.write_str("RaVerified"),
            Self::None(_) => f.write_str("None"),
            Self::EncryptedCert(_) => f.write_str("EncryptedCert"),
            Self::ChallengeResponse(_) => f.write_str("ChallengeResponse"),
            Self::CentralKeyGen { algorithm, .. } => f
                .debug_struct("CentralKeyGen")
                .field("algorithm", &algorithm.as_ref().map(|a| a.oid))
                .finish_non_exhaustive(),
        }
    }
}

/// An ir, cr or kur.
#[derive(Clone)]
pub struct EnrollRequest {
    /// ir, cr or kur.
    pub kind: EnrollKind,
    /// Subject to request (kur: defaults to the old certificate's subject).
    pub subject: Option<Name>,
    /// Extensions to request (SAN, key usage, ...).
    pub extensions: Vec<Extension>,
    /// The new key and how its possession is proven.
    pub pop: PopMethod,
    /// kur: the certificate to update (sent as the oldCertID control).
    pub old_cert: Option<Certificate>,
    /// Further controls of the request, after oldCertID: e.g. the
    /// pkiArchiveOptions of [`crate::archive::archive_control`], a regToken.
    pub controls: Vec<AttributeTypeAndValue>,
    /// certReqId (RFC 9483: 0).
    pub cert_req_id: i64,
}

impl EnrollRequest {
    /// A request of `kind` for `subject` with a signing key as POP.
    pub fn new(kind: EnrollKind, subject: Option<Name>, key: Arc<dyn SigningKey>) -> Self {
        Self {
            kind,
            subject,
            extensions: Vec::new(),
            pop: PopMethod::Signature(key),
            old_cert: None,
            controls: Vec::new(),
            cert_req_id: 0,
        }
    }

    /// A request of `kind` for `subject` with a centrally generated key
    /// (RFC 9483 section 4.1.6) of the type `algorithm` (e.g. `id-ecPublicKey`
    /// with the curve; `None`: the PKI chooses). `opener` decrypts the key
    /// the PKI returns.
    pub fn central_keygen(
        kind: EnrollKind,
        subject: Option<Name>,
        algorithm: Option<spki::AlgorithmIdentifierOwned>,
        opener: Arc<dyn EnvelopeOpener>,
    ) -> Self {
        Self {
            kind,
            subject,
            extensions: Vec::new(),
            pop: PopMethod::CentralKeyGen { algorithm, opener },
            old_cert: None,
            controls: Vec::new(),
            cert_req_id: 0,
        }
    }

    /// The public key to be certified (for central key generation: the
    /// requested algorithm with an empty key, or an empty SPKI).
    pub fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.pop
            .template_key()
            .unwrap_or_else(|| SubjectPublicKeyInfoOwned {
                algorithm: spki::AlgorithmIdentifierOwned {
                    oid: der::asn1::ObjectIdentifier::new_unwrap("0.0"),
                    parameters: None,
                },
                subject_public_key: empty_bit_string(),
            })
    }

    /// Whether the key is to be generated centrally.
    pub fn is_central_keygen(&self) -> bool {
        matches!(self.pop, PopMethod::CentralKeyGen { .. })
    }

    /// The subject that will be requested.
    pub fn requested_subject(&self) -> Option<Name> {
        self.subject.clone().or_else(|| {
            self.old_cert
                .as_ref()
                .map(|c| c.tbs_certificate().subject().clone())
        })
    }

    /// Build the ir/cr/kur body.
    pub fn to_body(&self) -> Result<PkiBody> {
        let template = CertTemplate {
            subject: self.requested_subject(),
            public_key: self.pop.template_key(),
            extensions: if self.extensions.is_empty() {
                None
            } else {
                Some(self.extensions.clone())
            },
            ..Default::default()
        };
        let mut controls = Vec::with_capacity(self.controls.len().saturating_add(1));
        if let Some(old) = &self.old_cert {
            let id = cert_id(old)?;
            controls.push(AttributeTypeAndValue {
                oid: oid::REG_CTRL_OLD_CERT_ID,
                value: Any::encode_from(&id).map_err(Error::Encode)?,
            });
        }
        controls.extend(self.controls.iter().cloned());
        let cert_req = CertRequest {
            cert_req_id: self.cert_req_id,
            cert_template: template,
            controls: (!controls.is_empty()).then_some(controls),
        };
        let popo = match &self.pop {
            PopMethod::Signature(key) => Some(pop::signature_pop(&cert_req, key.as_ref())?),
            PopMethod::RaVerified(_) => Some(pop::ra_verified()),
            PopMethod::None(_) | PopMethod::CentralKeyGen { .. } => None,
            PopMethod::EncryptedCert(_) => Some(crate::pop_kem::encr_cert_pop()),
            PopMethod::ChallengeResponse(_) => Some(crate::pop_challenge::challenge_resp_pop()),
        };
        let msgs = alloc::vec![CertReqMsg {
            cert_req,
            popo,
            reg_info: None
        }];
        Ok(match self.kind {
            EnrollKind::Ir => PkiBody::Ir(msgs),
            EnrollKind::Cr => PkiBody::Cr(msgs),
            EnrollKind::Kur => PkiBody::Kur(msgs),
            EnrollKind::Ccr => PkiBody::Ccr(msgs),
        })
    }
}

/// The empty BIT STRING of a template key whose value the PKI generates.
fn empty_bit_string() -> der::asn1::BitString {
    der::asn1::BitString::new(0, Vec::new())
        .unwrap_or_else(|_| unreachable!("an empty BIT STRING with no unused bits is valid"))
}

/// The CertId (issuer, serial) of a certificate.
pub(crate) fn cert_id(cert: &Certificate) -> Result<CertId> {
    let tbs = cert.tbs_certificate();
    Ok(CertId {
        issuer: GeneralName::DirectoryName(tbs.issuer().clone()),
        serial_number: der::asn1::Int::new(tbs.serial_number().as_bytes())
            .map_err(Error::Encode)?,
    })
}

/// A revocation request.
#[derive(Clone, Debug)]
pub struct RevokeRequest {
    /// The certificate to revoke (its issuer and serial number are sent).
    pub cert: Certificate,
    /// CRL reason code (RFC 5280 section 5.3.1), if any.
    pub reason: Option<u8>,
}

impl RevokeRequest {
    /// Build the rr body.
    pub fn to_body(&self) -> Result<PkiBody> {
        let tbs = self.cert.tbs_certificate();
        let serial = der::asn1::Int::new(tbs.serial_number().as_bytes()).map_err(Error::Encode)?;
        let template = CertTemplate {
            issuer: Some(tbs.issuer().clone()),
            serial_number: Some(serial),
            ..Default::default()
        };
        let crl_entry_details = match self.reason {
            Some(r) => Some(alloc::vec![crl_reason_extension(r)?]),
            None => None,
        };
        Ok(PkiBody::Rr(alloc::vec![RevDetails {
            cert_details: template,
            crl_entry_details
        }]))
    }
}

/// The reasonCode CRL entry extension (id-ce-cRLReasons, ENUMERATED).
pub fn crl_reason_extension(reason: u8) -> Result<Extension> {
    if reason > 10 || reason == 7 {
        return Err(Error::Usage("CRL reason codes are 0..=10 without 7"));
    }
    // ENUMERATED: tag 0x0a, length 1
    let value = [0x0a, 0x01, reason];
    Ok(Extension {
        extn_id: der::asn1::ObjectIdentifier::new_unwrap("2.5.29.21"),
        critical: false,
        extn_value: OctetString::new(value.to_vec()).map_err(Error::Encode)?,
    })
}

/// The general messages of RFC 9483 section 4.3, and any other InfoTypeAndValue.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum GenmRequest {
    /// Get CA certificates (4.3.1): id-it-caCerts, no value; answered with caCerts.
    CaCerts,
    /// Get a root CA certificate update (4.3.2): id-it-rootCaCert with the
    /// root in use, if known; answered with rootCaKeyUpdate.
    RootCaUpdate {
        /// The root CA certificate the end entity trusts now.
        old_root: Option<Certificate>,
    },
    /// Get a certificate request template (4.3.3): id-it-certReqTemplate, no value.
    CertReqTemplate,
    /// Get CRL updates (4.3.4): id-it-crlStatusList with the CRLs held; answered with crls.
    CrlUpdate(Vec<crate::asn1::CrlStatus>),
    /// Anything else.
    Other(crate::asn1::InfoTypeAndValue),
}

impl GenmRequest {
    /// The InfoTypeAndValue to send.
    pub fn to_itav(&self) -> Result<crate::asn1::InfoTypeAndValue> {
        use crate::asn1::InfoValue;
        let value = match self {
            Self::CaCerts => InfoValue::CaCerts(None),
            Self::RootCaUpdate { old_root } => InfoValue::RootCaCert(old_root.clone()),
            Self::CertReqTemplate => InfoValue::CertReqTemplate(None),
            Self::CrlUpdate(list) => InfoValue::CrlStatusList(list.clone()),
            Self::Other(itav) => return Ok(itav.clone()),
        };
        value.to_itav().map_err(Error::Encode)
    }

    /// The infoType expected in the genp.
    pub fn response_type(&self) -> der::asn1::ObjectIdentifier {
        match self {
            Self::CaCerts => oid::IT_CA_CERTS,
            Self::RootCaUpdate { .. } => oid::IT_ROOT_CA_KEY_UPDATE,
            Self::CertReqTemplate => oid::IT_CERT_REQ_TEMPLATE,
            Self::CrlUpdate(_) => oid::IT_CRLS,
            Self::Other(itav) => itav.info_type,
        }
    }
}

/// A key recovery request (krr, RFC 9810 section 5.3.8): the PKI returns
/// the archived private keys of `subject` (the key pair history), each
/// encrypted for `opener`, and possibly a new signing certificate for
/// `new_key`.
#[derive(Clone)]
pub struct KeyRecoveryRequest {
    /// Whose keys to recover (the template's subject).
    pub subject: Option<Name>,
    /// A new signing key to certify (sent with a signature POP), if any.
    pub new_key: Option<Arc<dyn SigningKey>>,
    /// A certificate whose keys are to be recovered (the oldCertID control).
    pub old_cert: Option<Certificate>,
    /// Opens the EnvelopedData of the recovered keys (see [`PopMethod::CentralKeyGen`]).
    pub opener: Arc<dyn EnvelopeOpener>,
}

impl core::fmt::Debug for KeyRecoveryRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyRecoveryRequest")
            .field("subject", &self.subject)
            .field("new_key", &self.new_key.is_some())
            .finish_non_exhaustive()
    }
}

impl KeyRecoveryRequest {
    /// Recover the keys of `subject`, decrypting them with `opener`.
    pub fn new(subject: Option<Name>, opener: Arc<dyn EnvelopeOpener>) -> Self {
        Self {
            subject,
            new_key: None,
            old_cert: None,
            opener,
        }
    }

    /// Build the krr body.
    pub fn to_body(&self) -> Result<PkiBody> {
        let template = CertTemplate {
            subject: self.subject.clone(),
            public_key: self.new_key.as_ref().map(|k| k.public_key()),
            ..Default::default()
        };
        let controls = match &self.old_cert {
            Some(old) => {
                let value = Any::encode_from(&cert_id(old)?).map_err(Error::Encode)?;
                Some(alloc::vec![AttributeTypeAndValue {
                    oid: oid::REG_CTRL_OLD_CERT_ID,
                    value
                }])
            }
            None => None,
        };
        let cert_req = CertRequest {
            cert_req_id: 0,
            cert_template: template,
            controls,
        };
        let popo = match &self.new_key {
            Some(key) => Some(pop::signature_pop(&cert_req, key.as_ref())?),
            None => None,
        };
        Ok(PkiBody::Krr(alloc::vec![CertReqMsg {
            cert_req,
            popo,
            reg_info: None
        }]))
    }
}
