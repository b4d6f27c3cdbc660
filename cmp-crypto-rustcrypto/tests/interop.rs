//! Interoperability with keys, certificates and signatures made elsewhere:
//! the OpenSSL-made test PKI of the workspace (`tests/vectors/pki`), OpenSSL
//! fixtures in `tests/data` (RSA PKCS#1 v1.5 and PSS, an id-RSASSA-PSS key,
//! Ed25519, SEC1 EC keys), and the ML-DSA examples of the IETF LAMPS working
//! group (`tests/data/ML-DSA-*`, from lamps-wg/dilithium-certificates).
//! The tests of an algorithm other than P-256 need its cargo feature.
//!
//! The fixtures were made with:
//!
//! ```text
//! openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.key
//! openssl rsa -in rsa2048.key -traditional -out rsa2048-pkcs1.key
//! openssl req -x509 -new -key rsa2048.key -subj /CN=rsa-pkcs1 -sha256 -out rsa-pkcs1-sha256.crt
//! openssl req -x509 -new -key rsa2048.key -subj /CN=rsa-pss -sha256 \
//!     -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -out rsa-pss-sha256.crt
//! (likewise -sha512 for rsa-pss-sha512.crt, and rsa_pss_saltlen:max for rsa-pss-sha256-maxsalt.crt)
//! openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out rsapss2048.key
//! openssl req -x509 -new -key rsapss2048.key -subj /CN=rsassa-pss-key -sha256 \
//!     -sigopt rsa_pss_saltlen:digest -out rsapss-key.crt
//! openssl genpkey -algorithm ED25519 -out ed25519.key
//! openssl req -x509 -new -key ed25519.key -subj /CN=ed25519 -out ed25519.crt
//! openssl ecparam -name secp384r1 -genkey -out p384-sec1.key
//! openssl req -x509 -new -key p384-sec1.key -subj /CN=p384 -sha384 -out p384-sha384.crt
//! openssl ecparam -name prime256v1 -genkey -noout -out p256-sec1.key
//! openssl req -x509 -new -key p256-sec1.key -subj /CN=p256 -sha512 -out p256-sha512.crt
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use cmp_core::asn1::oid;
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

fn pki(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors/pki")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cert(pem: &str) -> Certificate {
    Certificate::from_pem(pem).unwrap()
}

fn key(pem: &str) -> PrivateKey {
    PrivateKey::from_pem(pem).unwrap()
}

/// The signature algorithm of a certificate, for the algorithms used here
/// (cmp-core owns the real mapping).
fn signature_algorithm(c: &Certificate) -> SignatureAlgorithm {
    use DigestAlgorithm::*;
    let id = c.signature_algorithm();
    match id.oid {
        oid::ECDSA_WITH_SHA256 => SignatureAlgorithm::Ecdsa(Sha256),
        oid::ECDSA_WITH_SHA384 => SignatureAlgorithm::Ecdsa(Sha384),
        oid::ECDSA_WITH_SHA512 => SignatureAlgorithm::Ecdsa(Sha512),
        oid::SHA256_WITH_RSA => SignatureAlgorithm::RsaPkcs1(Sha256),
        oid::ED25519 => SignatureAlgorithm::Ed25519,
        oid::RSASSA_PSS => {
            let der = hex::encode(id.parameters.as_ref().unwrap().to_der().unwrap());
            if der.contains("0609608648016503040203") {
                SignatureAlgorithm::RsaPss(Sha512)
            } else {
                SignatureAlgorithm::RsaPss(Sha256)
            }
        }
        other => panic!("no mapping for {other}"),
    }
}

/// Verify the signature on `subject` with the public key of `issuer`.
fn verify_cert(
    subject: &Certificate,
    issuer_spki: &SubjectPublicKeyInfoOwned,
) -> Result<(), CryptoError> {
    let tbs = subject.tbs_certificate().to_der().unwrap();
    provider().verify_signature(
        signature_algorithm(subject),
        subject.signature_algorithm(),
        issuer_spki,
        &tbs,
        subject.signature().raw_bytes(),
    )
}

