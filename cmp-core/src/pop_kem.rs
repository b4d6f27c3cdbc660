//! Proof-of-possession for KEM keys by the indirect method (RFC 9810
//! section 5.2.8.3): the end entity asks for its certificate encrypted
//! (`keyEncipherment` / `subsequentMessage encrCert`), the CA returns it in
//! CMS EnvelopedData for the key being certified, and the end entity proves
//! that it could decrypt by sending the certificate's hash in certConf.
//!
//! The EnvelopedData (RFC 5652) has one `KEMRecipientInfo` (RFC 9629, as
//! `ori` with id-ori-kem) following RFC 9936 for ML-KEM: HKDF-SHA256 derives
//! the key-encryption key from the KEM shared secret and
//! `CMSORIforKEMOtherInfo`, AES key wrap (AES-128 for ML-KEM-512, AES-256
//! otherwise) wraps a fresh AES-256 content key, and the DER certificate is
//! encrypted with AES-256-CBC (content type id-data).
//!
//! This module is independent of the central key generation code: it only
//! handles encrypted certificates for KEM keys.

use alloc::vec::Vec;

use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, OtherRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use der::asn1::{Any, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::asn1::{CertReqMsg, PopoPrivKey, ProofOfPossession, SubsequentMessage, oid};
use crate::crypto::{CryptoProvider, DecapsulationKey, DigestAlgorithm, KemAlgorithm};
use crate::error::{Error, Result};
use crate::kem::{kem_from_oid, kem_oid};

/// id-ori-kem (RFC 9629).
pub const ID_ORI_KEM: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.13.3");
/// id-aes128-wrap (RFC 3565).
pub const ID_AES128_WRAP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.5");
/// id-aes256-wrap (RFC 3565).
pub const ID_AES256_WRAP: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.45");
/// id-aes128-CBC (RFC 3565).
pub const ID_AES128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
/// id-aes256-CBC (RFC 3565).
pub const ID_AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
/// id-data (RFC 5652).
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");

/// ```text
/// KEMRecipientInfo ::= SEQUENCE {
///     version       CMSVersion,  -- always set to 0
///     rid           RecipientIdentifier,
///     kem           KEMAlgorithmIdentifier,
///     kemct         OCTET STRING,
///     kdf           KeyDerivationAlgorithmIdentifier,
///     kekLength     INTEGER (1..65535),
///     ukm       [0] EXPLICIT UserKeyingMaterial OPTIONAL,
///     wrap          KeyEncryptionAlgorithmIdentifier,
///     encryptedKey  EncryptedKey }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KemRecipientInfo {
    /// Always 0.
    pub version: u8,
    /// The recipient's key.
    pub rid: RecipientIdentifier,
    /// The KEM.
    pub kem: AlgorithmIdentifierOwned,
    /// The KEM ciphertext.
    pub kemct: OctetString,
    /// The key derivation function.
    pub kdf: AlgorithmIdentifierOwned,
    /// Length of the key-encryption key in bytes.
    pub kek_length: u16,
    /// User keying material.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub ukm: Option<OctetString>,
    /// The key wrap algorithm.
    pub wrap: AlgorithmIdentifierOwned,
    /// The wrapped content-encryption key.
    pub encrypted_key: OctetString,
}

/// ```text
/// CMSORIforKEMOtherInfo ::= SEQUENCE {
///     wrap       KeyEncryptionAlgorithmIdentifier,
///     kekLength  INTEGER (1..65535),
///     ukm    [0] EXPLICIT UserKeyingMaterial OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CmsOriForKemOtherInfo {
    /// The key wrap algorithm.
    pub wrap: AlgorithmIdentifierOwned,
    /// Length of the key-encryption key in bytes.
    pub kek_length: u16,
    /// User keying material.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub ukm: Option<OctetString>,
}

