//! CMS EnvelopedData (RFC 5652 section 6) for delivered private keys:
//! sealing for the responder, opening for the client ([`EnvelopeKey`]).
//!
//! Algorithms (RFC 9481 section 4):
//!
//! - content encryption: AES-256-CBC when sealing; AES-128/192/256-CBC when opening;
//! - key transport (KTRI): RSAES-OAEP with SHA-256 and MGF1-SHA-256 when
//!   sealing; OAEP with SHA-1/256/384/512 or PKCS#1 v1.5 (`rsaEncryption`)
//!   when opening;
//! - key agreement (KARI): ephemeral-static ECDH on P-256 or P-384
//!   (RFC 5753, `dhSinglePass-stdDH-sha256kdf-scheme` / `-sha384kdf-`) with
//!   the X9.63 KDF over `ECC-CMS-SharedInfo` and AES-256 key wrap; opening
//!   also accepts the SHA-1 (OpenSSL's default), SHA-224 and SHA-512
//!   schemes, their cofactor forms, and AES-128/192 wrap;
//! - password (PWRI): PBKDF2 with HMAC-SHA-256 and AES-256 key wrap when
//!   sealing; AES key wrap or RFC 3211 `id-alg-PWRI-KEK` (what OpenSSL
//!   writes) when opening.

use alloc::boxed::Box;
use alloc::vec::Vec;

use aes::cipher::block_padding::{NoPadding, Pkcs7};
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use cmp_core::asn1::oid;
use cmp_core::asn1::{Pbkdf2Params, Pbkdf2Salt};
use cmp_core::crypto::{
    CryptoError, DigestAlgorithm, EnvelopeError, EnvelopeOpener, EnvelopeRecipient, HmacAlgorithm,
};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo,
    KeyTransRecipientInfo, OriginatorIdentifierOrKey, OriginatorPublicKey, PasswordRecipientInfo,
    RecipientEncryptedKey, RecipientIdentifier, RecipientInfo, RecipientInfos,
};
use der::asn1::{Any, BitString, ObjectIdentifier, OctetString, SetOfVec};
use der::zeroize::Zeroizing;
use der::{Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::keys::{KeyAlgorithm, PrivateKey};
use crate::{hash, rng};

const AES128_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.2");
const AES192_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.22");
const AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");
const AES128_WRAP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.5");
const AES192_WRAP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.25");
const AES256_WRAP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.45");
#[cfg(feature = "rsa")]
const RSAES_OAEP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.7");
#[cfg(feature = "rsa")]
const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
#[cfg(feature = "rsa")]
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
#[cfg(feature = "rsa")]
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ECDH_SHA224_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.11.0");
const ECDH_SHA256_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.11.1");
const ECDH_SHA384_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.11.2");
const ECDH_SHA512_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.11.3");
const ECDH_SHA1_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.133.16.840.63.0.2");
// The cofactor schemes are the same on P-256 and P-384 (cofactor 1).
const ECDH_COFACTOR_SHA1_KDF: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.133.16.840.63.0.3");
const ECDH_COFACTOR_SHA224_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.14.0");
const ECDH_COFACTOR_SHA256_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.14.1");
const ECDH_COFACTOR_SHA384_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.14.2");
const ECDH_COFACTOR_SHA512_KDF: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.1.14.3");
const PWRI_KEK: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.3.9");

/// PBKDF2 iterations used when sealing for a password.
const PBKDF2_ITERATIONS: u64 = 10_000;
/// The most PBKDF2 iterations accepted when opening (a cap against abuse).
const MAX_PBKDF2_ITERATIONS: u64 = 1_000_000;

const DECRYPT: EnvelopeError = EnvelopeError::DecryptFailed;

#[cfg(feature = "rsa")]
/// ```text
/// RSAES-OAEP-params ::= SEQUENCE {
///     hashFunc    [0] AlgorithmIdentifier DEFAULT sha1,
///     maskGenFunc [1] AlgorithmIdentifier DEFAULT mgf1SHA1,
///     pSourceFunc [2] AlgorithmIdentifier DEFAULT pSpecifiedEmpty }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Sequence)]
struct OaepParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    p_source: Option<AlgorithmIdentifierOwned>,
}

