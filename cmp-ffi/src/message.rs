//! `cmp_message`: parse and inspect a PKIMessage (for logs, diagnostics,
//! or a server-side check), independent of any transaction.

use std::ffi::c_char;

use cmp_core::Limits;
use cmp_core::asn1::{PkiBody, PkiStatusInfo};
use cmp_core::message::ParsedMessage;
use cmp_core::protection::{self, ProtectionKind};
use der::Encode;

use crate::error::{Failure, cmp_result, guard, guard_value};
use crate::{
    free_handle, in_bytes, in_ref, out_bytes, out_handle, out_handle_clear, out_text, out_value,
};

/// A parsed PKIMessage. Made by cmp_message_parse, freed by
/// cmp_message_free; it owns a copy of the bytes.
pub struct cmp_message {
    msg: ParsedMessage,
}

/// The body type of a message: the value is the body's context tag
/// number (RFC 9810 section 5.1.2).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum cmp_body_type {
    CMP_BODY_IR = 0,
    CMP_BODY_IP = 1,
    CMP_BODY_CR = 2,
    CMP_BODY_CP = 3,
    CMP_BODY_P10CR = 4,
    CMP_BODY_POPDECC = 5,
    CMP_BODY_POPDECR = 6,
    CMP_BODY_KUR = 7,
    CMP_BODY_KUP = 8,
    CMP_BODY_KRR = 9,
    CMP_BODY_KRP = 10,
    CMP_BODY_RR = 11,
    CMP_BODY_RP = 12,
    CMP_BODY_CCR = 13,
    CMP_BODY_CCP = 14,
    CMP_BODY_CKUANN = 15,
    CMP_BODY_CANN = 16,
    CMP_BODY_RANN = 17,
    CMP_BODY_CRLANN = 18,
    CMP_BODY_PKICONF = 19,
    CMP_BODY_NESTED = 20,
    CMP_BODY_GENM = 21,
    CMP_BODY_GENP = 22,
    CMP_BODY_ERROR = 23,
    CMP_BODY_CERTCONF = 24,
    CMP_BODY_POLLREQ = 25,
    CMP_BODY_POLLREP = 26,
}

/// How a message is protected.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_protection_kind {
    /// Not protected.
    CMP_PROTECTION_NONE = 0,
    /// PasswordBasedMac or PBMAC1.
    CMP_PROTECTION_MAC = 1,
    /// A signature.
    CMP_PROTECTION_SIGNATURE = 2,
}

/// Parse DER bytes (copied) as a PKIMessage, with the default limits:
/// at most 1 MiB, nesting depth 4, 64 certificates. Nothing is verified
/// (see cmp_message_verify_mac). On success `*out` owns a new message
/// (free with cmp_message_free); on failure `*out` is NULL.
/// Errors: CMP_NULL_POINTER, CMP_DECODE (truncated, garbage, trailing
/// data), CMP_MESSAGE_TOO_LARGE, CMP_NESTING_TOO_DEEP,
/// CMP_MISSING_HEADER_FIELD, CMP_UNSUPPORTED_VERSION.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_parse(
    data: *const u8,
    len: usize,
    out: *mut *mut cmp_message,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: a buffer of `len` bytes (contract).
        let bytes = unsafe { in_bytes(data, len, "data")? };
        let msg = ParsedMessage::decode(bytes, &Limits::DEFAULT)?;
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_message { msg }) }
    })
}

/// The body type (`*out`, a cmp_body_type) and protocol version (`*pvno`,
/// may be NULL). Errors: CMP_NULL_POINTER.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_body_type(
    msg: *const cmp_message,
    out: *mut cmp_body_type,
    pvno: *mut u64,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let m = unsafe { in_ref(msg, "msg")? };
        let tag = m.msg.body_type().tag_number();
        let body = body_type_from_tag(tag).ok_or(Failure::Usage("unknown body type"))?;
        // SAFETY: NULL-checked by out_value; writable by contract.
        unsafe { out_value(out, body, "out")? };
        if !pvno.is_null() {
            // SAFETY: non-null, writable by contract.
            unsafe { out_value(pvno, m.msg.pvno(), "pvno")? };
        }
        Ok(())
    })
}

