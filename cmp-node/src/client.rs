//! The client side: `ClientConfig`, `ClientTransaction` and the `Step`
//! objects `handleResponse` / `confirm` return.

use std::sync::Arc;

use cmp_core::asn1::{FailureBit, InfoValue, PkiStatus, PkiStatusInfo};
use cmp_core::client::{
    ClientConfig as CoreConfig, ClientEvent, ClientTransaction as CoreTransaction, Confirmation,
    EnrollKind, EnrollRequest, GenmRequest, KeyRecoveryRequest, PopMethod, RevokeRequest,
    TransactionKind,
};
use cmp_core::crypto::{CryptoProvider, DecapsulationKey, SigningKey};
use cmp_core::kem;
use cmp_core::protection::{MacScheme, Protector};
use cmp_core::trust::TrustStore;
use cmp_crypto_rustcrypto::envelope::key_type_identifier;
use cmp_crypto_rustcrypto::{EnvelopeKey, KeyAlgorithm, RustCryptoProvider};
use der::asn1::OctetString;
use der::{Decode, DecodePem};
use napi::Either;
use napi::bindgen_prelude::{Buffer, Env, Null};
use napi_derive::napi;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::request::CertReq;

use crate::archive;
use crate::conv::{
    Certs, InfoTypeAndValue, PemOrDer, bit_names, bytes_of, cert_of, certs_der, certs_of, der_of,
    failure_bit_of, itav_of, itav_out, looks_like_pem, millis, name_of, oid_of, timestamp,
};
use crate::errors::{JsResult, Res, decode, encode, usage};
use crate::keys::{kem_key_of, key_of};

pub(crate) fn provider() -> Arc<dyn CryptoProvider> {
    Arc::new(RustCryptoProvider)
}

/// Credentials, trust and policy of a client (`new ClientConfig(options)`).
/// MAC protection: `secret` (and `reference`); signature protection: `key`
/// and `cert` (and `chain`); neither: unprotected requests.
#[napi(object, object_to_js = false)]
pub struct ClientConfigOptions {
    /// MAC: the reference value (senderKID), e.g. "1234".
    pub reference: Option<PemOrDer>,
    /// MAC: the shared secret, e.g. "1234-5678".
    pub secret: Option<PemOrDer>,
    /// MAC: use PBMAC1 (RFC 9481) instead of PasswordBasedMac.
    pub pbmac1: Option<bool>,
    /// Signature: the private key (PEM or DER).
    pub key: Option<PemOrDer>,
    /// Signature: the certificate of `key` (PEM or DER).
    pub cert: Option<PemOrDer>,
    /// Signature: intermediates sent in extraCerts after `cert`.
    pub chain: Option<Certs>,
    /// Trust anchors for signature-protected responses.
    pub server_trust: Option<Certs>,
    /// Untrusted intermediates for building the server's chain.
    pub untrusted: Option<Certs>,
    /// Secret for MAC-protected responses (default: `secret`).
    pub response_secret: Option<PemOrDer>,
    /// The sender name (default: the signer's subject, else the requested subject).
    pub sender: Option<String>,
    /// The recipient name (the CA; default: NULL-DN).
    pub recipient: Option<String>,
    /// Responses must come from this sender.
    pub expected_sender: Option<String>,
    /// Accept unprotected responses (negative tests only).
    pub accept_unprotected_responses: Option<bool>,
    /// Largest accepted messageTime skew in seconds (default 600; null: not checked).
    pub max_time_skew: Option<Either<u32, Null>>,
    /// Ask for implicit confirmation.
    pub implicit_confirm: Option<bool>,
    /// Protocol version of requests: 2 (default) or 3.
    pub pvno: Option<u32>,
    /// Give up when a transaction takes longer than this many seconds.
    pub total_timeout: Option<u32>,
    /// Extra certificates for every request's extraCerts.
    pub extra_certs: Option<Certs>,
    /// KEM-based MAC (RFC 9810 section 5.1.3.4): protect with the shared
    /// secret of the genp's KemCiphertextInfo, decapsulated with an ML-KEM
    /// key. Set `transactionId` to that of the genm.
    pub kem: Option<KemProtection>,
    /// The transactionID of the first message (default: fresh random); the
    /// KEM-based MAC is bound to it.
    pub transaction_id: Option<Buffer>,
    /// Extra generalInfo of the first request (e.g. the `info` of
    /// `kemEncapsulate` for a responder's KEM key).
    pub first_general_info: Option<Vec<InfoTypeAndValue>>,
    /// KEM-based MAC with a secret encapsulated to the responder's ML-KEM
    /// key (the `sharedSecret` of `kemEncapsulate`; put its `info` in
    /// `firstGeneralInfo`). `reference` is the senderKID.
    pub kem_shared_secret: Option<Buffer>,
}

