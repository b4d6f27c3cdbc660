//! The client side: `ClientConfig`, `ClientTransaction` and the step objects
//! `handle_response` / `confirm` return.

use std::sync::Arc;

use cmp_core::asn1::{InfoTypeAndValue, InfoValue, PkiStatus, PkiStatusInfo};
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
    GenmRequest, KeyRecoveryRequest, PopMethod, RevokeRequest,
};
use cmp_core::crypto::CryptoProvider;
use cmp_core::kem;
use cmp_core::protection::{MacScheme, Protector};
use cmp_core::trust::TrustStore;
use cmp_crypto_rustcrypto::RustCryptoProvider;
use der::asn1::OctetString;
use der::{Decode, DecodePem};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::request::CertReq;

use crate::archive;
use crate::conv::{
    PyBytesOut, bit_names, bytes_of, cert_der, cert_of, certs_der, certs_of, failure_bits_of,
    itav_of, itavs_of, itavs_out, name_of, oid_of, opt_bytes, out, secs, timestamp,
};
use crate::errors::{decode_err, to_py_err};
use crate::kem::PyKemPrivateKey;
use crate::keygen::{PyEnvelopeKey, key_type_of};
use crate::keys::{key_of, signing_key_of};

/// The enrollment kind from its body name.
fn enroll_kind_of(name: &str) -> PyResult<EnrollKind> {
    match name {
        "ir" => Ok(EnrollKind::Ir),
        "cr" => Ok(EnrollKind::Cr),
        "kur" => Ok(EnrollKind::Kur),
        "ccr" => Ok(EnrollKind::Ccr),
        other => Err(PyValueError::new_err(format!(
            "kind must be 'ir', 'cr', 'kur' or 'ccr', not {other:?}"
        ))),
    }
}

pub(crate) fn provider() -> Arc<dyn CryptoProvider> {
    Arc::new(RustCryptoProvider)
}

/// The protector from MAC or signature credentials (or none).
pub(crate) fn protector_of(
    reference: Option<&Bound<'_, PyAny>>,
    secret: Option<&Bound<'_, PyAny>>,
    pbmac1: bool,
    key: Option<&Bound<'_, PyAny>>,
    cert: Option<&Bound<'_, PyAny>>,
    chain: Option<&Bound<'_, PyAny>>,
) -> PyResult<Protector> {
    let secret = opt_bytes(secret)?;
    let key = key.filter(|k| !k.is_none());
    let cert = cert.filter(|c| !c.is_none());
    match (secret, key, cert) {
        (Some(_), Some(_), _) => Err(PyValueError::new_err(
            "give either secret (MAC) or key and cert (signature), not both",
        )),
        (Some(secret), None, _) => Ok(Protector::Mac {
            reference: opt_bytes(reference)?.unwrap_or_default(),
            secret,
            scheme: if pbmac1 {
                MacScheme::PBMAC1_SHA256
            } else {
                MacScheme::PBM_SHA256
            },
        }),
        (None, Some(key), Some(cert)) => Ok(Protector::Signature {
            key: signing_key_of(key)?,
            cert: cert_of(cert)?,
            chain: certs_of(chain)?,
        }),
        (None, Some(_), None) | (None, None, Some(_)) => Err(PyValueError::new_err(
            "signature protection needs both key and cert",
        )),
        (None, None, None) => Ok(Protector::None),
    }
}

/// Everything a client transaction needs besides the request (credentials,
/// trust, policy). Immutable; share it among transactions.
#[pyclass(frozen, name = "ClientConfig", module = "cmp_protocol._native")]
pub(crate) struct PyClientConfig {
    pub(crate) config: Arc<ClientConfig>,
}

