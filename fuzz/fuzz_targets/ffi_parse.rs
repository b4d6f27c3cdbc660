//! The C API's message parser and every accessor on its handle, called
//! through the `extern "C"` functions, checked against the Rust API; then
//! the handle is freed (AddressSanitizer watches the pointer handling).
#![no_main]

use std::ffi::{CStr, c_char};
use std::ptr;

use cmp_core::Limits;
use cmp_core::asn1::{Pbkdf2Params, PbmParameter, Pbmac1Params, oid};
use cmp_core::message::ParsedMessage;
use cmp_ffi::*;
use der::{Decode, Encode};
use libfuzzer_sys::fuzz_target;

/// The last error message (at most 511 bytes, as documented).
fn last_error() -> Vec<u8> {
    let needed = cmp_last_error_message(ptr::null_mut(), 0);
    let mut buf = vec![0 as c_char; 512];
    let n = cmp_last_error_message(buf.as_mut_ptr(), buf.len());
    assert_eq!(n, needed);
    assert!(n < 512, "error message longer than documented");
    // SAFETY: NUL-terminated by cmp_last_error_message.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes().to_vec()
}

/// Whether verifying the MAC is cheap: no iteration count above 1000 (an
/// undecodable parameter fails before any iteration).
fn cheap_mac(msg: &ParsedMessage) -> bool {
    fn der_of(any: Option<&der::asn1::Any>) -> Option<Vec<u8>> {
        any.and_then(|a| a.to_der().ok())
    }
    let Some(alg) = &msg.header().protection_alg else {
        return false;
    };
    let Some(params) = der_of(alg.parameters.as_ref()) else {
        return true;
    };
    let iterations = if alg.oid == oid::PASSWORD_BASED_MAC {
        PbmParameter::from_der(&params)
            .ok()
            .map(|p| p.iteration_count)
    } else if alg.oid == oid::PBMAC1 {
        Pbmac1Params::from_der(&params)
            .ok()
            .and_then(|p| der_of(p.key_derivation_func.parameters.as_ref()))
            .and_then(|k| Pbkdf2Params::from_der(&k).ok())
            .map(|k| k.iteration_count)
    } else {
        None
    };
    iterations.is_none_or(|n| n <= 1000)
}

/// Copy by the output-buffer convention: ask for the size, then copy.
fn out_buffer(call: impl Fn(*mut u8, usize, *mut usize) -> cmp_result) -> Option<Vec<u8>> {
    let mut len = usize::MAX;
    let r = call(ptr::null_mut(), 0, &mut len);
    if r != cmp_result::CMP_OK && r != cmp_result::CMP_BUFFER_TOO_SMALL {
        return None;
    }
    assert_ne!(len, usize::MAX, "*len not set");
    if r == cmp_result::CMP_OK {
        assert_eq!(len, 0, "a NULL buffer only fits an empty value");
        return Some(Vec::new());
    }
    // one byte short must fail without writing, the exact size must succeed
    let mut buf = vec![0xa5u8; len];
    let mut len2 = 0;
    let short = call(buf.as_mut_ptr(), len - 1, &mut len2);
    assert_eq!(short, cmp_result::CMP_BUFFER_TOO_SMALL);
    assert!(
        buf.iter().all(|&b| b == 0xa5),
        "written into a too-small buffer"
    );
    assert_eq!(call(buf.as_mut_ptr(), len, &mut len2), cmp_result::CMP_OK);
    assert_eq!(len2, len);
    Some(buf)
}

