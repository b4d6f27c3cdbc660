//! CMP messages: PKIMessage, PKIHeader, PKIBody and every body content
//! (RFC 9810 section 5 and its ASN.1 module `PKIXCMP-2023`, EXPLICIT TAGS).

use alloc::vec::Vec;

use der::asn1::{Any, BitString, GeneralizedTime, Int, Null, ObjectIdentifier, OctetString};
use der::{Choice, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::request::CertReq;

use super::crmf::{CertId, CertReqMessages, CertTemplate, EncryptedKey, PkiPublicationInfo};
use super::status::{PkiFreeText, PkiStatus, PkiStatusInfo};
use cms::enveloped_data::EnvelopedData;

/// `CMPCertificate ::= CHOICE { x509v3PKCert Certificate }`: the only
/// alternative is an X.509 certificate, so it is represented as one.
pub type CmpCertificate = Certificate;

/// `KeyIdentifier ::= OCTET STRING`.
pub type KeyIdentifier = OctetString;

/// ```text
/// PKIMessage ::= SEQUENCE {
///     header           PKIHeader,
///     body             PKIBody,
///     protection   [0] PKIProtection OPTIONAL,
///     extraCerts   [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate OPTIONAL }
/// PKIProtection ::= BIT STRING
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PkiMessage {
    /// Header.
    pub header: PkiHeader,
    /// Body.
    pub body: PkiBody,
    /// MAC or signature over `ProtectedPart`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub protection: Option<BitString>,
    /// Certificates that may be useful to the recipient (signer chain first).
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub extra_certs: Option<Vec<CmpCertificate>>,
}

impl PkiMessage {
    /// Decode from DER.
    pub fn from_der_bytes(bytes: &[u8]) -> crate::error::Result<Self> {
        <Self as der::Decode>::from_der(bytes).map_err(crate::error::Error::Decode)
    }
}

/// `PKIMessages ::= SEQUENCE SIZE (1..MAX) OF PKIMessage`.
pub type PkiMessages = Vec<PkiMessage>;

/// ```text
/// ProtectedPart ::= SEQUENCE {
///     header  PKIHeader,
///     body    PKIBody }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct ProtectedPart {
    /// Header.
    pub header: PkiHeader,
    /// Body.
    pub body: PkiBody,
}

/// The protocol versions of `PKIHeader.pvno`.
pub mod pvno {
    /// cmp1999 (RFC 2510).
    pub const CMP1999: u64 = 1;
    /// cmp2000 (RFC 4210); what every message without RFC 9810 features uses.
    pub const CMP2000: u64 = 2;
    /// cmp2021 (RFC 9480 / RFC 9810): EnvelopedData, KEM and hashAlg in certConf.
    pub const CMP2021: u64 = 3;
}

/// ```text
/// PKIHeader ::= SEQUENCE {
///     pvno            INTEGER { cmp1999(1), cmp2000(2), cmp2021(3) },
///     sender          GeneralName,
///     recipient       GeneralName,
///     messageTime [0] GeneralizedTime          OPTIONAL,
///     protectionAlg [1] AlgorithmIdentifier    OPTIONAL,
///     senderKID   [2] KeyIdentifier            OPTIONAL,
///     recipKID    [3] KeyIdentifier            OPTIONAL,
///     transactionID [4] OCTET STRING           OPTIONAL,
///     senderNonce [5] OCTET STRING             OPTIONAL,
///     recipNonce  [6] OCTET STRING             OPTIONAL,
///     freeText    [7] PKIFreeText              OPTIONAL,
///     generalInfo [8] SEQUENCE SIZE (1..MAX) OF InfoTypeAndValue OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PkiHeader {
    /// Protocol version (see [`pvno`]).
    pub pvno: u64,
    /// Who sends the message.
    pub sender: GeneralName,
    /// Who it is for.
    pub recipient: GeneralName,
    /// When it was produced.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub message_time: Option<GeneralizedTime>,
    /// Algorithm of `PKIMessage.protection`.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub protection_alg: Option<AlgorithmIdentifierOwned>,
    /// Sender's key id (the reference value for MAC protection).
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub sender_kid: Option<KeyIdentifier>,
    /// Recipient's key id.
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    pub recip_kid: Option<KeyIdentifier>,
    /// Identifies the transaction.
    #[asn1(context_specific = "4", tag_mode = "EXPLICIT", optional = "true")]
    pub transaction_id: Option<OctetString>,
    /// Fresh nonce from the sender.
    #[asn1(context_specific = "5", tag_mode = "EXPLICIT", optional = "true")]
    pub sender_nonce: Option<OctetString>,
    /// The peer's last senderNonce.
    #[asn1(context_specific = "6", tag_mode = "EXPLICIT", optional = "true")]
    pub recip_nonce: Option<OctetString>,
    /// Human-readable text.
    #[asn1(context_specific = "7", tag_mode = "EXPLICIT", optional = "true")]
    pub free_text: Option<PkiFreeText>,
    /// Extra information (implicitConfirm, confirmWaitTime, certProfile, ...).
    #[asn1(context_specific = "8", tag_mode = "EXPLICIT", optional = "true")]
    pub general_info: Option<Vec<InfoTypeAndValue>>,
}

