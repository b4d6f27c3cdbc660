//! Conversions between Python values and the Rust types.

use std::borrow::Cow;

use cmp_core::Timestamp;
use cmp_core::asn1::{FailureBit, InfoTypeAndValue, PkiStatus, PkiStatusInfo};
use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, DecodePem, Encode};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::errors::{decode_err, to_py_err};

/// Bytes handed back to Python (`bytes`).
pub(crate) type PyBytesOut = Cow<'static, [u8]>;

pub(crate) fn out(b: &[u8]) -> PyBytesOut {
    Cow::Owned(b.to_vec())
}

/// `now` (seconds since the epoch, float), default `time.time()`.
pub(crate) fn timestamp(py: Python<'_>, now: Option<f64>) -> PyResult<Timestamp> {
    let secs = match now {
        Some(s) => s,
        None => py.import("time")?.call_method0("time")?.extract::<f64>()?,
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(PyValueError::new_err(
            "now must be a non-negative number of seconds",
        ));
    }
    // f64 -> u64 saturates; milliseconds are what the core keeps.
    Ok(Timestamp::from_unix_millis((secs * 1000.0).round() as u64))
}

/// A timestamp as float seconds.
pub(crate) fn secs(t: Timestamp) -> f64 {
    t.unix_millis() as f64 / 1000.0
}

/// bytes, bytearray, memoryview-free inputs, or str (UTF-8) as bytes.
pub(crate) fn bytes_of(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "expected bytes or str, got {}",
        obj.get_type().name()?
    )))
}

pub(crate) fn opt_bytes(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => bytes_of(o).map(Some),
    }
}

fn looks_like_pem(b: &[u8]) -> bool {
    b.windows(11).any(|w| w == b"-----BEGIN ")
}

/// A certificate from DER or PEM bytes, or from an object with
/// `public_bytes(Encoding.DER)` (pyca/cryptography's `x509.Certificate`).
pub(crate) fn cert_of(obj: &Bound<'_, PyAny>) -> PyResult<Certificate> {
    let py = obj.py();
    let der = if obj.hasattr("public_bytes")? && !obj.is_instance_of::<PyBytes>() {
        let enc = py
            .import("cryptography.hazmat.primitives.serialization")?
            .getattr("Encoding")?
            .getattr("DER")?;
        bytes_of(&obj.call_method1("public_bytes", (enc,))?)?
    } else {
        bytes_of(obj)?
    };
    if looks_like_pem(&der) {
        Certificate::from_pem(&der).map_err(decode_err)
    } else {
        Certificate::from_der(&der).map_err(decode_err)
    }
}

/// A list of certificates (see [`cert_of`]); also accepts one PEM blob
/// holding several certificates.
pub(crate) fn certs_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Certificate>> {
    let Some(obj) = obj else {
        return Ok(Vec::new());
    };
    if obj.is_none() {
        return Ok(Vec::new());
    }
    if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyString>() {
        let b = bytes_of(obj)?;
        if looks_like_pem(&b) {
            return Certificate::load_pem_chain(&b).map_err(decode_err);
        }
        return Ok(vec![Certificate::from_der(&b).map_err(decode_err)?]);
    }
    let mut v = Vec::new();
    for item in obj.try_iter()? {
        v.push(cert_of(&item?)?);
    }
    Ok(v)
}

pub(crate) fn cert_der(c: &Certificate) -> PyResult<PyBytesOut> {
    c.to_der()
        .map(Cow::Owned)
        .map_err(|e| to_py_err(cmp_core::Error::Encode(e)))
}

pub(crate) fn certs_der(cs: &[Certificate]) -> PyResult<Vec<PyBytesOut>> {
    cs.iter().map(cert_der).collect()
}

/// A distinguished name from an RFC 4514 string (`"CN=Test Device,O=Example"`)
/// or OpenSSL's form (`"/O=Example/CN=Test Device"`).
pub(crate) fn name_of(s: &str) -> PyResult<Name> {
    cmp_core::name::parse_dn(s).map_err(|e| PyValueError::new_err(e.to_string()))
}

