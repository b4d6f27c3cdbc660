//! The reference CA: hierarchy generation, issuance, revocation, CRLs and
//! saved state, checked field by field, through the provider's signature
//! verification, and with the OpenSSL command line (`openssl verify`,
//! `openssl crl`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use cmp_core::alg::signature_from_identifier;
use cmp_core::asn1::oid;
use cmp_core::crypto::{
    CryptoError, CryptoProvider, DecapsulationKey, DigestAlgorithm, KemAlgorithm, SigningKey,
};
use cmp_core::time::Timestamp;
use cmp_crypto_rustcrypto::ca::CA_VALIDITY_SECS;
use cmp_crypto_rustcrypto::{
    CaError, IssueRequest, KemPrivateKey, KeyAlgorithm, PrivateKey, ReferenceCa, provider,
};
use der::asn1::{Ia5String, ObjectIdentifier, OctetString};
use der::oid::AssociatedOid;
use der::pem::LineEnding;
use der::{Decode, DecodePem, Encode, EncodePem};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;

/// id-kp-clientAuth.
const KP_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");

fn now() -> Timestamp {
    // openssl verify checks validity against the real clock.
    Timestamp::now()
}

fn hierarchy(alg: KeyAlgorithm) -> (ReferenceCa, Certificate) {
    ReferenceCa::generate_hierarchy("Test", now(), alg).unwrap()
}

/// A key type for certified keys other than the CA's P-256: Ed25519, or
/// P-256 too when the `ed25519` feature is off.
fn other_key_algorithm() -> KeyAlgorithm {
    if KeyAlgorithm::Ed25519.is_supported() {
        KeyAlgorithm::Ed25519
    } else {
        KeyAlgorithm::EcP256
    }
}

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

fn ext<T: Encode + AssociatedOid>(value: &T, critical: bool) -> Extension {
    Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der().unwrap()).unwrap(),
    }
}

fn san_dns(host: &str) -> SubjectAltName {
    SubjectAltName(vec![GeneralName::DnsName(Ia5String::new(host).unwrap())])
}

fn serial(cert: &Certificate) -> Vec<u8> {
    cert.tbs_certificate().serial_number().as_bytes().to_vec()
}

fn find_ext(cert: &Certificate, id: ObjectIdentifier) -> Option<&Extension> {
    cert.tbs_certificate()
        .extensions()
        .and_then(|exts| exts.iter().find(|e| e.extn_id == id))
}

fn ski(cert: &Certificate) -> Vec<u8> {
    let (critical, ski) = cert
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .unwrap()
        .expect("subjectKeyIdentifier");
    assert!(!critical);
    ski.0.as_bytes().to_vec()
}

fn aki(cert: &Certificate) -> Vec<u8> {
    let (critical, aki) = cert
        .tbs_certificate()
        .get_extension::<AuthorityKeyIdentifier>()
        .unwrap()
        .expect("authorityKeyIdentifier");
    assert!(!critical);
    assert!(aki.authority_cert_issuer.is_none());
    assert!(aki.authority_cert_serial_number.is_none());
    aki.key_identifier
        .expect("keyIdentifier")
        .as_bytes()
        .to_vec()
}

fn key_usage(cert: &Certificate) -> KeyUsage {
    let (critical, ku) = cert
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .unwrap()
        .expect("keyUsage");
    assert!(critical, "keyUsage must be critical");
    ku
}

fn basic_constraints(cert: &Certificate) -> BasicConstraints {
    let (critical, bc) = cert
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .unwrap()
        .expect("basicConstraints");
    assert!(critical, "basicConstraints must be critical");
    bc
}

/// SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2 method 1).
fn expected_key_id(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    provider()
        .digest(
            DigestAlgorithm::Sha1,
            &[spki.subject_public_key.raw_bytes()],
        )
        .unwrap()
}

/// Verify `cert`'s signature with `issuer`'s public key through the provider.
fn verify_cert_signature(cert: &Certificate, issuer: &SubjectPublicKeyInfoOwned) {
    let alg = signature_from_identifier(cert.signature_algorithm()).unwrap();
    provider()
        .verify_signature(
            alg,
            cert.signature_algorithm(),
            issuer,
            &cert.tbs_certificate().to_der().unwrap(),
            cert.signature().raw_bytes(),
        )
        .unwrap();
}

fn not_before(cert: &Certificate) -> u64 {
    cert.tbs_certificate()
        .validity()
        .not_before
        .to_unix_duration()
        .as_secs()
}

