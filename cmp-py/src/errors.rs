//! The one conversion from `cmp_core::Error` (and the reference CA's
//! errors) to the Python exception classes of `cmp_protocol.errors`.

use cmp_core::announce::AnnounceError;
use cmp_core::crypto::CryptoError;
use cmp_core::transport::coap::CoapError;
use cmp_core::{Error, ErrorKind, PeerFailure};
use cmp_crypto_rustcrypto::CaError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::conv::status_dict;

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Local => "local",
        ErrorKind::Remote => "remote",
        ErrorKind::Peer => "peer",
    }
}

/// The Python exception object (not raised) for `e`.
pub(crate) fn error_object<'py>(py: Python<'py>, e: &Error) -> PyResult<Bound<'py, PyAny>> {
    let peer = match e {
        Error::Peer(f) | Error::UnauthenticatedError(f) => Some(peer_dict(py, f)?),
        _ => None,
    };
    py.import("cmp_protocol.errors")?
        .getattr("_from_native")?
        .call1((
            e.code(),
            e.name(),
            e.to_string(),
            kind_name(e.kind()),
            e.failure_bit().name(),
            peer,
        ))
}

fn peer_dict<'py>(py: Python<'py>, f: &PeerFailure) -> PyResult<Bound<'py, PyDict>> {
    let d = status_dict(py, &f.status)?;
    d.set_item("body", f.body.name())?;
    d.set_item("error_code", f.error_code)?;
    d.set_item("error_details", f.error_details.clone())?;
    Ok(d)
}

/// `e` as a Python exception to raise.
pub(crate) fn to_py_err(e: Error) -> PyErr {
    Python::attach(|py| match error_object(py, &e) {
        Ok(obj) => PyErr::from_value(obj),
        Err(import_failed) => import_failed,
    })
}

/// The reference CA's errors, mapped onto the codes of the one table.
pub(crate) fn ca_error(e: CaError) -> Error {
    match e {
        CaError::BadTemplate(why) => Error::BadCertTemplate(why),
        CaError::Crypto(c) => Error::Crypto(c),
        CaError::Encoding(d) => Error::Encode(d),
        CaError::UnknownCertificate => Error::Usage("no certificate with this serial number"),
        CaError::AlreadyRevoked => Error::Usage("certificate already revoked"),
        CaError::InvalidReason(_) => Error::Usage("invalid CRL reason code"),
        CaError::BadCaCredentials(why) | CaError::BadState(why) => Error::Config(why),
        CaError::TimeOutOfRange => Error::Usage("time outside the range of X.509 validity"),
        _ => Error::Usage("reference CA failure"),
    }
}

pub(crate) fn ca_err(e: CaError) -> PyErr {
    to_py_err(ca_error(e))
}

pub(crate) fn crypto_err(e: CryptoError) -> PyErr {
    to_py_err(Error::Crypto(e))
}

pub(crate) fn usage(what: &'static str) -> PyErr {
    to_py_err(Error::Usage(what))
}

pub(crate) fn decode_err(e: der::Error) -> PyErr {
    to_py_err(Error::Decode(e))
}

/// `[(code, name, kind, failure_bit)]` for every native error, in code order
/// (the rows of docs/errors.md).
#[pyfunction]
pub(crate) fn error_table() -> Vec<(u16, &'static str, &'static str, &'static str)> {
    Error::catalogue()
        .iter()
        .map(|e| {
            (
                e.code(),
                e.name(),
                kind_name(e.kind()),
                e.failure_bit().name(),
            )
        })
        .collect()
}

/// An announcement that did not validate, as a Python exception: the
/// announcement's own codes (600-616) as `AnnouncementError`, a failure of
/// the message itself (protection, decoding, ...) as the core error.
pub(crate) fn announce_err(e: AnnounceError) -> PyErr {
    if let AnnounceError::Message(inner) = e {
        return to_py_err(*inner);
    }
    Python::attach(|py| {
        let obj = py
            .import("cmp_protocol.errors")?
            .getattr("_from_native")?
            .call1((
                e.code(),
                e.name(),
                e.to_string(),
                "remote",
                "badMessageCheck",
                None::<Py<PyAny>>,
            ))?;
        Ok::<_, PyErr>(PyErr::from_value(obj))
    })
    .unwrap_or_else(|import_failed| import_failed)
}

/// A CoAP block-wise framing failure as `CoapError` (700-708); its
/// `response_code` is the CoAP response code to answer with (e.g. 0x88 =
/// 4.08 Request Entity Incomplete).
pub(crate) fn coap_err(e: CoapError) -> PyErr {
    let kind = match e {
        CoapError::MtuTooSmall { .. } => "local",
        _ => "remote",
    };
    Python::attach(|py| {
        let obj = py
            .import("cmp_protocol.errors")?
            .getattr("_from_native")?
            .call1((
                e.code(),
                e.name(),
                e.to_string(),
                kind,
                "badRequest",
                None::<Py<PyAny>>,
            ))?;
        obj.setattr("response_code", e.response_code())?;
        Ok::<_, PyErr>(PyErr::from_value(obj))
    })
    .unwrap_or_else(|import_failed| import_failed)
}

/// `[(code, name)]` of the announcement errors (docs/errors.md, 600-616).
#[pyfunction]
pub(crate) fn announce_error_table() -> Vec<(u16, &'static str)> {
    AnnounceError::catalogue()
        .iter()
        .filter(|e| !matches!(e, AnnounceError::Message(_)))
        .map(|e| (e.code(), e.name()))
        .collect()
}

/// `[(code, name)]` of the CoAP framing errors (docs/errors.md, 700-708).
#[pyfunction]
pub(crate) fn coap_error_table() -> Vec<(u16, &'static str)> {
    CoapError::catalogue()
        .iter()
        .map(|e| (e.code(), e.name()))
        .collect()
}
