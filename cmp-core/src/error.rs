//! The crate's error type.
//!
//! Split as h11 splits its errors: [`ErrorKind::Local`] (API misuse, our own
//! configuration, the crypto backend), [`ErrorKind::Remote`] (the peer sent
//! something wrong) and [`ErrorKind::Peer`] (the peer told us, in an error
//! message or a rejection, that something went wrong on its side).
//!
//! Every variant has a stable numeric [`Error::code`] and a stable string
//! [`Error::name`] shared by every binding (Python exception, JS `code`, C
//! `cmp_result`), and the [`FailureBit`] to put into an error reply when the
//! responder answers a request that caused it. The table in
//! `docs/errors.md` lists them all.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::asn1::cmp::BodyType;
use crate::asn1::status::{FailureBit, PkiStatusInfo};
use crate::crypto::CryptoError;

/// Which side is to blame for an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// API misuse, our own configuration, or the crypto backend.
    Local,
    /// The peer sent something malformed, unauthenticated or unexpected.
    Remote,
    /// The peer reported a failure (error message or rejection status).
    Peer,
}

/// Everything that can go wrong in `cmp-core`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // ----- local -----
    /// A value could not be DER-encoded (our own data is inconsistent).
    Encode(der::Error),
    /// The crypto provider failed.
    Crypto(CryptoError),
    /// The API was used in a way it does not allow; the text says how.
    Usage(&'static str),
    /// Our configuration names an algorithm or parameter we cannot use.
    Config(&'static str),
    /// The transaction's deadline (or the server's confirmWaitTime) passed.
    Timeout,
    /// The transaction store failed (the text says how).
    Store(String),

    // ----- remote: decoding and limits -----
    /// The bytes are not a valid DER encoding of the expected structure.
    Decode(der::Error),
    /// The message is larger than the configured maximum.
    MessageTooLarge {
        /// Size of the message in bytes.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// Nested messages go deeper than the configured maximum.
    NestingTooDeep {
        /// The configured limit.
        max: usize,
    },

    // ----- remote: protection -----
    /// The message carries no protection where protection is required.
    MissingProtection,
    /// The protection algorithm (or one of its parameters) is not supported.
    UnsupportedAlgorithm(String),
    /// A PBM / PBKDF2 iteration count beyond the configured maximum.
    IterationCountTooHigh {
        /// The count the peer asked for.
        count: u64,
        /// The configured limit.
        max: u64,
    },
    /// MAC or signature does not verify.
    BadMessageCheck,
    /// The kind of protection does not match what was expected
    /// (e.g. signature where a MAC was required, or vice versa).
    WrongIntegrity,
    /// The protection needs a credential we do not have (unknown senderKID, no certificate).
    UnknownCredential,
    /// The signer's certificate does not validate to a trust anchor.
    SignerNotTrusted(&'static str),

    // ----- remote: header and protocol -----
    /// pvno is not one we speak.
    UnsupportedVersion(u64),
    /// A required header field is missing.
    MissingHeaderField(&'static str),
    /// The transactionID does not match the transaction.
    TransactionIdMismatch,
    /// The transactionID is already in use by another transaction.
    TransactionIdInUse,
    /// recipNonce does not echo our senderNonce.
    BadRecipientNonce,
    /// senderNonce is missing or malformed.
    BadSenderNonce,
    /// messageTime is missing where required or outside the allowed skew.
    BadTime,
    /// The sender is not the one expected.
    WrongSender,
    /// The message body is not one the transaction can accept now.
    UnexpectedBody {
        /// The body type received.
        got: &'static str,
    },
    /// The request is malformed or unacceptable (the text says why).
    BadRequest(&'static str),
    /// The certificate request template is unacceptable (the text says why).
    BadCertTemplate(&'static str),
    /// Proof-of-possession is missing or does not verify.
    BadPop,
    /// A certReqId or certificate reference does not match.
    BadCertId,
    /// The response contradicts the request (the text says how).
    IncorrectData(&'static str),
    /// The sender is not authorised for this operation.
    NotAuthorized,
    /// The certificate was already confirmed (a repeated certConf).
    CertConfirmed,
    /// messageTime is absent although the responder's policy requires it.
    MissingTimeStamp,
    /// The request is addressed to another CA (recipient or template issuer).
    WrongAuthority,
    /// The certificate to revoke or update is already revoked.
    CertRevoked,
    /// A valid certificate for the requested key exists already.
    DuplicateCertReq,

    // ----- remote: delivered private keys (central key generation, key recovery) -----
    /// The EnvelopedData with a delivered private key has no RecipientInfo
    /// for our key or password.
    KeyNotForUs,
    /// The EnvelopedData with a delivered private key does not decrypt, or
    /// its content is malformed (the text says how).
    KeyDecryptFailed(&'static str),
    /// The SignedData around a delivered private key does not verify.
    KeySignatureInvalid,
    /// A delivered private key does not belong to the certificate's public key.
    KeyMismatch,

    // ----- peer -----
    /// The peer answered with an authenticated error message or a failing
    /// PKIStatusInfo (rejection).
    Peer(PeerFailure),
    /// The peer answered with an error message that is not protected (or
    /// whose protection could not be checked): reported, but not to be
    /// trusted as coming from the server.
    UnauthenticatedError(PeerFailure),
}

/// What a peer reported when it refused or failed a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerFailure {
    /// The body the failure came in (`error`, `ip`, `rp`, ...).
    pub body: BodyType,
    /// Status, statusString and failInfo.
    pub status: PkiStatusInfo,
    /// errorCode of an error message.
    pub error_code: Option<i64>,
    /// errorDetails of an error message.
    pub error_details: Vec<String>,
}

impl PeerFailure {
    /// A failure reported in a PKIStatusInfo of a `body` response.
    pub fn from_status(body: BodyType, status: PkiStatusInfo) -> Self {
        Self {
            body,
            status,
            error_code: None,
            error_details: Vec::new(),
        }
    }
}

impl fmt::Display for PeerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.status, self.body.name())?;
        if let Some(code) = self.error_code {
            write!(f, ", errorCode {code}")?;
        }
        for d in &self.error_details {
            write!(f, ", {d}")?;
        }
        Ok(())
    }
}

impl Error {
    /// Who is to blame.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Encode(_)
            | Self::Crypto(_)
            | Self::Usage(_)
            | Self::Config(_)
            | Self::Timeout
            | Self::Store(_) => ErrorKind::Local,
            Self::Peer(_) | Self::UnauthenticatedError(_) => ErrorKind::Peer,
            _ => ErrorKind::Remote,
        }
    }

    /// Stable numeric code, shared by the Python, Node and C bindings.
    pub fn code(&self) -> u16 {
        match self {
            Self::Usage(_) => 100,
            Self::Config(_) => 101,
            Self::Encode(_) => 102,
            Self::Crypto(_) => 103,
            Self::Timeout => 104,
            Self::Store(_) => 105,
            Self::Decode(_) => 200,
            Self::MessageTooLarge { .. } => 201,
            Self::NestingTooDeep { .. } => 202,
            Self::MissingProtection => 300,
            Self::UnsupportedAlgorithm(_) => 301,
            Self::IterationCountTooHigh { .. } => 302,
            Self::BadMessageCheck => 303,
            Self::WrongIntegrity => 304,
            Self::UnknownCredential => 305,
            Self::SignerNotTrusted(_) => 306,
            Self::UnsupportedVersion(_) => 400,
            Self::MissingHeaderField(_) => 401,
            Self::TransactionIdMismatch => 402,
            Self::TransactionIdInUse => 403,
            Self::BadRecipientNonce => 404,
            Self::BadSenderNonce => 405,
            Self::BadTime => 406,
            Self::WrongSender => 407,
            Self::UnexpectedBody { .. } => 408,
            Self::BadRequest(_) => 409,
            Self::BadCertTemplate(_) => 410,
            Self::BadPop => 411,
            Self::BadCertId => 412,
            Self::IncorrectData(_) => 413,
            Self::NotAuthorized => 414,
            Self::CertConfirmed => 415,
            Self::MissingTimeStamp => 416,
            Self::WrongAuthority => 417,
            Self::CertRevoked => 418,
            Self::DuplicateCertReq => 419,
            Self::KeyNotForUs => 420,
            Self::KeyDecryptFailed(_) => 421,
            Self::KeySignatureInvalid => 422,
            Self::KeyMismatch => 423,
            Self::Peer(_) => 500,
            Self::UnauthenticatedError(_) => 501,
        }
    }

    /// Stable symbolic name (`CMP_…`), the JS `code` and the C enum name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Usage(_) => "CMP_USAGE",
            Self::Config(_) => "CMP_CONFIG",
            Self::Encode(_) => "CMP_ENCODE",
            Self::Crypto(_) => "CMP_CRYPTO",
            Self::Timeout => "CMP_TIMEOUT",
            Self::Store(_) => "CMP_STORE",
            Self::Decode(_) => "CMP_DECODE",
            Self::MessageTooLarge { .. } => "CMP_MESSAGE_TOO_LARGE",
            Self::NestingTooDeep { .. } => "CMP_NESTING_TOO_DEEP",
            Self::MissingProtection => "CMP_MISSING_PROTECTION",
            Self::UnsupportedAlgorithm(_) => "CMP_UNSUPPORTED_ALGORITHM",
            Self::IterationCountTooHigh { .. } => "CMP_ITERATION_COUNT_TOO_HIGH",
            Self::BadMessageCheck => "CMP_BAD_MESSAGE_CHECK",
            Self::WrongIntegrity => "CMP_WRONG_INTEGRITY",
            Self::UnknownCredential => "CMP_UNKNOWN_CREDENTIAL",
            Self::SignerNotTrusted(_) => "CMP_SIGNER_NOT_TRUSTED",
            Self::UnsupportedVersion(_) => "CMP_UNSUPPORTED_VERSION",
            Self::MissingHeaderField(_) => "CMP_MISSING_HEADER_FIELD",
            Self::TransactionIdMismatch => "CMP_TRANSACTION_ID_MISMATCH",
            Self::TransactionIdInUse => "CMP_TRANSACTION_ID_IN_USE",
            Self::BadRecipientNonce => "CMP_BAD_RECIPIENT_NONCE",
            Self::BadSenderNonce => "CMP_BAD_SENDER_NONCE",
            Self::BadTime => "CMP_BAD_TIME",
            Self::WrongSender => "CMP_WRONG_SENDER",
            Self::UnexpectedBody { .. } => "CMP_UNEXPECTED_BODY",
            Self::BadRequest(_) => "CMP_BAD_REQUEST",
            Self::BadCertTemplate(_) => "CMP_BAD_CERT_TEMPLATE",
            Self::BadPop => "CMP_BAD_POP",
            Self::BadCertId => "CMP_BAD_CERT_ID",
            Self::IncorrectData(_) => "CMP_INCORRECT_DATA",
            Self::NotAuthorized => "CMP_NOT_AUTHORIZED",
            Self::CertConfirmed => "CMP_CERT_CONFIRMED",
            Self::MissingTimeStamp => "CMP_MISSING_TIME_STAMP",
            Self::WrongAuthority => "CMP_WRONG_AUTHORITY",
            Self::CertRevoked => "CMP_CERT_REVOKED",
            Self::DuplicateCertReq => "CMP_DUPLICATE_CERT_REQ",
            Self::KeyNotForUs => "CMP_KEY_NOT_FOR_US",
            Self::KeyDecryptFailed(_) => "CMP_KEY_DECRYPT_FAILED",
            Self::KeySignatureInvalid => "CMP_KEY_SIGNATURE_INVALID",
            Self::KeyMismatch => "CMP_KEY_MISMATCH",
            Self::Peer(_) => "CMP_PEER_ERROR",
            Self::UnauthenticatedError(_) => "CMP_UNAUTHENTICATED_ERROR",
        }
    }

    /// The PKIFailureInfo bit a responder puts into its error reply when a
    /// request fails with this error (RFC 9483 section 3.6.4).
    pub fn failure_bit(&self) -> FailureBit {
        match self {
            Self::Usage(_)
            | Self::Config(_)
            | Self::Encode(_)
            | Self::Crypto(_)
            | Self::Timeout => FailureBit::SystemFailure,
            Self::Store(_) => FailureBit::SystemUnavail,
            Self::Decode(_) | Self::MessageTooLarge { .. } | Self::NestingTooDeep { .. } => {
                FailureBit::BadDataFormat
            }
            Self::MissingProtection | Self::BadMessageCheck | Self::UnknownCredential => {
                FailureBit::BadMessageCheck
            }
            Self::UnsupportedAlgorithm(_) | Self::IterationCountTooHigh { .. } => {
                FailureBit::BadAlg
            }
            Self::WrongIntegrity => FailureBit::WrongIntegrity,
            Self::SignerNotTrusted(_) => FailureBit::SignerNotTrusted,
            Self::UnsupportedVersion(_) => FailureBit::UnsupportedVersion,
            Self::MissingHeaderField(_) | Self::UnexpectedBody { .. } | Self::BadRequest(_) => {
                FailureBit::BadRequest
            }
            Self::TransactionIdMismatch | Self::WrongSender => FailureBit::BadRequest,
            Self::TransactionIdInUse => FailureBit::TransactionIdInUse,
            Self::BadRecipientNonce => FailureBit::BadRecipientNonce,
            Self::BadSenderNonce => FailureBit::BadSenderNonce,
            Self::BadTime => FailureBit::BadTime,
            Self::BadCertTemplate(_) => FailureBit::BadCertTemplate,
            Self::BadPop => FailureBit::BadPop,
            Self::BadCertId => FailureBit::BadCertId,
            Self::IncorrectData(_) => FailureBit::IncorrectData,
            Self::NotAuthorized => FailureBit::NotAuthorized,
            Self::CertConfirmed => FailureBit::CertConfirmed,
            Self::MissingTimeStamp => FailureBit::MissingTimeStamp,
            Self::WrongAuthority => FailureBit::WrongAuthority,
            Self::CertRevoked => FailureBit::CertRevoked,
            Self::DuplicateCertReq => FailureBit::DuplicateCertReq,
            Self::KeyNotForUs | Self::KeyMismatch => FailureBit::IncorrectData,
            Self::KeyDecryptFailed(_) => FailureBit::BadDataFormat,
            Self::KeySignatureInvalid => FailureBit::BadMessageCheck,
            Self::Peer(_) | Self::UnauthenticatedError(_) => FailureBit::SystemUnavail,
        }
    }
}