fn not_after(cert: &Certificate) -> u64 {
    cert.tbs_certificate()
        .validity()
        .not_after
        .to_unix_duration()
        .as_secs()
}

fn write_pem(dir: &Path, file: &str, cert: &Certificate) -> String {
    let path = dir.join(file);
    std::fs::write(&path, cert.to_pem(LineEnding::LF).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Run `openssl` with `args`; (success, stdout + stderr).
fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `openssl verify -CAfile root.pem -untrusted ca.pem leaf.pem` must succeed.
fn openssl_verify(ca: &ReferenceCa, root: &Certificate, leaf: &Certificate) {
    let dir = tempfile::tempdir().unwrap();
    let root_pem = write_pem(dir.path(), "root.pem", root);
    let ca_pem = write_pem(dir.path(), "ca.pem", ca.certificate());
    let leaf_pem = write_pem(dir.path(), "leaf.pem", leaf);
    let (ok, text) = openssl(&[
        "verify",
        "-CAfile",
        &root_pem,
        "-untrusted",
        &ca_pem,
        &leaf_pem,
    ]);
    assert!(ok, "openssl verify failed: {text}");
    assert!(text.contains(": OK"), "{text}");
}

/// Check everything the CA puts into an end-entity certificate.
fn check_end_entity(
    ca: &ReferenceCa,
    cert: &Certificate,
    subject: &Name,
    spki: &SubjectPublicKeyInfoOwned,
) {
    let tbs = cert.tbs_certificate();
    assert_eq!(tbs.version(), x509_cert::certificate::Version::V3);
    assert_eq!(tbs.subject(), subject);
    assert_eq!(tbs.subject_public_key_info(), spki);
    assert_eq!(tbs.issuer(), ca.name());
    assert_eq!(tbs.issuer(), ca.certificate().tbs_certificate().subject());
    assert_eq!(
        cert.signature_algorithm(),
        &ca.signing_key().algorithm_identifier()
    );
    assert_eq!(tbs.signature(), cert.signature_algorithm());

    // Random positive 16-byte serial.
    let serial = serial(cert);
    assert_eq!(serial.len(), 16, "{serial:02x?}");
    assert!(serial[0] & 0x80 == 0 && serial[0] != 0);

    assert!(!basic_constraints(cert).ca);
    assert_eq!(ski(cert), expected_key_id(spki));
    assert_eq!(aki(cert), ski(ca.certificate()));

    verify_cert_signature(cert, &ca.signing_key().public_key());
    verify_cert_signature(
        cert,
        ca.certificate().tbs_certificate().subject_public_key_info(),
    );
}

#[test]
fn hierarchy_shape() {
    let t = now();
    let (ca, root) = ReferenceCa::generate_hierarchy("Acme", t, KeyAlgorithm::EcP256).unwrap();

    assert_eq!(root.tbs_certificate().subject(), &name("CN=Acme Root CA"));
    assert_eq!(root.tbs_certificate().issuer(), &name("CN=Acme Root CA"));
    assert_eq!(ca.name(), &name("CN=Acme Issuing CA"));
    assert_eq!(
        ca.certificate().tbs_certificate().issuer(),
        &name("CN=Acme Root CA")
    );
    assert_eq!(ca.root(), &root);
    assert_eq!(ca.chain(), &[ca.certificate().clone(), root.clone()][..]);
    assert_eq!(
        ca.certificate().tbs_certificate().subject_public_key_info(),
        &ca.signing_key().public_key()
    );

    for cert in [&root, ca.certificate()] {
        let tbs = cert.tbs_certificate();
        assert_eq!(tbs.version(), x509_cert::certificate::Version::V3);
        assert!(basic_constraints(cert).ca);
        let ku = key_usage(cert);
        assert!(ku.key_cert_sign() && ku.crl_sign() && ku.digital_signature());
        assert_eq!(ski(cert), expected_key_id(tbs.subject_public_key_info()));
        assert_eq!(not_before(cert), t.unix_secs() - 60);
        assert_eq!(not_after(cert), t.unix_secs() + CA_VALIDITY_SECS);
        assert_eq!(serial(cert).len(), 16);
    }
    assert_eq!(aki(&root), ski(&root));
    assert_eq!(aki(ca.certificate()), ski(&root));
    assert_eq!(
        basic_constraints(ca.certificate()).path_len_constraint,
        Some(0)
    );

    verify_cert_signature(&root, root.tbs_certificate().subject_public_key_info());
    verify_cert_signature(
        ca.certificate(),
        root.tbs_certificate().subject_public_key_info(),
    );

    // OpenSSL accepts the issuing CA under the root.
    let dir = tempfile::tempdir().unwrap();
    let root_pem = write_pem(dir.path(), "root.pem", &root);
    let ca_pem = write_pem(dir.path(), "ca.pem", ca.certificate());
    let (ok, text) = openssl(&["verify", "-CAfile", &root_pem, &ca_pem]);
    assert!(ok, "{text}");
}

#[test]
fn issue_p256_with_requested_extensions() {
    let (mut ca, root) = hierarchy(KeyAlgorithm::EcP256);
    let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let subject = name("CN=device-1,O=Example");
    let t = now();

    // An extension the CA ignores (certificatePolicies-like private OID).
    let ignored = Extension {
        extn_id: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
        critical: true,
        extn_value: OctetString::new(vec![0x05, 0x00]).unwrap(),
    };
    let req = IssueRequest {
        subject: subject.clone(),
        public_key: key.public_key(),
        extensions: vec![
            ext(&san_dns("device-1.example"), false),
            ext(&ExtendedKeyUsage(vec![KP_CLIENT_AUTH]), false),
            ignored.clone(),
        ],
        validity_secs: Some(3600),
    };
    let cert = ca.issue(&req, t).unwrap();
    check_end_entity(&ca, &cert, &subject, &key.public_key());

    // Default keyUsage: digitalSignature only.
    let ku = key_usage(&cert);
    assert_eq!(ku, KeyUsage(KeyUsages::DigitalSignature.into()));
    let (san_critical, san) = cert
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .unwrap()
        .unwrap();
    assert!(!san_critical);
    assert_eq!(san, san_dns("device-1.example"));
    let (_, eku) = cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .unwrap()
        .unwrap();
    assert_eq!(eku.0, vec![KP_CLIENT_AUTH]);
    assert!(find_ext(&cert, ignored.extn_id).is_none());
    assert_eq!(cert.tbs_certificate().extensions().unwrap().len(), 6);

    assert_eq!(not_before(&cert), t.unix_secs() - 60);
    assert_eq!(not_after(&cert), t.unix_secs() + 3600);

    assert_eq!(ca.issued_count(), 1);
    assert_eq!(ca.find(&serial(&cert)), Some(&cert));
    assert!(ca.is_issued_by_us(&cert));
    assert!(!ca.is_issued_by_us(ca.certificate()));
    assert!(!ca.is_issued_by_us(&root));

    openssl_verify(&ca, &root, &cert);
}

#[cfg(feature = "ed25519")]
#[test]
fn issue_ed25519_key_with_requested_key_usage() {
    let (mut ca, root) = hierarchy(KeyAlgorithm::EcP256);
    let key = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let subject = name("CN=ed25519 device");
    let t = now();
    let usage = KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation);
    let mut req = IssueRequest::new(subject.clone(), key.public_key());
    req.extensions.push(ext(&usage, false));
    let cert = ca.issue(&req, t).unwrap();
    check_end_entity(&ca, &cert, &subject, &key.public_key());
    assert_eq!(key_usage(&cert), usage);
    assert!(find_ext(&cert, SubjectAltName::OID).is_none());
    assert!(find_ext(&cert, ExtendedKeyUsage::OID).is_none());

    // Default validity: one year.
    assert_eq!(
        not_after(&cert),
        t.unix_secs() + cmp_crypto_rustcrypto::ca::DEFAULT_VALIDITY_SECS
    );

    openssl_verify(&ca, &root, &cert);
}

#[test]
fn ed25519_p384_and_rsa_hierarchies() {
    for alg in [
        KeyAlgorithm::Ed25519,
        KeyAlgorithm::EcP384,
        KeyAlgorithm::Rsa2048,
    ] {
        if !alg.is_supported() {
            assert!(matches!(
                ReferenceCa::generate_hierarchy("Test", now(), alg),
                Err(CaError::Crypto(CryptoError::Unsupported(_)))
            ));
            continue;
        }
        let (mut ca, root) = hierarchy(alg);
        let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        let subject = name("CN=leaf");
        let cert = ca
            .issue(&IssueRequest::new(subject.clone(), key.public_key()), now())
            .unwrap();
        check_end_entity(&ca, &cert, &subject, &key.public_key());
        openssl_verify(&ca, &root, &cert);
    }
}

#[cfg(feature = "ml-dsa")]
#[test]
fn ml_dsa_hierarchy_signatures_verify() {
    // OpenSSL 3.0 does not know ML-DSA: check through the provider only.
    let (mut ca, root) = hierarchy(KeyAlgorithm::MlDsa44);
    verify_cert_signature(&root, root.tbs_certificate().subject_public_key_info());
    verify_cert_signature(
        ca.certificate(),
        root.tbs_certificate().subject_public_key_info(),
    );
    let key = PrivateKey::generate(KeyAlgorithm::MlDsa44).unwrap();
    let subject = name("CN=pq leaf");
    let cert = ca
        .issue(&IssueRequest::new(subject.clone(), key.public_key()), now())
        .unwrap();
    check_end_entity(&ca, &cert, &subject, &key.public_key());
}

#[test]
fn ml_kem_key_is_certified_for_key_encipherment_only() {
    let (mut ca, _) = hierarchy(KeyAlgorithm::EcP256);
    let kem = KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap();
    let subject = name("CN=kem leaf");
    // no keyUsage requested: keyEncipherment, not digitalSignature
    let cert = ca
        .issue(&IssueRequest::new(subject.clone(), kem.public_key()), now())
        .unwrap();
    check_end_entity(&ca, &cert, &subject, &kem.public_key());
    assert_eq!(
        key_usage(&cert),
        KeyUsage(KeyUsages::KeyEncipherment.into())
    );
    // requested exactly: granted
    let mut req = IssueRequest::new(subject.clone(), kem.public_key());
    req.extensions
        .push(ext(&KeyUsage(KeyUsages::KeyEncipherment.into()), true));
    let cert = ca.issue(&req, now()).unwrap();
    assert_eq!(
        key_usage(&cert),
        KeyUsage(KeyUsages::KeyEncipherment.into())
    );
    // a KEM key cannot sign or agree: refused, nothing issued
    let issued = ca.issued_count();
    for usage in [
        KeyUsages::DigitalSignature.into(),
        KeyUsages::KeyEncipherment | KeyUsages::DigitalSignature,
        KeyUsages::KeyAgreement.into(),
    ] {
        let mut req = IssueRequest::new(subject.clone(), kem.public_key());
        req.extensions.push(ext(&KeyUsage(usage), true));
        assert!(matches!(
            ca.issue(&req, now()),
            Err(CaError::BadTemplate(
                "a KEM key's keyUsage is keyEncipherment only"
            ))
        ));
    }
    assert_eq!(ca.issued_count(), issued);
    // OpenSSL 3.0 does not know ML-KEM keys, but the signature is the CA's
    verify_cert_signature(
        &cert,
        ca.certificate().tbs_certificate().subject_public_key_info(),
    );
}

#[test]
fn unsupported_key_algorithm_is_certified() {
    let (mut ca, root) = hierarchy(KeyAlgorithm::EcP256);
    // An X25519 public key: the provider cannot use it, the CA certifies it.
    let spki = SubjectPublicKeyInfoOwned::from_der(
        &hex::decode("302a300506032b656e032100")
            .unwrap()
            .into_iter()
            .chain([7u8; 32])
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let subject = name("CN=x25519");
    let mut req = IssueRequest::new(subject.clone(), spki.clone());
    req.extensions
        .push(ext(&KeyUsage(KeyUsages::KeyAgreement.into()), true));
    let cert = ca.issue(&req, now()).unwrap();
    check_end_entity(&ca, &cert, &subject, &spki);
    assert_eq!(key_usage(&cert), KeyUsage(KeyUsages::KeyAgreement.into()));
    openssl_verify(&ca, &root, &cert);
}

#[test]
fn empty_subject_needs_san() {
    let (mut ca, root) = hierarchy(KeyAlgorithm::EcP256);
    let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let req = IssueRequest::new(Name::default(), key.public_key());
    assert!(matches!(
        ca.issue(&req, now()),
        Err(CaError::BadTemplate(_))
    ));
    assert_eq!(ca.issued_count(), 0);

    let mut req = req;
    req.extensions
        .push(ext(&san_dns("only-san.example"), false));
    let cert = ca.issue(&req, now()).unwrap();
    assert!(cert.tbs_certificate().subject().is_empty());
    let (critical, _) = cert
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .unwrap()
        .unwrap();
    assert!(critical, "SAN must be critical with an empty subject");
    openssl_verify(&ca, &root, &cert);
}

#[test]
fn bad_requested_extensions_are_rejected() {
    let (mut ca, _) = hierarchy(KeyAlgorithm::EcP256);
    let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let base = IssueRequest::new(name("CN=x"), key.public_key());
    let cases: Vec<Vec<Extension>> = vec![
        // keyCertSign for a CA:FALSE certificate.
        vec![ext(&KeyUsage(KeyUsages::KeyCertSign.into()), true)],
        // keyUsage with no bits.
        vec![ext(&KeyUsage(Default::default()), true)],
        // Empty SAN and EKU.
        vec![ext(&SubjectAltName(vec![]), false)],
        vec![ext(&ExtendedKeyUsage(vec![]), false)],
        // Twice.
        vec![
            ext(&san_dns("a.example"), false),
            ext(&san_dns("b.example"), false),
        ],
        // Garbage value.
        vec![Extension {
            extn_id: KeyUsage::OID,
            critical: true,
            extn_value: OctetString::new(vec![0x30, 0x03, 0x01]).unwrap(),
        }],
    ];
    for extensions in cases {
        let mut req = base.clone();
        req.extensions = extensions.clone();
        assert!(
            matches!(ca.issue(&req, now()), Err(CaError::BadTemplate(_))),
            "{extensions:?}"
        );
    }
    assert_eq!(ca.issued_count(), 0);
}

#[test]
fn validity_is_capped_at_the_ca() {
    let (mut ca, _) = hierarchy(KeyAlgorithm::EcP256);
    let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let mut req = IssueRequest::new(name("CN=long"), key.public_key());
    req.validity_secs = Some(100 * 365 * 86_400);
    let cert = ca.issue(&req, now()).unwrap();
    assert_eq!(not_after(&cert), not_after(ca.certificate()));
}

#[test]
fn serials_are_unique() {
    let (mut ca, _) = hierarchy(other_key_algorithm());
    let key = PrivateKey::generate(other_key_algorithm()).unwrap();
    let req = IssueRequest::new(name("CN=same"), key.public_key());
    let mut serials = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let cert = ca.issue(&req, now()).unwrap();
        assert!(serials.insert(serial(&cert)));
    }
    assert_eq!(ca.issued_count(), 50);
    assert_eq!(ca.issued().count(), 50);
}

#[test]
fn cmp_signer_certificate() {
    let (ca, root) = hierarchy(KeyAlgorithm::EcP256);
    let subject = name("CN=CMP server");
    let (key, cert) = ca.generate_cmp_signer(subject.clone(), now()).unwrap();
    check_end_entity(&ca, &cert, &subject, &key.public_key());
    assert_eq!(
        key_usage(&cert),
        KeyUsage(KeyUsages::DigitalSignature.into())
    );
    let (critical, eku) = cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .unwrap()
        .unwrap();
    assert!(!critical);
    assert_eq!(eku.0, vec![oid::KP_CMC_RA]);
    assert_eq!(key.key_algorithm(), Some(KeyAlgorithm::EcP256));
    // The key signs, the certificate's key verifies.
    let sig = key.sign(b"protected part").unwrap();
    provider()
        .verify_signature(
            key.algorithm(),
            &key.algorithm_identifier(),
            cert.tbs_certificate().subject_public_key_info(),
            b"protected part",
            &sig,
        )
        .unwrap();
    openssl_verify(&ca, &root, &cert);
}

#[test]
fn revoke_double_revoke_unknown() {
    let (mut ca, _) = hierarchy(KeyAlgorithm::EcP256);
    let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let cert = ca
        .issue(&IssueRequest::new(name("CN=r"), key.public_key()), now())
        .unwrap();
    let other = ca
        .issue(
            &IssueRequest::new(name("CN=other"), key.public_key()),
            now(),
        )
        .unwrap();
    let s = serial(&cert);
    let t = now();

    assert!(!ca.is_revoked(&s));
    assert_eq!(ca.revoke(&s, Some(7), t), Err(CaError::InvalidReason(7)));
    assert_eq!(ca.revoke(&s, Some(8), t), Err(CaError::InvalidReason(8)));
    assert_eq!(ca.revoke(&s, Some(11), t), Err(CaError::InvalidReason(11)));
    assert!(!ca.is_revoked(&s));

    ca.revoke(&s, Some(1), t).unwrap();
    assert!(ca.is_revoked(&s));
    // A leading zero byte names the same serial.
    let mut padded = vec![0u8];
    padded.extend_from_slice(&s);
    assert!(ca.is_revoked(&padded));
    assert_eq!(ca.find(&padded), Some(&cert));
    assert!(!ca.is_revoked(&serial(&other)));

    assert_eq!(ca.revoke(&s, None, t), Err(CaError::AlreadyRevoked));
    assert_eq!(ca.revoke(&padded, Some(4), t), Err(CaError::AlreadyRevoked));
    assert_eq!(
        ca.revoke(&[0x01, 0x02, 0x03], None, t),
        Err(CaError::UnknownCertificate)
    );
    assert_eq!(ca.revoke(&[], None, t), Err(CaError::UnknownCertificate));
    assert!(ca.find(&[0x01, 0x02, 0x03]).is_none());
    assert!(!ca.is_revoked(&[0x01, 0x02, 0x03]));
    // The CA's own certificate was not issued by it.
    assert_eq!(
        ca.revoke(&serial(ca.certificate()), None, t),
        Err(CaError::UnknownCertificate)
    );

    let revoked: Vec<_> = ca.revoked().collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].serial, s);
    assert_eq!(revoked[0].reason, Some(1));
    assert_eq!(
        revoked[0].revoked_at,
        Timestamp::from_unix_secs(t.unix_secs())
    );
    // Revoked certificates stay issued.
    assert_eq!(ca.issued_count(), 2);
    assert!(ca.is_issued_by_us(&cert));

    // Errors display.
    assert_eq!(
        CaError::AlreadyRevoked.to_string(),
        "certificate already revoked"
    );
    assert!(CaError::InvalidReason(7).to_string().contains('7'));
}

