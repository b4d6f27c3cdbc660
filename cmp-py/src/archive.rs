//! Key archiving by the requester (pkiArchiveOptions, RFC 4211 section
//! 6.4), client side: the control that carries the request's private key
//! encrypted for the CA. (FakeCa opens it with `ReferenceCa::archived_key`.)

use cmp_core::asn1::AttributeTypeAndValue;
use cmp_core::client::ClientConfig;
use cmp_crypto_rustcrypto::PrivateKey;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::conv::cert_of;
use crate::errors::{crypto_err, to_py_err};

/// The pkiArchiveOptions control archiving `key`: encrypted for
/// `archive_cert` (the CA's certificate: key transport to RSA, key
/// agreement with EC) if given, else under the MAC secret of `config`.
pub(crate) fn archive_control(
    config: &ClientConfig,
    key: &PrivateKey,
    archive_cert: Option<&Bound<'_, PyAny>>,
) -> PyResult<AttributeTypeAndValue> {
    let der = key.to_pkcs8_der().map_err(crypto_err)?;
    let cert = archive_cert.map(cert_of).transpose()?;
    cmp_core::archive::client_control(config, &der, cert.as_ref())
        .map_err(to_py_err)?
        .ok_or_else(|| {
            PyValueError::new_err(
                "archive_key without a MAC secret in the config needs archive_cert (the CA's certificate)",
            )
        })
}
