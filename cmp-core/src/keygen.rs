//! Private keys delivered by the PKI: central key generation (RFC 9483
//! section 4.1.6) and key recovery (RFC 9810 section 5.3.8).
//!
//! A delivered key travels as
//! `EnvelopedData( SignedData( AsymmetricKeyPackage ) )`:
//!
//! - the `AsymmetricKeyPackage` (RFC 5958) is a `SEQUENCE OF
//!   OneAsymmetricKey`, each one a PKCS#8 private key;
//! - the key generation authority (the CA, or an RA with `id-kp-cmKGA`)
//!   signs it in a CMS `SignedData` whose eContentType is
//!   `id-ct-KP-aKeyPackage`, with the contentType and messageDigest signed
//!   attributes and its certificate in `certificates`;
//! - the SignedData is encrypted for the requester in an `EnvelopedData`
//!   (content type `id-signedData`) through the crypto provider: key
//!   transport to an RSA certificate, key agreement with an EC certificate,
//!   or a password (the MAC shared secret); see [`EnvelopeRecipient`].
//!
//! [`seal_key_package`] builds it (responder side), [`open_key_package`]
//! decrypts and verifies it (client side), [`check_key_pair`] checks a key
//! against the certificate it was delivered with. Every failure has its own
//! [`Error`] variant: [`Error::KeyNotForUs`], [`Error::KeyDecryptFailed`],
//! [`Error::KeySignatureInvalid`], [`Error::KeyMismatch`].
//!
//! # Example: central key generation, then key recovery
//!
//! ```
//! use std::sync::Arc;
//! use cmp_core::client::{ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind,
//!                        EnrollRequest, KeyRecoveryRequest};
//! use cmp_core::keygen::KeyGenAuthority;
//! use cmp_core::protection::Protector;
//! use cmp_core::server::{MemoryStore, Responder, ResponderConfig, StaticSecrets};
//! use cmp_core::Timestamp;
//! use cmp_crypto_rustcrypto::envelope::key_type_identifier;
//! use cmp_crypto_rustcrypto::{EnvelopeKey, IssueRequest, KeyAlgorithm, KeyArchive, ReferenceCa,
//!                             RustCryptoProvider};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = Timestamp::now();
//! let provider = Arc::new(RustCryptoProvider);
//! let (mut ca, _root) = ReferenceCa::generate_hierarchy("Example", now, KeyAlgorithm::EcP256)?;
//! // The CA signs the keys it generates (it is the key generation authority).
//! let kga = KeyGenAuthority::new(Arc::new(ca.signing_key().clone()), ca.certificate().clone());
//! let mut archive = KeyArchive::new();
//! let mut config = ResponderConfig::new(provider.clone(), Arc::new(MemoryStore::default()));
//! config.secrets = Some(Arc::new(StaticSecrets::default().with(b"1234", b"1234-5678")));
//! let responder = Responder::new(config);
//!
//! // A MAC-protected client: the key comes back encrypted under the shared secret.
//! let client = ClientConfig::new(provider, Protector::mac(b"1234", b"1234-5678"));
//! let opener = Arc::new(EnvelopeKey::password(b"1234-5678"));
//! let request = EnrollRequest::central_keygen(EnrollKind::Ir, Some("CN=Device".parse()?),
//!     Some(key_type_identifier(KeyAlgorithm::EcP384)), opener.clone());
//! let mut tx = ClientTransaction::start_ir(client.clone(), request, now)?;
//! let mut delivered = None;
//! while let Some(bytes) = tx.poll_transmit() {
//!     let reply = responder.handle_request_with(&bytes, now, &mut |pending, now| {
//!         // Generate a key of the requested type, certify it, keep it, deliver it.
//!         let (key, public) = pending
//!             .generate_key(&key_type_identifier(KeyAlgorithm::EcP256))
//!             .expect("key generated");
//!         let subject = pending.subject().cloned().unwrap_or_default();
//!         let cert = ca.issue(&IssueRequest::new(subject, public), now).expect("issued");
//!         archive.archive(cert.clone(), key.as_bytes()).expect("archived");
//!         pending.issue_with_key(cert, key.as_bytes(), &kga, None, now).expect("reply built")
//!     });
//!     if let ClientEvent::CertificateIssued(issued) = tx.handle_response(&reply.bytes, now)? {
//!         // Decrypted, its signature checked, and matching the certificate.
//!         delivered = issued.private_key;
//!         tx.confirm(Confirmation::Accept, now)?;
//!     }
//! }
//! let key = delivered.expect("a key was delivered");
//!
//! // Later: key recovery returns the archived key.
//! let request = KeyRecoveryRequest::new(Some("CN=Device".parse()?), opener);
//! let mut tx = ClientTransaction::start_krr(client, &request, now)?;
//! let bytes = tx.poll_transmit().expect("krr");
//! let reply = responder.handle_request_with(&bytes, now, &mut |pending, now| {
//!     let history = archive.keys_of(pending.subject().expect("subject"));
//!     let keys: Vec<_> = history.iter().map(|k| (k.cert.clone(), &k.private_key[..])).collect();
//!     pending.recover_keys(&keys, None, Vec::new(), &kga, now).expect("reply built")
//! });
//! let ClientEvent::KeysRecovered(recovered) = tx.handle_response(&reply.bytes, now)? else {
//!     panic!("no krp");
//! };
//! assert_eq!(recovered.keys[0].private_key, key);
//! # Ok(())
//! # }
//! ```

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::CmsVersion;
use cms::enveloped_data::EnvelopedData;
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use der::zeroize::Zeroizing;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::alg;
use crate::crypto::{
    CryptoProvider, DigestAlgorithm, EnvelopeError, EnvelopeOpener, EnvelopeRecipient, SigningKey,
};
use crate::error::{Error, Result};

