//! CRMF types (RFC 4211, `PKIXCRMF-2005`, IMPLICIT TAGS), with the changes of
//! RFC 9480 / RFC 9810 (EnvelopedData in `EncryptedKey` and `POPOPrivKey`).
//!
//! A tag on a CHOICE type (`Name`, `GeneralName`, `Time`, `POPOPrivKey`,
//! `EncryptedKey`) is always EXPLICIT, even in an IMPLICIT module.

use alloc::vec::Vec;

use cms::enveloped_data::EnvelopedData;
use der::asn1::{Any, BitString, Int, Null, ObjectIdentifier, OctetString};
use der::{Choice, Enumerated, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::Version;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::time::Time;

/// ```text
/// CertReqMessages ::= SEQUENCE SIZE (1..MAX) OF CertReqMsg
/// ```
pub type CertReqMessages = Vec<CertReqMsg>;

/// ```text
/// CertReqMsg ::= SEQUENCE {
///     certReq   CertRequest,
///     popo      ProofOfPossession  OPTIONAL,
///     regInfo   SEQUENCE SIZE(1..MAX) OF AttributeTypeAndValue OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertReqMsg {
    /// The request.
    pub cert_req: CertRequest,
    /// Proof that the requester holds the private key.
    pub popo: Option<ProofOfPossession>,
    /// Registration information.
    pub reg_info: Option<Vec<AttributeTypeAndValue>>,
}

/// ```text
/// CertRequest ::= SEQUENCE {
///     certReqId     INTEGER,
///     certTemplate  CertTemplate,
///     controls      Controls OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertRequest {
    /// Matches request and response (0 in RFC 9483 single requests).
    pub cert_req_id: i64,
    /// What the certificate should contain.
    pub cert_template: CertTemplate,
    /// Controls (oldCertID, protocolEncrKey, algId, rsaKeyLen, ...).
    pub controls: Option<Controls>,
}

/// ```text
/// CertTemplate ::= SEQUENCE {
///     version      [0] Version               OPTIONAL,
///     serialNumber [1] INTEGER               OPTIONAL,
///     signingAlg   [2] AlgorithmIdentifier   OPTIONAL,
///     issuer       [3] Name                  OPTIONAL,
///     validity     [4] OptionalValidity      OPTIONAL,
///     subject      [5] Name                  OPTIONAL,
///     publicKey    [6] SubjectPublicKeyInfo  OPTIONAL,
///     issuerUID    [7] UniqueIdentifier      OPTIONAL,
///     subjectUID   [8] UniqueIdentifier      OPTIONAL,
///     extensions   [9] Extensions            OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence, Default)]
pub struct CertTemplate {
    /// Certificate version (v2 = 1 for v3... as in X.509; usually absent).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub version: Option<Version>,
    /// Serial number (set by the CA; present in revocation requests).
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub serial_number: Option<Int>,
    /// Signature algorithm the CA should use.
    #[asn1(
        context_specific = "2",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub signing_alg: Option<AlgorithmIdentifierOwned>,
    /// Issuer name.
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    pub issuer: Option<Name>,
    /// Requested validity.
    #[asn1(
        context_specific = "4",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub validity: Option<OptionalValidity>,
    /// Subject name.
    #[asn1(context_specific = "5", tag_mode = "EXPLICIT", optional = "true")]
    pub subject: Option<Name>,
    /// Public key to certify.
    #[asn1(
        context_specific = "6",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub public_key: Option<SubjectPublicKeyInfoOwned>,
    /// Issuer unique identifier.
    #[asn1(context_specific = "7", tag_mode = "IMPLICIT", optional = "true")]
    pub issuer_uid: Option<BitString>,
    /// Subject unique identifier.
    #[asn1(context_specific = "8", tag_mode = "IMPLICIT", optional = "true")]
    pub subject_uid: Option<BitString>,
    /// Requested extensions.
    #[asn1(
        context_specific = "9",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub extensions: Option<Extensions>,
}

