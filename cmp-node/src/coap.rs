//! CoAP transfer of CMP messages (RFC 9482): the content format, the
//! operation labels of the Uri-Path, and block-wise framing (RFC 7959):
//! `coapSplit` cuts a message into Block1/Block2 blocks, `CoapReassembler`
//! puts received blocks together. The CoAP messages themselves (UDP,
//! tokens, retransmission) are the caller's CoAP library's business.

use cmp_core::Limits;
use cmp_core::message::ParsedMessage;
use cmp_core::transport::coap::{self, Block, BlockSize, Progress, Reassembler};
use napi::bindgen_prelude::{Buffer, Env};
use napi_derive::napi;

use crate::errors::{JsResult, Res, usage};

/// The CoAP Content-Format number of application/pkixcmp (RFC 9482): 259.
#[napi]
pub(crate) fn coap_content_format() -> u32 {
    u32::from(coap::CONTENT_FORMAT)
}

/// One block of a body cut by `coapSplit`.
#[napi(object)]
pub(crate) struct CoapBlock {
    /// The block number.
    pub num: u32,
    /// Whether more blocks follow (the M bit).
    pub more: bool,
    /// The block size in bytes (16 to 1024).
    pub size: u32,
    /// The byte offset of the block in the body.
    pub offset: u32,
    /// The Block1/Block2 option value (0 to 3 bytes, RFC 7959 section 2.2).
    pub option: Buffer,
    /// The payload of this block.
    pub payload: Buffer,
}

fn size_of_bytes(bytes: u32) -> Res<BlockSize> {
    (0..=6u8)
        .filter_map(|szx| BlockSize::from_szx(szx).ok())
        .find(|s| s.bytes() == bytes as usize)
        .ok_or_else(|| usage(format!("block size must be 16, 32, ..., 1024, not {bytes}")))
}

fn u32_of(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The largest block size (bytes) whose block fits a datagram of `mtu`
/// bytes after `overhead` bytes of headers and options; throws
/// CMP_COAP_MTU_TOO_SMALL when not even 16 bytes fit.
#[napi]
pub(crate) fn coap_block_size_for_mtu(env: Env, mtu: u32, overhead: u32) -> napi::Result<u32> {
    let run = || -> Res<u32> {
        let size = BlockSize::for_mtu(mtu as usize, overhead as usize)?;
        Ok(u32_of(size.bytes()))
    };
    run().js(&env)
}

/// Cut `body` (a DER PKIMessage) into blocks of `blockSize` bytes (16, 32,
/// ..., 1024): every block but the last is full; an empty body is one
/// empty block.
#[napi]
pub(crate) fn coap_split(env: Env, body: Buffer, block_size: u32) -> napi::Result<Vec<CoapBlock>> {
    let run = || -> Res<Vec<CoapBlock>> {
        let size = size_of_bytes(block_size)?;
        coap::split(&body, size)?
            .into_iter()
            .map(|(block, payload)| {
                Ok(CoapBlock {
                    num: block.num,
                    more: block.more,
                    size: u32_of(block.size.bytes()),
                    offset: u32_of(block.offset()),
                    option: Buffer::from(block.encode()?),
                    payload: Buffer::from(payload.to_vec()),
                })
            })
            .collect()
    };
    run().js(&env)
}

/// The CoAP operation label of a request message (RFC 9483 section 6.2,
/// short forms: "ir", "cr", "kur", "p10" for p10cr, "rr", "nest"), or null
/// for body types without one.
#[napi]
pub(crate) fn coap_operation_label(
    env: Env,
    message: Buffer,
) -> napi::Result<Option<&'static str>> {
    let run = || -> Res<Option<&'static str>> {
        let parsed = ParsedMessage::decode(&message, &Limits::DEFAULT)?;
        Ok(coap::operation_label(parsed.body_type()))
    };
    run().js(&env)
}

/// The Uri-Path option values, in order: ".well-known", "cmp", then "p"
/// and `name` when given, then `label` when given (RFC 9482 section 2.1).
#[napi]
pub(crate) fn coap_uri_path(name: Option<String>, label: Option<String>) -> Vec<String> {
    coap::uri_path(name.as_deref(), label.as_deref())
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// What `CoapReassembler.push` did with a block.
#[napi(object)]
pub struct CoapProgress {
    /// Whether the last block arrived.
    pub complete: bool,
    /// The whole body once complete, else null.
    pub body: Option<Buffer>,
    /// Not complete: the option value of the block to ask for (Block2) or
    /// expect (Block1) next; else null.
    pub next: Option<Buffer>,
}

/// Reassembles one body from its blocks, in order: each block must start
/// where the previous ended, all but the last be of the block size, the
/// size never grow, the body stay under the cap. After an error the state
/// is kept (the block dropped), so the sender may repeat the right one.
#[napi]
pub struct CoapReassembler {
    inner: Reassembler,
}

#[napi]
impl CoapReassembler {
    /// A reassembler for bodies up to `maxTotal` bytes (default: the
    /// default message size limit).
    #[napi(constructor)]
    pub fn new(max_total: Option<u32>) -> Self {
        let max = max_total.map_or(Limits::DEFAULT.max_message_size, |m| m as usize);
        Self {
            inner: Reassembler::new(max),
        }
    }

    /// Add a block: its Block1/Block2 option value and payload. Throws
    /// CMP_COAP_* errors (704 out of order, 705 wrong length, ...).
    #[napi]
    pub fn push(
        &mut self,
        env: Env,
        option: Buffer,
        payload: Buffer,
    ) -> napi::Result<CoapProgress> {
        let mut run = || -> Res<CoapProgress> {
            let block = Block::decode(&option)?;
            Ok(match self.inner.push(block, &payload)? {
                Progress::NeedMore { next } => CoapProgress {
                    complete: false,
                    body: None,
                    next: Some(Buffer::from(next.encode()?)),
                },
                Progress::Complete(body) => CoapProgress {
                    complete: true,
                    body: Some(Buffer::from(body)),
                    next: None,
                },
            })
        };
        run().js(&env)
    }

    /// Bytes received so far.
    #[napi(getter)]
    pub fn received(&self) -> u32 {
        u32_of(self.inner.received())
    }
}