fn body_type_from_tag(tag: u8) -> Option<cmp_body_type> {
    use cmp_body_type::*;
    const ALL: [cmp_body_type; 27] = [
        CMP_BODY_IR,
        CMP_BODY_IP,
        CMP_BODY_CR,
        CMP_BODY_CP,
        CMP_BODY_P10CR,
        CMP_BODY_POPDECC,
        CMP_BODY_POPDECR,
        CMP_BODY_KUR,
        CMP_BODY_KUP,
        CMP_BODY_KRR,
        CMP_BODY_KRP,
        CMP_BODY_RR,
        CMP_BODY_RP,
        CMP_BODY_CCR,
        CMP_BODY_CCP,
        CMP_BODY_CKUANN,
        CMP_BODY_CANN,
        CMP_BODY_RANN,
        CMP_BODY_CRLANN,
        CMP_BODY_PKICONF,
        CMP_BODY_NESTED,
        CMP_BODY_GENM,
        CMP_BODY_GENP,
        CMP_BODY_ERROR,
        CMP_BODY_CERTCONF,
        CMP_BODY_POLLREQ,
        CMP_BODY_POLLREP,
    ];
    ALL.get(usize::from(tag)).copied()
}

/// The body's name ("ip", "certConf", ...) as a static NUL-terminated
/// string; "unknown" for NULL. Do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_body_name(msg: *const cmp_message) -> *const c_char {
    const NAMES: [&str; 27] = [
        "ir\0",
        "ip\0",
        "cr\0",
        "cp\0",
        "p10cr\0",
        "popdecc\0",
        "popdecr\0",
        "kur\0",
        "kup\0",
        "krr\0",
        "krp\0",
        "rr\0",
        "rp\0",
        "ccr\0",
        "ccp\0",
        "ckuann\0",
        "cann\0",
        "rann\0",
        "crlann\0",
        "pkiconf\0",
        "nested\0",
        "genm\0",
        "genp\0",
        "error\0",
        "certConf\0",
        "pollReq\0",
        "pollRep\0",
    ];
    let name = guard_value("unknown\0", || {
        // SAFETY: NULL or a live handle (contract).
        unsafe { in_ref(msg, "msg") }
            .ok()
            .and_then(|m| {
                NAMES
                    .get(usize::from(m.msg.body_type().tag_number()))
                    .copied()
            })
            .unwrap_or("unknown\0")
    });
    name.as_ptr().cast()
}

/// Which header field cmp_message_header_field copies.
fn header_field(m: &ParsedMessage, field: u32) -> Result<Option<&[u8]>, Failure> {
    Ok(match field {
        0 => m.transaction_id(),
        1 => m.sender_nonce(),
        2 => m.recip_nonce(),
        3 => m.sender_kid(),
        4 => m.recip_kid(),
        _ => return Err(Failure::Usage("unknown header field")),
    })
}

/// Copy a header octet string into `buf` by the output-buffer convention:
/// `field` 0 transactionID, 1 senderNonce, 2 recipNonce, 3 senderKID,
/// 4 recipKID. An absent field gives `*len = 0` and CMP_OK.
/// Errors: CMP_NULL_POINTER, CMP_USAGE (bad field), CMP_BUFFER_TOO_SMALL.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_header_field(
    msg: *const cmp_message,
    field: u32,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let m = unsafe { in_ref(msg, "msg")? };
        let value = header_field(&m.msg, field)?.unwrap_or_default();
        // SAFETY: output-buffer convention (contract).
        unsafe { out_bytes(value, buf, cap, len) }
    })
}

/// How the message is protected (`*out`, a cmp_protection_kind).
/// Errors: CMP_NULL_POINTER, CMP_MISSING_PROTECTION (algorithm and value
/// disagree), CMP_UNSUPPORTED_ALGORITHM.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_protection(
    msg: *const cmp_message,
    out: *mut cmp_protection_kind,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let m = unsafe { in_ref(msg, "msg")? };
        let kind = match protection::protection_kind(&m.msg)? {
            ProtectionKind::None => cmp_protection_kind::CMP_PROTECTION_NONE,
            ProtectionKind::Mac => cmp_protection_kind::CMP_PROTECTION_MAC,
            ProtectionKind::Signature => cmp_protection_kind::CMP_PROTECTION_SIGNATURE,
        };
        // SAFETY: NULL-checked by out_value; writable by contract.
        unsafe { out_value(out, kind, "out") }
    })
}