/// `id-signedData` (RFC 5652): the content type inside the EnvelopedData.
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// `id-ct-KP-aKeyPackage` (RFC 5958): the eContentType of the SignedData.
pub const ID_CT_KP_A_KEY_PACKAGE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.2.1.2.78.5");
/// `id-kp-cmKGA` (RFC 9480): extended key usage of a key generation authority.
pub const ID_KP_CM_KGA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.32");
/// The contentType signed attribute (RFC 5652 section 11.1).
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// The messageDigest signed attribute (RFC 5652 section 11.2).
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// rsaEncryption: a key that can receive key transport.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey: a key that can take part in key agreement.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// A private key as PKCS#8 (`OneAsymmetricKey`) DER, wiped from memory when
/// dropped; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKeyDer(Zeroizing<Vec<u8>>);

impl PrivateKeyDer {
    /// Wrap PKCS#8 DER bytes.
    pub fn new(der: Vec<u8>) -> Self {
        Self(Zeroizing::new(der))
    }

    /// The PKCS#8 DER bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Zeroizing<Vec<u8>>> for PrivateKeyDer {
    fn from(der: Zeroizing<Vec<u8>>) -> Self {
        Self(der)
    }
}

impl fmt::Debug for PrivateKeyDer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKeyDer({} bytes, redacted)", self.0.len())
    }
}

/// The key generation authority: who signs delivered keys (the CA or an RA
/// whose certificate has `id-kp-cmKGA`).
#[derive(Clone)]
pub struct KeyGenAuthority {
    /// The signing key.
    pub key: Arc<dyn SigningKey>,
    /// Its certificate first, then any chain certificates to include.
    pub certs: Vec<Certificate>,
}

impl KeyGenAuthority {
    /// An authority signing with `key`, whose certificate is `cert`.
    pub fn new(key: Arc<dyn SigningKey>, cert: Certificate) -> Self {
        Self {
            key,
            certs: alloc::vec![cert],
        }
    }
}

impl fmt::Debug for KeyGenAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyGenAuthority")
            .field("algorithm", &self.key.algorithm())
            .field("certs", &self.certs.len())
            .finish()
    }
}

/// What [`open_key_package`] found in a verified key package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedKeyPackage {
    /// The certificate the SignedData was verified with.
    pub signer: Certificate,
    /// The other certificates the SignedData carried (the signer's chain).
    pub certificates: Vec<Certificate>,
    /// The private keys, in package order (at least one).
    pub keys: Vec<PrivateKeyDer>,
}