#[test]
fn crl_lists_revoked_serials() {
    let (mut ca, root) = hierarchy(KeyAlgorithm::EcP256);
    let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let a = ca
        .issue(&IssueRequest::new(name("CN=a"), key.public_key()), now())
        .unwrap();
    let b = ca
        .issue(&IssueRequest::new(name("CN=b"), key.public_key()), now())
        .unwrap();
    let c = ca
        .issue(&IssueRequest::new(name("CN=c"), key.public_key()), now())
        .unwrap();
    let t = now();

    // An empty CRL first.
    let empty = ca.crl(t).unwrap();
    assert!(empty.tbs_cert_list.revoked_certificates.is_none());

    ca.revoke(&serial(&a), Some(1), t).unwrap();
    ca.revoke(&serial(&b), None, t).unwrap();
    let crl = ca.crl(t).unwrap();

    let tbs = &crl.tbs_cert_list;
    assert_eq!(tbs.version, x509_cert::certificate::Version::V2);
    assert_eq!(&tbs.issuer, ca.name());
    assert_eq!(tbs.this_update.to_unix_duration().as_secs(), t.unix_secs());
    assert_eq!(
        tbs.next_update.unwrap().to_unix_duration().as_secs(),
        t.unix_secs() + 86_400
    );
    let entries = tbs.revoked_certificates.as_ref().unwrap();
    assert_eq!(entries.len(), 2);
    let crl_serials: Vec<_> = entries
        .iter()
        .map(|e| e.serial_number.as_bytes().to_vec())
        .collect();
    assert!(crl_serials.contains(&serial(&a)));
    assert!(crl_serials.contains(&serial(&b)));
    assert!(!crl_serials.contains(&serial(&c)));
    let crl_exts = tbs.crl_extensions.as_ref().unwrap();
    let aki = crl_exts
        .iter()
        .find(|e| e.extn_id == AuthorityKeyIdentifier::OID)
        .unwrap();
    let aki = AuthorityKeyIdentifier::from_der(aki.extn_value.as_bytes()).unwrap();
    assert_eq!(
        aki.key_identifier.unwrap().as_bytes(),
        &ski(ca.certificate())[..]
    );

    // The CA key verifies the CRL signature.
    let der = crl.to_der().unwrap();
    let parsed = CertificateList::from_der(&der).unwrap();
    assert_eq!(parsed, crl);
    let alg = signature_from_identifier(&crl.signature_algorithm).unwrap();
    provider()
        .verify_signature(
            alg,
            &crl.signature_algorithm,
            &ca.signing_key().public_key(),
            &tbs.to_der().unwrap(),
            crl.signature.raw_bytes(),
        )
        .unwrap();

    // OpenSSL parses it and lists the serials and the reason.
    let dir = tempfile::tempdir().unwrap();
    let crl_der = dir.path().join("crl.der");
    std::fs::write(&crl_der, &der).unwrap();
    let crl_der = crl_der.to_str().unwrap();
    let (ok, text) = openssl(&["crl", "-inform", "DER", "-in", crl_der, "-noout", "-text"]);
    assert!(ok, "{text}");
    let upper = text.to_uppercase();
    for cert in [&a, &b] {
        assert!(
            upper.contains(&hex::encode_upper(serial(cert))),
            "serial missing: {text}"
        );
    }
    assert!(!upper.contains(&hex::encode_upper(serial(&c))));
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(text.contains("CRL Number"), "{text}");

    // OpenSSL verifies its signature with the CA certificate.
    let ca_pem = write_pem(dir.path(), "ca.pem", ca.certificate());
    let (ok, text) = openssl(&[
        "crl", "-inform", "DER", "-in", crl_der, "-CAfile", &ca_pem, "-noout",
    ]);
    assert!(ok && text.contains("verify OK"), "{text}");

    // And uses it: the revoked leaf fails verification with CRL checking,
    // the other one passes.
    let crl_pem = dir.path().join("crl.pem");
    std::fs::write(&crl_pem, crl.to_pem(LineEnding::LF).unwrap()).unwrap();
    let crl_pem = crl_pem.to_str().unwrap();
    let root_pem = write_pem(dir.path(), "root.pem", &root);
    let a_pem = write_pem(dir.path(), "a.pem", &a);
    let c_pem = write_pem(dir.path(), "c.pem", &c);
    let (ok, text) = openssl(&[
        "verify",
        "-crl_check",
        "-CRLfile",
        crl_pem,
        "-CAfile",
        &root_pem,
        "-untrusted",
        &ca_pem,
        &a_pem,
    ]);
    assert!(!ok && text.contains("revoked"), "{text}");
    let (ok, text) = openssl(&[
        "verify",
        "-crl_check",
        "-CRLfile",
        crl_pem,
        "-CAfile",
        &root_pem,
        "-untrusted",
        &ca_pem,
        &c_pem,
    ]);
    assert!(ok, "{text}");
}