fuzz_target!(|data: &[u8]| {
    let mut msg: *mut cmp_message = ptr::null_mut();
    let r = cmp_message_parse(data.as_ptr(), data.len(), &mut msg);
    assert_ne!(r, cmp_result::CMP_PANIC);
    // SAFETY: static NUL-terminated string.
    let _ = unsafe { CStr::from_ptr(cmp_result_name(r as u32)) };
    let rust = ParsedMessage::decode(data, &Limits::DEFAULT);
    assert_eq!(
        r == cmp_result::CMP_OK,
        rust.is_ok(),
        "C and Rust parsers disagree"
    );
    let Ok(rust) = rust else {
        assert!(msg.is_null(), "*out set on failure");
        assert!(!last_error().is_empty());
        return;
    };
    assert!(!msg.is_null());

    let mut body = cmp_body_type::CMP_BODY_IR;
    let mut pvno = 0u64;
    assert_eq!(
        cmp_message_body_type(msg, &mut body, &mut pvno),
        cmp_result::CMP_OK
    );
    assert_eq!(body as u32, u32::from(rust.body_type().tag_number()));
    assert_eq!(pvno, rust.pvno());
    assert_eq!(
        cmp_message_body_type(msg, &mut body, ptr::null_mut()),
        cmp_result::CMP_OK
    );
    assert_eq!(
        cmp_message_body_type(msg, ptr::null_mut(), ptr::null_mut()),
        cmp_result::CMP_NULL_POINTER
    );
    // SAFETY: a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(cmp_message_body_name(msg)) };
    assert!(!name.to_bytes().is_empty());

    let expected: [Option<&[u8]>; 5] = [
        rust.transaction_id(),
        rust.sender_nonce(),
        rust.recip_nonce(),
        rust.sender_kid(),
        rust.recip_kid(),
    ];
    for (field, want) in (0u32..).zip(expected) {
        let got = out_buffer(|b, c, l| cmp_message_header_field(msg, field, b, c, l))
            .expect("a header field copies");
        assert_eq!(got, want.unwrap_or_default());
    }
    let mut len = 0;
    assert_eq!(
        cmp_message_header_field(msg, 5, ptr::null_mut(), 0, &mut len),
        cmp_result::CMP_USAGE
    );

    let mut kind = cmp_protection_kind::CMP_PROTECTION_NONE;
    let r = cmp_message_protection(msg, &mut kind);
    assert_ne!(r, cmp_result::CMP_PANIC);
    if r == cmp_result::CMP_OK
        && kind == cmp_protection_kind::CMP_PROTECTION_MAC
        && cheap_mac(&rust)
    {
        let r = cmp_message_verify_mac(msg, cmp_fuzz::SECRET.as_ptr(), cmp_fuzz::SECRET.len());
        assert_ne!(r, cmp_result::CMP_PANIC);
    }
    assert_eq!(
        cmp_message_verify_mac(msg, ptr::null(), 1),
        cmp_result::CMP_NULL_POINTER
    );

    let (mut status, mut fail_info) = (-1i32, 0u32);
    let r = cmp_message_status(msg, &mut status, &mut fail_info);
    assert!(
        r == cmp_result::CMP_OK || r == cmp_result::CMP_USAGE,
        "{r:?}"
    );
    assert_eq!(cmp_message_status(msg, ptr::null_mut(), ptr::null_mut()), r);

    let mut count = usize::MAX;
    assert_eq!(
        cmp_message_extra_cert_count(msg, &mut count),
        cmp_result::CMP_OK
    );
    assert_eq!(count, rust.extra_certs().len());
    for (i, cert) in rust.extra_certs().iter().enumerate() {
        let got = out_buffer(|b, c, l| cmp_message_extra_cert(msg, i, b, c, l))
            .expect("an extra certificate copies");
        assert_eq!(Some(got), cert.to_der().ok());
    }
    assert_eq!(
        cmp_message_extra_cert(msg, count, ptr::null_mut(), 0, &mut len),
        cmp_result::CMP_USAGE
    );

    let text = out_buffer(|b, c, l| cmp_message_describe(msg, b.cast(), c, l))
        .expect("the description copies");
    assert_eq!(text.last(), Some(&0), "description not NUL-terminated");
    assert_eq!(
        &text[..text.len() - 1],
        cmp_core::message::describe(rust.message()).as_bytes()
    );

    cmp_message_free(msg);
    cmp_message_free(ptr::null_mut());
    assert_eq!(
        cmp_message_body_type(ptr::null(), &mut body, &mut pvno),
        cmp_result::CMP_NULL_POINTER
    );
});