#[pymethods]
impl PyClientConfig {
    #[new]
    #[pyo3(signature = (
        *, reference = None, secret = None, pbmac1 = false, key = None, cert = None, chain = None,
        server_trust = None, untrusted = None, response_secret = None, sender = None,
        recipient = None, expected_sender = None, accept_unprotected_responses = false,
        max_time_skew = Some(600), implicit_confirm = false, pvno = 2, total_timeout = None,
        extra_certs = None, kem_key = None, kem_ciphertext = None, transaction_id = None,
        kem_shared_secret = None, first_general_info = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        reference: Option<&Bound<'_, PyAny>>,
        secret: Option<&Bound<'_, PyAny>>,
        pbmac1: bool,
        key: Option<&Bound<'_, PyAny>>,
        cert: Option<&Bound<'_, PyAny>>,
        chain: Option<&Bound<'_, PyAny>>,
        server_trust: Option<&Bound<'_, PyAny>>,
        untrusted: Option<&Bound<'_, PyAny>>,
        response_secret: Option<&Bound<'_, PyAny>>,
        sender: Option<&str>,
        recipient: Option<&str>,
        expected_sender: Option<&str>,
        accept_unprotected_responses: bool,
        max_time_skew: Option<u64>,
        implicit_confirm: bool,
        pvno: u64,
        total_timeout: Option<u64>,
        extra_certs: Option<&Bound<'_, PyAny>>,
        kem_key: Option<&Bound<'_, PyKemPrivateKey>>,
        kem_ciphertext: Option<&Bound<'_, PyAny>>,
        transaction_id: Option<&Bound<'_, PyAny>>,
        kem_shared_secret: Option<&Bound<'_, PyAny>>,
        first_general_info: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let kem_ciphertext = kem_ciphertext.filter(|c| !c.is_none());
        let protector = match (kem_key, kem_ciphertext, opt_bytes(kem_shared_secret)?) {
            (None, None, Some(ss)) => {
                if opt_bytes(secret)?.is_some() || key.is_some_and(|k| !k.is_none()) {
                    return Err(PyValueError::new_err(
                        "KEM-based MAC protection replaces secret and key",
                    ));
                }
                kem::mac_protector(ss, &opt_bytes(reference)?.unwrap_or_default())
            }
            (_, _, Some(_)) => {
                return Err(PyValueError::new_err(
                    "kem_shared_secret excludes kem_key and kem_ciphertext",
                ));
            }
            (Some(kem_key), Some(genp), None) => {
                if opt_bytes(secret)?.is_some() || key.is_some_and(|k| !k.is_none()) {
                    return Err(PyValueError::new_err(
                        "KEM-based MAC protection replaces secret and key",
                    ));
                }
                let reference = opt_bytes(reference)?.unwrap_or_default();
                kem::client_protector(
                    &itavs_of(Some(genp))?,
                    kem_key.get().key.as_ref(),
                    &reference,
                )
                .map_err(to_py_err)?
            }
            (None, None, None) => protector_of(reference, secret, pbmac1, key, cert, chain)?,
            _ => {
                return Err(PyValueError::new_err(
                    "kem_key and kem_ciphertext (the genp infos) go together",
                ));
            }
        };
        let mut c = ClientConfig::new(provider(), protector);
        let anchors = certs_of(server_trust)?;
        if !anchors.is_empty() {
            c.server_trust = Some(TrustStore::new(anchors));
        }
        c.untrusted = certs_of(untrusted)?;
        c.response_secret = opt_bytes(response_secret)?;
        c.sender = sender.map(name_of).transpose()?;
        c.recipient = recipient.map(name_of).transpose()?;
        c.expected_sender = expected_sender
            .map(|s| name_of(s).map(GeneralName::DirectoryName))
            .transpose()?;
        c.accept_unprotected_responses = accept_unprotected_responses;
        c.max_time_skew = max_time_skew;
        c.implicit_confirm = implicit_confirm;
        c.pvno = pvno;
        c.total_timeout = total_timeout;
        c.extra_certs = certs_of(extra_certs)?;
        c.transaction_id = opt_bytes(transaction_id)?;
        c.first_general_info = itavs_of(first_general_info)?;
        Ok(Self {
            config: Arc::new(c),
        })
    }

    /// "mac", "signature" or "none".
    #[getter]
    fn protection(&self) -> &'static str {
        match self.config.protector {
            Protector::None => "none",
            Protector::Mac { .. } => "mac",
            Protector::Signature { .. } => "signature",
        }
    }

    #[getter]
    fn implicit_confirm(&self) -> bool {
        self.config.implicit_confirm
    }

    #[getter]
    fn pvno(&self) -> u64 {
        self.config.pvno
    }

    fn __repr__(&self) -> String {
        format!("ClientConfig(protection={:?})", self.protection())
    }
}

