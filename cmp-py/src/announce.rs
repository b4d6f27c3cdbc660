//! CA announcements (RFC 9810 section 5.3.13-5.3.16): `AnnouncementBuilder`
//! (CA side: ckuann, cann, rann, crlann), `AnnouncementValidator` (end-entity
//! side) and the `Announcement` it returns; `generate_root_ca` and
//! `root_key_update` make the certificates of a root CA key update.

use std::borrow::Cow;

use cmp_core::announce::{self, AnnouncementBuilder, AnnouncementValidator};
use cmp_core::asn1::RootCaKeyUpdateContent;
use cmp_core::client::crl_reason_extension;
use cmp_core::trust::TrustStore;
use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey, ReferenceCa};
use der::{Decode, Encode};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::GeneralName;

use crate::client::{protector_of, provider};
use crate::conv::{
    PyBytesOut, bytes_of, cert_der, cert_of, certs_der, certs_of, general_name_str, name_of,
    opt_bytes, out, secs, status_of, timestamp,
};
use crate::errors::{announce_err, ca_err, crypto_err, decode_err, to_py_err};
use crate::keys::key_of;

fn encode_err(e: der::Error) -> PyErr {
    to_py_err(cmp_core::Error::Encode(e))
}

/// The CA side: builds protected announcements (normally signed, so every
/// end entity can check them against its trust anchors).
#[pyclass(frozen, name = "AnnouncementBuilder", module = "cmp_protocol._native")]
pub(crate) struct PyAnnouncementBuilder {
    builder: AnnouncementBuilder,
}

#[pymethods]
impl PyAnnouncementBuilder {
    #[new]
    #[pyo3(signature = (
        *, key = None, cert = None, chain = None, reference = None, secret = None,
        extra_certs = None, recipient = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        key: Option<&Bound<'_, PyAny>>,
        cert: Option<&Bound<'_, PyAny>>,
        chain: Option<&Bound<'_, PyAny>>,
        reference: Option<&Bound<'_, PyAny>>,
        secret: Option<&Bound<'_, PyAny>>,
        extra_certs: Option<&Bound<'_, PyAny>>,
        recipient: Option<&str>,
    ) -> PyResult<Self> {
        let protector = protector_of(reference, secret, false, key, cert, chain)?;
        let mut builder = AnnouncementBuilder::new(provider(), protector);
        builder.extra_certs = certs_of(extra_certs)?;
        builder.recipient = recipient.map(name_of).transpose()?;
        Ok(Self { builder })
    }

    /// ckuann (cAKeyUpdAnnV3): the new root `new_with_new`, the new key
    /// certified with the old (`new_with_old`) and the old with the new.
    #[pyo3(signature = (new_with_new, new_with_old = None, old_with_new = None, *, now = None))]
    fn root_key_update(
        &self,
        py: Python<'_>,
        new_with_new: &Bound<'_, PyAny>,
        new_with_old: Option<&Bound<'_, PyAny>>,
        old_with_new: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<PyBytesOut> {
        let opt =
            |c: Option<&Bound<'_, PyAny>>| c.filter(|c| !c.is_none()).map(cert_of).transpose();
        let content = RootCaKeyUpdateContent {
            new_with_new: cert_of(new_with_new)?,
            new_with_old: opt(new_with_old)?,
            old_with_new: opt(old_with_new)?,
        };
        let now = timestamp(py, now)?;
        self.builder
            .root_key_update(content, now)
            .map(Cow::Owned)
            .map_err(to_py_err)
    }

    /// cann: announce a newly issued certificate.
    #[pyo3(signature = (cert, *, now = None))]
    fn certificate(
        &self,
        py: Python<'_>,
        cert: &Bound<'_, PyAny>,
        now: Option<f64>,
    ) -> PyResult<PyBytesOut> {
        let cert = cert_of(cert)?;
        let now = timestamp(py, now)?;
        self.builder
            .certificate(cert, now)
            .map(Cow::Owned)
            .map_err(to_py_err)
    }

    /// rann: `cert` will be ("revocationWarning") or has been
    /// ("revocationNotification") revoked at `at`, bad since `bad_since`
    /// (seconds since the epoch), with an optional CRL reason code.
    #[pyo3(signature = (cert, *, status = "revocationNotification", at, bad_since, reason = None, now = None))]
    #[allow(clippy::too_many_arguments)]
    fn revocation(
        &self,
        py: Python<'_>,
        cert: &Bound<'_, PyAny>,
        status: &str,
        at: f64,
        bad_since: f64,
        reason: Option<u8>,
        now: Option<f64>,
    ) -> PyResult<PyBytesOut> {
        let cert = cert_of(cert)?;
        let details = reason
            .map(|r| crl_reason_extension(r).map(|e| vec![e]))
            .transpose()
            .map_err(to_py_err)?;
        let at = timestamp(py, Some(at))?;
        let bad_since = timestamp(py, Some(bad_since))?;
        let now = timestamp(py, now)?;
        self.builder
            .revocation(&cert, status_of(status)?, at, bad_since, details, now)
            .map(Cow::Owned)
            .map_err(to_py_err)
    }

    /// crlann: announce CRLs (DER).
    #[pyo3(signature = (crls, *, now = None))]
    fn crls(
        &self,
        py: Python<'_>,
        crls: &Bound<'_, PyAny>,
        now: Option<f64>,
    ) -> PyResult<PyBytesOut> {
        let mut list = Vec::new();
        for item in crls.try_iter()? {
            list.push(CertificateList::from_der(&bytes_of(&item?)?).map_err(decode_err)?);
        }
        let now = timestamp(py, now)?;
        self.builder
            .crls(list, now)
            .map(Cow::Owned)
            .map_err(to_py_err)
    }
}

