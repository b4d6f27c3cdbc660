//! Digests, HMAC and PBKDF2 over the `sha1`/`sha2`, `hmac` and `pbkdf2` crates.

use alloc::vec::Vec;

use cmp_core::crypto::{CryptoError, DigestAlgorithm, HmacAlgorithm};
use hmac::{EagerHash, Hmac, KeyInit, Mac};
use sha2::Digest;

/// Dispatch on a [`DigestAlgorithm`] with the matching hash type bound to `$d`.
macro_rules! with_digest {
    ($alg:expr, $d:ident => $body:expr) => {
        match $alg {
            DigestAlgorithm::Sha1 => {
                type $d = sha1::Sha1;
                $body
            }
            DigestAlgorithm::Sha224 => {
                type $d = sha2::Sha224;
                $body
            }
            DigestAlgorithm::Sha256 => {
                type $d = sha2::Sha256;
                $body
            }
            DigestAlgorithm::Sha384 => {
                type $d = sha2::Sha384;
                $body
            }
            DigestAlgorithm::Sha512 => {
                type $d = sha2::Sha512;
                $body
            }
        }
    };
}
#[cfg(feature = "rsa")]
pub(crate) use with_digest;

/// Hash the concatenation of `parts`.
pub(crate) fn digest(alg: DigestAlgorithm, parts: &[&[u8]]) -> Vec<u8> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut d = D::new();
        for part in parts {
            d.update(part);
        }
        d.finalize().to_vec()
    }
    with_digest!(alg, D => run::<D>(parts))
}

/// `H(H(...H(input)))`, `iterations` times (at least once), without allocating
/// in the loop.
pub(crate) fn iterate_digest(alg: DigestAlgorithm, input: &[u8], iterations: u64) -> Vec<u8> {
    fn run<D: Digest>(input: &[u8], iterations: u64) -> Vec<u8> {
        let mut value = D::digest(input);
        for _ in 1..iterations {
            value = D::digest(&value);
        }
        value.to_vec()
    }
    with_digest!(alg, D => run::<D>(input, iterations))
}

/// HMAC of the concatenation of `parts` under `key`.
pub(crate) fn hmac(
    alg: HmacAlgorithm,
    key: &[u8],
    parts: &[&[u8]],
) -> Result<Vec<u8>, CryptoError> {
    fn run<D: EagerHash>(key: &[u8], parts: &[&[u8]]) -> Result<Vec<u8>, CryptoError>
    where
        Hmac<D>: KeyInit + Mac,
    {
        let mut mac = <Hmac<D> as KeyInit>::new_from_slice(key)
            .map_err(|_| CryptoError::InvalidKey("HMAC key length"))?;
        for part in parts {
            mac.update(part);
        }
        Ok(mac.finalize().into_bytes().to_vec())
    }
    with_digest!(alg.0, D => run::<D>(key, parts))
}

/// PBKDF2 (RFC 8018) with HMAC `prf`, filling `out`.
pub(crate) fn pbkdf2(
    prf: HmacAlgorithm,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    out: &mut [u8],
) -> Result<(), CryptoError> {
    if iterations == 0 {
        return Err(CryptoError::Other(
            "PBKDF2 iteration count must be at least 1",
        ));
    }
    // The block counter is 32 bits: at most (2^32 - 1) blocks of output.
    let max_len = u64::from(u32::MAX).saturating_mul(prf.output_len() as u64);
    if out.len() as u64 > max_len {
        return Err(CryptoError::Other("PBKDF2 output too long"));
    }
    fn run<D: EagerHash>(
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        out: &mut [u8],
    ) -> Result<(), CryptoError>
    where
        Hmac<D>: KeyInit + Mac + Clone,
    {
        pbkdf2::pbkdf2::<Hmac<D>>(password, salt, iterations, out)
            .map_err(|_| CryptoError::InvalidKey("PBKDF2 password length"))
    }
    with_digest!(prf.0, D => run::<D>(password, salt, iterations, out))
}
