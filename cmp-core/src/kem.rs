//! Key encapsulation in CMP (RFC 9810): the genm/genp exchange that hands a
//! KEM ciphertext to the holder of a KEM key (section 5.1.3.4), for
//! KEM-based MAC protection ([`crate::protection::kem`]).
//!
//! The flow, for an end entity whose certified key is an ML-KEM key:
//!
//! 1. the client sends a genm with [`ciphertext_request`] and its KEM
//!    certificate first in extraCerts (unprotected, or protected with other
//!    credentials);
//! 2. the responder validates that certificate, encapsulates a shared secret
//!    to its key, keeps the secret for the transaction and answers a genp
//!    with `KemCiphertextInfo` ([`Responder`](crate::server::Responder) does
//!    this by itself);
//! 3. the client decapsulates ([`client_protector`]) and sends its request in
//!    the same transaction (`ClientConfig::transaction_id`), protected with
//!    `id-KemBasedMac`; every further message both ways is protected with the
//!    MAC key derived from the shared secret and the transactionID.
//!
//! The KEM-based MAC authenticates the holder of the KEM key to the party
//! that encapsulated, not the other way round: in the flow above the client
//! knows it talks to the real responder only if the genp is signed by it
//! (`ClientConfig::server_trust`). An unprotected genm costs the responder
//! an encapsulation and a store entry; both are bounded by the store's
//! capacity and the transaction lifetime, and only a certificate that
//! validates against `client_trust` gets that far.
//!
//! When instead the *responder* holds a KEM key whose certificate the client
//! trusts, the client encapsulates to it ([`encapsulate_to`]) and sends the
//! ciphertext in the generalInfo of its first request; the responder
//! decapsulates with `ResponderConfig::kem_key`.
//!
//! # Example: a client with an ML-KEM certificate, ir protected by KEM-based MAC
//!
//! ```
//! use std::sync::Arc;
//! use cmp_core::client::{ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest};
//! use cmp_core::crypto::{DecapsulationKey, KemAlgorithm};
//! use cmp_core::protection::Protector;
//! use cmp_core::server::{MemoryStore, Responder, ResponderConfig};
//! use cmp_core::trust::TrustStore;
//! use cmp_core::{Timestamp, kem};
//! use cmp_crypto_rustcrypto::{IssueRequest, KemPrivateKey, KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider};
//! use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = Timestamp::now();
//! let provider = Arc::new(RustCryptoProvider);
//! let (mut ca, root) = ReferenceCa::generate_hierarchy("Example", now, KeyAlgorithm::EcP256)?;
//!
//! // The end entity's ML-KEM key and its certificate (keyUsage keyEncipherment).
//! let kem_key = KemPrivateKey::generate(KemAlgorithm::MlKem768)?;
//! let mut req = IssueRequest::new("CN=Device".parse()?, kem_key.public_key());
//! req.extensions.push(x509_cert::ext::Extension {
//!     extn_id: "2.5.29.15".parse()?,
//!     critical: true,
//!     extn_value: der::asn1::OctetString::new(der::Encode::to_der(&KeyUsage(KeyUsages::KeyEncipherment.into()))?)?,
//! });
//! let kem_cert = ca.issue(&req, now)?;
//!
//! // The responder trusts the PKI's root and answers unsigned here.
//! let mut config = ResponderConfig::new(provider.clone(), Arc::new(MemoryStore::default()));
//! config.client_trust = Some(TrustStore::new(vec![root]));
//! let responder = Responder::new(config);
//!
//! // 1. genm for a KEM ciphertext, with the KEM certificate in extraCerts.
//! let mut genm = ClientConfig::new(provider.clone(), Protector::None);
//! genm.extra_certs = vec![kem_cert, ca.certificate().clone()];
//! genm.accept_unprotected_responses = true; // the genp is unprotected here
//! let mut tx = ClientTransaction::start_genm(genm, vec![kem::ciphertext_request()], now)?;
//! let reply = responder.handle_request_with(&tx.poll_transmit().unwrap(), now, &mut |_, _| unreachable!());
//! let ClientEvent::GeneralResponse(genp) = tx.handle_response(&reply.bytes, now)? else { panic!() };
//!
//! // 2. Decapsulate; the ir continues the same transaction under id-KemBasedMac.
//! let mut client = ClientConfig::new(provider.clone(), kem::client_protector(&genp, &kem_key, b"")?);
//! client.transaction_id = Some(tx.transaction_id().to_vec());
//! let new_key = Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256)?);
//! let request = EnrollRequest::new(EnrollKind::Ir, Some("CN=Device".parse()?), new_key);
//! let mut tx = ClientTransaction::start_ir(client, request, now)?;
//! while let Some(bytes) = tx.poll_transmit() {
//!     let reply = responder.handle_request_with(&bytes, now, &mut |pending, now| {
//!         let req = IssueRequest::new(pending.subject().cloned().unwrap(), pending.public_key().cloned().unwrap());
//!         let cert = ca.issue(&req, now).unwrap();
//!         pending.issue(cert, None, now).unwrap()
//!     });
//!     if let ClientEvent::CertificateIssued(_) = tx.handle_response(&reply.bytes, now)? {
//!         tx.confirm(Confirmation::Accept, now)?; // certConf, also KEM-MAC protected
//!     }
//! }
//! assert!(tx.is_completed());
//! # Ok(())
//! # }
//! ```

