//! The responder gets the fuzz input as a request: as a first message, or
//! after a genuine ir (answered with ip, or with "waiting", or ip, certConf
//! and pkiConf) so that the certConf and pollReq paths are reachable.
//!
//! Input: a selector byte (see `ResponderSetup::from_byte`: bits 0-1
//! stage, bit 2 accept unprotected requests, bits 4-5 decision), then the
//! request bytes.
#![no_main]

use cmp_core::asn1::PkiMessage;
use cmp_fuzz::{ResponderSetup, decide, now, responder_in_stage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, request)) = data.split_first() else {
        return;
    };
    let setup = ResponderSetup::from_byte(selector);
    let responder = responder_in_stage(setup);
    let now = now();
    let reply = responder.handle_request_with(request, now, &mut |p, now| {
        let _ = (p.template(), p.subject(), p.public_key(), p.extensions());
        let _ = (p.old_cert_id(), p.signer_certificate(), p.revocation());
        decide(setup.decision, p, now)
    });
    // Every reply the responder builds is a well-formed PKIMessage (an
    // empty one only when even the unprotected error reply failed).
    if !reply.bytes.is_empty() {
        assert!(
            PkiMessage::from_der_bytes(&reply.bytes).is_ok(),
            "the responder built an undecodable reply"
        );
    }
    let _ = cmp_core::server::failure_bit_of(&reply);
    let _ = responder.sweep(now.plus_secs(3600));
});
