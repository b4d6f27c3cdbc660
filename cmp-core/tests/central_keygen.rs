//! Central key generation (RFC 9483 section 4.1.6), client against
//! responder: the key comes back in EnvelopedData(SignedData(key package))
//! for a password (MAC client), by key agreement (EC signer) or by key
//! transport (RSA signer); the client checks it and every way it can be
//! wrong, and the responder refuses misuse.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod delivered;

use std::sync::Arc;

use cmp_core::Error;
use cmp_core::Timestamp;
use cmp_core::asn1::{BodyType, CertifiedKeyPair, FailureBit, PkiBody, PkiMessage};
use cmp_core::client::{ClientEvent, ClientTransaction, EnrollKind, EnrollRequest};
use cmp_core::crypto::SigningKey;
use cmp_core::keygen::KeyGenAuthority;
use cmp_core::protection::Protector;
use cmp_core::server::{PendingRequest, Reply, Responder, ResponderEvent};
use cmp_crypto_rustcrypto::{EnvelopeKey, KeyAlgorithm, PrivateKey};
use delivered::*;

fn issued(run: &Run) -> &cmp_core::client::IssuedCertificate {
    run.events
        .iter()
        .find_map(|e| match e {
            ClientEvent::CertificateIssued(i) => Some(i),
            _ => None,
        })
        .expect("no certificate issued")
}

/// The responder's decision: generate (P-256 unless a type is asked for),
/// certify, deliver signed by `kga`.
fn generate_and_issue<'a>(
    pki: &'a mut Pki,
    kga: &'a KeyGenAuthority,
) -> impl FnMut(PendingRequest, Timestamp) -> Reply + 'a {
    move |p, now| {
        assert!(p.central_keygen_requested());
        assert_eq!(p.public_key(), None);
        let (key, public) = p.generate_key(&ec_alg(KeyAlgorithm::EcP256)).unwrap();
        let cert = pki.issue(p.subject().unwrap(), public);
        p.issue_with_key(cert, key.as_bytes(), kga, None, now)
            .unwrap()
    }
}

fn request(alg: Option<KeyAlgorithm>, opener: Arc<EnvelopeKey>) -> EnrollRequest {
    EnrollRequest::central_keygen(EnrollKind::Ir, Some(device()), alg.map(ec_alg), opener)
}

/// The recipient info kind of the delivered key in the ip.
fn recipient_kind(reply: &Reply) -> &'static str {
    let msg = PkiMessage::from_der_bytes(&reply.bytes).unwrap();
    let PkiBody::Ip(rep) = msg.body else {
        panic!("not an ip")
    };
    let Some(CertifiedKeyPair {
        private_key: Some(cmp_core::asn1::EncryptedKey::EnvelopedData(env)),
        ..
    }) = &rep.response[0].certified_key_pair
    else {
        panic!("no EnvelopedData")
    };
    match env.recip_infos.0.get(0).unwrap() {
        cms::enveloped_data::RecipientInfo::Ktri(_) => "ktri",
        cms::enveloped_data::RecipientInfo::Kari(_) => "kari",
        cms::enveloped_data::RecipientInfo::Pwri(_) => "pwri",
        _ => "other",
    }
}

fn check_delivered(run: &Run) {
    let got = issued(run);
    let key = PrivateKey::from_pkcs8_der(got.private_key.as_ref().unwrap().as_bytes()).unwrap();
    assert_eq!(
        &key.public_key(),
        got.cert.tbs_certificate().subject_public_key_info()
    );
    assert_eq!(got.cert.tbs_certificate().subject(), &device());
    assert_eq!(
        run.server_events,
        [ResponderEvent::Confirmed(got.cert.clone())]
    );
}

