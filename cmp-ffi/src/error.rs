//! `cmp_result`, the last-error message, and the guard every entry point
//! runs its body in.

use std::cell::RefCell;
use std::ffi::c_char;
use std::fmt::{self, Write as _};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The result of every fallible function: `CMP_OK` (0) or an error
/// code. Codes 100–501 are the `cmp_core::Error` codes of docs/errors.md,
/// 600–616 the announcement checks (`cmp_core::announce::AnnounceError`),
/// 700–708 CoAP framing (`cmp_core::transport::coap::CoapError`), all
/// shared with the Rust, Python and Node bindings; 900–902 are conditions
/// of the C boundary itself.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_result {
    /// Success.
    CMP_OK = 0,
    /// The API was used in a way it does not allow (the message says how).
    CMP_USAGE = 100,
    /// Our configuration names something unusable.
    CMP_CONFIG = 101,
    /// A value could not be DER-encoded.
    CMP_ENCODE = 102,
    /// The crypto provider (or the signing callback) failed; also a private key that cannot be parsed.
    CMP_CRYPTO = 103,
    /// The transaction deadline or the server's confirmWaitTime passed.
    CMP_TIMEOUT = 104,
    /// The transaction store failed.
    CMP_STORE = 105,
    /// Not a valid DER encoding of the expected structure (message or certificate).
    CMP_DECODE = 200,
    /// Larger than the configured maximum message size.
    CMP_MESSAGE_TOO_LARGE = 201,
    /// Nested messages deeper than the configured maximum.
    CMP_NESTING_TOO_DEEP = 202,
    /// Protection missing where it is required.
    CMP_MISSING_PROTECTION = 300,
    /// Protection algorithm or parameter not supported.
    CMP_UNSUPPORTED_ALGORITHM = 301,
    /// PBM / PBKDF2 iteration count above the cap.
    CMP_ITERATION_COUNT_TOO_HIGH = 302,
    /// MAC or signature does not verify.
    CMP_BAD_MESSAGE_CHECK = 303,
    /// Signature where a MAC is required, or the reverse.
    CMP_WRONG_INTEGRITY = 304,
    /// No secret for this senderKID.
    CMP_UNKNOWN_CREDENTIAL = 305,
    /// The signer's certificate does not validate.
    CMP_SIGNER_NOT_TRUSTED = 306,
    /// pvno not 2 or 3.
    CMP_UNSUPPORTED_VERSION = 400,
    /// A required header field is missing.
    CMP_MISSING_HEADER_FIELD = 401,
    /// transactionID of another transaction.
    CMP_TRANSACTION_ID_MISMATCH = 402,
    /// A new request reuses an open transactionID.
    CMP_TRANSACTION_ID_IN_USE = 403,
    /// recipNonce does not echo our senderNonce.
    CMP_BAD_RECIPIENT_NONCE = 404,
    /// senderNonce missing or too short.
    CMP_BAD_SENDER_NONCE = 405,
    /// messageTime outside the allowed window.
    CMP_BAD_TIME = 406,
    /// The sender is not the expected one / not the signer.
    CMP_WRONG_SENDER = 407,
    /// A body the transaction cannot take now.
    CMP_UNEXPECTED_BODY = 408,
    /// A malformed or unacceptable request.
    CMP_BAD_REQUEST = 409,
    /// The certificate template is unacceptable (e.g. the issued subject is not the requested one).
    CMP_BAD_CERT_TEMPLATE = 410,
    /// Proof-of-possession missing or invalid.
    CMP_BAD_POP = 411,
    /// certReqId or certificate hash does not match.
    CMP_BAD_CERT_ID = 412,
    /// The response contradicts the request.
    CMP_INCORRECT_DATA = 413,
    /// The sender may not do this.
    CMP_NOT_AUTHORIZED = 414,
    /// The certificate was already confirmed.
    CMP_CERT_CONFIRMED = 415,
    /// messageTime is absent although the responder requires it.
    CMP_MISSING_TIME_STAMP = 416,
    /// The request names another CA as recipient or issuer.
    CMP_WRONG_AUTHORITY = 417,
    /// The certificate to revoke or update is already revoked.
    CMP_CERT_REVOKED = 418,
    /// A valid certificate for the requested key exists already.
    CMP_DUPLICATE_CERT_REQ = 419,
    /// A delivered private key (central key generation, key recovery) is not encrypted for our key or password.
    CMP_KEY_NOT_FOR_US = 420,
    /// A delivered private key does not decrypt, or its key package is malformed.
    CMP_KEY_DECRYPT_FAILED = 421,
    /// The SignedData around a delivered private key does not verify.
    CMP_KEY_SIGNATURE_INVALID = 422,
    /// A delivered private key does not belong to the certificate.
    CMP_KEY_MISMATCH = 423,
    /// The server answered with an authenticated error or a rejection; see cmp_transaction_peer_status().
    CMP_PEER_ERROR = 500,
    /// The server answered with an error message that is not protected: reported, never trusted.
    CMP_UNAUTHENTICATED_ERROR = 501,
    /// The body is not ckuann, cann, rann or crlann (announcement check).
    CMP_NOT_AN_ANNOUNCEMENT = 600,
    /// Ckuann without newWithOld (announcement check).
    CMP_MISSING_NEW_WITH_OLD = 601,
    /// NewWithOld is not issued by one of our trust anchors (announcement check).
    CMP_UNKNOWN_OLD_ROOT = 602,
    /// NewWithOld does not verify with the old root key (announcement check).
    CMP_NEW_WITH_OLD_SIGNATURE = 603,
    /// NewWithOld certifies another key than newWithNew (announcement check).
    CMP_NEW_WITH_OLD_KEY_MISMATCH = 604,
    /// NewWithNew is not self-signed (announcement check).
    CMP_NEW_WITH_NEW_NOT_SELF_SIGNED = 605,
    /// NewWithNew lacks basicConstraints cA (announcement check).
    CMP_NEW_ROOT_NOT_CA = 606,
    /// NewWithNew is expired, not yet valid or has bad extensions (announcement check).
    CMP_NEW_ROOT_NOT_VALID = 607,
    /// The new root key is the old one (announcement check).
    CMP_KEY_NOT_CHANGED = 608,
    /// The three certificates do not carry the old root's name (announcement check).
    CMP_ROOT_NAME_MISMATCH = 609,
    /// OldWithNew does not verify with the new root key (announcement check).
    CMP_OLD_WITH_NEW_SIGNATURE = 610,
    /// OldWithNew certifies another key than the old root's (announcement check).
    CMP_OLD_WITH_NEW_KEY_MISMATCH = 611,
    /// Cann: the certificate does not validate to a trust anchor (announcement check).
    CMP_ANNOUNCED_CERT_NOT_TRUSTED = 612,
    /// Rann: status is not revocationWarning / revocationNotification (announcement check).
    CMP_BAD_REVOCATION_STATUS = 613,
    /// Crlann without CRLs (announcement check).
    CMP_EMPTY_CRL_ANNOUNCEMENT = 614,
    /// Crlann: no trusted CA is the CRL's issuer (announcement check).
    CMP_CRL_ISSUER_UNKNOWN = 615,
    /// Crlann: the CRL signature does not verify (announcement check).
    CMP_CRL_SIGNATURE = 616,
    /// Block size exponent 7 (reserved) (CoAP framing).
    CMP_COAP_RESERVED_BLOCK_SIZE = 700,
    /// A Block option value longer than 3 bytes (CoAP framing).
    CMP_COAP_BLOCK_OPTION_TOO_LONG = 701,
    /// A block number above 2^20 - 1 (CoAP framing).
    CMP_COAP_BLOCK_NUMBER_TOO_LARGE = 702,
    /// The path MTU cannot carry a 16-byte block (CoAP framing).
    CMP_COAP_MTU_TOO_SMALL = 703,
    /// A block that does not continue where the previous ended (CoAP framing).
    CMP_COAP_BLOCK_OUT_OF_ORDER = 704,
    /// A non-last block not of the block size, or a last block longer (CoAP framing).
    CMP_COAP_WRONG_BLOCK_LENGTH = 705,
    /// The block size grew during a transfer (CoAP framing).
    CMP_COAP_BLOCK_SIZE_INCREASED = 706,
    /// The reassembled body exceeds the cap (CoAP framing).
    CMP_COAP_TOO_LARGE = 707,
    /// A block after the last one (CoAP framing).
    CMP_COAP_ALREADY_COMPLETE = 708,
    /// A required pointer argument was NULL (C boundary only).
    CMP_NULL_POINTER = 900,
    /// The output buffer is NULL or too small; the needed size was stored (C boundary only).
    CMP_BUFFER_TOO_SMALL = 901,
    /// A Rust panic was caught: a bug in the library, please report it (C boundary only).
    CMP_PANIC = 902,
}