pub(crate) fn extensions_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Extension>> {
    let mut v = Vec::new();
    if let Some(obj) = obj
        && !obj.is_none()
    {
        for item in obj.try_iter()? {
            let item = item?;
            let (oid, critical, value): (String, bool, Bound<'_, PyAny>) = item.extract()?;
            v.push(Extension {
                extn_id: oid_of(&oid)?,
                critical,
                extn_value: OctetString::new(bytes_of(&value)?)
                    .map_err(|e| to_py_err(cmp_core::Error::Encode(e)))?,
            });
        }
    }
    Ok(v)
}

fn csr_of(obj: &Bound<'_, PyAny>) -> PyResult<CertReq> {
    let py = obj.py();
    let der = if obj.hasattr("public_bytes")? && !obj.is_instance_of::<pyo3::types::PyBytes>() {
        let enc = py
            .import("cryptography.hazmat.primitives.serialization")?
            .getattr("Encoding")?
            .getattr("DER")?;
        bytes_of(&obj.call_method1("public_bytes", (enc,))?)?
    } else {
        bytes_of(obj)?
    };
    if der.windows(11).any(|w| w == b"-----BEGIN ") {
        CertReq::from_pem(&der).map_err(decode_err)
    } else {
        CertReq::from_der(&der).map_err(decode_err)
    }
}

fn genm_item(obj: &Bound<'_, PyAny>) -> PyResult<InfoTypeAndValue> {
    if let Ok(s) = obj.cast::<PyString>() {
        let req = match &*s.to_cow()? {
            "ca_certs" | "caCerts" => GenmRequest::CaCerts,
            "cert_req_template" | "certReqTemplate" => GenmRequest::CertReqTemplate,
            "root_ca_update" | "rootCaCert" => GenmRequest::RootCaUpdate { old_root: None },
            "crls" | "crlStatusList" => GenmRequest::CrlUpdate(Vec::new()),
            "kem_ciphertext" | "KemCiphertextInfo" => return Ok(kem::ciphertext_request()),
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown general message {other:?}; give (oid, value_der) instead"
                )));
            }
        };
        return req.to_itav().map_err(to_py_err);
    }
    itav_of(obj)
}

/// One CMP transaction on the end-entity side (sans-IO): `request()` gives
/// the bytes to send, `handle_response()` takes the answer.
#[pyclass(name = "ClientTransaction", module = "cmp_protocol._native")]
pub(crate) struct PyClientTransaction {
    tx: ClientTransaction,
}

/// `archive_key` and `archive_cert` of an enrollment.
type Archive<'a, 'py> = (bool, Option<&'a Bound<'py, PyAny>>);