/// Verify MAC protection with `secret` (copied). Iteration counts are
/// capped (PBM 100,000, PBKDF2 1,000,000), so a hostile message cannot
/// burn CPU. Errors: CMP_NULL_POINTER, CMP_MISSING_PROTECTION,
/// CMP_WRONG_INTEGRITY (signed), CMP_UNSUPPORTED_ALGORITHM,
/// CMP_ITERATION_COUNT_TOO_HIGH, CMP_BAD_MESSAGE_CHECK (wrong MAC).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_verify_mac(
    msg: *const cmp_message,
    secret: *const u8,
    secret_len: usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle; a buffer of `secret_len` bytes.
        let (m, secret) = unsafe { (in_ref(msg, "msg")?, in_bytes(secret, secret_len, "secret")?) };
        protection::verify_mac(
            &m.msg,
            secret,
            cmp_crypto_rustcrypto::provider(),
            &Limits::DEFAULT,
        )?;
        Ok(())
    })
}

pub(crate) fn status_numbers(s: &PkiStatusInfo) -> (i32, u32) {
    let bits = s
        .failure_bits()
        .iter()
        .filter(|b| b.number() < 32)
        .fold(0u32, |acc, b| acc | (1u32 << b.number()));
    (i32::from(s.status as u8), bits)
}

/// The PKIStatusInfo of a response: the first CertResponse of ip/cp/kup,
/// the first status of rp, or the status of an error message. `*status`
/// is the PKIStatus (0 accepted, 1 grantedWithMods, 2 rejection, 3 waiting,
/// ...), `*fail_info` the failure bits as a mask (bit n for failure bit n);
/// either may be NULL. Errors: CMP_NULL_POINTER (`msg`), CMP_USAGE (this
/// body carries no status).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_status(
    msg: *const cmp_message,
    status: *mut i32,
    fail_info: *mut u32,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let m = unsafe { in_ref(msg, "msg")? };
        let info = match m.msg.body() {
            PkiBody::Ip(r) | PkiBody::Cp(r) | PkiBody::Kup(r) | PkiBody::Ccp(r) => {
                r.response.first().map(|c| &c.status)
            }
            PkiBody::Rp(r) => r.status.first(),
            PkiBody::Error(e) => Some(&e.pki_status_info),
            _ => None,
        }
        .ok_or(Failure::Usage("this body carries no status"))?;
        let (s, bits) = status_numbers(info);
        if !status.is_null() {
            // SAFETY: non-null, writable by contract.
            unsafe { out_value(status, s, "status")? };
        }
        if !fail_info.is_null() {
            // SAFETY: non-null, writable by contract.
            unsafe { out_value(fail_info, bits, "fail_info")? };
        }
        Ok(())
    })
}

/// The number of certificates in extraCerts. Errors: CMP_NULL_POINTER.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_extra_cert_count(
    msg: *const cmp_message,
    count: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let m = unsafe { in_ref(msg, "msg")? };
        // SAFETY: NULL-checked by out_value; writable by contract.
        unsafe { out_value(count, m.msg.extra_certs().len(), "count") }
    })
}

/// Copy extraCerts item `index` (DER) into `buf` by the output-buffer
/// convention. Errors: CMP_NULL_POINTER, CMP_USAGE (index out of range),
/// CMP_BUFFER_TOO_SMALL, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_extra_cert(
    msg: *const cmp_message,
    index: usize,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let m = unsafe { in_ref(msg, "msg")? };
        let cert = m
            .msg
            .extra_certs()
            .get(index)
            .ok_or(Failure::Usage("index out of range"))?;
        let der = cert.to_der().map_err(cmp_core::Error::Encode)?;
        // SAFETY: output-buffer convention (contract).
        unsafe { out_bytes(&der, buf, cap, len) }
    })
}

/// A readable multi-line description of the message (header, body,
/// statuses, certificates), NUL-terminated, into `buf` by the
/// output-buffer convention (`*len` includes the NUL).
/// Errors: CMP_NULL_POINTER, CMP_BUFFER_TOO_SMALL.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_describe(
    msg: *const cmp_message,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let m = unsafe { in_ref(msg, "msg")? };
        let text = cmp_core::message::describe(m.msg.message());
        // SAFETY: output-buffer convention (contract).
        unsafe { out_text(&text, buf, cap, len) }
    })
}

/// Free a message; NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_message_free(msg: *mut cmp_message) {
    guard_value((), || {
        // SAFETY: NULL or a handle from this library not yet freed.
        unsafe { free_handle(msg) }
    });
}