fn bare(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// The `keyEncipherment` POP asking for the certificate encrypted
/// (`subsequentMessage encrCert`).
pub fn encr_cert_pop() -> ProofOfPossession {
    ProofOfPossession::KeyEncipherment(PopoPrivKey::SubsequentMessage(SubsequentMessage::EncrCert))
}

/// Whether `req` asks for its certificate encrypted (indirect POP).
pub fn requests_encr_cert(req: &CertReqMsg) -> bool {
    matches!(
        req.popo,
        Some(ProofOfPossession::KeyEncipherment(
            PopoPrivKey::SubsequentMessage(SubsequentMessage::EncrCert)
        ))
    )
}

/// The subjectKeyIdentifier naming a recipient key (RFC 5280 section
/// 4.2.1.2 method 1: SHA-1 over the subjectPublicKey bits).
pub fn key_identifier(
    spki: &SubjectPublicKeyInfoOwned,
    provider: &dyn CryptoProvider,
) -> Result<Vec<u8>> {
    Ok(provider.digest(
        DigestAlgorithm::Sha1,
        &[spki.subject_public_key.raw_bytes()],
    )?)
}

/// The key wrap and key-encryption key length RFC 9936 pairs with `kem`.
fn wrap_for(kem: KemAlgorithm) -> (ObjectIdentifier, u16) {
    match kem {
        KemAlgorithm::MlKem512 => (ID_AES128_WRAP, 16),
        KemAlgorithm::MlKem768 | KemAlgorithm::MlKem1024 => (ID_AES256_WRAP, 32),
    }
}

fn kek(
    shared_secret: &[u8],
    wrap: &AlgorithmIdentifierOwned,
    kek_length: u16,
    ukm: Option<&OctetString>,
    provider: &dyn CryptoProvider,
) -> Result<Vec<u8>> {
    let info = CmsOriForKemOtherInfo {
        wrap: wrap.clone(),
        kek_length,
        ukm: ukm.cloned(),
    }
    .to_der()
    .map_err(Error::Encode)?;
    let mut kek = alloc::vec![0u8; usize::from(kek_length)];
    provider.hkdf(DigestAlgorithm::Sha256, shared_secret, &[], &info, &mut kek)?;
    Ok(kek)
}

/// Encrypt `cert` for the holder of the KEM key `recipient` (the responder
/// side of the indirect method).
///
/// Errors: `UnsupportedAlgorithm` when `recipient` is no KEM key this crate
/// knows, `Crypto` from the provider.
pub fn encrypt_certificate(
    cert: &Certificate,
    recipient: &SubjectPublicKeyInfoOwned,
    provider: &dyn CryptoProvider,
) -> Result<EnvelopedData> {
    encrypt_for_kem_key(&cert.to_der().map_err(Error::Encode)?, recipient, provider)
}

/// Encrypt `content` (content type id-data) for the holder of the KEM key
/// `recipient`, as described in the module documentation; also used for the
/// `encryptedRand` of a POP challenge ([`crate::pop_challenge`]).
///
/// Errors: `UnsupportedAlgorithm` when `recipient` is no KEM key this crate
/// knows, `Crypto` from the provider.
pub fn encrypt_for_kem_key(
    content: &[u8],
    recipient: &SubjectPublicKeyInfoOwned,
    provider: &dyn CryptoProvider,
) -> Result<EnvelopedData> {
    let kem = kem_from_oid(&recipient.algorithm.oid)?;
    let encapsulated = provider.kem_encapsulate(kem, recipient)?;
    let (wrap_oid, kek_length) = wrap_for(kem);
    let wrap = bare(wrap_oid);
    let kek = kek(
        &encapsulated.shared_secret,
        &wrap,
        kek_length,
        None,
        provider,
    )?;
    let mut cek = alloc::vec![0u8; 32];
    provider.fill(&mut cek)?;
    let mut iv = [0u8; 16];
    provider.fill(&mut iv)?;
    let encrypted_key = provider.aes_key_wrap(&kek, &cek)?;
    let content = provider.aes_cbc_encrypt(&cek, &iv, content)?;

    let kemri = KemRecipientInfo {
        version: 0,
        rid: RecipientIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(
            OctetString::new(key_identifier(recipient, provider)?).map_err(Error::Encode)?,
        )),
        kem: bare(kem_oid(kem)),
        kemct: OctetString::new(encapsulated.ciphertext).map_err(Error::Encode)?,
        kdf: bare(oid::HKDF_WITH_SHA256),
        kek_length,
        ukm: None,
        wrap,
        encrypted_key: OctetString::new(encrypted_key).map_err(Error::Encode)?,
    };
    let ori = OtherRecipientInfo {
        ori_type: ID_ORI_KEM,
        ori_value: Any::encode_from(&kemri).map_err(Error::Encode)?,
    };
    let iv = OctetString::new(iv.to_vec()).map_err(Error::Encode)?;
    Ok(EnvelopedData {
        version: CmsVersion::V3,
        originator_info: None,
        recip_infos: RecipientInfos::try_from(alloc::vec![RecipientInfo::Ori(ori)])
            .map_err(Error::Encode)?,
        encrypted_content: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: ID_AES256_CBC,
                parameters: Some(Any::encode_from(&iv).map_err(Error::Encode)?),
            },
            encrypted_content: Some(OctetString::new(content).map_err(Error::Encode)?),
        },
        unprotected_attrs: None,
    })
}