/// ```text
/// InfoTypeAndValue ::= SEQUENCE {
///     infoType   OBJECT IDENTIFIER,
///     infoValue  ANY DEFINED BY infoType OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct InfoTypeAndValue {
    /// An id-it OID (see [`super::oid`]).
    pub info_type: ObjectIdentifier,
    /// The value; decode it with the type the OID names.
    pub info_value: Option<Any>,
}

/// ```text
/// PKIBody ::= CHOICE {
///     ir [0] CertReqMessages,        ip [1] CertRepMessage,
///     cr [2] CertReqMessages,        cp [3] CertRepMessage,
///     p10cr [4] CertificationRequest,
///     popdecc [5] POPODecKeyChallContent, popdecr [6] POPODecKeyRespContent,
///     kur [7] CertReqMessages,       kup [8] CertRepMessage,
///     krr [9] CertReqMessages,       krp [10] KeyRecRepContent,
///     rr [11] RevReqContent,         rp [12] RevRepContent,
///     ccr [13] CertReqMessages,      ccp [14] CertRepMessage,
///     ckuann [15] CAKeyUpdContent,   cann [16] CertAnnContent,
///     rann [17] RevAnnContent,       crlann [18] CRLAnnContent,
///     pkiconf [19] PKIConfirmContent, nested [20] NestedMessageContent,
///     genm [21] GenMsgContent,       genp [22] GenRepContent,
///     error [23] ErrorMsgContent,    certConf [24] CertConfirmContent,
///     pollReq [25] PollReqContent,   pollRep [26] PollRepContent }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
#[allow(clippy::large_enum_variant)]
pub enum PkiBody {
    /// Initialization request.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", constructed = "true")]
    Ir(CertReqMessages),
    /// Initialization response.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    Ip(CertRepMessage),
    /// Certification request.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    Cr(CertReqMessages),
    /// Certification response.
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", constructed = "true")]
    Cp(CertRepMessage),
    /// PKCS#10 certification request.
    #[asn1(context_specific = "4", tag_mode = "EXPLICIT", constructed = "true")]
    P10cr(CertReq),
    /// POP challenge.
    #[asn1(context_specific = "5", tag_mode = "EXPLICIT", constructed = "true")]
    Popdecc(PopoDecKeyChallContent),
    /// POP response.
    #[asn1(context_specific = "6", tag_mode = "EXPLICIT", constructed = "true")]
    Popdecr(PopoDecKeyRespContent),
    /// Key update request.
    #[asn1(context_specific = "7", tag_mode = "EXPLICIT", constructed = "true")]
    Kur(CertReqMessages),
    /// Key update response.
    #[asn1(context_specific = "8", tag_mode = "EXPLICIT", constructed = "true")]
    Kup(CertRepMessage),
    /// Key recovery request.
    #[asn1(context_specific = "9", tag_mode = "EXPLICIT", constructed = "true")]
    Krr(CertReqMessages),
    /// Key recovery response.
    #[asn1(context_specific = "10", tag_mode = "EXPLICIT", constructed = "true")]
    Krp(KeyRecRepContent),
    /// Revocation request.
    #[asn1(context_specific = "11", tag_mode = "EXPLICIT", constructed = "true")]
    Rr(RevReqContent),
    /// Revocation response.
    #[asn1(context_specific = "12", tag_mode = "EXPLICIT", constructed = "true")]
    Rp(RevRepContent),
    /// Cross-certification request.
    #[asn1(context_specific = "13", tag_mode = "EXPLICIT", constructed = "true")]
    Ccr(CertReqMessages),
    /// Cross-certification response.
    #[asn1(context_specific = "14", tag_mode = "EXPLICIT", constructed = "true")]
    Ccp(CertRepMessage),
    /// CA key update announcement.
    #[asn1(context_specific = "15", tag_mode = "EXPLICIT", constructed = "true")]
    Ckuann(CaKeyUpdContent),
    /// Certificate announcement.
    #[asn1(context_specific = "16", tag_mode = "EXPLICIT", constructed = "true")]
    Cann(CmpCertificate),
    /// Revocation announcement.
    #[asn1(context_specific = "17", tag_mode = "EXPLICIT", constructed = "true")]
    Rann(RevAnnContent),
    /// CRL announcement.
    #[asn1(context_specific = "18", tag_mode = "EXPLICIT", constructed = "true")]
    Crlann(CrlAnnContent),
    /// Confirmation.
    #[asn1(context_specific = "19", tag_mode = "EXPLICIT", constructed = "true")]
    PkiConf(Null),
    /// Nested messages (RA batching and re-protection).
    #[asn1(context_specific = "20", tag_mode = "EXPLICIT", constructed = "true")]
    Nested(PkiMessages),
    /// General message.
    #[asn1(context_specific = "21", tag_mode = "EXPLICIT", constructed = "true")]
    Genm(GenMsgContent),
    /// General response.
    #[asn1(context_specific = "22", tag_mode = "EXPLICIT", constructed = "true")]
    Genp(GenRepContent),
    /// Error.
    #[asn1(context_specific = "23", tag_mode = "EXPLICIT", constructed = "true")]
    Error(ErrorMsgContent),
    /// Certificate confirmation.
    #[asn1(context_specific = "24", tag_mode = "EXPLICIT", constructed = "true")]
    CertConf(CertConfirmContent),
    /// Polling request.
    #[asn1(context_specific = "25", tag_mode = "EXPLICIT", constructed = "true")]
    PollReq(PollReqContent),
    /// Polling response.
    #[asn1(context_specific = "26", tag_mode = "EXPLICIT", constructed = "true")]
    PollRep(PollRepContent),
}

