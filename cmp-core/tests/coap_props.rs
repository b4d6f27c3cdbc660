//! Property tests of the CoAP block-wise framing (RFC 9482 / RFC 7959):
//! any body split at any block size reassembles to itself, option values
//! round-trip, a real PKIMessage survives the trip, and reordered or
//! dropped blocks are refused.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use cmp_core::Limits;
use cmp_core::message::ParsedMessage;
use cmp_core::transport::coap::{
    Block, BlockSize, CoapError, MAX_BLOCK_NUMBER, Progress, Reassembler, split,
};
use proptest::prelude::*;

fn reassemble(blocks: &[(Block, &[u8])], max: usize) -> Result<Vec<u8>, CoapError> {
    let mut r = Reassembler::new(max);
    for (i, (block, data)) in blocks.iter().enumerate() {
        // Blocks travel as option values: encode and decode them on the way.
        let wire = Block::decode(&block.encode()?)?;
        match r.push(wire, data)? {
            // the block the receiver asks for next is the following one
            Progress::NeedMore { next } => assert_eq!(next.offset(), block.offset() + data.len()),
            Progress::Complete(body) => {
                assert_eq!(i + 1, blocks.len());
                return Ok(body);
            }
        }
    }
    panic!("no last block")
}

proptest! {
    #[test]
    fn split_then_reassemble_is_identity(
        body in proptest::collection::vec(any::<u8>(), 0..5000),
        szx in 0u8..=6,
    ) {
        let size = BlockSize::from_szx(szx).unwrap();
        let blocks = split(&body, size).unwrap();
        prop_assert_eq!(blocks.len(), body.len().div_ceil(size.bytes()).max(1));
        prop_assert!(blocks.iter().all(|(b, d)| d.len() <= size.bytes() && b.size == size));
        prop_assert_eq!(reassemble(&blocks, body.len()).unwrap(), body);
    }

    #[test]
    fn block_options_round_trip(num in 0u32..=MAX_BLOCK_NUMBER, more: bool, szx in 0u8..=6) {
        let b = Block { num, more, size: BlockSize::from_szx(szx).unwrap() };
        let v = b.encode().unwrap();
        prop_assert!(v.len() <= 3);
        prop_assert_eq!(Block::decode(&v).unwrap(), b);
    }

    #[test]
    fn arbitrary_option_bytes_never_panic(v in proptest::collection::vec(any::<u8>(), 0..6)) {
        let _ = Block::decode(&v);
    }

    #[test]
    fn a_swapped_or_dropped_block_is_refused(
        body in proptest::collection::vec(any::<u8>(), 48..2000),
        szx in 0u8..=3,
        pick in any::<prop::sample::Index>(),
    ) {
        let size = BlockSize::from_szx(szx).unwrap();
        let mut blocks = split(&body, size).unwrap();
        prop_assume!(blocks.len() >= 3);
        let i = pick.index(blocks.len() - 1);
        let mut dropped = blocks.clone();
        dropped.remove(i);
        let dropped_result = reassemble(&dropped, body.len());
        let is_out_of_order = matches!(dropped_result, Err(CoapError::OutOfOrder { .. }));
        prop_assert!(is_out_of_order);
        blocks.swap(i, i + 1);
        let swapped_result = reassemble(&blocks, body.len());
        let is_out_of_order = matches!(swapped_result, Err(CoapError::OutOfOrder { .. }));
        prop_assert!(is_out_of_order);
    }

    #[test]
    fn the_cap_is_enforced(
        body in proptest::collection::vec(any::<u8>(), 1..3000),
        szx in 0u8..=6,
        short in 1usize..100,
    ) {
        let size = BlockSize::from_szx(szx).unwrap();
        let blocks = split(&body, size).unwrap();
        let max = body.len().saturating_sub(short);
        prop_assert_eq!(reassemble(&blocks, max), Err(CoapError::TooLarge { max }));
    }
}

