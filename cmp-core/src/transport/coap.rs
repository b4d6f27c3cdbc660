//! CMP over CoAP (RFC 9482), sans-IO: the framing a CoAP stack needs to
//! carry PKIMessages, without any CoAP stack.
//!
//! - [`CONTENT_FORMAT`]: the Content-Format number of `application/pkixcmp`;
//! - [`uri_path`] / [`operation_label`]: the Uri-Path options of a request
//!   (`/.well-known/cmp[/p/<name>][/<label>]`, with the short CoAP labels);
//! - [`BlockSize`], [`Block`]: the Block1/Block2 option value of RFC 7959
//!   (block number, more flag, size exponent), encoded and decoded;
//! - [`BlockSize::for_mtu`]: the largest block that fits a path MTU;
//! - [`split`]: a PKIMessage cut into blocks;
//! - [`Reassembler`]: blocks put back together, checking order, sizes and
//!   a cap on the total, with a [`CoapError`] for each violation.
//!
//! A client sends a large request as Block1 blocks (the server answers
//! 2.31 Continue until the last) and fetches a large response block by block
//! with Block2; the server does the reverse. Both sides use [`split`] to
//! send and a [`Reassembler`] to receive.
//!
//! ```
//! use cmp_core::transport::coap::{self, BlockSize, Progress, Reassembler};
//!
//! # fn main() -> Result<(), coap::CoapError> {
//! let request = vec![0x30u8; 700]; // a DER PKIMessage from ClientTransaction::poll_transmit
//! // 6LoWPAN: 127-byte frames, about 60 bytes of headers and options
//! let size = BlockSize::for_mtu(127, 60)?;
//! assert_eq!(size.bytes(), 64);
//! assert_eq!(coap::uri_path(None, Some("ir")), [".well-known", "cmp", "ir"]);
//!
//! let mut server = Reassembler::new(64 * 1024);
//! for (block, payload) in coap::split(&request, size)? {
//!     // client: POST with Content-Format 259 and Block1 = block.encode()?
//!     let wire = coap::Block::decode(&block.encode()?)?;
//!     match server.push(wire, payload)? {
//!         Progress::NeedMore { .. } => {} // server: 2.31 Continue
//!         Progress::Complete(body) => assert_eq!(body, request), // hand to the Responder
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use alloc::vec::Vec;
use core::fmt;

use crate::asn1::BodyType;

/// The CoAP Content-Format number of `application/pkixcmp` (IANA "CoAP
/// Content-Formats").
pub const CONTENT_FORMAT: u16 = 259;

/// CoAP option numbers used here (RFC 7252, RFC 7959).
pub mod option {
    /// Uri-Path.
    pub const URI_PATH: u16 = 11;
    /// Content-Format.
    pub const CONTENT_FORMAT: u16 = 12;
    /// Block2 (response payload blocks).
    pub const BLOCK2: u16 = 23;
    /// Block1 (request payload blocks).
    pub const BLOCK1: u16 = 27;
    /// Size2 (total response size).
    pub const SIZE2: u16 = 28;
    /// Size1 (total request size).
    pub const SIZE1: u16 = 60;
}

/// CoAP response codes of block-wise transfer (RFC 7959), as the code byte
/// (class << 5 | detail).
pub mod code {
    /// 2.31 Continue: a Block1 block was received, send the next.
    pub const CONTINUE: u8 = (2 << 5) | 31;
    /// 4.08 Request Entity Incomplete: a Block1 block out of sequence.
    pub const REQUEST_ENTITY_INCOMPLETE: u8 = (4 << 5) | 8;
    /// 4.13 Request Entity Too Large: the body exceeds what the server takes.
    pub const REQUEST_ENTITY_TOO_LARGE: u8 = (4 << 5) | 13;
}

/// The Uri-Path segments of the well-known CMP resource.
const WELL_KNOWN: [&str; 2] = [".well-known", "cmp"];

/// The CoAP operation label for a request body (RFC 9483 section 6.2 and
/// the IANA "CMP Well-Known URI Path Segments" registry: the short forms
/// for CoAP).
pub fn operation_label(body: BodyType) -> Option<&'static str> {
    Some(match body {
        BodyType::Ir => "ir",
        BodyType::Cr => "cr",
        BodyType::Kur => "kur",
        BodyType::P10cr => "p10",
        BodyType::Rr => "rr",
        BodyType::Nested => "nest",
        _ => return None,
    })
}

