//! PKIMessage decoding with limits, the parsed view, and building headers
//! and messages.

mod builder;
mod describe;
mod parsed;

pub use builder::{HeaderBuilder, NONCE_LEN, TRANSACTION_ID_LEN, null_dn};
pub use describe::{describe, oid_name};
pub use parsed::{ParsedMessage, decode_header};

use alloc::vec::Vec;

use der::Encode;

use crate::asn1::{PkiBody, PkiHeader, PkiMessage};
use crate::error::{Error, Result};

/// DER of `ProtectedPart ::= SEQUENCE { header, body }`, the input of MAC and
/// signature protection, built from already-encoded header and body.
pub fn protected_part_der(header_der: &[u8], body_der: &[u8]) -> Result<Vec<u8>> {
    let len = header_der
        .len()
        .checked_add(body_der.len())
        .ok_or(Error::Usage("message too large"))?;
    let length = der::Length::try_from(len).map_err(Error::Encode)?;
    let mut out = der::Header::new(der::Tag::Sequence, length)
        .to_der()
        .map_err(Error::Encode)?;
    out.reserve(len);
    out.extend_from_slice(header_der);
    out.extend_from_slice(body_der);
    Ok(out)
}

/// DER of the ProtectedPart of a header and body we hold as values.
pub fn encode_protected_part(header: &PkiHeader, body: &PkiBody) -> Result<Vec<u8>> {
    let h = header.to_der().map_err(Error::Encode)?;
    let b = body.to_der().map_err(Error::Encode)?;
    protected_part_der(&h, &b)
}

/// DER-encode a message.
pub fn encode(message: &PkiMessage) -> Result<Vec<u8>> {
    message.to_der().map_err(Error::Encode)
}