/// KEM-based MAC protection from a genp that carries a KEM ciphertext.
#[napi(object, object_to_js = false)]
pub struct KemProtection {
    /// The ML-KEM private key (PKCS#8 PEM or DER, `KemPrivateKey.toDer()`).
    pub key: PemOrDer,
    /// The genp content (`step.infos` of the genm answer).
    pub genp: Vec<InfoTypeAndValue>,
    /// The senderKID (e.g. the KEM certificate's subject key identifier).
    pub reference: Option<PemOrDer>,
}

/// What `kemEncapsulate` returns.
#[napi(object)]
pub(crate) struct KemEncapsulation {
    /// The KemCiphertextInfo, for a genp or the first request's generalInfo.
    pub info: InfoTypeAndValue,
    /// The shared secret (the key of the KEM-based MAC).
    pub shared_secret: Buffer,
}

/// Encapsulate a fresh shared secret to the ML-KEM public key `spki`
/// (DER SubjectPublicKeyInfo, e.g. from the responder's KEM certificate).
#[napi]
pub(crate) fn kem_encapsulate(env: Env, spki: Buffer) -> napi::Result<KemEncapsulation> {
    let run = || -> Res<KemEncapsulation> {
        let recipient = SubjectPublicKeyInfoOwned::from_der(&spki).map_err(decode)?;
        let p = provider();
        let (itav, secret) = kem::encapsulate_to(&recipient, p.as_ref())?;
        Ok(KemEncapsulation {
            info: itav_out(&itav)?,
            shared_secret: Buffer::from(secret),
        })
    };
    run().js(&env)
}

fn protector_of(o: &ClientConfigOptions) -> Res<Protector> {
    if let Some(k) = &o.kem {
        if o.secret.is_some()
            || o.key.is_some()
            || o.cert.is_some()
            || o.kem_shared_secret.is_some()
        {
            return Err(usage("give kem, secret or key and cert, not several"));
        }
        let genp = k.genp.iter().map(itav_of).collect::<Res<Vec<_>>>()?;
        let reference = k.reference.as_ref().map(bytes_of).unwrap_or_default();
        return Ok(kem::client_protector(
            &genp,
            &kem_key_of(&k.key)?,
            reference,
        )?);
    }
    if let Some(shared) = &o.kem_shared_secret {
        if o.secret.is_some() || o.key.is_some() || o.cert.is_some() {
            return Err(usage(
                "give kemSharedSecret, secret or key and cert, not several",
            ));
        }
        let reference = o.reference.as_ref().map(bytes_of).unwrap_or_default();
        return Ok(kem::mac_protector(shared.to_vec(), reference));
    }
    match (&o.secret, &o.key, &o.cert) {
        (Some(_), Some(_), _) => Err(usage(
            "give either secret (MAC) or key and cert (signature), not both",
        )),
        (Some(secret), None, _) => Ok(Protector::Mac {
            reference: o
                .reference
                .as_ref()
                .map(|r| bytes_of(r).to_vec())
                .unwrap_or_default(),
            secret: bytes_of(secret).to_vec(),
            scheme: if o.pbmac1.unwrap_or(false) {
                MacScheme::PBMAC1_SHA256
            } else {
                MacScheme::PBM_SHA256
            },
        }),
        (None, Some(key), Some(cert)) => Ok(Protector::Signature {
            key: Arc::new(key_of(key)?),
            cert: cert_of(cert)?,
            chain: certs_of(o.chain.as_ref())?,
        }),
        (None, Some(_), None) | (None, None, Some(_)) => {
            Err(usage("signature protection needs both key and cert"))
        }
        (None, None, None) => Ok(Protector::None),
    }
}

/// What opens keys the PKI delivers (central key generation, key
/// recovery): the MAC secret, or the signer's key and certificate.
fn opener_of(o: &ClientConfigOptions) -> Res<Option<Arc<EnvelopeKey>>> {
    Ok(match (&o.secret, &o.key, &o.cert) {
        (Some(secret), None, _) => Some(Arc::new(EnvelopeKey::password(bytes_of(secret)))),
        (None, Some(key), Some(cert)) => Some(Arc::new(EnvelopeKey::private_key(
            key_of(key)?,
            cert_of(cert)?,
        ))),
        _ => None,
    })
}