/// The kind of a [`PkiBody`], without its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // the names are the RFC's
pub enum BodyType {
    Ir,
    Ip,
    Cr,
    Cp,
    P10cr,
    Popdecc,
    Popdecr,
    Kur,
    Kup,
    Krr,
    Krp,
    Rr,
    Rp,
    Ccr,
    Ccp,
    Ckuann,
    Cann,
    Rann,
    Crlann,
    PkiConf,
    Nested,
    Genm,
    Genp,
    Error,
    CertConf,
    PollReq,
    PollRep,
}

impl BodyType {
    /// Every body type, in tag order.
    pub const ALL: [BodyType; 27] = [
        Self::Ir,
        Self::Ip,
        Self::Cr,
        Self::Cp,
        Self::P10cr,
        Self::Popdecc,
        Self::Popdecr,
        Self::Kur,
        Self::Kup,
        Self::Krr,
        Self::Krp,
        Self::Rr,
        Self::Rp,
        Self::Ccr,
        Self::Ccp,
        Self::Ckuann,
        Self::Cann,
        Self::Rann,
        Self::Crlann,
        Self::PkiConf,
        Self::Nested,
        Self::Genm,
        Self::Genp,
        Self::Error,
        Self::CertConf,
        Self::PollReq,
        Self::PollRep,
    ];

    /// The context tag number of the body.
    pub fn tag_number(self) -> u8 {
        self as u8
    }

    /// The ASN.1 name of the body choice (`ir`, `certConf`, ...).
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 27] = [
            "ir", "ip", "cr", "cp", "p10cr", "popdecc", "popdecr", "kur", "kup", "krr", "krp",
            "rr", "rp", "ccr", "ccp", "ckuann", "cann", "rann", "crlann", "pkiconf", "nested",
            "genm", "genp", "error", "certConf", "pollReq", "pollRep",
        ];
        NAMES.get(self as usize).copied().unwrap_or("unknown")
    }
}

