//! CoAP block-wise reassembly: a sequence of (Block option, payload) pairs
//! from the input never panics the reassembler, never yields a body above
//! the cap, and a completed body is exactly the concatenation of the
//! accepted payloads.
#![no_main]

use cmp_core::transport::coap::{Block, Progress, Reassembler};
use libfuzzer_sys::fuzz_target;

const CAP: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let mut r = Reassembler::new(CAP);
    let mut accepted: Vec<u8> = Vec::new();
    let mut rest = data;
    // each step: option length (0..=3), option bytes, payload length, payload
    while let Some((&head, tail)) = rest.split_first() {
        let opt_len = usize::from(head & 0x03);
        let Some((opt, tail)) = tail.split_at_checked(opt_len) else {
            return;
        };
        let Some((&len, tail)) = tail.split_first() else {
            return;
        };
        let Some((payload, tail)) = tail.split_at_checked(usize::from(len).min(tail.len())) else {
            return;
        };
        rest = tail;
        let Ok(block) = Block::decode(opt) else {
            continue;
        };
        // the option encoding round-trips
        assert_eq!(
            Block::decode(&block.encode().expect("decoded blocks encode")),
            Ok(block)
        );
        match r.push(block, payload) {
            Ok(Progress::NeedMore { next }) => {
                accepted.extend_from_slice(payload);
                assert_eq!(r.received(), accepted.len());
                assert_eq!(next.offset(), accepted.len());
            }
            Ok(Progress::Complete(body)) => {
                accepted.extend_from_slice(payload);
                assert!(body.len() <= CAP);
                assert_eq!(body, accepted);
                return;
            }
            Err(_) => assert_eq!(r.received(), accepted.len()),
        }
    }
});