fn config_of(o: &ClientConfigOptions) -> Res<CoreConfig> {
    let mut c = CoreConfig::new(provider(), protector_of(o)?);
    let anchors = certs_of(o.server_trust.as_ref())?;
    if !anchors.is_empty() {
        c.server_trust = Some(TrustStore::new(anchors));
    }
    c.untrusted = certs_of(o.untrusted.as_ref())?;
    c.response_secret = o.response_secret.as_ref().map(|s| bytes_of(s).to_vec());
    c.sender = o.sender.as_deref().map(name_of).transpose()?;
    c.recipient = o.recipient.as_deref().map(name_of).transpose()?;
    c.expected_sender = o
        .expected_sender
        .as_deref()
        .map(|s| name_of(s).map(GeneralName::DirectoryName))
        .transpose()?;
    c.accept_unprotected_responses = o.accept_unprotected_responses.unwrap_or(false);
    c.max_time_skew = match &o.max_time_skew {
        None => Some(600),
        Some(Either::A(s)) => Some(u64::from(*s)),
        Some(Either::B(_)) => None,
    };
    c.implicit_confirm = o.implicit_confirm.unwrap_or(false);
    c.pvno = match o.pvno.unwrap_or(2) {
        p @ (2 | 3) => u64::from(p),
        _ => return Err(usage("pvno must be 2 or 3")),
    };
    c.total_timeout = o.total_timeout.map(u64::from);
    c.extra_certs = certs_of(o.extra_certs.as_ref())?;
    c.transaction_id = o.transaction_id.as_ref().map(|t| t.to_vec());
    c.first_general_info = o
        .first_general_info
        .as_ref()
        .map(|v| v.iter().map(itav_of).collect::<Res<Vec<_>>>())
        .transpose()?
        .unwrap_or_default();
    Ok(c)
}

/// Everything a client transaction needs besides the request (credentials,
/// trust, policy). Immutable; share it among transactions.
#[napi]
pub struct ClientConfig {
    config: Arc<CoreConfig>,
    /// Opens delivered private keys (none for unprotected clients).
    opener: Option<Arc<EnvelopeKey>>,
}

impl ClientConfig {
    fn opener(&self) -> Res<Arc<EnvelopeKey>> {
        self.opener.clone().ok_or_else(|| {
            usage("delivered keys need a MAC secret or a signer key and cert in the ClientConfig")
        })
    }
}

#[napi]
impl ClientConfig {
    #[napi(constructor)]
    pub fn new(env: Env, options: ClientConfigOptions) -> napi::Result<Self> {
        Ok(Self {
            config: Arc::new(config_of(&options).js(&env)?),
            opener: opener_of(&options).js(&env)?,
        })
    }

    /// "mac", "signature" or "none".
    #[napi(getter, ts_return_type = "'mac' | 'signature' | 'none'")]
    pub fn protection(&self) -> &'static str {
        match self.config.protector {
            Protector::None => "none",
            Protector::Mac { .. } => "mac",
            Protector::Signature { .. } => "signature",
        }
    }

    /// Whether implicit confirmation is requested.
    #[napi(getter)]
    pub fn implicit_confirm(&self) -> bool {
        self.config.implicit_confirm
    }

    /// The protocol version of requests.
    #[napi(getter)]
    pub fn pvno(&self) -> u32 {
        u32::try_from(self.config.pvno).unwrap_or(u32::MAX)
    }
}

/// An extension to request: OID, criticality, DER of extnValue's content.
#[napi(object, object_to_js = false)]
pub struct ExtensionInput {
    /// The extension OID, dotted (e.g. "2.5.29.17" for subjectAltName).
    pub oid: String,
    /// Whether it is critical (default false).
    pub critical: Option<bool>,
    /// The DER value (the content of extnValue).
    pub value: Buffer,
}