/// ```text
/// ECC-CMS-SharedInfo ::= SEQUENCE {
///     keyInfo         AlgorithmIdentifier,
///     entityUInfo [0] EXPLICIT OCTET STRING OPTIONAL,
///     suppPubInfo [2] EXPLICIT OCTET STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct EccCmsSharedInfo {
    key_info: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    entity_u_info: Option<OctetString>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    supp_pub_info: OctetString,
}

/// A key or password that opens EnvelopedData addressed to it: the client
/// side of central key generation and key recovery.
///
/// - [`EnvelopeKey::private_key`]: an RSA key (key transport) or an EC key
///   on P-256/P-384 (key agreement) with its certificate, which identifies
///   the recipient (issuer and serial number, or subject key identifier);
/// - [`EnvelopeKey::password`]: the shared secret (PWRI).
///
/// The key material is wiped when it is dropped; `Debug` does not show it.
#[derive(Clone)]
pub struct EnvelopeKey {
    secret: Secret,
}

#[derive(Clone)]
enum Secret {
    Key(Box<(PrivateKey, Certificate)>),
    Password(Zeroizing<Vec<u8>>),
}

impl core::fmt::Debug for EnvelopeKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.secret {
            Secret::Key(pair) => f
                .debug_tuple("EnvelopeKey::PrivateKey")
                .field(&pair.0)
                .finish(),
            Secret::Password(_) => f.write_str("EnvelopeKey::Password(redacted)"),
        }
    }
}

impl EnvelopeKey {
    /// The private key `key` of the certificate `cert`.
    pub fn private_key(key: PrivateKey, cert: Certificate) -> Self {
        Self {
            secret: Secret::Key(Box::new((key, cert))),
        }
    }

    /// A password (the MAC shared secret of the CMP transaction).
    pub fn password(secret: &[u8]) -> Self {
        Self {
            secret: Secret::Password(Zeroizing::new(secret.to_vec())),
        }
    }
}

impl EnvelopeOpener for EnvelopeKey {
    fn open(&self, envelope: &EnvelopedData) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        let cek = match &self.secret {
            Secret::Key(pair) => open_with_key(envelope, &pair.0, &pair.1)?,
            Secret::Password(password) => open_with_password(envelope, password)?,
        };
        decrypt_content(&envelope.encrypted_content, &cek)
    }
}

// ----- sealing -----

/// Encrypt `content` for `recipient` (see the module documentation).
pub(crate) fn seal(
    recipient: EnvelopeRecipient<'_>,
    content_type: ObjectIdentifier,
    content: &[u8],
) -> Result<EnvelopedData, CryptoError> {
    let mut cek = Zeroizing::new([0u8; 32]);
    rng::fill(cek.as_mut_slice())?;
    let mut iv = [0u8; 16];
    rng::fill(&mut iv)?;
    let encrypted = cbc::Encryptor::<aes::Aes256>::new_from_slices(cek.as_slice(), &iv)
        .map_err(|_| CryptoError::Other("AES-CBC key setup"))?
        .encrypt_padded_vec::<Pkcs7>(content);
    let (version, info) = match recipient {
        EnvelopeRecipient::KeyTransport(cert) => (CmsVersion::V0, seal_ktri(cert, &cek[..])?),
        EnvelopeRecipient::KeyAgreement(cert) => (CmsVersion::V2, seal_kari(cert, &cek[..])?),
        EnvelopeRecipient::Password(secret) => (CmsVersion::V3, seal_pwri(secret, &cek[..])?),
        _ => return Err(CryptoError::Unsupported("recipient kind")),
    };
    let mut infos = SetOfVec::new();
    infos.insert(info).map_err(|_| ENCODE)?;
    Ok(EnvelopedData {
        version,
        originator_info: None,
        recip_infos: RecipientInfos(infos),
        encrypted_content: EncryptedContentInfo {
            content_type,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: AES256_CBC,
                parameters: Some(any(&OctetString::new(iv.to_vec()).map_err(|_| ENCODE)?)?),
            },
            encrypted_content: Some(OctetString::new(encrypted).map_err(|_| ENCODE)?),
        },
        unprotected_attrs: None,
    })
}

const ENCODE: CryptoError = CryptoError::Other("DER encoding of the envelope failed");

fn any(value: &(impl Encode + der::Tagged + der::EncodeValue)) -> Result<Any, CryptoError> {
    Any::encode_from(value).map_err(|_| ENCODE)
}

fn issuer_and_serial(cert: &Certificate) -> IssuerAndSerialNumber {
    let tbs = cert.tbs_certificate();
    IssuerAndSerialNumber {
        issuer: tbs.issuer().clone(),
        serial_number: tbs.serial_number().clone(),
    }
}

