//! `SubjectPublicKeyInfo` encoding and decoding for the supported key types.

use cmp_core::asn1::oid;
use cmp_core::crypto::CryptoError;
use der::Any;
use der::asn1::{BitString, ObjectIdentifier};
#[cfg(feature = "ml-dsa")]
use ml_dsa::{EncodedVerifyingKey, MlDsa44, MlDsa65, MlDsa87, MlDsaParams};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
#[cfg(feature = "rsa")]
use {
    crate::rsa_pss,
    alloc::vec::Vec,
    cmp_core::crypto::DigestAlgorithm,
    der::asn1::Null,
    rsa::RsaPublicKey,
    rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey},
};

#[cfg(not(all(
    feature = "p384",
    feature = "rsa",
    feature = "ed25519",
    feature = "ml-dsa"
)))]
use crate::disabled;

/// A public key taken out of a `SubjectPublicKeyInfo`.
pub(crate) enum PublicKey {
    /// RSA, with the hash an id-RSASSA-PSS key is restricted to, if any.
    #[cfg(feature = "rsa")]
    Rsa {
        key: RsaPublicKey,
        pss_only: Option<PssKey>,
    },
    P256(p256::ecdsa::VerifyingKey),
    #[cfg(feature = "p384")]
    P384(p384::ecdsa::VerifyingKey),
    #[cfg(feature = "ed25519")]
    Ed25519(ed25519_dalek::VerifyingKey),
    #[cfg(feature = "ml-dsa")]
    MlDsa44(ml_dsa::VerifyingKey<MlDsa44>),
    #[cfg(feature = "ml-dsa")]
    MlDsa65(ml_dsa::VerifyingKey<MlDsa65>),
    #[cfg(feature = "ml-dsa")]
    MlDsa87(ml_dsa::VerifyingKey<MlDsa87>),
}

/// An RSA key whose algorithm is id-RSASSA-PSS (usable for PSS only).
#[cfg(feature = "rsa")]
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

#[cfg(any(feature = "ed25519", feature = "ml-dsa"))]
fn require_absent_params(spki: &SubjectPublicKeyInfoOwned) -> Result<(), CryptoError> {
    if spki.algorithm.parameters.is_some() {
        return Err(CryptoError::InvalidKey(
            "public key algorithm parameters must be absent",
        ));
    }
    Ok(())
}

#[cfg(feature = "ml-dsa")]
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
    /// Decode the public key of `spki`; [`CryptoError::Unsupported`] for an
    /// algorithm compiled out.
    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, CryptoError> {
        let bytes = key_bytes(spki)?;
        match spki.algorithm.oid {
            #[cfg(feature = "rsa")]
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
            #[cfg(feature = "rsa")]
            oid::RSASSA_PSS => {
                let hash = rsa_pss::key_restriction(spki.algorithm.parameters.as_ref())?;
                Ok(Self::Rsa {
                    key: rsa_key(bytes)?,
                    pss_only: Some(PssKey { hash }),
                })
            }
            #[cfg(not(feature = "rsa"))]
            oid::RSA_ENCRYPTION | oid::RSASSA_PSS => Err(disabled::RSA),
            oid::EC_PUBLIC_KEY => match ec_curve(spki)? {
                oid::SECP256R1 => p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                    .map(Self::P256)
                    .map_err(|_| CryptoError::InvalidKey("P-256 point")),
                #[cfg(feature = "p384")]
                oid::SECP384R1 => p384::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                    .map(Self::P384)
                    .map_err(|_| CryptoError::InvalidKey("P-384 point")),
                #[cfg(not(feature = "p384"))]
                oid::SECP384R1 => Err(disabled::P384),
                _ => Err(CryptoError::Unsupported("elliptic curve")),
            },
            #[cfg(feature = "ed25519")]
            oid::ED25519 => {
                require_absent_params(spki)?;
                let bytes: &[u8; 32] = bytes
                    .try_into()
                    .map_err(|_| CryptoError::InvalidKey("Ed25519 public key length"))?;
                ed25519_dalek::VerifyingKey::from_bytes(bytes)
                    .map(Self::Ed25519)
                    .map_err(|_| CryptoError::InvalidKey("Ed25519 point"))
            }
            #[cfg(not(feature = "ed25519"))]
            oid::ED25519 => Err(disabled::ED25519),
            #[cfg(feature = "ml-dsa")]
            oid::ML_DSA_44 => {
                require_absent_params(spki)?;
                ml_dsa_key(bytes).map(Self::MlDsa44)
            }
            #[cfg(feature = "ml-dsa")]
            oid::ML_DSA_65 => {
                require_absent_params(spki)?;
                ml_dsa_key(bytes).map(Self::MlDsa65)
            }
            #[cfg(feature = "ml-dsa")]
            oid::ML_DSA_87 => {
                require_absent_params(spki)?;
                ml_dsa_key(bytes).map(Self::MlDsa87)
            }
            #[cfg(not(feature = "ml-dsa"))]
            oid::ML_DSA_44 | oid::ML_DSA_65 | oid::ML_DSA_87 => Err(disabled::ML_DSA),
            _ => Err(CryptoError::Unsupported("public key algorithm")),
        }
    }
}

#[cfg(feature = "rsa")]
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
#[cfg(feature = "rsa")]
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
#[cfg(feature = "rsa")]
pub(crate) fn rsa_public_key_der(key: &RsaPublicKey) -> Result<Vec<u8>, CryptoError> {
    key.to_pkcs1_der()
        .map(|doc| doc.as_bytes().to_vec())
        .map_err(|_| CryptoError::Other("encoding RSA public key"))
}
