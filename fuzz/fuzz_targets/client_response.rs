//! A client transaction in each reachable state (driven there by replaying
//! an exchange recorded against a real responder) gets the fuzz input as
//! the server's response.
//!
//! Input: a selector byte (see `ClientSetup::from_byte`: bits 0-1 state,
//! bits 2-3 credentials, bits 4-5 request kind, bit 6 reject an issued
//! certificate instead of accepting it), then the response bytes.
#![no_main]

use cmp_core::asn1::{FailureBit, PkiStatusInfo};
use cmp_core::client::{ClientEvent, Confirmation};
use cmp_fuzz::{ClientSetup, client_in_state, now};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, response)) = data.split_first() else {
        return;
    };
    let setup = ClientSetup::from_byte(selector);
    let mut tx = client_in_state(setup);
    let now = now();
    match tx.handle_response(response, now) {
        Ok(ClientEvent::CertificateIssued(issued)) => {
            let _ = issued.cert.tbs_certificate().subject().to_string();
            let decision = if selector & 0x40 != 0 {
                Confirmation::Reject(PkiStatusInfo::rejection(
                    FailureBit::BadCertTemplate,
                    "fuzz",
                ))
            } else {
                Confirmation::Accept
            };
            let _ = tx.confirm(decision, now);
        }
        Ok(ClientEvent::Waiting { until }) => {
            let _ = tx.handle_timeout(until);
        }
        _ => {}
    }
    while tx.poll_transmit().is_some() {}
    if let Some(t) = tx.poll_timeout() {
        let _ = tx.handle_timeout(t);
    }
    let _ = tx.authenticated_as();
    let _ = (tx.is_finished(), tx.is_completed(), tx.kind());
    // whatever state it is in now, more input must not panic either
    let _ = tx.handle_response(response, now);
});
