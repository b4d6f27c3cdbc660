//! Sign/verify round trips through the `cmp-core` traits, and the errors for
//! wrong keys, tampered signatures and unsupported parameters.
//!
//! Every key type this build supports (cargo features) takes part; the tests
//! about one algorithm are compiled with its feature only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::OnceLock;

use cmp_core::crypto::{
    CryptoError, CryptoProvider, DigestAlgorithm, SignatureAlgorithm, SigningKey,
};
use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey, provider};
use der::{Any, Encode};
#[cfg(feature = "rsa")]
use {der::Decode, spki::AlgorithmIdentifierOwned};

const MESSAGE: &[u8] = b"CMP message to be protected";

/// The key types this build supports.
fn supported() -> impl Iterator<Item = KeyAlgorithm> {
    KeyAlgorithm::ALL.into_iter().filter(|a| a.is_supported())
}

/// One key of each supported type, generated once for the whole test binary.
fn key(alg: KeyAlgorithm) -> PrivateKey {
    static KEYS: OnceLock<Vec<(KeyAlgorithm, PrivateKey)>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        supported()
            .map(|a| (a, PrivateKey::generate(a).unwrap()))
            .collect()
    });
    keys.iter().find(|(a, _)| *a == alg).unwrap().1.clone()
}

fn verify(key: &dyn SigningKey, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    provider().verify_signature(
        key.algorithm(),
        &key.algorithm_identifier(),
        &key.public_key(),
        message,
        signature,
    )
}