/// `name()`, `name_nul()` and `ALL` from the variant list; a variant
/// missing here is a compile error (non-exhaustive match).
macro_rules! result_names {
    ($($name:ident),* $(,)?) => {
        impl cmp_result {
            /// Every value, in table order.
            pub const ALL: &[cmp_result] = &[$(cmp_result::$name,)*];

            /// The symbolic name (`"CMP_OK"`, `"CMP_DECODE"`, ...).
            pub const fn name(self) -> &'static str {
                match self {
                    $(cmp_result::$name => stringify!($name),)*
                }
            }

            const fn name_nul(self) -> &'static str {
                match self {
                    $(cmp_result::$name => concat!(stringify!($name), "\0"),)*
                }
            }

            /// The value for a numeric code, if it is one.
            pub fn from_code(code: u32) -> Option<Self> {
                Self::ALL.iter().copied().find(|r| *r as u32 == code)
            }
        }
    };
}

result_names!(
    CMP_OK,
    CMP_USAGE,
    CMP_CONFIG,
    CMP_ENCODE,
    CMP_CRYPTO,
    CMP_TIMEOUT,
    CMP_STORE,
    CMP_DECODE,
    CMP_MESSAGE_TOO_LARGE,
    CMP_NESTING_TOO_DEEP,
    CMP_MISSING_PROTECTION,
    CMP_UNSUPPORTED_ALGORITHM,
    CMP_ITERATION_COUNT_TOO_HIGH,
    CMP_BAD_MESSAGE_CHECK,
    CMP_WRONG_INTEGRITY,
    CMP_UNKNOWN_CREDENTIAL,
    CMP_SIGNER_NOT_TRUSTED,
    CMP_UNSUPPORTED_VERSION,
    CMP_MISSING_HEADER_FIELD,
    CMP_TRANSACTION_ID_MISMATCH,
    CMP_TRANSACTION_ID_IN_USE,
    CMP_BAD_RECIPIENT_NONCE,
    CMP_BAD_SENDER_NONCE,
    CMP_BAD_TIME,
    CMP_WRONG_SENDER,
    CMP_UNEXPECTED_BODY,
    CMP_BAD_REQUEST,
    CMP_BAD_CERT_TEMPLATE,
    CMP_BAD_POP,
    CMP_BAD_CERT_ID,
    CMP_INCORRECT_DATA,
    CMP_NOT_AUTHORIZED,
    CMP_CERT_CONFIRMED,
    CMP_MISSING_TIME_STAMP,
    CMP_WRONG_AUTHORITY,
    CMP_CERT_REVOKED,
    CMP_DUPLICATE_CERT_REQ,
    CMP_KEY_NOT_FOR_US,
    CMP_KEY_DECRYPT_FAILED,
    CMP_KEY_SIGNATURE_INVALID,
    CMP_KEY_MISMATCH,
    CMP_PEER_ERROR,
    CMP_UNAUTHENTICATED_ERROR,
    CMP_NOT_AN_ANNOUNCEMENT,
    CMP_MISSING_NEW_WITH_OLD,
    CMP_UNKNOWN_OLD_ROOT,
    CMP_NEW_WITH_OLD_SIGNATURE,
    CMP_NEW_WITH_OLD_KEY_MISMATCH,
    CMP_NEW_WITH_NEW_NOT_SELF_SIGNED,
    CMP_NEW_ROOT_NOT_CA,
    CMP_NEW_ROOT_NOT_VALID,
    CMP_KEY_NOT_CHANGED,
    CMP_ROOT_NAME_MISMATCH,
    CMP_OLD_WITH_NEW_SIGNATURE,
    CMP_OLD_WITH_NEW_KEY_MISMATCH,
    CMP_ANNOUNCED_CERT_NOT_TRUSTED,
    CMP_BAD_REVOCATION_STATUS,
    CMP_EMPTY_CRL_ANNOUNCEMENT,
    CMP_CRL_ISSUER_UNKNOWN,
    CMP_CRL_SIGNATURE,
    CMP_COAP_RESERVED_BLOCK_SIZE,
    CMP_COAP_BLOCK_OPTION_TOO_LONG,
    CMP_COAP_BLOCK_NUMBER_TOO_LARGE,
    CMP_COAP_MTU_TOO_SMALL,
    CMP_COAP_BLOCK_OUT_OF_ORDER,
    CMP_COAP_WRONG_BLOCK_LENGTH,
    CMP_COAP_BLOCK_SIZE_INCREASED,
    CMP_COAP_TOO_LARGE,
    CMP_COAP_ALREADY_COMPLETE,
    CMP_NULL_POINTER,
    CMP_BUFFER_TOO_SMALL,
    CMP_PANIC,
);

