//! The message toolkit: parse any PKIMessage into an inspectable object,
//! change header fields, body or protection on purpose, and encode.

use std::borrow::Cow;

use cmp_core::Limits;
use cmp_core::asn1::{CertOrEncCert, InfoTypeAndValue, PkiBody, PkiMessage, PkiStatusInfo, oid};
use cmp_core::message::{HeaderBuilder, ParsedMessage, describe, oid_name};
use cmp_core::protection::{self, MacScheme, Protector};
use cmp_core::{Error, Timestamp};
use der::asn1::{Any, BitString, OctetString};
use der::{Decode, Encode};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::client::provider;
use crate::conv::{
    PyBytesOut, bit_names, bytes_of, cert_of, certs_der, certs_of, general_name_str, itavs_of,
    itavs_out, name_of, oid_of, opt_bytes, out, secs, timestamp,
};
use crate::errors::{decode_err, to_py_err, usage};
use crate::keys::key_of;

/// A PKIMessage: every header field, the body type and its status, the
/// certificates, the protection. Immutable: `modified()`, `protect_*()`,
/// `without_protection()` and `corrupt_protection()` return new messages.
#[pyclass(frozen, name = "Message", module = "cmp_protocol._native")]
pub(crate) struct PyMessage {
    message: PkiMessage,
    /// The bytes it was parsed from, while unchanged.
    der: Option<Vec<u8>>,
}

fn enc<T: Encode>(v: &T) -> PyResult<Vec<u8>> {
    v.to_der().map_err(|e| to_py_err(Error::Encode(e)))
}

fn octets(v: Vec<u8>) -> PyResult<OctetString> {
    OctetString::new(v).map_err(|e| to_py_err(Error::Encode(e)))
}

fn general_name_of(s: &str) -> PyResult<GeneralName> {
    if s.is_empty() {
        return Ok(GeneralName::DirectoryName(Name::default()));
    }
    name_of(s).map(GeneralName::DirectoryName)
}

fn first_status(body: &PkiBody) -> Option<&PkiStatusInfo> {
    match body {
        PkiBody::Ip(r) | PkiBody::Cp(r) | PkiBody::Kup(r) | PkiBody::Ccp(r) => {
            r.response.first().map(|c| &c.status)
        }
        PkiBody::Rp(r) => r.status.first(),
        PkiBody::Error(e) => Some(&e.pki_status_info),
        PkiBody::CertConf(c) => c.first().and_then(|s| s.status_info.as_ref()),
        _ => None,
    }
}

impl PyMessage {
    pub(crate) fn from_parsed(p: &ParsedMessage) -> Self {
        Self {
            message: p.message().clone(),
            der: Some(p.der().to_vec()),
        }
    }

    pub(crate) fn parse_bytes(bytes: &[u8]) -> PyResult<Self> {
        let p = ParsedMessage::decode(bytes, &Limits::DEFAULT).map_err(to_py_err)?;
        Ok(Self::from_parsed(&p))
    }

    fn changed(message: PkiMessage) -> Self {
        Self { message, der: None }
    }

    fn encoded(&self) -> PyResult<Vec<u8>> {
        match &self.der {
            Some(d) => Ok(d.clone()),
            None => enc(&self.message),
        }
    }

    fn parsed(&self) -> PyResult<ParsedMessage> {
        ParsedMessage::decode(&self.encoded()?, &Limits::DEFAULT).map_err(to_py_err)
    }

    fn status_info(&self) -> Option<&PkiStatusInfo> {
        first_status(&self.message.body)
    }

