//! Every malformed, unauthenticated or out-of-order message: the responder
//! answers with the exact PKIFailureInfo bit, the client reports the exact
//! typed error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use cmp_core::asn1::{BodyType, FailureBit, PkiBody, PkiMessage, ProofOfPossession};
use cmp_core::client::{
    ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest, PopMethod,
};
use cmp_core::message::{ParsedMessage, encode};
use cmp_core::protection::Protector;
use cmp_core::server::{Handled, Reply, Responder};
use cmp_core::trust::TrustStore;
use cmp_core::{Error, Limits, Timestamp};
use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey};
use common::*;
use der::{Decode, Encode};
use x509_cert::request::CertReq;

/// Send `bytes` to the responder; it must answer with an error carrying `bit`.
fn expect_error(responder: &Responder, bytes: &[u8], now: Timestamp, bit: FailureBit) -> Reply {
    let reply = match responder.handle_request(bytes, now) {
        Handled::Reply(r) => r,
        other => panic!("accepted: {other:?}"),
    };
    assert_eq!(reply.body, BodyType::Error, "{:?}", reply.error);
    let msg = ParsedMessage::decode(&reply.bytes, &Limits::DEFAULT).unwrap();
    let PkiBody::Error(content) = msg.body() else {
        panic!("not an error")
    };
    assert_eq!(
        content.pki_status_info.failure_bits(),
        [bit],
        "{:?}",
        reply.error
    );
    assert_eq!(reply.error.as_ref().map(Error::failure_bit), Some(bit));
    reply
}

/// The first request of an ir from `config`.
fn first_request(
    config: cmp_core::client::ClientConfig,
    request: EnrollRequest,
    now: Timestamp,
) -> Vec<u8> {
    ClientTransaction::start_ir(config, request, now)
        .unwrap()
        .poll_transmit()
        .unwrap()
}

/// Decode, change, and protect again with `protector`.
fn reprotect(bytes: &[u8], protector: &Protector, change: impl FnOnce(&mut PkiMessage)) -> Vec<u8> {
    let mut m = PkiMessage::from_der(bytes).unwrap();
    change(&mut m);
    let msg = protector
        .protect(
            m.header,
            m.body,
            m.extra_certs.unwrap_or_default(),
            provider().as_ref(),
        )
        .unwrap();
    encode(&msg).unwrap()
}

fn mac() -> Protector {
    Protector::mac(REF, SECRET)
}

#[test]
fn bad_mac_and_unknown_reference() {
    let responder = Responder::new(responder_config());
    let mut c = mac_client();
    c.protector = Protector::mac(REF, b"wrong secret");
    let reply = expect_error(
        &responder,
        &first_request(c, ir_request(), now()),
        now(),
        FailureBit::BadMessageCheck,
    );
    assert_eq!(reply.error, Some(Error::BadMessageCheck));
    // the error reply is protected with the real secret
    let msg = ParsedMessage::decode(&reply.bytes, &Limits::DEFAULT).unwrap();
    cmp_core::protection::verify_mac(&msg, SECRET, provider().as_ref(), &Limits::DEFAULT).unwrap();

    let mut c = mac_client();
    c.protector = Protector::mac(b"9999", SECRET);
    let reply = expect_error(
        &responder,
        &first_request(c, ir_request(), now()),
        now(),
        FailureBit::BadMessageCheck,
    );
    assert_eq!(reply.error, Some(Error::UnknownCredential));
}

#[test]
fn unprotected_and_untrusted_requests() {
    let responder = Responder::new(responder_config());
    let mut c = mac_client();
    c.protector = Protector::None;
    let reply = expect_error(
        &responder,
        &first_request(c, ir_request(), now()),
        now(),
        FailureBit::BadMessageCheck,
    );
    assert_eq!(reply.error, Some(Error::MissingProtection));

    let mut cfg = responder_config();
    cfg.client_trust = Some(TrustStore::new(vec![cert("issued.crt")]));
    let responder = Responder::new(cfg);
    let reply = expect_error(
        &responder,
        &first_request(sig_client(), ir_request(), now()),
        now(),
        FailureBit::SignerNotTrusted,
    );
    assert!(matches!(reply.error, Some(Error::SignerNotTrusted(_))));

    // signatures accepted only where trust anchors are configured
    let mut cfg = responder_config();
    cfg.client_trust = None;
    let responder = Responder::new(cfg);
    expect_error(
        &responder,
        &first_request(sig_client(), ir_request(), now()),
        now(),
        FailureBit::WrongIntegrity,
    );
}

