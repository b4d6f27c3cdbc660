//! Replay and confusion: old messages, messages of other transactions and
//! forged errors are refused with the precise error, on both sides. (The
//! other cases of SECURITY.md's list are in negative.rs and matrix.rs.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use cmp_core::asn1::{BodyType, ErrorMsgContent, FailureBit, PkiBody, PkiMessage, PkiStatusInfo};
use cmp_core::client::{ClientEvent, ClientTransaction, Confirmation};
use cmp_core::message::{ParsedMessage, encode};
use cmp_core::protection::Protector;
use cmp_core::server::{Handled, Responder};
use cmp_core::{Error, Limits, Timestamp};
use common::*;
use der::Decode;

fn failure_bits(bytes: &[u8]) -> Vec<FailureBit> {
    let msg = ParsedMessage::decode(bytes, &Limits::DEFAULT).unwrap();
    let PkiBody::Error(e) = msg.body() else {
        panic!("not an error: {:?}", msg.body_type())
    };
    e.pki_status_info.failure_bits()
}

fn later(secs: u64) -> Timestamp {
    Timestamp::from_unix_secs(now().unix_secs() + secs)
}

#[test]
fn replayed_request_is_refused_while_open_after_completion_and_after_expiry() {
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), issue_fixed);
    result.unwrap();
    let ir = run.requests[0].clone();
    assert_eq!(run.replies.last().unwrap().body, BodyType::PkiConf);

    // the finished transaction is remembered: the replay is transactionIdInUse
    let Handled::Reply(r) = responder.handle_request(&ir, later(60)) else {
        panic!()
    };
    assert_eq!(r.error, Some(Error::TransactionIdInUse));
    assert_eq!(failure_bits(&r.bytes), [FailureBit::TransactionIdInUse]);

    // a replayed certConf of the finished transaction is certConfirmed
    let cert_conf = &run.requests[1];
    let Handled::Reply(r) = responder.handle_request(cert_conf, later(60)) else {
        panic!()
    };
    assert_eq!(r.error, Some(Error::CertConfirmed));

    // once the record has expired (transaction_lifetime, 600 s), messageTime
    // is outside the window (max_time_skew, 600 s): still refused
    let gone = later(601);
    assert_eq!(responder.sweep(gone).unwrap(), 1);
    let Handled::Reply(r) = responder.handle_request(&ir, gone) else {
        panic!("a replay after expiry was accepted")
    };
    assert_eq!(r.error, Some(Error::BadTime));
    assert_eq!(failure_bits(&r.bytes), [FailureBit::BadTime]);
}

#[test]
fn response_of_another_genuine_transaction_is_refused() {
    // Two transactions of the same client with the same server, both
    // genuine: the answer to one is no answer to the other.
    let responder = Responder::new(responder_config());
    let mut first = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let mut second = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let Handled::Decide(p) = responder.handle_request(&first.poll_transmit().unwrap(), now())
    else {
        panic!()
    };
    let Handled::Decide(q) = responder.handle_request(&second.poll_transmit().unwrap(), now())
    else {
        panic!()
    };
    let ip_first = issue_fixed(p, now());
    let ip_second = issue_fixed(q, now());
    assert_eq!(
        first.handle_response(&ip_second.bytes, now()),
        Err(Error::TransactionIdMismatch)
    );
    assert!(first.is_finished());
    // the second one is not disturbed by it
    assert!(matches!(
        second.handle_response(&ip_second.bytes, now()).unwrap(),
        ClientEvent::CertificateIssued(_)
    ));
    drop(ip_first);
}

#[test]
fn replayed_earlier_response_of_the_same_transaction_is_refused() {
    // The ip is replayed when the client waits for pkiConf: same
    // transactionID, but its recipNonce answers the ir, not the certConf.
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let Handled::Decide(p) = responder.handle_request(&tx.poll_transmit().unwrap(), now()) else {
        panic!()
    };
    let ip = issue_fixed(p, now());
    tx.handle_response(&ip.bytes, now()).unwrap();
    tx.confirm(Confirmation::Accept, now()).unwrap();
    assert_eq!(
        tx.handle_response(&ip.bytes, now()),
        Err(Error::BadRecipientNonce)
    );
    assert!(tx.is_finished());
}