#[cfg(feature = "rsa")]
fn seal_ktri(cert: &Certificate, cek: &[u8]) -> Result<RecipientInfo, CryptoError> {
    use rsa::pkcs8::DecodePublicKey;
    let spki = cert.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != oid::RSA_ENCRYPTION {
        return Err(CryptoError::InvalidKey(
            "key transport needs an RSA (rsaEncryption) certificate",
        ));
    }
    let der = spki.to_der().map_err(|_| ENCODE)?;
    let public = rsa::RsaPublicKey::from_public_key_der(&der)
        .map_err(|_| CryptoError::InvalidKey("malformed RSA public key"))?;
    let mut rng = getrandom::rand_core::UnwrapErr(rng::SysRng);
    let enc = public
        .encrypt(&mut rng, rsa::Oaep::<sha2::Sha256>::new(), cek)
        .map_err(|_| CryptoError::Other("RSA-OAEP encryption failed"))?;
    let sha256 = AlgorithmIdentifierOwned {
        oid: SHA256,
        parameters: None,
    };
    let params = OaepParams {
        hash: Some(sha256.clone()),
        mask_gen: Some(AlgorithmIdentifierOwned {
            oid: MGF1,
            parameters: Some(any(&sha256)?),
        }),
        p_source: None,
    };
    Ok(RecipientInfo::Ktri(KeyTransRecipientInfo {
        version: CmsVersion::V0,
        rid: RecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial(cert)),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: RSAES_OAEP,
            parameters: Some(any(&params)?),
        },
        enc_key: OctetString::new(enc).map_err(|_| ENCODE)?,
    }))
}

#[cfg(not(feature = "rsa"))]
fn seal_ktri(_cert: &Certificate, _cek: &[u8]) -> Result<RecipientInfo, CryptoError> {
    Err(crate::disabled::RSA)
}

/// The named curve of an id-ecPublicKey SPKI.
fn curve_of(alg: &AlgorithmIdentifierOwned) -> Option<ObjectIdentifier> {
    alg.parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
}

fn seal_kari(cert: &Certificate, cek: &[u8]) -> Result<RecipientInfo, CryptoError> {
    let spki = cert.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != oid::EC_PUBLIC_KEY {
        return Err(CryptoError::InvalidKey(
            "key agreement needs an EC (id-ecPublicKey) certificate",
        ));
    }
    let point = spki.subject_public_key.raw_bytes();
    let (scheme, digest, z, ephemeral) = match curve_of(&spki.algorithm) {
        Some(oid::SECP256R1) => {
            let (z, eph) = ecdh_ephemeral_p256(point)?;
            (ECDH_SHA256_KDF, DigestAlgorithm::Sha256, z, eph)
        }
        #[cfg(feature = "p384")]
        Some(oid::SECP384R1) => {
            let (z, eph) = ecdh_ephemeral_p384(point)?;
            (ECDH_SHA384_KDF, DigestAlgorithm::Sha384, z, eph)
        }
        _ => return Err(CryptoError::Unsupported("key agreement curve")),
    };
    let wrap = AlgorithmIdentifierOwned {
        oid: AES256_WRAP,
        parameters: None,
    };
    let kek = kari_kek(digest, &z, &wrap, None, 32)?;
    let wrapped = aes_wrap(&kek, cek)?;
    let keys = alloc::vec![RecipientEncryptedKey {
        rid: KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial(cert)),
        enc_key: OctetString::new(wrapped).map_err(|_| ENCODE)?,
    }];
    Ok(RecipientInfo::Kari(KeyAgreeRecipientInfo {
        version: CmsVersion::V3,
        originator: OriginatorIdentifierOrKey::OriginatorKey(OriginatorPublicKey {
            algorithm: AlgorithmIdentifierOwned {
                oid: oid::EC_PUBLIC_KEY,
                parameters: None,
            },
            public_key: BitString::from_bytes(&ephemeral).map_err(|_| ENCODE)?,
        }),
        ukm: None,
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: scheme,
            parameters: Some(any(&wrap)?),
        },
        recipient_enc_keys: keys,
    }))
}