    fn apply(message: &mut PkiMessage, changes: &Bound<'_, PyDict>) -> PyResult<()> {
        let py = changes.py();
        let h = &mut message.header;
        for (k, v) in changes.iter() {
            let key: String = k.extract()?;
            let none = v.is_none();
            match key.as_str() {
                "pvno" => h.pvno = v.extract()?,
                "sender" => h.sender = general_name_of(&v.extract::<String>()?)?,
                "recipient" => h.recipient = general_name_of(&v.extract::<String>()?)?,
                "message_time" => {
                    h.message_time = if none {
                        None
                    } else {
                        let t: Timestamp = timestamp(py, Some(v.extract()?))?;
                        Some(t.to_generalized_time().map_err(to_py_err)?)
                    }
                }
                "protection_alg" => {
                    h.protection_alg = if none {
                        None
                    } else {
                        Some(AlgorithmIdentifierOwned {
                            oid: oid_of(&v.extract::<String>()?)?,
                            parameters: None,
                        })
                    }
                }
                "protection_alg_der" => {
                    h.protection_alg = match opt_bytes(Some(&v))? {
                        None => None,
                        Some(d) => {
                            Some(AlgorithmIdentifierOwned::from_der(&d).map_err(decode_err)?)
                        }
                    }
                }
                "sender_kid" => h.sender_kid = opt_bytes(Some(&v))?.map(octets).transpose()?,
                "recip_kid" => h.recip_kid = opt_bytes(Some(&v))?.map(octets).transpose()?,
                "transaction_id" => {
                    h.transaction_id = opt_bytes(Some(&v))?.map(octets).transpose()?
                }
                "sender_nonce" => h.sender_nonce = opt_bytes(Some(&v))?.map(octets).transpose()?,
                "recip_nonce" => h.recip_nonce = opt_bytes(Some(&v))?.map(octets).transpose()?,
                "free_text" => {
                    h.free_text = if none {
                        None
                    } else {
                        Some(v.extract::<Vec<String>>()?)
                    }
                }
                "general_info" => {
                    let items = itavs_of(Some(&v))?;
                    h.general_info = if items.is_empty() { None } else { Some(items) };
                }
                "implicit_confirm" => {
                    let want: bool = v.extract()?;
                    let mut items: Vec<InfoTypeAndValue> = h
                        .general_info
                        .take()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|i| i.info_type != oid::IT_IMPLICIT_CONFIRM)
                        .collect();
                    if want {
                        items.push(InfoTypeAndValue {
                            info_type: oid::IT_IMPLICIT_CONFIRM,
                            info_value: Some(Any::from(der::asn1::Null)),
                        });
                    }
                    h.general_info = if items.is_empty() { None } else { Some(items) };
                }
                "body" => {
                    message.body = PkiBody::from_der(&bytes_of(&v)?).map_err(decode_err)?;
                }
                "extra_certs" => {
                    let certs = certs_of(Some(&v))?;
                    message.extra_certs = if certs.is_empty() { None } else { Some(certs) };
                }
                "protection" => {
                    message.protection = match opt_bytes(Some(&v))? {
                        None => None,
                        Some(b) => Some(
                            BitString::from_bytes(&b).map_err(|e| to_py_err(Error::Encode(e)))?,
                        ),
                    };
                }
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "modified() got an unknown field {other:?}"
                    )));
                }
            }
        }
        Ok(())
    }
}

#[pymethods]
impl PyMessage {
    /// Parse DER bytes (size and nesting limits apply); raises DecodeError.
    #[staticmethod]
    fn parse(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::parse_bytes(&bytes_of(data)?)
    }

    /// A new unprotected message with `body` (DER of a PKIBody) and a fresh
    /// header (pvno 2, NULL-DN names, new transactionID and senderNonce,
    /// messageTime `now`), then the `modified()` changes in `header`.
    #[staticmethod]
    #[pyo3(signature = (body, *, now = None, **header))]
    fn build(
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        now: Option<f64>,
        header: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let body = PkiBody::from_der(&bytes_of(body)?).map_err(decode_err)?;
        let now = timestamp(py, now)?;
        let p = provider();
        let h = HeaderBuilder::new()
            .build(p.as_ref(), now)
            .map_err(to_py_err)?;
        let mut message = PkiMessage {
            header: h,
            body,
            protection: None,
            extra_certs: None,
        };
        if let Some(changes) = header {
            Self::apply(&mut message, changes)?;
        }
        Ok(Self::changed(message))
    }

    /// A copy with header fields (and optionally `body`, `extra_certs`,
    /// `protection`) replaced; None removes an optional field. Fields:
    /// pvno, sender, recipient, message_time, protection_alg (OID),
    /// protection_alg_der, sender_kid, recip_kid, transaction_id,
    /// sender_nonce, recip_nonce, free_text, general_info, implicit_confirm,
    /// body (PKIBody DER), extra_certs, protection (raw bits). Protection is
    /// not recomputed: call `protect_mac`/`protect_signature` for that.
    #[pyo3(signature = (**changes))]
    fn modified(&self, changes: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let mut message = self.message.clone();
        if let Some(changes) = changes {
            Self::apply(&mut message, changes)?;
        }
        Ok(Self::changed(message))
    }