/// Why an entry point failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An error of the core library.
    Core(cmp_core::Error),
    /// A NULL pointer where one is required (the argument name).
    Null(&'static str),
    /// Misuse detected at the boundary.
    Usage(&'static str),
    /// The output buffer is too small.
    BufferTooSmall { needed: usize, given: usize },
    /// An announcement failed its checks (600–616, or a core code).
    Announce(cmp_core::announce::AnnounceError),
    /// CoAP block framing failed (700–708).
    Coap(cmp_core::transport::coap::CoapError),
}

impl From<cmp_core::announce::AnnounceError> for Failure {
    fn from(e: cmp_core::announce::AnnounceError) -> Self {
        Self::Announce(e)
    }
}

impl From<cmp_core::transport::coap::CoapError> for Failure {
    fn from(e: cmp_core::transport::coap::CoapError) -> Self {
        Self::Coap(e)
    }
}

impl From<cmp_core::Error> for Failure {
    fn from(e: cmp_core::Error) -> Self {
        Self::Core(e)
    }
}

impl From<cmp_core::crypto::CryptoError> for Failure {
    fn from(e: cmp_core::crypto::CryptoError) -> Self {
        Self::Core(cmp_core::Error::Crypto(e))
    }
}

impl Failure {
    fn result(&self) -> cmp_result {
        match self {
            Self::Core(e) => {
                cmp_result::from_code(u32::from(e.code())).unwrap_or(cmp_result::CMP_USAGE)
            }
            Self::Null(_) => cmp_result::CMP_NULL_POINTER,
            Self::Usage(_) => cmp_result::CMP_USAGE,
            Self::BufferTooSmall { .. } => cmp_result::CMP_BUFFER_TOO_SMALL,
            Self::Announce(e) => {
                cmp_result::from_code(u32::from(e.code())).unwrap_or(cmp_result::CMP_USAGE)
            }
            Self::Coap(e) => {
                cmp_result::from_code(u32::from(e.code())).unwrap_or(cmp_result::CMP_USAGE)
            }
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Core(e) => write!(f, "{e}"),
            Self::Null(what) => write!(f, "argument `{what}` is NULL"),
            Self::Usage(what) => write!(f, "API misuse: {what}"),
            Self::Announce(e) => write!(f, "{e}"),
            Self::Coap(e) => write!(f, "{e}"),
            Self::BufferTooSmall { needed, given } => {
                write!(
                    f,
                    "output buffer of {given} bytes is too small, {needed} needed"
                )
            }
        }
    }
}

/// Longest stored error message (longer ones are truncated): the message
/// lives in a fixed thread-local buffer, never on the heap.
const MESSAGE_CAP: usize = 512;

struct LastError {
    text: [u8; MESSAGE_CAP],
    len: usize,
}

impl fmt::Write for LastError {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for ch in s.chars() {
            let mut tmp = [0u8; 4];
            let bytes = ch.encode_utf8(&mut tmp).as_bytes();
            // keep one byte for the NUL, never split a character
            let end = self.len.saturating_add(bytes.len());
            if end >= MESSAGE_CAP {
                return Err(fmt::Error);
            }
            if let Some(dst) = self.text.get_mut(self.len..end) {
                dst.copy_from_slice(bytes);
                self.len = end;
            }
        }
        Ok(())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = const {
        RefCell::new(LastError { text: [0; MESSAGE_CAP], len: 0 })
    };
}

fn set_last_error(result: cmp_result, message: &dyn fmt::Display) {
    LAST_ERROR.with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut() {
            last.len = 0;
            // a message that does not fit is cut off; nothing else can fail
            let _ = write!(last, "{}: {message}", result.name());
        }
    });
}