#[test]
fn garbage_oversized_and_unsupported_bodies() {
    let responder = Responder::new(responder_config());
    let reply = expect_error(
        &responder,
        b"\x30\x03\x02\x01",
        now(),
        FailureBit::BadDataFormat,
    );
    assert!(matches!(reply.error, Some(Error::Decode(_))));

    let mut cfg = responder_config();
    cfg.limits.max_message_size = 100;
    let responder = Responder::new(cfg);
    let reply = expect_error(
        &responder,
        &first_request(mac_client(), ir_request(), now()),
        now(),
        FailureBit::BadDataFormat,
    );
    assert!(matches!(reply.error, Some(Error::MessageTooLarge { .. })));

    let responder = Responder::new(responder_config());
    let bytes = reprotect(
        &first_request(mac_client(), ir_request(), now()),
        &mac(),
        |m| {
            m.body = PkiBody::Cann(cert("issued.crt"));
        },
    );
    let reply = expect_error(&responder, &bytes, now(), FailureBit::BadRequest);
    assert_eq!(reply.error, Some(Error::UnexpectedBody { got: "cann" }));
}

#[test]
fn header_checks() {
    let responder = Responder::new(responder_config());
    let ir = first_request(mac_client(), ir_request(), now());
    for (pvno, ok) in [(1, false), (2, true), (3, true), (4, false)] {
        let bytes = reprotect(&ir, &mac(), |m| {
            m.header.pvno = pvno;
            m.header.transaction_id =
                Some(der::asn1::OctetString::new(vec![pvno as u8; 16]).unwrap());
        });
        match responder.handle_request(&bytes, now()) {
            Handled::Decide(_) | Handled::Nested(_) => assert!(ok, "pvno {pvno} accepted"),
            Handled::Reply(r) => {
                assert!(!ok, "pvno {pvno}: {:?}", r.error);
                assert_eq!(r.error, Some(Error::UnsupportedVersion(pvno)));
                assert_eq!(
                    r.error.unwrap().failure_bit(),
                    FailureBit::UnsupportedVersion
                );
            }
        }
    }
    let no_nonce = reprotect(&ir, &mac(), |m| m.header.sender_nonce = None);
    expect_error(&responder, &no_nonce, now(), FailureBit::BadSenderNonce);
    let no_tid = reprotect(&ir, &mac(), |m| m.header.transaction_id = None);
    expect_error(&responder, &no_tid, now(), FailureBit::BadRequest);
    // messageTime an hour off
    let stale = first_request(
        mac_client(),
        ir_request(),
        Timestamp::from_unix_secs(now().unix_secs() - 3600),
    );
    expect_error(&responder, &stale, now(), FailureBit::BadTime);
}

#[test]
fn reused_transaction_id() {
    let responder = Responder::new(responder_config());
    let ir = first_request(mac_client(), ir_request(), now());
    assert!(matches!(
        responder.handle_request(&ir, now()),
        Handled::Decide(_)
    ));
    expect_error(&responder, &ir, now(), FailureBit::TransactionIdInUse);
}

#[test]
fn proof_of_possession() {
    let responder = Responder::new(responder_config());
    // a POP signed by another key than the one in the template
    let other = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let ir = first_request(mac_client(), ir_request(), now());
    let bad_pop = reprotect(&ir, &mac(), |m| {
        let PkiBody::Ir(reqs) = &mut m.body else {
            panic!()
        };
        reqs[0].cert_req.cert_template.public_key =
            Some(cmp_core::crypto::SigningKey::public_key(&other));
    });
    let reply = expect_error(&responder, &bad_pop, now(), FailureBit::BadPop);
    assert_eq!(reply.error, Some(Error::BadPop));

    let mut req = ir_request();
    req.pop = PopMethod::None(key("issued.key").public_key());
    expect_error(
        &responder,
        &first_request(mac_client(), req, now()),
        now(),
        FailureBit::BadPop,
    );

    // raVerified: not from a MAC client...
    let mut req = ir_request();
    req.pop = PopMethod::RaVerified(key("issued.key").public_key());
    expect_error(
        &responder,
        &first_request(mac_client(), req.clone(), now()),
        now(),
        FailureBit::NotAuthorized,
    );
    // ...nor from an end entity's certificate...
    expect_error(
        &responder,
        &first_request(sig_client(), req.clone(), now()),
        now(),
        FailureBit::NotAuthorized,
    );
    // ...but from a certificate with id-kp-cmcRA (server.crt has it)
    let mut ra = sig_client();
    ra.protector = Protector::Signature {
        key: key("server.key"),
        cert: cert("server.crt"),
        chain: vec![cert("ca.crt")],
    };
    let bytes = first_request(ra, req, now());
    match responder.handle_request(&bytes, now()) {
        Handled::Decide(p) => {
            assert!(matches!(
                p.cert_request().unwrap().popo,
                Some(ProofOfPossession::RaVerified(_))
            ))
        }
        other => panic!("{other:?}"),
    }

    // a CSR whose self-signature is broken
    let mut csr = CertReq::from_der(&pki_bytes("csr.der")).unwrap();
    let mut sig = csr.signature.raw_bytes().to_vec();
    let last = sig.len() - 1;
    sig[last] ^= 1;
    csr.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
    let p10 = ClientTransaction::start_p10cr(mac_client(), csr, now())
        .unwrap()
        .poll_transmit()
        .unwrap();
    expect_error(&responder, &p10, now(), FailureBit::BadPop);

    // certReqId must be 0
    let mut req = ir_request();
    req.cert_req_id = 7;
    expect_error(
        &responder,
        &first_request(mac_client(), req, now()),
        now(),
        FailureBit::BadRequest,
    );
}

