//! CoAP transfer of CMP messages (RFC 9482): the block-wise framing of
//! RFC 7959 for a CoAP stack the application brings. Sending: pick a
//! block size with cmp_coap_block_size_for_mtu, cut the message with
//! cmp_coap_block; receiving: feed each block to a `cmp_coap_reassembler`.

use cmp_core::transport::coap::{self, Block, BlockSize, CONTENT_FORMAT, Progress, Reassembler};

use crate::error::{Failure, cmp_result, guard, guard_value};
use crate::{
    free_handle, in_bytes, in_mut, in_ref, out_bytes, out_handle, out_handle_clear, out_value,
};

/// The CoAP Content-Format of a CMP message (application/pkixcmp).
pub const CMP_COAP_CONTENT_FORMAT: u16 = 259;
// A literal for cbindgen, held to the core's value at compile time.
const _: () = assert!(CMP_COAP_CONTENT_FORMAT == CONTENT_FORMAT);

/// The longest Block1/Block2 option value, in bytes.
pub const CMP_COAP_BLOCK_OPTION_MAX: usize = 3;

/// The block size exponent SZX (0..6: 16 to 1024 bytes) of the largest
/// block whose payload fits in `mtu` bytes after `overhead` bytes (IP,
/// UDP, DTLS, CoAP header, token and options), into `*szx`.
/// Errors: CMP_NULL_POINTER, CMP_COAP_MTU_TOO_SMALL.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_coap_block_size_for_mtu(
    mtu: usize,
    overhead: usize,
    szx: *mut u8,
) -> cmp_result {
    guard(|| {
        let size = BlockSize::for_mtu(mtu, overhead)?;
        // SAFETY: NULL-checked by out_value; writable by contract.
        unsafe { out_value(szx, size.szx(), "szx") }
    })
}

/// How many blocks of size exponent `szx` a body of `body_len` bytes takes
/// (an empty body is one empty block), into `*count`.
/// Errors: CMP_NULL_POINTER, CMP_COAP_RESERVED_BLOCK_SIZE (szx > 6),
/// CMP_COAP_BLOCK_NUMBER_TOO_LARGE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_coap_block_count(body_len: usize, szx: u8, count: *mut usize) -> cmp_result {
    guard(|| {
        let size = BlockSize::from_szx(szx)?;
        let n = body_len.div_ceil(size.bytes()).max(1);
        if n - 1 > coap::MAX_BLOCK_NUMBER as usize {
            return Err(coap::CoapError::BlockNumberTooLarge.into());
        }
        // SAFETY: NULL-checked by out_value; writable by contract.
        unsafe { out_value(count, n, "count") }
    })
}

/// Block `num` of `body` cut into blocks of size exponent `szx`: the
/// Block1/Block2 option value to send (0 to 3 bytes) into `option` (room
/// for CMP_COAP_BLOCK_OPTION_MAX bytes) with its length in `*option_len`,
/// and the block's payload as `*payload_offset`/`*payload_len` into `body`
/// (nothing is copied). Errors: CMP_NULL_POINTER,
/// CMP_COAP_RESERVED_BLOCK_SIZE, CMP_COAP_BLOCK_NUMBER_TOO_LARGE, CMP_USAGE
/// (`num` >= cmp_coap_block_count).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn cmp_coap_block(
    body: *const u8,
    body_len: usize,
    szx: u8,
    num: u32,
    option: *mut u8,
    option_len: *mut usize,
    payload_offset: *mut usize,
    payload_len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: a buffer of `body_len` bytes (contract).
        let body = unsafe { in_bytes(body, body_len, "body")? };
        let blocks = coap::split(body, BlockSize::from_szx(szx)?)?;
        let index =
            usize::try_from(num).map_err(|_| Failure::Usage("block number out of range"))?;
        let (block, payload) = blocks
            .get(index)
            .ok_or(Failure::Usage("block number out of range"))?;
        let value = block.encode()?;
        // SAFETY: output-buffer convention with a fixed capacity; the other
        // pointers are NULL-checked by out_value and writable by contract.
        unsafe {
            out_bytes(&value, option, CMP_COAP_BLOCK_OPTION_MAX, option_len)?;
            out_value(payload_offset, block.offset(), "payload_offset")?;
            out_value(payload_len, payload.len(), "payload_len")
        }
    })
}