/// ```text
/// OptionalValidity ::= SEQUENCE {
///     notBefore  [0] Time OPTIONAL,
///     notAfter   [1] Time OPTIONAL } -- at least one MUST be present
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence, Default)]
pub struct OptionalValidity {
    /// Start of validity.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub not_before: Option<Time>,
    /// End of validity.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub not_after: Option<Time>,
}

/// ```text
/// Controls ::= SEQUENCE SIZE(1..MAX) OF AttributeTypeAndValue
/// ```
pub type Controls = Vec<AttributeTypeAndValue>;

/// ```text
/// AttributeTypeAndValue ::= SEQUENCE {
///     type   OBJECT IDENTIFIER,
///     value  ANY DEFINED BY type }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct AttributeTypeAndValue {
    /// The attribute type.
    pub oid: ObjectIdentifier,
    /// The value, decoded according to `oid` by the caller.
    pub value: Any,
}

/// ```text
/// ProofOfPossession ::= CHOICE {
///     raVerified       [0] NULL,
///     signature        [1] POPOSigningKey,
///     keyEncipherment  [2] POPOPrivKey,
///     keyAgreement     [3] POPOPrivKey }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum ProofOfPossession {
    /// An RA has verified possession.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    RaVerified(Null),
    /// Signature by the key to be certified.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Signature(PopoSigningKey),
    /// POP for an encryption key.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    KeyEncipherment(PopoPrivKey),
    /// POP for a key-agreement key.
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", constructed = "true")]
    KeyAgreement(PopoPrivKey),
}

/// ```text
/// POPOSigningKey ::= SEQUENCE {
///     poposkInput          [0] POPOSigningKeyInput OPTIONAL,
///     algorithmIdentifier  AlgorithmIdentifier,
///     signature            BIT STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PopoSigningKey {
    /// Present when the template lacks subject or public key.
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub poposk_input: Option<PopoSigningKeyInput>,
    /// Signature algorithm.
    pub algorithm_identifier: AlgorithmIdentifierOwned,
    /// Signature over the DER of `certReq` (or of `poposkInput`).
    pub signature: BitString,
}

/// ```text
/// POPOSigningKeyInput ::= SEQUENCE {
///     authInfo   CHOICE {
///         sender        [0] GeneralName,
///         publicKeyMAC  PKMACValue },
///     publicKey  SubjectPublicKeyInfo }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PopoSigningKeyInput {
    /// Who is proving possession.
    pub auth_info: PopoSigningKeyAuthInfo,
    /// The public key.
    pub public_key: SubjectPublicKeyInfoOwned,
}

/// The `authInfo` CHOICE of [`PopoSigningKeyInput`].
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum PopoSigningKeyAuthInfo {
    /// The sender's name.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", constructed = "true")]
    Sender(GeneralName),
    /// A MAC over the public key.
    PublicKeyMac(PkMacValue),
}

/// ```text
/// PKMACValue ::= SEQUENCE {
///     algId  AlgorithmIdentifier,
///     value  BIT STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PkMacValue {
    /// MAC algorithm (PasswordBasedMac).
    pub alg_id: AlgorithmIdentifierOwned,
    /// MAC value.
    pub value: BitString,
}

/// ```text
/// POPOPrivKey ::= CHOICE {
///     thisMessage        [0] BIT STRING,   -- deprecated
///     subsequentMessage  [1] SubsequentMessage,
///     dhMAC              [2] BIT STRING,   -- deprecated
///     agreeMAC           [3] PKMACValue,
///     encryptedKey       [4] EnvelopedData }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum PopoPrivKey {
    /// The private key itself, encrypted (deprecated).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    ThisMessage(BitString),
    /// POP is done in a later message.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT")]
    SubsequentMessage(SubsequentMessage),
    /// Diffie-Hellman MAC (deprecated).
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    DhMac(BitString),
    /// Key-agreement MAC.
    #[asn1(context_specific = "3", tag_mode = "IMPLICIT", constructed = "true")]
    AgreeMac(PkMacValue),
    /// The private key in EnvelopedData.
    #[asn1(context_specific = "4", tag_mode = "IMPLICIT", constructed = "true")]
    EncryptedKey(EnvelopedData),
}