/// What to enroll: the new key and the certificate template.
#[napi(object, object_to_js = false)]
pub struct EnrollOptions {
    /// The key to certify (PEM or DER); it signs the proof-of-possession.
    pub key: Option<PemOrDer>,
    /// The subject to request, e.g. "CN=Test Device" (kur: default the old certificate's).
    pub subject: Option<String>,
    /// Extensions to request.
    pub extensions: Option<Vec<ExtensionInput>>,
    /// Proof-of-possession: "signature" (default, needs `key`), "raVerified",
    /// "none", or "centralKeygen": the PKI generates the key (of
    /// `keyAlgorithm`) and delivers it encrypted to the MAC secret or the
    /// signer's key; the step `certificateIssued` then has `privateKey`.
    /// "encryptedCert": certify the ML-KEM key `kemKey`; the CA encrypts
    /// the certificate to it and the client proves possession by
    /// decrypting it (sent with pvno 3). "challengeResponse": certify
    /// `kemKey`; the CA first sends a popdecc challenge encrypted to it,
    /// answered in a popdecr.
    #[napi(
        ts_type = "'signature' | 'raVerified' | 'none' | 'centralKeygen' | 'encryptedCert' | 'challengeResponse'"
    )]
    pub pop: Option<String>,
    /// encryptedCert: the ML-KEM private key to certify, PKCS#8 PEM or DER
    /// (`KemPrivateKey.toDer()`).
    pub kem_key: Option<PemOrDer>,
    /// centralKeygen: the algorithm of the key to generate ("ec:P-256",
    /// "rsa2048", "ed25519", "ml-dsa-44", ...); default: the PKI chooses.
    pub key_algorithm: Option<String>,
    /// The SubjectPublicKeyInfo (DER) when `key` is not given (raVerified / none).
    pub public_key: Option<Buffer>,
    /// kur: the certificate to update (PEM or DER).
    pub old_cert: Option<PemOrDer>,
    /// certReqId (default 0).
    pub cert_req_id: Option<i64>,
    /// Archive `key` at the CA with the request (pkiArchiveOptions, RFC
    /// 4211 section 6.4), encrypted under the MAC secret of the
    /// ClientConfig, or for `archiveCert`; a krr recovers it.
    pub archive_key: Option<bool>,
    /// archiveKey: encrypt the key for this certificate (PEM or DER; the
    /// CA's: key transport to RSA, key agreement with EC) instead of the
    /// MAC secret.
    pub archive_cert: Option<PemOrDer>,
}

/// What key recovery (krr) asks for.
#[napi(object, object_to_js = false)]
pub struct RecoverOptions {
    /// Whose keys: the subject, e.g. "CN=Test Device" (default: the signer's subject).
    pub subject: Option<String>,
    /// A new signing key to certify along (PEM or DER).
    pub new_key: Option<PemOrDer>,
    /// A certificate whose keys are to be recovered (the oldCertID control).
    pub old_cert: Option<PemOrDer>,
}

/// One key pair a key recovery response delivered.
#[napi(object)]
pub struct RecoveredKey {
    /// The certificate of the key, DER.
    pub certificate: Buffer,
    /// The private key, PKCS#8 DER (decrypted, checked to belong to `certificate`).
    pub private_key: Buffer,
}

/// Options of a revocation request.
#[napi(object, object_to_js = false)]
pub struct RevokeOptions {
    /// CRL reason code (RFC 5280 5.3.1): 0 unspecified, 1 keyCompromise, ...
    pub reason: Option<u8>,
}

/// The caller's decision on an issued certificate.
#[napi(object, object_to_js = false)]
pub struct ConfirmOptions {
    /// PKIFailureInfo bit names for a rejection (default ["incorrectData"]).
    pub fail_info: Option<Vec<String>>,
    /// Text for the rejection.
    pub status_string: Option<String>,
}

/// What happened after `handleResponse` or `confirm`; switch on `kind`.
#[napi(discriminant = "kind", discriminant_case = "camelCase")]
pub enum Step {
    /// Nothing to decide: send what `request()` returns and go on.
    Continue,
    /// The server asks to wait: call `handleTimeout` at `until` (ms since the epoch).
    Waiting {
        /// When to call `handleTimeout`, ms since the epoch.
        until: f64,
    },
    /// A certificate was issued: decide with `confirm()`.
    CertificateIssued {
        /// The new certificate, DER.
        certificate: Buffer,
        /// Its issuer chain found in extraCerts and caPubs (issuer first), DER.
        chain: Vec<Buffer>,
        /// caPubs: CA certificates the server offers as trust anchors, DER.
        ca_pubs: Vec<Buffer>,
        /// extraCerts of the response, DER.
        extra_certs: Vec<Buffer>,
        /// Whether the server granted implicit confirmation.
        implicit_confirm_granted: bool,
        /// "accepted" or "grantedWithMods".
        status: String,
        /// The status texts.
        status_string: Vec<String>,
        /// Central key generation: the delivered private key, PKCS#8 DER
        /// (decrypted and checked to belong to `certificate`); else null.
        private_key: Option<Buffer>,
    },
    /// Key recovery: the archived keys arrived (the transaction is complete).
    KeysRecovered {
        /// "accepted" or "grantedWithMods".
        status: String,
        /// The recovered key pairs, in the PKI's order.
        keys: Vec<RecoveredKey>,
        /// A new signing certificate for `newKey`, DER, or null.
        new_sig_cert: Option<Buffer>,
        /// CA certificates, DER.
        ca_certs: Vec<Buffer>,
    },
    /// The revocation was accepted.
    Revoked {
        /// The PKIStatus ("accepted", "revocationWarning", ...).
        status: String,
        /// PKIFailureInfo bit names.
        fail_info: Vec<String>,
        /// The status texts.
        status_string: Vec<String>,
    },
    /// The general response arrived.
    GeneralResponse {
        /// The genp content.
        infos: Vec<InfoTypeAndValue>,
        /// The certificates of a caCerts answer, DER.
        ca_certs: Vec<Buffer>,
    },
    /// The transaction finished successfully.
    Completed,
}