#[test]
fn cert_conf_checks() {
    let responder = Responder::new(responder_config());
    // certConf for a transaction nobody opened
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let ir = tx.poll_transmit().unwrap();
    let ip = match responder.handle_request(&ir, now()) {
        Handled::Decide(p) => issue_fixed(p, now()),
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        tx.handle_response(&ip.bytes, now()).unwrap(),
        ClientEvent::CertificateIssued(_)
    ));
    tx.confirm(Confirmation::Accept, now()).unwrap();
    let cert_conf = tx.poll_transmit().unwrap();

    let unknown = reprotect(&cert_conf, &mac(), |m| {
        m.header.transaction_id = Some(der::asn1::OctetString::new(vec![9u8; 16]).unwrap())
    });
    expect_error(&responder, &unknown, now(), FailureBit::BadRequest);

    let wrong_nonce = reprotect(&cert_conf, &mac(), |m| {
        m.header.recip_nonce = Some(der::asn1::OctetString::new(vec![1u8; 16]).unwrap())
    });
    expect_error(
        &responder,
        &wrong_nonce,
        now(),
        FailureBit::BadRecipientNonce,
    );

    let wrong_hash = reprotect(&cert_conf, &mac(), |m| {
        let PkiBody::CertConf(s) = &mut m.body else {
            panic!()
        };
        s[0].cert_hash = der::asn1::OctetString::new(vec![0u8; 32]).unwrap();
    });
    expect_error(&responder, &wrong_hash, now(), FailureBit::BadCertId);

    let wrong_id = reprotect(&cert_conf, &mac(), |m| {
        let PkiBody::CertConf(s) = &mut m.body else {
            panic!()
        };
        s[0].cert_req_id = 5;
    });
    expect_error(&responder, &wrong_id, now(), FailureBit::BadCertId);

    // the genuine one is confirmed once; a replay is certConfirmed
    match responder.handle_request(&cert_conf, now()) {
        Handled::Reply(r) => assert_eq!(r.body, BodyType::PkiConf, "{:?}", r.error),
        other => panic!("{other:?}"),
    }
    expect_error(&responder, &cert_conf, now(), FailureBit::CertConfirmed);
}

#[test]
fn poll_req_without_pending_request() {
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let ir = tx.poll_transmit().unwrap();
    let Handled::Decide(p) = responder.handle_request(&ir, now()) else {
        panic!()
    };
    let ip = issue_fixed(p, now());
    tx.handle_response(&ip.bytes, now()).unwrap();
    // a pollReq after the certificate was issued
    let poll = reprotect(&ir, &mac(), |m| {
        m.header.recip_nonce = Some(
            ParsedMessage::decode(&ip.bytes, &Limits::DEFAULT)
                .unwrap()
                .message()
                .header
                .sender_nonce
                .clone()
                .unwrap(),
        );
        m.body = PkiBody::PollReq(vec![cmp_core::asn1::PollReq { cert_req_id: 0 }]);
    });
    expect_error(&responder, &poll, now(), FailureBit::BadRequest);
}