impl PkiBody {
    /// The kind of this body.
    pub fn body_type(&self) -> BodyType {
        match self {
            Self::Ir(_) => BodyType::Ir,
            Self::Ip(_) => BodyType::Ip,
            Self::Cr(_) => BodyType::Cr,
            Self::Cp(_) => BodyType::Cp,
            Self::P10cr(_) => BodyType::P10cr,
            Self::Popdecc(_) => BodyType::Popdecc,
            Self::Popdecr(_) => BodyType::Popdecr,
            Self::Kur(_) => BodyType::Kur,
            Self::Kup(_) => BodyType::Kup,
            Self::Krr(_) => BodyType::Krr,
            Self::Krp(_) => BodyType::Krp,
            Self::Rr(_) => BodyType::Rr,
            Self::Rp(_) => BodyType::Rp,
            Self::Ccr(_) => BodyType::Ccr,
            Self::Ccp(_) => BodyType::Ccp,
            Self::Ckuann(_) => BodyType::Ckuann,
            Self::Cann(_) => BodyType::Cann,
            Self::Rann(_) => BodyType::Rann,
            Self::Crlann(_) => BodyType::Crlann,
            Self::PkiConf(_) => BodyType::PkiConf,
            Self::Nested(_) => BodyType::Nested,
            Self::Genm(_) => BodyType::Genm,
            Self::Genp(_) => BodyType::Genp,
            Self::Error(_) => BodyType::Error,
            Self::CertConf(_) => BodyType::CertConf,
            Self::PollReq(_) => BodyType::PollReq,
            Self::PollRep(_) => BodyType::PollRep,
        }
    }
}

/// ```text
/// CertRepMessage ::= SEQUENCE {
///     caPubs    [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate OPTIONAL,
///     response  SEQUENCE OF CertResponse }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence, Default)]
pub struct CertRepMessage {
    /// CA certificates the requester may want to trust.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub ca_pubs: Option<Vec<CmpCertificate>>,
    /// One response per request.
    pub response: Vec<CertResponse>,
}

/// ```text
/// CertResponse ::= SEQUENCE {
///     certReqId         INTEGER,
///     status            PKIStatusInfo,
///     certifiedKeyPair  CertifiedKeyPair OPTIONAL,
///     rspInfo           OCTET STRING     OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertResponse {
    /// Matches the request's certReqId.
    pub cert_req_id: i64,
    /// Outcome.
    pub status: PkiStatusInfo,
    /// The certificate (and possibly a centrally generated key).
    pub certified_key_pair: Option<CertifiedKeyPair>,
    /// Analogous to regInfo in the request.
    pub rsp_info: Option<OctetString>,
}

/// ```text
/// CertifiedKeyPair ::= SEQUENCE {
///     certOrEncCert        CertOrEncCert,
///     privateKey       [0] EncryptedKey       OPTIONAL,
///     publicationInfo  [1] PKIPublicationInfo OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertifiedKeyPair {
    /// The certificate, plain or encrypted.
    pub cert_or_enc_cert: CertOrEncCert,
    /// A centrally generated private key.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub private_key: Option<EncryptedKey>,
    /// Publication information.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub publication_info: Option<PkiPublicationInfo>,
}

/// ```text
/// CertOrEncCert ::= CHOICE {
///     certificate    [0] CMPCertificate,
///     encryptedCert  [1] EncryptedKey }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
#[allow(clippy::large_enum_variant)]
pub enum CertOrEncCert {
    /// The certificate.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", constructed = "true")]
    Certificate(CmpCertificate),
    /// The certificate, encrypted for the requester (indirect POP).
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    EncryptedCert(EncryptedKey),
}

/// ```text
/// POPODecKeyChallContent ::= SEQUENCE OF Challenge
/// ```
pub type PopoDecKeyChallContent = Vec<Challenge>;