/// ECDH with a fresh ephemeral key on one curve (`$ephemeral`) and with a
/// static key (`$static`): the shared secret Z, and for the ephemeral form
/// the ephemeral public point.
macro_rules! ecdh_functions {
    ($ephemeral:ident, $static_:ident, $curve:ident) => {
        fn $ephemeral(peer: &[u8]) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), CryptoError> {
            let peer = $curve::PublicKey::from_sec1_bytes(peer)
                .map_err(|_| CryptoError::InvalidKey("malformed EC public key"))?;
            use $curve::elliptic_curve::Generate;
            let eph = $curve::ecdh::EphemeralSecret::try_generate_from_rng(&mut rng::SysRng)
                .map_err(|_| CryptoError::Rng)?;
            let shared = eph.diffie_hellman(&peer);
            let z = Zeroizing::new(shared.raw_secret_bytes().to_vec());
            Ok((z, eph.public_key().to_sec1_bytes().to_vec()))
        }

        fn $static_(pkcs8: &[u8], peer: &[u8]) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
            use $curve::pkcs8::DecodePrivateKey;
            let secret = $curve::SecretKey::from_pkcs8_der(pkcs8)
                .map_err(|_| EnvelopeError::Unsupported("EC private key"))?;
            let peer = $curve::PublicKey::from_sec1_bytes(peer)
                .map_err(|_| EnvelopeError::Malformed("originator public key"))?;
            let shared = $curve::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
            Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
        }
    };
}

ecdh_functions!(ecdh_ephemeral_p256, ecdh_static_p256, p256);
#[cfg(feature = "p384")]
ecdh_functions!(ecdh_ephemeral_p384, ecdh_static_p384, p384);

/// The KEK of a KARI: X9.63 KDF with `digest` over Z and ECC-CMS-SharedInfo.
fn kari_kek(
    digest: DigestAlgorithm,
    z: &[u8],
    wrap: &AlgorithmIdentifierOwned,
    ukm: Option<&OctetString>,
    key_len: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let bits = u32::try_from(key_len * 8).map_err(|_| ENCODE)?;
    let info = EccCmsSharedInfo {
        key_info: wrap.clone(),
        entity_u_info: ukm.cloned(),
        supp_pub_info: OctetString::new(bits.to_be_bytes().to_vec()).map_err(|_| ENCODE)?,
    }
    .to_der()
    .map_err(|_| ENCODE)?;
    let mut out = Zeroizing::new(Vec::with_capacity(key_len + 64));
    let mut counter: u32 = 1;
    while out.len() < key_len {
        let block = hash::digest(digest, &[z, &counter.to_be_bytes(), &info]);
        out.extend_from_slice(&block);
        counter += 1;
    }
    out.truncate(key_len);
    Ok(out)
}

fn seal_pwri(secret: &[u8], cek: &[u8]) -> Result<RecipientInfo, CryptoError> {
    let mut salt = [0u8; 16];
    rng::fill(&mut salt)?;
    let mut kek = Zeroizing::new([0u8; 32]);
    hash::pbkdf2(
        HmacAlgorithm(DigestAlgorithm::Sha256),
        secret,
        &salt,
        PBKDF2_ITERATIONS as u32,
        kek.as_mut_slice(),
    )?;
    let wrapped = aes_wrap(&kek[..], cek)?;
    let params = Pbkdf2Params {
        salt: Pbkdf2Salt::Specified(OctetString::new(salt.to_vec()).map_err(|_| ENCODE)?),
        iteration_count: PBKDF2_ITERATIONS,
        key_length: Some(32),
        prf: Some(AlgorithmIdentifierOwned {
            oid: oid::HMAC_WITH_SHA256,
            parameters: None,
        }),
    };
    Ok(RecipientInfo::Pwri(PasswordRecipientInfo {
        version: CmsVersion::V0,
        key_derivation_alg: Some(AlgorithmIdentifierOwned {
            oid: oid::PBKDF2,
            parameters: Some(any(&params)?),
        }),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: AES256_WRAP,
            parameters: None,
        },
        enc_key: OctetString::new(wrapped).map_err(|_| ENCODE)?,
    }))
}

fn aes_wrap(kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    crate::aes_ops::key_wrap(kek, key)
}

// ----- opening -----

fn wrap_key_len(alg: &ObjectIdentifier) -> Option<usize> {
    match *alg {
        AES128_WRAP => Some(16),
        AES192_WRAP => Some(24),
        AES256_WRAP => Some(32),
        _ => None,
    }
}

fn aes_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
        return Err(DECRYPT);
    }
    crate::aes_ops::key_unwrap(kek, wrapped)
        .map(Zeroizing::new)
        .map_err(|_| DECRYPT)
}

