//! KEM-based MAC protection (RFC 9810 section 5.1.3.4) with ML-KEM, both
//! sides: the genm/genp KemCiphertextInfo exchange, then an ir / ip /
//! certConf / pkiConf transaction protected with id-KemBasedMac, and every
//! failure path as a typed error.
//!
//! OpenSSL 3.0 has neither ML-KEM nor KemBasedMac, so there is no interop test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::str::FromStr;
use std::sync::Arc;

use cmp_core::asn1::{InfoTypeAndValue, PkiMessage, oid};
use cmp_core::client::{ClientConfig, ClientEvent, ClientTransaction, EnrollKind, EnrollRequest};
use cmp_core::crypto::{DecapsulationKey, KemAlgorithm};
use cmp_core::message::ParsedMessage;
use cmp_core::protection::{MacScheme, Protector};
use cmp_core::server::{MemoryStore, PendingRequest, Reply, Responder, ResponderConfig};
use cmp_core::trust::TrustStore;
use cmp_core::verify::Authenticated;
use cmp_core::{Error, Limits, Timestamp, kem};
use cmp_crypto_rustcrypto::{
    IssueRequest, KemPrivateKey, KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider,
};
use der::Encode;
use der::asn1::OctetString;
use std::sync::Mutex;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::name::Name;

struct Pki {
    ca: Arc<Mutex<ReferenceCa>>,
    root: Certificate,
    kem_key: KemPrivateKey,
    kem_cert: Certificate,
    now: Timestamp,
}

fn key_usage(usage: KeyUsages) -> Extension {
    Extension {
        extn_id: der::asn1::ObjectIdentifier::new_unwrap("2.5.29.15"),
        critical: true,
        extn_value: OctetString::new(KeyUsage(usage.into()).to_der().unwrap()).unwrap(),
    }
}

fn pki(kem: KemAlgorithm) -> Pki {
    let now = Timestamp::now();
    let (mut ca, root) = ReferenceCa::generate_hierarchy("KEM", now, KeyAlgorithm::EcP256).unwrap();
    let kem_key = KemPrivateKey::generate(kem).unwrap();
    let mut req = IssueRequest::new(
        Name::from_str("CN=KEM Device").unwrap(),
        kem_key.public_key(),
    );
    req.extensions = vec![key_usage(KeyUsages::KeyEncipherment)];
    let kem_cert = ca.issue(&req, now).unwrap();
    Pki {
        ca: Arc::new(Mutex::new(ca)),
        root,
        kem_key,
        kem_cert,
        now,
    }
}

fn responder(p: &Pki) -> Responder {
    let ca = p.ca.lock().unwrap();
    let (signer_key, signer_cert) = ca
        .generate_cmp_signer(Name::from_str("CN=KEM RA").unwrap(), p.now)
        .unwrap();
    let mut c = ResponderConfig::new(
        Arc::new(RustCryptoProvider),
        Arc::new(MemoryStore::default()),
    );
    c.client_trust = Some(TrustStore::new(vec![p.root.clone()]));
    c.signer = Some(Protector::Signature {
        key: Arc::new(signer_key),
        cert: signer_cert,
        chain: ca.chain().to_vec(),
    });
    c.extra_certs = ca.chain().to_vec();
    Responder::new(c)
}

/// The genm for a KEM ciphertext, unprotected, with the KEM certificate.
fn genm_client(p: &Pki, kem_cert: &Certificate) -> ClientConfig {
    let ca = p.ca.lock().unwrap();
    let mut c = ClientConfig::new(Arc::new(RustCryptoProvider), Protector::None);
    c.extra_certs = vec![kem_cert.clone(), ca.certificate().clone()];
    c.server_trust = Some(TrustStore::new(vec![p.root.clone()]));
    c
}