/// Sign `keys` (PKCS#8 DER each) as an AsymmetricKeyPackage in a SignedData
/// by `kga`.
pub fn sign_key_package(
    provider: &dyn CryptoProvider,
    kga: &KeyGenAuthority,
    keys: &[&[u8]],
) -> Result<SignedData> {
    let signer_cert = kga.certs.first().ok_or(Error::Usage(
        "the key generation authority needs a certificate",
    ))?;
    if keys.is_empty() {
        return Err(Error::Usage("a key package holds at least one key"));
    }
    // AsymmetricKeyPackage ::= SEQUENCE SIZE (1..MAX) OF OneAsymmetricKey
    let mut package = Vec::with_capacity(keys.len());
    for k in keys {
        package.push(Any::from_der(k).map_err(|_| Error::Usage("a key is not DER"))?);
    }
    let package_der = Zeroizing::new(package.to_der().map_err(Error::Encode)?);
    drop(package);

    let digest = alg::signature_hash(kga.key.algorithm()).unwrap_or(DigestAlgorithm::Sha512);
    let message_digest = provider.digest(digest, &[&package_der])?;
    let mut attrs = SetOfVec::new();
    attrs
        .insert(attribute(
            ID_CONTENT_TYPE,
            Any::encode_from(&ID_CT_KP_A_KEY_PACKAGE).map_err(Error::Encode)?,
        )?)
        .map_err(Error::Encode)?;
    attrs
        .insert(attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest).map_err(Error::Encode)?)
                .map_err(Error::Encode)?,
        )?)
        .map_err(Error::Encode)?;
    let signature = kga.key.sign(&attrs.to_der().map_err(Error::Encode)?)?;
    let tbs = signer_cert.tbs_certificate();
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: bare(alg::digest_oid(digest)),
        signed_attrs: Some(attrs),
        signature_algorithm: kga.key.algorithm_identifier(),
        signature: OctetString::new(signature).map_err(Error::Encode)?,
        unsigned_attrs: None,
    };
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms
        .insert(bare(alg::digest_oid(digest)))
        .map_err(Error::Encode)?;
    let mut certs = SetOfVec::new();
    for c in &kga.certs {
        certs
            .insert(cms::cert::CertificateChoices::Certificate(c.clone()))
            .map_err(Error::Encode)?;
    }
    let mut signer_infos = SetOfVec::new();
    signer_infos.insert(signer_info).map_err(Error::Encode)?;
    let econtent = OctetString::new(package_der.to_vec()).map_err(Error::Encode)?;
    Ok(SignedData {
        // eContentType is not id-data: version 3 (RFC 5652 section 5.1)
        version: CmsVersion::V3,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_CT_KP_A_KEY_PACKAGE,
            econtent: Some(Any::encode_from(&econtent).map_err(Error::Encode)?),
        },
        certificates: Some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(signer_infos),
    })
}

/// Sign `keys` by `kga` and encrypt the SignedData for `recipient`: the
/// `privateKey` of a CertifiedKeyPair.
pub fn seal_key_package(
    provider: &dyn CryptoProvider,
    kga: &KeyGenAuthority,
    keys: &[&[u8]],
    recipient: EnvelopeRecipient<'_>,
) -> Result<EnvelopedData> {
    let signed = sign_key_package(provider, kga, keys)?;
    let der = Zeroizing::new(signed.to_der().map_err(Error::Encode)?);
    Ok(provider.seal_envelope(recipient, ID_SIGNED_DATA, &der)?)
}