fn is_ours_ias(ias: &IssuerAndSerialNumber, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    &ias.issuer == tbs.issuer() && &ias.serial_number == tbs.serial_number()
}

fn is_ours_ski(ski: &SubjectKeyIdentifier, cert: &Certificate) -> bool {
    matches!(
        cert.tbs_certificate().get_extension::<SubjectKeyIdentifier>(),
        Ok(Some((_, own))) if &own == ski
    )
}

fn open_with_key(
    envelope: &EnvelopedData,
    key: &PrivateKey,
    cert: &Certificate,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    for info in envelope.recip_infos.0.iter() {
        match info {
            RecipientInfo::Ktri(ktri) => {
                let ours = match &ktri.rid {
                    RecipientIdentifier::IssuerAndSerialNumber(ias) => is_ours_ias(ias, cert),
                    RecipientIdentifier::SubjectKeyIdentifier(ski) => is_ours_ski(ski, cert),
                };
                if ours {
                    return open_ktri(ktri, key);
                }
            }
            RecipientInfo::Kari(kari) => {
                let mine = kari.recipient_enc_keys.iter().find(|k| match &k.rid {
                    KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias) => {
                        is_ours_ias(ias, cert)
                    }
                    KeyAgreeRecipientIdentifier::RKeyId(rk) => {
                        is_ours_ski(&rk.subject_key_identifier, cert)
                    }
                });
                if let Some(rek) = mine {
                    return open_kari(kari, rek, key);
                }
            }
            _ => {}
        }
    }
    Err(EnvelopeError::NotForUs)
}

#[cfg(feature = "rsa")]
fn open_ktri(
    ktri: &KeyTransRecipientInfo,
    key: &PrivateKey,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    use rsa::pkcs8::DecodePrivateKey;
    let der = key
        .to_pkcs8_der()
        .map_err(|_| EnvelopeError::Unsupported("key transport with this key"))?;
    let rsa_key = rsa::RsaPrivateKey::from_pkcs8_der(&der)
        .map_err(|_| EnvelopeError::Unsupported("key transport with a non-RSA key"))?;
    let enc = ktri.enc_key.as_bytes();
    let cek = match ktri.key_enc_alg.oid {
        oid::RSA_ENCRYPTION => rsa_key.decrypt(rsa::Pkcs1v15Encrypt, enc),
        RSAES_OAEP => {
            let params = match &ktri.key_enc_alg.parameters {
                Some(p) => p
                    .decode_as::<OaepParams>()
                    .map_err(|_| EnvelopeError::Malformed("RSAES-OAEP parameters"))?,
                None => OaepParams::default(),
            };
            let hash = params.hash.as_ref().map_or(SHA1, |h| h.oid);
            let mgf_hash = match &params.mask_gen {
                None => SHA1,
                Some(m) if m.oid == MGF1 => m
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
                    .map(|a| a.oid)
                    .ok_or(EnvelopeError::Malformed("MGF1 parameters"))?,
                Some(_) => return Err(EnvelopeError::Unsupported("OAEP mask generation function")),
            };
            if params.p_source.is_some() {
                return Err(EnvelopeError::Unsupported("OAEP label"));
            }
            if hash != mgf_hash {
                return Err(EnvelopeError::Unsupported("OAEP with different hashes"));
            }
            match cmp_core::alg::digest_from_oid(&hash) {
                Ok(DigestAlgorithm::Sha1) => rsa_key.decrypt(rsa::Oaep::<sha1::Sha1>::new(), enc),
                Ok(DigestAlgorithm::Sha256) => {
                    rsa_key.decrypt(rsa::Oaep::<sha2::Sha256>::new(), enc)
                }
                Ok(DigestAlgorithm::Sha384) => {
                    rsa_key.decrypt(rsa::Oaep::<sha2::Sha384>::new(), enc)
                }
                Ok(DigestAlgorithm::Sha512) => {
                    rsa_key.decrypt(rsa::Oaep::<sha2::Sha512>::new(), enc)
                }
                _ => return Err(EnvelopeError::Unsupported("OAEP hash")),
            }
        }
        _ => return Err(EnvelopeError::Unsupported("key transport algorithm")),
    };
    cek.map(Zeroizing::new).map_err(|_| DECRYPT)
}

