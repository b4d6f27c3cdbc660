//! Parameters of the protection algorithms (RFC 9810 section 5.1.3, RFC 9481
//! section 6, RFC 8018 for PBMAC1 / PBKDF2).

use der::asn1::OctetString;
use der::{Choice, Sequence};
use spki::AlgorithmIdentifierOwned;

use super::status::PkiFreeText;

/// ```text
/// PBMParameter ::= SEQUENCE {
///     salt            OCTET STRING,
///     owf             AlgorithmIdentifier,
///     iterationCount  INTEGER,
///     mac             AlgorithmIdentifier }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PbmParameter {
    /// Salt appended to the secret.
    pub salt: OctetString,
    /// One-way function iterated over secret || salt.
    pub owf: AlgorithmIdentifierOwned,
    /// How often `owf` is applied.
    pub iteration_count: u64,
    /// MAC computed with the derived key.
    pub mac: AlgorithmIdentifierOwned,
}

/// ```text
/// PBMAC1-params ::= SEQUENCE {
///     keyDerivationFunc  AlgorithmIdentifier {{PBMAC1-KDFs}},
///     messageAuthScheme  AlgorithmIdentifier {{PBMAC1-MACs}} }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct Pbmac1Params {
    /// id-PBKDF2 with [`Pbkdf2Params`].
    pub key_derivation_func: AlgorithmIdentifierOwned,
    /// HMAC algorithm.
    pub message_auth_scheme: AlgorithmIdentifierOwned,
}

/// ```text
/// PBKDF2-params ::= SEQUENCE {
///     salt CHOICE {
///         specified    OCTET STRING,
///         otherSource  AlgorithmIdentifier {{PBKDF2-SaltSources}} },
///     iterationCount  INTEGER (1..MAX),
///     keyLength       INTEGER (1..MAX) OPTIONAL,
///     prf             AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct Pbkdf2Params {
    /// Salt.
    pub salt: Pbkdf2Salt,
    /// PBKDF2 iterations.
    pub iteration_count: u64,
    /// Length of the derived key in bytes.
    pub key_length: Option<u64>,
    /// Pseudo-random function; absent means hmacWithSHA1.
    pub prf: Option<AlgorithmIdentifierOwned>,
}

/// The salt CHOICE of [`Pbkdf2Params`].
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum Pbkdf2Salt {
    /// The salt itself.
    Specified(OctetString),
    /// A salt source algorithm (not used by CMP).
    OtherSource(AlgorithmIdentifierOwned),
}

/// ```text
/// DHBMParameter ::= SEQUENCE {
///     owf  AlgorithmIdentifier,
///     mac  AlgorithmIdentifier }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct DhbmParameter {
    /// One-way function over the shared secret.
    pub owf: AlgorithmIdentifierOwned,
    /// MAC algorithm.
    pub mac: AlgorithmIdentifierOwned,
}

/// ```text
/// KemBMParameter ::= SEQUENCE {
///     kdf              AlgorithmIdentifier{KEY-DERIVATION, {...}},
///     kemContext   [0] OCTET STRING OPTIONAL,
///     len              INTEGER (1..MAX),
///     mac              AlgorithmIdentifier{MAC-ALGORITHM, {...}} }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KemBmParameter {
    /// Key derivation function.
    pub kdf: AlgorithmIdentifierOwned,
    /// Additional context for the KDF.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub kem_context: Option<OctetString>,
    /// Length of the derived MAC key in bytes.
    pub len: u64,
    /// MAC algorithm.
    pub mac: AlgorithmIdentifierOwned,
}

/// ```text
/// KemCiphertextInfo ::= SEQUENCE {
///     kem  AlgorithmIdentifier{KEM-ALGORITHM, {...}},
///     ct   OCTET STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KemCiphertextInfo {
    /// The KEM algorithm.
    pub kem: AlgorithmIdentifierOwned,
    /// The KEM ciphertext.
    pub ct: OctetString,
}

/// ```text
/// KemOtherInfo ::= SEQUENCE {
///     staticString      PKIFreeText,   -- "CMP-KEM"
///     transactionID     OCTET STRING,
///     kemContext    [0] OCTET STRING OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KemOtherInfo {
    /// The fixed text `CMP-KEM`.
    pub static_string: PkiFreeText,
    /// The transaction the shared secret is bound to.
    pub transaction_id: OctetString,
    /// Context from [`KemBmParameter`].
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub kem_context: Option<OctetString>,
}
