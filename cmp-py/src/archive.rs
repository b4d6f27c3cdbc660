//! Key archiving by the requester (pkiArchiveOptions, RFC 4211 section
//! 6.4): the client side builds the control that carries the request's
//! private key encrypted for the CA; the responder side opens it.

use cmp_core::asn1::AttributeTypeAndValue;
use cmp_core::client::ClientConfig;
use cmp_core::crypto::EnvelopeOpener;
use cmp_core::keygen::PrivateKeyDer;
use cmp_core::server::PendingRequest;
use cmp_crypto_rustcrypto::{EnvelopeKey, PrivateKey};
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

/// The key archived in `p`, opened with the CA's own key (`ca_key` of
/// `ca_cert`) or the MAC secret the request was protected with, and checked
/// to be the key of the requested public key; `None` if nothing is archived.
pub(crate) fn archived_by_ca(
    p: &PendingRequest,
    ca_key: &PrivateKey,
    ca_cert: &x509_cert::Certificate,
) -> cmp_core::Result<Option<PrivateKeyDer>> {
    let ca = EnvelopeKey::private_key(ca_key.clone(), ca_cert.clone());
    let password = p.mac_secret().map(EnvelopeKey::password);
    let mut openers: Vec<&dyn EnvelopeOpener> = vec![&ca];
    openers.extend(password.as_ref().map(|k| k as &dyn EnvelopeOpener));
    p.archived_key(&openers)
}
