//! A decision that fails without a reply (the application's `decide` could
//! not build one, e.g. because the transaction record's compare-and-swap
//! lost to another front end) is answered with a protected error message,
//! never with nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use cmp_core::asn1::{BodyType, FailureBit};
use cmp_core::client::ClientTransaction;
use cmp_core::server::{PendingRequest, Reply, Responder};
use cmp_core::{Error, Timestamp};

use common::{ir_request, mac_client, now, responder_config};

#[test]
fn a_decision_without_reply_becomes_a_protected_error_message() {
    let responder = Responder::new(responder_config());
    let mut tx =
        ClientTransaction::start_enroll(Arc::new(mac_client()), &ir_request(), now()).unwrap();
    let request = tx.poll_transmit().unwrap();
    let mut decide = |p: PendingRequest, _: Timestamp| Reply {
        bytes: Vec::new(),
        body: BodyType::Error,
        transaction_id: p.transaction_id().to_vec(),
        error: Some(Error::TransactionIdInUse),
        event: None,
        inner: Vec::new(),
    };
    let reply = responder.handle_request_with(&request, now(), &mut decide);
    assert_eq!(reply.body, BodyType::Error);
    assert!(!reply.bytes.is_empty());
    assert!(matches!(reply.error, Some(Error::TransactionIdInUse)));
    // The client accepts its protection (the MAC of this transaction) and
    // reads the failure.
    match tx.handle_response(&reply.bytes, now()) {
        Err(Error::Peer(f)) => {
            assert_eq!(f.body, BodyType::Error);
            assert_eq!(f.status.failure_bits(), [FailureBit::TransactionIdInUse]);
        }
        other => panic!("expected the server's error, got {other:?}"),
    }
}