/// The end-entity side: checks an announcement against trust anchors.
#[pyclass(
    frozen,
    name = "AnnouncementValidator",
    module = "cmp_protocol._native"
)]
pub(crate) struct PyAnnouncementValidator {
    validator: AnnouncementValidator,
}

#[pymethods]
impl PyAnnouncementValidator {
    #[new]
    #[pyo3(signature = (trust, *, untrusted = None, secret = None, max_time_skew = Some(600)))]
    fn new(
        trust: &Bound<'_, PyAny>,
        untrusted: Option<&Bound<'_, PyAny>>,
        secret: Option<&Bound<'_, PyAny>>,
        max_time_skew: Option<u64>,
    ) -> PyResult<Self> {
        let mut v = AnnouncementValidator::new(provider(), TrustStore::new(certs_of(Some(trust))?));
        v.untrusted = certs_of(untrusted)?;
        v.secret = opt_bytes(secret)?;
        v.max_time_skew = max_time_skew;
        Ok(Self { validator: v })
    }

    /// Check the announcement and say what it announces; raises
    /// AnnouncementError (600-616) or the core error of the message.
    #[pyo3(signature = (data, now = None))]
    fn validate(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        now: Option<f64>,
    ) -> PyResult<PyAnnouncement> {
        let bytes = bytes_of(data)?;
        let now = timestamp(py, now)?;
        let a = self.validator.validate(&bytes, now).map_err(announce_err)?;
        announcement_of(a)
    }
}

/// A validated announcement. `kind` says which fields are set:
/// "root_key_update" (old_root, new_root, new_with_old, old_with_new),
/// "certificate" (certificate, path), "revocation" (status, issuer,
/// serial, will_be_revoked_at, bad_since, reason), "crls" (crls).
#[pyclass(
    frozen,
    get_all,
    name = "Announcement",
    module = "cmp_protocol._native"
)]
#[derive(Default)]
pub(crate) struct PyAnnouncement {
    kind: &'static str,
    old_root: Option<PyBytesOut>,
    new_root: Option<PyBytesOut>,
    new_with_old: Option<PyBytesOut>,
    old_with_new: Option<PyBytesOut>,
    certificate: Option<PyBytesOut>,
    path: Vec<PyBytesOut>,
    status: Option<&'static str>,
    issuer: Option<String>,
    serial: Option<PyBytesOut>,
    will_be_revoked_at: Option<f64>,
    bad_since: Option<f64>,
    reason: Option<u8>,
    crls: Vec<PyBytesOut>,
}

#[pymethods]
impl PyAnnouncement {
    fn __repr__(&self) -> String {
        format!("Announcement(kind={:?})", self.kind)
    }
}