fn spki_of(c: &Certificate) -> &SubjectPublicKeyInfoOwned {
    c.tbs_certificate().subject_public_key_info()
}

#[test]
fn test_pki_keys_match_their_certificates() {
    for name in ["root", "ca", "ee", "issued", "server"] {
        let key = key(&pki(&format!("{name}.key")));
        let cert = cert(&pki(&format!("{name}.crt")));
        assert_eq!(key.key_algorithm(), Some(KeyAlgorithm::EcP256), "{name}");
        assert_eq!(&key.public_key(), spki_of(&cert), "{name}");
        // Same bytes, too.
        assert_eq!(
            key.public_key().to_der().unwrap(),
            spki_of(&cert).to_der().unwrap()
        );
    }
    let new = key(&pki("new.key"));
    assert_eq!(new.key_algorithm(), Some(KeyAlgorithm::EcP256));
}

#[test]
fn test_pki_signatures_verify() {
    let root = cert(&pki("root.crt"));
    let ca = cert(&pki("ca.crt"));
    verify_cert(&root, spki_of(&root)).unwrap();
    verify_cert(&ca, spki_of(&root)).unwrap();
    for name in ["ee", "issued", "server"] {
        verify_cert(&cert(&pki(&format!("{name}.crt"))), spki_of(&ca)).unwrap();
    }
    // Not by the wrong issuer.
    assert_eq!(
        verify_cert(&ca, spki_of(&ca)),
        Err(CryptoError::BadSignature)
    );
}

#[test]
fn our_signature_verifies_with_the_certificate_key() {
    let key = key(&pki("issued.key"));
    let cert = cert(&pki("issued.crt"));
    let signature = key.sign(b"protected part").unwrap();
    provider()
        .verify_signature(
            key.algorithm(),
            &key.algorithm_identifier(),
            spki_of(&cert),
            b"protected part",
            &signature,
        )
        .unwrap();
}

#[cfg(feature = "rsa")]
#[test]
fn openssl_rsa_keys_and_signatures() {
    let pkcs8 = key(&data("rsa2048.key"));
    let pkcs1 = key(&data("rsa2048-pkcs1.key"));
    let pkcs1_cert = cert(&data("rsa-pkcs1-sha256.crt"));
    assert_eq!(pkcs8.public_key(), pkcs1.public_key());
    assert_eq!(&pkcs8.public_key(), spki_of(&pkcs1_cert));
    assert_eq!(pkcs8.key_algorithm(), Some(KeyAlgorithm::Rsa2048));
    // OpenSSL writes the PKCS#8 form we write.
    assert_eq!(pkcs8.to_pkcs8_pem().unwrap().as_str(), data("rsa2048.key"));
    assert_eq!(pkcs1.to_pkcs8_pem().unwrap().as_str(), data("rsa2048.key"));

    verify_cert(&pkcs1_cert, spki_of(&pkcs1_cert)).unwrap();
    assert_eq!(
        pkcs1_cert.signature_algorithm(),
        &pkcs8.algorithm_identifier()
    );

    let pss = cert(&data("rsa-pss-sha256.crt"));
    verify_cert(&pss, spki_of(&pss)).unwrap();
    // Our RSASSA-PSS AlgorithmIdentifier is byte for byte OpenSSL's.
    let ours = pkcs8.clone().with_rsa_pss().unwrap();
    assert_eq!(pss.signature_algorithm(), &ours.algorithm_identifier());

    let pss512 = cert(&data("rsa-pss-sha512.crt"));
    verify_cert(&pss512, spki_of(&pss512)).unwrap();
    let ours512 = pkcs8
        .clone()
        .with_signature_algorithm(SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha512))
        .unwrap();
    assert_eq!(
        pss512.signature_algorithm(),
        &ours512.algorithm_identifier()
    );

    // A maximal salt is not what CMP profiles allow: refused as unsupported.
    let max_salt = cert(&data("rsa-pss-sha256-maxsalt.crt"));
    assert!(matches!(
        verify_cert(&max_salt, spki_of(&max_salt)),
        Err(CryptoError::Unsupported(_))
    ));
}