    /// Recompute MAC protection (sets protectionAlg and senderKID).
    #[pyo3(signature = (reference, secret, *, pbmac1 = false))]
    fn protect_mac(
        &self,
        reference: &Bound<'_, PyAny>,
        secret: &Bound<'_, PyAny>,
        pbmac1: bool,
    ) -> PyResult<Self> {
        let protector = Protector::Mac {
            reference: bytes_of(reference)?,
            secret: bytes_of(secret)?,
            scheme: if pbmac1 {
                MacScheme::PBMAC1_SHA256
            } else {
                MacScheme::PBM_SHA256
            },
        };
        self.protect_with(&protector)
    }

    /// Recompute signature protection with `key` and its `cert` (sets
    /// protectionAlg and senderKID; the certificate and `chain` go first in
    /// extraCerts). The sender is not changed.
    #[pyo3(signature = (key, cert, chain = None))]
    fn protect_signature(
        &self,
        key: &Bound<'_, PyAny>,
        cert: &Bound<'_, PyAny>,
        chain: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let protector = Protector::Signature {
            key: std::sync::Arc::new(key_of(key)?),
            cert: cert_of(cert)?,
            chain: certs_of(chain)?,
        };
        self.protect_with(&protector)
    }

    /// A copy without protection and protectionAlg (senderKID is kept).
    fn without_protection(&self) -> Self {
        let mut m = self.message.clone();
        m.protection = None;
        m.header.protection_alg = None;
        Self::changed(m)
    }

    /// A copy whose protection bits are damaged (last byte flipped).
    fn corrupt_protection(&self) -> PyResult<Self> {
        let mut m = self.message.clone();
        let Some(p) = m.protection.as_ref() else {
            return Err(usage("the message has no protection to corrupt"));
        };
        let mut bits = p.raw_bytes().to_vec();
        if let Some(last) = bits.last_mut() {
            *last ^= 0xff;
        }
        m.protection = Some(BitString::from_bytes(&bits).map_err(|e| to_py_err(Error::Encode(e)))?);
        Ok(Self::changed(m))
    }

    /// Check MAC protection with `secret`; raises ProtectionError.
    fn verify_mac(&self, secret: &Bound<'_, PyAny>) -> PyResult<()> {
        let msg = self.parsed()?;
        let p = provider();
        protection::verify_mac(&msg, &bytes_of(secret)?, p.as_ref(), &Limits::DEFAULT)
            .map_err(to_py_err)
    }

    /// Check the signature with `cert` (default: the signer's certificate
    /// found in extraCerts). Only the signature: no path validation.
    #[pyo3(signature = (cert = None))]
    fn verify_signature(&self, cert: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let msg = self.parsed()?;
        let p = provider();
        let signer = match cert.filter(|c| !c.is_none()) {
            Some(c) => cert_of(c)?,
            None => protection::find_signer_cert(&msg)
                .cloned()
                .ok_or_else(|| to_py_err(Error::UnknownCredential))?,
        };
        protection::verify_signature_with_cert(&msg, &signer, p.as_ref()).map_err(to_py_err)
    }

    /// DER of the message (the parsed bytes while unchanged).
    fn encode(&self) -> PyResult<PyBytesOut> {
        Ok(Cow::Owned(self.encoded()?))
    }

    /// DER re-encoded from the decoded value (even when unchanged).
    fn reencode(&self) -> PyResult<PyBytesOut> {
        Ok(Cow::Owned(enc(&self.message)?))
    }

    fn __bytes__(&self) -> PyResult<PyBytesOut> {
        self.encode()
    }

    /// A multi-line human-readable description.
    fn describe(&self) -> String {
        describe(&self.message)
    }

    fn __repr__(&self) -> String {
        format!(
            "Message(body={:?}, pvno={}, protection={:?})",
            self.message.body.body_type().name(),
            self.message.header.pvno,
            self.protection_kind()
        )
    }

    // ----- header -----

    #[getter]
    fn pvno(&self) -> u64 {
        self.message.header.pvno
    }

    /// The sender as RFC 4514 string (directoryName), or a debug form.
    #[getter]
    fn sender(&self) -> String {
        general_name_str(&self.message.header.sender)
    }

    #[getter]
    fn recipient(&self) -> String {
        general_name_str(&self.message.header.recipient)
    }

