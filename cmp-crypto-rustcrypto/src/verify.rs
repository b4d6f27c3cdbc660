//! Signature verification for every [`SignatureAlgorithm`] built in.

use cmp_core::crypto::{CryptoError, DigestAlgorithm, SignatureAlgorithm};
#[cfg(feature = "ml-dsa")]
use ml_dsa::{MlDsaParams, Signature as MlDsaSignature};
#[cfg(feature = "rsa")]
use rsa::{Pkcs1v15Sign, Pss, RsaPublicKey};
#[cfg(feature = "ml-dsa")]
use signature::Verifier;
use signature::hazmat::PrehashVerifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

#[cfg(not(all(feature = "rsa", feature = "ed25519", feature = "ml-dsa")))]
use crate::disabled;
use crate::hash;
use crate::public_key::PublicKey;
#[cfg(feature = "rsa")]
use crate::{public_key::PssKey, rsa_pss};

const WRONG_KEY: CryptoError = CryptoError::InvalidKey("key type does not match the algorithm");

/// Verify `signature` over `message` with the key in `spki` under `alg`.
pub(crate) fn verify_signature(
    alg: SignatureAlgorithm,
    params: &AlgorithmIdentifierOwned,
    spki: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    // Check what the algorithm asks for before touching the key, so that an
    // unsupported algorithm is reported as such whatever the key (an
    // algorithm compiled out, too).
    match alg {
        #[cfg(feature = "rsa")]
        SignatureAlgorithm::RsaPkcs1(h) if !rsa_pkcs1_hash_supported(h) => {
            return Err(CryptoError::Unsupported("RSA PKCS#1 v1.5 hash algorithm"));
        }
        #[cfg(feature = "rsa")]
        SignatureAlgorithm::RsaPss(h) => rsa_pss::check_signature_params(h, params)?,
        #[cfg(not(feature = "rsa"))]
        SignatureAlgorithm::RsaPkcs1(_) | SignatureAlgorithm::RsaPss(_) => {
            return Err(disabled::RSA);
        }
        #[cfg(not(feature = "ed25519"))]
        SignatureAlgorithm::Ed25519 => return Err(disabled::ED25519),
        #[cfg(not(feature = "ml-dsa"))]
        SignatureAlgorithm::MlDsa44 | SignatureAlgorithm::MlDsa65 | SignatureAlgorithm::MlDsa87 => {
            return Err(disabled::ML_DSA);
        }
        SignatureAlgorithm::Ecdsa(h) if !ecdsa_hash_supported(h) => {
            return Err(CryptoError::Unsupported("ECDSA hash algorithm"));
        }
        _ => {}
    }
    // Only RSASSA-PSS signatures have parameters to check.
    #[cfg(not(feature = "rsa"))]
    let _ = params;

    let key = PublicKey::from_spki(spki)?;
    match (alg, key) {
        #[cfg(feature = "rsa")]
        (
            SignatureAlgorithm::RsaPkcs1(h),
            PublicKey::Rsa {
                key,
                pss_only: None,
            },
        ) => verify_rsa_pkcs1(h, &key, message, signature),
        #[cfg(feature = "rsa")]
        (SignatureAlgorithm::RsaPss(h), PublicKey::Rsa { key, pss_only }) => {
            if let Some(PssKey {
                hash: Some(restricted),
            }) = pss_only
                && restricted != h
            {
                return Err(CryptoError::InvalidKey(
                    "RSASSA-PSS key restricted to another hash",
                ));
            }
            verify_rsa_pss(h, &key, message, signature)
        }
        (SignatureAlgorithm::Ecdsa(h), PublicKey::P256(key)) => {
            let sig = p256::ecdsa::DerSignature::from_bytes(signature)
                .map_err(|_| CryptoError::BadSignature)?;
            key.verify_prehash(&hash::digest(h, &[message]), &sig)
                .map_err(|_| CryptoError::BadSignature)
        }
        #[cfg(feature = "p384")]
        (SignatureAlgorithm::Ecdsa(h), PublicKey::P384(key)) => {
            let sig = p384::ecdsa::DerSignature::from_bytes(signature)
                .map_err(|_| CryptoError::BadSignature)?;
            key.verify_prehash(&hash::digest(h, &[message]), &sig)
                .map_err(|_| CryptoError::BadSignature)
        }
        #[cfg(feature = "ed25519")]
        (SignatureAlgorithm::Ed25519, PublicKey::Ed25519(key)) => {
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| CryptoError::BadSignature)?;
            key.verify_strict(message, &sig)
                .map_err(|_| CryptoError::BadSignature)
        }
        #[cfg(feature = "ml-dsa")]
        (SignatureAlgorithm::MlDsa44, PublicKey::MlDsa44(key)) => {
            verify_ml_dsa(&key, message, signature)
        }
        #[cfg(feature = "ml-dsa")]
        (SignatureAlgorithm::MlDsa65, PublicKey::MlDsa65(key)) => {
            verify_ml_dsa(&key, message, signature)
        }
        #[cfg(feature = "ml-dsa")]
        (SignatureAlgorithm::MlDsa87, PublicKey::MlDsa87(key)) => {
            verify_ml_dsa(&key, message, signature)
        }
        _ => Err(WRONG_KEY),
    }
}

/// The hashes RSASSA-PKCS1-v1_5 is offered with.
#[cfg(feature = "rsa")]
pub(crate) fn rsa_pkcs1_hash_supported(hash: DigestAlgorithm) -> bool {
    !matches!(hash, DigestAlgorithm::Sha1)
}

/// The hashes ECDSA is offered with.
pub(crate) fn ecdsa_hash_supported(hash: DigestAlgorithm) -> bool {
    matches!(
        hash,
        DigestAlgorithm::Sha256 | DigestAlgorithm::Sha384 | DigestAlgorithm::Sha512
    )
}

#[cfg(feature = "rsa")]
fn verify_rsa_pkcs1(
    h: DigestAlgorithm,
    key: &RsaPublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let hashed = hash::digest(h, &[message]);
    let scheme = hash::with_digest!(h, D => Pkcs1v15Sign::new::<D>());
    key.verify(scheme, &hashed, signature)
        .map_err(|_| CryptoError::BadSignature)
}

#[cfg(feature = "rsa")]
fn verify_rsa_pss(
    h: DigestAlgorithm,
    key: &RsaPublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let hashed = hash::digest(h, &[message]);
    let salt_len = h.output_len();
    let result = hash::with_digest!(h, D => key.verify(Pss::<D>::new_with_salt(salt_len), &hashed, signature));
    result.map_err(|_| CryptoError::BadSignature)
}

#[cfg(feature = "ml-dsa")]
fn verify_ml_dsa<P: MlDsaParams>(
    key: &ml_dsa::VerifyingKey<P>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let sig = MlDsaSignature::<P>::try_from(signature).map_err(|_| CryptoError::BadSignature)?;
    key.verify(message, &sig)
        .map_err(|_| CryptoError::BadSignature)
}
