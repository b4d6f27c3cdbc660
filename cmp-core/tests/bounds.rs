//! Resource bounds under hostile load: a flood of unfinished transactions
//! keeps the responder's memory bounded, refuses new work cleanly while
//! full, and recovers once the transactions expire.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::Arc;

use cmp_core::Timestamp;
use cmp_core::asn1::{BodyType, FailureBit, PkiBody};
use cmp_core::client::ClientTransaction;
use cmp_core::message::ParsedMessage;
use cmp_core::server::{Handled, MemoryStore, Responder, TransactionStore};
use common::*;

#[test]
fn a_flood_of_unfinished_transactions_is_bounded_and_recovers() {
    let store = Arc::new(MemoryStore::new(20));
    let mut config = responder_config();
    config.store = store.clone();
    config.transaction_lifetime = 60;
    let responder = Responder::new(config);

    // 20 clients send an ir and never come back: the store is full
    let mut pending = Vec::new();
    for _ in 0..20 {
        let ir = ClientTransaction::start_ir(mac_client(), ir_request(), now())
            .unwrap()
            .poll_transmit()
            .unwrap();
        match responder.handle_request(&ir, now()) {
            Handled::Decide(p) => pending.push(p),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(store.len().unwrap(), 20);

    // the 21st is refused with systemUnavail, and nothing grows
    let ir = ClientTransaction::start_ir(mac_client(), ir_request(), now())
        .unwrap()
        .poll_transmit()
        .unwrap();
    match responder.handle_request(&ir, now()) {
        Handled::Reply(r) => {
            assert_eq!(r.body, BodyType::Error);
            assert!(
                matches!(r.error, Some(cmp_core::Error::Store(_))),
                "{:?}",
                r.error
            );
            let msg = ParsedMessage::decode(&r.bytes, &cmp_core::Limits::DEFAULT).unwrap();
            let PkiBody::Error(e) = msg.body() else {
                panic!()
            };
            assert_eq!(
                e.pki_status_info.failure_bits(),
                [FailureBit::SystemUnavail]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.len().unwrap(), 20);

    // after the lifetime the same request is accepted: expired records make room
    let later = Timestamp::from_unix_secs(now().unix_secs() + 61);
    let ir = ClientTransaction::start_ir(mac_client(), ir_request(), later)
        .unwrap()
        .poll_transmit()
        .unwrap();
    assert!(matches!(
        responder.handle_request(&ir, later),
        Handled::Decide(_)
    ));
    assert!(store.len().unwrap() <= 20);
    // and a sweep drops every expired record
    assert_eq!(responder.sweep(later).unwrap(), store.len().unwrap() - 1);
    assert_eq!(store.len().unwrap(), 1);
    assert_eq!(pending.len(), 20);
}

/// `msg` with `certs` put in front of its extraCerts (extraCerts are not
/// covered by the protection, so the message still verifies).
fn with_extra_certs(msg: &[u8], certs: Vec<x509_cert::Certificate>) -> Vec<u8> {
    use der::{Decode, Encode};
    let mut m = cmp_core::asn1::PkiMessage::from_der(msg).unwrap();
    let mut all = certs;
    all.extend(m.extra_certs.take().unwrap_or_default());
    m.extra_certs = Some(all);
    m.to_der().unwrap()
}

#[test]
fn thousands_of_certificates_are_refused_before_any_work() {
    let started = std::time::Instant::now();
    let many = vec![cert("ca.crt"); 1000];
    // a signed request with 1000 extraCerts (under the size cap)
    let responder = Responder::new(responder_config());
    let ir = ClientTransaction::start_ir(sig_client(), ir_request(), now())
        .unwrap()
        .poll_transmit()
        .unwrap();
    let flooded = with_extra_certs(&ir, many.clone());
    assert!(flooded.len() < cmp_core::Limits::DEFAULT.max_message_size);
    match responder.handle_request(&flooded, now()) {
        Handled::Reply(r) => {
            assert_eq!(
                r.error,
                Some(cmp_core::Error::BadRequest("too many certificates"))
            );
            let msg = ParsedMessage::decode(&r.bytes, &cmp_core::Limits::DEFAULT).unwrap();
            let PkiBody::Error(e) = msg.body() else {
                panic!()
            };
            assert_eq!(e.pki_status_info.failure_bits(), [FailureBit::BadRequest]);
        }
        other => panic!("{other:?}"),
    }
    // 4000 of them exceed the size cap first
    assert!(matches!(
        responder.handle_request(&with_extra_certs(&ir, vec![cert("ca.crt"); 4000]), now()),
        Handled::Reply(cmp_core::server::Reply {
            error: Some(cmp_core::Error::MessageTooLarge { .. }),
            ..
        })
    ));

    // the client: an ip with 1000 extraCerts, and one with 1000 caPubs
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let Handled::Decide(p) = responder.handle_request(&tx.poll_transmit().unwrap(), now()) else {
        panic!()
    };
    let ip = p.issue(cert("issued.crt"), None, now()).unwrap().bytes;
    assert_eq!(
        tx.handle_response(&with_extra_certs(&ip, many.clone()), now()),
        Err(cmp_core::Error::BadRequest("too many certificates"))
    );
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let Handled::Decide(p) = responder.handle_request(&tx.poll_transmit().unwrap(), now()) else {
        panic!()
    };
    let ip = p
        .issue(cert("issued.crt"), Some(many), now())
        .unwrap()
        .bytes;
    assert_eq!(
        tx.handle_response(&ip, now()),
        Err(cmp_core::Error::BadRequest("too many certificates"))
    );
    assert!(started.elapsed().as_secs() < 30);
}

#[test]
fn a_full_set_of_decoy_certificates_keeps_chain_building_bounded() {
    use cmp_core::crypto::SigningKey;
    use cmp_crypto_rustcrypto::{IssueRequest, KeyAlgorithm, ReferenceCa};
    // 60 certificates carrying the name of the signer's issuing CA, from
    // another hierarchy: every one is a candidate issuer by name.
    let (mut other, _) =
        ReferenceCa::generate_hierarchy("Decoy", now(), KeyAlgorithm::EcP256).unwrap();
    let ca_name = cert("ca.crt").tbs_certificate().subject().clone();
    let key = cmp_crypto_rustcrypto::PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let decoys: Vec<_> = (0..60)
        .map(|_| {
            other
                .issue(&IssueRequest::new(ca_name.clone(), key.public_key()), now())
                .unwrap()
        })
        .collect();
    let responder = Responder::new(responder_config());
    let ir = ClientTransaction::start_ir(sig_client(), ir_request(), now())
        .unwrap()
        .poll_transmit()
        .unwrap();
    // decoys first, the genuine chain after them: found, in bounded time
    let started = std::time::Instant::now();
    assert!(matches!(
        responder.handle_request(&with_extra_certs(&ir, decoys.clone()), now()),
        Handled::Decide(_)
    ));
    // decoys only (the genuine CA certificate removed): refused
    let mut m = <cmp_core::asn1::PkiMessage as der::Decode>::from_der(&ir).unwrap();
    m.extra_certs = Some(vec![cert("ee.crt")]);
    let signer_only = der::Encode::to_der(&m).unwrap();
    let responder = Responder::new(responder_config());
    match responder.handle_request(&with_extra_certs(&signer_only, decoys), now()) {
        Handled::Reply(r) => assert!(
            matches!(r.error, Some(cmp_core::Error::SignerNotTrusted(_))),
            "{:?}",
            r.error
        ),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}