fn round_trip(key: &dyn SigningKey) {
    let signature = key.sign(MESSAGE).unwrap();
    verify(key, MESSAGE, &signature).unwrap_or_else(|e| panic!("{:?}: {e}", key.algorithm()));

    // A different message does not verify.
    assert_eq!(
        verify(key, b"another message", &signature),
        Err(CryptoError::BadSignature)
    );

    // Flipping any of a few bits of the signature breaks it.
    for i in [0, signature.len() / 2, signature.len() - 1] {
        let mut tampered = signature.clone();
        tampered[i] ^= 0x01;
        assert_eq!(
            verify(key, MESSAGE, &tampered),
            Err(CryptoError::BadSignature),
            "{:?}, byte {i}",
            key.algorithm()
        );
    }
    // Truncated, extended and empty signatures are refused, not a panic.
    assert_eq!(
        verify(key, MESSAGE, &signature[..signature.len() - 1]),
        Err(CryptoError::BadSignature)
    );
    let mut longer = signature.clone();
    longer.push(0);
    assert_eq!(
        verify(key, MESSAGE, &longer),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(verify(key, MESSAGE, &[]), Err(CryptoError::BadSignature));
}

#[test]
fn every_key_algorithm_round_trips() {
    for alg in supported() {
        let key = key(alg);
        assert_eq!(key.algorithm(), alg.default_signature_algorithm());
        assert_eq!(key.key_algorithm(), Some(alg));
        round_trip(&key);
    }
}

#[cfg(feature = "rsa")]
#[test]
fn rsa_3072_round_trips() {
    // RSA-3072 generation is the slowest; the other tests use RSA-2048.
    let key = PrivateKey::generate(KeyAlgorithm::Rsa3072).unwrap();
    assert_eq!(key.key_algorithm(), Some(KeyAlgorithm::Rsa3072));
    round_trip(&key);
    round_trip(&key.with_rsa_pss().unwrap());
}

#[test]
fn rsa_and_ecdsa_with_every_supported_hash() {
    use DigestAlgorithm::*;
    #[cfg(feature = "rsa")]
    {
        let rsa = key(KeyAlgorithm::Rsa2048);
        for h in [Sha224, Sha256, Sha384, Sha512] {
            round_trip(
                &rsa.clone()
                    .with_signature_algorithm(SignatureAlgorithm::RsaPkcs1(h))
                    .unwrap(),
            );
        }
        for h in [Sha256, Sha384, Sha512] {
            let pss = rsa
                .clone()
                .with_signature_algorithm(SignatureAlgorithm::RsaPss(h))
                .unwrap();
            assert_eq!(pss.algorithm(), SignatureAlgorithm::RsaPss(h));
            round_trip(&pss);
        }
    }
    for curve in [KeyAlgorithm::EcP256, KeyAlgorithm::EcP384]
        .into_iter()
        .filter(|c| c.is_supported())
    {
        for h in [Sha256, Sha384, Sha512] {
            round_trip(
                &key(curve)
                    .with_signature_algorithm(SignatureAlgorithm::Ecdsa(h))
                    .unwrap(),
            );
        }
    }
}

#[test]
fn signing_algorithm_must_fit_the_key() {
    use DigestAlgorithm::*;
    let ec = key(KeyAlgorithm::EcP256);
    assert!(matches!(
        ec.clone()
            .with_signature_algorithm(SignatureAlgorithm::RsaPkcs1(Sha256)),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        ec.clone().with_rsa_pss(),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        ec.clone()
            .with_signature_algorithm(SignatureAlgorithm::Ed25519),
        Err(CryptoError::InvalidKey(_))
    ));
    #[cfg(feature = "rsa")]
    {
        let rsa = key(KeyAlgorithm::Rsa2048);
        assert!(matches!(
            rsa.clone()
                .with_signature_algorithm(SignatureAlgorithm::Ecdsa(Sha256)),
            Err(CryptoError::InvalidKey(_))
        ));
        assert!(matches!(
            rsa.clone()
                .with_signature_algorithm(SignatureAlgorithm::RsaPkcs1(Sha1)),
            Err(CryptoError::Unsupported(_))
        ));
        assert!(matches!(
            rsa.with_signature_algorithm(SignatureAlgorithm::RsaPss(Sha224)),
            Err(CryptoError::Unsupported(_))
        ));
    }
    #[cfg(feature = "ml-dsa")]
    assert!(matches!(
        key(KeyAlgorithm::MlDsa44).with_signature_algorithm(SignatureAlgorithm::MlDsa65),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        ec.with_signature_algorithm(SignatureAlgorithm::Ecdsa(Sha1)),
        Err(CryptoError::Unsupported(_))
    ));
}

#[test]
fn wrong_key_type_is_invalid_key() {
    let keys: Vec<PrivateKey> = supported().map(key).collect();
    for signer in &keys {
        let signature = signer.sign(MESSAGE).unwrap();
        for other in &keys {
            let same_type = match (signer.key_algorithm(), other.key_algorithm()) {
                (Some(a), Some(b)) => {
                    a == b
                        || matches!(
                            (a, b),
                            (KeyAlgorithm::Rsa2048, KeyAlgorithm::Rsa3072)
                                | (KeyAlgorithm::Rsa3072, KeyAlgorithm::Rsa2048)
                                | (KeyAlgorithm::EcP256, KeyAlgorithm::EcP384)
                                | (KeyAlgorithm::EcP384, KeyAlgorithm::EcP256)
                        )
                }
                _ => false,
            };
            let result = provider().verify_signature(
                signer.algorithm(),
                &signer.algorithm_identifier(),
                &other.public_key(),
                MESSAGE,
                &signature,
            );
            if same_type {
                if signer.public_key() != other.public_key() {
                    assert_eq!(result, Err(CryptoError::BadSignature));
                }
            } else {
                assert!(
                    matches!(result, Err(CryptoError::InvalidKey(_))),
                    "{:?} signature, {:?} key: {result:?}",
                    signer.algorithm(),
                    other.key_algorithm()
                );
            }
        }
    }
}

#[test]
fn another_key_of_the_same_type_is_bad_signature() {
    for alg in [
        KeyAlgorithm::EcP256,
        KeyAlgorithm::Ed25519,
        KeyAlgorithm::MlDsa44,
    ]
    .into_iter()
    .filter(|a| a.is_supported())
    {
        let a = key(alg);
        let b = PrivateKey::generate(alg).unwrap();
        let signature = a.sign(MESSAGE).unwrap();
        assert_eq!(
            verify(&b, MESSAGE, &signature),
            Err(CryptoError::BadSignature)
        );
    }
}

#[test]
fn algorithm_identifiers_are_encoded_as_specified() {
    let der = |key: &PrivateKey| hex::encode(key.algorithm_identifier().to_der().unwrap());
    // ecdsa-with-SHA256 / SHA384, parameters absent (RFC 5758).
    assert_eq!(der(&key(KeyAlgorithm::EcP256)), "300a06082a8648ce3d040302");
    #[cfg(feature = "p384")]
    assert_eq!(der(&key(KeyAlgorithm::EcP384)), "300a06082a8648ce3d040303");
    #[cfg(feature = "rsa")]
    {
        // sha256WithRSAEncryption, NULL parameters (RFC 4055).
        assert_eq!(
            der(&key(KeyAlgorithm::Rsa2048)),
            "300d06092a864886f70d01010b0500"
        );
        // RSASSA-PSS with SHA-256: the same bytes OpenSSL writes (see interop.rs).
        assert_eq!(
            der(&key(KeyAlgorithm::Rsa2048).with_rsa_pss().unwrap()),
            "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f7\
             0d010108300d06096086480165030402010500a203020120"
        );
    }
    // id-Ed25519 and id-ml-dsa-*, parameters absent.
    #[cfg(feature = "ed25519")]
    assert_eq!(der(&key(KeyAlgorithm::Ed25519)), "300506032b6570");
    #[cfg(feature = "ml-dsa")]
    {
        assert_eq!(
            der(&key(KeyAlgorithm::MlDsa44)),
            "300b0609608648016503040311"
        );
        assert_eq!(
            der(&key(KeyAlgorithm::MlDsa65)),
            "300b0609608648016503040312"
        );
        assert_eq!(
            der(&key(KeyAlgorithm::MlDsa87)),
            "300b0609608648016503040313"
        );
    }
}

#[test]
fn public_keys_have_the_expected_form() {
    let ec = key(KeyAlgorithm::EcP256).public_key();
    assert_eq!(ec.algorithm.oid, cmp_core::asn1::oid::EC_PUBLIC_KEY);
    assert_eq!(
        ec.algorithm
            .parameters
            .as_ref()
            .unwrap()
            .decode_as::<der::asn1::ObjectIdentifier>()
            .unwrap(),
        cmp_core::asn1::oid::SECP256R1
    );
    let point = ec.subject_public_key.as_bytes().unwrap();
    assert_eq!((point.len(), point[0]), (65, 0x04), "uncompressed point");
    #[cfg(feature = "p384")]
    {
        let ec384 = key(KeyAlgorithm::EcP384).public_key();
        assert_eq!(ec384.subject_public_key.as_bytes().unwrap().len(), 97);
    }

    #[cfg(feature = "rsa")]
    {
        let rsa = key(KeyAlgorithm::Rsa2048).public_key();
        assert_eq!(rsa.algorithm.oid, cmp_core::asn1::oid::RSA_ENCRYPTION);
        assert_eq!(rsa.algorithm.parameters, Some(Any::from(der::asn1::Null)));
    }

    #[cfg(feature = "ed25519")]
    {
        let ed = key(KeyAlgorithm::Ed25519).public_key();
        assert_eq!(
            (
                ed.algorithm.parameters.is_none(),
                ed.subject_public_key.raw_bytes().len()
            ),
            (true, 32)
        );
    }
    #[cfg(feature = "ml-dsa")]
    for (alg, len) in [
        (KeyAlgorithm::MlDsa44, 1312),
        (KeyAlgorithm::MlDsa65, 1952),
        (KeyAlgorithm::MlDsa87, 2592),
    ] {
        let spki = key(alg).public_key();
        assert_eq!(
            (
                spki.algorithm.parameters.is_none(),
                spki.subject_public_key.raw_bytes().len()
            ),
            (true, len)
        );
    }
}

/// The RSASSA-PSS `AlgorithmIdentifier` of a signature made with `hash` by `key`,
/// with its DER parameters passed through `edit` (as hex).
#[cfg(feature = "rsa")]
fn pss_params_edited(
    key: &PrivateKey,
    edit: impl Fn(String) -> String,
) -> AlgorithmIdentifierOwned {
    let mut id = key.algorithm_identifier();
    let params = hex::encode(id.parameters.as_ref().unwrap().to_der().unwrap());
    id.parameters = Some(Any::from_der(&hex::decode(edit(params)).unwrap()).unwrap());
    id
}

#[cfg(feature = "rsa")]
#[test]
fn rsa_pss_parameters_are_checked() {
    use DigestAlgorithm::*;
    let key = key(KeyAlgorithm::Rsa2048).with_rsa_pss().unwrap();
    let signature = key.sign(MESSAGE).unwrap();
    let check = |alg: SignatureAlgorithm, id: &AlgorithmIdentifierOwned| {
        provider().verify_signature(alg, id, &key.public_key(), MESSAGE, &signature)
    };
    let pss256 = SignatureAlgorithm::RsaPss(Sha256);
    assert_eq!(check(pss256, &key.algorithm_identifier()), Ok(()));

    // Hash and MGF1 parameters may be absent instead of NULL (RFC 4055).
    let without_nulls = pss_params_edited(&key, |p| {
        p.replace("3034a00f300d", "3030a00d300b")
            .replace("a11c301a", "a11a3018")
            .replace("010108300d", "010108300b")
            .replace("06096086480165030402010500", "0609608648016503040201")
    });
    assert_ne!(without_nulls, key.algorithm_identifier());
    assert_eq!(check(pss256, &without_nulls), Ok(()));

    let unsupported = |id: &AlgorithmIdentifierOwned| {
        let r = check(pss256, id);
        assert!(
            matches!(r, Err(CryptoError::Unsupported(_))),
            "{id:?}: {r:?}"
        );
    };
    // Salt length 20 (the DEFAULT, so the field is omitted) instead of 32.
    unsupported(&pss_params_edited(&key, |p| {
        p.replace("3034", "302f").replace("a203020120", "")
    }));
    // Salt length 31.
    unsupported(&pss_params_edited(&key, |p| {
        p.replace("a203020120", "a20302011f")
    }));
    // MGF1 with SHA-384.
    unsupported(&pss_params_edited(&key, |p| {
        p.replace(
            "010108300d06096086480165030402010500",
            "010108300d06096086480165030402020500",
        )
    }));
    // Trailer field 2 is not even decodable.
    unsupported(&pss_params_edited(&key, |p| {
        p.replace("3034", "3039") + "a303020102"
    }));
    // Absent parameters mean SHA-1.
    unsupported(&AlgorithmIdentifierOwned {
        oid: cmp_core::asn1::oid::RSASSA_PSS,
        parameters: None,
    });
    // Parameters that are not a SEQUENCE.
    unsupported(&AlgorithmIdentifierOwned {
        oid: cmp_core::asn1::oid::RSASSA_PSS,
        parameters: Some(Any::from(der::asn1::Null)),
    });
    // Not id-RSASSA-PSS at all.
    unsupported(&AlgorithmIdentifierOwned {
        oid: cmp_core::asn1::oid::SHA256_WITH_RSA,
        parameters: Some(Any::from(der::asn1::Null)),
    });
    // The enum names another hash than the parameters.
    let r = check(
        SignatureAlgorithm::RsaPss(Sha384),
        &key.algorithm_identifier(),
    );
    assert!(matches!(r, Err(CryptoError::Unsupported(_))), "{r:?}");
}

#[test]
fn unsupported_hashes_are_reported() {
    use DigestAlgorithm::*;
    let ec = key(KeyAlgorithm::EcP256);
    // Without RSA, the RSA signatures are unsupported whatever the key.
    #[cfg(feature = "rsa")]
    let rsa = key(KeyAlgorithm::Rsa2048);
    #[cfg(not(feature = "rsa"))]
    let rsa = ec.clone();
    let id = rsa.algorithm_identifier();
    for (alg, spki) in [
        (SignatureAlgorithm::RsaPkcs1(Sha1), rsa.public_key()),
        (SignatureAlgorithm::Ecdsa(Sha1), ec.public_key()),
        (SignatureAlgorithm::Ecdsa(Sha224), ec.public_key()),
        (SignatureAlgorithm::RsaPss(Sha1), rsa.public_key()),
    ] {
        let r = provider().verify_signature(alg, &id, &spki, MESSAGE, &[0; 64]);
        assert!(
            matches!(r, Err(CryptoError::Unsupported(_))),
            "{alg:?}: {r:?}"
        );
    }
}

#[cfg(feature = "ml-dsa")]
#[test]
fn ml_dsa_signing_is_hedged() {
    let key = key(KeyAlgorithm::MlDsa44);
    assert_ne!(key.sign(MESSAGE).unwrap(), key.sign(MESSAGE).unwrap());
}

#[test]
fn debug_does_not_show_the_key() {
    let text = format!("{:?}", key(KeyAlgorithm::EcP256));
    assert_eq!(text, "PrivateKey { algorithm: Ecdsa(Sha256), .. }");
    #[cfg(feature = "ed25519")]
    assert_eq!(
        format!("{:?}", key(KeyAlgorithm::Ed25519)),
        "PrivateKey { algorithm: Ed25519, .. }"
    );
    let boxed = key(KeyAlgorithm::EcP256).into_boxed();
    assert_eq!(
        format!("{boxed:?}"),
        "SigningKey { algorithm: Ecdsa(Sha256), .. }"
    );
}

#[test]
fn key_algorithm_names() {
    let cases = [
        ("ec:P-256", KeyAlgorithm::EcP256),
        ("p256", KeyAlgorithm::EcP256),
        ("EC", KeyAlgorithm::EcP256),
        ("ec:P-384", KeyAlgorithm::EcP384),
        ("p384", KeyAlgorithm::EcP384),
        ("rsa2048", KeyAlgorithm::Rsa2048),
        ("rsa", KeyAlgorithm::Rsa2048),
        ("RSA3072", KeyAlgorithm::Rsa3072),
        ("ed25519", KeyAlgorithm::Ed25519),
        ("Ed25519", KeyAlgorithm::Ed25519),
        ("ml-dsa-44", KeyAlgorithm::MlDsa44),
        ("ML-DSA-65", KeyAlgorithm::MlDsa65),
        ("ml-dsa-87", KeyAlgorithm::MlDsa87),
    ];
    for (name, alg) in cases {
        assert_eq!(KeyAlgorithm::from_name(name), Some(alg), "{name}");
    }
    for alg in KeyAlgorithm::ALL {
        assert_eq!(KeyAlgorithm::from_name(alg.name()), Some(alg));
        assert_eq!(alg.to_string().parse::<KeyAlgorithm>(), Ok(alg));
    }
    for bad in ["", "ec:P-521", "rsa1024", "dsa", "ml-dsa"] {
        assert_eq!(KeyAlgorithm::from_name(bad), None, "{bad}");
        assert!(bad.parse::<KeyAlgorithm>().is_err());
    }
}

#[test]
fn pkcs8_round_trip_for_every_key_type() {
    for alg in supported() {
        let key = key(alg);
        let der = key.to_pkcs8_der().unwrap();
        let again = PrivateKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(again.public_key(), key.public_key(), "{alg}");
        assert_eq!(again.algorithm(), key.algorithm());
        assert_eq!(
            &*again.to_pkcs8_der().unwrap(),
            &*der,
            "{alg}: stable encoding"
        );

        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{alg}");
        let from_pem = PrivateKey::from_pem(&pem).unwrap();
        assert_eq!(from_pem.public_key(), key.public_key(), "{alg}");
        assert_eq!(
            PrivateKey::from_der(&der).unwrap().public_key(),
            key.public_key()
        );

        // A signature by the reloaded key verifies with the original public key.
        let signature = from_pem.sign(MESSAGE).unwrap();
        verify(&key, MESSAGE, &signature).unwrap();
    }
}

#[test]
fn garbage_never_panics() {
    let inputs: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x30],
        vec![0x30, 0x00],
        vec![0x30, 0x80, 0x00, 0x00],
        vec![0xff; 3],
        vec![0x30, 0x82, 0xff, 0xff, 0x02, 0x01, 0x00],
        (0..=255u8).collect(),
        vec![0; 4096],
    ];
    for input in &inputs {
        assert!(PrivateKey::from_pkcs8_der(input).is_err());
        assert!(PrivateKey::from_der(input).is_err());
        assert!(PrivateKey::from_pem(&String::from_utf8_lossy(input)).is_err());
    }
    assert!(
        PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n")
            .is_err()
    );
    assert!(PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----").is_err());
    assert!(matches!(
        PrivateKey::from_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"
        ),
        Err(CryptoError::Unsupported(_))
    ));

    // Every algorithm against every key with garbage signatures, and every
    // algorithm against mangled public keys.
    let algs = [
        SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
        SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256),
        SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
        SignatureAlgorithm::Ed25519,
        SignatureAlgorithm::MlDsa44,
        SignatureAlgorithm::MlDsa65,
        SignatureAlgorithm::MlDsa87,
    ];
    // Without RSA, RSASSA-PSS is refused before the identifier is looked at.
    #[cfg(feature = "rsa")]
    let pss_id = key(KeyAlgorithm::Rsa2048)
        .with_rsa_pss()
        .unwrap()
        .algorithm_identifier();
    #[cfg(not(feature = "rsa"))]
    let pss_id = key(KeyAlgorithm::EcP256).algorithm_identifier();
    for key_alg in supported() {
        let spki = key(key_alg).public_key();
        let key_bytes = spki.subject_public_key.raw_bytes().to_vec();
        let mut mangled = Vec::new();
        for cut in [0, 1, key_bytes.len() / 2, key_bytes.len() - 1] {
            let mut s = spki.clone();
            s.subject_public_key = der::asn1::BitString::from_bytes(&key_bytes[..cut]).unwrap();
            mangled.push(s);
        }
        let mut flipped = key_bytes.clone();
        flipped[key_bytes.len() / 2] ^= 0xff;
        let mut s = spki.clone();
        s.subject_public_key = der::asn1::BitString::from_bytes(&flipped).unwrap();
        mangled.push(s);
        let mut s = spki.clone();
        s.subject_public_key = der::asn1::BitString::new(3, key_bytes.clone()).unwrap();
        mangled.push(s);
        let mut s = spki.clone();
        s.algorithm.parameters = Some(Any::from(cmp_core::asn1::oid::SHA256));
        mangled.push(s);
        mangled.push(spki);
        for spki in &mangled {
            for alg in algs {
                for sig in &inputs {
                    let id = if matches!(alg, SignatureAlgorithm::RsaPss(_)) {
                        pss_id.clone()
                    } else {
                        key(key_alg).algorithm_identifier()
                    };
                    assert!(
                        provider()
                            .verify_signature(alg, &id, spki, MESSAGE, sig)
                            .is_err()
                    );
                }
            }
        }
    }
}