#[test]
fn a_pki_message_crosses_a_small_mtu() {
    // an ip from OpenSSL's mock server, with certificates: a few kilobytes
    let msg = std::fs::read(format!(
        "{}/../tests/vectors/ir-implicit.1.rsp.der",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    ParsedMessage::decode(&msg, &Limits::DEFAULT).unwrap();
    // IEEE 802.15.4 frames with 60 bytes of headers: 64-byte blocks
    let size = BlockSize::for_mtu(127, 60).unwrap();
    assert_eq!(size.bytes(), 64);
    let blocks = split(&msg, size).unwrap();
    assert_eq!(blocks.len(), msg.len().div_ceil(64));
    let body = reassemble(&blocks, Limits::DEFAULT.max_message_size).unwrap();
    assert_eq!(body, msg);
    ParsedMessage::decode(&body, &Limits::DEFAULT).unwrap();
}

/// Carry `body` from one side to the other as blocks of `size`, through
/// the option encoding, and return what the receiver reassembled.
fn carry(body: &[u8], size: BlockSize) -> Vec<u8> {
    let mut receiver = Reassembler::new(Limits::DEFAULT.max_message_size);
    for (block, payload) in split(body, size).unwrap() {
        let wire = Block::decode(&block.encode().unwrap()).unwrap();
        if let Progress::Complete(whole) = receiver.push(wire, payload).unwrap() {
            return whole;
        }
    }
    panic!("the last block did not complete the body")
}

#[test]
fn an_enrollment_over_coap_blocks() {
    use std::sync::Arc;

    use cmp_core::Timestamp;
    use cmp_core::client::{
        ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
    };
    use cmp_core::protection::Protector;
    use cmp_core::server::{MemoryStore, Responder, ResponderConfig, StaticSecrets};
    use cmp_crypto_rustcrypto::{
        IssueRequest, KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider,
    };

    let now = Timestamp::from_unix_secs(1_760_000_000);
    let provider = Arc::new(RustCryptoProvider);
    let (mut ca, _root) =
        ReferenceCa::generate_hierarchy("CoAP", now, KeyAlgorithm::EcP256).unwrap();
    let mut rc = ResponderConfig::new(provider.clone(), Arc::new(MemoryStore::default()));
    rc.secrets = Some(Arc::new(StaticSecrets::default().with(b"ref", b"secret")));
    rc.extra_certs = ca.chain().to_vec();
    let responder = Responder::new(rc);

    let key = Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap());
    let request = EnrollRequest::new(EnrollKind::Ir, Some("CN=coap device".parse().unwrap()), key);
    let client = ClientConfig::new(provider, Protector::mac(b"ref", b"secret"));
    let mut tx = ClientTransaction::start_ir(client, request, now).unwrap();

    // the constrained side uses 64-byte blocks, the server answers in 256
    let up = BlockSize::for_mtu(127, 60).unwrap();
    let down = BlockSize::from_szx(4).unwrap();
    let mut exchanges = 0;
    while let Some(bytes) = tx.poll_transmit() {
        exchanges += 1;
        let at_server = carry(&bytes, up);
        assert_eq!(at_server, bytes);
        let reply = responder.handle_request_with(&at_server, now, &mut |p, now| {
            let req = IssueRequest::new(
                p.subject().cloned().unwrap(),
                p.public_key().cloned().unwrap(),
            );
            let cert = ca.issue(&req, now).unwrap();
            p.issue(cert, None, now).unwrap()
        });
        let at_client = carry(&reply.bytes, down);
        match tx.handle_response(&at_client, now).unwrap() {
            ClientEvent::CertificateIssued(_) => {
                tx.confirm(Confirmation::Accept, now).unwrap();
            }
            ClientEvent::Completed => break,
            _ => {}
        }
    }
    assert!(tx.is_completed());
    assert_eq!(exchanges, 2); // ir/ip, certConf/pkiConf
}
