//! The default [`cmp_core`] crypto provider, built on the RustCrypto crates.
//!
//! - [`RustCryptoProvider`] implements [`cmp_core::crypto::CryptoProvider`]
//!   (and [`SecureRandom`](cmp_core::crypto::SecureRandom), on the operating
//!   system's RNG): SHA-1/SHA-2 digests, HMAC, PBKDF2, and verification of
//!   RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA (P-256, P-384), Ed25519 and ML-DSA
//!   signatures. [`DEFAULT_PROVIDER`] and [`provider()`] give a `'static` one.
//! - [`PrivateKey`] implements [`cmp_core::crypto::SigningKey`] for the same
//!   algorithms: load it from PKCS#8, SEC1 or PKCS#1 (DER or PEM), generate
//!   it ([`KeyAlgorithm`]), write it out as PKCS#8.
//! - [`ReferenceCa`] (module [`ca`]) is a small certification authority for
//!   tests, demos and the CLI server: it issues certificates with the
//!   `x509-cert` builder, revokes them, signs CRLs and saves its records.
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

pub mod ca;
mod hash;
mod keys;
mod ml_dsa_key;
mod provider;
mod public_key;
mod rng;
mod rsa_pss;
mod verify;

pub use ca::{CaError, IssueRequest, ReferenceCa, Revocation};
pub use der::zeroize::Zeroizing;
pub use keys::{KeyAlgorithm, PrivateKey};
pub use provider::{DEFAULT_PROVIDER, RustCryptoProvider, provider};
