//! KEM-based MAC protection (RFC 9810 section 5.1.3.4).
//!
//! One party holds a KEM key pair (ML-KEM); the other encapsulates a shared
//! secret `ss` to its public key and sends the ciphertext (in a genp
//! `id-it-KemCiphertextInfo`, see [`crate::kem`]). Both sides then derive
//!
//! ```text
//! ssk = KDF(ss, len, DER(KemOtherInfo { "CMP-KEM", transactionID, kemContext }))
//! ```
//!
//! and protect every further message of the transaction with
//! `id-KemBasedMac` / `KemBMParameter { kdf, kemContext, len, mac }`: the MAC
//! key is bound to the transactionID of the message. The KDF is HKDF
//! (RFC 5869, empty salt, `info` = the KemOtherInfo) with SHA-256, -384 or
//! -512; the MAC is HMAC.

use alloc::string::String;
use alloc::vec::Vec;

use der::asn1::{Any, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;

use crate::alg;
use crate::asn1::{KemBmParameter, KemOtherInfo, oid};
use crate::crypto::{CryptoProvider, DigestAlgorithm, HmacAlgorithm};
use crate::error::{Error, Result};

/// The fixed `staticString` of [`KemOtherInfo`].
pub const STATIC_STRING: &str = "CMP-KEM";

/// Largest MAC key length accepted in a received KemBMParameter, in bytes.
pub const MAX_KEY_LEN: u64 = 64;

/// The HKDF OID for a digest.
fn hkdf_oid(d: DigestAlgorithm) -> Result<der::asn1::ObjectIdentifier> {
    Ok(match d {
        DigestAlgorithm::Sha256 => oid::HKDF_WITH_SHA256,
        DigestAlgorithm::Sha384 => oid::HKDF_WITH_SHA384,
        DigestAlgorithm::Sha512 => oid::HKDF_WITH_SHA512,
        _ => return Err(Error::UnsupportedAlgorithm("HKDF hash".into())),
    })
}

/// The digest of an HKDF OID.
fn hkdf_from_oid(o: &der::asn1::ObjectIdentifier) -> Result<DigestAlgorithm> {
    Ok(match *o {
        oid::HKDF_WITH_SHA256 => DigestAlgorithm::Sha256,
        oid::HKDF_WITH_SHA384 => DigestAlgorithm::Sha384,
        oid::HKDF_WITH_SHA512 => DigestAlgorithm::Sha512,
        ref other => {
            return Err(Error::UnsupportedAlgorithm(alloc::format!(
                "KemBasedMac key derivation {other}"
            )));
        }
    })
}

/// The protectionAlg `id-KemBasedMac` with its KemBMParameter.
pub fn algorithm_identifier(
    kdf: DigestAlgorithm,
    key_len: usize,
    mac: HmacAlgorithm,
) -> Result<AlgorithmIdentifierOwned> {
    let params = KemBmParameter {
        kdf: AlgorithmIdentifierOwned {
            oid: hkdf_oid(kdf)?,
            parameters: None,
        },
        kem_context: None,
        len: key_len as u64,
        mac: alg::hmac_algorithm_identifier(mac),
    };
    let der = params.to_der().map_err(Error::Encode)?;
    Ok(AlgorithmIdentifierOwned {
        oid: oid::KEM_BASED_MAC,
        parameters: Some(Any::from_der(&der).map_err(Error::Encode)?),
    })
}

/// The KemBMParameter of a protectionAlg.
pub fn parameters(protection_alg: &AlgorithmIdentifierOwned) -> Result<KemBmParameter> {
    if protection_alg.oid != oid::KEM_BASED_MAC {
        return Err(Error::UnsupportedAlgorithm(alloc::format!(
            "{}",
            protection_alg.oid
        )));
    }
    let any = protection_alg
        .parameters
        .as_ref()
        .ok_or_else(|| Error::UnsupportedAlgorithm("KemBasedMac without parameters".into()))?;
    let der = any.to_der().map_err(Error::Decode)?;
    KemBmParameter::from_der(&der).map_err(Error::Decode)
}

/// The DER of the KemOtherInfo for `transaction_id` (the KDF context).
pub fn other_info(transaction_id: &[u8], kem_context: Option<&OctetString>) -> Result<Vec<u8>> {
    KemOtherInfo {
        static_string: alloc::vec![String::from(STATIC_STRING)],
        transaction_id: OctetString::new(transaction_id.to_vec()).map_err(Error::Encode)?,
        kem_context: kem_context.cloned(),
    }
    .to_der()
    .map_err(Error::Encode)
}

/// Derive the MAC key `ssk` from the shared secret as `params` describe.
///
/// Errors: `UnsupportedAlgorithm` for another KDF or MAC, or a key length
/// outside 1..=[`MAX_KEY_LEN`].
pub fn derive_key(
    params: &KemBmParameter,
    shared_secret: &[u8],
    transaction_id: &[u8],
    provider: &dyn CryptoProvider,
) -> Result<Vec<u8>> {
    let kdf = hkdf_from_oid(&params.kdf.oid)?;
    if !(1..=MAX_KEY_LEN).contains(&params.len) {
        return Err(Error::UnsupportedAlgorithm(alloc::format!(
            "KemBasedMac key length {} outside 1..={MAX_KEY_LEN}",
            params.len
        )));
    }
    let info = other_info(transaction_id, params.kem_context.as_ref())?;
    // len is at most MAX_KEY_LEN here
    let mut key = alloc::vec![0u8; params.len as usize];
    provider.hkdf(kdf, shared_secret, &[], &info, &mut key)?;
    Ok(key)
}

/// The KEM-based MAC of `data` (a ProtectedPart) under the shared secret,
/// for a message of `transaction_id`, as `protection_alg` describes.
pub fn compute_mac(
    protection_alg: &AlgorithmIdentifierOwned,
    shared_secret: &[u8],
    transaction_id: &[u8],
    data: &[u8],
    provider: &dyn CryptoProvider,
) -> Result<Vec<u8>> {
    let params = parameters(protection_alg)?;
    let mac = alg::hmac_from_oid(&params.mac.oid)?;
    let key = derive_key(&params, shared_secret, transaction_id, provider)?;
    Ok(provider.hmac(mac, &key, &[data])?)
}
