//! The iteration count of the responder's MAC protection is configurable
//! (`ResponderConfig::reply_mac_iterations`), and the client verifies replies
//! protected with it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use cmp_core::asn1::{BodyType, PbmParameter, PkiMessage};
use cmp_core::client::ClientTransaction;
use cmp_core::server::Responder;
use common::*;
use der::{Decode, Encode};

/// The iterationCount in the PBMParameter of a reply.
fn pbm_iterations(reply: &[u8]) -> u64 {
    let msg = PkiMessage::from_der(reply).unwrap();
    let alg = msg.header.protection_alg.unwrap();
    let params = alg.parameters.unwrap();
    PbmParameter::from_der(&params.to_der().unwrap())
        .unwrap()
        .iteration_count
}

fn transaction(iterations: Option<u32>) -> Vec<u64> {
    let mut config = responder_config();
    config.signer = None;
    config.reply_mac_iterations = iterations;
    let responder = Responder::new(config);
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), issue_fixed);
    result.unwrap();
    let bodies: Vec<BodyType> = run.replies.iter().map(|r| r.body).collect();
    assert_eq!(bodies, [BodyType::Ip, BodyType::PkiConf]);
    run.replies
        .iter()
        .map(|r| pbm_iterations(&r.bytes))
        .collect()
}

#[test]
fn replies_use_the_configured_pbm_iteration_count() {
    assert_eq!(transaction(Some(500)), [500, 500]);
}

#[test]
fn replies_default_to_ten_thousand_iterations() {
    assert_eq!(transaction(None), [10_000, 10_000]);
}