fn step_of(event: ClientEvent) -> Res<Step> {
    Ok(match event {
        ClientEvent::Continue => Step::Continue,
        ClientEvent::Waiting { until } => Step::Waiting {
            until: millis(until),
        },
        ClientEvent::CertificateIssued(i) => Step::CertificateIssued {
            certificate: der_of(&i.cert)?,
            chain: certs_der(&i.chain)?,
            ca_pubs: certs_der(&i.ca_pubs)?,
            extra_certs: certs_der(&i.extra_certs)?,
            implicit_confirm_granted: i.implicit_confirm_granted,
            status: i.status.status.name().to_owned(),
            status_string: i.status.status_string.clone().unwrap_or_default(),
            private_key: i
                .private_key
                .as_ref()
                .map(|k| Buffer::from(k.as_bytes().to_vec())),
        },
        ClientEvent::Revoked { status } => Step::Revoked {
            status: status.status.name().to_owned(),
            fail_info: bit_names(&status).into_iter().map(str::to_owned).collect(),
            status_string: status.status_string.clone().unwrap_or_default(),
        },
        ClientEvent::GeneralResponse(infos) => {
            let mut ca_certs = Vec::new();
            for i in &infos {
                if let Ok(Some(InfoValue::CaCerts(Some(certs)))) = InfoValue::from_itav(i) {
                    ca_certs = certs_der(&certs)?;
                }
            }
            Step::GeneralResponse {
                infos: infos.iter().map(itav_out).collect::<Res<_>>()?,
                ca_certs,
            }
        }
        ClientEvent::Completed => Step::Completed,
        ClientEvent::KeysRecovered(r) => Step::KeysRecovered {
            status: r.status.status.name().to_owned(),
            keys: r
                .keys
                .iter()
                .map(|k| {
                    Ok(RecoveredKey {
                        certificate: der_of(&k.cert)?,
                        private_key: Buffer::from(k.private_key.as_bytes().to_vec()),
                    })
                })
                .collect::<Res<_>>()?,
            new_sig_cert: r.new_sig_cert.as_ref().map(der_of).transpose()?,
            ca_certs: certs_der(&r.ca_certs)?,
        },
    })
}

fn extensions_of(list: Option<&Vec<ExtensionInput>>) -> Res<Vec<Extension>> {
    list.map(|l| l.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            Ok(Extension {
                extn_id: oid_of(&e.oid)?,
                critical: e.critical.unwrap_or(false),
                extn_value: OctetString::new(e.value.to_vec()).map_err(encode)?,
            })
        })
        .collect()
}

