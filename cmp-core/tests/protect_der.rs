//! `Protector::protect_to_der` builds the message's DER from the
//! ProtectedPart it encoded for the protection; it must give exactly the
//! bytes of encoding `Protector::protect`'s message, for every body of the
//! OpenSSL vectors and every kind of protection, and what it sends must
//! pass the receiver's canonical-DER check and verify.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cmp_core::Limits;
use cmp_core::asn1::PkiMessage;
use cmp_core::crypto::{
    CryptoError, CryptoProvider, DigestAlgorithm, HmacAlgorithm, SecureRandom, SignatureAlgorithm,
};
use cmp_core::message::{ParsedMessage, encode};
use cmp_core::protection::{self, MacScheme, Protector};
use cmp_crypto_rustcrypto::RustCryptoProvider;
use der::Decode;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use common::{REF, SECRET, cert, key};

/// RustCrypto with a constant random source, so that two protections of the
/// same message (same salt) give the same bytes.
struct FixedRandom;

impl SecureRandom for FixedRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        dest.iter_mut().for_each(|b| *b = 0x5a);
        Ok(())
    }
}

impl CryptoProvider for FixedRandom {
    fn digest(&self, alg: DigestAlgorithm, parts: &[&[u8]]) -> Result<Vec<u8>, CryptoError> {
        RustCryptoProvider.digest(alg, parts)
    }
    fn hmac(
        &self,
        alg: HmacAlgorithm,
        key: &[u8],
        parts: &[&[u8]],
    ) -> Result<Vec<u8>, CryptoError> {
        RustCryptoProvider.hmac(alg, key, parts)
    }
    fn pbkdf2(
        &self,
        prf: HmacAlgorithm,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        RustCryptoProvider.pbkdf2(prf, password, salt, iterations, out)
    }
    fn verify_signature(
        &self,
        alg: SignatureAlgorithm,
        params: &AlgorithmIdentifierOwned,
        spki: &SubjectPublicKeyInfoOwned,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        RustCryptoProvider.verify_signature(alg, params, spki, message, signature)
    }
}

fn vectors() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "der"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() > 20, "vectors missing");
    out
}

fn protectors() -> Vec<(&'static str, Protector)> {
    let few = |scheme| Protector::Mac {
        reference: REF.to_vec(),
        secret: SECRET.to_vec(),
        scheme,
    };
    vec![
        ("none", Protector::None),
        (
            "pbm",
            few(MacScheme::Pbm {
                owf: DigestAlgorithm::Sha256,
                mac: HmacAlgorithm(DigestAlgorithm::Sha1),
                iterations: 100,
                salt_len: 16,
            }),
        ),
        (
            "pbmac1",
            few(MacScheme::Pbmac1 {
                prf: HmacAlgorithm(DigestAlgorithm::Sha256),
                mac: HmacAlgorithm(DigestAlgorithm::Sha256),
                iterations: 100,
                salt_len: 16,
                key_len: 32,
            }),
        ),
        (
            "signature",
            Protector::Signature {
                key: key("ee.key"),
                cert: cert("ee.crt"),
                chain: vec![cert("ca.crt")],
            },
        ),
    ]
}

#[test]
fn protect_to_der_is_the_encoding_of_protect() {
    let provider = FixedRandom;
    for (name, bytes) in vectors() {
        let original = PkiMessage::from_der(&bytes).unwrap();
        let mut header = original.header.clone();
        header.protection_alg = None;
        header.sender_kid = None;
        // with and without further extraCerts (the vector's own, or the root)
        let extras = [
            original.extra_certs.clone().unwrap_or_default(),
            vec![cert("root.crt")],
            Vec::new(),
        ];
        for (kind, protector) in protectors() {
            for extra in &extras {
                let expected = encode(
                    &protector
                        .protect(
                            header.clone(),
                            original.body.clone(),
                            extra.clone(),
                            &provider,
                        )
                        .unwrap(),
                )
                .unwrap();
                let der = protector
                    .protect_to_der(
                        header.clone(),
                        original.body.clone(),
                        extra.clone(),
                        &provider,
                    )
                    .unwrap();
                assert_eq!(der, expected, "{name} {kind}");
                let parsed = ParsedMessage::decode(&der, &Limits::DEFAULT)
                    .unwrap_or_else(|e| panic!("{name} {kind}: {e}"));
                match &protector {
                    Protector::Mac { secret, .. } => {
                        protection::verify_mac(&parsed, secret, &provider, &Limits::DEFAULT)
                            .unwrap()
                    }
                    Protector::Signature { cert, .. } => {
                        protection::verify_signature_with_cert(&parsed, cert, &provider).unwrap()
                    }
                    Protector::None => assert!(parsed.protection().is_none()),
                }
            }
        }
    }
}