impl PyClientTransaction {
    #[allow(clippy::too_many_arguments)]
    fn enroll(
        py: Python<'_>,
        kind: EnrollKind,
        config: &Bound<'_, PyClientConfig>,
        key: Option<&Bound<'_, PyAny>>,
        subject: Option<&str>,
        extensions: Option<&Bound<'_, PyAny>>,
        pop: &str,
        public_key: Option<&Bound<'_, PyAny>>,
        old_cert: Option<&Bound<'_, PyAny>>,
        cert_req_id: i64,
        archive: Archive<'_, '_>,
        now: Option<f64>,
    ) -> PyResult<Self> {
        let key = key.filter(|k| !k.is_none());
        let (archive_key, archive_cert) = archive;
        let archive_cert = archive_cert.filter(|c| !c.is_none());
        if archive_cert.is_some() && !archive_key {
            return Err(PyValueError::new_err("archive_cert needs archive_key=True"));
        }
        if pop == "encrypted_cert" || pop == "challenge_response" {
            if archive_key {
                return Err(PyValueError::new_err(
                    "archive_key archives a PrivateKey; a KemPrivateKey cannot be archived",
                ));
            }
            // a KEM key: the certificate comes back encrypted to it, or the
            // CA first sends a challenge only its holder can decrypt
            let kem_key = key
                .ok_or_else(|| {
                    PyValueError::new_err(format!("{pop} POP needs key (a KemPrivateKey)"))
                })?
                .cast::<PyKemPrivateKey>()
                .map_err(|_| PyValueError::new_err(format!("{pop} POP needs a KemPrivateKey")))?;
            let kem_key = kem_key.get().key.clone();
            let request = EnrollRequest {
                kind,
                subject: subject.map(name_of).transpose()?,
                extensions: extensions_of(extensions)?,
                pop: if pop == "encrypted_cert" {
                    PopMethod::EncryptedCert(kem_key)
                } else {
                    PopMethod::ChallengeResponse(kem_key)
                },
                old_cert: old_cert.filter(|c| !c.is_none()).map(cert_of).transpose()?,
                controls: Vec::new(),
                cert_req_id,
            };
            let config = Arc::clone(&config.get().config);
            let tx = ClientTransaction::start_enroll(config, &request, timestamp(py, now)?)
                .map_err(to_py_err)?;
            return Ok(Self { tx });
        }
        let spki = match (opt_bytes(public_key)?, key) {
            (Some(der), _) => Some(SubjectPublicKeyInfoOwned::from_der(&der).map_err(decode_err)?),
            (None, Some(k)) => Some(cmp_core::crypto::SigningKey::public_key(&key_of(k)?)),
            (None, None) => None,
        };
        let pop = match pop {
            "signature" => PopMethod::Signature(signing_key_of(
                key.ok_or_else(|| PyValueError::new_err("signature POP needs key"))?,
            )?),
            "ra_verified" | "raVerified" => PopMethod::RaVerified(
                spki.ok_or_else(|| PyValueError::new_err("give key or public_key"))?,
            ),
            "none" => PopMethod::None(
                spki.ok_or_else(|| PyValueError::new_err("give key or public_key"))?,
            ),
            other => {
                return Err(PyValueError::new_err(format!(
                    "pop must be 'signature', 'ra_verified', 'none', 'encrypted_cert' or 'challenge_response', not {other:?}"
                )));
            }
        };
        let controls = if archive_key {
            let key = key.ok_or_else(|| {
                PyValueError::new_err("archive_key needs key (the PrivateKey to archive)")
            })?;
            vec![archive::archive_control(
                &config.get().config,
                &key_of(key)?,
                archive_cert,
            )?]
        } else {
            Vec::new()
        };
        let request = EnrollRequest {
            kind,
            subject: subject.map(name_of).transpose()?,
            extensions: extensions_of(extensions)?,
            pop,
            old_cert: old_cert.filter(|c| !c.is_none()).map(cert_of).transpose()?,
            controls,
            cert_req_id,
        };
        let config = Arc::clone(&config.get().config);
        let tx = ClientTransaction::start_enroll(config, &request, timestamp(py, now)?)
            .map_err(to_py_err)?;
        Ok(Self { tx })
    }
}