/// ```text
/// Challenge ::= SEQUENCE {
///     owf                 AlgorithmIdentifier OPTIONAL,
///     witness             OCTET STRING,
///     challenge           OCTET STRING,   -- deprecated
///     encryptedRand   [0] EnvelopedData OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct Challenge {
    /// One-way function for the witness.
    pub owf: Option<AlgorithmIdentifierOwned>,
    /// Hash of the random number.
    pub witness: OctetString,
    /// Encrypted Rand (deprecated form).
    pub challenge: OctetString,
    /// Encrypted Rand in EnvelopedData (RFC 9810).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub encrypted_rand: Option<EnvelopedData>,
}

/// ```text
/// Rand ::= SEQUENCE {
///     int     INTEGER,
///     sender  GeneralName }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct Rand {
    /// The random number.
    pub int: Int,
    /// The sender's name.
    pub sender: GeneralName,
}

/// ```text
/// POPODecKeyRespContent ::= SEQUENCE OF INTEGER
/// ```
pub type PopoDecKeyRespContent = Vec<Int>;

/// ```text
/// KeyRecRepContent ::= SEQUENCE {
///     status          PKIStatusInfo,
///     newSigCert  [0] CMPCertificate OPTIONAL,
///     caCerts     [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate OPTIONAL,
///     keyPairHist [2] SEQUENCE SIZE (1..MAX) OF CertifiedKeyPair OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KeyRecRepContent {
    /// Outcome.
    pub status: PkiStatusInfo,
    /// A new signing certificate.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub new_sig_cert: Option<CmpCertificate>,
    /// CA certificates.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub ca_certs: Option<Vec<CmpCertificate>>,
    /// Recovered key pairs.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub key_pair_hist: Option<Vec<CertifiedKeyPair>>,
}

/// ```text
/// RevReqContent ::= SEQUENCE OF RevDetails
/// ```
pub type RevReqContent = Vec<RevDetails>;

/// ```text
/// RevDetails ::= SEQUENCE {
///     certDetails      CertTemplate,
///     crlEntryDetails  Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct RevDetails {
    /// Identifies the certificate (issuer and serialNumber).
    pub cert_details: CertTemplate,
    /// Requested CRL entry extensions (reasonCode, ...).
    pub crl_entry_details: Option<Extensions>,
}

/// ```text
/// RevRepContent ::= SEQUENCE {
///     status       SEQUENCE SIZE (1..MAX) OF PKIStatusInfo,
///     revCerts [0] SEQUENCE SIZE (1..MAX) OF CertId OPTIONAL,
///     crls     [1] SEQUENCE SIZE (1..MAX) OF CertificateList OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct RevRepContent {
    /// One status per RevDetails.
    pub status: Vec<PkiStatusInfo>,
    /// The certificates revocation was requested for.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub rev_certs: Option<Vec<CertId>>,
    /// Resulting CRLs.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub crls: Option<Vec<CertificateList>>,
}

/// ```text
/// CAKeyUpdAnnContent ::= SEQUENCE {
///     oldWithNew  CMPCertificate,
///     newWithOld  CMPCertificate,
///     newWithNew  CMPCertificate }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CaKeyUpdAnnContent {
    /// Old public key signed with the new private key.
    pub old_with_new: CmpCertificate,
    /// New public key signed with the old private key.
    pub new_with_old: CmpCertificate,
    /// New public key signed with the new private key.
    pub new_with_new: CmpCertificate,
}

/// ```text
/// CAKeyUpdContent ::= CHOICE {
///     cAKeyUpdAnnV2      CAKeyUpdAnnContent,    -- deprecated
///     cAKeyUpdAnnV3  [0] RootCaKeyUpdateContent }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
#[allow(clippy::large_enum_variant)]
pub enum CaKeyUpdContent {
    /// The RFC 4210 form (pvno 2).
    V2(CaKeyUpdAnnContent),
    /// The RFC 9810 form (pvno 3).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", constructed = "true")]
    V3(RootCaKeyUpdateContent),
}

/// ```text
/// RootCaKeyUpdateContent ::= SEQUENCE {
///     newWithNew      CMPCertificate,
///     newWithOld  [0] CMPCertificate OPTIONAL,
///     oldWithNew  [1] CMPCertificate OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct RootCaKeyUpdateContent {
    /// The new root certificate.
    pub new_with_new: CmpCertificate,
    /// New key certified by the old key.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub new_with_old: Option<CmpCertificate>,
    /// Old key certified by the new key.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub old_with_new: Option<CmpCertificate>,
}