    /// messageTime, seconds since the epoch.
    #[getter]
    fn message_time(&self) -> Option<f64> {
        self.message
            .header
            .message_time
            .as_ref()
            .map(|t| secs(Timestamp::from_generalized_time(t)))
    }

    /// protectionAlg OID (dotted).
    #[getter]
    fn protection_alg(&self) -> Option<String> {
        self.message
            .header
            .protection_alg
            .as_ref()
            .map(|a| a.oid.to_string())
    }

    /// protectionAlg name ("PasswordBasedMac", "ecdsa-with-SHA256", ...), if known.
    #[getter]
    fn protection_alg_name(&self) -> Option<&'static str> {
        self.message
            .header
            .protection_alg
            .as_ref()
            .and_then(|a| oid_name(&a.oid))
    }

    /// "mac", "signature", "none", or "invalid" (algorithm and bits disagree,
    /// or an unknown algorithm).
    #[getter]
    fn protection_kind(&self) -> &'static str {
        let alg = self.message.header.protection_alg.as_ref();
        match (alg, &self.message.protection) {
            (None, None) => "none",
            (Some(a), Some(_)) if protection::mac::is_mac_protection(&a.oid) => "mac",
            (Some(a), Some(_)) if cmp_core::alg::signature_from_identifier(a).is_ok() => {
                "signature"
            }
            _ => "invalid",
        }
    }

    #[getter]
    fn sender_kid(&self) -> Option<PyBytesOut> {
        self.message
            .header
            .sender_kid
            .as_ref()
            .map(|o| out(o.as_bytes()))
    }

    #[getter]
    fn recip_kid(&self) -> Option<PyBytesOut> {
        self.message
            .header
            .recip_kid
            .as_ref()
            .map(|o| out(o.as_bytes()))
    }

    #[getter]
    fn transaction_id(&self) -> Option<PyBytesOut> {
        self.message
            .header
            .transaction_id
            .as_ref()
            .map(|o| out(o.as_bytes()))
    }

    #[getter]
    fn sender_nonce(&self) -> Option<PyBytesOut> {
        self.message
            .header
            .sender_nonce
            .as_ref()
            .map(|o| out(o.as_bytes()))
    }

    #[getter]
    fn recip_nonce(&self) -> Option<PyBytesOut> {
        self.message
            .header
            .recip_nonce
            .as_ref()
            .map(|o| out(o.as_bytes()))
    }

    #[getter]
    fn free_text(&self) -> Vec<String> {
        self.message.header.free_text.clone().unwrap_or_default()
    }

    /// generalInfo as `(oid, value_der_or_None)`.
    #[getter]
    fn general_info(&self) -> PyResult<Vec<(String, Option<PyBytesOut>)>> {
        itavs_out(self.message.header.general_info.as_deref().unwrap_or(&[]))
    }

    #[getter]
    fn implicit_confirm(&self) -> bool {
        self.message
            .header
            .general_info
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .any(|i| i.info_type == oid::IT_IMPLICIT_CONFIRM)
    }

    // ----- body -----

    /// The body type name ("ir", "ip", "certConf", "pkiconf", "error", ...).
    #[getter]
    fn body_type(&self) -> &'static str {
        self.message.body.body_type().name()
    }

    /// The body's context tag number.
    #[getter]
    fn body_tag(&self) -> u8 {
        self.message.body.body_type().tag_number()
    }

    /// PKIStatus of the (first) status in the body: ip/cp/kup response,
    /// rp, error, certConf.
    #[getter]
    fn status(&self) -> Option<&'static str> {
        self.status_info().map(|s| s.status.name())
    }

    /// failInfo bit names of that status.
    #[getter]
    fn fail_info(&self) -> Vec<&'static str> {
        self.status_info().map(bit_names).unwrap_or_default()
    }

    #[getter]
    fn status_string(&self) -> Vec<String> {
        self.status_info()
            .and_then(|s| s.status_string.clone())
            .unwrap_or_default()
    }

    /// errorCode of an error message.
    #[getter]
    fn error_code(&self) -> Option<i64> {
        match &self.message.body {
            PkiBody::Error(e) => e.error_code,
            _ => None,
        }
    }

    #[getter]
    fn error_details(&self) -> Vec<String> {
        match &self.message.body {
            PkiBody::Error(e) => e.error_details.clone().unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// certReqId of the first request / response / certConf / poll entry.
    #[getter]
    fn cert_req_id(&self) -> Option<i64> {
        match &self.message.body {
            PkiBody::Ir(r)
            | PkiBody::Cr(r)
            | PkiBody::Kur(r)
            | PkiBody::Krr(r)
            | PkiBody::Ccr(r) => r.first().map(|m| m.cert_req.cert_req_id),
            PkiBody::Ip(r) | PkiBody::Cp(r) | PkiBody::Kup(r) | PkiBody::Ccp(r) => {
                r.response.first().map(|c| c.cert_req_id)
            }
            PkiBody::CertConf(c) => c.first().map(|s| s.cert_req_id),
            PkiBody::PollReq(p) => p.first().map(|e| e.cert_req_id),
            PkiBody::PollRep(p) => p.first().map(|e| e.cert_req_id),
            _ => None,
        }
    }

    /// checkAfter of a pollRep.
    #[getter]
    fn check_after(&self) -> Option<i64> {
        match &self.message.body {
            PkiBody::PollRep(p) => p.first().map(|e| e.check_after),
            _ => None,
        }
    }

    /// The certificates an ip/cp/kup/ccp carries (DER).
    #[getter]
    fn certificates(&self) -> PyResult<Vec<PyBytesOut>> {
        let certs: Vec<Certificate> = match &self.message.body {
            PkiBody::Ip(r) | PkiBody::Cp(r) | PkiBody::Kup(r) | PkiBody::Ccp(r) => r
                .response
                .iter()
                .filter_map(|c| c.certified_key_pair.as_ref())
                .filter_map(|k| match &k.cert_or_enc_cert {
                    CertOrEncCert::Certificate(c) => Some(c.clone()),
                    CertOrEncCert::EncryptedCert(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        certs_der(&certs)
    }

    /// caPubs of an ip/cp/kup/ccp (DER).
    #[getter]
    fn ca_pubs(&self) -> PyResult<Vec<PyBytesOut>> {
        match &self.message.body {
            PkiBody::Ip(r) | PkiBody::Cp(r) | PkiBody::Kup(r) | PkiBody::Ccp(r) => {
                certs_der(r.ca_pubs.as_deref().unwrap_or(&[]))
            }
            _ => Ok(Vec::new()),
        }
    }

    /// genm/genp content as `(oid, value_der_or_None)`.
    #[getter]
    fn infos(&self) -> PyResult<Vec<(String, Option<PyBytesOut>)>> {
        match &self.message.body {
            PkiBody::Genm(c) | PkiBody::Genp(c) => itavs_out(c),
            _ => Ok(Vec::new()),
        }
    }

    /// Inner messages of a nested body.
    #[getter]
    fn nested(&self) -> Vec<PyMessage> {
        match &self.message.body {
            PkiBody::Nested(inner) => inner.iter().cloned().map(Self::changed).collect(),
            _ => Vec::new(),
        }
    }

    // ----- protection and encodings -----

    /// The protection bits, if any.
    #[getter]
    fn protection(&self) -> Option<PyBytesOut> {
        self.message.protection.as_ref().map(|b| out(b.raw_bytes()))
    }

    /// extraCerts (DER).
    #[getter]
    fn extra_certs(&self) -> PyResult<Vec<PyBytesOut>> {
        certs_der(self.message.extra_certs.as_deref().unwrap_or(&[]))
    }

    /// DER of the header.
    #[getter]
    fn header_der(&self) -> PyResult<PyBytesOut> {
        Ok(Cow::Owned(enc(&self.message.header)?))
    }

    /// DER of the body (a PKIBody, usable with `modified(body=...)`).
    #[getter]
    fn body_der(&self) -> PyResult<PyBytesOut> {
        Ok(Cow::Owned(enc(&self.message.body)?))
    }

    /// DER of the ProtectedPart the protection covers (from the received
    /// bytes when unchanged).
    #[getter]
    fn protected_part(&self) -> PyResult<PyBytesOut> {
        Ok(out(self.parsed()?.protected_part()))
    }
}

impl PyMessage {
    fn protect_with(&self, protector: &Protector) -> PyResult<Self> {
        let mut header = self.message.header.clone();
        header.protection_alg = None;
        let p = provider();
        let m = protector
            .protect(
                header,
                self.message.body.clone(),
                self.message.extra_certs.clone().unwrap_or_default(),
                p.as_ref(),
            )
            .map_err(to_py_err)?;
        Ok(Self::changed(m))
    }
}