/// CoAP labels for general messages: caCerts, rootCaKeyUpdate,
/// certReqTemplate, CRL update.
pub const GENM_LABELS: [&str; 4] = ["crts", "rcu", "att", "crls"];

/// The Uri-Path option values, in order, for an optional CA/profile name
/// and an optional operation label: `.well-known`, `cmp`, then `p` and the
/// name if given, then the label if given. `name` and `label` must be
/// single path segments.
pub fn uri_path<'a>(name: Option<&'a str>, label: Option<&'a str>) -> Vec<&'a str> {
    let mut segments: Vec<&'a str> = WELL_KNOWN.to_vec();
    if let Some(n) = name {
        segments.push("p");
        segments.push(n);
    }
    if let Some(l) = label {
        segments.push(l);
    }
    segments
}

/// What went wrong in block-wise framing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CoapError {
    /// SZX 7 is reserved (BERT, RFC 8323); only 0..=6 are block sizes here.
    ReservedBlockSize,
    /// A Block option value longer than 3 bytes.
    BlockOptionTooLong(usize),
    /// A block number above 2^20 - 1, or a body needing more blocks than that.
    BlockNumberTooLarge,
    /// The path MTU leaves no room for the smallest block (16 bytes).
    MtuTooSmall {
        /// Bytes left for the payload.
        available: usize,
    },
    /// A block that does not continue where the previous one ended.
    OutOfOrder {
        /// The byte offset expected next.
        expected: usize,
        /// The byte offset of the block received.
        got: usize,
    },
    /// A block other than the last that is not exactly the block size, or
    /// a last block longer than it.
    WrongBlockLength {
        /// The block size.
        size: usize,
        /// The payload length received.
        got: usize,
    },
    /// The block size grew during the transfer (only reductions are allowed).
    BlockSizeIncreased,
    /// The body would exceed the cap.
    TooLarge {
        /// The cap, bytes.
        max: usize,
    },
    /// A block arrived after the last one.
    AlreadyComplete,
}

impl CoapError {
    /// Every variant once (example payloads), for tables and bindings.
    pub fn catalogue() -> Vec<CoapError> {
        alloc::vec![
            Self::ReservedBlockSize,
            Self::BlockOptionTooLong(4),
            Self::BlockNumberTooLarge,
            Self::MtuTooSmall { available: 0 },
            Self::OutOfOrder {
                expected: 0,
                got: 16
            },
            Self::WrongBlockLength { size: 16, got: 1 },
            Self::BlockSizeIncreased,
            Self::TooLarge { max: 0 },
            Self::AlreadyComplete,
        ]
    }

    /// Stable numeric code (table in `docs/errors.md`).
    pub fn code(&self) -> u16 {
        match self {
            Self::ReservedBlockSize => 700,
            Self::BlockOptionTooLong(_) => 701,
            Self::BlockNumberTooLarge => 702,
            Self::MtuTooSmall { .. } => 703,
            Self::OutOfOrder { .. } => 704,
            Self::WrongBlockLength { .. } => 705,
            Self::BlockSizeIncreased => 706,
            Self::TooLarge { .. } => 707,
            Self::AlreadyComplete => 708,
        }
    }

    /// Stable name (table in `docs/errors.md`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ReservedBlockSize => "CMP_COAP_RESERVED_BLOCK_SIZE",
            Self::BlockOptionTooLong(_) => "CMP_COAP_BLOCK_OPTION_TOO_LONG",
            Self::BlockNumberTooLarge => "CMP_COAP_BLOCK_NUMBER_TOO_LARGE",
            Self::MtuTooSmall { .. } => "CMP_COAP_MTU_TOO_SMALL",
            Self::OutOfOrder { .. } => "CMP_COAP_BLOCK_OUT_OF_ORDER",
            Self::WrongBlockLength { .. } => "CMP_COAP_WRONG_BLOCK_LENGTH",
            Self::BlockSizeIncreased => "CMP_COAP_BLOCK_SIZE_INCREASED",
            Self::TooLarge { .. } => "CMP_COAP_TOO_LARGE",
            Self::AlreadyComplete => "CMP_COAP_ALREADY_COMPLETE",
        }
    }

    /// The CoAP response code a server answers a Block1 failure with.
    pub fn response_code(&self) -> u8 {
        match self {
            Self::TooLarge { .. } => code::REQUEST_ENTITY_TOO_LARGE,
            _ => code::REQUEST_ENTITY_INCOMPLETE,
        }
    }
}