/// Decrypt `envelope` with `opener` and verify the SignedData inside it.
///
/// Checks the content types, the messageDigest and the signature with the
/// signer's certificate from the SignedData. Whether that signer may act
/// as key generation authority is the caller's decision (the client checks
/// it against the response's signer and the issuing CA).
pub fn open_key_package(
    provider: &dyn CryptoProvider,
    opener: &dyn EnvelopeOpener,
    envelope: &EnvelopedData,
) -> Result<OpenedKeyPackage> {
    if envelope.encrypted_content.content_type != ID_SIGNED_DATA {
        return Err(Error::KeyDecryptFailed(
            "the envelope does not hold SignedData",
        ));
    }
    let content = opener.open(envelope).map_err(envelope_error)?;
    let signed = SignedData::from_der(&content)
        .map_err(|_| Error::KeyDecryptFailed("the decrypted content is not SignedData"))?;
    drop(content);
    verify_key_package(provider, &signed)
}

/// Verify a SignedData holding an AsymmetricKeyPackage and return its keys.
pub fn verify_key_package(
    provider: &dyn CryptoProvider,
    signed: &SignedData,
) -> Result<OpenedKeyPackage> {
    let eci = &signed.encap_content_info;
    if eci.econtent_type != ID_CT_KP_A_KEY_PACKAGE {
        return Err(Error::KeyDecryptFailed(
            "the SignedData does not hold an asymmetric key package",
        ));
    }
    let package = eci
        .econtent
        .as_ref()
        .ok_or(Error::KeyDecryptFailed("the key package is missing"))?
        .decode_as::<OctetString>()
        .map_err(|_| Error::KeyDecryptFailed("eContent is not an OCTET STRING"))?;
    let package = Zeroizing::new(package.into_bytes());
    let [signer_info] = signed.signer_infos.0.as_slice() else {
        return Err(Error::KeySignatureInvalid);
    };
    let certificates: Vec<Certificate> = signed
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                    cms::cert::CertificateChoices::Other(_) => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let signer = certificates
        .iter()
        .find(|c| identifies(&signer_info.sid, c))
        .cloned()
        .ok_or(Error::KeySignatureInvalid)?;
    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or(Error::KeySignatureInvalid)?;
    let content_type = attribute_value(attrs, ID_CONTENT_TYPE)?
        .decode_as::<ObjectIdentifier>()
        .map_err(|_| Error::KeySignatureInvalid)?;
    if content_type != ID_CT_KP_A_KEY_PACKAGE {
        return Err(Error::KeySignatureInvalid);
    }
    let claimed = attribute_value(attrs, ID_MESSAGE_DIGEST)?
        .decode_as::<OctetString>()
        .map_err(|_| Error::KeySignatureInvalid)?;
    let digest = alg::digest_from_oid(&signer_info.digest_alg.oid)?;
    let actual = provider.digest(digest, &[&package])?;
    if !provider.constant_time_eq(&actual, claimed.as_bytes()) {
        return Err(Error::KeySignatureInvalid);
    }
    let sig_alg = alg::signature_from_identifier(&signer_info.signature_algorithm)?;
    let signed_bytes = attrs.to_der().map_err(Error::Encode)?;
    provider
        .verify_signature(
            sig_alg,
            &signer_info.signature_algorithm,
            signer.tbs_certificate().subject_public_key_info(),
            &signed_bytes,
            signer_info.signature.as_bytes(),
        )
        .map_err(|_| Error::KeySignatureInvalid)?;

    let entries = Vec::<Any>::from_der(&package)
        .map_err(|_| Error::KeyDecryptFailed("malformed AsymmetricKeyPackage"))?;
    if entries.is_empty() {
        return Err(Error::KeyDecryptFailed("the key package is empty"));
    }
    let mut keys = Vec::with_capacity(entries.len());
    for e in &entries {
        keys.push(PrivateKeyDer::new(e.to_der().map_err(Error::Encode)?));
    }
    let others = certificates.into_iter().filter(|c| c != &signer).collect();
    Ok(OpenedKeyPackage {
        signer,
        certificates: others,
        keys,
    })
}

