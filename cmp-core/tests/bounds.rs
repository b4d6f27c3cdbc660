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
