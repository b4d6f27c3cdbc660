//! Private keys: PKCS#8 / SEC1 / PKCS#1, DER or PEM, generated, or taken
//! from a pyca/cryptography private key object.

use std::borrow::Cow;
use std::sync::Arc;

use cmp_core::crypto::SigningKey;
use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey};
use der::Encode;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::conv::{PyBytesOut, bytes_of};
use crate::errors::{crypto_err, to_py_err};

/// A private key usable as CMP credential or proof-of-possession key.
#[pyclass(frozen, name = "PrivateKey", module = "cmp_protocol._native")]
pub(crate) struct PyPrivateKey {
    pub(crate) key: PrivateKey,
}

fn from_bytes(b: &[u8]) -> PyResult<PrivateKey> {
    if b.windows(11).any(|w| w == b"-----BEGIN ") {
        let text = std::str::from_utf8(b).map_err(|_| PyValueError::new_err("PEM is not UTF-8"))?;
        PrivateKey::from_pem(text).map_err(crypto_err)
    } else {
        PrivateKey::from_der(b).map_err(crypto_err)
    }
}

#[pymethods]
impl PyPrivateKey {
    /// Load from PEM (PKCS#8, SEC1 "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY").
    #[staticmethod]
    fn from_pem(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            key: from_bytes(&bytes_of(data)?)?,
        })
    }

    /// Load from DER (PKCS#8, SEC1 or PKCS#1).
    #[staticmethod]
    fn from_der(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            key: PrivateKey::from_der(&bytes_of(data)?).map_err(crypto_err)?,
        })
    }

    /// Generate a key: "ec:P-256" (default), "ec:P-384", "rsa2048", "rsa3072",
    /// "ed25519", "ml-dsa-44", "ml-dsa-65", "ml-dsa-87".
    #[staticmethod]
    #[pyo3(signature = (algorithm = "ec:P-256"))]
    fn generate(algorithm: &str) -> PyResult<Self> {
        let alg = KeyAlgorithm::from_name(algorithm)
            .ok_or_else(|| PyValueError::new_err(format!("unknown key algorithm {algorithm:?}")))?;
        Ok(Self {
            key: PrivateKey::generate(alg).map_err(crypto_err)?,
        })
    }

    /// A key from bytes (DER or PEM), a `PrivateKey`, or a pyca/cryptography
    /// private key object.
    #[staticmethod]
    fn load(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self { key: key_of(obj)? })
    }

    /// PKCS#8 DER.
    fn to_der(&self) -> PyResult<PyBytesOut> {
        Ok(Cow::Owned(
            self.key.to_pkcs8_der().map_err(crypto_err)?.to_vec(),
        ))
    }

    /// PKCS#8 PEM.
    fn to_pem(&self) -> PyResult<PyBytesOut> {
        Ok(Cow::Owned(
            self.key
                .to_pkcs8_pem()
                .map_err(crypto_err)?
                .as_bytes()
                .to_vec(),
        ))
    }

    /// The SubjectPublicKeyInfo, DER.
    fn public_key_der(&self) -> PyResult<PyBytesOut> {
        self.key
            .public_key()
            .to_der()
            .map(Cow::Owned)
            .map_err(|e| to_py_err(cmp_core::Error::Encode(e)))
    }

    /// The canonical key algorithm name, or None (RSA of an unusual size).
    #[getter]
    fn algorithm(&self) -> Option<&'static str> {
        self.key.key_algorithm().map(KeyAlgorithm::name)
    }

    /// The signature algorithm OID the key signs with.
    #[getter]
    fn signature_algorithm_oid(&self) -> String {
        self.key.algorithm_identifier().oid.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "PrivateKey({})",
            self.key.key_algorithm().map_or("?", KeyAlgorithm::name)
        )
    }
}

/// A key from a `PrivateKey`, bytes (DER or PEM), or an object with
/// `private_bytes` (pyca/cryptography), exported as unencrypted PKCS#8.
pub(crate) fn key_of(obj: &Bound<'_, PyAny>) -> PyResult<PrivateKey> {
    if let Ok(k) = obj.cast::<PyPrivateKey>() {
        return Ok(k.get().key.clone());
    }
    if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyString>() {
        return from_bytes(&bytes_of(obj)?);
    }
    if obj.hasattr("private_bytes")? {
        let py = obj.py();
        let ser = py.import("cryptography.hazmat.primitives.serialization")?;
        let der = obj.call_method1(
            "private_bytes",
            (
                ser.getattr("Encoding")?.getattr("DER")?,
                ser.getattr("PrivateFormat")?.getattr("PKCS8")?,
                ser.getattr("NoEncryption")?.call0()?,
            ),
        )?;
        return PrivateKey::from_der(&bytes_of(&der)?).map_err(crypto_err);
    }
    from_bytes(&bytes_of(obj)?)
}

pub(crate) fn signing_key_of(obj: &Bound<'_, PyAny>) -> PyResult<Arc<dyn SigningKey>> {
    Ok(Arc::new(key_of(obj)?))
}
