//! The cryptography boundary.
//!
//! `cmp-core` performs no cryptography itself and depends on no algorithm
//! crate. Everything it needs (randomness, digests, MACs, key derivation,
//! signature verification) comes through a [`CryptoProvider`], and every
//! private key is a [`SigningKey`] trait object so that an HSM, a TPM or a
//! secure element can hold it. The default implementation lives in the
//! `cmp-crypto-rustcrypto` crate.
//!
//! Algorithms are named by the small enums below; mapping them to and from
//! ASN.1 object identifiers is done once, in [`crate::alg`], so a backend
//! never has to parse an `AlgorithmIdentifier` for digests and MACs.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use cms::enveloped_data::EnvelopedData;
use der::asn1::ObjectIdentifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;

/// A failure inside the crypto provider.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The provider does not implement this algorithm or parameter set.
    Unsupported(&'static str),
    /// A public or private key could not be parsed or does not fit the algorithm.
    InvalidKey(&'static str),
    /// The signature is malformed or does not verify.
    BadSignature,
    /// The random number generator failed.
    Rng,
    /// Any other backend failure, with a short static description.
    Other(&'static str),
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported(what) => write!(f, "unsupported algorithm: {what}"),
            Self::InvalidKey(what) => write!(f, "invalid key: {what}"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::Rng => f.write_str("random number generator failed"),
            Self::Other(what) => write!(f, "crypto provider failure: {what}"),
        }
    }
}

impl core::error::Error for CryptoError {}

/// Hash functions used by CMP protection, certificate hashes and KDFs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-1 (accepted only where peers still send it, e.g. OpenSSL 3.0's PBM MAC).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// Output length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// Message authentication codes: HMAC over one of the [`DigestAlgorithm`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HmacAlgorithm(pub DigestAlgorithm);

impl HmacAlgorithm {
    /// Output length in bytes.
    pub const fn output_len(self) -> usize {
        self.0.output_len()
    }
}

/// Signature algorithms, as named by the `AlgorithmIdentifier` of a
/// signature (protection, proof-of-possession, certificate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with the given hash.
    RsaPkcs1(DigestAlgorithm),
    /// RSASSA-PSS with the given hash for message and MGF1, salt length = hash length.
    RsaPss(DigestAlgorithm),
    /// ECDSA with the given hash (the curve comes from the key).
    Ecdsa(DigestAlgorithm),
    /// Ed25519 (pure).
    Ed25519,
    /// ML-DSA-44 (FIPS 204, pure).
    MlDsa44,
    /// ML-DSA-65 (FIPS 204, pure).
    MlDsa65,
    /// ML-DSA-87 (FIPS 204, pure).
    MlDsa87,
}

/// Key encapsulation mechanisms (RFC 9810 section 5.1.3.4, RFC 9629).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KemAlgorithm {
    /// ML-KEM-512 (FIPS 203).
    MlKem512,
    /// ML-KEM-768 (FIPS 203).
    MlKem768,
    /// ML-KEM-1024 (FIPS 203).
    MlKem1024,
}

impl KemAlgorithm {
    /// The FIPS 203 name: "ML-KEM-512", "ML-KEM-768" or "ML-KEM-1024".
    pub const fn name(self) -> &'static str {
        match self {
            Self::MlKem512 => "ML-KEM-512",
            Self::MlKem768 => "ML-KEM-768",
            Self::MlKem1024 => "ML-KEM-1024",
        }
    }

    /// Length of the ciphertext in bytes.
    pub const fn ciphertext_len(self) -> usize {
        match self {
            Self::MlKem512 => 768,
            Self::MlKem768 => 1088,
            Self::MlKem1024 => 1568,
        }
    }

    /// Length of the shared secret in bytes.
    pub const fn shared_secret_len(self) -> usize {
        32
    }
}

/// The result of encapsulating to a public key.
#[derive(Clone, PartialEq, Eq)]
pub struct Encapsulated {
    /// The ciphertext for the holder of the private key.
    pub ciphertext: Vec<u8>,
    /// The shared secret (keep it secret; it never goes on the wire).
    pub shared_secret: Vec<u8>,
}

impl fmt::Debug for Encapsulated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encapsulated")
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// Source of cryptographically secure random bytes.
pub trait SecureRandom: Send + Sync {
    /// Fill `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError>;
}

/// Everything `cmp-core` asks of a cryptography backend, apart from private keys.
///
/// Implementations must be stateless or internally synchronised: one provider
/// is shared by every transaction.
pub trait CryptoProvider: SecureRandom {
    /// Hash the concatenation of `parts`.
    fn digest(&self, alg: DigestAlgorithm, parts: &[&[u8]]) -> Result<Vec<u8>, CryptoError>;

    /// HMAC of the concatenation of `parts` under `key`.
    fn hmac(&self, alg: HmacAlgorithm, key: &[u8], parts: &[&[u8]])
    -> Result<Vec<u8>, CryptoError>;

    /// PBKDF2 with HMAC `prf`, filling `out` with derived key material.
    fn pbkdf2(
        &self,
        prf: HmacAlgorithm,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        out: &mut [u8],
    ) -> Result<(), CryptoError>;