/// A second CA object with the same key and certificates.
fn same_ca(ca: &ReferenceCa) -> ReferenceCa {
    ReferenceCa::new(
        ca.signing_key().clone(),
        ca.certificate().clone(),
        ca.chain()[1..].to_vec(),
    )
    .unwrap()
}

#[test]
fn export_import_round_trip() {
    let (mut ca, _) = hierarchy(KeyAlgorithm::EcP256);
    let key = PrivateKey::generate(other_key_algorithm()).unwrap();
    let mut certs = Vec::new();
    for i in 0..4 {
        let req = IssueRequest::new(name(&format!("CN=n{i}")), key.public_key());
        certs.push(ca.issue(&req, now()).unwrap());
    }
    let t = now();
    ca.revoke(&serial(&certs[0]), Some(4), t).unwrap();
    ca.revoke(&serial(&certs[2]), None, t.plus_secs(5)).unwrap();

    let state = ca.export_state();
    let mut again = same_ca(&ca);
    assert_eq!(again.issued_count(), 0);
    again.import_state(&state).unwrap();

    assert_eq!(again.issued_count(), 4);
    for cert in &certs {
        assert!(again.is_issued_by_us(cert));
        assert_eq!(again.find(&serial(cert)), Some(cert));
    }
    assert_eq!(
        again.revoked().collect::<Vec<_>>(),
        ca.revoked().collect::<Vec<_>>()
    );
    assert!(again.is_revoked(&serial(&certs[0])));
    assert!(!again.is_revoked(&serial(&certs[1])));
    assert_eq!(
        again.revoke(&serial(&certs[2]), None, t),
        Err(CaError::AlreadyRevoked)
    );
    assert_eq!(again.export_state(), state);
    assert_eq!(
        again.crl(t).unwrap().tbs_cert_list,
        ca.crl(t).unwrap().tbs_cert_list
    );

    // Importing replaces: an empty CA's state empties the records.
    let empty = same_ca(&ca).export_state();
    again.import_state(&empty).unwrap();
    assert_eq!(again.issued_count(), 0);
    assert_eq!(again.revoked().count(), 0);
}

