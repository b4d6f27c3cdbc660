//! The C API of cmp-rs: opaque handles, `cmp_result` codes, caller-provided
//! output buffers, and no panic across the boundary. The header
//! `include/cmp.h` is generated from this crate by cbindgen; see its opening
//! comment for the conventions every function follows.
//!
//! Unsafe code is allowed here and nowhere else in the workspace. It is
//! confined to the pointer helpers of this module (reading C inputs, writing
//! C outputs, creating and dropping handles) and to calling the C signing
//! callback; every block carries a SAFETY comment.
#![allow(unsafe_code)]
// The entry points take raw pointers from C, as rustls-ffi's do: they are
// `extern "C"` functions checked for NULL, never called from safe Rust with
// arbitrary pointers, and C has no notion of `unsafe`.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
#![allow(non_camel_case_types)]

mod announce;
mod coap;
mod config;
mod credential;
mod error;
mod kem;
mod key;
mod keygen;
mod message;
mod transaction;

pub use announce::*;
pub use coap::*;
pub use config::*;
pub use credential::*;
pub use error::*;
pub use kem::*;
pub use key::*;
pub use keygen::*;
pub use message::*;
pub use transaction::*;

use std::ffi::{CStr, c_char};

use cmp_core::Limits;
use der::{Decode, Reader, SliceReader};
use x509_cert::Certificate;

/// Upper bound on the certificates taken from one caller buffer.
const MAX_INPUT_CERTS: usize = Limits::DEFAULT.max_certificates;

/// The library version, a static NUL-terminated string such as `"0.1.0"`.
///
/// Ownership: the string is static; do not free it. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A byte slice from C: NULL is allowed only with length 0.
///
/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes that stay valid and
/// unmodified for `'a`.
unsafe fn in_bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::Null(what));
    }
    if len > isize::MAX as usize {
        return Err(Failure::Usage("length too large"));
    }
    // SAFETY: ptr is non-null and the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A NUL-terminated UTF-8 string from C.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string valid for `'a`.
unsafe fn in_str<'a>(ptr: *const c_char, what: &'static str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::Null(what));
    }
    // SAFETY: non-null, and the caller guarantees a NUL-terminated string.
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str()
        .map_err(|_| Failure::Usage("string is not UTF-8"))
}

/// Borrow a handle passed by C.
///
/// # Safety
/// `ptr` must be NULL or a live handle of type `T` made by this library and
/// not used mutably elsewhere during `'a`.
unsafe fn in_ref<'a, T>(ptr: *const T, what: &'static str) -> Result<&'a T, Failure> {
    // SAFETY: the caller guarantees a live handle or NULL; as_ref checks NULL.
    unsafe { ptr.as_ref() }.ok_or(Failure::Null(what))
}

/// Borrow a handle passed by C mutably.
///
/// # Safety
/// As [`in_ref`], and no other reference to the handle exists during `'a`.
unsafe fn in_mut<'a, T>(ptr: *mut T, what: &'static str) -> Result<&'a mut T, Failure> {
    // SAFETY: the caller guarantees a live, unaliased handle or NULL.
    unsafe { ptr.as_mut() }.ok_or(Failure::Null(what))
}

/// Store a plain value through a C out-pointer.
///
/// # Safety
/// `ptr` must be NULL or valid for writing a `T`.
unsafe fn out_value<T>(ptr: *mut T, value: T, what: &'static str) -> Result<(), Failure> {
    if ptr.is_null() {
        return Err(Failure::Null(what));
    }
    // SAFETY: non-null and the caller guarantees it is writable.
    unsafe { ptr.write(value) };
    Ok(())
}

/// Clear a handle out-pointer (`*out = NULL`) before the work starts, so
/// that it is NULL on every failure.
///
/// # Safety
/// `out` must be NULL or valid for writing a pointer.
unsafe fn out_handle_clear<T>(out: *mut *mut T) -> Result<(), Failure> {
    // SAFETY: forwarded contract.
    unsafe { out_value(out, std::ptr::null_mut(), "out") }
}

