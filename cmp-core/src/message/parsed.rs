//! A decoded PKIMessage together with the exact bytes its protection covers.

use alloc::vec::Vec;

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Reader, SliceReader};

use crate::asn1::{BodyType, InfoTypeAndValue, PkiBody, PkiHeader, PkiMessage, oid};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::time::Timestamp;
use x509_cert::Certificate;

/// A PKIMessage as received: the decoded value, its DER, and the DER of its
/// `ProtectedPart` taken from the received bytes (so protection is verified
/// over exactly what the peer protected).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedMessage {
    message: PkiMessage,
    /// The message's DER followed by the DER of its ProtectedPart, in one
    /// allocation.
    bytes: Vec<u8>,
    /// Where the ProtectedPart starts in `bytes`.
    split: usize,
}

impl ParsedMessage {
    /// Decode `bytes` as a PKIMessage, enforcing `limits` (size, nesting).
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Self> {
        if bytes.len() > limits.max_message_size {
            return Err(Error::MessageTooLarge {
                size: bytes.len(),
                max: limits.max_message_size,
            });
        }
        let message = PkiMessage::from_der(bytes).map_err(Error::Decode)?;
        // The derived decoders accept some non-DER input (e.g. a DEFAULT value
        // spelled out, or skipped context-specific fields) and re-encoding
        // then differs. Accept only canonical DER: nothing the peer sent is
        // silently dropped or changed.
        super::canonical::check(&message, bytes)?;
        check_nesting(&message, limits.max_nesting_depth, 0)?;
        check_certificate_counts(&message, limits.max_certificates)?;
        let (header, body) = header_and_body_tlv(bytes).map_err(Error::Decode)?;
        let (bytes, split) = der_and_protected_part(bytes, header, body)?;
        Ok(Self {
            message,
            bytes,
            split,
        })
    }

    /// Wrap a message we built (its ProtectedPart is re-encoded).
    pub fn from_message(message: PkiMessage) -> Result<Self> {
        let der = super::encode(&message)?;
        let header = message.header.to_der().map_err(Error::Encode)?;
        let body = message.body.to_der().map_err(Error::Encode)?;
        let (bytes, split) = der_and_protected_part(&der, &header, &body)?;
        Ok(Self {
            message,
            bytes,
            split,
        })
    }

    /// The decoded message.
    pub fn message(&self) -> &PkiMessage {
        &self.message
    }

    /// Take the decoded message.
    pub fn into_message(self) -> PkiMessage {
        self.message
    }

    /// The message's DER.
    pub fn der(&self) -> &[u8] {
        self.bytes.get(..self.split).unwrap_or_default()
    }

    /// DER of the ProtectedPart (header and body) the protection covers.
    pub fn protected_part(&self) -> &[u8] {
        self.bytes.get(self.split..).unwrap_or_default()
    }

    /// The header.
    pub fn header(&self) -> &PkiHeader {
        &self.message.header
    }

    /// The body.
    pub fn body(&self) -> &PkiBody {
        &self.message.body
    }

    /// The body's type.
    pub fn body_type(&self) -> BodyType {
        self.message.body.body_type()
    }

    /// Protocol version.
    pub fn pvno(&self) -> u64 {
        self.message.header.pvno
    }

    /// transactionID, if present.
    pub fn transaction_id(&self) -> Option<&[u8]> {
        self.message
            .header
            .transaction_id
            .as_ref()
            .map(|o| o.as_bytes())
    }

    /// senderNonce, if present.
    pub fn sender_nonce(&self) -> Option<&[u8]> {
        self.message
            .header
            .sender_nonce
            .as_ref()
            .map(|o| o.as_bytes())
    }

    /// recipNonce, if present.
    pub fn recip_nonce(&self) -> Option<&[u8]> {
        self.message
            .header
            .recip_nonce
            .as_ref()
            .map(|o| o.as_bytes())
    }

    /// senderKID, if present.
    pub fn sender_kid(&self) -> Option<&[u8]> {
        self.message
            .header
            .sender_kid
            .as_ref()
            .map(|o| o.as_bytes())
    }

    /// recipKID, if present.
    pub fn recip_kid(&self) -> Option<&[u8]> {
        self.message.header.recip_kid.as_ref().map(|o| o.as_bytes())
    }

    /// messageTime, if present.
    pub fn message_time(&self) -> Option<Timestamp> {
        self.message
            .header
            .message_time
            .as_ref()
            .map(Timestamp::from_generalized_time)
    }

