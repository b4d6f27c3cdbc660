//! Central key generation and key recovery: `EnvelopeKey`, what opens the
//! EnvelopedData a PKI returns private keys in.

use std::sync::Arc;

use cmp_core::keygen::KeyGenAuthority;
use cmp_crypto_rustcrypto::{EnvelopeKey, KeyAlgorithm};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::conv::{bytes_of, cert_of, certs_of};
use crate::keys::key_of;

/// Opens the EnvelopedData of a centrally generated or recovered key: the
/// MAC shared secret (`EnvelopeKey.password`) or the private key of the
/// protection certificate (`EnvelopeKey.private_key`; RSA: key transport,
/// EC P-256/P-384: key agreement).
#[pyclass(frozen, name = "EnvelopeKey", module = "cmp_protocol._native")]
pub(crate) struct PyEnvelopeKey {
    pub(crate) key: Arc<EnvelopeKey>,
    kind: &'static str,
}

#[pymethods]
impl PyEnvelopeKey {
    /// The password (the MAC shared secret of the transaction).
    #[staticmethod]
    fn password(secret: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            key: Arc::new(EnvelopeKey::password(&bytes_of(secret)?)),
            kind: "password",
        })
    }

    /// The private key `key` of the certificate `cert`.
    #[staticmethod]
    fn private_key(key: &Bound<'_, PyAny>, cert: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            key: Arc::new(EnvelopeKey::private_key(key_of(key)?, cert_of(cert)?)),
            kind: "private_key",
        })
    }

    /// "password" or "private_key".
    #[getter]
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn __repr__(&self) -> String {
        format!("EnvelopeKey({})", self.kind)
    }
}

/// The key type identifier for central key generation from a key
/// algorithm name ("ec:P-256", "rsa2048", ...).
pub(crate) fn key_type_of(name: &str) -> PyResult<spki::AlgorithmIdentifierOwned> {
    let alg = KeyAlgorithm::from_name(name)
        .ok_or_else(|| PyValueError::new_err(format!("unknown key algorithm {name:?}")))?;
    Ok(cmp_crypto_rustcrypto::envelope::key_type_identifier(alg))
}

/// The key generation authority from its key, certificate and chain.
pub(crate) fn kga_of(
    key: &Bound<'_, PyAny>,
    cert: &Bound<'_, PyAny>,
    chain: Option<&Bound<'_, PyAny>>,
) -> PyResult<KeyGenAuthority> {
    let mut kga = KeyGenAuthority::new(Arc::new(key_of(key)?), cert_of(cert)?);
    kga.certs.extend(certs_of(chain)?);
    Ok(kga)
}