/// Run the genm/genp exchange; the genp content and the transactionID.
fn get_ciphertext(
    p: &Pki,
    responder: &Responder,
    kem_cert: &Certificate,
) -> Result<(Vec<InfoTypeAndValue>, Vec<u8>), Error> {
    let mut tx = ClientTransaction::start_genm(
        genm_client(p, kem_cert),
        vec![kem::ciphertext_request()],
        p.now,
    )?;
    let bytes = tx.poll_transmit().unwrap();
    let reply = responder.handle_request_with(&bytes, p.now, &mut |_, _| {
        panic!("the KEM genm is answered by the responder itself")
    });
    match tx.handle_response(&reply.bytes, p.now)? {
        ClientEvent::GeneralResponse(items) => Ok((items, tx.transaction_id().to_vec())),
        other => panic!("unexpected {other:?}"),
    }
}

fn kem_client(protector: Protector, transaction_id: &[u8]) -> ClientConfig {
    let mut c = ClientConfig::new(Arc::new(RustCryptoProvider), protector);
    c.transaction_id = Some(transaction_id.to_vec());
    c
}

fn issue_with(ca: &Arc<Mutex<ReferenceCa>>) -> impl FnMut(PendingRequest, Timestamp) -> Reply {
    let ca = Arc::clone(ca);
    move |pending, now| {
        let req = IssueRequest::new(
            pending.subject().cloned().unwrap_or_default(),
            pending.public_key().cloned().unwrap(),
        );
        let cert = ca.lock().unwrap().issue(&req, now).unwrap();
        pending.issue(cert, None, now).unwrap()
    }
}

fn ir() -> EnrollRequest {
    EnrollRequest::new(
        EnrollKind::Ir,
        Some(Name::from_str("CN=KEM Device").unwrap()),
        Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap()),
    )
}

fn protection_oid(bytes: &[u8]) -> Option<der::asn1::ObjectIdentifier> {
    ParsedMessage::decode(bytes, &Limits::DEFAULT)
        .unwrap()
        .protection_alg_oid()
}

#[test]
fn ir_cert_conf_protected_by_kem_based_mac_for_every_ml_kem_level() {
    for alg in [
        KemAlgorithm::MlKem512,
        KemAlgorithm::MlKem768,
        KemAlgorithm::MlKem1024,
    ] {
        let p = pki(alg);
        let responder = responder(&p);
        let (genp, tid) = get_ciphertext(&p, &responder, &p.kem_cert).unwrap();
        let info = kem::ciphertext_from_genp(&genp).unwrap();
        assert_eq!(kem::kem_from_oid(&info.kem.oid).unwrap(), alg);
        assert_eq!(info.ct.as_bytes().len(), alg.ciphertext_len());

        let protector = kem::client_protector(&genp, &p.kem_key, b"kem").unwrap();
        let mut tx = ClientTransaction::start_ir(kem_client(protector, &tid), ir(), p.now).unwrap();
        assert_eq!(tx.transaction_id(), tid.as_slice());
        let kem_cert = p.kem_cert.clone();
        let mut issue = issue_with(&p.ca);
        let (run, result) = common::drive(&mut tx, &responder, p.now, move |pending, now| {
            // the requester is the holder of the KEM certificate
            assert_eq!(
                pending.requester(),
                &Authenticated::Kem {
                    certificate: Some(kem_cert.clone())
                }
            );
            assert_eq!(pending.signer_certificate(), Some(&kem_cert));
            issue(pending, now)
        });
        result.unwrap();
        assert!(tx.is_completed());
        assert_eq!(
            tx.authenticated_as(),
            Some(&Authenticated::Kem { certificate: None })
        );
        // ir, certConf and their answers ip, pkiConf: all KEM-based MAC
        assert_eq!(run.requests.len(), 2);
        for bytes in run
            .requests
            .iter()
            .chain(run.replies.iter().map(|r| &r.bytes))
        {
            assert_eq!(protection_oid(bytes), Some(oid::KEM_BASED_MAC));
        }
        assert!(matches!(
            run.client_events.first(),
            Some(ClientEvent::CertificateIssued(_))
        ));
        assert!(matches!(
            run.server_events.as_slice(),
            [cmp_core::server::ResponderEvent::Confirmed(_)]
        ));
    }
}

