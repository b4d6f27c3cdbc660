//! PKIMessage decoding with limits, the parsed view, and building headers
//! and messages.

mod builder;
mod canonical;
mod describe;
mod parsed;

pub use builder::{HeaderBuilder, NONCE_LEN, TRANSACTION_ID_LEN, null_dn};
pub use describe::{describe, oid_name};
pub use parsed::{ParsedMessage, decode_header};

use alloc::vec::Vec;

use der::asn1::{BitString, ContextSpecificRef};
use der::{Decode, Encode, Length, Reader, SliceReader, TagMode, TagNumber};
use x509_cert::Certificate;

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

/// DER of a PKIMessage built from the DER of its ProtectedPart (whose
/// content is the message's header and body) followed by `protection` and
/// `extra_certs`: the same bytes as encoding the whole message, without
/// encoding the header and body again.
pub(crate) fn message_der_from_protected_part(
    protected_part: &[u8],
    protection: Option<&BitString>,
    extra_certs: Option<&Vec<Certificate>>,
) -> Result<Vec<u8>> {
    let build = || -> der::Result<Vec<u8>> {
        let mut reader = SliceReader::new(protected_part)?;
        let outer = der::Header::decode(&mut reader)?;
        let header_and_body = reader.read_slice(outer.length())?;
        let protection = protection.map(|value| ContextSpecificRef {
            tag_number: TagNumber(0),
            tag_mode: TagMode::Explicit,
            value,
        });
        let extra_certs = extra_certs.map(|value| ContextSpecificRef {
            tag_number: TagNumber(1),
            tag_mode: TagMode::Explicit,
            value,
        });
        let content_len = (Length::try_from(header_and_body.len())?
            + protection.encoded_len()?
            + extra_certs.encoded_len()?)?;
        let header = der::Header::new(der::Tag::Sequence, content_len);
        let mut out = Vec::with_capacity(usize::try_from((header.encoded_len()? + content_len)?)?);
        header.encode_to_vec(&mut out)?;
        out.extend_from_slice(header_and_body);
        protection.encode_to_vec(&mut out)?;
        extra_certs.encode_to_vec(&mut out)?;
        Ok(out)
    };
    build().map_err(Error::Encode)
}

/// DER-encode a message.
pub fn encode(message: &PkiMessage) -> Result<Vec<u8>> {
    message.to_der().map_err(Error::Encode)
}