#[test]
fn a_mac_client_gets_its_key_under_the_shared_secret() {
    let mut pki = Pki::new();
    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.mac_client();
    let mut tx = ClientTransaction::start_ir(client, request(None, opener), pki.now).unwrap();
    let now = pki.now;
    let (run, result) = drive(&mut tx, &responder, now, generate_and_issue(&mut pki, &kga));
    result.unwrap();
    assert!(tx.is_completed());
    assert_eq!(recipient_kind(&run.replies[0]), "pwri");
    check_delivered(&run);
    // no type asked for: the responder's default, P-256
    let key = PrivateKey::from_pkcs8_der(issued(&run).private_key.as_ref().unwrap().as_bytes());
    assert_eq!(key.unwrap().key_algorithm(), Some(KeyAlgorithm::EcP256));

    // On the wire: no POPO, no public key in the template.
    let ir = PkiMessage::from_der_bytes(&run.requests[0]).unwrap();
    let PkiBody::Ir(msgs) = ir.body else { panic!() };
    assert!(msgs[0].popo.is_none());
    assert!(msgs[0].cert_req.cert_template.public_key.is_none());
}

#[test]
fn an_ec_signer_gets_the_requested_key_type_by_key_agreement() {
    let mut pki = Pki::new();
    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.sig_client(KeyAlgorithm::EcP256);
    let req = request(Some(KeyAlgorithm::EcP384), opener);
    let mut tx = ClientTransaction::start_ir(client, req, pki.now).unwrap();
    let now = pki.now;
    let (run, result) = drive(&mut tx, &responder, now, generate_and_issue(&mut pki, &kga));
    result.unwrap();
    assert_eq!(recipient_kind(&run.replies[0]), "kari");
    check_delivered(&run);
    let key = PrivateKey::from_pkcs8_der(issued(&run).private_key.as_ref().unwrap().as_bytes());
    assert_eq!(key.unwrap().key_algorithm(), Some(KeyAlgorithm::EcP384));

    // On the wire: the requested algorithm with an empty key, no POPO.
    let ir = PkiMessage::from_der_bytes(&run.requests[0]).unwrap();
    let PkiBody::Ir(msgs) = ir.body else { panic!() };
    assert!(msgs[0].popo.is_none());
    let spki = msgs[0].cert_req.cert_template.public_key.as_ref().unwrap();
    assert_eq!(spki.algorithm, ec_alg(KeyAlgorithm::EcP384));
    assert!(spki.subject_public_key.raw_bytes().is_empty());
}

#[test]
fn an_rsa_signer_gets_its_key_by_key_transport() {
    let mut pki = Pki::new();
    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.sig_client(KeyAlgorithm::Rsa2048);
    let mut tx = ClientTransaction::start_ir(client, request(None, opener), pki.now).unwrap();
    let now = pki.now;
    let (run, result) = drive(&mut tx, &responder, now, generate_and_issue(&mut pki, &kga));
    result.unwrap();
    assert_eq!(recipient_kind(&run.replies[0]), "ktri");
    check_delivered(&run);
}

#[test]
fn an_ra_with_id_kp_cmkga_may_sign_keys_for_a_client_that_trusts_it() {
    let mut pki = Pki::new();
    let ra = pki.ra_kga();
    let responder = pki.responder();
    let (client, opener) = pki.sig_client(KeyAlgorithm::EcP256);
    let mut tx = ClientTransaction::start_ir(client, request(None, opener), pki.now).unwrap();
    let now = pki.now;
    let (run, result) = drive(&mut tx, &responder, now, generate_and_issue(&mut pki, &ra));
    result.unwrap();
    check_delivered(&run);
}

/// Run a central key generation whose delivered key the client must refuse;
/// the client rejects the certificate in certConf and fails with the error.
fn refused(
    responder: &Responder,
    now: Timestamp,
    client: cmp_core::client::ClientConfig,
    req: EnrollRequest,
    decide: impl FnMut(PendingRequest, Timestamp) -> Reply,
) -> (Run, Error) {
    let mut tx = ClientTransaction::start_ir(client, req, now).unwrap();
    let (run, result) = drive(&mut tx, responder, now, decide);
    let e = result.unwrap_err();
    assert!(tx.is_finished() && !tx.is_completed());
    // the server learnt about it from certConf
    assert!(matches!(
        run.server_events.as_slice(),
        [ResponderEvent::ConfirmationRejected { .. }]
    ));
    assert_eq!(
        run.replies.iter().map(|r| r.body).collect::<Vec<_>>(),
        [BodyType::Ip, BodyType::PkiConf]
    );
    (run, e)
}

