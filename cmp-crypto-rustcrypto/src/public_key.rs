//! `SubjectPublicKeyInfo` encoding and decoding for the supported key types.

use alloc::vec::Vec;

use cmp_core::asn1::oid;
use cmp_core::crypto::{CryptoError, DigestAlgorithm};
use der::Any;
use der::asn1::{BitString, Null, ObjectIdentifier};
use ml_dsa::{EncodedVerifyingKey, MlDsa44, MlDsa65, MlDsa87, MlDsaParams};
use rsa::RsaPublicKey;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::rsa_pss;

/// A public key taken out of a `SubjectPublicKeyInfo`.
pub(crate) enum PublicKey {
    /// RSA, with the hash an id-RSASSA-PSS key is restricted to, if any.
    Rsa {
        key: RsaPublicKey,
        pss_only: Option<PssKey>,
    },
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    MlDsa44(ml_dsa::VerifyingKey<MlDsa44>),
    MlDsa65(ml_dsa::VerifyingKey<MlDsa65>),
    MlDsa87(ml_dsa::VerifyingKey<MlDsa87>),
}

/// An RSA key whose algorithm is id-RSASSA-PSS (usable for PSS only).
pub(crate) struct PssKey {
    /// The hash the key's parameters restrict it to, if they are present.
    pub(crate) hash: Option<DigestAlgorithm>,
}

/// The key bits of an SPKI, which must be a whole number of bytes.
fn key_bytes(spki: &SubjectPublicKeyInfoOwned) -> Result<&[u8], CryptoError> {
    spki.subject_public_key
        .as_bytes()
        .ok_or(CryptoError::InvalidKey(
            "public key BIT STRING has unused bits",
        ))
}

fn require_absent_params(spki: &SubjectPublicKeyInfoOwned) -> Result<(), CryptoError> {
    if spki.algorithm.parameters.is_some() {
        return Err(CryptoError::InvalidKey(
            "public key algorithm parameters must be absent",
        ));
    }
    Ok(())
}

fn ml_dsa_key<P: MlDsaParams>(bytes: &[u8]) -> Result<ml_dsa::VerifyingKey<P>, CryptoError> {
    let encoded = EncodedVerifyingKey::<P>::try_from(bytes)
        .map_err(|_| CryptoError::InvalidKey("ML-DSA public key length"))?;
    Ok(ml_dsa::VerifyingKey::<P>::decode(&encoded))
}

/// The named curve of an id-ecPublicKey SPKI.
fn ec_curve(spki: &SubjectPublicKeyInfoOwned) -> Result<ObjectIdentifier, CryptoError> {
    spki.algorithm
        .parameters
        .as_ref()
        .ok_or(CryptoError::InvalidKey(
            "EC public key without curve parameters",
        ))?
        .decode_as::<ObjectIdentifier>()
        .map_err(|_| CryptoError::InvalidKey("EC public key parameters are not a named curve"))
}

impl PublicKey {
    /// Decode the public key of `spki`.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, CryptoError> {
        let bytes = key_bytes(spki)?;
        match spki.algorithm.oid {
            oid::RSA_ENCRYPTION => {
                // RFC 3279 says NULL; tolerate absent, as many decoders do.
                if spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .is_some_and(|p| !p.is_null())
                {
                    return Err(CryptoError::InvalidKey(
                        "rsaEncryption parameters must be NULL",
                    ));
                }
                Ok(Self::Rsa {
                    key: rsa_key(bytes)?,
                    pss_only: None,
                })
            }
            oid::RSASSA_PSS => {
                let hash = rsa_pss::key_restriction(spki.algorithm.parameters.as_ref())?;
                Ok(Self::Rsa {
                    key: rsa_key(bytes)?,
                    pss_only: Some(PssKey { hash }),
                })
            }
            oid::EC_PUBLIC_KEY => match ec_curve(spki)? {
                oid::SECP256R1 => p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                    .map(Self::P256)
                    .map_err(|_| CryptoError::InvalidKey("P-256 point")),
                oid::SECP384R1 => p384::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                    .map(Self::P384)
                    .map_err(|_| CryptoError::InvalidKey("P-384 point")),
                _ => Err(CryptoError::Unsupported("elliptic curve")),
            },
            oid::ED25519 => {
                require_absent_params(spki)?;
                let bytes: &[u8; 32] = bytes
                    .try_into()
                    .map_err(|_| CryptoError::InvalidKey("Ed25519 public key length"))?;
                ed25519_dalek::VerifyingKey::from_bytes(bytes)
                    .map(Self::Ed25519)
                    .map_err(|_| CryptoError::InvalidKey("Ed25519 point"))
            }
            oid::ML_DSA_44 => {
                require_absent_params(spki)?;
                ml_dsa_key(bytes).map(Self::MlDsa44)
            }
            oid::ML_DSA_65 => {
                require_absent_params(spki)?;
                ml_dsa_key(bytes).map(Self::MlDsa65)
            }
            oid::ML_DSA_87 => {
                require_absent_params(spki)?;
                ml_dsa_key(bytes).map(Self::MlDsa87)
            }
            _ => Err(CryptoError::Unsupported("public key algorithm")),
        }
    }
}

fn rsa_key(pkcs1: &[u8]) -> Result<RsaPublicKey, CryptoError> {
    RsaPublicKey::from_pkcs1_der(pkcs1).map_err(|_| CryptoError::InvalidKey("RSA public key"))
}

/// Build an SPKI from its algorithm and key bytes.
pub(crate) fn spki(
    algorithm: AlgorithmIdentifierOwned,
    key: &[u8],
) -> Result<SubjectPublicKeyInfoOwned, CryptoError> {
    let subject_public_key =
        BitString::from_bytes(key).map_err(|_| CryptoError::Other("encoding public key"))?;
    Ok(SubjectPublicKeyInfoOwned {
        algorithm,
        subject_public_key,
    })
}

/// The `AlgorithmIdentifier` of an id-ecPublicKey key on `curve`.
pub(crate) fn ec_algorithm(curve: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oid::EC_PUBLIC_KEY,
        parameters: Some(Any::from(curve)),
    }
}

/// The `AlgorithmIdentifier` of an rsaEncryption key (NULL parameters).
pub(crate) fn rsa_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oid::RSA_ENCRYPTION,
        parameters: Some(Any::from(Null)),
    }
}

/// An algorithm `AlgorithmIdentifier` with absent parameters.
pub(crate) fn bare_algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// PKCS#1 `RSAPublicKey` DER of `key`.
pub(crate) fn rsa_public_key_der(key: &RsaPublicKey) -> Result<Vec<u8>, CryptoError> {
    key.to_pkcs1_der()
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|_| CryptoError::Other("encoding RSA public key"))
}
