//! Known-answer tests for the digests, HMAC and PBKDF2.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use cmp_core::crypto::{CryptoError, CryptoProvider, DigestAlgorithm, HmacAlgorithm, SecureRandom};
use cmp_crypto_rustcrypto::{RustCryptoProvider, provider};

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace([' ', '\n'], "")).expect("test vector is hex")
}

#[test]
fn sha_of_abc() {
    let p = provider();
    let cases = [
        (
            DigestAlgorithm::Sha1,
            "a9993e364706816aba3e25717850c26c9cd0d89d",
        ),
        (
            DigestAlgorithm::Sha224,
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
        ),
        (
            DigestAlgorithm::Sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            DigestAlgorithm::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163
             1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            DigestAlgorithm::Sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ];
    for (alg, expected) in cases {
        assert_eq!(p.digest(alg, &[b"abc"]).unwrap(), hex(expected), "{alg:?}");
        // The parts are concatenated.
        assert_eq!(
            p.digest(alg, &[b"a", b"", b"bc"]).unwrap(),
            hex(expected),
            "{alg:?}"
        );
        assert_eq!(p.digest(alg, &[b"abc"]).unwrap().len(), alg.output_len());
    }
}

#[test]
fn iterate_digest_matches_the_loop() {
    let p = provider();
    for alg in [
        DigestAlgorithm::Sha1,
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha512,
    ] {
        let mut expected = p.digest(alg, &[b"seed"]).unwrap();
        for _ in 1..1000 {
            expected = p.digest(alg, &[&expected]).unwrap();
        }
        assert_eq!(p.iterate_digest(alg, b"seed", 1000).unwrap(), expected);
        assert_eq!(
            p.iterate_digest(alg, b"seed", 1).unwrap(),
            p.digest(alg, &[b"seed"]).unwrap()
        );
    }
}

/// RFC 4231 test cases 1 and 2.
#[test]
fn hmac_rfc4231() {
    let p = provider();
    let sha256 = HmacAlgorithm(DigestAlgorithm::Sha256);
    assert_eq!(
        p.hmac(sha256, &[0x0b; 20], &[b"Hi There"]).unwrap(),
        hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    );
    assert_eq!(
        p.hmac(sha256, b"Jefe", &[b"what do ya want ", b"for nothing?"])
            .unwrap(),
        hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
    assert_eq!(
        p.hmac(
            HmacAlgorithm(DigestAlgorithm::Sha512),
            b"Jefe",
            &[b"what do ya want for nothing?"]
        )
        .unwrap(),
        hex(
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554
             9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        )
    );
}

/// PBKDF2-HMAC-SHA256 vectors of RFC 7914 section 11.
#[test]
fn pbkdf2_hmac_sha256_rfc7914() {
    let p = provider();
    let prf = HmacAlgorithm(DigestAlgorithm::Sha256);
    let mut out = [0u8; 64];
    p.pbkdf2(prf, b"passwd", b"salt", 1, &mut out).unwrap();
    assert_eq!(
        out.to_vec(),
        hex(
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        )
    );
    p.pbkdf2(prf, b"Password", b"NaCl", 80000, &mut out)
        .unwrap();
    assert_eq!(
        out.to_vec(),
        hex(
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56
             a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        )
    );
}

/// PBKDF2-HMAC-SHA1 vectors of RFC 6070.
#[test]
fn pbkdf2_hmac_sha1_rfc6070() {
    let p = provider();
    let prf = HmacAlgorithm(DigestAlgorithm::Sha1);
    let mut out = [0u8; 20];
    p.pbkdf2(prf, b"password", b"salt", 4096, &mut out).unwrap();
    assert_eq!(
        out.to_vec(),
        hex("4b007901b765489abead49d926f721d065a429c1")
    );
    let mut out = [0u8; 25];
    p.pbkdf2(
        prf,
        b"passwordPASSWORDpassword",
        b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
        4096,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        out.to_vec(),
        hex("3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038")
    );
}

#[test]
fn pbkdf2_rejects_zero_iterations() {
    let mut out = [0u8; 32];
    let err = provider()
        .pbkdf2(
            HmacAlgorithm(DigestAlgorithm::Sha256),
            b"pw",
            b"salt",
            0,
            &mut out,
        )
        .unwrap_err();
    assert!(matches!(err, CryptoError::Other(_)), "{err:?}");
}

#[test]
fn random_bytes_differ() {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    RustCryptoProvider.fill(&mut a).unwrap();
    RustCryptoProvider.fill(&mut b).unwrap();
    assert_ne!(a, b);
    RustCryptoProvider.fill(&mut []).unwrap();
}

#[test]
fn constant_time_eq() {
    let p = provider();
    assert!(p.constant_time_eq(b"abc", b"abc"));
    assert!(!p.constant_time_eq(b"abc", b"abd"));
    assert!(!p.constant_time_eq(b"abc", b"ab"));
}

#[test]
fn provider_is_usable_as_a_trait_object() {
    let p: &'static dyn CryptoProvider = &cmp_crypto_rustcrypto::DEFAULT_PROVIDER;
    assert_eq!(p.digest(DigestAlgorithm::Sha256, &[]).unwrap().len(), 32);
}
