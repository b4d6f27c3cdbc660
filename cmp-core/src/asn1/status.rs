//! PKIStatus, PKIFailureInfo, PKIStatusInfo and PKIFreeText (RFC 9810 section 5.2.3).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use der::asn1::BitString;
use der::{
    DecodeValue, EncodeValue, Enumerated, FixedTag, Header, Length, Reader, Sequence, Tag, Writer,
};

/// ```text
/// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
/// ```
pub type PkiFreeText = Vec<String>;

/// ```text
/// PKIStatus ::= INTEGER {
///     accepted (0), grantedWithMods (1), rejection (2), waiting (3),
///     revocationWarning (4), revocationNotification (5), keyUpdateWarning (6) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enumerated, Default)]
#[asn1(type = "INTEGER")]
#[repr(u8)]
pub enum PkiStatus {
    /// You got exactly what you asked for.
    #[default]
    Accepted = 0,
    /// You got something like what you asked for.
    GrantedWithMods = 1,
    /// You don't get it; more information in the rest of the message.
    Rejection = 2,
    /// The request body part has not yet been processed; poll later.
    Waiting = 3,
    /// A revocation is imminent.
    RevocationWarning = 4,
    /// A revocation has occurred.
    RevocationNotification = 5,
    /// The requested key update has already been done.
    KeyUpdateWarning = 6,
}

impl PkiStatus {
    /// `accepted` or `grantedWithMods`: the request succeeded.
    pub fn is_success(self) -> bool {
        matches!(self, Self::Accepted | Self::GrantedWithMods)
    }

    /// The ASN.1 name of the value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::GrantedWithMods => "grantedWithMods",
            Self::Rejection => "rejection",
            Self::Waiting => "waiting",
            Self::RevocationWarning => "revocationWarning",
            Self::RevocationNotification => "revocationNotification",
            Self::KeyUpdateWarning => "keyUpdateWarning",
        }
    }
}

/// One named bit of PKIFailureInfo; the discriminant is the bit number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[allow(missing_docs)] // the names are the RFC's
pub enum FailureBit {
    BadAlg = 0,
    BadMessageCheck = 1,
    BadRequest = 2,
    BadTime = 3,
    BadCertId = 4,
    BadDataFormat = 5,
    WrongAuthority = 6,
    IncorrectData = 7,
    MissingTimeStamp = 8,
    BadPop = 9,
    CertRevoked = 10,
    CertConfirmed = 11,
    WrongIntegrity = 12,
    BadRecipientNonce = 13,
    TimeNotAvailable = 14,
    UnacceptedPolicy = 15,
    UnacceptedExtension = 16,
    AddInfoNotAvailable = 17,
    BadSenderNonce = 18,
    BadCertTemplate = 19,
    SignerNotTrusted = 20,
    TransactionIdInUse = 21,
    UnsupportedVersion = 22,
    NotAuthorized = 23,
    SystemUnavail = 24,
    SystemFailure = 25,
    DuplicateCertReq = 26,
}

impl FailureBit {
    /// Every named bit, in bit order.
    pub const ALL: [FailureBit; 27] = [
        Self::BadAlg,
        Self::BadMessageCheck,
        Self::BadRequest,
        Self::BadTime,
        Self::BadCertId,
        Self::BadDataFormat,
        Self::WrongAuthority,
        Self::IncorrectData,
        Self::MissingTimeStamp,
        Self::BadPop,
        Self::CertRevoked,
        Self::CertConfirmed,
        Self::WrongIntegrity,
        Self::BadRecipientNonce,
        Self::TimeNotAvailable,
        Self::UnacceptedPolicy,
        Self::UnacceptedExtension,
        Self::AddInfoNotAvailable,
        Self::BadSenderNonce,
        Self::BadCertTemplate,
        Self::SignerNotTrusted,
        Self::TransactionIdInUse,
        Self::UnsupportedVersion,
        Self::NotAuthorized,
        Self::SystemUnavail,
        Self::SystemFailure,
        Self::DuplicateCertReq,
    ];

    /// The bit for a bit number, if it is a named one.
    pub fn from_number(n: usize) -> Option<Self> {
        Self::ALL.get(n).copied()
    }

    /// The bit number.
    pub fn number(self) -> usize {
        self as usize
    }

    /// The ASN.1 name of the bit.
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 27] = [
            "badAlg",
            "badMessageCheck",
            "badRequest",
            "badTime",
            "badCertId",
            "badDataFormat",
            "wrongAuthority",
            "incorrectData",
            "missingTimeStamp",
            "badPOP",
            "certRevoked",
            "certConfirmed",
            "wrongIntegrity",
            "badRecipientNonce",
            "timeNotAvailable",
            "unacceptedPolicy",
            "unacceptedExtension",
            "addInfoNotAvailable",
            "badSenderNonce",
            "badCertTemplate",
            "signerNotTrusted",
            "transactionIdInUse",
            "unsupportedVersion",
            "notAuthorized",
            "systemUnavail",
            "systemFailure",
            "duplicateCertReq",
        ];
        NAMES.get(self.number()).copied().unwrap_or("unknown")
    }
}

/// ```text
/// PKIFailureInfo ::= BIT STRING { badAlg (0), ..., duplicateCertReq (26) }
/// ```
///
/// Kept as the received BIT STRING so that unknown bits and the exact
/// encoding survive a round trip; [`PkiFailureInfo::from_bits`] builds the
/// DER form (trailing zero bits removed) of a set of named bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkiFailureInfo(pub BitString);