pub(crate) fn general_name_str(g: &GeneralName) -> String {
    match g {
        GeneralName::DirectoryName(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

pub(crate) fn oid_of(s: &str) -> PyResult<ObjectIdentifier> {
    ObjectIdentifier::new(s).map_err(|e| PyValueError::new_err(format!("bad OID {s:?}: {e}")))
}

pub(crate) fn failure_bit_of(name: &str) -> PyResult<FailureBit> {
    FailureBit::ALL
        .iter()
        .copied()
        .find(|b| b.name().eq_ignore_ascii_case(name))
        .ok_or_else(|| PyValueError::new_err(format!("unknown PKIFailureInfo bit {name:?}")))
}

pub(crate) fn failure_bits_of(names: Option<Vec<String>>) -> PyResult<Vec<FailureBit>> {
    names
        .unwrap_or_default()
        .iter()
        .map(|n| failure_bit_of(n))
        .collect()
}

pub(crate) fn bit_names(s: &PkiStatusInfo) -> Vec<&'static str> {
    s.failure_bits().iter().map(|b| b.name()).collect()
}

/// Every PKIFailureInfo bit name, in bit order.
#[pyfunction]
pub(crate) fn failure_bits() -> Vec<&'static str> {
    FailureBit::ALL.iter().map(|b| b.name()).collect()
}

pub(crate) fn status_of(name: &str) -> PyResult<PkiStatus> {
    [
        PkiStatus::Accepted,
        PkiStatus::GrantedWithMods,
        PkiStatus::Rejection,
        PkiStatus::Waiting,
        PkiStatus::RevocationWarning,
        PkiStatus::RevocationNotification,
        PkiStatus::KeyUpdateWarning,
    ]
    .into_iter()
    .find(|s| s.name().eq_ignore_ascii_case(name))
    .ok_or_else(|| PyValueError::new_err(format!("unknown PKIStatus {name:?}")))
}

/// status / fail_info / status_string of a PKIStatusInfo as a dict.
pub(crate) fn status_dict<'py>(py: Python<'py>, s: &PkiStatusInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("status", s.status.name())?;
    d.set_item("fail_info", bit_names(s))?;
    d.set_item("status_string", s.status_string.clone().unwrap_or_default())?;
    Ok(d)
}

/// An InfoTypeAndValue from `(oid, value_der_or_None)`.
pub(crate) fn itav_of(obj: &Bound<'_, PyAny>) -> PyResult<InfoTypeAndValue> {
    let (oid, value): (String, Option<Bound<'_, PyAny>>) = obj.extract()?;
    let info_value = match value {
        Some(v) if !v.is_none() => Some(Any::from_der(&bytes_of(&v)?).map_err(decode_err)?),
        _ => None,
    };
    Ok(InfoTypeAndValue {
        info_type: oid_of(&oid)?,
        info_value,
    })
}

pub(crate) fn itavs_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<InfoTypeAndValue>> {
    let mut v = Vec::new();
    if let Some(obj) = obj
        && !obj.is_none()
    {
        for item in obj.try_iter()? {
            v.push(itav_of(&item?)?);
        }
    }
    Ok(v)
}

/// `(oid, value_der_or_None)` of an InfoTypeAndValue.
pub(crate) fn itav_out(i: &InfoTypeAndValue) -> PyResult<(String, Option<PyBytesOut>)> {
    let value = match &i.info_value {
        Some(v) => Some(Cow::Owned(
            v.to_der()
                .map_err(|e| to_py_err(cmp_core::Error::Encode(e)))?,
        )),
        None => None,
    };
    Ok((i.info_type.to_string(), value))
}

pub(crate) fn itavs_out(v: &[InfoTypeAndValue]) -> PyResult<Vec<(String, Option<PyBytesOut>)>> {
    v.iter().map(itav_out).collect()
}
