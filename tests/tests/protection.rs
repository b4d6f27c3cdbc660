//! Protection applied by us and verified by us, for every MAC scheme and
//! every signature algorithm, and rejected when anything changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use cmp_core::asn1::PkiBody;
use cmp_core::crypto::{DigestAlgorithm, HmacAlgorithm, SigningKey};
use cmp_core::message::{HeaderBuilder, ParsedMessage, encode};
use cmp_core::protection::{self, MacScheme, Protector};
use cmp_core::{Error, Limits, Timestamp};
use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey, provider};
use cmp_tests::pki_dir;
use der::DecodePem;
use x509_cert::Certificate;

fn protect(protector: &Protector) -> ParsedMessage {
    let header = HeaderBuilder::new()
        .build(provider(), Timestamp::from_unix_secs(1_800_000_000))
        .unwrap();
    let msg = protector
        .protect(header, PkiBody::Genm(vec![]), vec![], provider())
        .unwrap();
    ParsedMessage::decode(&encode(&msg).unwrap(), &Limits::DEFAULT).unwrap()
}

fn flip_last_body_byte(msg: &ParsedMessage) -> ParsedMessage {
    // re-encode with a different transactionID: a change in the protected header
    let mut m = msg.message().clone();
    m.header.transaction_id = Some(der::asn1::OctetString::new(vec![0u8; 16]).unwrap());
    ParsedMessage::decode(&encode(&m).unwrap(), &Limits::DEFAULT).unwrap()
}

#[test]
fn every_mac_scheme_round_trips() {
    let schemes = [
        MacScheme::PBM_SHA256,
        MacScheme::PBMAC1_SHA256,
        MacScheme::Pbm {
            owf: DigestAlgorithm::Sha512,
            mac: HmacAlgorithm(DigestAlgorithm::Sha512),
            iterations: 1000,
            salt_len: 8,
        },
        MacScheme::Pbmac1 {
            prf: HmacAlgorithm(DigestAlgorithm::Sha384),
            mac: HmacAlgorithm(DigestAlgorithm::Sha384),
            iterations: 2000,
            salt_len: 32,
            key_len: 48,
        },
    ];
    for scheme in schemes {
        let p = Protector::Mac {
            reference: b"ref".to_vec(),
            secret: b"secret".to_vec(),
            scheme,
        };
        let msg = protect(&p);
        assert_eq!(msg.sender_kid(), Some(&b"ref"[..]));
        protection::verify_mac(&msg, b"secret", provider(), &Limits::DEFAULT).unwrap();
        assert_eq!(
            protection::verify_mac(&msg, b"secreT", provider(), &Limits::DEFAULT),
            Err(Error::BadMessageCheck),
            "{scheme:?}"
        );
        assert_eq!(
            protection::verify_mac(
                &flip_last_body_byte(&msg),
                b"secret",
                provider(),
                &Limits::DEFAULT
            ),
            Err(Error::BadMessageCheck)
        );
    }
    // PBKDF2's own cap
    let p = Protector::Mac {
        reference: b"r".to_vec(),
        secret: b"s".to_vec(),
        scheme: MacScheme::PBMAC1_SHA256,
    };
    let limits = Limits {
        max_pbkdf2_iterations: 9_999,
        ..Limits::DEFAULT
    };
    assert_eq!(
        protection::verify_mac(&protect(&p), b"s", provider(), &limits),
        Err(Error::IterationCountTooHigh {
            count: 10_000,
            max: 9_999
        })
    );
}

#[test]
fn every_signature_algorithm_round_trips() {
    let cert = Certificate::from_pem(std::fs::read(pki_dir().join("ee.crt")).unwrap()).unwrap();
    let mut algs: Vec<Arc<dyn SigningKey>> = KeyAlgorithm::ALL
        .iter()
        .filter(|a| !matches!(a, KeyAlgorithm::Rsa3072)) // slow to generate in debug builds
        .map(|a| Arc::new(PrivateKey::generate(*a).unwrap()) as Arc<dyn SigningKey>)
        .collect();
    algs.push(Arc::new(
        PrivateKey::generate(KeyAlgorithm::Rsa2048)
            .unwrap()
            .with_rsa_pss()
            .unwrap(),
    ));
    for key in algs {
        let p = Protector::Signature {
            key: key.clone(),
            cert: cert.clone(),
            chain: vec![],
        };
        let msg = protect(&p);
        assert_eq!(msg.extra_certs(), std::slice::from_ref(&cert));
        let spki = key.public_key();
        protection::verify_signature(&msg, &spki, provider())
            .unwrap_or_else(|e| panic!("{:?}: {e}", key.algorithm()));
        assert_eq!(
            protection::verify_signature(&flip_last_body_byte(&msg), &spki, provider()),
            Err(Error::BadMessageCheck),
            "{:?}",
            key.algorithm()
        );
        let other = PrivateKey::generate(KeyAlgorithm::EcP256)
            .unwrap()
            .public_key();
        assert_eq!(
            protection::verify_signature(&msg, &other, provider()),
            Err(Error::BadMessageCheck)
        );
    }
}

#[test]
fn our_pbm_ir_parses_with_openssl_asn1parse() {
    use std::process::Command;
    let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let req =
        cmp_core::client::EnrollRequest::new(cmp_core::client::EnrollKind::Ir, None, Arc::new(key));
    let header = HeaderBuilder::new()
        .build(provider(), Timestamp::now())
        .unwrap();
    let msg = Protector::mac(b"1234", b"1234-5678")
        .protect(header, req.to_body().unwrap(), vec![], provider())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ir.der");
    std::fs::write(&path, encode(&msg).unwrap()).unwrap();
    let out = Command::new("openssl")
        .args(["asn1parse", "-inform", "DER", "-in"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // PasswordBasedMac OID and the id-ecPublicKey of the template are there
    assert!(text.contains(":password based MAC"), "{text}");
    assert!(text.contains("id-ecPublicKey"), "{text}");
}
