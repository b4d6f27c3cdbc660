//! PKIMessage decoding: whatever decodes must re-encode to the same bytes
//! (DER is canonical), its ProtectedPart must be the re-encoding of header
//! and body, and describing it must not panic.
#![no_main]

use cmp_core::Limits;
use cmp_core::message::{self, ParsedMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = ParsedMessage::decode(data, &Limits::DEFAULT) else {
        return;
    };
    let der = message::encode(msg.message()).expect("a decoded message re-encodes");
    if der != data {
        let at = der.iter().zip(data).position(|(a, b)| a != b);
        panic!(
            "re-encoding differs from the input at byte {} (input {} bytes, re-encoded {})",
            at.unwrap_or(der.len().min(data.len())),
            data.len(),
            der.len()
        );
    }
    let part = message::encode_protected_part(msg.header(), msg.body())
        .expect("header and body re-encode");
    assert!(
        part == msg.protected_part(),
        "ProtectedPart differs from the re-encoded header and body"
    );
    let text = message::describe(msg.message());
    assert!(!text.is_empty());
    let _ = msg.message_time();
    let _ = msg.implicit_confirm();
    let _ = msg.body_type().name();
    let _ = cmp_core::protection::protection_kind(&msg);
    let _ = cmp_core::protection::find_signer_cert(&msg);
});