#[cfg(not(feature = "rsa"))]
fn open_ktri(
    _ktri: &KeyTransRecipientInfo,
    _key: &PrivateKey,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    Err(EnvelopeError::Unsupported(
        "RSA key transport (feature rsa)",
    ))
}

fn open_kari(
    kari: &KeyAgreeRecipientInfo,
    rek: &RecipientEncryptedKey,
    key: &PrivateKey,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let OriginatorIdentifierOrKey::OriginatorKey(originator) = &kari.originator else {
        return Err(EnvelopeError::Unsupported("static-static key agreement"));
    };
    let digest = match kari.key_enc_alg.oid {
        ECDH_SHA1_KDF | ECDH_COFACTOR_SHA1_KDF => DigestAlgorithm::Sha1,
        ECDH_SHA224_KDF | ECDH_COFACTOR_SHA224_KDF => DigestAlgorithm::Sha224,
        ECDH_SHA256_KDF | ECDH_COFACTOR_SHA256_KDF => DigestAlgorithm::Sha256,
        ECDH_SHA384_KDF | ECDH_COFACTOR_SHA384_KDF => DigestAlgorithm::Sha384,
        ECDH_SHA512_KDF | ECDH_COFACTOR_SHA512_KDF => DigestAlgorithm::Sha512,
        _ => return Err(EnvelopeError::Unsupported("key agreement scheme")),
    };
    let wrap = kari
        .key_enc_alg
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
        .ok_or(EnvelopeError::Malformed(
            "key agreement without key wrap algorithm",
        ))?;
    let kek_len =
        wrap_key_len(&wrap.oid).ok_or(EnvelopeError::Unsupported("key wrap algorithm"))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|_| EnvelopeError::Unsupported("key agreement with this key"))?;
    let peer = originator.public_key.raw_bytes();
    let z = match key.key_algorithm() {
        Some(KeyAlgorithm::EcP256) => ecdh_static_p256(&der, peer)?,
        #[cfg(feature = "p384")]
        Some(KeyAlgorithm::EcP384) => ecdh_static_p384(&der, peer)?,
        _ => return Err(EnvelopeError::Unsupported("key agreement with this key")),
    };
    let kek = kari_kek(digest, &z, &wrap, kari.ukm.as_ref(), kek_len)
        .map_err(|_| EnvelopeError::Malformed("ECC-CMS-SharedInfo"))?;
    aes_unwrap(&kek, rek.enc_key.as_bytes())
}

fn open_with_password(
    envelope: &EnvelopedData,
    password: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let mut result = Err(EnvelopeError::NotForUs);
    for info in envelope.recip_infos.0.iter() {
        if let RecipientInfo::Pwri(pwri) = info {
            result = open_pwri(pwri, password);
            if result.is_ok() {
                return result;
            }
        }
    }
    result
}

fn open_pwri(
    pwri: &PasswordRecipientInfo,
    password: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let kdf = pwri
        .key_derivation_alg
        .as_ref()
        .ok_or(EnvelopeError::Unsupported("PWRI without key derivation"))?;
    if kdf.oid != oid::PBKDF2 {
        return Err(EnvelopeError::Unsupported("PWRI key derivation"));
    }
    let params = kdf
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<Pbkdf2Params>().ok())
        .ok_or(EnvelopeError::Malformed("PBKDF2 parameters"))?;
    let Pbkdf2Salt::Specified(salt) = &params.salt else {
        return Err(EnvelopeError::Unsupported("PBKDF2 salt source"));
    };
    if params.iteration_count == 0 || params.iteration_count > MAX_PBKDF2_ITERATIONS {
        return Err(EnvelopeError::Unsupported("PBKDF2 iteration count"));
    }
    let prf = match &params.prf {
        None => HmacAlgorithm(DigestAlgorithm::Sha1),
        Some(p) => cmp_core::alg::hmac_from_oid(&p.oid)
            .map_err(|_| EnvelopeError::Unsupported("PBKDF2 PRF"))?,
    };
    // the KEK length comes from the key encryption algorithm
    let (kek_len, kek_cbc_iv) = match pwri.key_enc_alg.oid {
        PWRI_KEK => {
            let inner = pwri
                .key_enc_alg
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
                .ok_or(EnvelopeError::Malformed("PWRI-KEK parameters"))?;
            let len = cbc_key_len(&inner.oid)?;
            (len, Some(cbc_iv(&inner)?))
        }
        ref o => (
            wrap_key_len(o).ok_or(EnvelopeError::Unsupported("PWRI key encryption"))?,
            None,
        ),
    };
    if params.key_length.is_some_and(|l| l != kek_len as u64) {
        return Err(EnvelopeError::Malformed("PBKDF2 key length"));
    }
    let mut kek = Zeroizing::new(alloc::vec![0u8; kek_len]);
    hash::pbkdf2(
        prf,
        password,
        salt.as_bytes(),
        params.iteration_count as u32,
        &mut kek,
    )
    .map_err(|_| EnvelopeError::Unsupported("PBKDF2"))?;
    match kek_cbc_iv {
        None => aes_unwrap(&kek, pwri.enc_key.as_bytes()),
        Some(iv) => pwri_kek_unwrap(&kek, &iv, pwri.enc_key.as_bytes()),
    }
}