impl fmt::Display for CoapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedBlockSize => f.write_str("block size exponent 7 is reserved"),
            Self::BlockOptionTooLong(n) => write!(f, "block option of {n} bytes (at most 3)"),
            Self::BlockNumberTooLarge => f.write_str("block number above 2^20 - 1"),
            Self::MtuTooSmall { available } => {
                write!(
                    f,
                    "{available} bytes per message cannot carry a 16-byte block"
                )
            }
            Self::OutOfOrder { expected, got } => {
                write!(f, "block at offset {got}, expected offset {expected}")
            }
            Self::WrongBlockLength { size, got } => {
                write!(f, "block of {got} bytes with block size {size}")
            }
            Self::BlockSizeIncreased => f.write_str("the block size grew during the transfer"),
            Self::TooLarge { max } => write!(f, "body larger than {max} bytes"),
            Self::AlreadyComplete => f.write_str("block after the last one"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CoapError {}

/// The largest block number a Block option can carry (20 bits).
pub const MAX_BLOCK_NUMBER: u32 = (1 << 20) - 1;

/// A block size: 2^(SZX + 4) bytes, SZX 0..=6 (16 to 1024 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockSize(u8);

impl BlockSize {
    /// The smallest block, 16 bytes.
    pub const MIN: BlockSize = BlockSize(0);
    /// The largest block, 1024 bytes.
    pub const MAX: BlockSize = BlockSize(6);

    /// The size with exponent `szx` (0..=6).
    pub fn from_szx(szx: u8) -> Result<Self, CoapError> {
        if szx <= 6 {
            Ok(Self(szx))
        } else {
            Err(CoapError::ReservedBlockSize)
        }
    }

    /// The exponent SZX.
    pub fn szx(self) -> u8 {
        self.0
    }

    /// The size in bytes.
    pub fn bytes(self) -> usize {
        16usize << self.0
    }

    /// The largest block whose payload fits in `mtu` bytes once
    /// `overhead` bytes (IP, UDP, DTLS, CoAP header, token and options) are
    /// taken off.
    pub fn for_mtu(mtu: usize, overhead: usize) -> Result<Self, CoapError> {
        let available = mtu.saturating_sub(overhead);
        (0..=6u8)
            .rev()
            .map(Self)
            .find(|s| s.bytes() <= available)
            .ok_or(CoapError::MtuTooSmall { available })
    }
}

/// The value of a Block1 or Block2 option (RFC 7959 section 2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Block {
    /// The block number (offset / size).
    pub num: u32,
    /// Whether more blocks follow.
    pub more: bool,
    /// The block size.
    pub size: BlockSize,
}

impl Block {
    /// The byte offset of the block in the body.
    pub fn offset(&self) -> usize {
        (self.num as usize).saturating_mul(self.size.bytes())
    }

    /// The option value: NUM << 4 | M << 3 | SZX, as an unsigned integer in
    /// the fewest bytes (0 to 3).
    pub fn encode(&self) -> Result<Vec<u8>, CoapError> {
        if self.num > MAX_BLOCK_NUMBER {
            return Err(CoapError::BlockNumberTooLarge);
        }
        let value = (self.num << 4) | (u32::from(self.more) << 3) | u32::from(self.size.szx());
        let bytes = value.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        Ok(bytes.get(skip..).unwrap_or_default().to_vec())
    }

    /// Decode an option value.
    pub fn decode(value: &[u8]) -> Result<Self, CoapError> {
        if value.len() > 3 {
            return Err(CoapError::BlockOptionTooLong(value.len()));
        }
        let v = value.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        Ok(Self {
            num: v >> 4,
            more: v & 0x08 != 0,
            size: BlockSize::from_szx((v & 0x07) as u8)?,
        })
    }
}

/// Cut `body` into blocks of `size`: every block but the last is full.
/// An empty body is one empty block.
pub fn split(body: &[u8], size: BlockSize) -> Result<Vec<(Block, &[u8])>, CoapError> {
    let n = size.bytes();
    let count = body.len().div_ceil(n).max(1);
    if count - 1 > MAX_BLOCK_NUMBER as usize {
        return Err(CoapError::BlockNumberTooLarge);
    }
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let start = i * n;
        let end = (start + n).min(body.len());
        let chunk = body.get(start..end).unwrap_or_default();
        out.push((
            Block {
                num: i as u32,
                more: i + 1 < count,
                size,
            },
            chunk,
        ));
    }
    Ok(out)
}

/// What [`Reassembler::push`] did with a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Stored; more blocks are needed. A Block1 receiver answers 2.31
    /// Continue; a Block2 receiver asks for `next`.
    NeedMore {
        /// The block to ask for next (Block2), or to expect (Block1).
        next: Block,
    },
    /// The last block arrived: the whole body.
    Complete(Vec<u8>),
}