impl PkiFailureInfo {
    /// Encode a set of named bits in DER form.
    pub fn from_bits(bits: impl IntoIterator<Item = FailureBit>) -> Self {
        let mut value: u32 = 0;
        for bit in bits {
            value |= 1 << bit.number();
        }
        let highest = 32 - value.leading_zeros() as usize; // number of significant bits
        let byte_len = highest.div_ceil(8);
        let mut bytes = Vec::with_capacity(byte_len);
        for byte_index in 0..byte_len {
            let mut byte = 0u8;
            for bit_in_byte in 0..8 {
                let n = byte_index * 8 + bit_in_byte;
                if value & (1 << n) != 0 {
                    byte |= 0x80 >> bit_in_byte;
                }
            }
            bytes.push(byte);
        }
        // `byte_len * 8 - highest` is in 0..8, and is 0 when `bytes` is empty:
        // exactly what BitString::new accepts.
        let unused = (byte_len * 8 - highest) as u8;
        #[allow(clippy::expect_used)]
        let bits = BitString::new(unused, bytes).expect("unused bits in 0..8, none when empty");
        Self(bits)
    }

    /// Whether the named bit is set.
    pub fn contains(&self, bit: FailureBit) -> bool {
        self.0.get(bit.number()).unwrap_or(false)
    }

    /// The named bits that are set, in bit order.
    pub fn bits(&self) -> Vec<FailureBit> {
        FailureBit::ALL
            .iter()
            .copied()
            .filter(|b| self.contains(*b))
            .collect()
    }

    /// Numbers of every set bit, named or not.
    pub fn bit_numbers(&self) -> Vec<usize> {
        self.0
            .bits()
            .enumerate()
            .filter(|(_, set)| *set)
            .map(|(n, _)| n)
            .collect()
    }
}

impl FixedTag for PkiFailureInfo {
    const TAG: Tag = Tag::BitString;
}

impl<'a> DecodeValue<'a> for PkiFailureInfo {
    type Error = der::Error;
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        BitString::decode_value(reader, header).map(Self)
    }
}

impl EncodeValue for PkiFailureInfo {
    fn value_len(&self) -> der::Result<Length> {
        self.0.value_len()
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.encode_value(writer)
    }
}

/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///     status        PKIStatus,
///     statusString  PKIFreeText     OPTIONAL,
///     failInfo      PKIFailureInfo  OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence, Default)]
pub struct PkiStatusInfo {
    /// The status.
    pub status: PkiStatus,
    /// Human-readable explanation.
    pub status_string: Option<PkiFreeText>,
    /// Failure details.
    pub fail_info: Option<PkiFailureInfo>,
}

impl PkiStatusInfo {
    /// `accepted`, nothing else.
    pub fn accepted() -> Self {
        Self::default()
    }

    /// A status with the given failure bits and an optional text.
    pub fn with_failure(status: PkiStatus, bits: &[FailureBit], text: Option<&str>) -> Self {
        Self {
            status,
            status_string: text.map(|t| alloc::vec![String::from(t)]),
            fail_info: if bits.is_empty() {
                None
            } else {
                Some(PkiFailureInfo::from_bits(bits.iter().copied()))
            },
        }
    }

    /// A rejection carrying one failure bit and a text.
    pub fn rejection(bit: FailureBit, text: &str) -> Self {
        Self::with_failure(PkiStatus::Rejection, &[bit], Some(text))
    }

    /// The named failure bits that are set (empty when there is no failInfo).
    pub fn failure_bits(&self) -> Vec<FailureBit> {
        self.fail_info
            .as_ref()
            .map(PkiFailureInfo::bits)
            .unwrap_or_default()
    }
}

impl fmt::Display for PkiStatusInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.status.name())?;
        let bits = self.failure_bits();
        if !bits.is_empty() {
            f.write_str(" (")?;
            for (i, bit) in bits.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(bit.name())?;
            }
            f.write_str(")")?;
        }
        if let Some(text) = &self.status_string {
            for line in text {
                write!(f, ": {line}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    #[test]
    fn failure_info_der_drops_trailing_zero_bits() {
        // badPOP is bit 9: two bytes, 0x00 0x40, six unused bits.
        let info = PkiFailureInfo::from_bits([FailureBit::BadPop]);
        assert_eq!(info.to_der().unwrap(), [0x03, 0x03, 0x06, 0x00, 0x40]);
        let back = PkiFailureInfo::from_der(&info.to_der().unwrap()).unwrap();
        assert_eq!(back.bits(), [FailureBit::BadPop]);
        // badAlg is bit 0: one byte 0x80 with seven unused bits.
        let info = PkiFailureInfo::from_bits([FailureBit::BadAlg]);
        assert_eq!(info.to_der().unwrap(), [0x03, 0x02, 0x07, 0x80]);
        // every bit round-trips on its own
        for bit in FailureBit::ALL {
            let info = PkiFailureInfo::from_bits([bit]);
            let back = PkiFailureInfo::from_der(&info.to_der().unwrap()).unwrap();
            assert_eq!(back.bits(), [bit], "{}", bit.name());
        }
    }

    #[test]
    fn empty_failure_info_is_an_empty_bit_string() {
        let info = PkiFailureInfo::from_bits([]);
        assert_eq!(info.to_der().unwrap(), [0x03, 0x01, 0x00]);
    }
}