    /// Verify `signature` over `message` with the public key `spki` under `alg`.
    ///
    /// `params` is the full `AlgorithmIdentifier` the signature came with, for
    /// algorithms (RSASSA-PSS) whose parameters the backend must check.
    fn verify_signature(
        &self,
        alg: SignatureAlgorithm,
        params: &AlgorithmIdentifierOwned,
        spki: &SubjectPublicKeyInfoOwned,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;

    /// Apply `alg` `iterations` times: `H(H(...H(input)))` (the PasswordBasedMac
    /// one-way function, RFC 4211 section 4.4). `iterations` is at least 1.
    ///
    /// The default calls [`CryptoProvider::digest`] in a loop; a backend may
    /// override it with a faster form that avoids the allocations.
    fn iterate_digest(
        &self,
        alg: DigestAlgorithm,
        input: &[u8],
        iterations: u64,
    ) -> Result<Vec<u8>, CryptoError> {
        let mut value = self.digest(alg, &[input])?;
        for _ in 1..iterations {
            value = self.digest(alg, &[&value])?;
        }
        Ok(value)
    }

    /// Encapsulate a fresh shared secret to the KEM public key `spki`.
    ///
    /// The default reports `Unsupported`: a backend without KEMs can still
    /// do everything else.
    fn kem_encapsulate(
        &self,
        alg: KemAlgorithm,
        spki: &SubjectPublicKeyInfoOwned,
    ) -> Result<Encapsulated, CryptoError> {
        let _ = (alg, spki);
        Err(CryptoError::Unsupported("key encapsulation"))
    }

    /// HKDF (RFC 5869) with HMAC over `alg`: extract with `salt` (empty:
    /// a string of zeros), expand with `info` into `out` (at most 255 hash
    /// lengths).
    ///
    /// The default is built on [`CryptoProvider::hmac`].
    fn hkdf(
        &self,
        alg: DigestAlgorithm,
        ikm: &[u8],
        salt: &[u8],
        info: &[u8],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let mac = HmacAlgorithm(alg);
        let hash_len = alg.output_len();
        if out.len() > 255 * hash_len {
            return Err(CryptoError::Other("HKDF output too long"));
        }
        let zeros = alloc::vec![0u8; hash_len];
        let salt = if salt.is_empty() { &zeros[..] } else { salt };
        let prk = self.hmac(mac, salt, &[ikm])?;
        let mut previous: Vec<u8> = Vec::new();
        for (i, chunk) in out.chunks_mut(hash_len).enumerate() {
            // at most 255 chunks, checked above
            let counter = [u8::try_from(i + 1).map_err(|_| CryptoError::Other("HKDF counter"))?];
            previous = self.hmac(mac, &prk, &[&previous, info, &counter])?;
            let n = chunk.len();
            chunk.copy_from_slice(previous.get(..n).ok_or(CryptoError::Other("HKDF block"))?);
        }
        Ok(())
    }

    /// AES key wrap (RFC 3394) of `key` under `kek` (16, 24 or 32 bytes).
    ///
    /// The default reports `Unsupported`.
    fn aes_key_wrap(&self, kek: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let _ = (kek, key);
        Err(CryptoError::Unsupported("AES key wrap"))
    }

    /// AES key unwrap (RFC 3394); an integrity check failure is
    /// `CryptoError::Other`.
    ///
    /// The default reports `Unsupported`.
    fn aes_key_unwrap(&self, kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let _ = (kek, wrapped);
        Err(CryptoError::Unsupported("AES key wrap"))
    }

    /// AES-CBC encryption with PKCS#7 padding (CMS content encryption);
    /// the key length (16, 24 or 32 bytes) selects AES-128/192/256, `iv`
    /// has 16 bytes.
    ///
    /// The default reports `Unsupported`.
    fn aes_cbc_encrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let _ = (key, iv, plaintext);
        Err(CryptoError::Unsupported("AES-CBC"))
    }

    /// AES-CBC decryption with PKCS#7 padding; bad padding is
    /// `CryptoError::Other`.
    ///
    /// The default reports `Unsupported`.
    fn aes_cbc_decrypt(
        &self,
        key: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let _ = (key, iv, ciphertext);
        Err(CryptoError::Unsupported("AES-CBC"))
    }

    /// Generate a new key pair of the type `algorithm` names (the algorithm of
    /// a certificate template's public key: `id-ecPublicKey` with a named
    /// curve, `rsaEncryption`, `id-Ed25519`, ...) and return its private key
    /// as PKCS#8 DER (central key generation, RFC 9483 section 4.1.6).
    ///
    /// The default returns [`CryptoError::Unsupported`].
    fn generate_key(
        &self,
        algorithm: &AlgorithmIdentifierOwned,
    ) -> Result<der::zeroize::Zeroizing<Vec<u8>>, CryptoError> {
        let _ = algorithm;
        Err(CryptoError::Unsupported("central key generation"))
    }

