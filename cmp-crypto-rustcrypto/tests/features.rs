//! The cargo features: which key types a build supports, and how it treats
//! the algorithms compiled out. Keys, certificates and signatures of those
//! fail with `CryptoError::Unsupported` (never `InvalidKey`, never a panic);
//! the ones built in load and verify. Runs in every feature combination.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use cmp_core::alg::signature_from_identifier;
use cmp_core::crypto::{
    CryptoError, CryptoProvider, DigestAlgorithm, SignatureAlgorithm, SigningKey,
};
use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey, provider};
use der::{DecodePem, Encode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The DER of the last PEM block of `pem` (after OpenSSL's `EC PARAMETERS`).
fn last_block_der(pem: &str) -> Vec<u8> {
    let start = pem.rfind("-----BEGIN ").unwrap();
    der::pem::decode_vec(&pem.as_bytes()[start..]).unwrap().1
}

fn is_unsupported<T>(r: &Result<T, CryptoError>) -> bool {
    matches!(r, Err(CryptoError::Unsupported(_)))
}

/// Test fixtures of one algorithm family (see interop.rs for their origin).
struct Fixture {
    /// Whether this build has the algorithm.
    built_in: bool,
    /// Private keys (PEM).
    keys: &'static [&'static str],
    /// Self-signed certificates.
    certs: &'static [&'static str],
    /// Public keys (PEM SubjectPublicKeyInfo) and the algorithm they verify.
    public_keys: &'static [(&'static str, SignatureAlgorithm)],
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        built_in: true,
        keys: &["p256-sec1.key"],
        certs: &["p256-sha512.crt"],
        public_keys: &[],
    },
    Fixture {
        built_in: cfg!(feature = "p384"),
        keys: &["p384-sec1.key"],
        certs: &["p384-sha384.crt"],
        public_keys: &[],
    },
    Fixture {
        built_in: cfg!(feature = "rsa"),
        keys: &["rsa2048.key", "rsa2048-pkcs1.key", "rsapss2048.key"],
        certs: &[
            "rsa-pkcs1-sha256.crt",
            "rsa-pss-sha256.crt",
            "rsapss-key.crt",
        ],
        public_keys: &[],
    },
    Fixture {
        built_in: cfg!(feature = "ed25519"),
        keys: &["ed25519.key"],
        certs: &["ed25519.crt"],
        public_keys: &[],
    },
    Fixture {
        built_in: cfg!(feature = "ml-dsa"),
        keys: &[
            "ML-DSA-44-seed.priv",
            "ML-DSA-65-seed.priv",
            "ML-DSA-87-seed.priv",
        ],
        certs: &[],
        public_keys: &[
            ("ML-DSA-44.pub", SignatureAlgorithm::MlDsa44),
            ("ML-DSA-65.pub", SignatureAlgorithm::MlDsa65),
            ("ML-DSA-87.pub", SignatureAlgorithm::MlDsa87),
        ],
    },
];

#[test]
fn supported_key_algorithms_follow_the_features() {
    for alg in KeyAlgorithm::ALL {
        let expected = match alg {
            KeyAlgorithm::EcP256 => true,
            KeyAlgorithm::EcP384 => cfg!(feature = "p384"),
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => cfg!(feature = "rsa"),
            KeyAlgorithm::Ed25519 => cfg!(feature = "ed25519"),
            KeyAlgorithm::MlDsa44 | KeyAlgorithm::MlDsa65 | KeyAlgorithm::MlDsa87 => {
                cfg!(feature = "ml-dsa")
            }
        };
        assert_eq!(alg.is_supported(), expected, "{alg}");
        // Names parse whatever the features.
        assert_eq!(KeyAlgorithm::from_name(alg.name()), Some(alg));
        // Generation (of the built-in ones: signatures.rs; RSA is slow).
        if !alg.is_supported() {
            let r = PrivateKey::generate(alg);
            assert!(is_unsupported(&r), "{alg}: {r:?}");
        }
    }
    let p256 = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    assert_eq!(p256.key_algorithm(), Some(KeyAlgorithm::EcP256));
}

#[test]
fn keys_load_or_are_unsupported() {
    for fixture in FIXTURES {
        for name in fixture.keys {
            let pem = data(name);
            let der = last_block_der(&pem);
            for (form, r) in [
                ("PEM", PrivateKey::from_pem(&pem)),
                ("DER", PrivateKey::from_der(&der)),
            ] {
                if fixture.built_in {
                    assert!(r.is_ok(), "{name} ({form}): {r:?}");
                } else {
                    assert!(is_unsupported(&r), "{name} ({form}): {r:?}");
                }
            }
        }
    }
}

#[test]
fn certificates_verify_or_are_unsupported() {
    for fixture in FIXTURES {
        for name in fixture.certs {
            let cert = Certificate::from_pem(data(name)).unwrap();
            let id = cert.signature_algorithm();
            let r = provider().verify_signature(
                signature_from_identifier(id).unwrap(),
                id,
                cert.tbs_certificate().subject_public_key_info(),
                &cert.tbs_certificate().to_der().unwrap(),
                cert.signature().raw_bytes(),
            );
            if fixture.built_in {
                assert_eq!(r, Ok(()), "{name}");
            } else {
                assert!(is_unsupported(&r), "{name}: {r:?}");
            }
        }
        for &(name, alg) in fixture.public_keys {
            let spki = SubjectPublicKeyInfoOwned::from_pem(data(name)).unwrap();
            let id = spki::AlgorithmIdentifierOwned {
                oid: spki.algorithm.oid,
                parameters: None,
            };
            let r = provider().verify_signature(alg, &id, &spki, b"message", &[0; 64]);
            if fixture.built_in {
                assert_eq!(r, Err(CryptoError::BadSignature), "{name}");
            } else {
                assert!(is_unsupported(&r), "{name}: {r:?}");
            }
        }
    }
}

#[test]
fn compiled_out_signature_algorithms_are_unsupported_whatever_the_key() {
    let p256 = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let algs = [
        (
            cfg!(feature = "rsa"),
            SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
        ),
        (
            cfg!(feature = "rsa"),
            SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256),
        ),
        (cfg!(feature = "ed25519"), SignatureAlgorithm::Ed25519),
        (cfg!(feature = "ml-dsa"), SignatureAlgorithm::MlDsa44),
        (cfg!(feature = "ml-dsa"), SignatureAlgorithm::MlDsa65),
        (cfg!(feature = "ml-dsa"), SignatureAlgorithm::MlDsa87),
    ];
    for (built_in, alg) in algs {
        let r = provider().verify_signature(
            alg,
            &p256.algorithm_identifier(),
            &p256.public_key(),
            b"message",
            &[0; 64],
        );
        if built_in {
            // The algorithm is known; the key is the wrong type.
            assert!(
                matches!(
                    r,
                    Err(CryptoError::InvalidKey(_) | CryptoError::Unsupported(_))
                ),
                "{alg:?}: {r:?}"
            );
        } else {
            assert!(is_unsupported(&r), "{alg:?}: {r:?}");
        }
        // A P-256 key never signs with another key type's algorithm.
        assert!(matches!(
            p256.clone().with_signature_algorithm(alg),
            Err(CryptoError::InvalidKey(_))
        ));
    }
}
