//! CMS EnvelopedData of delivered private keys: sealing and opening for
//! key transport (RSA-OAEP), key agreement (ECDH P-256/P-384) and passwords
//! (PBKDF2 + AES key wrap), the failure of each with the wrong key, and
//! interop with `openssl cms` in both directions (OpenSSL 3.0 has no
//! central key generation in `openssl cmp`, but its CMS code opens and makes
//! the same envelopes and verifies the SignedData key package).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::process::Command;
use std::str::FromStr;
use std::sync::Arc;

use cmp_core::crypto::{
    CryptoProvider, EnvelopeError, EnvelopeOpener, EnvelopeRecipient, SigningKey,
};
use cmp_core::keygen::{self, ID_SIGNED_DATA, KeyGenAuthority};
use cmp_core::time::Timestamp;
use cmp_crypto_rustcrypto::{
    EnvelopeKey, IssueRequest, KeyAlgorithm, PrivateKey, ReferenceCa, provider,
};
use cms::content_info::ContentInfo;
use cms::enveloped_data::{EnvelopedData, RecipientInfo};
use der::asn1::{Any, ObjectIdentifier};
use der::pem::LineEnding;
use der::{Decode, Encode, EncodePem};
use x509_cert::Certificate;
use x509_cert::name::Name;

const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");

struct Pki {
    ca: ReferenceCa,
    root: Certificate,
}

fn pki() -> Pki {
    let (ca, root) =
        ReferenceCa::generate_hierarchy("Envelope", Timestamp::now(), KeyAlgorithm::EcP256)
            .unwrap();
    Pki { ca, root }
}

/// A recipient key and its certificate from the test CA.
fn recipient(pki: &mut Pki, alg: KeyAlgorithm, cn: &str) -> (PrivateKey, Certificate) {
    let key = PrivateKey::generate(alg).unwrap();
    let req = IssueRequest::new(
        Name::from_str(&format!("CN={cn}")).unwrap(),
        key.public_key(),
    );
    let cert = pki.ca.issue(&req, Timestamp::now()).unwrap();
    (key, cert)
}

fn seal(recipient: EnvelopeRecipient<'_>, content: &[u8]) -> EnvelopedData {
    provider()
        .seal_envelope(recipient, ID_DATA, content)
        .unwrap()
}

#[test]
fn key_agreement_round_trips_on_p256_and_p384() {
    let mut pki = pki();
    for alg in [KeyAlgorithm::EcP256, KeyAlgorithm::EcP384] {
        let (key, cert) = recipient(&mut pki, alg, "EC recipient");
        let env = seal(EnvelopeRecipient::KeyAgreement(&cert), b"the content");
        assert!(matches!(
            env.recip_infos.0.get(0),
            Some(RecipientInfo::Kari(_))
        ));
        let opener = EnvelopeKey::private_key(key, cert.clone());
        assert_eq!(&opener.open(&env).unwrap()[..], b"the content");

        // another key of the same type is not addressed
        let (other, other_cert) = recipient(&mut pki, alg, "someone else");
        assert_eq!(
            EnvelopeKey::private_key(other.clone(), other_cert).open(&env),
            Err(EnvelopeError::NotForUs)
        );
        // the right certificate with the wrong key: the unwrap fails
        assert_eq!(
            EnvelopeKey::private_key(other, cert).open(&env),
            Err(EnvelopeError::DecryptFailed)
        );
    }
}

#[test]
fn key_transport_round_trips_with_rsa_oaep() {
    let mut pki = pki();
    let (key, cert) = recipient(&mut pki, KeyAlgorithm::Rsa2048, "RSA recipient");
    let env = seal(EnvelopeRecipient::KeyTransport(&cert), b"rsa content");
    let Some(RecipientInfo::Ktri(ktri)) = env.recip_infos.0.get(0) else {
        panic!("not KTRI");
    };
    assert_eq!(ktri.key_enc_alg.oid.to_string(), "1.2.840.113549.1.1.7");
    let opener = EnvelopeKey::private_key(key, cert.clone());
    assert_eq!(&opener.open(&env).unwrap()[..], b"rsa content");
    // an EC certificate cannot receive key transport
    let (_, ec_cert) = recipient(&mut pki, KeyAlgorithm::EcP256, "EC");
    assert!(
        provider()
            .seal_envelope(EnvelopeRecipient::KeyTransport(&ec_cert), ID_DATA, b"x")
            .is_err()
    );
    // and an RSA one cannot agree keys
    assert!(
        provider()
            .seal_envelope(EnvelopeRecipient::KeyAgreement(&cert), ID_DATA, b"x")
            .is_err()
    );
}