/// The genuine ip of a fresh ir, and its transaction.
fn ir_and_ip() -> (ClientTransaction, Vec<u8>) {
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let Handled::Decide(p) = responder.handle_request(&tx.poll_transmit().unwrap(), now()) else {
        panic!()
    };
    (tx, issue_fixed(p, now()).bytes)
}

/// The ip turned into an error message (systemUnavail), protected with `protector`.
fn forged_error(ip: &[u8], protector: &Protector) -> Vec<u8> {
    let m = PkiMessage::from_der(ip).unwrap();
    let body = PkiBody::Error(ErrorMsgContent {
        pki_status_info: PkiStatusInfo::rejection(FailureBit::SystemUnavail, "go away"),
        error_code: None,
        error_details: None,
    });
    encode(
        &protector
            .protect(m.header, body, Vec::new(), provider().as_ref())
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn forged_errors_are_never_authenticated() {
    // unprotected, MAC with another secret, and signed by a certificate the
    // MAC client does not accept: reported as UnauthenticatedError, never
    // as an authenticated rejection (Error::Peer)
    for protector in [
        Protector::None,
        Protector::mac(REF, b"not the secret"),
        Protector::Signature {
            key: key("server.key"),
            cert: cert("server.crt"),
            chain: vec![cert("ca.crt")],
        },
    ] {
        let (mut tx, ip) = ir_and_ip();
        match tx.handle_response(&forged_error(&ip, &protector), now()) {
            Err(Error::UnauthenticatedError(f)) => {
                assert_eq!(f.status.failure_bits(), [FailureBit::SystemUnavail])
            }
            other => panic!("{protector:?}: {other:?}"),
        }
        assert!(tx.is_finished());
    }
    // the same error with the real secret is an authenticated rejection
    let (mut tx, ip) = ir_and_ip();
    assert!(matches!(
        tx.handle_response(&forged_error(&ip, &Protector::mac(REF, SECRET)), now()),
        Err(Error::Peer(_))
    ));
}

#[test]
fn downgraded_pvno_is_refused_both_ways() {
    // a request claiming pvno 1 (RFC 2510) and a response claiming it
    let responder = Responder::new(responder_config());
    let mut c = mac_client();
    c.pvno = 1;
    let ir = ClientTransaction::start_ir(c, ir_request(), now())
        .unwrap()
        .poll_transmit()
        .unwrap();
    let Handled::Reply(r) = responder.handle_request(&ir, now()) else {
        panic!()
    };
    assert_eq!(r.error, Some(Error::UnsupportedVersion(1)));
    let (mut tx, ip) = ir_and_ip();
    let mut m = PkiMessage::from_der(&ip).unwrap();
    m.header.pvno = 1;
    let downgraded = encode(
        &Protector::mac(REF, SECRET)
            .protect(m.header, m.body, Vec::new(), provider().as_ref())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        tx.handle_response(&downgraded, now()),
        Err(Error::UnsupportedVersion(1))
    );
}

#[test]
fn transaction_ids_spelling_a_side_entry_of_the_store_are_refused() {
    // The store keeps a transaction's KEM secret and POP challenge under its
    // transactionID prefixed with a tag; a request whose own transactionID
    // spells such a key must not reach those entries.
    let responder = Responder::new(responder_config());
    for prefix in [&b"kem-ss\0"[..], &b"popdecc\0"[..]] {
        let ir = ClientTransaction::start_ir(mac_client(), ir_request(), now())
            .unwrap()
            .poll_transmit()
            .unwrap();
        let mut m = PkiMessage::from_der(&ir).unwrap();
        let mut tid = prefix.to_vec();
        tid.extend_from_slice(&[7; 9]);
        m.header.transaction_id = Some(der::asn1::OctetString::new(tid).unwrap());
        let forged = encode(
            &Protector::mac(REF, SECRET)
                .protect(m.header, m.body, Vec::new(), provider().as_ref())
                .unwrap(),
        )
        .unwrap();
        let Handled::Reply(r) = responder.handle_request(&forged, now()) else {
            panic!("the request reached the policy")
        };
        assert!(
            matches!(r.error, Some(Error::BadRequest(_))),
            "{:?}",
            r.error
        );
        assert_eq!(failure_bits(&r.bytes), vec![FailureBit::BadRequest]);
    }
}
