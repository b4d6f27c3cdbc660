//! MAC-based protection: PasswordBasedMac (RFC 4211 section 4.4, RFC 9481
//! section 6.1.1) and PBMAC1 (RFC 8018, RFC 9481 section 6.1.2).

use alloc::vec::Vec;

use der::asn1::{Any, OctetString};
use spki::AlgorithmIdentifierOwned;

use crate::alg;
use crate::asn1::{Pbkdf2Params, Pbkdf2Salt, PbmParameter, Pbmac1Params, oid};
use crate::crypto::{CryptoProvider, DigestAlgorithm, HmacAlgorithm};
use crate::error::{Error, Result};
use crate::limits::Limits;

/// How a MAC is derived from the shared secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacScheme {
    /// PasswordBasedMac: `owf` iterated over secret || salt, then `mac`.
    Pbm {
        /// One-way function.
        owf: DigestAlgorithm,
        /// MAC algorithm.
        mac: HmacAlgorithm,
        /// Iteration count.
        iterations: u32,
        /// Salt length in bytes.
        salt_len: usize,
    },
    /// PBMAC1: PBKDF2 with `prf`, then `mac`.
    Pbmac1 {
        /// PBKDF2 pseudo-random function.
        prf: HmacAlgorithm,
        /// MAC algorithm.
        mac: HmacAlgorithm,
        /// PBKDF2 iteration count.
        iterations: u32,
        /// Salt length in bytes.
        salt_len: usize,
        /// Derived key length in bytes.
        key_len: usize,
    },
    /// KEM-based MAC (RFC 9810 section 5.1.3.4, [`super::kem`]): the secret
    /// is the KEM shared secret, the MAC key is derived with HKDF over `kdf`
    /// bound to the transactionID.
    KemBased {
        /// The hash of the HKDF key derivation.
        kdf: DigestAlgorithm,
        /// MAC algorithm.
        mac: HmacAlgorithm,
        /// Derived key length in bytes.
        key_len: usize,
    },
}

impl MacScheme {
    /// PasswordBasedMac with SHA-256, HMAC-SHA256, 10,000 iterations, 16-byte salt.
    pub const PBM_SHA256: Self = Self::Pbm {
        owf: DigestAlgorithm::Sha256,
        mac: HmacAlgorithm(DigestAlgorithm::Sha256),
        iterations: 10_000,
        salt_len: 16,
    };

    /// PBMAC1 with PBKDF2-HMAC-SHA256 (10,000 iterations, 32-byte key,
    /// 16-byte salt) and HMAC-SHA256.
    pub const PBMAC1_SHA256: Self = Self::Pbmac1 {
        prf: HmacAlgorithm(DigestAlgorithm::Sha256),
        mac: HmacAlgorithm(DigestAlgorithm::Sha256),
        iterations: 10_000,
        salt_len: 16,
        key_len: 32,
    };

    /// KEM-based MAC with HKDF-SHA256, a 32-byte key and HMAC-SHA256 (the
    /// defaults of RFC 9810 section 5.1.3.4).
    pub const KEM_HKDF_SHA256: Self = Self::KemBased {
        kdf: DigestAlgorithm::Sha256,
        mac: HmacAlgorithm(DigestAlgorithm::Sha256),
        key_len: 32,
    };

    /// The protectionAlg for this scheme with the given salt (none for
    /// [`MacScheme::KemBased`]).
    pub fn algorithm_identifier(&self, salt: &[u8]) -> Result<AlgorithmIdentifierOwned> {
        let salt = OctetString::new(salt.to_vec()).map_err(Error::Encode)?;
        match *self {
            Self::Pbm {
                owf,
                mac,
                iterations,
                ..
            } => {
                let params = PbmParameter {
                    salt,
                    owf: alg::digest_algorithm_identifier(owf),
                    iteration_count: u64::from(iterations),
                    mac: alg::hmac_algorithm_identifier(mac),
                };
                with_params(oid::PASSWORD_BASED_MAC, &params)
            }
            Self::Pbmac1 {
                prf,
                mac,
                iterations,
                key_len,
                ..
            } => {
                let kdf = Pbkdf2Params {
                    salt: Pbkdf2Salt::Specified(salt),
                    iteration_count: u64::from(iterations),
                    key_length: Some(key_len as u64),
                    prf: Some(alg::hmac_algorithm_identifier(prf)),
                };
                let params = Pbmac1Params {
                    key_derivation_func: with_params(oid::PBKDF2, &kdf)?,
                    message_auth_scheme: alg::hmac_algorithm_identifier(mac),
                };
                with_params(oid::PBMAC1, &params)
            }
            Self::KemBased { kdf, mac, key_len } => {
                super::kem::algorithm_identifier(kdf, key_len, mac)
            }
        }
    }

    /// Salt length in bytes.
    pub fn salt_len(&self) -> usize {
        match *self {
            Self::Pbm { salt_len, .. } | Self::Pbmac1 { salt_len, .. } => salt_len,
            Self::KemBased { .. } => 0,
        }
    }
}