#[pymethods]
impl PyClientTransaction {
    /// Start an initialization request (ir). `pop`: "signature" (`key`
    /// signs), "ra_verified", "none", "encrypted_cert" (`key` is a
    /// `KemPrivateKey`; the certificate comes back encrypted to it) or
    /// "challenge_response" (`key` is a `KemPrivateKey`; the CA's popdecc
    /// challenge is decrypted and answered in a popdecr first).
    /// `archive_key`: archive `key` at the CA (pkiArchiveOptions), encrypted
    /// under the MAC secret of `config`, or for `archive_cert` (the CA's
    /// certificate); a krr recovers it. The same for cr, kur and ccr.
    #[staticmethod]
    #[pyo3(signature = (
        config, *, key = None, subject = None, extensions = None, pop = "signature",
        public_key = None, cert_req_id = 0, archive_key = false, archive_cert = None, now = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn ir(
        py: Python<'_>,
        config: &Bound<'_, PyClientConfig>,
        key: Option<&Bound<'_, PyAny>>,
        subject: Option<&str>,
        extensions: Option<&Bound<'_, PyAny>>,
        pop: &str,
        public_key: Option<&Bound<'_, PyAny>>,
        cert_req_id: i64,
        archive_key: bool,
        archive_cert: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<Self> {
        Self::enroll(
            py,
            EnrollKind::Ir,
            config,
            key,
            subject,
            extensions,
            pop,
            public_key,
            None,
            cert_req_id,
            (archive_key, archive_cert),
            now,
        )
    }

    /// Start a certification request (cr).
    #[staticmethod]
    #[pyo3(signature = (
        config, *, key = None, subject = None, extensions = None, pop = "signature",
        public_key = None, cert_req_id = 0, archive_key = false, archive_cert = None, now = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn cr(
        py: Python<'_>,
        config: &Bound<'_, PyClientConfig>,
        key: Option<&Bound<'_, PyAny>>,
        subject: Option<&str>,
        extensions: Option<&Bound<'_, PyAny>>,
        pop: &str,
        public_key: Option<&Bound<'_, PyAny>>,
        cert_req_id: i64,
        archive_key: bool,
        archive_cert: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<Self> {
        Self::enroll(
            py,
            EnrollKind::Cr,
            config,
            key,
            subject,
            extensions,
            pop,
            public_key,
            None,
            cert_req_id,
            (archive_key, archive_cert),
            now,
        )
    }

    /// Start a cross-certification request (ccr): a CA asks another CA to
    /// certify its `key` (answered with ccp, confirmed like cp).
    #[staticmethod]
    #[pyo3(signature = (
        config, *, key = None, subject = None, extensions = None, pop = "signature",
        public_key = None, cert_req_id = 0, archive_key = false, archive_cert = None, now = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn ccr(
        py: Python<'_>,
        config: &Bound<'_, PyClientConfig>,
        key: Option<&Bound<'_, PyAny>>,
        subject: Option<&str>,
        extensions: Option<&Bound<'_, PyAny>>,
        pop: &str,
        public_key: Option<&Bound<'_, PyAny>>,
        cert_req_id: i64,
        archive_key: bool,
        archive_cert: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<Self> {
        Self::enroll(
            py,
            EnrollKind::Ccr,
            config,
            key,
            subject,
            extensions,
            pop,
            public_key,
            None,
            cert_req_id,
            (archive_key, archive_cert),
            now,
        )
    }

    /// Start an enrollment (`kind` "ir", "cr", "kur" or "ccr") with a
    /// centrally generated key (RFC 9483 section 4.1.6) of `key_algorithm`
    /// (None: the PKI chooses). `opener` (an `EnvelopeKey`) decrypts the key
    /// the PKI returns in `CertificateIssued.private_key`.
    #[staticmethod]
    #[pyo3(signature = (
        config, opener, *, kind = "ir", subject = None, key_algorithm = None,
        extensions = None, old_cert = None, cert_req_id = 0, now = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn central_keygen(
        py: Python<'_>,
        config: &Bound<'_, PyClientConfig>,
        opener: &Bound<'_, PyEnvelopeKey>,
        kind: &str,
        subject: Option<&str>,
        key_algorithm: Option<&str>,
        extensions: Option<&Bound<'_, PyAny>>,
        old_cert: Option<&Bound<'_, PyAny>>,
        cert_req_id: i64,
        now: Option<f64>,
    ) -> PyResult<Self> {
        let mut request = EnrollRequest::central_keygen(
            enroll_kind_of(kind)?,
            subject.map(name_of).transpose()?,
            key_algorithm.map(key_type_of).transpose()?,
            opener.get().key.clone(),
        );
        request.extensions = extensions_of(extensions)?;
        request.old_cert = old_cert.filter(|c| !c.is_none()).map(cert_of).transpose()?;
        request.cert_req_id = cert_req_id;
        let config = Arc::clone(&config.get().config);
        let tx = ClientTransaction::start_enroll(config, &request, timestamp(py, now)?)
            .map_err(to_py_err)?;
        Ok(Self { tx })
    }

    /// Start a key recovery request (krr) for the archived keys of
    /// `subject` (or of `old_cert`), decrypted with `opener`; `new_key` asks
    /// for a new signing certificate alongside. The answer is `KeysRecovered`.
    #[staticmethod]
    #[pyo3(signature = (config, opener, *, subject = None, new_key = None, old_cert = None, now = None))]
    fn krr(
        py: Python<'_>,
        config: &Bound<'_, PyClientConfig>,
        opener: &Bound<'_, PyEnvelopeKey>,
        subject: Option<&str>,
        new_key: Option<&Bound<'_, PyAny>>,
        old_cert: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<Self> {
        let mut request =
            KeyRecoveryRequest::new(subject.map(name_of).transpose()?, opener.get().key.clone());
        request.new_key = new_key
            .filter(|k| !k.is_none())
            .map(signing_key_of)
            .transpose()?;
        request.old_cert = old_cert.filter(|c| !c.is_none()).map(cert_of).transpose()?;
        let config = Arc::clone(&config.get().config);
        let tx = ClientTransaction::start_krr(config, &request, timestamp(py, now)?)
            .map_err(to_py_err)?;
        Ok(Self { tx })
    }

    /// Start a key update request (kur) for `old_cert` with the new `key`.
    #[staticmethod]
    #[pyo3(signature = (
        config, *, key = None, old_cert, subject = None, extensions = None, pop = "signature",
        public_key = None, cert_req_id = 0, archive_key = false, archive_cert = None, now = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn kur(
        py: Python<'_>,
        config: &Bound<'_, PyClientConfig>,
        key: Option<&Bound<'_, PyAny>>,
        old_cert: &Bound<'_, PyAny>,
        subject: Option<&str>,
        extensions: Option<&Bound<'_, PyAny>>,
        pop: &str,
        public_key: Option<&Bound<'_, PyAny>>,
        cert_req_id: i64,
        archive_key: bool,
        archive_cert: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<Self> {
        Self::enroll(
            py,
            EnrollKind::Kur,
            config,
            key,
            subject,
            extensions,
            pop,
            public_key,
            Some(old_cert),
            cert_req_id,
            (archive_key, archive_cert),
            now,
        )
    }

    /// Start a PKCS#10 request (p10cr) with a CSR (DER, PEM, or a
    /// cryptography `CertificateSigningRequest`).
    #[staticmethod]
    #[pyo3(signature = (config, csr, *, now = None))]
    fn p10cr(
        py: Python<'_>,
        config: &Bound<'_, PyClientConfig>,
        csr: &Bound<'_, PyAny>,
        now: Option<f64>,
    ) -> PyResult<Self> {
        let csr = csr_of(csr)?;
        let config = Arc::clone(&config.get().config);
        let tx =
            ClientTransaction::start_p10cr(config, csr, timestamp(py, now)?).map_err(to_py_err)?;
        Ok(Self { tx })
    }

    /// Start a revocation request (rr) for `cert`, with an optional CRL reason code.
    #[staticmethod]
    #[pyo3(signature = (config, cert, *, reason = None, now = None))]
    fn revoke(
        py: Python<'_>,
        config: &Bound<'_, PyClientConfig>,
        cert: &Bound<'_, PyAny>,
        reason: Option<u8>,
        now: Option<f64>,
    ) -> PyResult<Self> {
        let request = RevokeRequest {
            cert: cert_of(cert)?,
            reason,
        };
        let config = Arc::clone(&config.get().config);
        let tx = ClientTransaction::start_rr(config, &request, timestamp(py, now)?)
            .map_err(to_py_err)?;
        Ok(Self { tx })
    }

    /// Start a general message (genm). Each item is a name ("ca_certs",
    /// "cert_req_template", "root_ca_update", "crls", "kem_ciphertext") or
    /// `(oid, value_der_or_None)`.
    #[staticmethod]
    #[pyo3(signature = (config, infos = None, *, now = None))]
    fn genm(
        py: Python<'_>,
        config: &Bound<'_, PyClientConfig>,
        infos: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<Self> {
        let content = match infos {
            None => vec![GenmRequest::CaCerts.to_itav().map_err(to_py_err)?],
            Some(obj) => {
                let mut v = Vec::new();
                for item in obj.try_iter()? {
                    v.push(genm_item(&item?)?);
                }
                v
            }
        };
        let config = Arc::clone(&config.get().config);
        let tx = ClientTransaction::start_genm(config, content, timestamp(py, now)?)
            .map_err(to_py_err)?;
        Ok(Self { tx })
    }

    /// The next message to send, or None.
    fn request(&mut self) -> Option<PyBytesOut> {
        self.tx.poll_transmit().map(std::borrow::Cow::Owned)
    }

    /// Handle the server's answer; returns a step object or raises a CmpError.
    #[pyo3(signature = (data, now = None))]
    fn handle_response(
        &mut self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        now: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        let bytes = bytes_of(data)?;
        let now = timestamp(py, now)?;
        let event = self.tx.handle_response(&bytes, now).map_err(to_py_err)?;
        step(py, event)
    }

    /// Decide on the issued certificate: accept (default) or reject with
    /// failInfo bit names and a text.
    #[pyo3(signature = (accept = true, *, fail_info = None, status_string = None, now = None))]
    fn confirm(
        &mut self,
        py: Python<'_>,
        accept: bool,
        fail_info: Option<Vec<String>>,
        status_string: Option<&str>,
        now: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        let decision = if accept {
            Confirmation::Accept
        } else {
            let mut bits = failure_bits_of(fail_info)?;
            if bits.is_empty() {
                bits.push(cmp_core::asn1::FailureBit::IncorrectData);
            }
            Confirmation::Reject(PkiStatusInfo::with_failure(
                PkiStatus::Rejection,
                &bits,
                status_string,
            ))
        };
        let now = timestamp(py, now)?;
        let event = self.tx.confirm(decision, now).map_err(to_py_err)?;
        step(py, event)
    }

    /// When `handle_timeout` should be called next (seconds since the epoch), or None.
    fn poll_timeout(&self) -> Option<f64> {
        self.tx.poll_timeout().map(secs)
    }

    /// Time has passed: queue the due pollReq, or fail at the deadline.
    #[pyo3(signature = (now = None))]
    fn handle_timeout(&mut self, py: Python<'_>, now: Option<f64>) -> PyResult<()> {
        let now = timestamp(py, now)?;
        self.tx.handle_timeout(now).map_err(to_py_err)
    }

    #[getter]
    fn transaction_id(&self) -> PyBytesOut {
        out(self.tx.transaction_id())
    }

    /// "ir", "cr", "kur", "ccr", "p10cr", "rr", "genm" or "krr".
    #[getter]
    fn kind(&self) -> &'static str {
        use cmp_core::client::TransactionKind as K;
        match self.tx.kind() {
            K::Enroll(EnrollKind::Ir) => "ir",
            K::Enroll(EnrollKind::Cr) => "cr",
            K::Enroll(EnrollKind::Kur) => "kur",
            K::Enroll(EnrollKind::Ccr) => "ccr",
            K::P10cr => "p10cr",
            K::Revoke => "rr",
            K::Genm => "genm",
            K::KeyRecovery => "krr",
        }
    }

    #[getter]
    fn is_finished(&self) -> bool {
        self.tx.is_finished()
    }

    #[getter]
    fn is_completed(&self) -> bool {
        self.tx.is_completed()
    }

    fn __repr__(&self) -> String {
        format!(
            "ClientTransaction(kind={:?}, finished={})",
            self.kind(),
            self.tx.is_finished()
        )
    }
}

/// Nothing to decide: send what `request()` gives and go on.
#[pyclass(frozen, module = "cmp_protocol._native")]
pub(crate) struct Continue;

#[pymethods]
impl Continue {
    #[getter]
    fn kind(&self) -> &'static str {
        "continue"
    }
    fn __repr__(&self) -> &'static str {
        "Continue()"
    }
}

/// The server asks to wait: call `handle_timeout` at `until`.
#[pyclass(frozen, module = "cmp_protocol._native")]
pub(crate) struct Waiting {
    #[pyo3(get)]
    until: f64,
}

#[pymethods]
impl Waiting {
    #[getter]
    fn kind(&self) -> &'static str {
        "waiting"
    }
    fn __repr__(&self) -> String {
        format!("Waiting(until={})", self.until)
    }
}

/// A certificate was issued; decide with `confirm()`.
#[pyclass(frozen, module = "cmp_protocol._native")]
pub(crate) struct CertificateIssued {
    #[pyo3(get)]
    certificate: PyBytesOut,
    #[pyo3(get)]
    chain: Vec<PyBytesOut>,
    #[pyo3(get)]
    ca_pubs: Vec<PyBytesOut>,
    #[pyo3(get)]
    extra_certs: Vec<PyBytesOut>,
    #[pyo3(get)]
    implicit_confirm_granted: bool,
    #[pyo3(get)]
    status: &'static str,
    #[pyo3(get)]
    status_string: Vec<String>,
    /// Central key generation: the delivered private key (PKCS#8 DER),
    /// verified to belong to `certificate`; None otherwise.
    #[pyo3(get)]
    private_key: Option<PyBytesOut>,
}

#[pymethods]
impl CertificateIssued {
    #[getter]
    fn kind(&self) -> &'static str {
        "certificate_issued"
    }
    fn __repr__(&self) -> String {
        format!(
            "CertificateIssued(status={:?}, {} bytes, chain of {})",
            self.status,
            self.certificate.len(),
            self.chain.len()
        )
    }
}

/// The revocation was accepted.
#[pyclass(frozen, module = "cmp_protocol._native")]
pub(crate) struct Revoked {
    #[pyo3(get)]
    status: &'static str,
    #[pyo3(get)]
    fail_info: Vec<&'static str>,
    #[pyo3(get)]
    status_string: Vec<String>,
}

#[pymethods]
impl Revoked {
    #[getter]
    fn kind(&self) -> &'static str {
        "revoked"
    }
    fn __repr__(&self) -> String {
        format!("Revoked(status={:?})", self.status)
    }
}