#[test]
fn iteration_count_cap_on_requests() {
    let responder = Responder::new(responder_config());
    let mut c = mac_client();
    c.protector = Protector::Mac {
        reference: REF.to_vec(),
        secret: SECRET.to_vec(),
        scheme: cmp_core::protection::MacScheme::Pbm {
            owf: cmp_core::crypto::DigestAlgorithm::Sha256,
            mac: cmp_core::crypto::HmacAlgorithm(cmp_core::crypto::DigestAlgorithm::Sha256),
            iterations: 1_000_000,
            salt_len: 16,
        },
    };
    let reply = expect_error(
        &responder,
        &first_request(c, ir_request(), now()),
        now(),
        FailureBit::BadAlg,
    );
    assert_eq!(
        reply.error,
        Some(Error::IterationCountTooHigh {
            count: 1_000_000,
            max: 100_000
        })
    );
}

// ----- the client side -----

/// An ir transaction and the responder's genuine ip for it.
fn ir_and_ip(config: cmp_core::client::ClientConfig) -> (ClientTransaction, Vec<u8>) {
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(config, ir_request(), now()).unwrap();
    let ir = tx.poll_transmit().unwrap();
    let Handled::Decide(p) = responder.handle_request(&ir, now()) else {
        panic!()
    };
    (tx, issue_fixed(p, now()).bytes)
}