const UNDECRYPTABLE: &str = "the encrypted certificate does not decrypt";

/// Decrypt the certificate of `env` with the KEM private key `key` (the end
/// entity side of the indirect method).
///
/// Errors: `IncorrectData` when there is no KEMRecipientInfo for this kind
/// of key, the key does not unwrap the content key (another key, a wrong
/// ciphertext) or the content is not a certificate; `UnsupportedAlgorithm`
/// for a KDF, key wrap or content encryption other than those named in the
/// module documentation.
pub fn decrypt_certificate(
    env: &EnvelopedData,
    key: &dyn DecapsulationKey,
    provider: &dyn CryptoProvider,
) -> Result<Certificate> {
    let der = decrypt(env, key, provider, UNDECRYPTABLE)?;
    Certificate::from_der(&der).map_err(|_| Error::IncorrectData(UNDECRYPTABLE))
}

/// Decrypt the content of `env` with the KEM private key `key` (the inverse
/// of [`encrypt_for_kem_key`]).
///
/// Errors: `IncorrectData` when there is no KEMRecipientInfo for this kind
/// of key or the key does not decrypt it (another key, a wrong ciphertext);
/// `UnsupportedAlgorithm` for a KDF, key wrap or content encryption other
/// than those named in the module documentation.
pub fn decrypt_with_kem_key(
    env: &EnvelopedData,
    key: &dyn DecapsulationKey,
    provider: &dyn CryptoProvider,
) -> Result<Vec<u8>> {
    decrypt(env, key, provider, "the EnvelopedData does not decrypt")
}

fn decrypt(
    env: &EnvelopedData,
    key: &dyn DecapsulationKey,
    provider: &dyn CryptoProvider,
    undecryptable: &'static str,
) -> Result<Vec<u8>> {
    let undecryptable = || Error::IncorrectData(undecryptable);
    let ours = kem_oid(key.algorithm());
    let kemri = env
        .recip_infos
        .0
        .iter()
        .filter_map(|ri| match ri {
            RecipientInfo::Ori(o) if o.ori_type == ID_ORI_KEM => o.ori_value.to_der().ok(),
            _ => None,
        })
        .filter_map(|der| KemRecipientInfo::from_der(&der).ok())
        .find(|k| k.kem.oid == ours)
        .ok_or(Error::IncorrectData(
            "no KEMRecipientInfo for our key in the EnvelopedData",
        ))?;
    if kemri.kdf.oid != oid::HKDF_WITH_SHA256 {
        return Err(Error::UnsupportedAlgorithm(alloc::format!(
            "KEMRecipientInfo key derivation {}",
            kemri.kdf.oid
        )));
    }
    let kek_len_ok = match kemri.wrap.oid {
        ID_AES128_WRAP => kemri.kek_length == 16,
        ID_AES256_WRAP => kemri.kek_length == 32,
        ref other => {
            return Err(Error::UnsupportedAlgorithm(alloc::format!(
                "KEMRecipientInfo key wrap {other}"
            )));
        }
    };
    if !kek_len_ok {
        return Err(Error::IncorrectData("kekLength does not fit the key wrap"));
    }
    let shared_secret = key
        .decapsulate(kemri.kemct.as_bytes())
        .map_err(|_| undecryptable())?;
    let kek = kek(
        &shared_secret,
        &kemri.wrap,
        kemri.kek_length,
        kemri.ukm.as_ref(),
        provider,
    )?;
    let cek = provider
        .aes_key_unwrap(&kek, kemri.encrypted_key.as_bytes())
        .map_err(|_| undecryptable())?;

    let eci = &env.encrypted_content;
    let key_len = match eci.content_enc_alg.oid {
        ID_AES256_CBC => 32,
        ID_AES128_CBC => 16,
        ref other => {
            return Err(Error::UnsupportedAlgorithm(alloc::format!(
                "content encryption {other}"
            )));
        }
    };
    if cek.len() != key_len {
        return Err(undecryptable());
    }
    let iv = eci
        .content_enc_alg
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<OctetString>().ok())
        .filter(|iv| iv.as_bytes().len() == 16)
        .ok_or(Error::IncorrectData("AES-CBC without a 16-byte IV"))?;
    let content = eci
        .encrypted_content
        .as_ref()
        .ok_or(Error::IncorrectData("EnvelopedData without content"))?;
    provider
        .aes_cbc_decrypt(&cek, iv.as_bytes(), content.as_bytes())
        .map_err(|_| undecryptable())
}
