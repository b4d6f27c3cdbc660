//! The captured OpenSSL vectors: byte-exact round trip, protection verified
//! with the known secret and certificates, and single flipped bytes in the
//! protected part rejected with a typed error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use cmp_core::asn1::{BodyType, PkiMessage};
use cmp_core::message::ParsedMessage;
use cmp_core::protection::{self, ProtectionKind};
use cmp_core::{Error, Limits};
use cmp_crypto_rustcrypto::provider;
use cmp_tests::{MAC_SECRET, read_vector, vector_names};
use der::{Decode, Encode};

fn verify(msg: &ParsedMessage, secret: &[u8]) -> Result<ProtectionKind, Error> {
    let kind = protection::protection_kind(msg)?;
    match kind {
        ProtectionKind::Mac => protection::verify_mac(msg, secret, provider(), &Limits::DEFAULT)?,
        ProtectionKind::Signature => {
            let signer = protection::find_signer_cert(msg).ok_or(Error::UnknownCredential)?;
            protection::verify_signature_with_cert(msg, signer, provider())?;
        }
        ProtectionKind::None => {}
    }
    Ok(kind)
}

#[test]
fn every_vector_round_trips_byte_for_byte() {
    let names = vector_names();
    assert_eq!(names.len(), 38, "{names:?}");
    for name in &names {
        let bytes = read_vector(name);
        let msg = PkiMessage::from_der(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(msg.to_der().unwrap(), bytes, "{name}");
        let parsed = ParsedMessage::decode(&bytes, &Limits::DEFAULT).unwrap();
        assert_eq!(parsed.der(), &bytes[..]);
    }
}

#[test]
fn every_vector_verifies_with_the_known_credentials() {
    let mut kinds = std::collections::BTreeMap::new();
    for name in vector_names() {
        let bytes = read_vector(&name);
        let msg = ParsedMessage::decode(&bytes, &Limits::DEFAULT).unwrap();
        let kind = verify(&msg, MAC_SECRET.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_ne!(kind, ProtectionKind::None, "{name} is unprotected");
        let expected = if name.starts_with("ir-sig")
            || name.starts_with("kur-sig")
            || name.starts_with("rr-sig")
        {
            ProtectionKind::Signature
        } else {
            ProtectionKind::Mac
        };
        assert_eq!(kind, expected, "{name}");
        *kinds.entry(format!("{kind:?}")).or_insert(0) += 1;
    }
    assert_eq!(kinds.get("Mac"), Some(&28));
    assert_eq!(kinds.get("Signature"), Some(&10));
}

#[test]
fn a_wrong_secret_or_wrong_signer_is_bad_message_check() {
    let msg = ParsedMessage::decode(&read_vector("ir-pbm.1.req"), &Limits::DEFAULT).unwrap();
    assert_eq!(
        protection::verify_mac(&msg, b"1234-5679", provider(), &Limits::DEFAULT),
        Err(Error::BadMessageCheck)
    );
    // a MAC-protected message checked as a signed one, and vice versa
    let signer = protection::find_signer_cert(
        &ParsedMessage::decode(&read_vector("ir-sig.1.req"), &Limits::DEFAULT).unwrap(),
    )
    .unwrap()
    .clone();
    assert_eq!(
        protection::verify_signature_with_cert(&msg, &signer, provider()),
        Err(Error::WrongIntegrity)
    );
    let signed = ParsedMessage::decode(&read_vector("ir-sig.1.rsp"), &Limits::DEFAULT).unwrap();
    assert_eq!(
        protection::verify_mac(&signed, MAC_SECRET.as_bytes(), provider(), &Limits::DEFAULT),
        Err(Error::WrongIntegrity)
    );
    // the response signed by server.crt does not verify with the client's ee.crt
    assert_eq!(
        protection::verify_signature_with_cert(&signed, &signer, provider()),
        Err(Error::BadMessageCheck)
    );
}

#[test]
fn the_pbm_iteration_cap_is_enforced_before_any_work() {
    let msg = ParsedMessage::decode(&read_vector("ir-pbm.1.req"), &Limits::DEFAULT).unwrap();
    // OpenSSL 3.0 sends 500 iterations
    let limits = Limits {
        max_pbm_iterations: 499,
        ..Limits::DEFAULT
    };
    assert_eq!(
        protection::verify_mac(&msg, MAC_SECRET.as_bytes(), provider(), &limits),
        Err(Error::IterationCountTooHigh {
            count: 500,
            max: 499
        })
    );
}

/// Offsets of the header and body inside a message (the ProtectedPart content).
fn protected_range(bytes: &[u8]) -> std::ops::Range<usize> {
    let parsed = ParsedMessage::decode(bytes, &Limits::DEFAULT).unwrap();
    let pp = parsed.protected_part();
    // ProtectedPart = SEQUENCE header of pp, then the same bytes as in the message
    let content_len = pp.len() - der_header_len(pp);
    let start = der_header_len(bytes);
    start..start + content_len
}

fn der_header_len(bytes: &[u8]) -> usize {
    let len_byte = bytes[1];
    if len_byte < 0x80 {
        2
    } else {
        2 + usize::from(len_byte & 0x7f)
    }
}

#[test]
fn a_flipped_byte_in_the_protected_part_fails_with_a_typed_error() {
    let mut bad_check = 0;
    for name in vector_names() {
        let bytes = read_vector(&name);
        let range = protected_range(&bytes);
        // about 24 positions spread over header and body
        let step = (range.len() / 24).max(1);
        for pos in range.step_by(step) {
            let mut flipped = bytes.clone();
            flipped[pos] ^= 0x01;
            let result = ParsedMessage::decode(&flipped, &Limits::DEFAULT)
                .and_then(|m| verify(&m, MAC_SECRET.as_bytes()));
            match result {
                Ok(kind) => panic!("{name}: flip at {pos} still verifies ({kind:?})"),
                Err(Error::BadMessageCheck) => bad_check += 1,
                Err(_) => {} // decode error, unsupported algorithm, ... all typed
            }
        }
    }
    assert!(bad_check > 500, "{bad_check}");
}

#[test]
fn captured_bodies_are_the_documented_ones() {
    let expect = [
        ("ir-pbm.1.req", BodyType::Ir),
        ("ir-pbm.1.rsp", BodyType::Ip),
        ("ir-pbm.2.req", BodyType::CertConf),
        ("ir-pbm.2.rsp", BodyType::PkiConf),
        ("cr-pbm.1.rsp", BodyType::Cp),
        ("kur-sig.1.req", BodyType::Kur),
        ("kur-sig.1.rsp", BodyType::Kup),
        ("p10cr-pbm.1.req", BodyType::P10cr),
        ("rr-sig.1.req", BodyType::Rr),
        ("rr-sig.1.rsp", BodyType::Rp),
        ("genm-pbm.1.req", BodyType::Genm),
        ("genm-pbm.1.rsp", BodyType::Genp),
        ("ir-poll.2.req", BodyType::PollReq),
        ("ir-poll.2.rsp", BodyType::PollRep),
        ("ir-error.1.rsp", BodyType::Error),
    ];
    for (name, body) in expect {
        let msg = ParsedMessage::decode(&read_vector(name), &Limits::DEFAULT).unwrap();
        assert_eq!(msg.body_type(), body, "{name}");
    }
    let rejected =
        ParsedMessage::decode(&read_vector("ir-rejected.1.rsp"), &Limits::DEFAULT).unwrap();
    let cmp_core::asn1::PkiBody::Ip(rep) = rejected.body() else {
        panic!("not ip")
    };
    let status = &rep.response[0].status;
    assert_eq!(status.status, cmp_core::asn1::PkiStatus::Rejection);
    assert_eq!(status.failure_bits(), [cmp_core::asn1::FailureBit::BadPop]);
    assert_eq!(
        status.status_string.as_deref(),
        Some(&["rejected_by_policy".to_string()][..])
    );
    let implicit =
        ParsedMessage::decode(&read_vector("ir-implicit.1.rsp"), &Limits::DEFAULT).unwrap();
    assert!(implicit.implicit_confirm());
}