fn rejection_bit(run: &Run) -> Vec<FailureBit> {
    match &run.server_events[0] {
        ResponderEvent::ConfirmationRejected { status, .. } => status.failure_bits(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_password_is_a_decrypt_failure() {
    let mut pki = Pki::new();
    let kga = pki.kga();
    let (client, _) = pki.mac_client();
    let opener = Arc::new(EnvelopeKey::password(b"not the secret"));
    let (responder, now) = (pki.responder(), pki.now);
    let (_, e) = refused(
        &responder,
        now,
        client,
        request(None, opener),
        generate_and_issue(&mut pki, &kga),
    );
    assert!(matches!(e, Error::KeyDecryptFailed(_)), "{e:?}");
}

#[test]
fn a_key_for_someone_else_is_not_for_us() {
    let mut pki = Pki::new();
    let kga = pki.kga();
    let (client, _) = pki.sig_client(KeyAlgorithm::EcP256);
    // The key comes by key agreement, but we only hold a password.
    let opener = Arc::new(EnvelopeKey::password(SECRET));
    let (responder, now) = (pki.responder(), pki.now);
    let (run, e) = refused(
        &responder,
        now,
        client,
        request(None, opener),
        generate_and_issue(&mut pki, &kga),
    );
    assert_eq!(e, Error::KeyNotForUs);
    assert_eq!(rejection_bit(&run), [FailureBit::IncorrectData]);
}

#[test]
fn a_key_package_with_a_bad_signature_is_refused() {
    let mut pki = Pki::new();
    // The CA's certificate, but another key signs.
    let forged = KeyGenAuthority::new(
        Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap()),
        pki.ca.certificate().clone(),
    );
    let (client, opener) = pki.mac_client();
    let (responder, now) = (pki.responder(), pki.now);
    let (run, e) = refused(
        &responder,
        now,
        client,
        request(None, opener),
        generate_and_issue(&mut pki, &forged),
    );
    assert_eq!(e, Error::KeySignatureInvalid);
    assert_eq!(rejection_bit(&run), [FailureBit::BadMessageCheck]);
}

#[test]
fn a_signer_that_is_not_a_key_generation_authority_is_refused() {
    let mut pki = Pki::new();
    // The CMP server's own certificate (id-kp-cmcRA, not id-kp-cmKGA), and
    // a MAC client, for which only the issuing CA may sign keys.
    let server = KeyGenAuthority::new(Arc::new(pki.server_key.clone()), pki.server_cert.clone());
    let (client, opener) = pki.mac_client();
    let (responder, now) = (pki.responder(), pki.now);
    let (_, e) = refused(
        &responder,
        now,
        client,
        request(None, opener),
        generate_and_issue(&mut pki, &server),
    );
    assert!(matches!(e, Error::SignerNotTrusted(_)), "{e:?}");

    // An id-kp-cmKGA RA is refused by a client without trust anchors.
    let ra = pki.ra_kga();
    let (client, opener) = pki.mac_client();
    let (_, e) = refused(
        &responder,
        now,
        client,
        request(None, opener),
        generate_and_issue(&mut pki, &ra),
    );
    assert!(matches!(e, Error::SignerNotTrusted(_)), "{e:?}");
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let mut pki = Pki::new();
    let kga = pki.kga();
    let (client, opener) = pki.mac_client();
    let (responder, now) = (pki.responder(), pki.now);
    let (run, e) = refused(&responder, now, client, request(None, opener), |p, now| {
        let (key, _) = p.generate_key(&ec_alg(KeyAlgorithm::EcP256)).unwrap();
        let (_, other_public) = p.generate_key(&ec_alg(KeyAlgorithm::EcP256)).unwrap();
        let cert = pki.issue(p.subject().unwrap(), other_public);
        p.issue_with_key(cert, key.as_bytes(), &kga, None, now)
            .unwrap()
    });
    assert_eq!(e, Error::KeyMismatch);
    assert_eq!(rejection_bit(&run), [FailureBit::IncorrectData]);
}

#[test]
fn a_key_of_another_type_than_requested_is_refused() {
    let mut pki = Pki::new();
    let kga = pki.kga();
    let (client, opener) = pki.mac_client();
    let (responder, now) = (pki.responder(), pki.now);
    let req = request(Some(KeyAlgorithm::EcP384), opener);
    let (_, e) = refused(&responder, now, client, req, |p, now| {
        // ignores the requested P-384
        let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        let cert = pki.issue(p.subject().unwrap(), key.public_key());
        let der = key.to_pkcs8_der().unwrap();
        p.issue_with_key(cert, &der, &kga, None, now).unwrap()
    });
    assert!(matches!(e, Error::BadCertTemplate(_)), "{e:?}");
}

#[test]
fn the_responder_refuses_to_mix_up_the_two_kinds_of_issuance() {
    let pki = Pki::new();
    let kga = pki.kga();
    let responder = pki.responder();

    // central key generation asked for: plain issue() is misuse
    let (client, opener) = pki.mac_client();
    let tx = ClientTransaction::start_ir(client, request(None, opener), pki.now);
    let bytes = tx.unwrap().poll_transmit().unwrap();
    let cert = pki.ca.certificate().clone();
    responder.handle_request_with(&bytes, pki.now, &mut |p, now| {
        let e = p.issue(cert.clone(), None, now).unwrap_err();
        assert!(matches!(e, Error::Usage(_)));
        // The pending request was consumed; answer a fresh one below.
        Reply {
            bytes: Vec::new(),
            body: BodyType::Error,
            transaction_id: Vec::new(),
            error: Some(e),
            event: None,
            inner: Vec::new(),
        }
    });

    // a key of its own sent: issue_with_key() and generate_key() are misuse
    let (client, _) = pki.mac_client();
    let own = Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap());
    let req = EnrollRequest::new(EnrollKind::Ir, Some(device()), own);
    let bytes = ClientTransaction::start_ir(client, req, pki.now)
        .unwrap()
        .poll_transmit()
        .unwrap();
    responder.handle_request_with(&bytes, pki.now, &mut |p, now| {
        assert!(!p.central_keygen_requested());
        assert!(p.public_key().is_some());
        assert!(matches!(
            p.generate_key(&ec_alg(KeyAlgorithm::EcP256)),
            Err(Error::Usage(_))
        ));
        let e = p
            .issue_with_key(cert.clone(), b"x", &kga, None, now)
            .unwrap_err();
        assert!(matches!(e, Error::Usage(_)));
        Reply {
            bytes: Vec::new(),
            body: BodyType::Error,
            transaction_id: Vec::new(),
            error: Some(e),
            event: None,
            inner: Vec::new(),
        }
    });
}

#[test]
fn an_unprotected_request_gets_no_key() {
    let mut pki = Pki::new();
    let kga = pki.kga();
    let mut config = cmp_core::server::ResponderConfig::new(
        provider(),
        Arc::new(cmp_core::server::MemoryStore::default()),
    );
    config.accept_unprotected = true;
    let responder = cmp_core::server::Responder::new(config);
    let mut client = cmp_core::client::ClientConfig::new(provider(), Protector::None);
    client.accept_unprotected_responses = true;
    let opener = Arc::new(EnvelopeKey::password(SECRET));
    let mut tx = ClientTransaction::start_ir(client, request(None, opener), pki.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let reply = responder.handle_request_with(&bytes, pki.now, &mut |p, now| {
        let (key, public) = p.generate_key(&ec_alg(KeyAlgorithm::EcP256)).unwrap();
        let cert = pki.issue(p.subject().unwrap(), public);
        let e = p
            .issue_with_key(cert, key.as_bytes(), &kga, None, now)
            .unwrap_err();
        assert_eq!(e, Error::NotAuthorized);
        panic_free_error_reply(e)
    });
    assert_eq!(reply.error, Some(Error::NotAuthorized));
}

fn panic_free_error_reply(e: Error) -> Reply {
    Reply {
        bytes: Vec::new(),
        body: BodyType::Error,
        transaction_id: Vec::new(),
        error: Some(e),
        event: None,
        inner: Vec::new(),
    }
}

/// Send the first request of `tx` to `responder`, decided by `decide`, then
/// change the ip and MAC-protect it again; the client's answer to it.
fn tampered_ip(
    pki: &mut Pki,
    req: EnrollRequest,
    decide: impl FnOnce(&mut Pki, PendingRequest, Timestamp) -> Reply,
    change: impl FnOnce(&mut CertifiedKeyPair),
) -> Result<ClientEvent, Error> {
    let responder = pki.responder();
    let (client, _) = pki.mac_client();
    let now = pki.now;
    let mut tx = ClientTransaction::start_ir(client, req, now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    let mut decide = Some(decide);
    let reply = responder.handle_request_with(&bytes, now, &mut |p, now| {
        (decide.take().unwrap())(pki, p, now)
    });
    let mut m = PkiMessage::from_der_bytes(&reply.bytes).unwrap();
    let PkiBody::Ip(rep) = &mut m.body else {
        panic!("not an ip")
    };
    change(rep.response[0].certified_key_pair.as_mut().unwrap());
    let msg = Protector::mac(REF, SECRET)
        .protect(m.header, m.body, Vec::new(), provider().as_ref())
        .unwrap();
    match tx.handle_response(&cmp_core::message::encode(&msg).unwrap(), now) {
        // The certificate was rejected in certConf: the error comes after pkiConf.
        Ok(ClientEvent::Continue) => {
            let cert_conf = tx.poll_transmit().unwrap();
            let reply = responder.handle_request_with(&cert_conf, now, &mut |_, _| {
                panic!("certConf needs no decision")
            });
            assert_eq!(reply.body, BodyType::PkiConf);
            tx.handle_response(&reply.bytes, now)
        }
        other => other,
    }
}

fn central_decision(pki: &mut Pki, p: PendingRequest, now: Timestamp) -> Reply {
    let kga = pki.kga();
    generate_and_issue(pki, &kga)(p, now)
}

#[test]
fn a_missing_or_unrequested_or_deprecated_private_key_is_refused() {
    let mut pki = Pki::new();
    let opener = Arc::new(EnvelopeKey::password(SECRET));

    // central key generation asked for, the key left out
    let r = tampered_ip(
        &mut pki,
        request(None, opener.clone()),
        central_decision,
        |pair| {
            pair.private_key = None;
        },
    );
    assert!(
        matches!(r, Err(Error::IncorrectData(why)) if why.contains("no private key")),
        "{r:?}"
    );

    // our own key, and still a private key in the answer
    let own = Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap());
    let req = EnrollRequest::new(EnrollKind::Ir, Some(device()), own.clone());
    let stray = cmp_core::asn1::EncryptedKey::EnvelopedData(
        provider()
            .seal_envelope(
                cmp_core::crypto::EnvelopeRecipient::Password(SECRET),
                cmp_core::keygen::ID_SIGNED_DATA,
                b"x",
            )
            .unwrap(),
    );
    let r = tampered_ip(
        &mut pki,
        req,
        |pki, p, now| {
            let cert = pki.issue(p.subject().unwrap(), p.public_key().cloned().unwrap());
            p.issue(cert, None, now).unwrap()
        },
        |pair| pair.private_key = Some(stray),
    );
    assert!(
        matches!(r, Err(Error::IncorrectData(why)) if why.contains("none was requested")),
        "{r:?}"
    );

    // the deprecated EncryptedValue form
    let r = tampered_ip(
        &mut pki,
        request(None, opener.clone()),
        central_decision,
        |pair| {
            pair.private_key = Some(cmp_core::asn1::EncryptedKey::EncryptedValue(
                cmp_core::asn1::EncryptedValue {
                    intended_alg: None,
                    symm_alg: None,
                    enc_symm_key: None,
                    key_alg: None,
                    value_hint: None,
                    enc_value: der::asn1::BitString::from_bytes(b"opaque").unwrap(),
                },
            ));
        },
    );
    assert!(matches!(r, Err(Error::UnsupportedAlgorithm(_))), "{r:?}");

    // an envelope of something else than SignedData
    let r = tampered_ip(&mut pki, request(None, opener), central_decision, |pair| {
        let Some(cmp_core::asn1::EncryptedKey::EnvelopedData(env)) = &mut pair.private_key else {
            panic!()
        };
        env.encrypted_content.content_type =
            der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
    });
    assert!(matches!(r, Err(Error::KeyDecryptFailed(_))), "{r:?}");
}