#[test]
fn password_round_trips_and_a_wrong_password_fails() {
    let env = seal(EnvelopeRecipient::Password(b"1234-5678"), b"pw content");
    assert!(matches!(
        env.recip_infos.0.get(0),
        Some(RecipientInfo::Pwri(_))
    ));
    assert_eq!(
        &EnvelopeKey::password(b"1234-5678").open(&env).unwrap()[..],
        b"pw content"
    );
    assert_eq!(
        EnvelopeKey::password(b"wrong").open(&env),
        Err(EnvelopeError::DecryptFailed)
    );
    // a key holder finds no recipient info for it
    let mut pki = pki();
    let (key, cert) = recipient(&mut pki, KeyAlgorithm::EcP256, "EC");
    assert_eq!(
        EnvelopeKey::private_key(key, cert).open(&env),
        Err(EnvelopeError::NotForUs)
    );
}

#[test]
fn tampered_ciphertext_does_not_decrypt() {
    let mut env = seal(EnvelopeRecipient::Password(b"secret"), b"some content here");
    let ct = env.encrypted_content.encrypted_content.as_mut().unwrap();
    let mut bytes = ct.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    *ct = der::asn1::OctetString::new(bytes).unwrap();
    assert_eq!(
        EnvelopeKey::password(b"secret").open(&env),
        Err(EnvelopeError::DecryptFailed)
    );
}

#[test]
fn generated_keys_have_the_requested_type_and_their_public_key() {
    let p = provider();
    for (alg, name) in [
        (KeyAlgorithm::EcP256, "P-256"),
        (KeyAlgorithm::EcP384, "P-384"),
    ] {
        let template = PrivateKey::generate(alg).unwrap().public_key().algorithm;
        let der = p.generate_key(&template).unwrap();
        let key = PrivateKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(key.key_algorithm(), Some(alg), "{name}");
        assert_eq!(p.public_key_of(&der).unwrap(), key.public_key());
    }
    let unknown = spki::AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap("1.2.3.4"),
        parameters: None,
    };
    assert!(p.generate_key(&unknown).is_err());
}

// ----- OpenSSL interop -----