    /// The public key belonging to a PKCS#8 DER private key.
    ///
    /// The default returns [`CryptoError::Unsupported`].
    fn public_key_of(&self, private_key: &[u8]) -> Result<SubjectPublicKeyInfoOwned, CryptoError> {
        let _ = private_key;
        Err(CryptoError::Unsupported("public key of a private key"))
    }

    /// Encrypt `content` (of CMS content type `content_type`) for
    /// `recipient` in a CMS EnvelopedData (RFC 5652 section 6) with a fresh
    /// AES content-encryption key.
    ///
    /// The default returns [`CryptoError::Unsupported`].
    fn seal_envelope(
        &self,
        recipient: EnvelopeRecipient<'_>,
        content_type: ObjectIdentifier,
        content: &[u8],
    ) -> Result<EnvelopedData, CryptoError> {
        let _ = (recipient, content_type, content);
        Err(CryptoError::Unsupported("EnvelopedData"))
    }

    /// Compare two byte strings in constant time (for MAC verification).
    ///
    /// The default uses `subtle`; a backend may override it.
    fn constant_time_eq(&self, a: &[u8], b: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }
}

/// A private signing key, held wherever the application keeps it.
///
/// `cmp-core` only ever asks it to sign; it never sees the key material.
pub trait SigningKey: Send + Sync {
    /// The public key, as it goes into a certificate template.
    fn public_key(&self) -> SubjectPublicKeyInfoOwned;

    /// The signature algorithm this key signs with.
    fn algorithm(&self) -> SignatureAlgorithm;

    /// The `AlgorithmIdentifier` to put next to signatures made by this key.
    fn algorithm_identifier(&self) -> AlgorithmIdentifierOwned;

    /// Sign `message`, returning the signature in the encoding CMP carries
    /// (DER `Ecdsa-Sig-Value` for ECDSA, raw bytes for the others).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

impl fmt::Debug for dyn SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

/// A private KEM key (decapsulation key), held wherever the application keeps it.
pub trait DecapsulationKey: Send + Sync {
    /// The public key, as it goes into a certificate template.
    fn public_key(&self) -> SubjectPublicKeyInfoOwned;

    /// The KEM this key belongs to.
    fn algorithm(&self) -> KemAlgorithm;

    /// Recover the shared secret from `ciphertext`. ML-KEM never fails on a
    /// well-sized ciphertext (implicit rejection gives an unrelated secret);
    /// a ciphertext of the wrong length is `InvalidKey`.
    fn decapsulate(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

impl fmt::Debug for dyn DecapsulationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecapsulationKey")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

/// Boxed signing key, the form credentials hold.
pub type BoxedSigningKey = Box<dyn SigningKey>;

/// Whom a CMS EnvelopedData is encrypted for, and so which RecipientInfo it
/// carries (RFC 9483 section 4.1.6, algorithms of RFC 9481 section 4).
///
/// Non-exhaustive: more recipient kinds (KEM) may follow; a backend answers
/// those it does not implement with [`CryptoError::Unsupported`].
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum EnvelopeRecipient<'a> {
    /// KeyTransRecipientInfo: the content-encryption key encrypted with
    /// RSA-OAEP to the public key of this (RSA) certificate.
    KeyTransport(&'a Certificate),
    /// KeyAgreeRecipientInfo: ephemeral-static ECDH with the public key of
    /// this (EC) certificate, X9.63 KDF and AES key wrap.
    KeyAgreement(&'a Certificate),
    /// PasswordRecipientInfo: PBKDF2 from this shared secret and AES key wrap.
    Password(&'a [u8]),
}

/// Why an EnvelopedData could not be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// No RecipientInfo is addressed to this key or password.
    NotForUs,
    /// A RecipientInfo is addressed to us, but the key or the content does
    /// not decrypt (wrong key or password, corrupted data, bad padding).
    DecryptFailed,
    /// The envelope uses an algorithm this backend does not implement.
    Unsupported(&'static str),
    /// The envelope is malformed (the text says how).
    Malformed(&'static str),
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotForUs => f.write_str("no recipient info is addressed to us"),
            Self::DecryptFailed => f.write_str("the envelope does not decrypt"),
            Self::Unsupported(what) => write!(f, "unsupported envelope algorithm: {what}"),
            Self::Malformed(what) => write!(f, "malformed envelope: {what}"),
        }
    }
}

impl core::error::Error for EnvelopeError {}

/// Something that opens CMS EnvelopedData addressed to its holder: a
/// private key (RSA key transport, ECDH key agreement) or a password.
///
/// The client of central key generation and key recovery uses one to
/// decrypt the private keys it receives; the default implementation is
/// `cmp_crypto_rustcrypto::EnvelopeKey`. An HSM can implement it too.
pub trait EnvelopeOpener: Send + Sync {
    /// Decrypt `envelope` and return its content (whose content type is
    /// `envelope.encrypted_content.content_type`).
    fn open(
        &self,
        envelope: &EnvelopedData,
    ) -> Result<der::zeroize::Zeroizing<Vec<u8>>, EnvelopeError>;
}

impl fmt::Debug for dyn EnvelopeOpener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnvelopeOpener")
    }
}