use alloc::vec::Vec;

use der::asn1::{Any, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;

use crate::asn1::{InfoTypeAndValue, KemBmParameter, KemCiphertextInfo, PkiBody, oid};
use crate::crypto::{DecapsulationKey, KemAlgorithm};
use crate::error::{Error, Result};
use crate::protection::{MacScheme, Protector};

/// The OID of a KEM.
pub fn kem_oid(alg: KemAlgorithm) -> der::asn1::ObjectIdentifier {
    match alg {
        KemAlgorithm::MlKem512 => oid::ML_KEM_512,
        KemAlgorithm::MlKem768 => oid::ML_KEM_768,
        KemAlgorithm::MlKem1024 => oid::ML_KEM_1024,
    }
}

/// The KEM named by an OID (of a public key or a KemCiphertextInfo).
pub fn kem_from_oid(o: &der::asn1::ObjectIdentifier) -> Result<KemAlgorithm> {
    Ok(match *o {
        oid::ML_KEM_512 => KemAlgorithm::MlKem512,
        oid::ML_KEM_768 => KemAlgorithm::MlKem768,
        oid::ML_KEM_1024 => KemAlgorithm::MlKem1024,
        ref other => {
            return Err(Error::UnsupportedAlgorithm(alloc::format!("KEM {other}")));
        }
    })
}

/// The genm content asking for a KEM ciphertext: id-it-KemCiphertextInfo
/// without a value.
pub fn ciphertext_request() -> InfoTypeAndValue {
    InfoTypeAndValue {
        info_type: oid::IT_KEM_CIPHERTEXT_INFO,
        info_value: None,
    }
}

/// Whether `body` is a genm asking for a KEM ciphertext (and nothing else).
pub fn is_ciphertext_request(body: &PkiBody) -> bool {
    matches!(body, PkiBody::Genm(items)
        if matches!(items.as_slice(), [i] if i.info_type == oid::IT_KEM_CIPHERTEXT_INFO && i.info_value.is_none()))
}

/// The InfoTypeAndValue carrying a KEM ciphertext (in a genp, or in the
/// generalInfo of a request to a responder's KEM key).
pub fn ciphertext_response(alg: KemAlgorithm, ciphertext: &[u8]) -> Result<InfoTypeAndValue> {
    let info = KemCiphertextInfo {
        kem: AlgorithmIdentifierOwned {
            oid: kem_oid(alg),
            parameters: None,
        },
        ct: OctetString::new(ciphertext.to_vec()).map_err(Error::Encode)?,
    };
    Ok(InfoTypeAndValue {
        info_type: oid::IT_KEM_CIPHERTEXT_INFO,
        info_value: Some(Any::encode_from(&info).map_err(Error::Encode)?),
    })
}

/// The KemCiphertextInfo among `items` (a genp's content, or a header's
/// generalInfo).
///
/// Errors: `IncorrectData` when the genp has no such value, `Decode` when
/// it is malformed.
pub fn ciphertext_from_genp(items: &[InfoTypeAndValue]) -> Result<KemCiphertextInfo> {
    let value = items
        .iter()
        .find(|i| i.info_type == oid::IT_KEM_CIPHERTEXT_INFO)
        .and_then(|i| i.info_value.as_ref())
        .ok_or(Error::IncorrectData("genp without KemCiphertextInfo"))?;
    let der = value.to_der().map_err(Error::Decode)?;
    KemCiphertextInfo::from_der(&der).map_err(Error::Decode)
}

/// Decapsulate the shared secret of `info` with `key`.
///
/// Errors: `UnsupportedAlgorithm` for an unknown KEM, `IncorrectData` when
/// the ciphertext is for another KEM than the key's, and the key's own
/// failure (a ciphertext of the wrong size) as `Crypto`.
pub fn decapsulate(info: &KemCiphertextInfo, key: &dyn DecapsulationKey) -> Result<Vec<u8>> {
    let alg = kem_from_oid(&info.kem.oid)?;
    if alg != key.algorithm() {
        return Err(Error::IncorrectData(
            "the KEM ciphertext is for another algorithm than our key",
        ));
    }
    Ok(key.decapsulate(info.ct.as_bytes())?)
}

/// The protector for the rest of a transaction after the genp: decapsulate
/// the ciphertext of `genp` with `key` and protect with `id-KemBasedMac`
/// (HKDF-SHA256, HMAC-SHA256). `reference` becomes the senderKID (e.g. the
/// subject key identifier of the KEM certificate; may be empty).
pub fn client_protector(
    genp: &[InfoTypeAndValue],
    key: &dyn DecapsulationKey,
    reference: &[u8],
) -> Result<Protector> {
    let info = ciphertext_from_genp(genp)?;
    Ok(mac_protector(decapsulate(&info, key)?, reference))
}

/// The client side when the *responder* holds the KEM key (RFC 9810
/// section 5.1.3.4, second flow): encapsulate to the responder's KEM public
/// key `recipient` (from its authentic certificate). Returns the
/// InfoTypeAndValue for the first request's generalInfo
/// (`ClientConfig::first_general_info`) and the shared secret: use it as
/// `ClientConfig::response_secret` when the requests are signed, or protect
/// the requests with [`mac_protector`] too. The responder decapsulates with
/// `ResponderConfig::kem_key` and protects its replies with the KEM-based MAC.
pub fn encapsulate_to(
    recipient: &spki::SubjectPublicKeyInfoOwned,
    provider: &dyn crate::crypto::CryptoProvider,
) -> Result<(InfoTypeAndValue, Vec<u8>)> {
    let alg = kem_from_oid(&recipient.algorithm.oid)?;
    let encapsulated = provider.kem_encapsulate(alg, recipient)?;
    let itav = ciphertext_response(alg, &encapsulated.ciphertext)?;
    Ok((itav, encapsulated.shared_secret))
}

/// The protector for `id-KemBasedMac` (HKDF-SHA256, 32-byte key,
/// HMAC-SHA256) under a KEM shared secret; `reference` becomes the
/// senderKID (may be empty).
pub fn mac_protector(shared_secret: Vec<u8>, reference: &[u8]) -> Protector {
    Protector::Mac {
        reference: reference.to_vec(),
        secret: shared_secret,
        scheme: MacScheme::KEM_HKDF_SHA256,
    }
}

/// The [`MacScheme`] a received KemBMParameter describes (to answer with the
/// same parameters).
pub fn scheme_of(params: &KemBmParameter) -> Result<MacScheme> {
    let kdf = match params.kdf.oid {
        oid::HKDF_WITH_SHA256 => crate::crypto::DigestAlgorithm::Sha256,
        oid::HKDF_WITH_SHA384 => crate::crypto::DigestAlgorithm::Sha384,
        oid::HKDF_WITH_SHA512 => crate::crypto::DigestAlgorithm::Sha512,
        ref other => {
            return Err(Error::UnsupportedAlgorithm(alloc::format!(
                "KemBasedMac key derivation {other}"
            )));
        }
    };
    let key_len = usize::try_from(params.len)
        .ok()
        .filter(|l| (1..=64).contains(l))
        .ok_or_else(|| Error::UnsupportedAlgorithm("KemBasedMac key length".into()))?;
    Ok(MacScheme::KemBased {
        kdf,
        mac: crate::alg::hmac_from_oid(&params.mac.oid)?,
        key_len,
    })
}

/// What a responder keeps per KEM transaction:
///
/// ```text
/// KemSession ::= SEQUENCE {
///     sharedSecret     OCTET STRING,
///     peerCertificate  [0] EXPLICIT Certificate OPTIONAL }
/// ```
#[derive(Clone, PartialEq, Eq, der::Sequence)]
pub(crate) struct KemSession {
    pub(crate) shared_secret: OctetString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) peer_certificate: Option<x509_cert::Certificate>,
}