fn openssl(args: &[&str]) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl tool is required for interop tests");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn write_pem_cert(dir: &Path, name: &str, cert: &Certificate) -> String {
    let path = dir.join(name);
    std::fs::write(&path, cert.to_pem(LineEnding::LF).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn write_key(dir: &Path, name: &str, key: &PrivateKey) -> String {
    let path = dir.join(name);
    std::fs::write(&path, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn content_info(content_type: ObjectIdentifier, value: &impl Encode) -> Vec<u8> {
    ContentInfo {
        content_type,
        content: Any::from_der(&value.to_der().unwrap()).unwrap(),
    }
    .to_der()
    .unwrap()
}

#[test]
fn openssl_opens_our_key_transport_and_key_agreement_envelopes() {
    let dir = tempfile::tempdir().unwrap();
    let mut pki = pki();
    for (alg, recipient_info) in [
        (KeyAlgorithm::Rsa2048, "KTRI"),
        (KeyAlgorithm::EcP256, "KARI P-256"),
        (KeyAlgorithm::EcP384, "KARI P-384"),
    ] {
        let (key, cert) = recipient(&mut pki, alg, recipient_info);
        let env = if alg == KeyAlgorithm::Rsa2048 {
            seal(EnvelopeRecipient::KeyTransport(&cert), b"for openssl")
        } else {
            seal(EnvelopeRecipient::KeyAgreement(&cert), b"for openssl")
        };
        let input = dir.path().join("env.der");
        std::fs::write(&input, content_info(ID_ENVELOPED_DATA, &env)).unwrap();
        let recip = write_pem_cert(dir.path(), "recip.pem", &cert);
        let inkey = write_key(dir.path(), "recip.key", &key);
        let out = openssl(&[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            input.to_str().unwrap(),
            "-recip",
            &recip,
            "-inkey",
            &inkey,
        ]);
        assert_eq!(out.stdout, b"for openssl", "{recipient_info}");
    }
}

#[test]
fn we_open_envelopes_openssl_made_for_keys_and_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.bin");
    std::fs::write(&plain, b"from openssl").unwrap();
    let out = dir.path().join("env.der");
    let mut pki = pki();
    let mut cases: Vec<(Vec<String>, EnvelopeKey, &str)> = Vec::new();
    for (alg, what) in [
        (KeyAlgorithm::Rsa2048, "KTRI rsaEncryption"),
        (KeyAlgorithm::EcP256, "KARI P-256"),
        (KeyAlgorithm::EcP384, "KARI P-384"),
    ] {
        let (key, cert) = recipient(&mut pki, alg, what);
        let pem = write_pem_cert(dir.path(), &format!("{}.pem", cases.len()), &cert);
        cases.push((vec![pem], EnvelopeKey::private_key(key, cert), what));
    }
    let (key, cert) = recipient(&mut pki, KeyAlgorithm::Rsa2048, "OAEP");
    let pem = write_pem_cert(dir.path(), "oaep.pem", &cert);
    cases.push((
        vec![
            "-recip".into(),
            pem,
            "-keyopt".into(),
            "rsa_padding_mode:oaep".into(),
            "-keyopt".into(),
            "rsa_oaep_md:sha256".into(),
        ],
        EnvelopeKey::private_key(key, cert),
        "KTRI RSA-OAEP-SHA256",
    ));
    cases.push((
        vec!["-pwri_password".into(), "1234-5678".into()],
        EnvelopeKey::password(b"1234-5678"),
        "PWRI",
    ));
    for (recipient_args, opener, what) in cases {
        let mut args: Vec<String> = [
            "cms",
            "-encrypt",
            "-aes256",
            "-binary",
            "-outform",
            "DER",
            "-in",
            plain.to_str().unwrap(),
            "-out",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(recipient_args);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        openssl(&refs);
        let ci = ContentInfo::from_der(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(ci.content_type, ID_ENVELOPED_DATA);
        let env: EnvelopedData = ci.content.decode_as().unwrap();
        assert_eq!(&opener.open(&env).unwrap()[..], b"from openssl", "{what}");
    }
}

#[test]
fn openssl_verifies_our_signed_key_package() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let kga = KeyGenAuthority {
        key: Arc::new(pki.ca.signing_key().clone()),
        certs: vec![pki.ca.certificate().clone()],
    };
    let generated = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let der = generated.to_pkcs8_der().unwrap();
    let signed = keygen::sign_key_package(provider(), &kga, &[&der]).unwrap();
    let input = dir.path().join("signed.der");
    std::fs::write(&input, content_info(ID_SIGNED_DATA, &signed)).unwrap();
    let root = write_pem_cert(dir.path(), "root.pem", &pki.root);
    let content = dir.path().join("content.der");
    openssl(&[
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        input.to_str().unwrap(),
        "-CAfile",
        &root,
        "-purpose",
        "any",
        "-binary",
        "-out",
        content.to_str().unwrap(),
    ]);
    // The verified content is the AsymmetricKeyPackage: one OneAsymmetricKey.
    let package = Vec::<Any>::from_der(&std::fs::read(&content).unwrap()).unwrap();
    assert_eq!(package.len(), 1);
    assert_eq!(package[0].to_der().unwrap(), der.to_vec());

    // And we verify what we signed.
    let opened = keygen::verify_key_package(provider(), &signed).unwrap();
    assert_eq!(&opened.signer, pki.ca.certificate());
    assert_eq!(opened.keys[0].as_bytes(), &der[..]);
}