impl Error {
    /// One value of every variant, in code order: what the bindings build
    /// their error tables from (Python exception classes, JS codes, C
    /// results). The match below fails to compile when a variant is added
    /// without being listed here.
    pub fn catalogue() -> Vec<Error> {
        let failure = PeerFailure::from_status(BodyType::Error, PkiStatusInfo::default());
        let all = vec![
            Error::Usage("x"),
            Error::Config("x"),
            Error::Encode(der::ErrorKind::Failed.into()),
            Error::Crypto(CryptoError::Rng),
            Error::Timeout,
            Error::Store(String::new()),
            Error::Decode(der::ErrorKind::Failed.into()),
            Error::MessageTooLarge { size: 2, max: 1 },
            Error::NestingTooDeep { max: 1 },
            Error::MissingProtection,
            Error::UnsupportedAlgorithm(String::new()),
            Error::IterationCountTooHigh { count: 2, max: 1 },
            Error::BadMessageCheck,
            Error::WrongIntegrity,
            Error::UnknownCredential,
            Error::SignerNotTrusted("x"),
            Error::UnsupportedVersion(9),
            Error::MissingHeaderField("x"),
            Error::TransactionIdMismatch,
            Error::TransactionIdInUse,
            Error::BadRecipientNonce,
            Error::BadSenderNonce,
            Error::BadTime,
            Error::WrongSender,
            Error::UnexpectedBody { got: "x" },
            Error::BadRequest("x"),
            Error::BadCertTemplate("x"),
            Error::BadPop,
            Error::BadCertId,
            Error::IncorrectData("x"),
            Error::NotAuthorized,
            Error::CertConfirmed,
            Error::MissingTimeStamp,
            Error::WrongAuthority,
            Error::CertRevoked,
            Error::DuplicateCertReq,
            Error::KeyNotForUs,
            Error::KeyDecryptFailed("x"),
            Error::KeySignatureInvalid,
            Error::KeyMismatch,
            Error::Peer(failure.clone()),
            Error::UnauthenticatedError(failure),
        ];
        for e in &all {
            match e {
                Error::Encode(_)
                | Error::Crypto(_)
                | Error::Usage(_)
                | Error::Config(_)
                | Error::Timeout
                | Error::Store(_)
                | Error::Decode(_)
                | Error::MessageTooLarge { .. }
                | Error::NestingTooDeep { .. }
                | Error::MissingProtection
                | Error::UnsupportedAlgorithm(_)
                | Error::IterationCountTooHigh { .. }
                | Error::BadMessageCheck
                | Error::WrongIntegrity
                | Error::UnknownCredential
                | Error::SignerNotTrusted(_)
                | Error::UnsupportedVersion(_)
                | Error::MissingHeaderField(_)
                | Error::TransactionIdMismatch
                | Error::TransactionIdInUse
                | Error::BadRecipientNonce
                | Error::BadSenderNonce
                | Error::BadTime
                | Error::WrongSender
                | Error::UnexpectedBody { .. }
                | Error::BadRequest(_)
                | Error::BadCertTemplate(_)
                | Error::BadPop
                | Error::BadCertId
                | Error::IncorrectData(_)
                | Error::NotAuthorized
                | Error::CertConfirmed
                | Error::MissingTimeStamp
                | Error::WrongAuthority
                | Error::CertRevoked
                | Error::DuplicateCertReq
                | Error::KeyNotForUs
                | Error::KeyDecryptFailed(_)
                | Error::KeySignatureInvalid
                | Error::KeyMismatch
                | Error::Peer(_)
                | Error::UnauthenticatedError(_) => {}
            }
        }
        all
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encode(e) => write!(f, "encoding failed: {e}"),
            Self::Crypto(e) => write!(f, "{e}"),
            Self::Usage(what) => write!(f, "API misuse: {what}"),
            Self::Config(what) => write!(f, "configuration error: {what}"),
            Self::Timeout => f.write_str("deadline passed"),
            Self::Store(what) => write!(f, "transaction store failed: {what}"),
            Self::Decode(e) => write!(f, "malformed message: {e}"),
            Self::MessageTooLarge { size, max } => {
                write!(
                    f,
                    "message of {size} bytes exceeds the limit of {max} bytes"
                )
            }
            Self::NestingTooDeep { max } => {
                write!(f, "nested messages deeper than the limit of {max}")
            }
            Self::MissingProtection => f.write_str("message is not protected"),
            Self::UnsupportedAlgorithm(oid) => write!(f, "unsupported algorithm {oid}"),
            Self::IterationCountTooHigh { count, max } => {
                write!(f, "iteration count {count} exceeds the limit of {max}")
            }
            Self::BadMessageCheck => f.write_str("protection does not verify"),
            Self::WrongIntegrity => f.write_str("unexpected kind of protection"),
            Self::UnknownCredential => f.write_str("no credential for this sender"),
            Self::SignerNotTrusted(why) => write!(f, "signer not trusted: {why}"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported pvno {v}"),
            Self::MissingHeaderField(field) => write!(f, "header field {field} missing"),
            Self::TransactionIdMismatch => f.write_str("transactionID does not match"),
            Self::TransactionIdInUse => f.write_str("transactionID already in use"),
            Self::BadRecipientNonce => f.write_str("recipNonce does not match our senderNonce"),
            Self::BadSenderNonce => f.write_str("senderNonce missing or malformed"),
            Self::BadTime => f.write_str("messageTime missing or outside the allowed window"),
            Self::WrongSender => f.write_str("unexpected sender"),
            Self::UnexpectedBody { got } => write!(f, "unexpected message body {got}"),
            Self::BadRequest(why) => write!(f, "bad request: {why}"),
            Self::BadCertTemplate(why) => write!(f, "bad certificate template: {why}"),
            Self::BadPop => f.write_str("proof-of-possession missing or invalid"),
            Self::BadCertId => f.write_str("certificate reference does not match"),
            Self::IncorrectData(why) => write!(f, "incorrect data: {why}"),
            Self::NotAuthorized => f.write_str("sender not authorised for this operation"),
            Self::CertConfirmed => f.write_str("certificate already confirmed"),
            Self::MissingTimeStamp => f.write_str("messageTime missing but required"),
            Self::WrongAuthority => f.write_str("request addressed to another authority"),
            Self::CertRevoked => f.write_str("certificate already revoked"),
            Self::DuplicateCertReq => f.write_str("a certificate for this key exists already"),
            Self::KeyNotForUs => {
                f.write_str("the delivered private key is not encrypted for our key or password")
            }
            Self::KeyDecryptFailed(why) => {
                write!(f, "the delivered private key does not decrypt: {why}")
            }
            Self::KeySignatureInvalid => {
                f.write_str("the signature over the delivered private key does not verify")
            }
            Self::KeyMismatch => {
                f.write_str("the delivered private key does not match the certificate")
            }
            Self::Peer(failure) => write!(f, "peer reported {failure}"),
            Self::UnauthenticatedError(failure) => {
                write!(f, "unauthenticated error message (not trusted): {failure}")
            }
        }
    }
}

impl core::error::Error for Error {}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique() {
        let all = Error::catalogue();
        assert!(
            all.windows(2).all(|w| w[0].code() < w[1].code()),
            "catalogue in code order"
        );
        let mut codes: Vec<u16> = all.iter().map(Error::code).collect();
        let mut names: Vec<&str> = all.iter().map(Error::name).collect();
        codes.sort_unstable();
        codes.dedup();
        names.sort_unstable();
        names.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn the_documented_table_matches_the_code() {
        let table = include_str!("../../docs/errors.md");
        for e in Error::catalogue() {
            let kind = match e.kind() {
                ErrorKind::Local => "local",
                ErrorKind::Remote => "remote",
                ErrorKind::Peer => "peer",
            };
            let row = alloc::format!(
                "| {} | `{}` | {} | {} |",
                e.code(),
                e.name(),
                kind,
                e.failure_bit().name()
            );
            assert!(
                table.contains(&row),
                "docs/errors.md lacks the row starting {row}"
            );
        }
    }
}