fn with_params<T: der::EncodeValue + der::Tagged>(
    oid: der::asn1::ObjectIdentifier,
    params: &T,
) -> Result<AlgorithmIdentifierOwned> {
    let any = Any::encode_from(params).map_err(Error::Encode)?;
    Ok(AlgorithmIdentifierOwned {
        oid,
        parameters: Some(any),
    })
}

/// The parameters of `alg` decoded as `T`, straight from the held value.
fn params_of<T: for<'a> der::Choice<'a> + for<'a> der::DecodeValue<'a, Error = der::Error>>(
    alg: &AlgorithmIdentifierOwned,
) -> Result<T> {
    let any = alg.parameters.as_ref().ok_or_else(|| {
        Error::UnsupportedAlgorithm(alloc::format!("{} without parameters", alg.oid))
    })?;
    any.decode_as::<T>().map_err(Error::Decode)
}

fn check_iterations(count: u64, max: u64, min: u64) -> Result<()> {
    if count > max {
        return Err(Error::IterationCountTooHigh { count, max });
    }
    if count < min {
        return Err(Error::UnsupportedAlgorithm(alloc::format!(
            "iteration count {count} below the minimum of {min}"
        )));
    }
    Ok(())
}

/// Whether `alg` names a MAC protection this module handles.
pub fn is_mac_protection(oid: &der::asn1::ObjectIdentifier) -> bool {
    matches!(
        *oid,
        oid::PASSWORD_BASED_MAC | oid::PBMAC1 | oid::KEM_BASED_MAC
    )
}

/// Compute the MAC of `data` under `secret` as described by the protection
/// algorithm `protection_alg` (PBM or PBMAC1), enforcing `limits`.
///
/// A KEM-based MAC also needs the transactionID: see
/// [`super::kem::compute_mac`]; here it is `UnsupportedAlgorithm`.
pub fn compute_mac(
    protection_alg: &AlgorithmIdentifierOwned,
    secret: &[u8],
    data: &[u8],
    provider: &dyn CryptoProvider,
    limits: &Limits,
) -> Result<Vec<u8>> {
    match protection_alg.oid {
        oid::PASSWORD_BASED_MAC => {
            let p: PbmParameter = params_of(protection_alg)?;
            check_iterations(
                p.iteration_count,
                limits.max_pbm_iterations,
                limits.min_iterations,
            )?;
            let owf = alg::digest_from_oid(&p.owf.oid)?;
            let mac = alg::hmac_from_oid(&p.mac.oid)?;
            let mut input = Vec::with_capacity(secret.len() + p.salt.as_bytes().len());
            input.extend_from_slice(secret);
            input.extend_from_slice(p.salt.as_bytes());
            let key = provider.iterate_digest(owf, &input, p.iteration_count)?;
            Ok(provider.hmac(mac, &key, &[data])?)
        }
        oid::PBMAC1 => {
            let p: Pbmac1Params = params_of(protection_alg)?;
            if p.key_derivation_func.oid != oid::PBKDF2 {
                return Err(Error::UnsupportedAlgorithm(alloc::format!(
                    "PBMAC1 key derivation {}",
                    p.key_derivation_func.oid
                )));
            }
            let kdf: Pbkdf2Params = params_of(&p.key_derivation_func)?;
            check_iterations(
                kdf.iteration_count,
                limits.max_pbkdf2_iterations,
                limits.min_iterations,
            )?;
            let salt = match &kdf.salt {
                Pbkdf2Salt::Specified(s) => s.as_bytes(),
                Pbkdf2Salt::OtherSource(a) => {
                    return Err(Error::UnsupportedAlgorithm(alloc::format!(
                        "PBKDF2 salt source {}",
                        a.oid
                    )));
                }
            };
            let prf = match &kdf.prf {
                Some(a) => alg::hmac_from_oid(&a.oid)?,
                None => HmacAlgorithm(DigestAlgorithm::Sha1),
            };
            let mac = alg::hmac_from_oid(&p.message_auth_scheme.oid)?;
            let key_len = match kdf.key_length {
                Some(len) if (1..=64).contains(&len) => len as usize,
                Some(_) => {
                    return Err(Error::UnsupportedAlgorithm(
                        "PBKDF2 key length outside 1..64".into(),
                    ));
                }
                None => mac.output_len(),
            };
            // iteration_count is at most max_pbkdf2_iterations here; it fits u32 when the limit does
            let iterations =
                u32::try_from(kdf.iteration_count).map_err(|_| Error::IterationCountTooHigh {
                    count: kdf.iteration_count,
                    max: u64::from(u32::MAX),
                })?;
            let mut key = alloc::vec![0u8; key_len];
            provider.pbkdf2(prf, secret, salt, iterations, &mut key)?;
            Ok(provider.hmac(mac, &key, &[data])?)
        }
        ref other => Err(Error::UnsupportedAlgorithm(alloc::format!("{other}"))),
    }
}