/// Move `value` into a new handle and store it in `*out`.
///
/// # Safety
/// `out` must be valid for writing a pointer (checked by `out_handle_clear`).
unsafe fn out_handle<T>(out: *mut *mut T, value: T) -> Result<(), Failure> {
    let raw = Box::into_raw(Box::new(value));
    // SAFETY: forwarded contract; out_handle_clear checked it for NULL.
    unsafe { out_value(out, raw, "out") }
}

/// Drop a handle made by [`out_handle`]; NULL is ignored.
///
/// # Safety
/// `ptr` must be NULL or a handle from `Box::into_raw` not yet freed.
unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: made by Box::into_raw in out_handle and freed only here.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Copy `src` into the caller's buffer `(buf, cap)` and set `*len` to
/// `src.len()`; `CMP_BUFFER_TOO_SMALL` (nothing written) when it does not fit.
///
/// # Safety
/// `buf` must be NULL or valid for `cap` writable bytes; `len` NULL or writable.
unsafe fn out_bytes(src: &[u8], buf: *mut u8, cap: usize, len: *mut usize) -> Result<(), Failure> {
    // SAFETY: forwarded contract.
    unsafe { out_value(len, src.len(), "len")? };
    if src.is_empty() {
        return Ok(());
    }
    if buf.is_null() || cap < src.len() {
        return Err(Failure::BufferTooSmall {
            needed: src.len(),
            given: if buf.is_null() { 0 } else { cap },
        });
    }
    // SAFETY: buf has room for cap >= src.len() bytes; src is a Rust slice
    // that cannot overlap a buffer the caller owns.
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), buf, src.len()) };
    Ok(())
}

/// Copy `text` plus a terminating NUL into `(buf, cap)`; `*len` is set to
/// the size needed including the NUL.
///
/// # Safety
/// As [`out_bytes`].
unsafe fn out_text(
    text: &str,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> Result<(), Failure> {
    let mut bytes = Vec::with_capacity(text.len().saturating_add(1));
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    // SAFETY: forwarded contract.
    unsafe { out_bytes(&bytes, buf.cast(), cap, len) }
}

/// A key from PEM (text that starts with `-----BEGIN`) or DER `bytes`.
fn pem_or_der<T>(
    bytes: &[u8],
    pem: impl FnOnce(&str) -> Result<T, cmp_core::crypto::CryptoError>,
    der: impl FnOnce(&[u8]) -> Result<T, cmp_core::crypto::CryptoError>,
) -> Result<T, Failure> {
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| cmp_core::crypto::CryptoError::InvalidKey("PEM is not ASCII"))?;
        Ok(pem(text)?)
    } else {
        Ok(der(bytes)?)
    }
}

/// Certificates from PEM (one or more blocks) or DER (one or more
/// concatenated certificates).
fn parse_certs(bytes: &[u8]) -> Result<Vec<Certificate>, Failure> {
    let trimmed = bytes.trim_ascii_start();
    let certs = if trimmed.starts_with(b"-----BEGIN") {
        Certificate::load_pem_chain(trimmed)
            .map_err(|e| Failure::Core(cmp_core::Error::Decode(e)))?
    } else {
        let mut reader =
            SliceReader::new(bytes).map_err(|e| Failure::Core(cmp_core::Error::Decode(e)))?;
        let mut certs = Vec::new();
        while !reader.is_finished() {
            if certs.len() >= MAX_INPUT_CERTS {
                return Err(Failure::Usage("too many certificates in one buffer"));
            }
            certs.push(
                Certificate::decode(&mut reader)
                    .map_err(|e| Failure::Core(cmp_core::Error::Decode(e)))?,
            );
        }
        certs
    };
    if certs.is_empty() {
        return Err(Failure::Usage("no certificate in the buffer"));
    }
    if certs.len() > MAX_INPUT_CERTS {
        return Err(Failure::Usage("too many certificates in one buffer"));
    }
    Ok(certs)
}

/// Exactly one certificate (PEM or DER).
fn parse_cert(bytes: &[u8]) -> Result<Certificate, Failure> {
    let mut certs = parse_certs(bytes)?;
    if certs.len() != 1 {
        return Err(Failure::Usage("expected exactly one certificate"));
    }
    certs
        .pop()
        .ok_or(Failure::Usage("no certificate in the buffer"))
}
