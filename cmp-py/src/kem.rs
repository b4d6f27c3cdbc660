//! ML-KEM keys (FIPS 203) for KEM-based MAC protection and for
//! proof-of-possession by an encrypted certificate.

use std::borrow::Cow;
use std::sync::Arc;

use cmp_core::crypto::{DecapsulationKey, KemAlgorithm};
use cmp_crypto_rustcrypto::KemPrivateKey;
use der::Encode;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::conv::{PyBytesOut, bytes_of};
use crate::errors::{crypto_err, to_py_err};

fn algorithm_of(name: &str) -> PyResult<KemAlgorithm> {
    match name {
        "ml-kem-512" => Ok(KemAlgorithm::MlKem512),
        "ml-kem-768" => Ok(KemAlgorithm::MlKem768),
        "ml-kem-1024" => Ok(KemAlgorithm::MlKem1024),
        other => Err(PyValueError::new_err(format!(
            "unknown KEM algorithm {other:?} (ml-kem-512, ml-kem-768, ml-kem-1024)"
        ))),
    }
}

/// An ML-KEM private key: decrypts a certificate the CA encrypted to it
/// (POP "encrypted_cert"), and decapsulates the shared secret of KEM-based
/// MAC protection (`ClientConfig(kem_key=..., kem_ciphertext=...)`).
#[pyclass(frozen, name = "KemPrivateKey", module = "cmp_protocol._native")]
pub(crate) struct PyKemPrivateKey {
    pub(crate) key: Arc<KemPrivateKey>,
}

#[pymethods]
impl PyKemPrivateKey {
    /// A fresh key: "ml-kem-512", "ml-kem-768" (default) or "ml-kem-1024".
    #[staticmethod]
    #[pyo3(signature = (algorithm = "ml-kem-768"))]
    fn generate(algorithm: &str) -> PyResult<Self> {
        Ok(Self {
            key: Arc::new(KemPrivateKey::generate(algorithm_of(algorithm)?).map_err(crypto_err)?),
        })
    }

    /// Load from PKCS#8 DER (or PEM).
    #[staticmethod]
    fn load(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let b = bytes_of(data)?;
        let key = if b.windows(11).any(|w| w == b"-----BEGIN ") {
            let text =
                std::str::from_utf8(&b).map_err(|_| PyValueError::new_err("PEM is not UTF-8"))?;
            KemPrivateKey::from_pem(text)
        } else {
            KemPrivateKey::from_pkcs8_der(&b)
        }
        .map_err(crypto_err)?;
        Ok(Self { key: Arc::new(key) })
    }

    /// PKCS#8 DER.
    fn to_der(&self) -> PyResult<PyBytesOut> {
        Ok(Cow::Owned(
            self.key.to_pkcs8_der().map_err(crypto_err)?.to_vec(),
        ))
    }

    /// The SubjectPublicKeyInfo, DER.
    fn public_key_der(&self) -> PyResult<PyBytesOut> {
        DecapsulationKey::public_key(self.key.as_ref())
            .to_der()
            .map(Cow::Owned)
            .map_err(|e| to_py_err(cmp_core::Error::Encode(e)))
    }

    /// "ml-kem-512", "ml-kem-768" or "ml-kem-1024".
    #[getter]
    fn algorithm(&self) -> &'static str {
        match DecapsulationKey::algorithm(self.key.as_ref()) {
            KemAlgorithm::MlKem512 => "ml-kem-512",
            KemAlgorithm::MlKem768 => "ml-kem-768",
            KemAlgorithm::MlKem1024 => "ml-kem-1024",
        }
    }

    fn __repr__(&self) -> String {
        format!("KemPrivateKey({})", self.algorithm())
    }
}

/// The client side when the responder holds the KEM key: encapsulate to
/// the KEM public key of its (authentic) certificate `cert`. Returns the
/// `(oid, value_der)` to send as `ClientConfig(first_general_info=[...])`
/// and the shared secret (`ClientConfig(kem_shared_secret=...)` to protect
/// the requests with the KEM-based MAC, or `response_secret=` when they
/// are signed).
#[pyfunction]
pub(crate) fn kem_encapsulate_to(
    cert: &Bound<'_, PyAny>,
) -> PyResult<((String, Option<PyBytesOut>), PyBytesOut)> {
    let cert = crate::conv::cert_of(cert)?;
    let (itav, secret) = cmp_core::kem::encapsulate_to(
        cert.tbs_certificate().subject_public_key_info(),
        &cmp_crypto_rustcrypto::RustCryptoProvider,
    )
    .map_err(to_py_err)?;
    Ok((crate::conv::itav_out(&itav)?, Cow::Owned(secret)))
}