fn cbc_key_len(alg: &ObjectIdentifier) -> Result<usize, EnvelopeError> {
    match *alg {
        AES128_CBC => Ok(16),
        AES192_CBC => Ok(24),
        AES256_CBC => Ok(32),
        _ => Err(EnvelopeError::Unsupported("content encryption algorithm")),
    }
}

fn cbc_iv(alg: &AlgorithmIdentifierOwned) -> Result<[u8; 16], EnvelopeError> {
    alg.parameters
        .as_ref()
        .and_then(|p| p.decode_as::<OctetString>().ok())
        .and_then(|iv| <[u8; 16]>::try_from(iv.as_bytes()).ok())
        .ok_or(EnvelopeError::Malformed("AES-CBC IV"))
}

/// CBC decryption without padding of whole blocks.
fn cbc_decrypt_raw(key: &[u8], iv: &[u8], data: &mut [u8]) -> Result<(), EnvelopeError> {
    let result = match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(|_| DECRYPT)?
            .decrypt_padded::<NoPadding>(data)
            .map(|_| ()),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
            .map_err(|_| DECRYPT)?
            .decrypt_padded::<NoPadding>(data)
            .map(|_| ()),
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(|_| DECRYPT)?
            .decrypt_padded::<NoPadding>(data)
            .map(|_| ()),
        _ => return Err(DECRYPT),
    };
    result.map_err(|_| DECRYPT)
}

/// The RFC 3211 key unwrap (`id-alg-PWRI-KEK` with AES-CBC).
fn pwri_kek_unwrap(
    kek: &[u8],
    iv: &[u8; 16],
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    const B: usize = 16;
    let n = wrapped.len() / B;
    if !wrapped.len().is_multiple_of(B) || n < 2 {
        return Err(DECRYPT);
    }
    // The last block of the first pass: decrypt the last block with the
    // one before it as IV.
    let mut last = Zeroizing::new(wrapped.get((n - 1) * B..).ok_or(DECRYPT)?.to_vec());
    let before_last = wrapped.get((n - 2) * B..(n - 1) * B).ok_or(DECRYPT)?;
    cbc_decrypt_raw(kek, before_last, &mut last)?;
    // Undo the second pass: CBC-decrypt every block with that block as IV.
    let mut inner = Zeroizing::new(wrapped.to_vec());
    cbc_decrypt_raw(kek, &last, &mut inner)?;
    // Undo the first pass with the real IV.
    cbc_decrypt_raw(kek, iv, &mut inner)?;
    let len = usize::from(*inner.first().ok_or(DECRYPT)?);
    let check = inner.get(1..4).ok_or(DECRYPT)?;
    let key = inner.get(4..4 + len).ok_or(DECRYPT)?;
    if len < 3 || check.iter().zip(key.iter()).any(|(c, k)| *c != !*k) {
        return Err(DECRYPT);
    }
    Ok(Zeroizing::new(key.to_vec()))
}

fn decrypt_content(
    info: &EncryptedContentInfo,
    cek: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let key_len = cbc_key_len(&info.content_enc_alg.oid)?;
    if cek.len() != key_len {
        return Err(DECRYPT);
    }
    let iv = cbc_iv(&info.content_enc_alg)?;
    let mut buf = Zeroizing::new(
        info.encrypted_content
            .as_ref()
            .ok_or(EnvelopeError::Malformed("detached encrypted content"))?
            .as_bytes()
            .to_vec(),
    );
    let len = match key_len {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(cek, &iv)
            .map_err(|_| DECRYPT)?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map(<[u8]>::len),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(cek, &iv)
            .map_err(|_| DECRYPT)?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map(<[u8]>::len),
        _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(cek, &iv)
            .map_err(|_| DECRYPT)?
            .decrypt_padded::<Pkcs7>(&mut buf)
            .map(<[u8]>::len),
    }
    .map_err(|_| DECRYPT)?;
    buf.truncate(len);
    Ok(buf)
}