/// Run an entry point's body: catch panics, map failures to `cmp_result`
/// and record the message.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> cmp_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => cmp_result::CMP_OK,
        Ok(Err(failure)) => {
            let result = failure.result();
            set_last_error(result, &failure);
            result
        }
        Err(_) => {
            set_last_error(cmp_result::CMP_PANIC, &"internal error (panic caught)");
            cmp_result::CMP_PANIC
        }
    }
}

/// Run a body that cannot report an error (free functions, getters with a
/// default) with panics caught.
pub(crate) fn guard_value<T>(default: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(default)
}

/// The message of the last failed call on this thread, e.g.
/// `"CMP_DECODE: malformed message: ..."`, copied NUL-terminated into
/// `buf` (capacity `cap`), cut off at `cap - 1` bytes if longer.
///
/// Returns the length of the full message without the NUL (like snprintf),
/// 0 when no call has failed on this thread yet. `buf` may be NULL when
/// `cap` is 0. Successful calls leave the message unchanged.
/// The message is at most 511 bytes; it is kept in thread-local storage,
/// so there is nothing to free.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_last_error_message(buf: *mut c_char, cap: usize) -> usize {
    guard_value(0, || {
        LAST_ERROR.with(|cell| {
            let Ok(last) = cell.try_borrow() else {
                return 0;
            };
            let text = last.text.get(..last.len).unwrap_or_default();
            if !buf.is_null() && cap > 0 {
                let n = text.len().min(cap - 1);
                // SAFETY: the caller guarantees `cap` writable bytes at buf;
                // n + 1 <= cap, and the thread-local cannot overlap it.
                unsafe {
                    std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
                    buf.add(n).write(0);
                }
            }
            text.len()
        })
    })
}