fn enroll_request(
    kind: EnrollKind,
    o: &EnrollOptions,
    config: &ClientConfig,
) -> Res<EnrollRequest> {
    let archive_key = o.archive_key.unwrap_or(false);
    if o.archive_cert.is_some() && !archive_key {
        return Err(usage("archiveCert needs archiveKey: true"));
    }
    if archive_key
        && matches!(
            o.pop.as_deref(),
            Some("centralKeygen" | "encryptedCert" | "challengeResponse")
        )
    {
        return Err(usage(
            "archiveKey archives the request's own signing key: not with centralKeygen or a KEM key",
        ));
    }
    if o.pop.as_deref() == Some("centralKeygen") {
        if o.key.is_some() || o.public_key.is_some() {
            return Err(usage(
                "centralKeygen: the PKI makes the key; give no key or publicKey",
            ));
        }
        let algorithm = o
            .key_algorithm
            .as_deref()
            .map(|name| {
                KeyAlgorithm::from_name(name)
                    .map(key_type_identifier)
                    .ok_or_else(|| usage(format!("unknown key algorithm {name:?}")))
            })
            .transpose()?;
        let subject = o.subject.as_deref().map(name_of).transpose()?;
        let mut request = EnrollRequest::central_keygen(kind, subject, algorithm, config.opener()?);
        request.extensions = extensions_of(o.extensions.as_ref())?;
        request.old_cert = o.old_cert.as_ref().map(cert_of).transpose()?;
        request.cert_req_id = o.cert_req_id.unwrap_or(0);
        return Ok(request);
    }
    if let Some(pop @ ("encryptedCert" | "challengeResponse")) = o.pop.as_deref() {
        let kem = o
            .kem_key
            .as_ref()
            .ok_or_else(|| usage(format!("{pop} needs kemKey (an ML-KEM private key)")))?;
        if o.key.is_some() || o.public_key.is_some() {
            return Err(usage(format!(
                "{pop} certifies kemKey; give no key or publicKey"
            )));
        }
        let kem: Arc<dyn DecapsulationKey> = Arc::new(kem_key_of(kem)?);
        return Ok(EnrollRequest {
            kind,
            subject: o.subject.as_deref().map(name_of).transpose()?,
            extensions: extensions_of(o.extensions.as_ref())?,
            pop: if pop == "encryptedCert" {
                PopMethod::EncryptedCert(kem)
            } else {
                PopMethod::ChallengeResponse(kem)
            },
            old_cert: o.old_cert.as_ref().map(cert_of).transpose()?,
            controls: Vec::new(),
            cert_req_id: o.cert_req_id.unwrap_or(0),
        });
    }
    let key = o.key.as_ref().map(key_of).transpose()?;
    let controls = if archive_key {
        let key = key
            .as_ref()
            .ok_or_else(|| usage("archiveKey needs key (the private key to archive)"))?;
        vec![archive::archive_control(
            &config.config,
            key,
            o.archive_cert.as_ref(),
        )?]
    } else {
        Vec::new()
    };
    let spki = match (&o.public_key, &key) {
        (Some(der), _) => Some(SubjectPublicKeyInfoOwned::from_der(der).map_err(decode)?),
        (None, Some(k)) => Some(k.public_key()),
        (None, None) => None,
    };
    let need_spki = || usage("give key or publicKey");
    let pop = match o.pop.as_deref().unwrap_or("signature") {
        "signature" => PopMethod::Signature(Arc::new(
            key.ok_or_else(|| usage("signature proof-of-possession needs key"))?,
        )),
        "raVerified" => PopMethod::RaVerified(spki.ok_or_else(need_spki)?),
        "none" => PopMethod::None(spki.ok_or_else(need_spki)?),
        other => {
            return Err(usage(format!(
                "pop must be 'signature', 'raVerified', 'none', 'centralKeygen', 'encryptedCert' or 'challengeResponse', not {other:?}"
            )));
        }
    };
    Ok(EnrollRequest {
        kind,
        subject: o.subject.as_deref().map(name_of).transpose()?,
        extensions: extensions_of(o.extensions.as_ref())?,
        pop,
        old_cert: o.old_cert.as_ref().map(cert_of).transpose()?,
        controls,
        cert_req_id: o.cert_req_id.unwrap_or(0),
    })
}

fn genm_item(item: &Either<String, InfoTypeAndValue>) -> Res<cmp_core::asn1::InfoTypeAndValue> {
    match item {
        Either::A(name) => {
            let req = match name.as_str() {
                "caCerts" => GenmRequest::CaCerts,
                "certReqTemplate" => GenmRequest::CertReqTemplate,
                "rootCaCert" => GenmRequest::RootCaUpdate { old_root: None },
                "crlStatusList" => GenmRequest::CrlUpdate(Vec::new()),
                "kemCiphertextInfo" => return Ok(kem::ciphertext_request()),
                other => {
                    return Err(usage(format!(
                        "unknown general message {other:?}; give {{ oid, value }} instead"
                    )));
                }
            };
            Ok(req.to_itav()?)
        }
        Either::B(itav) => itav_of(itav),
    }
}

fn csr_of(v: &PemOrDer) -> Res<CertReq> {
    let b = bytes_of(v);
    if looks_like_pem(b) {
        CertReq::from_pem(b).map_err(decode)
    } else {
        CertReq::from_der(b).map_err(decode)
    }
}

/// One CMP transaction on the end-entity side, sans-IO: `request()` gives
/// the bytes to send, `handleResponse()` takes the answer. Times are
/// milliseconds since the epoch (default: now).
#[napi]
pub struct ClientTransaction {
    tx: CoreTransaction,
}

impl ClientTransaction {
    fn enroll(
        env: &Env,
        kind: EnrollKind,
        config: &ClientConfig,
        options: &EnrollOptions,
        now: Option<f64>,
    ) -> napi::Result<Self> {
        let run = || -> Res<Self> {
            let request = enroll_request(kind, options, config)?;
            let tx = CoreTransaction::start_enroll(
                Arc::clone(&config.config),
                &request,
                timestamp(now)?,
            )?;
            Ok(Self { tx })
        };
        run().js(env)
    }
}