// ----- key generation -----

/// The `AlgorithmIdentifier` that names keys of type `alg` in a certificate
/// template (`id-ecPublicKey` with the curve, `rsaEncryption`, ...): what a
/// client of central key generation puts next to an empty public key, and
/// what [`cmp_core::crypto::CryptoProvider::generate_key`] takes.
pub fn key_type_identifier(alg: KeyAlgorithm) -> AlgorithmIdentifierOwned {
    let ec = |curve: ObjectIdentifier| AlgorithmIdentifierOwned {
        oid: oid::EC_PUBLIC_KEY,
        parameters: Some(Any::from(&curve)),
    };
    let bare = |oid: ObjectIdentifier| AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    };
    match alg {
        KeyAlgorithm::EcP256 => ec(oid::SECP256R1),
        KeyAlgorithm::EcP384 => ec(oid::SECP384R1),
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => AlgorithmIdentifierOwned {
            oid: oid::RSA_ENCRYPTION,
            parameters: Some(Any::from(der::asn1::Null)),
        },
        KeyAlgorithm::Ed25519 => bare(oid::ED25519),
        KeyAlgorithm::MlDsa44 => bare(oid::ML_DSA_44),
        KeyAlgorithm::MlDsa65 => bare(oid::ML_DSA_65),
        KeyAlgorithm::MlDsa87 => bare(oid::ML_DSA_87),
    }
}

/// Generate a key of the type `algorithm` names; PKCS#8 DER.
pub(crate) fn generate_key(
    algorithm: &AlgorithmIdentifierOwned,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let kind = match algorithm.oid {
        oid::EC_PUBLIC_KEY => match curve_of(algorithm) {
            None | Some(oid::SECP256R1) => KeyAlgorithm::EcP256,
            Some(oid::SECP384R1) => KeyAlgorithm::EcP384,
            Some(_) => return Err(CryptoError::Unsupported("EC curve")),
        },
        oid::RSA_ENCRYPTION => KeyAlgorithm::Rsa2048,
        oid::ED25519 => KeyAlgorithm::Ed25519,
        oid::ML_DSA_44 => KeyAlgorithm::MlDsa44,
        oid::ML_DSA_65 => KeyAlgorithm::MlDsa65,
        oid::ML_DSA_87 => KeyAlgorithm::MlDsa87,
        _ => return Err(CryptoError::Unsupported("key type for central generation")),
    };
    PrivateKey::generate(kind)?.to_pkcs8_der()
}

/// The public key of a PKCS#8 private key.
pub(crate) fn public_key_of(pkcs8: &[u8]) -> Result<SubjectPublicKeyInfoOwned, CryptoError> {
    use cmp_core::crypto::SigningKey;
    Ok(PrivateKey::from_pkcs8_der(pkcs8)?.public_key())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kari_kdf_is_x963_over_the_shared_info() {
        // one block: SHA-256(Z || 00000001 || SharedInfo), truncated
        let wrap = AlgorithmIdentifierOwned {
            oid: AES128_WRAP,
            parameters: None,
        };
        let z = [7u8; 32];
        let kek = kari_kek(DigestAlgorithm::Sha256, &z, &wrap, None, 16).unwrap();
        let info = EccCmsSharedInfo {
            key_info: wrap,
            entity_u_info: None,
            supp_pub_info: OctetString::new(128u32.to_be_bytes().to_vec()).unwrap(),
        }
        .to_der()
        .unwrap();
        let full = hash::digest(DigestAlgorithm::Sha256, &[&z, &[0, 0, 0, 1], &info]);
        assert_eq!(&kek[..], &full[..16]);
    }

    #[test]
    fn aes_wrap_round_trips_and_detects_tampering() {
        let kek = [1u8; 32];
        let key = [2u8; 32];
        let mut wrapped = aes_wrap(&kek, &key).unwrap();
        assert_eq!(&aes_unwrap(&kek, &wrapped).unwrap()[..], &key);
        wrapped[3] ^= 1;
        assert_eq!(aes_unwrap(&kek, &wrapped), Err(DECRYPT));
    }
}