impl KemSession {
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>> {
        self.to_der().map_err(Error::Encode)
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_der(bytes).map_err(|e| Error::Store(alloc::format!("KEM session: {e}")))
    }
}

/// The key under which a responder keeps the shared secret of a KEM
/// transaction in its [`TransactionStore`](crate::server::TransactionStore)
/// (apart from the transaction's own record).
pub(crate) fn session_key(transaction_id: &[u8]) -> Vec<u8> {
    crate::server::store::StoreKey::KemSecret(transaction_id).to_key()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_round_trip() {
        let req = ciphertext_request();
        assert!(is_ciphertext_request(&PkiBody::Genm(alloc::vec![
            req.clone()
        ])));
        assert!(!is_ciphertext_request(&PkiBody::Genm(alloc::vec![
            req.clone(),
            req
        ])));
        let itav = ciphertext_response(KemAlgorithm::MlKem768, &[7u8; 1088]).unwrap();
        assert!(!is_ciphertext_request(&PkiBody::Genm(alloc::vec![
            itav.clone()
        ])));
        let info = ciphertext_from_genp(&[itav]).unwrap();
        assert_eq!(kem_from_oid(&info.kem.oid).unwrap(), KemAlgorithm::MlKem768);
        assert_eq!(info.ct.as_bytes(), &[7u8; 1088][..]);
        assert!(matches!(
            ciphertext_from_genp(&[]),
            Err(Error::IncorrectData(_))
        ));
    }
}