/// The general response: `infos` as `(oid, value_der_or_None)`.
#[pyclass(frozen, module = "cmp_protocol._native")]
pub(crate) struct GeneralResponse {
    #[pyo3(get)]
    infos: Vec<(String, Option<PyBytesOut>)>,
    #[pyo3(get)]
    ca_certs: Vec<PyBytesOut>,
}

#[pymethods]
impl GeneralResponse {
    #[getter]
    fn kind(&self) -> &'static str {
        "general_response"
    }
    fn __repr__(&self) -> String {
        format!("GeneralResponse({} infos)", self.infos.len())
    }
}

/// The key recovery response (krp): the transaction is complete.
#[pyclass(frozen, module = "cmp_protocol._native")]
pub(crate) struct KeysRecovered {
    #[pyo3(get)]
    status: &'static str,
    #[pyo3(get)]
    status_string: Vec<String>,
    /// A new signing certificate for the request's `new_key` (DER), if any.
    #[pyo3(get)]
    new_sig_cert: Option<PyBytesOut>,
    /// CA certificates (DER).
    #[pyo3(get)]
    ca_certs: Vec<PyBytesOut>,
    /// The recovered key pairs as `(certificate_der, private_key_pkcs8_der)`,
    /// each verified to belong together.
    #[pyo3(get)]
    keys: Vec<(PyBytesOut, PyBytesOut)>,
}