/// ```text
/// SubsequentMessage ::= INTEGER { encrCert (0), challengeResp (1) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enumerated)]
#[asn1(type = "INTEGER")]
#[repr(u8)]
pub enum SubsequentMessage {
    /// The certificate is returned encrypted for the key.
    EncrCert = 0,
    /// A challenge-response exchange (popdecc / popdecr).
    ChallengeResp = 1,
}

/// ```text
/// EncryptedValue ::= SEQUENCE {
///     intendedAlg  [0] AlgorithmIdentifier OPTIONAL,
///     symmAlg      [1] AlgorithmIdentifier OPTIONAL,
///     encSymmKey   [2] BIT STRING          OPTIONAL,
///     keyAlg       [3] AlgorithmIdentifier OPTIONAL,
///     valueHint    [4] OCTET STRING        OPTIONAL,
///     encValue     BIT STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct EncryptedValue {
    /// Algorithm the value is intended for.
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub intended_alg: Option<AlgorithmIdentifierOwned>,
    /// Symmetric algorithm the value is encrypted with.
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub symm_alg: Option<AlgorithmIdentifierOwned>,
    /// The encrypted symmetric key.
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    pub enc_symm_key: Option<BitString>,
    /// Algorithm the symmetric key is encrypted with.
    #[asn1(
        context_specific = "3",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub key_alg: Option<AlgorithmIdentifierOwned>,
    /// A hint about the content.
    #[asn1(context_specific = "4", tag_mode = "IMPLICIT", optional = "true")]
    pub value_hint: Option<OctetString>,
    /// The encrypted value.
    pub enc_value: BitString,
}

/// ```text
/// EncryptedKey ::= CHOICE {
///     encryptedValue  EncryptedValue,   -- deprecated
///     envelopedData   [0] EnvelopedData }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
#[allow(clippy::large_enum_variant)]
pub enum EncryptedKey {
    /// The deprecated RFC 4211 form.
    EncryptedValue(EncryptedValue),
    /// CMS EnvelopedData (RFC 9480 onwards).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true")]
    EnvelopedData(EnvelopedData),
}

/// ```text
/// PKIArchiveOptions ::= CHOICE {
///     encryptedPrivKey      [0] EncryptedKey,
///     keyGenParameters      [1] KeyGenParameters,  -- OCTET STRING
///     archiveRemGenPrivKey  [2] BOOLEAN }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
#[allow(clippy::large_enum_variant)]
pub enum PkiArchiveOptions {
    /// The private key to archive.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", constructed = "true")]
    EncryptedPrivKey(EncryptedKey),
    /// Parameters to regenerate the key.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT")]
    KeyGenParameters(OctetString),
    /// Archive a key the CA generates.
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    ArchiveRemGenPrivKey(bool),
}

/// ```text
/// PKIPublicationInfo ::= SEQUENCE {
///     action    INTEGER { dontPublish (0), pleasePublish (1) },
///     pubInfos  SEQUENCE SIZE (1..MAX) OF SinglePubInfo OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PkiPublicationInfo {
    /// 0 = dontPublish, 1 = pleasePublish.
    pub action: Int,
    /// Where to publish.
    pub pub_infos: Option<Vec<SinglePubInfo>>,
}

/// ```text
/// SinglePubInfo ::= SEQUENCE {
///     pubMethod    INTEGER { dontCare (0), x500 (1), web (2), ldap (3) },
///     pubLocation  GeneralName OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SinglePubInfo {
    /// Publication method.
    pub pub_method: Int,
    /// Publication location.
    pub pub_location: Option<GeneralName>,
}

/// ```text
/// CertId ::= SEQUENCE {
///     issuer        GeneralName,
///     serialNumber  INTEGER }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertId {
    /// Issuer of the certificate.
    pub issuer: GeneralName,
    /// Its serial number.
    pub serial_number: Int,
}

/// `OldCertId ::= CertId` (the id-regCtrl-oldCertID control, used in kur).
pub type OldCertId = CertId;