fn announcement_of(a: announce::Announcement) -> PyResult<PyAnnouncement> {
    Ok(match a {
        announce::Announcement::RootKeyUpdate(u) => PyAnnouncement {
            kind: "root_key_update",
            old_root: Some(cert_der(&u.old_root)?),
            new_root: Some(cert_der(&u.new_root)?),
            new_with_old: Some(cert_der(&u.new_with_old)?),
            old_with_new: u.old_with_new.as_ref().map(cert_der).transpose()?,
            ..Default::default()
        },
        announce::Announcement::CertificateAnnounced { cert, path } => PyAnnouncement {
            kind: "certificate",
            certificate: Some(cert_der(&cert)?),
            path: certs_der(&path)?,
            ..Default::default()
        },
        announce::Announcement::RevocationAnnounced {
            status,
            cert_id,
            will_be_revoked_at,
            bad_since,
            crl_details,
        } => PyAnnouncement {
            kind: "revocation",
            status: Some(status.name()),
            issuer: Some(match &cert_id.issuer {
                GeneralName::DirectoryName(n) => n.to_string(),
                other => general_name_str(other),
            }),
            serial: Some(out(cert_id.serial_number.as_bytes())),
            will_be_revoked_at: Some(secs(will_be_revoked_at)),
            bad_since: Some(secs(bad_since)),
            reason: crl_details.as_ref().and_then(|d| {
                d.iter()
                    .find(|e| e.extn_id.to_string() == "2.5.29.21")
                    .and_then(|e| match e.extn_value.as_bytes() {
                        [0x0a, 0x01, r] => Some(*r),
                        _ => None,
                    })
            }),
            ..Default::default()
        },
        announce::Announcement::CrlAnnounced(crls) => PyAnnouncement {
            kind: "crls",
            crls: crls
                .iter()
                .map(|c| c.to_der().map(Cow::Owned).map_err(encode_err))
                .collect::<PyResult<_>>()?,
            ..Default::default()
        },
    })
}

/// A self-signed root CA "CN=`name`" with a fresh key of `key_algorithm`:
/// `(private_key_pkcs8_der, certificate_der)`.
#[pyfunction]
#[pyo3(signature = (name, key_algorithm = "ec:P-256", *, now = None))]
pub(crate) fn generate_root_ca(
    py: Python<'_>,
    name: &str,
    key_algorithm: &str,
    now: Option<f64>,
) -> PyResult<(PyBytesOut, PyBytesOut)> {
    let alg = KeyAlgorithm::from_name(key_algorithm)
        .ok_or_else(|| PyValueError::new_err(format!("unknown key algorithm {key_algorithm:?}")))?;
    let ca = ReferenceCa::generate_root(name, timestamp(py, now)?, alg).map_err(ca_err)?;
    let key = ca.signing_key().to_pkcs8_der().map_err(crypto_err)?;
    Ok((out(&key), cert_der(ca.certificate())?))
}

/// The certificates of a root CA key update (RFC 9810 section 4.4) from
/// the old root's key and certificate to `new_key` (default: a fresh key
/// of the same type): `(new_with_new, new_with_old, old_with_new, new_key_pkcs8_der)`.
#[pyfunction]
#[pyo3(signature = (root_key, root_cert, new_key = None, *, now = None))]
pub(crate) fn root_key_update(
    py: Python<'_>,
    root_key: &Bound<'_, PyAny>,
    root_cert: &Bound<'_, PyAny>,
    new_key: Option<&Bound<'_, PyAny>>,
    now: Option<f64>,
) -> PyResult<(PyBytesOut, PyBytesOut, PyBytesOut, PyBytesOut)> {
    let old_key = key_of(root_key)?;
    let new_key = match new_key.filter(|k| !k.is_none()) {
        Some(k) => key_of(k)?,
        None => {
            let alg = old_key
                .key_algorithm()
                .ok_or_else(|| PyValueError::new_err("give new_key for this key type"))?;
            PrivateKey::generate(alg).map_err(crypto_err)?
        }
    };
    let ca = ReferenceCa::new(old_key, cert_of(root_cert)?, Vec::new()).map_err(ca_err)?;
    let u = ca
        .root_key_update(new_key.clone(), timestamp(py, now)?)
        .map_err(ca_err)?;
    let key = new_key.to_pkcs8_der().map_err(crypto_err)?;
    Ok((
        cert_der(&u.new_with_new)?,
        cert_der(&u.new_with_old)?,
        cert_der(&u.old_with_new)?,
        out(&key),
    ))
}