#[test]
fn kem_mac_parameters_are_hkdf_sha256_and_hmac_sha256() {
    let p = pki(KemAlgorithm::MlKem768);
    let responder = responder(&p);
    let (genp, tid) = get_ciphertext(&p, &responder, &p.kem_cert).unwrap();
    let protector = kem::client_protector(&genp, &p.kem_key, b"").unwrap();
    let mut tx = ClientTransaction::start_ir(kem_client(protector, &tid), ir(), p.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let msg = ParsedMessage::decode(&bytes, &Limits::DEFAULT).unwrap();
    let params =
        cmp_core::protection::kem::parameters(msg.header().protection_alg.as_ref().unwrap())
            .unwrap();
    assert_eq!(params.kdf.oid, oid::HKDF_WITH_SHA256);
    assert_eq!(params.len, 32);
    assert_eq!(params.mac.oid, oid::HMAC_WITH_SHA256);
    assert_eq!(params.kem_context, None);
    assert_eq!(kem::scheme_of(&params).unwrap(), MacScheme::KEM_HKDF_SHA256);
}

/// The MAC key derivation: HKDF-SHA256 with an empty salt over the shared
/// secret and the DER of KemOtherInfo (RFC 5869 computed independently with
/// HMAC here).
#[test]
fn derived_key_is_hkdf_over_kem_other_info() {
    use cmp_core::crypto::{CryptoProvider, DigestAlgorithm, HmacAlgorithm};
    let provider = RustCryptoProvider;
    let ss = [0x42u8; 32];
    let tid = b"0123456789abcdef";
    let params = cmp_core::protection::kem::parameters(
        &MacScheme::KEM_HKDF_SHA256
            .algorithm_identifier(&[])
            .unwrap(),
    )
    .unwrap();
    let key = cmp_core::protection::kem::derive_key(&params, &ss, tid, &provider).unwrap();
    // DER KemOtherInfo: SEQUENCE { SEQUENCE { UTF8String "CMP-KEM" }, OCTET STRING tid }
    let mut info = vec![0x30, 0x1d, 0x30, 0x09, 0x0c, 0x07];
    info.extend_from_slice(b"CMP-KEM");
    info.extend_from_slice(&[0x04, 0x10]);
    info.extend_from_slice(tid);
    assert_eq!(
        cmp_core::protection::kem::other_info(tid, None).unwrap(),
        info
    );
    let h = HmacAlgorithm(DigestAlgorithm::Sha256);
    let prk = provider.hmac(h, &[0u8; 32], &[&ss]).unwrap();
    let t1 = provider.hmac(h, &prk, &[&info, &[1u8]]).unwrap();
    assert_eq!(key, t1);
}

#[test]
fn a_wrong_ciphertext_fails_the_mac_on_both_sides() {
    let p = pki(KemAlgorithm::MlKem768);
    let responder = responder(&p);
    let (mut genp, tid) = get_ciphertext(&p, &responder, &p.kem_cert).unwrap();
    // flip a bit of the ciphertext: ML-KEM's implicit rejection gives another secret
    let mut info = kem::ciphertext_from_genp(&genp).unwrap();
    let mut ct = info.ct.as_bytes().to_vec();
    ct[10] ^= 0x01;
    info.ct = OctetString::new(ct.clone()).unwrap();
    genp = vec![kem::ciphertext_response(KemAlgorithm::MlKem768, &ct).unwrap()];
    let protector = kem::client_protector(&genp, &p.kem_key, b"").unwrap();
    let mut tx = ClientTransaction::start_ir(kem_client(protector, &tid), ir(), p.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let reply = responder.handle_request_with(&bytes, p.now, &mut issue_with(&p.ca));
    assert_eq!(reply.error, Some(Error::BadMessageCheck));
    // the error reply is protected with the responder's key, which the
    // client does not share: reported, not trusted
    assert!(matches!(
        tx.handle_response(&reply.bytes, p.now),
        Err(Error::UnauthenticatedError(_))
    ));
}

#[test]
fn a_wrong_private_key_fails_the_mac() {
    let p = pki(KemAlgorithm::MlKem768);
    let responder = responder(&p);
    let (genp, tid) = get_ciphertext(&p, &responder, &p.kem_cert).unwrap();
    let other = KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap();
    let protector = kem::client_protector(&genp, &other, b"").unwrap();
    let mut tx = ClientTransaction::start_ir(kem_client(protector, &tid), ir(), p.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let reply = responder.handle_request_with(&bytes, p.now, &mut issue_with(&p.ca));
    assert_eq!(reply.error, Some(Error::BadMessageCheck));

    // a key of another ML-KEM level is refused before anything is sent
    let small = KemPrivateKey::generate(KemAlgorithm::MlKem512).unwrap();
    assert!(matches!(
        kem::client_protector(&genp, &small, b""),
        Err(Error::IncorrectData(_))
    ));
}

#[test]
fn tampered_messages_are_bad_message_checks_both_ways() {
    let p = pki(KemAlgorithm::MlKem768);
    let responder = responder(&p);
    let (genp, tid) = get_ciphertext(&p, &responder, &p.kem_cert).unwrap();
    let protector = kem::client_protector(&genp, &p.kem_key, b"").unwrap();

    // request tampered on the way: the responder refuses it
    let mut tx =
        ClientTransaction::start_ir(kem_client(protector.clone(), &tid), ir(), p.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let mut msg = PkiMessage::from_der_bytes(&bytes).unwrap();
    msg.header.sender_nonce = Some(OctetString::new(vec![9u8; 16]).unwrap());
    let tampered = cmp_core::message::encode(&msg).unwrap();
    let reply = responder.handle_request_with(&tampered, p.now, &mut issue_with(&p.ca));
    assert_eq!(reply.error, Some(Error::BadMessageCheck));

    // the genuine request goes through; its answer tampered: the client refuses it
    let reply = responder.handle_request_with(&bytes, p.now, &mut issue_with(&p.ca));
    assert_eq!(reply.error, None);
    let mut ip = PkiMessage::from_der_bytes(&reply.bytes).unwrap();
    ip.header.free_text = Some(vec!["changed".into()]);
    let tampered = cmp_core::message::encode(&ip).unwrap();
    assert_eq!(
        tx.handle_response(&tampered, p.now),
        Err(Error::BadMessageCheck)
    );
}

#[test]
fn a_kem_mac_outside_the_genm_transaction_is_an_unknown_credential() {
    let p = pki(KemAlgorithm::MlKem768);
    let responder = responder(&p);
    let (genp, _tid) = get_ciphertext(&p, &responder, &p.kem_cert).unwrap();
    let protector = kem::client_protector(&genp, &p.kem_key, b"").unwrap();
    // a fresh transactionID: the responder has no shared secret for it
    let config = ClientConfig::new(Arc::new(RustCryptoProvider), protector);
    let mut tx = ClientTransaction::start_ir(config, ir(), p.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let reply = responder.handle_request_with(&bytes, p.now, &mut issue_with(&p.ca));
    assert_eq!(reply.error, Some(Error::UnknownCredential));
}

/// `cert` (keyUsage keyEncipherment) with keyUsage `usage` instead,
/// signed again by the CA of `p`.
fn resigned_with_key_usage(p: &Pki, cert: &Certificate, usage: KeyUsages) -> Certificate {
    let encode = |u: KeyUsages| KeyUsage(u.into()).to_der().unwrap();
    let (old, new) = (encode(KeyUsages::KeyEncipherment), encode(usage));
    assert_eq!(old.len(), new.len());
    let mut tbs = cert.tbs_certificate().to_der().unwrap();
    let at = tbs.windows(old.len()).position(|w| w == old).unwrap();
    tbs[at..at + new.len()].copy_from_slice(&new);
    let ca = p.ca.lock().unwrap();
    let signature = cmp_core::crypto::SigningKey::sign(ca.signing_key(), &tbs).unwrap();
    let mut body = tbs;
    body.extend(cert.signature_algorithm().to_der().unwrap());
    body.extend(
        der::asn1::BitString::from_bytes(&signature)
            .unwrap()
            .to_der()
            .unwrap(),
    );
    let mut der = der::Header::new(
        der::Tag::Sequence,
        der::Length::try_from(body.len()).unwrap(),
    )
    .to_der()
    .unwrap();
    der.extend(body);
    der::Decode::from_der(&der).unwrap()
}

#[test]
fn the_genm_needs_a_trusted_kem_certificate() {
    let p = pki(KemAlgorithm::MlKem768);
    let responder = responder(&p);

    // a KEM certificate from another PKI
    let other = pki(KemAlgorithm::MlKem768);
    let err = get_ciphertext(&p, &responder, &other.kem_cert).unwrap_err();
    assert!(
        matches!(&err, Error::Peer(f) if f.error_code == Some(i64::from(Error::SignerNotTrusted("").code()))),
        "{err:?}"
    );

    // a certificate for a KEM key that may only sign: not for encipherment
    // (the reference CA refuses to issue one; made by hand here)
    let sign_only = resigned_with_key_usage(&p, &p.kem_cert, KeyUsages::DigitalSignature);
    let err = get_ciphertext(&p, &responder, &sign_only).unwrap_err();
    assert!(
        matches!(&err, Error::Peer(f) if f.status.status_string.as_ref().is_some_and(
            |s| s.iter().any(|t| t.contains("key usage does not permit")))),
        "{err:?}"
    );

    // a certificate whose key is no KEM key
    let ec = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let mut req = IssueRequest::new(
        Name::from_str("CN=EC Device").unwrap(),
        cmp_core::crypto::SigningKey::public_key(&ec),
    );
    req.extensions = vec![key_usage(KeyUsages::KeyEncipherment)];
    let ec_cert = p.ca.lock().unwrap().issue(&req, p.now).unwrap();
    let err = get_ciphertext(&p, &responder, &ec_cert).unwrap_err();
    assert!(
        matches!(&err, Error::Peer(f) if f.error_code == Some(i64::from(Error::UnsupportedAlgorithm(String::new()).code()))),
        "{err:?}"
    );
}

#[test]
fn the_same_transaction_cannot_ask_twice() {
    let p = pki(KemAlgorithm::MlKem768);
    let responder = responder(&p);
    let mut tx = ClientTransaction::start_genm(
        genm_client(&p, &p.kem_cert),
        vec![kem::ciphertext_request()],
        p.now,
    )
    .unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let first = responder.handle_request_with(&bytes, p.now, &mut |_, _| unreachable!());
    assert_eq!(first.error, None);
    let again = responder.handle_request_with(&bytes, p.now, &mut |_, _| unreachable!());
    assert_eq!(again.error, Some(Error::TransactionIdInUse));
}

/// The second flow: the responder holds the KEM key; the client encapsulates
/// to the responder's KEM certificate and sends the ciphertext in the
/// generalInfo of its first request.
struct ServerKem {
    responder: Responder,
    kem_cert: Certificate,
    p: Pki,
}

fn server_kem(with_key: bool) -> ServerKem {
    let p = pki(KemAlgorithm::MlKem768);
    let server_key = Arc::new(KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap());
    let mut req = IssueRequest::new(
        Name::from_str("CN=KEM RA").unwrap(),
        server_key.public_key(),
    );
    req.extensions = vec![key_usage(KeyUsages::KeyEncipherment)];
    let kem_cert = p.ca.lock().unwrap().issue(&req, p.now).unwrap();
    let mut c = ResponderConfig::new(
        Arc::new(RustCryptoProvider),
        Arc::new(MemoryStore::default()),
    );
    if with_key {
        c.kem_key = Some(server_key);
    }
    ServerKem {
        responder: Responder::new(c),
        kem_cert,
        p,
    }
}

fn client_to(kem_cert: &Certificate) -> ClientConfig {
    let (itav, ss) = kem::encapsulate_to(
        kem_cert.tbs_certificate().subject_public_key_info(),
        &RustCryptoProvider,
    )
    .unwrap();
    let mut c = ClientConfig::new(Arc::new(RustCryptoProvider), kem::mac_protector(ss, b""));
    c.first_general_info = vec![itav];
    c
}

#[test]
fn ciphertext_to_the_responders_kem_key_protects_the_transaction() {
    let s = server_kem(true);
    let mut tx = ClientTransaction::start_ir(client_to(&s.kem_cert), ir(), s.p.now).unwrap();
    let mut issue = issue_with(&s.p.ca);
    let (run, result) = common::drive(&mut tx, &s.responder, s.p.now, move |pending, now| {
        // the ciphertext authenticates the responder, not the requester
        assert_eq!(
            pending.requester(),
            &Authenticated::Kem { certificate: None }
        );
        issue(pending, now)
    });
    result.unwrap();
    assert!(tx.is_completed());
    for bytes in run
        .requests
        .iter()
        .chain(run.replies.iter().map(|r| &r.bytes))
    {
        assert_eq!(protection_oid(bytes), Some(oid::KEM_BASED_MAC));
    }
    // the ciphertext travels in the first request only
    let first = ParsedMessage::decode(&run.requests[0], &Limits::DEFAULT).unwrap();
    assert!(kem::ciphertext_from_genp(first.general_info()).is_ok());
    let conf = ParsedMessage::decode(&run.requests[1], &Limits::DEFAULT).unwrap();
    assert!(kem::ciphertext_from_genp(conf.general_info()).is_err());
}

/// The same with a signing client: its requests are signed, the responder
/// (which cannot sign) protects its replies with the KEM-based MAC.
#[test]
fn signed_requests_kem_protected_replies() {
    let mut s = server_kem(true);
    let (signer_key, signer_cert) =
        s.p.ca
            .lock()
            .unwrap()
            .generate_cmp_signer(Name::from_str("CN=Signing Device").unwrap(), s.p.now)
            .unwrap();
    let mut config = s.responder.config().clone();
    config.client_trust = Some(TrustStore::new(vec![s.p.root.clone()]));
    s.responder = Responder::new(config);

    let (itav, ss) = kem::encapsulate_to(
        s.kem_cert.tbs_certificate().subject_public_key_info(),
        &RustCryptoProvider,
    )
    .unwrap();
    let chain = s.p.ca.lock().unwrap().chain().to_vec();
    let mut c = ClientConfig::new(
        Arc::new(RustCryptoProvider),
        Protector::Signature {
            key: Arc::new(signer_key),
            cert: signer_cert.clone(),
            chain,
        },
    );
    c.first_general_info = vec![itav];
    c.response_secret = Some(ss);
    let mut tx = ClientTransaction::start_ir(
        c,
        EnrollRequest::new(
            EnrollKind::Ir,
            Some(Name::from_str("CN=Signing Device").unwrap()),
            Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap()),
        ),
        s.p.now,
    )
    .unwrap();
    let mut issue = issue_with(&s.p.ca);
    let (run, result) = common::drive(&mut tx, &s.responder, s.p.now, move |pending, now| {
        assert_eq!(pending.signer_certificate(), Some(&signer_cert));
        issue(pending, now)
    });
    result.unwrap();
    assert!(tx.is_completed());
    assert_eq!(
        tx.authenticated_as(),
        Some(&Authenticated::Kem { certificate: None })
    );
    for bytes in &run.requests {
        assert_eq!(protection_oid(bytes), Some(oid::ECDSA_WITH_SHA256));
    }
    for reply in &run.replies {
        assert_eq!(protection_oid(&reply.bytes), Some(oid::KEM_BASED_MAC));
    }
}

#[test]
fn ciphertext_to_the_responder_fails_typed() {
    // the responder has no KEM key
    let s = server_kem(false);
    let mut tx = ClientTransaction::start_ir(client_to(&s.kem_cert), ir(), s.p.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let reply = s
        .responder
        .handle_request_with(&bytes, s.p.now, &mut issue_with(&s.p.ca));
    assert!(matches!(reply.error, Some(Error::UnsupportedAlgorithm(_))));

    // encapsulated to another key than the responder's
    let s = server_kem(true);
    let other = KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap();
    let mut req = IssueRequest::new(Name::from_str("CN=Other").unwrap(), other.public_key());
    req.extensions = vec![key_usage(KeyUsages::KeyEncipherment)];
    let other_cert = s.p.ca.lock().unwrap().issue(&req, s.p.now).unwrap();
    let mut tx = ClientTransaction::start_ir(client_to(&other_cert), ir(), s.p.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let reply = s
        .responder
        .handle_request_with(&bytes, s.p.now, &mut issue_with(&s.p.ca));
    assert_eq!(reply.error, Some(Error::BadMessageCheck));

    // a malformed KemCiphertextInfo in generalInfo
    let mut config = client_to(&s.kem_cert);
    config.first_general_info = vec![InfoTypeAndValue {
        info_type: oid::IT_KEM_CIPHERTEXT_INFO,
        info_value: Some(der::Any::from(der::asn1::Null)),
    }];
    let mut tx = ClientTransaction::start_ir(config, ir(), s.p.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let reply = s
        .responder
        .handle_request_with(&bytes, s.p.now, &mut issue_with(&s.p.ca));
    assert!(
        matches!(reply.error, Some(Error::Decode(_))),
        "{:?}",
        reply.error
    );

    // a replayed first request: its transaction is taken
    let mut tx = ClientTransaction::start_ir(client_to(&s.kem_cert), ir(), s.p.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let first = s
        .responder
        .handle_request_with(&bytes, s.p.now, &mut issue_with(&s.p.ca));
    assert_eq!(first.error, None);
    let again = s
        .responder
        .handle_request_with(&bytes, s.p.now, &mut issue_with(&s.p.ca));
    assert_eq!(again.error, Some(Error::TransactionIdInUse));
}

/// The provider's HKDF (the trait's default, on HMAC) against RFC 5869
/// appendix A, test cases 1 (with salt and info) and 3 (empty salt and info).
#[test]
fn hkdf_matches_rfc_5869() {
    use cmp_core::crypto::{CryptoProvider, DigestAlgorithm};
    let p = RustCryptoProvider;
    let ikm = [0x0bu8; 22];
    let mut okm = [0u8; 42];
    p.hkdf(
        DigestAlgorithm::Sha256,
        &ikm,
        &hex::decode("000102030405060708090a0b0c").unwrap(),
        &hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap(),
        &mut okm,
    )
    .unwrap();
    assert_eq!(
        hex::encode(okm),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    );
    p.hkdf(DigestAlgorithm::Sha256, &ikm, &[], &[], &mut okm)
        .unwrap();
    assert_eq!(
        hex::encode(okm),
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    );
    let mut too_long = vec![0u8; 255 * 32 + 1];
    assert!(
        p.hkdf(DigestAlgorithm::Sha256, &ikm, &[], &[], &mut too_long)
            .is_err()
    );
}