#[cfg(feature = "rsa")]
#[test]
fn openssl_rsassa_pss_key() {
    let key = key(&data("rsapss2048.key"));
    let cert = cert(&data("rsapss-key.crt"));
    assert_eq!(
        key.algorithm(),
        SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256)
    );
    assert_eq!(spki_of(&cert).algorithm.oid, oid::RSASSA_PSS);
    assert_eq!(&key.public_key(), spki_of(&cert));
    assert_eq!(key.to_pkcs8_pem().unwrap().as_str(), data("rsapss2048.key"));
    verify_cert(&cert, spki_of(&cert)).unwrap();

    let signature = key.sign(b"message").unwrap();
    provider()
        .verify_signature(
            key.algorithm(),
            &key.algorithm_identifier(),
            spki_of(&cert),
            b"message",
            &signature,
        )
        .unwrap();

    // An id-RSASSA-PSS key is for PSS only.
    assert!(matches!(
        key.clone()
            .with_signature_algorithm(SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256)),
        Err(CryptoError::InvalidKey(_))
    ));
    let pkcs1_signer = PrivateKey::from_pem(&data("rsa2048.key")).unwrap();
    let result = provider().verify_signature(
        pkcs1_signer.algorithm(),
        &pkcs1_signer.algorithm_identifier(),
        spki_of(&cert),
        b"message",
        &pkcs1_signer.sign(b"message").unwrap(),
    );
    assert!(
        matches!(result, Err(CryptoError::InvalidKey(_))),
        "{result:?}"
    );
}

#[cfg(feature = "ed25519")]
#[test]
fn openssl_ed25519() {
    let key = key(&data("ed25519.key"));
    let cert = cert(&data("ed25519.crt"));
    assert_eq!(&key.public_key(), spki_of(&cert));
    assert_eq!(cert.signature_algorithm(), &key.algorithm_identifier());
    assert_eq!(key.to_pkcs8_pem().unwrap().as_str(), data("ed25519.key"));
    verify_cert(&cert, spki_of(&cert)).unwrap();
    // Ed25519 is deterministic: our signature over the TBS is OpenSSL's.
    let tbs = cert.tbs_certificate().to_der().unwrap();
    assert_eq!(key.sign(&tbs).unwrap(), cert.signature().raw_bytes());
}

#[test]
fn openssl_sec1_ec_keys() {
    // With OpenSSL's "EC PARAMETERS" block in front.
    #[cfg(feature = "p384")]
    {
        let p384 = key(&data("p384-sec1.key"));
        let p384_cert = cert(&data("p384-sha384.crt"));
        assert_eq!(p384.key_algorithm(), Some(KeyAlgorithm::EcP384));
        assert_eq!(&p384.public_key(), spki_of(&p384_cert));
        assert_eq!(
            p384_cert.signature_algorithm(),
            &p384.algorithm_identifier()
        );
        verify_cert(&p384_cert, spki_of(&p384_cert)).unwrap();
    }

    let p256 = key(&data("p256-sec1.key"));
    let p256_cert = cert(&data("p256-sha512.crt"));
    assert_eq!(&p256.public_key(), spki_of(&p256_cert));
    verify_cert(&p256_cert, spki_of(&p256_cert)).unwrap();
    let p256_sha512 = p256
        .with_signature_algorithm(SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha512))
        .unwrap();
    assert_eq!(
        p256_cert.signature_algorithm(),
        &p256_sha512.algorithm_identifier()
    );

    // The SEC1 key loads as DER too, and comes back out as PKCS#8.
    let (_, der) = der::pem::decode_vec(data("p256-sec1.key").as_bytes()).unwrap();
    let from_der = PrivateKey::from_der(&der).unwrap();
    assert_eq!(from_der.public_key(), p256_sha512.public_key());
    let reloaded = PrivateKey::from_pkcs8_der(&from_der.to_pkcs8_der().unwrap()).unwrap();
    assert_eq!(reloaded.public_key(), from_der.public_key());
}