fn client_error(
    config: cmp_core::client::ClientConfig,
    tamper: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Error {
    let (mut tx, ip) = ir_and_ip(config);
    let err = tx.handle_response(&tamper(&ip), now()).unwrap_err();
    assert!(tx.is_finished(), "an error must end the transaction");
    err
}

#[test]
fn client_rejects_wrong_transaction_nonce_time_and_version() {
    let t = |f: fn(&mut PkiMessage)| move |ip: &[u8]| reprotect(ip, &mac(), f);
    assert_eq!(
        client_error(
            mac_client(),
            t(|m| m.header.transaction_id =
                Some(der::asn1::OctetString::new(vec![7; 16]).unwrap()))
        ),
        Error::TransactionIdMismatch
    );
    assert_eq!(
        client_error(
            mac_client(),
            t(|m| m.header.recip_nonce = Some(der::asn1::OctetString::new(vec![7; 16]).unwrap()))
        ),
        Error::BadRecipientNonce
    );
    assert_eq!(
        client_error(mac_client(), t(|m| m.header.recip_nonce = None)),
        Error::BadRecipientNonce
    );
    assert_eq!(
        client_error(mac_client(), t(|m| m.header.sender_nonce = None)),
        Error::BadSenderNonce
    );
    assert_eq!(
        client_error(mac_client(), t(|m| m.header.pvno = 1)),
        Error::UnsupportedVersion(1)
    );
    assert_eq!(
        client_error(
            mac_client(),
            t(|m| {
                m.header.message_time = Some(
                    Timestamp::from_unix_secs(1_000_000_000)
                        .to_generalized_time()
                        .unwrap(),
                )
            })
        ),
        Error::BadTime
    );
    let mut expect_sender = mac_client();
    expect_sender.expected_sender = Some(x509_cert::ext::pkix::name::GeneralName::DirectoryName(
        device(),
    ));
    assert_eq!(
        client_error(expect_sender, |ip| ip.to_vec()),
        Error::WrongSender
    );
}

#[test]
fn client_rejects_bad_protection() {
    // another secret
    assert_eq!(
        client_error(mac_client(), |ip| reprotect(
            ip,
            &Protector::mac(REF, b"other"),
            |_| {}
        )),
        Error::BadMessageCheck
    );
    // a flipped protection bit
    assert_eq!(
        client_error(mac_client(), |ip| {
            let mut m = PkiMessage::from_der(ip).unwrap();
            let mut p = m.protection.unwrap().raw_bytes().to_vec();
            p[0] ^= 1;
            m.protection = Some(der::asn1::BitString::from_bytes(&p).unwrap());
            m.to_der().unwrap()
        }),
        Error::BadMessageCheck
    );
    // unprotected
    assert_eq!(
        client_error(mac_client(), |ip| reprotect(ip, &Protector::None, |_| {})),
        Error::MissingProtection
    );
    // signed although we use a MAC and trust no signer
    let signed = Protector::Signature {
        key: key("server.key"),
        cert: cert("server.crt"),
        chain: vec![cert("ca.crt")],
    };
    assert_eq!(
        client_error(mac_client(), |ip| reprotect(ip, &signed, |_| {})),
        Error::WrongIntegrity
    );
}

#[test]
fn client_checks_the_signer() {
    // the server's genuine signature, but its chain leads to an anchor we do not trust
    let mut c = sig_client();
    c.server_trust = Some(TrustStore::new(vec![cert("issued.crt")]));
    assert!(matches!(
        client_error(c, |ip| ip.to_vec()),
        Error::SignerNotTrusted(_)
    ));
    // a response signed by a key that is not the one of the certificate sent
    let forged = Protector::Signature {
        key: key("new.key"),
        cert: cert("server.crt"),
        chain: vec![cert("ca.crt")],
    };
    assert_eq!(
        client_error(sig_client(), |ip| reprotect(ip, &forged, |_| {})),
        Error::BadMessageCheck
    );
    // expired: the same response judged ten years later (time window off)
    let (mut tx, ip) = ir_and_ip({
        let mut c = sig_client();
        c.max_time_skew = None;
        c
    });
    let later = Timestamp::from_unix_secs(now().unix_secs() + 10 * 365 * 86_400);
    assert_eq!(
        tx.handle_response(&ip, later),
        Err(Error::SignerNotTrusted(cmp_core::trust::EXPIRED))
    );
}

#[test]
fn client_reports_unprotected_errors_without_trusting_them() {
    let (mut tx, ip) = ir_and_ip(mac_client());
    let error = reprotect(&ip, &Protector::None, |m| {
        m.body = PkiBody::Error(cmp_core::asn1::ErrorMsgContent {
            pki_status_info: cmp_core::asn1::PkiStatusInfo::rejection(
                FailureBit::SystemUnavail,
                "down",
            ),
            error_code: None,
            error_details: None,
        })
    });
    match tx.handle_response(&error, now()) {
        Err(Error::UnauthenticatedError(f)) => {
            assert_eq!(f.status.failure_bits(), [FailureBit::SystemUnavail])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn client_misuse_and_deadlines() {
    let (mut tx, ip) = ir_and_ip(mac_client());
    assert_eq!(
        tx.confirm(Confirmation::Accept, now()),
        Err(Error::Usage("no certificate awaits confirmation"))
    );
    let _ = tx.handle_response(&ip, now()).unwrap();
    assert!(matches!(
        tx.handle_response(&ip, now()),
        Err(Error::Usage(_))
    ));

    let mut c = mac_client();
    c.total_timeout = Some(30);
    let mut tx = ClientTransaction::start_ir(c, ir_request(), now()).unwrap();
    assert_eq!(
        tx.poll_timeout(),
        Some(Timestamp::from_unix_secs(now().unix_secs() + 30))
    );
    tx.handle_timeout(Timestamp::from_unix_secs(now().unix_secs() + 10))
        .unwrap();
    assert_eq!(
        tx.handle_timeout(Timestamp::from_unix_secs(now().unix_secs() + 31)),
        Err(Error::Timeout)
    );
    assert!(tx.is_finished());
}

#[test]
fn client_rejects_a_certificate_for_another_subject() {
    let responder = Responder::new(responder_config());
    let mut req = EnrollRequest::new(
        EnrollKind::Ir,
        Some("CN=Someone Else".parse().unwrap()),
        key("issued.key"),
    );
    req.cert_req_id = 0;
    let mut tx = ClientTransaction::start_ir(mac_client(), req, now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), issue_fixed);
    assert!(
        matches!(result, Err(Error::BadCertTemplate(_))),
        "{result:?}"
    );
    assert_eq!(
        run.replies.len(),
        2,
        "certConf with rejection, then pkiConf"
    );
}

#[test]
fn confirm_wait_time_is_honoured() {
    let mut cfg = responder_config();
    cfg.confirm_wait_time = Some(60);
    let responder = Responder::new(cfg);
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let ir = tx.poll_transmit().unwrap();
    let Handled::Decide(p) = responder.handle_request(&ir, now()) else {
        panic!()
    };
    let ip = issue_fixed(p, now());
    assert!(matches!(
        tx.handle_response(&ip.bytes, now()).unwrap(),
        ClientEvent::CertificateIssued(_)
    ));
    // the server waits until now + 60 s: that is when the client must have decided
    assert_eq!(
        tx.poll_timeout(),
        Some(Timestamp::from_unix_secs(now().unix_secs() + 60))
    );
    let late = Timestamp::from_unix_secs(now().unix_secs() + 61);
    assert_eq!(tx.confirm(Confirmation::Accept, late), Err(Error::Timeout));
    assert!(tx.is_finished());
}
