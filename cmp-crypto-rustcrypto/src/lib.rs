//! The default [`cmp_core`] crypto provider, built on the RustCrypto crates.
//!
//! - [`RustCryptoProvider`] implements [`cmp_core::crypto::CryptoProvider`]
//!   (and [`SecureRandom`](cmp_core::crypto::SecureRandom), on the operating
//!   system's RNG): SHA-1/SHA-2 digests, HMAC, PBKDF2, and verification of
//!   RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA (P-256, P-384), Ed25519 and ML-DSA
//!   signatures (each but P-256 behind a [cargo feature](#cargo-features)). [`DEFAULT_PROVIDER`] and [`provider()`] give a `'static` one.
//! - [`PrivateKey`] implements [`cmp_core::crypto::SigningKey`] for the same
//!   algorithms: load it from PKCS#8, SEC1 or PKCS#1 (DER or PEM), generate
//!   it ([`KeyAlgorithm`]), write it out as PKCS#8.
//! - [`KemPrivateKey`] implements [`cmp_core::crypto::DecapsulationKey`] for
//!   ML-KEM; the provider encapsulates to ML-KEM public keys.
//! - [`ReferenceCa`] (module [`ca`]) is a small certification authority for
//!   tests, demos and the CLI server: it issues certificates with the
//!   `x509-cert` builder, revokes them, signs CRLs and saves its records;
//!   [`KeyArchive`] keeps centrally generated keys for key recovery, and
//!   [`ArchiveSealer`] encrypts them for storage.
//! - [`EnvelopeKey`] (module [`envelope`]) opens the CMS EnvelopedData of
//!   delivered private keys (central key generation, key recovery), and the
//!   provider seals them: RSA-OAEP key transport, ECDH key agreement,
//!   password (PBKDF2 and AES key wrap).
//!
//! ## Cargo features
//!
//! ECDSA on P-256, the SHA-1/SHA-2 digests, HMAC and PBKDF2 (the
//! password-based MAC of CMP) are always built. Each other signature
//! algorithm is a feature, all of them on by default:
//!
//! | feature   | algorithms                                                  |
//! |-----------|-------------------------------------------------------------|
//! | `p384`    | ECDSA on P-384                                              |
//! | `rsa`     | RSA PKCS#1 v1.5 and RSASSA-PSS (rsaEncryption and id-RSASSA-PSS keys) |
//! | `ed25519` | Ed25519                                                     |
//! | `ml-dsa`  | ML-DSA-44, ML-DSA-65, ML-DSA-87                             |
//! | `ml-kem`  | ML-KEM-512/768/1024 ([`KemPrivateKey`], encapsulation), AES key wrap and AES-CBC (for KEMRecipientInfo) |
//!
//! With `default-features = false` only P-256 and PBM remain: the smallest
//! build, for firmware. An algorithm that is compiled out is still named by
//! [`KeyAlgorithm`] and [`SignatureAlgorithm`](cmp_core::crypto::SignatureAlgorithm),
//! but generating or loading such a key, or verifying such a signature, fails
//! with [`CryptoError::Unsupported`](cmp_core::crypto::CryptoError::Unsupported);
//! [`KeyAlgorithm::is_supported`] tells which key types this build has.
//!
//! ```
//! use cmp_core::crypto::{CryptoProvider, SigningKey};
//! use cmp_crypto_rustcrypto::{provider, KeyAlgorithm, PrivateKey};
//!
//! # fn main() -> Result<(), cmp_core::crypto::CryptoError> {
//! let key = PrivateKey::generate(KeyAlgorithm::from_name("ec:P-256").unwrap())?;
//! let signature = key.sign(b"message")?;
//!
//! provider().verify_signature(
//!     key.algorithm(),
//!     &key.algorithm_identifier(),
//!     &key.public_key(),
//!     b"message",
//!     &signature,
//! )?;
//!
//! // Keys round-trip through PKCS#8.
//! let pem = key.to_pkcs8_pem()?;
//! let again = PrivateKey::from_pem(&pem)?;
//! assert_eq!(again.public_key(), key.public_key());
//! # Ok(())
//! # }
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod aes_ops;
pub mod archive;
pub mod ca;
#[cfg(not(all(
    feature = "p384",
    feature = "rsa",
    feature = "ed25519",
    feature = "ml-dsa"
)))]
mod disabled;
pub mod envelope;
mod hash;
mod kem_key;
mod keys;
#[cfg(feature = "ml-dsa")]
mod ml_dsa_key;
mod provider;
mod public_key;
mod rng;
#[cfg(feature = "rsa")]
mod rsa_pss;
mod verify;

pub use archive::{ArchiveSealer, ArchivedKey, KeyArchive};
pub use ca::{CaError, IssueRequest, ReferenceCa, Revocation, RootKeyUpdate};
pub use der::zeroize::Zeroizing;
pub use envelope::EnvelopeKey;
pub use kem_key::KemPrivateKey;
pub use keys::{KeyAlgorithm, PrivateKey};
pub use provider::{DEFAULT_PROVIDER, RustCryptoProvider, provider};
