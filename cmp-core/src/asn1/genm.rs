//! Contents of general messages (genm/genp) and their InfoTypeAndValue
//! values (RFC 9810 section 5.3.19, RFC 9483 section 4.3).

use alloc::string::String;
use alloc::vec::Vec;

use der::asn1::{Any, GeneralizedTime, Null, ObjectIdentifier};
use der::{Choice, Decode, Encode, Sequence};
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralNames};
use x509_cert::time::Time;

use super::cmp::{CmpCertificate, InfoTypeAndValue, RootCaKeyUpdateContent};
use super::crmf::{CertTemplate, Controls};
use super::oid;

/// ```text
/// CertReqTemplateContent ::= SEQUENCE {
///     certTemplate  CertTemplate,
///     keySpec       Controls OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertReqTemplateContent {
    /// Template of the certificate the client should request.
    pub cert_template: CertTemplate,
    /// Key specification (id-regCtrl-algId, id-regCtrl-rsaKeyLen).
    pub key_spec: Option<Controls>,
}

/// ```text
/// CRLSource ::= CHOICE {
///     dpn     [0] DistributionPointName,
///     issuer  [1] GeneralNames }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum CrlSource {
    /// A distribution point.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", constructed = "true")]
    Dpn(DistributionPointName),
    /// The CRL issuer.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    Issuer(GeneralNames),
}

/// ```text
/// CRLStatus ::= SEQUENCE {
///     source      CRLSource,
///     thisUpdate  Time OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CrlStatus {
    /// Where the CRL comes from.
    pub source: CrlSource,
    /// thisUpdate of the CRL the client already has.
    pub this_update: Option<Time>,
}

/// A typed view of the InfoTypeAndValue values RFC 9483 defines.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum InfoValue {
    /// id-it-caCerts: request (no value) or the CA certificates.
    CaCerts(Option<Vec<CmpCertificate>>),
    /// id-it-rootCaCert: the root the client wants an update for (genm).
    RootCaCert(Option<CmpCertificate>),
    /// id-it-rootCaKeyUpdate: request (no value) or the update.
    RootCaKeyUpdate(Option<RootCaKeyUpdateContent>),
    /// id-it-certReqTemplate: request (no value) or the template.
    CertReqTemplate(Option<CertReqTemplateContent>),
    /// id-it-certProfile: profile names.
    CertProfile(Vec<String>),
    /// id-it-crlStatusList: which CRLs the client has.
    CrlStatusList(Vec<CrlStatus>),
    /// id-it-crls: request (no value) or the CRLs.
    Crls(Option<Vec<CertificateList>>),
    /// id-it-implicitConfirm (NULL).
    ImplicitConfirm,
    /// id-it-confirmWaitTime.
    ConfirmWaitTime(GeneralizedTime),
}

impl InfoValue {
    /// The OID this value goes with.
    pub fn oid(&self) -> ObjectIdentifier {
        match self {
            Self::CaCerts(_) => oid::IT_CA_CERTS,
            Self::RootCaCert(_) => oid::IT_ROOT_CA_CERT,
            Self::RootCaKeyUpdate(_) => oid::IT_ROOT_CA_KEY_UPDATE,
            Self::CertReqTemplate(_) => oid::IT_CERT_REQ_TEMPLATE,
            Self::CertProfile(_) => oid::IT_CERT_PROFILE,
            Self::CrlStatusList(_) => oid::IT_CRL_STATUS_LIST,
            Self::Crls(_) => oid::IT_CRLS,
            Self::ImplicitConfirm => oid::IT_IMPLICIT_CONFIRM,
            Self::ConfirmWaitTime(_) => oid::IT_CONFIRM_WAIT_TIME,
        }
    }

    /// Encode as an InfoTypeAndValue.
    pub fn to_itav(&self) -> der::Result<InfoTypeAndValue> {
        fn any<T: Encode>(v: &T) -> der::Result<Option<Any>> {
            Any::from_der(&v.to_der()?).map(Some)
        }
        let info_value = match self {
            Self::CaCerts(v) => v.as_ref().map(any).transpose()?.flatten(),
            Self::RootCaCert(c) => c.as_ref().map(any).transpose()?.flatten(),
            Self::RootCaKeyUpdate(v) => v.as_ref().map(any).transpose()?.flatten(),
            Self::CertReqTemplate(v) => v.as_ref().map(any).transpose()?.flatten(),
            Self::CertProfile(v) => any(v)?,
            Self::CrlStatusList(v) => any(v)?,
            Self::Crls(v) => v.as_ref().map(any).transpose()?.flatten(),
            Self::ImplicitConfirm => any(&Null)?,
            Self::ConfirmWaitTime(t) => any(t)?,
        };
        Ok(InfoTypeAndValue {
            info_type: self.oid(),
            info_value,
        })
    }

    /// Decode a known InfoTypeAndValue; `Ok(None)` for an OID not listed here.
    pub fn from_itav(itav: &InfoTypeAndValue) -> der::Result<Option<Self>> {
        fn value<T: for<'a> Decode<'a, Error = der::Error>>(
            v: &Option<Any>,
        ) -> der::Result<Option<T>> {
            v.as_ref()
                .map(|any| T::from_der(&any.to_der()?))
                .transpose()
        }
        fn required<T: for<'a> Decode<'a, Error = der::Error>>(v: &Option<Any>) -> der::Result<T> {
            value(v)?.ok_or_else(|| der::Error::from(der::ErrorKind::Failed))
        }
        let v = &itav.info_value;
        let typed = match itav.info_type {
            oid::IT_CA_CERTS => Self::CaCerts(value(v)?),
            oid::IT_ROOT_CA_CERT => Self::RootCaCert(value(v)?),
            oid::IT_ROOT_CA_KEY_UPDATE => Self::RootCaKeyUpdate(value(v)?),
            oid::IT_CERT_REQ_TEMPLATE => Self::CertReqTemplate(value(v)?),
            oid::IT_CERT_PROFILE => Self::CertProfile(required(v)?),
            oid::IT_CRL_STATUS_LIST => Self::CrlStatusList(required(v)?),
            oid::IT_CRLS => Self::Crls(value(v)?),
            oid::IT_IMPLICIT_CONFIRM => {
                // NULL, though some senders omit the value
                value::<Null>(v)?;
                Self::ImplicitConfirm
            }
            oid::IT_CONFIRM_WAIT_TIME => Self::ConfirmWaitTime(required(v)?),
            _ => return Ok(None),
        };
        Ok(Some(typed))
    }
}