#[napi]
impl ClientTransaction {
    /// Start an initialization request (ir).
    #[napi(factory)]
    pub fn ir(
        env: Env,
        config: &ClientConfig,
        options: EnrollOptions,
        now: Option<f64>,
    ) -> napi::Result<Self> {
        Self::enroll(&env, EnrollKind::Ir, config, &options, now)
    }

    /// Start a certification request (cr).
    #[napi(factory)]
    pub fn cr(
        env: Env,
        config: &ClientConfig,
        options: EnrollOptions,
        now: Option<f64>,
    ) -> napi::Result<Self> {
        Self::enroll(&env, EnrollKind::Cr, config, &options, now)
    }

    /// Start a cross-certification request (ccr): a CA asks another CA to
    /// certify its key (`options.key`, `options.subject`); the answer is a ccp.
    #[napi(factory)]
    pub fn ccr(
        env: Env,
        config: &ClientConfig,
        options: EnrollOptions,
        now: Option<f64>,
    ) -> napi::Result<Self> {
        Self::enroll(&env, EnrollKind::Ccr, config, &options, now)
    }

    /// Start a key recovery request (krr): the PKI answers with the archived
    /// keys of `options.subject`, encrypted to the MAC secret or the signer's
    /// key; the step is `keysRecovered`.
    #[napi(factory)]
    pub fn krr(
        env: Env,
        config: &ClientConfig,
        options: Option<RecoverOptions>,
        now: Option<f64>,
    ) -> napi::Result<Self> {
        let run = || -> Res<Self> {
            let o = options.as_ref();
            let subject = match o.and_then(|o| o.subject.as_deref()) {
                Some(s) => Some(name_of(s)?),
                None => match &config.config.protector {
                    Protector::Signature { cert, .. } => {
                        Some(cert.tbs_certificate().subject().clone())
                    }
                    _ => None,
                },
            };
            if subject.is_none() {
                return Err(usage("krr needs whose keys to recover: subject"));
            }
            let mut request = KeyRecoveryRequest::new(subject, config.opener()?);
            if let Some(k) = o.and_then(|o| o.new_key.as_ref()) {
                request.new_key = Some(Arc::new(key_of(k)?));
            }
            request.old_cert = o
                .and_then(|o| o.old_cert.as_ref())
                .map(cert_of)
                .transpose()?;
            let tx =
                CoreTransaction::start_krr(Arc::clone(&config.config), &request, timestamp(now)?)?;
            Ok(Self { tx })
        };
        run().js(&env)
    }

    /// Start a key update request (kur): `options.oldCert` is the
    /// certificate to update, `options.key` the new key.
    #[napi(factory)]
    pub fn kur(
        env: Env,
        config: &ClientConfig,
        options: EnrollOptions,
        now: Option<f64>,
    ) -> napi::Result<Self> {
        if options.old_cert.is_none() {
            return Err(usage("kur needs oldCert")).js(&env);
        }
        Self::enroll(&env, EnrollKind::Kur, config, &options, now)
    }

    /// Start a PKCS#10 request (p10cr) with a CSR (PEM or DER).
    #[napi(factory, js_name = "p10cr")]
    pub fn p10cr(
        env: Env,
        config: &ClientConfig,
        csr: PemOrDer,
        now: Option<f64>,
    ) -> napi::Result<Self> {
        let run = || -> Res<Self> {
            let tx = CoreTransaction::start_p10cr(
                Arc::clone(&config.config),
                csr_of(&csr)?,
                timestamp(now)?,
            )?;
            Ok(Self { tx })
        };
        run().js(&env)
    }

    /// Start a revocation request (rr) for `cert`.
    #[napi(factory)]
    pub fn revoke(
        env: Env,
        config: &ClientConfig,
        cert: PemOrDer,
        options: Option<RevokeOptions>,
        now: Option<f64>,
    ) -> napi::Result<Self> {
        let run = || -> Res<Self> {
            let request = RevokeRequest {
                cert: cert_of(&cert)?,
                reason: options.as_ref().and_then(|o| o.reason),
            };
            let tx =
                CoreTransaction::start_rr(Arc::clone(&config.config), &request, timestamp(now)?)?;
            Ok(Self { tx })
        };
        run().js(&env)
    }