/// The symbolic name of a result code (`"CMP_OK"`, `"CMP_DECODE"`, ...), or
/// `"CMP_UNKNOWN"` for a value that is not one.
///
/// Ownership: the string is static; do not free it. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_result_name(result: u32) -> *const c_char {
    let name = cmp_result::from_code(result).map_or("CMP_UNKNOWN\0", cmp_result::name_nul);
    name.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cmp_core::Error;

    /// The enum matches docs/errors.md row by row, and the table lists
    /// every code the enum has below 900.
    #[test]
    fn enum_matches_the_shared_table() {
        let table =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md"))
                .unwrap();
        let mut rows = 0;
        for line in table.lines() {
            let cols: Vec<&str> = line.split('|').map(str::trim).collect();
            let (Some(code), Some(name)) = (cols.get(1), cols.get(2)) else {
                continue;
            };
            let Ok(code) = code.parse::<u32>() else {
                continue;
            };
            let name = name.trim_matches('`');
            let r = cmp_result::from_code(code).unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(r.name(), name);
            rows += 1;
        }
        let core_codes = cmp_result::ALL
            .iter()
            .filter(|r| (100..900).contains(&(**r as u32)))
            .count();
        assert_eq!(rows, core_codes);
        assert_eq!(cmp_result::CMP_OK as u32, 0);
    }

    /// Every core error maps to the enum value of its own code and name.
    #[test]
    fn core_errors_map_by_code_and_name() {
        let errors = Error::catalogue();
        for e in errors {
            let r = Failure::Core(e.clone()).result();
            assert_eq!(r as u32, u32::from(e.code()), "{e:?}");
            assert_eq!(r.name(), e.name(), "{e:?}");
        }
    }

    #[test]
    fn panics_are_caught_and_messages_bounded() {
        #[allow(clippy::panic)]
        let r = guard(|| panic!("boom"));
        assert_eq!(r, cmp_result::CMP_PANIC);
        let mut buf = [0 as c_char; 64];
        let n = cmp_last_error_message(buf.as_mut_ptr(), buf.len());
        assert!(n > 0 && n < 64);
        let long = "x".repeat(10_000);
        let r = guard(|| Err(Failure::Core(Error::Store(long.clone()))));
        assert_eq!(r, cmp_result::CMP_STORE);
        let n = cmp_last_error_message(std::ptr::null_mut(), 0);
        assert!(n < MESSAGE_CAP, "{n}");
        let mut small = [0x7f as c_char; 4];
        cmp_last_error_message(small.as_mut_ptr(), small.len());
        assert_eq!(small[3], 0);
    }

    #[test]
    fn result_names() {
        let name = |r| {
            // SAFETY: cmp_result_name returns static NUL-terminated strings.
            unsafe { std::ffi::CStr::from_ptr(cmp_result_name(r)) }
                .to_str()
                .unwrap()
        };
        assert_eq!(name(0), "CMP_OK");
        assert_eq!(name(200), "CMP_DECODE");
        assert_eq!(name(12345), "CMP_UNKNOWN");
    }
}