    /// OID of the protection algorithm, if the header names one.
    pub fn protection_alg_oid(&self) -> Option<ObjectIdentifier> {
        self.message.header.protection_alg.as_ref().map(|a| a.oid)
    }

    /// The protection bits, if present.
    pub fn protection(&self) -> Option<&[u8]> {
        self.message.protection.as_ref().map(|b| b.raw_bytes())
    }

    /// extraCerts (empty when absent).
    pub fn extra_certs(&self) -> &[Certificate] {
        self.message.extra_certs.as_deref().unwrap_or(&[])
    }

    /// generalInfo entries (empty when absent).
    pub fn general_info(&self) -> &[InfoTypeAndValue] {
        self.message.header.general_info.as_deref().unwrap_or(&[])
    }

    /// Whether generalInfo carries the given id-it type.
    pub fn has_general_info(&self, info_type: ObjectIdentifier) -> bool {
        self.general_info()
            .iter()
            .any(|itav| itav.info_type == info_type)
    }

    /// Whether the sender asks for (request) or grants (response) implicit confirmation.
    pub fn implicit_confirm(&self) -> bool {
        self.has_general_info(oid::IT_IMPLICIT_CONFIRM)
    }
}

/// One buffer holding `der` followed by the DER of the ProtectedPart of
/// `header` and `body` (their TLVs), and where the ProtectedPart starts.
/// (The message is not passed along: each move of it copies 2 KB.)
fn der_and_protected_part(der: &[u8], header: &[u8], body: &[u8]) -> Result<(Vec<u8>, usize)> {
    let len = header
        .len()
        .checked_add(body.len())
        .ok_or(Error::Usage("message too large"))?;
    let part_header = der::Header::new(
        der::Tag::Sequence,
        der::Length::try_from(len).map_err(Error::Encode)?,
    );
    let part_header_len = usize::try_from(part_header.encoded_len().map_err(Error::Encode)?)
        .map_err(Error::Encode)?;
    let total = der
        .len()
        .checked_add(part_header_len)
        .and_then(|n| n.checked_add(len))
        .ok_or(Error::Usage("message too large"))?;
    let mut bytes = Vec::with_capacity(total);
    bytes.extend_from_slice(der);
    part_header
        .encode_to_vec(&mut bytes)
        .map_err(Error::Encode)?;
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(body);
    Ok((bytes, der.len()))
}

/// The header of a PKIMessage whose whole does not decode (a corrupt or
/// unsupported body, a truncated tail): the outer SEQUENCE's first element,
/// when it is a PKIHeader of at most `max_size` bytes. Used only to address
/// an error reply; nothing in it is trusted.
pub fn decode_header(bytes: &[u8], max_size: usize) -> Option<PkiHeader> {
    let mut reader = SliceReader::new(bytes).ok()?;
    let outer = der::Header::decode(&mut reader).ok()?;
    if outer.tag() != der::Tag::Sequence {
        return None;
    }
    let tlv = reader.tlv_bytes().ok()?;
    if tlv.len() > max_size {
        return None;
    }
    PkiHeader::from_der(tlv).ok()
}

/// The raw TLVs of `header` and `body` inside a PKIMessage's outer SEQUENCE.
fn header_and_body_tlv(bytes: &[u8]) -> der::Result<(&[u8], &[u8])> {
    let mut reader = SliceReader::new(bytes)?;
    reader.sequence(|r| {
        let header = r.tlv_bytes()?;
        let body = r.tlv_bytes()?;
        // protection and extraCerts follow; they are not part of ProtectedPart
        while !r.is_finished() {
            r.tlv_bytes()?;
        }
        Ok((header, body))
    })
}

fn check_nesting(message: &PkiMessage, max: usize, depth: usize) -> Result<()> {
    if let PkiBody::Nested(inner) = &message.body {
        if depth >= max {
            return Err(Error::NestingTooDeep { max });
        }
        for m in inner {
            check_nesting(m, max, depth + 1)?;
        }
    }
    Ok(())
}

fn check_certificate_counts(message: &PkiMessage, max: usize) -> Result<()> {
    let too_many = |n: usize| {
        if n > max {
            Err(Error::BadRequest("too many certificates"))
        } else {
            Ok(())
        }
    };
    too_many(message.extra_certs.as_ref().map_or(0, Vec::len))?;
    if let PkiBody::Ip(rep) | PkiBody::Cp(rep) | PkiBody::Kup(rep) | PkiBody::Ccp(rep) =
        &message.body
    {
        too_many(rep.ca_pubs.as_ref().map_or(0, Vec::len))?;
    }
    Ok(())
}
