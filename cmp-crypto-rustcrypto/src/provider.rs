//! [`RustCryptoProvider`]: the [`CryptoProvider`] on the RustCrypto crates.

use alloc::vec::Vec;

use cmp_core::crypto::EnvelopeRecipient;
use cmp_core::crypto::{
    CryptoError, CryptoProvider, DigestAlgorithm, Encapsulated, HmacAlgorithm, KemAlgorithm,
    SecureRandom, SignatureAlgorithm,
};
use der::asn1::ObjectIdentifier;
use der::zeroize::Zeroizing;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::{envelope, hash, rng, verify};

/// The crypto provider built on the RustCrypto crates and the operating
/// system's random number generator.
///
/// It holds no state: every value is the same provider, and
/// [`DEFAULT_PROVIDER`] / [`provider()`] hand out a `'static` one.
///
/// Digests: SHA-1, SHA-224, SHA-256, SHA-384, SHA-512 (and HMAC and PBKDF2
/// over them). Signatures verified: RSASSA-PKCS1-v1_5 with SHA-224/256/384/512,
/// RSASSA-PSS with SHA-256/384/512 (MGF1 with the same hash, salt length =
/// hash length, trailerField 1), ECDSA on P-256 and P-384 with
/// SHA-256/384/512, Ed25519 and ML-DSA-44/65/87 (pure, empty context).
/// All but ECDSA P-256 need their [cargo feature](crate#cargo-features);
/// without it the algorithm (and a key of its type) is
/// [`CryptoError::Unsupported`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RustCryptoProvider;

/// The provider as a `static`, for code that wants a `&'static dyn CryptoProvider`.
pub static DEFAULT_PROVIDER: RustCryptoProvider = RustCryptoProvider;

/// The `'static` provider.
pub fn provider() -> &'static RustCryptoProvider {
    &DEFAULT_PROVIDER
}

impl SecureRandom for RustCryptoProvider {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        rng::fill(dest)
    }
}

impl CryptoProvider for RustCryptoProvider {
    fn digest(&self, alg: DigestAlgorithm, parts: &[&[u8]]) -> Result<Vec<u8>, CryptoError> {
        Ok(hash::digest(alg, parts))
    }

    fn hmac(
        &self,
        alg: HmacAlgorithm,
        key: &[u8],
        parts: &[&[u8]],
    ) -> Result<Vec<u8>, CryptoError> {
        hash::hmac(alg, key, parts)
    }

    fn pbkdf2(
        &self,
        prf: HmacAlgorithm,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        hash::pbkdf2(prf, password, salt, iterations, out)
    }

    fn verify_signature(
        &self,
        alg: SignatureAlgorithm,
        params: &AlgorithmIdentifierOwned,
        spki: &SubjectPublicKeyInfoOwned,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        verify::verify_signature(alg, params, spki, message, signature)
    }

    fn kem_encapsulate(
        &self,
        alg: KemAlgorithm,
        spki: &SubjectPublicKeyInfoOwned,
    ) -> Result<Encapsulated, CryptoError> {
        crate::kem_key::encapsulate(alg, spki)
    }

    fn aes_key_wrap(&self, kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        crate::aes_ops::key_wrap(kek, key)
    }

    fn aes_key_unwrap(&self, kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, CryptoError> {
        crate::aes_ops::key_unwrap(kek, wrapped)
    }

    fn aes_cbc_encrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        crate::aes_ops::cbc_encrypt(key, iv, plaintext)
    }

    fn aes_cbc_decrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        crate::aes_ops::cbc_decrypt(key, iv, ciphertext)
    }

    fn iterate_digest(
        &self,
        alg: DigestAlgorithm,
        input: &[u8],
        iterations: u64,
    ) -> Result<Vec<u8>, CryptoError> {
        Ok(hash::iterate_digest(alg, input, iterations))
    }

    fn generate_key(
        &self,
        algorithm: &AlgorithmIdentifierOwned,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        envelope::generate_key(algorithm)
    }

    fn public_key_of(&self, private_key: &[u8]) -> Result<SubjectPublicKeyInfoOwned, CryptoError> {
        envelope::public_key_of(private_key)
    }

    fn seal_envelope(
        &self,
        recipient: EnvelopeRecipient<'_>,
        content_type: ObjectIdentifier,
        content: &[u8],
    ) -> Result<cms::enveloped_data::EnvelopedData, CryptoError> {
        envelope::seal(recipient, content_type, content)
    }
}