/// Reassembles one body from its blocks, in order.
///
/// Blocks must arrive in sequence (each starts where the previous ended);
/// every block but the last is exactly the block size; the size may shrink
/// during the transfer (the receiver asked for smaller blocks) but never
/// grow; and the body never exceeds the cap (use the configured
/// [`crate::Limits::max_message_size`]).
#[derive(Clone, Debug)]
pub struct Reassembler {
    max_total: usize,
    size: Option<BlockSize>,
    body: Vec<u8>,
    complete: bool,
}

impl Reassembler {
    /// A reassembler accepting bodies up to `max_total` bytes.
    pub fn new(max_total: usize) -> Self {
        Self {
            max_total,
            size: None,
            body: Vec::new(),
            complete: false,
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> usize {
        self.body.len()
    }

    /// Add one block. After an error the reassembler keeps its state (the
    /// offending block is dropped), so a sender may repeat the right block.
    pub fn push(&mut self, block: Block, payload: &[u8]) -> Result<Progress, CoapError> {
        if self.complete {
            return Err(CoapError::AlreadyComplete);
        }
        if let Some(previous) = self.size
            && block.size > previous
        {
            return Err(CoapError::BlockSizeIncreased);
        }
        if block.num > MAX_BLOCK_NUMBER {
            return Err(CoapError::BlockNumberTooLarge);
        }
        let offset = block.offset();
        if offset != self.body.len() {
            return Err(CoapError::OutOfOrder {
                expected: self.body.len(),
                got: offset,
            });
        }
        let n = block.size.bytes();
        let length_ok = if block.more {
            payload.len() == n
        } else {
            payload.len() <= n
        };
        if !length_ok {
            return Err(CoapError::WrongBlockLength {
                size: n,
                got: payload.len(),
            });
        }
        if self.body.len().saturating_add(payload.len()) > self.max_total {
            return Err(CoapError::TooLarge {
                max: self.max_total,
            });
        }
        self.body.extend_from_slice(payload);
        self.size = Some(block.size);
        if block.more {
            let next_num =
                u32::try_from(self.body.len() / n).map_err(|_| CoapError::BlockNumberTooLarge)?;
            Ok(Progress::NeedMore {
                next: Block {
                    num: next_num,
                    more: false,
                    size: block.size,
                },
            })
        } else {
            self.complete = true;
            Ok(Progress::Complete(core::mem::take(&mut self.body)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_option_values_match_rfc_7959() {
        // NUM 0, M 0, SZX 6: the single byte 0x06; zero is the empty value
        let b = Block {
            num: 0,
            more: false,
            size: BlockSize::MAX,
        };
        assert_eq!(b.encode().unwrap(), [0x06]);
        let zero = Block {
            num: 0,
            more: false,
            size: BlockSize::MIN,
        };
        assert_eq!(zero.encode().unwrap(), Vec::<u8>::new());
        assert_eq!(Block::decode(&[]).unwrap(), zero);
        // NUM 1, M 1, SZX 2 = 0x1A
        let b = Block {
            num: 1,
            more: true,
            size: BlockSize::from_szx(2).unwrap(),
        };
        assert_eq!(b.encode().unwrap(), [0x1a]);
        assert_eq!(b.offset(), 64);
        // the largest number takes three bytes
        let big = Block {
            num: MAX_BLOCK_NUMBER,
            more: true,
            size: BlockSize::MAX,
        };
        assert_eq!(big.encode().unwrap(), [0xff, 0xff, 0xfe]);
        assert_eq!(Block::decode(&[0xff, 0xff, 0xfe]).unwrap(), big);
        assert_eq!(Block::decode(&[0x07]), Err(CoapError::ReservedBlockSize));
        assert_eq!(
            Block::decode(&[1, 2, 3, 4]),
            Err(CoapError::BlockOptionTooLong(4))
        );
        assert_eq!(
            Block {
                num: MAX_BLOCK_NUMBER + 1,
                more: false,
                size: BlockSize::MIN
            }
            .encode(),
            Err(CoapError::BlockNumberTooLarge)
        );
    }

    #[test]
    fn block_size_follows_the_mtu() {
        assert_eq!(BlockSize::for_mtu(1280, 100).unwrap().bytes(), 1024);
        assert_eq!(BlockSize::for_mtu(1152, 100).unwrap().bytes(), 1024);
        assert_eq!(BlockSize::for_mtu(1123, 100).unwrap().bytes(), 512);
        // IEEE 802.15.4: 127-byte frames
        assert_eq!(BlockSize::for_mtu(127, 60).unwrap().bytes(), 64);
        assert_eq!(BlockSize::for_mtu(76, 60).unwrap().bytes(), 16);
        assert_eq!(
            BlockSize::for_mtu(75, 60),
            Err(CoapError::MtuTooSmall { available: 15 })
        );
        assert_eq!(
            BlockSize::for_mtu(10, 60),
            Err(CoapError::MtuTooSmall { available: 0 })
        );
        assert_eq!(BlockSize::from_szx(7), Err(CoapError::ReservedBlockSize));
    }

    #[test]
    fn paths_and_labels() {
        assert_eq!(uri_path(None, None), [".well-known", "cmp"]);
        assert_eq!(
            uri_path(Some("ca1"), operation_label(BodyType::P10cr)),
            [".well-known", "cmp", "p", "ca1", "p10"]
        );
        assert_eq!(operation_label(BodyType::Genm), None);
    }

    #[test]
    fn reassembly_rejects_each_violation() {
        let s16 = BlockSize::MIN;
        let s32 = BlockSize::from_szx(1).unwrap();
        let blk = |num, more, size| Block { num, more, size };
        let full16 = [0u8; 16];

        let mut r = Reassembler::new(100);
        assert_eq!(
            r.push(blk(1, true, s16), &full16),
            Err(CoapError::OutOfOrder {
                expected: 0,
                got: 16
            })
        );
        assert_eq!(
            r.push(blk(0, true, s16), &full16[..15]),
            Err(CoapError::WrongBlockLength { size: 16, got: 15 })
        );
        assert!(matches!(
            r.push(blk(0, true, s16), &full16),
            Ok(Progress::NeedMore { next }) if next.num == 1
        ));
        assert_eq!(
            r.push(blk(0, true, s32), &[0u8; 32]),
            Err(CoapError::BlockSizeIncreased)
        );
        assert_eq!(
            r.push(blk(0, true, s16), &full16),
            Err(CoapError::OutOfOrder {
                expected: 16,
                got: 0
            })
        );
        assert_eq!(
            r.push(blk(1, false, s16), &[0u8; 17]),
            Err(CoapError::WrongBlockLength { size: 16, got: 17 })
        );
        let mut capped = Reassembler::new(20);
        capped.push(blk(0, true, s16), &full16).unwrap();
        assert_eq!(
            capped.push(blk(1, false, s16), &[1u8; 5]),
            Err(CoapError::TooLarge { max: 20 })
        );
        // still usable after errors
        assert_eq!(
            capped.push(blk(1, false, s16), &[1u8; 4]),
            Ok(Progress::Complete([&full16[..], &[1u8; 4]].concat()))
        );
        assert_eq!(
            capped.push(blk(2, false, s16), &[]),
            Err(CoapError::AlreadyComplete)
        );
    }

    #[test]
    fn the_block_size_may_shrink_mid_transfer() {
        let s32 = BlockSize::from_szx(1).unwrap();
        let s16 = BlockSize::MIN;
        let mut r = Reassembler::new(1000);
        let body: Vec<u8> = (0..70u8).collect();
        r.push(
            Block {
                num: 0,
                more: true,
                size: s32,
            },
            &body[..32],
        )
        .unwrap();
        // the receiver switched to 16-byte blocks: 32 bytes in is block 2
        r.push(
            Block {
                num: 2,
                more: true,
                size: s16,
            },
            &body[32..48],
        )
        .unwrap();
        r.push(
            Block {
                num: 3,
                more: true,
                size: s16,
            },
            &body[48..64],
        )
        .unwrap();
        assert_eq!(
            r.push(
                Block {
                    num: 4,
                    more: false,
                    size: s16
                },
                &body[64..]
            ),
            Ok(Progress::Complete(body))
        );
    }

    #[test]
    fn errors_have_codes_and_rows() {
        let table = include_str!("../../../docs/errors.md");
        let mut codes = alloc::collections::BTreeSet::new();
        for e in CoapError::catalogue() {
            assert!(codes.insert(e.code()));
            let row = alloc::format!("| {} | `{}` |", e.code(), e.name());
            assert!(table.contains(&row), "docs/errors.md lacks {row}");
        }
        assert_eq!(
            CoapError::TooLarge { max: 1 }.response_code(),
            code::REQUEST_ENTITY_TOO_LARGE
        );
        assert_eq!(code::CONTINUE, 0x5f);
    }
}