    /// Start a general message (genm). Each item is a name ("caCerts",
    /// "certReqTemplate", "rootCaCert", "crlStatusList", "kemCiphertextInfo")
    /// or `{ oid, value? }`;
    /// default `["caCerts"]`.
    #[napi(factory)]
    pub fn genm(
        env: Env,
        config: &ClientConfig,
        #[napi(
            ts_arg_type = "Array<'caCerts' | 'certReqTemplate' | 'rootCaCert' | 'crlStatusList' | 'kemCiphertextInfo' | InfoTypeAndValue>"
        )]
        infos: Option<Vec<Either<String, InfoTypeAndValue>>>,
        now: Option<f64>,
    ) -> napi::Result<Self> {
        let run = || -> Res<Self> {
            let content = match &infos {
                None => vec![GenmRequest::CaCerts.to_itav()?],
                Some(list) => list.iter().map(genm_item).collect::<Res<_>>()?,
            };
            let tx =
                CoreTransaction::start_genm(Arc::clone(&config.config), content, timestamp(now)?)?;
            Ok(Self { tx })
        };
        run().js(&env)
    }

    /// The next message to send (DER), or null.
    #[napi]
    pub fn request(&mut self) -> Option<Buffer> {
        self.tx.poll_transmit().map(Buffer::from)
    }

    /// Handle the server's answer (DER); returns the next step or throws the CMP error.
    #[napi]
    pub fn handle_response(
        &mut self,
        env: Env,
        data: Buffer,
        now: Option<f64>,
    ) -> napi::Result<Step> {
        let mut run = || -> Res<Step> {
            let event = self.tx.handle_response(&data, timestamp(now)?)?;
            step_of(event)
        };
        run().js(&env)
    }

    /// Decide on the issued certificate: accept (default) or reject.
    #[napi]
    pub fn confirm(
        &mut self,
        env: Env,
        accept: Option<bool>,
        options: Option<ConfirmOptions>,
        now: Option<f64>,
    ) -> napi::Result<Step> {
        let mut run = || -> Res<Step> {
            let decision = if accept.unwrap_or(true) {
                Confirmation::Accept
            } else {
                let o = options.as_ref();
                let mut bits = o
                    .and_then(|o| o.fail_info.as_ref())
                    .map(|v| v.iter().map(|n| failure_bit_of(n)).collect::<Res<Vec<_>>>())
                    .transpose()?
                    .unwrap_or_default();
                if bits.is_empty() {
                    bits.push(FailureBit::IncorrectData);
                }
                Confirmation::Reject(PkiStatusInfo::with_failure(
                    PkiStatus::Rejection,
                    &bits,
                    o.and_then(|o| o.status_string.as_deref()),
                ))
            };
            step_of(self.tx.confirm(decision, timestamp(now)?)?)
        };
        run().js(&env)
    }

    /// When `handleTimeout` should be called next (ms since the epoch), or null.
    #[napi]
    pub fn poll_timeout(&self) -> Option<f64> {
        self.tx.poll_timeout().map(millis)
    }

    /// Time has passed: queue the due pollReq, or fail at the deadline.
    #[napi]
    pub fn handle_timeout(&mut self, env: Env, now: Option<f64>) -> napi::Result<()> {
        let mut run = || -> Res<()> { Ok(self.tx.handle_timeout(timestamp(now)?)?) };
        run().js(&env)
    }

    /// The transactionID.
    #[napi(getter)]
    pub fn transaction_id(&self) -> Buffer {
        Buffer::from(self.tx.transaction_id().to_vec())
    }

    /// "ir", "cr", "kur", "ccr", "p10cr", "rr", "genm" or "krr".
    #[napi(
        getter,
        ts_return_type = "'ir' | 'cr' | 'kur' | 'ccr' | 'p10cr' | 'rr' | 'genm' | 'krr'"
    )]
    pub fn kind(&self) -> &'static str {
        match self.tx.kind() {
            TransactionKind::Enroll(EnrollKind::Ir) => "ir",
            TransactionKind::Enroll(EnrollKind::Cr) => "cr",
            TransactionKind::Enroll(EnrollKind::Kur) => "kur",
            TransactionKind::Enroll(EnrollKind::Ccr) => "ccr",
            TransactionKind::P10cr => "p10cr",
            TransactionKind::Revoke => "rr",
            TransactionKind::Genm => "genm",
            TransactionKind::KeyRecovery => "krr",
        }
    }

    /// Whether the transaction has ended (successfully or not).
    #[napi(getter)]
    pub fn is_finished(&self) -> bool {
        self.tx.is_finished()
    }

    /// Whether the transaction ended successfully.
    #[napi(getter)]
    pub fn is_completed(&self) -> bool {
        self.tx.is_completed()
    }
}