/// ```text
/// RevAnnContent ::= SEQUENCE {
///     status           PKIStatus,
///     certId           CertId,
///     willBeRevokedAt  GeneralizedTime,
///     badSinceDate     GeneralizedTime,
///     crlDetails       Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct RevAnnContent {
    /// revocationWarning or revocationNotification.
    pub status: PkiStatus,
    /// The certificate concerned.
    pub cert_id: CertId,
    /// When the revocation takes effect.
    pub will_be_revoked_at: GeneralizedTime,
    /// Since when the certificate is considered bad.
    pub bad_since_date: GeneralizedTime,
    /// CRL entry extensions.
    pub crl_details: Option<Extensions>,
}

/// ```text
/// CRLAnnContent ::= SEQUENCE OF CertificateList
/// ```
pub type CrlAnnContent = Vec<CertificateList>;

/// ```text
/// GenMsgContent ::= SEQUENCE OF InfoTypeAndValue
/// ```
pub type GenMsgContent = Vec<InfoTypeAndValue>;

/// ```text
/// GenRepContent ::= SEQUENCE OF InfoTypeAndValue
/// ```
pub type GenRepContent = Vec<InfoTypeAndValue>;

/// ```text
/// ErrorMsgContent ::= SEQUENCE {
///     pKIStatusInfo  PKIStatusInfo,
///     errorCode      INTEGER      OPTIONAL,
///     errorDetails   PKIFreeText  OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct ErrorMsgContent {
    /// Status (rejection) and failure bits.
    pub pki_status_info: PkiStatusInfo,
    /// Implementation-specific error code.
    pub error_code: Option<i64>,
    /// Implementation-specific details.
    pub error_details: Option<PkiFreeText>,
}

/// ```text
/// CertConfirmContent ::= SEQUENCE OF CertStatus
/// ```
pub type CertConfirmContent = Vec<CertStatus>;

/// ```text
/// CertStatus ::= SEQUENCE {
///     certHash     OCTET STRING,
///     certReqId    INTEGER,
///     statusInfo   PKIStatusInfo OPTIONAL,
///     hashAlg  [0] AlgorithmIdentifier OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertStatus {
    /// Hash of the certificate (with the certificate's signature hash, or `hashAlg`).
    pub cert_hash: OctetString,
    /// Which request it answers.
    pub cert_req_id: i64,
    /// Acceptance (absent = accepted) or rejection.
    pub status_info: Option<PkiStatusInfo>,
    /// Hash algorithm, when the signature algorithm names none (pvno 3).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub hash_alg: Option<AlgorithmIdentifierOwned>,
}

/// ```text
/// PollReqContent ::= SEQUENCE OF SEQUENCE { certReqId INTEGER }
/// ```
pub type PollReqContent = Vec<PollReq>;

/// One entry of [`PollReqContent`].
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PollReq {
    /// Which request is polled for (-1 for rr/genm/p10cr per RFC 9483 uses 0 or -1).
    pub cert_req_id: i64,
}

/// ```text
/// PollRepContent ::= SEQUENCE OF SEQUENCE {
///     certReqId   INTEGER,
///     checkAfter  INTEGER,  -- time in seconds
///     reason      PKIFreeText OPTIONAL }
/// ```
pub type PollRepContent = Vec<PollRep>;

/// One entry of [`PollRepContent`].
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PollRep {
    /// Which request.
    pub cert_req_id: i64,
    /// Seconds to wait before polling again.
    pub check_after: i64,
    /// Why.
    pub reason: Option<PkiFreeText>,
}

/// ```text
/// OOBCertHash ::= SEQUENCE {
///     hashAlg  [0] AlgorithmIdentifier OPTIONAL,
///     certId   [1] CertId              OPTIONAL,
///     hashVal      BIT STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct OobCertHash {
    /// Hash algorithm.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub hash_alg: Option<AlgorithmIdentifierOwned>,
    /// The certificate hashed.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub cert_id: Option<CertId>,
    /// The hash.
    pub hash_val: BitString,
}