#[pymethods]
impl KeysRecovered {
    #[getter]
    fn kind(&self) -> &'static str {
        "keys_recovered"
    }
    fn __repr__(&self) -> String {
        format!(
            "KeysRecovered({} keys, status={:?})",
            self.keys.len(),
            self.status
        )
    }
}

/// The transaction finished successfully.
#[pyclass(frozen, module = "cmp_protocol._native")]
pub(crate) struct Completed;

#[pymethods]
impl Completed {
    #[getter]
    fn kind(&self) -> &'static str {
        "completed"
    }
    fn __repr__(&self) -> &'static str {
        "Completed()"
    }
}

fn step(py: Python<'_>, event: ClientEvent) -> PyResult<Py<PyAny>> {
    Ok(match event {
        ClientEvent::Continue => Py::new(py, Continue)?.into_any(),
        ClientEvent::Waiting { until } => Py::new(py, Waiting { until: secs(until) })?.into_any(),
        ClientEvent::CertificateIssued(i) => Py::new(
            py,
            CertificateIssued {
                certificate: cert_der(&i.cert)?,
                chain: certs_der(&i.chain)?,
                ca_pubs: certs_der(&i.ca_pubs)?,
                extra_certs: certs_der(&i.extra_certs)?,
                implicit_confirm_granted: i.implicit_confirm_granted,
                status: i.status.status.name(),
                status_string: i.status.status_string.clone().unwrap_or_default(),
                private_key: i.private_key.as_ref().map(|k| out(k.as_bytes())),
            },
        )?
        .into_any(),
        ClientEvent::Revoked { status } => Py::new(
            py,
            Revoked {
                status: status.status.name(),
                fail_info: bit_names(&status),
                status_string: status.status_string.clone().unwrap_or_default(),
            },
        )?
        .into_any(),
        ClientEvent::GeneralResponse(infos) => {
            let mut ca_certs = Vec::new();
            for i in &infos {
                if let Ok(Some(InfoValue::CaCerts(Some(certs)))) = InfoValue::from_itav(i) {
                    ca_certs = certs_der(&certs)?;
                }
            }
            Py::new(
                py,
                GeneralResponse {
                    infos: itavs_out(&infos)?,
                    ca_certs,
                },
            )?
            .into_any()
        }
        ClientEvent::Completed => Py::new(py, Completed)?.into_any(),
        ClientEvent::KeysRecovered(r) => {
            let mut keys = Vec::with_capacity(r.keys.len());
            for k in &r.keys {
                keys.push((cert_der(&k.cert)?, out(k.private_key.as_bytes())));
            }
            Py::new(
                py,
                KeysRecovered {
                    status: r.status.status.name(),
                    status_string: r.status.status_string.clone().unwrap_or_default(),
                    new_sig_cert: r.new_sig_cert.as_ref().map(cert_der).transpose()?,
                    ca_certs: certs_der(&r.ca_certs)?,
                    keys,
                },
            )?
            .into_any()
        }
    })
}