#[cfg(feature = "ml-dsa")]
const ML_DSA: [(&str, KeyAlgorithm); 3] = [
    ("ML-DSA-44", KeyAlgorithm::MlDsa44),
    ("ML-DSA-65", KeyAlgorithm::MlDsa65),
    ("ML-DSA-87", KeyAlgorithm::MlDsa87),
];

#[cfg(feature = "ml-dsa")]
#[test]
fn lamps_ml_dsa_examples() {
    for (name, alg) in ML_DSA {
        let key = key(&data(&format!("{name}-seed.priv")));
        let spki = SubjectPublicKeyInfoOwned::from_pem(data(&format!("{name}.pub"))).unwrap();
        assert_eq!(key.key_algorithm(), Some(alg));
        assert_eq!(key.public_key(), spki, "{name}");
        // We write the seed form, as the example does.
        assert_eq!(
            key.to_pkcs8_pem().unwrap().as_str(),
            data(&format!("{name}-seed.priv"))
        );
        let signature = key.sign(b"message").unwrap();
        provider()
            .verify_signature(
                key.algorithm(),
                &key.algorithm_identifier(),
                &spki,
                b"message",
                &signature,
            )
            .unwrap();
    }
}

/// DER TLV with a definite length (short or two-byte long form).
#[cfg(feature = "ml-dsa")]
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// A PKCS#8 PrivateKeyInfo for ML-DSA-44 around `private_key`.
#[cfg(feature = "ml-dsa")]
fn ml_dsa_44_pkcs8(private_key: &[u8]) -> Vec<u8> {
    let version = tlv(0x02, &[0]);
    let algorithm = tlv(0x30, &oid::ML_DSA_44.to_der().unwrap());
    tlv(0x30, &[version, algorithm, tlv(0x04, private_key)].concat())
}

#[cfg(feature = "ml-dsa")]
#[test]
fn ml_dsa_private_key_forms() {
    let seed: [u8; 32] = core::array::from_fn(|i| i as u8);
    let reference = ml_dsa::SigningKey::<ml_dsa::MlDsa44>::from_seed(&seed.into());
    #[allow(deprecated)]
    let expanded = reference.expanded_key().to_expanded().to_vec();
    let example = key(&data("ML-DSA-44-seed.priv"));

    // seed [0] IMPLICIT OCTET STRING
    let seed_form = ml_dsa_44_pkcs8(&tlv(0x80, &seed));
    assert_eq!(&*example.to_pkcs8_der().unwrap(), seed_form.as_slice());

    // both SEQUENCE { seed, expandedKey }
    let both = ml_dsa_44_pkcs8(&tlv(
        0x30,
        &[tlv(0x04, &seed), tlv(0x04, &expanded)].concat(),
    ));
    let from_both = PrivateKey::from_pkcs8_der(&both).unwrap();
    assert_eq!(from_both.public_key(), example.public_key());

    // both, with an expanded key of another seed
    let mut other_seed = seed;
    other_seed[0] ^= 1;
    let other = ml_dsa::SigningKey::<ml_dsa::MlDsa44>::from_seed(&other_seed.into());
    #[allow(deprecated)]
    let other_expanded = other.expanded_key().to_expanded().to_vec();
    let mismatched = ml_dsa_44_pkcs8(&tlv(
        0x30,
        &[tlv(0x04, &seed), tlv(0x04, &other_expanded)].concat(),
    ));
    assert!(matches!(
        PrivateKey::from_pkcs8_der(&mismatched),
        Err(CryptoError::InvalidKey(_))
    ));

    // expandedKey alone is refused
    let expanded_only = ml_dsa_44_pkcs8(&tlv(0x04, &expanded));
    assert!(matches!(
        PrivateKey::from_pkcs8_der(&expanded_only),
        Err(CryptoError::Unsupported(_))
    ));

    // a short seed
    let short = ml_dsa_44_pkcs8(&tlv(0x80, &seed[..31]));
    assert!(matches!(
        PrivateKey::from_pkcs8_der(&short),
        Err(CryptoError::InvalidKey(_))
    ));
}