/// Decode a Block1/Block2 option value (`len` 0..3 bytes) into its block
/// number, "more" flag and size exponent. Any output pointer may be NULL.
/// Errors: CMP_NULL_POINTER (`value` with `len` > 0),
/// CMP_COAP_BLOCK_OPTION_TOO_LONG, CMP_COAP_RESERVED_BLOCK_SIZE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_coap_block_decode(
    value: *const u8,
    len: usize,
    num: *mut u32,
    more: *mut bool,
    szx: *mut u8,
) -> cmp_result {
    guard(|| {
        // SAFETY: a buffer of `len` bytes (contract).
        let value = unsafe { in_bytes(value, len, "value")? };
        let block = Block::decode(value)?;
        // SAFETY: each pointer is checked for NULL here and writable by contract.
        unsafe {
            if !num.is_null() {
                out_value(num, block.num, "num")?;
            }
            if !more.is_null() {
                out_value(more, block.more, "more")?;
            }
            if !szx.is_null() {
                out_value(szx, block.size.szx(), "szx")?;
            }
        }
        Ok(())
    })
}

/// Reassembles one CMP message from its CoAP blocks, in order. Made by
/// cmp_coap_reassembler_new, freed by cmp_coap_reassembler_free.
pub struct cmp_coap_reassembler {
    inner: Reassembler,
    body: Option<Vec<u8>>,
}

/// A reassembler for bodies up to `max_total` bytes (use the configured
/// maximum message size). On success `*out` owns it.
/// Errors: CMP_NULL_POINTER.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_coap_reassembler_new(
    max_total: usize,
    out: *mut *mut cmp_coap_reassembler,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        let r = cmp_coap_reassembler {
            inner: Reassembler::new(max_total),
            body: None,
        };
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, r) }
    })
}

/// Add the block with Block option value `option` (`option_len` bytes) and
/// `payload`. `*complete` becomes true with the last block (then read the
/// message with cmp_coap_reassembler_body). While more are needed, the
/// option value of the block to ask for next (Block2) or to expect
/// (Block1) goes to `next` (room for CMP_COAP_BLOCK_OPTION_MAX bytes; may
/// be NULL) with its length in `*next_len` (may be NULL). A rejected block
/// changes nothing, so the right one may follow. Errors: CMP_NULL_POINTER,
/// CMP_COAP_BLOCK_OPTION_TOO_LONG, CMP_COAP_RESERVED_BLOCK_SIZE,
/// CMP_COAP_BLOCK_OUT_OF_ORDER, CMP_COAP_WRONG_BLOCK_LENGTH,
/// CMP_COAP_BLOCK_SIZE_INCREASED, CMP_COAP_TOO_LARGE,
/// CMP_COAP_ALREADY_COMPLETE, CMP_COAP_BLOCK_NUMBER_TOO_LARGE.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn cmp_coap_reassembler_push(
    r: *mut cmp_coap_reassembler,
    option: *const u8,
    option_len: usize,
    payload: *const u8,
    payload_len: usize,
    complete: *mut bool,
    next: *mut u8,
    next_len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: a live handle or NULL; buffers of the given lengths.
        let (r, option, payload) = unsafe {
            (
                in_mut(r, "r")?,
                in_bytes(option, option_len, "option")?,
                in_bytes(payload, payload_len, "payload")?,
            )
        };
        if complete.is_null() {
            return Err(Failure::Null("complete"));
        }
        let block = Block::decode(option)?;
        match r.inner.push(block, payload)? {
            Progress::NeedMore { next: want } => {
                let value = want.encode()?;
                if !next_len.is_null() {
                    // SAFETY: output-buffer convention with a fixed capacity.
                    unsafe { out_bytes(&value, next, CMP_COAP_BLOCK_OPTION_MAX, next_len)? };
                }
                // SAFETY: checked for NULL above; writable by contract.
                unsafe { out_value(complete, false, "complete") }
            }
            Progress::Complete(body) => {
                r.body = Some(body);
                // SAFETY: checked for NULL above; writable by contract.
                unsafe { out_value(complete, true, "complete") }
            }
        }
    })
}

/// Bytes received so far, the whole message once complete (0 for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_coap_reassembler_received(r: *const cmp_coap_reassembler) -> usize {
    guard_value(0, || {
        // SAFETY: NULL or a live handle (contract).
        unsafe { in_ref(r, "r") }
            .map_or(0, |r| r.body.as_ref().map_or(r.inner.received(), Vec::len))
    })
}

/// The reassembled message, by the output-buffer convention, once the last
/// block has arrived. Errors: CMP_NULL_POINTER, CMP_USAGE (not complete),
/// CMP_BUFFER_TOO_SMALL.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_coap_reassembler_body(
    r: *const cmp_coap_reassembler,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let r = unsafe { in_ref(r, "r")? };
        let body = r
            .body
            .as_ref()
            .ok_or(Failure::Usage("the message is not complete"))?;
        // SAFETY: output-buffer convention (contract).
        unsafe { out_bytes(body, buf, cap, len) }
    })
}

/// Free a reassembler; NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_coap_reassembler_free(r: *mut cmp_coap_reassembler) {
    guard_value((), || {
        // SAFETY: NULL or a handle from this library not yet freed.
        unsafe { free_handle(r) }
    });
}