/// Check that `key` is the private key of `public_key` (the certificate's).
///
/// Errors: [`Error::KeyMismatch`], or [`Error::KeyDecryptFailed`] when the
/// key cannot be parsed.
pub fn check_key_pair(
    provider: &dyn CryptoProvider,
    key: &PrivateKeyDer,
    public_key: &SubjectPublicKeyInfoOwned,
) -> Result<()> {
    let derived = provider
        .public_key_of(key.as_bytes())
        .map_err(|e| match e {
            crate::crypto::CryptoError::Unsupported(_) => Error::Crypto(e),
            _ => Error::KeyDecryptFailed("the delivered private key cannot be parsed"),
        })?;
    if derived.algorithm.oid == public_key.algorithm.oid
        && derived.subject_public_key == public_key.subject_public_key
    {
        Ok(())
    } else {
        Err(Error::KeyMismatch)
    }
}

/// How keys are encrypted for a requester whose request was protected with
/// `secret` (MAC) or signed by `signer`: PWRI with the secret, KTRI to an
/// RSA signer, KARI with an EC signer.
pub fn recipient_for<'a>(
    secret: Option<&'a [u8]>,
    signer: Option<&'a Certificate>,
) -> Result<EnvelopeRecipient<'a>> {
    if let Some(secret) = secret {
        return Ok(EnvelopeRecipient::Password(secret));
    }
    let Some(cert) = signer else {
        return Err(Error::NotAuthorized);
    };
    match cert
        .tbs_certificate()
        .subject_public_key_info()
        .algorithm
        .oid
    {
        RSA_ENCRYPTION => Ok(EnvelopeRecipient::KeyTransport(cert)),
        EC_PUBLIC_KEY => Ok(EnvelopeRecipient::KeyAgreement(cert)),
        _ => Err(Error::BadRequest(
            "the requester's key can neither receive key transport nor agree keys",
        )),
    }
}

/// Whether `signer` may sign keys delivered with `cert`: it issued `cert`,
/// it is the `response_signer`, or it carries `id-kp-cmKGA` and validates
/// against `trust`.
pub(crate) fn authorize_kga(
    provider: &dyn CryptoProvider,
    opened: &OpenedKeyPackage,
    cert: &Certificate,
    response_signer: Option<&Certificate>,
    trust: Option<&crate::trust::TrustStore>,
    now: crate::Timestamp,
) -> Result<()> {
    let signer = &opened.signer;
    if response_signer == Some(signer) {
        return Ok(());
    }
    if signer.tbs_certificate().subject() == cert.tbs_certificate().issuer()
        && crate::trust::verify_certificate_signature(cert, signer, provider).is_ok()
    {
        return Ok(());
    }
    if let Some(store) = trust
        && crate::trust::has_extended_key_usage(signer, &ID_KP_CM_KGA).unwrap_or(false)
    {
        let opts =
            crate::trust::ValidationOptions::for_cmp_signer().with_required_eku(ID_KP_CM_KGA);
        crate::trust::validate_chain(signer, &opened.certificates, store, now, &opts, provider)?;
        return Ok(());
    }
    Err(Error::SignerNotTrusted(
        "the key package signer is not an authorised key generation authority",
    ))
}

pub(crate) fn envelope_error(e: EnvelopeError) -> Error {
    match e {
        EnvelopeError::NotForUs => Error::KeyNotForUs,
        EnvelopeError::DecryptFailed => Error::KeyDecryptFailed("wrong key or corrupted data"),
        EnvelopeError::Malformed(what) => Error::KeyDecryptFailed(what),
        EnvelopeError::Unsupported(what) => Error::UnsupportedAlgorithm(what.into()),
    }
}

fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            &ias.issuer == tbs.issuer() && &ias.serial_number == tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => matches!(
            tbs.get_extension::<SubjectKeyIdentifier>(),
            Ok(Some((_, own))) if &own == ski
        ),
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(value).map_err(Error::Encode)?;
    Ok(Attribute { oid, values })
}

fn attribute_value(attrs: &SetOfVec<Attribute>, oid: ObjectIdentifier) -> Result<&Any> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    match (found.next(), found.next()) {
        (Some(a), None) if a.values.len() == 1 => {
            a.values.iter().next().ok_or(Error::KeySignatureInvalid)
        }
        _ => Err(Error::KeySignatureInvalid),
    }
}

fn bare(oid: ObjectIdentifier) -> spki::AlgorithmIdentifierOwned {
    spki::AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}