#[test]
fn corrupt_import_fails_and_changes_nothing() {
    let (mut ca, _) = hierarchy(KeyAlgorithm::EcP256);
    let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let cert = ca
        .issue(&IssueRequest::new(name("CN=keep"), key.public_key()), now())
        .unwrap();
    ca.revoke(&serial(&cert), Some(1), now()).unwrap();
    let state = ca.export_state();

    let mut target = same_ca(&ca);
    let kept = target
        .issue(
            &IssueRequest::new(name("CN=target"), key.public_key()),
            now(),
        )
        .unwrap();

    let structural: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0x30],
        vec![0x30, 0x00],
        vec![0x30, 0x03, 0x02, 0x01, 0x02], // version 2, nothing else
        b"not DER at all".to_vec(),
        state[..state.len() / 2].to_vec(),
        state[..state.len() - 1].to_vec(),
        [state.clone(), vec![0x00]].concat(),
    ];
    for bytes in &structural {
        assert!(
            matches!(target.import_state(bytes), Err(CaError::BadState(_))),
            "{bytes:02x?}"
        );
        // A failed import leaves the records as they were.
        assert_eq!(target.issued_count(), 1);
        assert!(target.is_issued_by_us(&kept));
        assert_eq!(target.revoked().count(), 0);
    }

    // Every single-bit flip: an error or (a flip in revokedAt or the reason)
    // a valid state, never a panic; a flip inside a certificate breaks its
    // signature.
    let mut accepted = 0;
    for i in 0..state.len() {
        let mut flipped = state.clone();
        flipped[i] ^= 0x01;
        let mut fresh = same_ca(&ca);
        match fresh.import_state(&flipped) {
            Ok(()) => {
                accepted += 1;
                assert_eq!(fresh.issued_count(), 1);
                assert!(
                    fresh.is_issued_by_us(&cert),
                    "flip at byte {i} let a different certificate in"
                );
            }
            Err(CaError::BadState(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert!(accepted < 16, "{accepted} flips accepted");

    // State of another CA is refused.
    let (other, _) = hierarchy(KeyAlgorithm::EcP256);
    let mut other = other;
    other
        .issue(
            &IssueRequest::new(name("CN=foreign"), key.public_key()),
            now(),
        )
        .unwrap();
    assert!(matches!(
        target.import_state(&other.export_state()),
        Err(CaError::BadState(_))
    ));
    // Even under the same CA name (the signature does not verify).
    let (mut twin, _) = hierarchy(KeyAlgorithm::EcP256);
    twin.issue(&IssueRequest::new(name("CN=twin"), key.public_key()), now())
        .unwrap();
    assert_eq!(twin.name(), target.name());
    assert!(matches!(
        target.import_state(&twin.export_state()),
        Err(CaError::BadState(_))
    ));
    assert_eq!(target.issued_count(), 1);
    assert!(target.is_issued_by_us(&kept));
}

#[test]
fn new_checks_credentials() {
    let (ca, root) = hierarchy(KeyAlgorithm::EcP256);
    let wrong = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    assert!(matches!(
        ReferenceCa::new(wrong, ca.certificate().clone(), vec![root.clone()]),
        Err(CaError::BadCaCredentials(_))
    ));
    // A chain that does not link.
    let (_, other_root) = hierarchy(KeyAlgorithm::EcP256);
    let renamed = ReferenceCa::generate_hierarchy("Else", now(), KeyAlgorithm::EcP256)
        .unwrap()
        .1;
    assert!(matches!(
        ReferenceCa::new(
            ca.signing_key().clone(),
            ca.certificate().clone(),
            vec![renamed]
        ),
        Err(CaError::BadCaCredentials(_))
    ));
    // Same names link (the check is by name); the CA cert repeated at the
    // front of the chain is tolerated.
    let again = ReferenceCa::new(
        ca.signing_key().clone(),
        ca.certificate().clone(),
        vec![ca.certificate().clone(), other_root],
    )
    .unwrap();
    assert_eq!(again.chain().len(), 2);

    // A root CA made elsewhere (OpenSSL) issues on its own.
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("root.key");
    let cert_path = dir.path().join("root.pem");
    let (ok, text) = openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=OpenSSL Root",
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        key_path.to_str().unwrap(),
        "-out",
        cert_path.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    let root_key = PrivateKey::from_pem(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    let root_cert =
        Certificate::from_pem(std::fs::read_to_string(&cert_path).unwrap().as_bytes()).unwrap();
    let mut solo = ReferenceCa::new(root_key, root_cert.clone(), Vec::new()).unwrap();
    assert_eq!(solo.root(), &root_cert);
    assert_eq!(solo.chain(), &[root_cert.clone()][..]);
    let leaf_key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let leaf = solo
        .issue(
            &IssueRequest::new(name("CN=under openssl root"), leaf_key.public_key()),
            now(),
        )
        .unwrap();
    // The AKI is the root's key identifier (its SKI, or SHA-1 of its key).
    assert_eq!(
        aki(&leaf),
        expected_key_id(root_cert.tbs_certificate().subject_public_key_info())
    );
    let leaf_pem = write_pem(dir.path(), "leaf.pem", &leaf);
    let (ok, text) = openssl(&["verify", "-CAfile", cert_path.to_str().unwrap(), &leaf_pem]);
    assert!(ok, "{text}");

    // A certificate that says it is no CA cannot be a CA's.
    assert!(matches!(
        ReferenceCa::new(leaf_key, leaf, Vec::new()),
        Err(CaError::BadCaCredentials(_))
    ));
}
