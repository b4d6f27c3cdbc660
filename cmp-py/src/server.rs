//! The responder side: `ResponderConfig`, `Responder`, `PendingRequest`,
//! `Reply`, and `FakeCa` (a responder deciding with the reference CA).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use cmp_core::Timestamp;
use cmp_core::asn1::{
    BodyType, FailureBit, InfoTypeAndValue, InfoValue, PkiStatus, PkiStatusInfo, oid,
};
use cmp_core::client::EnrollKind;
use cmp_core::crypto::EnvelopeOpener;
use cmp_core::keygen::KeyGenAuthority;
use cmp_core::protection::Protector;
use cmp_core::server::{
    Handled, MemoryStore, PendingRequest, Reply, RequestKind, Responder, ResponderConfig,
    ResponderEvent, StaticSecrets,
};
use cmp_core::trust::TrustStore;
use cmp_core::{Error, PeerFailure};
use cmp_crypto_rustcrypto::{
    CaError, IssueRequest, KeyAlgorithm, KeyArchive, PrivateKey, ReferenceCa,
};
use der::Encode;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use x509_cert::Certificate;
use x509_cert::name::Name;

use crate::client::provider;
use crate::conv::{
    PyBytesOut, bit_names, bytes_of, cert_der, cert_of, certs_der, certs_of, failure_bits_of,
    itavs_of, itavs_out, name_of, out, status_of, timestamp,
};
use crate::errors::{ca_err, error_object, to_py_err, usage};
use crate::keygen::{PyEnvelopeKey, key_type_of, kga_of};
use crate::keys::key_of;
use crate::message::PyMessage;

/// How the responder behaves (credentials, trust, policy).
#[pyclass(frozen, name = "ResponderConfig", module = "cmp_protocol._native")]
pub(crate) struct PyResponderConfig {
    config: ResponderConfig,
    max_records: usize,
}

fn secrets_of(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<StaticSecrets>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let dict = obj.cast::<PyDict>()?;
    let mut s = StaticSecrets::default();
    for (k, v) in dict.iter() {
        s = s.with(&bytes_of(&k)?, &bytes_of(&v)?);
    }
    Ok(Some(s))
}

fn signer_of(
    key: Option<&Bound<'_, PyAny>>,
    cert: Option<&Bound<'_, PyAny>>,
    chain: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Protector>> {
    match (key.filter(|k| !k.is_none()), cert.filter(|c| !c.is_none())) {
        (Some(k), Some(c)) => Ok(Some(Protector::Signature {
            key: Arc::new(key_of(k)?),
            cert: cert_of(c)?,
            chain: certs_of(chain)?,
        })),
        (None, None) => Ok(None),
        _ => Err(PyValueError::new_err(
            "signer_key and signer_cert go together",
        )),
    }
}

#[pymethods]
impl PyResponderConfig {
    #[new]
    #[pyo3(signature = (
        *, secrets = None, client_trust = None, untrusted = None, signer_key = None,
        signer_cert = None, signer_chain = None, name = None, grant_implicit_confirm = false,
        max_time_skew = Some(600), transaction_lifetime = 600, confirm_wait_time = None,
        accept_unprotected = false, authorized_ras = None, extra_certs = None, ca_pubs = None,
        max_records = 10000, kem_key = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        secrets: Option<&Bound<'_, PyAny>>,
        client_trust: Option<&Bound<'_, PyAny>>,
        untrusted: Option<&Bound<'_, PyAny>>,
        signer_key: Option<&Bound<'_, PyAny>>,
        signer_cert: Option<&Bound<'_, PyAny>>,
        signer_chain: Option<&Bound<'_, PyAny>>,
        name: Option<&str>,
        grant_implicit_confirm: bool,
        max_time_skew: Option<u64>,
        transaction_lifetime: u64,
        confirm_wait_time: Option<u64>,
        accept_unprotected: bool,
        authorized_ras: Option<&Bound<'_, PyAny>>,
        extra_certs: Option<&Bound<'_, PyAny>>,
        ca_pubs: Option<&Bound<'_, PyAny>>,
        max_records: usize,
        kem_key: Option<&Bound<'_, crate::kem::PyKemPrivateKey>>,
    ) -> PyResult<Self> {
        let mut c = ResponderConfig::new(provider(), Arc::new(MemoryStore::new(max_records)));
        if let Some(k) = kem_key {
            c.kem_key = Some(k.get().key.clone());
        }
        if let Some(s) = secrets_of(secrets)? {
            c.secrets = Some(Arc::new(s));
        }
        let anchors = certs_of(client_trust)?;
        if !anchors.is_empty() {
            c.client_trust = Some(TrustStore::new(anchors));
        }
        c.untrusted = certs_of(untrusted)?;
        c.signer = signer_of(signer_key, signer_cert, signer_chain)?;
        c.name = name.map(name_of).transpose()?;
        c.grant_implicit_confirm = grant_implicit_confirm;
        c.max_time_skew = max_time_skew;
        c.transaction_lifetime = transaction_lifetime;
        c.confirm_wait_time = confirm_wait_time;
        c.accept_unprotected = accept_unprotected;
        c.authorized_ras = certs_of(authorized_ras)?;
        c.extra_certs = certs_of(extra_certs)?;
        c.ca_pubs = certs_of(ca_pubs)?;
        Ok(Self {
            config: c,
            max_records,
        })
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.config)
    }
}

/// The responder (CA/RA side, sans-IO). Each responder keeps its own
/// in-memory transaction store.
#[pyclass(frozen, name = "Responder", module = "cmp_protocol._native")]
pub(crate) struct PyResponder {
    responder: Responder,
}

#[pymethods]
impl PyResponder {
    #[new]
    fn new(config: &Bound<'_, PyResponderConfig>) -> Self {
        let c = config.get();
        let mut cfg = c.config.clone();
        cfg.store = Arc::new(MemoryStore::new(c.max_records));
        Self {
            responder: Responder::new(cfg),
        }
    }

    /// Handle one request: a `Reply` (errors included: never raises for a bad
    /// request) or a `PendingRequest` for the caller to decide.
    #[pyo3(signature = (data, now = None))]
    fn handle_request(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        now: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        let bytes = bytes_of(data)?;
        let now = timestamp(py, now)?;
        match self.responder.handle_request(&bytes, now) {
            Handled::Reply(r) => Ok(Py::new(py, PyReply { reply: r })?.into_any()),
            Handled::Decide(p) => {
                Ok(Py::new(py, PyPendingRequest { pending: Some(p) })?.into_any())
            }
            Handled::Nested(_) => Err(usage(
                "nested requests need a decision per inner request: use handle_request_with",
            )),
        }
    }

    /// Handle one request completely; `decide(pending)` must return the
    /// `Reply` of a decision (`pending.issue(...)`, `.reject(...)`, ...).
    #[pyo3(signature = (data, decide, now = None))]
    fn handle_request_with(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        decide: &Bound<'_, PyAny>,
        now: Option<f64>,
    ) -> PyResult<PyReply> {
        let bytes = bytes_of(data)?;
        let now = timestamp(py, now)?;
        let mut failure: Option<PyErr> = None;
        let reply = self
            .responder
            .handle_request_with(&bytes, now, &mut |p, now| match decide_in_python(
                py, decide, p, now,
            ) {
                Ok(r) => r,
                Err(boxed) => {
                    let (e, r) = *boxed;
                    failure.get_or_insert(e);
                    r
                }
            });
        match failure {
            Some(e) => Err(e),
            None => Ok(PyReply { reply }),
        }
    }

    /// Drop expired transactions; returns how many.
    #[pyo3(signature = (now = None))]
    fn sweep(&self, py: Python<'_>, now: Option<f64>) -> PyResult<usize> {
        let now = timestamp(py, now)?;
        self.responder.sweep(now).map_err(to_py_err)
    }
}

/// Reply for a request the Python callback failed to decide.
fn fallback_reply(p: PendingRequest, now: Timestamp) -> Reply {
    let status = PkiStatusInfo::rejection(FailureBit::SystemFailure, "the decision failed");
    p.reject(status, now).unwrap_or_else(empty_error_reply)
}

fn empty_error_reply(e: Error) -> Reply {
    Reply {
        bytes: Vec::new(),
        body: BodyType::Error,
        transaction_id: Vec::new(),
        error: Some(e),
        event: None,
        inner: Vec::new(),
    }
}

/// Call `decide(PendingRequest)`; `None` from it means "decide yourself"
/// only for FakeCa (handled by the caller), here it is an error.
fn decide_in_python(
    py: Python<'_>,
    decide: &Bound<'_, PyAny>,
    p: PendingRequest,
    now: Timestamp,
) -> Result<Reply, Box<(PyErr, Reply)>> {
    let cell = match Py::new(py, PyPendingRequest { pending: Some(p) }) {
        Ok(c) => c,
        Err(e) => {
            return Err(Box::new((
                e,
                empty_error_reply(Error::Usage("out of memory")),
            )));
        }
    };
    let result = decide.call1((cell.clone_ref(py),));
    let leftover = cell.borrow_mut(py).pending.take();
    match result {
        Ok(obj) => match obj.cast::<PyReply>() {
            Ok(r) => Ok(r.get().reply.clone()),
            Err(_) => {
                let e = usage("decide must return the Reply of a PendingRequest decision");
                match leftover {
                    Some(p) => Err(Box::new((e, fallback_reply(p, now)))),
                    None => Err(Box::new((e, empty_error_reply(Error::Usage("no reply"))))),
                }
            }
        },
        Err(e) => match leftover {
            Some(p) => Err(Box::new((e, fallback_reply(p, now)))),
            None => Err(Box::new((e, empty_error_reply(Error::Usage("no reply"))))),
        },
    }
}

/// `(issuer, serial_bytes, reason)` of a revocation request.
type RevocationInfo = (Option<String>, Option<PyBytesOut>, Option<u8>);

fn request_kind_name(k: RequestKind) -> &'static str {
    match k {
        RequestKind::Enroll(EnrollKind::Ir) => "ir",
        RequestKind::Enroll(EnrollKind::Cr) => "cr",
        RequestKind::Enroll(EnrollKind::Kur) => "kur",
        RequestKind::Enroll(EnrollKind::Ccr) => "ccr",
        RequestKind::P10cr => "p10cr",
        RequestKind::Revoke => "rr",
        RequestKind::Genm => "genm",
        RequestKind::KeyRecovery => "krr",
    }
}

/// A validated request waiting for a decision; consumed by exactly one of
/// `issue`, `reject`, `wait`, `revoke`, `respond_genp`.
#[pyclass(name = "PendingRequest", module = "cmp_protocol._native")]
pub(crate) struct PyPendingRequest {
    pending: Option<PendingRequest>,
}

impl PyPendingRequest {
    fn get(&self) -> PyResult<&PendingRequest> {
        self.pending
            .as_ref()
            .ok_or_else(|| usage("the request was already decided"))
    }

    fn take(&mut self) -> PyResult<PendingRequest> {
        self.pending
            .take()
            .ok_or_else(|| usage("the request was already decided"))
    }
}

/// The CRL reason code of a revocation request, if one was sent.
fn crl_reason(p: &PendingRequest) -> Option<u8> {
    let details = p.revocation()?.crl_entry_details.as_ref()?;
    details
        .iter()
        .find(|e| e.extn_id.to_string() == "2.5.29.21")
        .and_then(|e| match e.extn_value.as_bytes() {
            [0x0a, 0x01, r] => Some(*r),
            _ => None,
        })
}

#[pymethods]
impl PyPendingRequest {
    /// "ir", "cr", "kur", "ccr", "p10cr", "rr", "genm" or "krr".
    #[getter]
    fn kind(&self) -> PyResult<&'static str> {
        Ok(request_kind_name(self.get()?.kind()))
    }

    #[getter]
    fn transaction_id(&self) -> PyResult<PyBytesOut> {
        Ok(out(self.get()?.transaction_id()))
    }

    /// How often the client has polled for this request so far.
    #[getter]
    fn polls(&self) -> PyResult<u32> {
        Ok(self.get()?.polls())
    }

    /// The request message (the original one when the client is polling).
    #[getter]
    fn message(&self) -> PyResult<PyMessage> {
        Ok(PyMessage::from_parsed(self.get()?.message()))
    }

    /// The requested subject (RFC 4514), if any.
    #[getter]
    fn subject(&self) -> PyResult<Option<String>> {
        Ok(self.get()?.subject().map(ToString::to_string))
    }

    /// The SubjectPublicKeyInfo to certify (DER), if any.
    #[getter]
    fn public_key(&self) -> PyResult<Option<PyBytesOut>> {
        self.get()?
            .public_key()
            .map(|k| {
                k.to_der()
                    .map(std::borrow::Cow::Owned)
                    .map_err(|e| to_py_err(Error::Encode(e)))
            })
            .transpose()
    }

    /// Requested extensions as `(oid, critical, value_der)`.
    #[getter]
    fn extensions(&self) -> PyResult<Vec<(String, bool, PyBytesOut)>> {
        Ok(self
            .get()?
            .extensions()
            .map_err(to_py_err)?
            .iter()
            .map(|e| {
                (
                    e.extn_id.to_string(),
                    e.critical,
                    out(e.extn_value.as_bytes()),
                )
            })
            .collect())
    }

    /// The certificate that signed the request (DER), if signature-protected.
    #[getter]
    fn signer_certificate(&self) -> PyResult<Option<PyBytesOut>> {
        self.get()?.signer_certificate().map(cert_der).transpose()
    }

    /// rr: `(issuer, serial_bytes, reason_or_None)`.
    #[getter]
    fn revocation(&self) -> PyResult<Option<RevocationInfo>> {
        let p = self.get()?;
        Ok(p.revocation().map(|d| {
            (
                d.cert_details.issuer.as_ref().map(ToString::to_string),
                d.cert_details
                    .serial_number
                    .as_ref()
                    .map(|s| out(s.as_bytes())),
                crl_reason(p),
            )
        }))
    }

    /// genm: the InfoTypeAndValues asked for, as `(oid, value_der_or_None)`.
    #[getter]
    fn general_message(&self) -> PyResult<Vec<(String, Option<PyBytesOut>)>> {
        itavs_out(self.get()?.general_message())
    }

    #[getter]
    fn implicit_confirm_requested(&self) -> PyResult<bool> {
        Ok(self.get()?.implicit_confirm_requested())
    }

    /// Whether a decision was made already.
    #[getter]
    fn decided(&self) -> bool {
        self.pending.is_none()
    }

    /// Issue `cert` (ir/cr/kur/p10cr); `ca_pubs` overrides the configured caPubs.
    #[pyo3(signature = (cert, *, ca_pubs = None, now = None))]
    fn issue(
        &mut self,
        py: Python<'_>,
        cert: &Bound<'_, PyAny>,
        ca_pubs: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<PyReply> {
        let cert = cert_of(cert)?;
        let ca_pubs = match ca_pubs {
            Some(c) if !c.is_none() => Some(certs_of(Some(c))?),
            _ => None,
        };
        let now = timestamp(py, now)?;
        let reply = self.take()?.issue(cert, ca_pubs, now).map_err(to_py_err)?;
        Ok(PyReply { reply })
    }

    /// Refuse with `status` (default "rejection"), failInfo bit names and a text.
    #[pyo3(signature = (fail_info = None, status_string = None, *, status = "rejection", now = None))]
    fn reject(
        &mut self,
        py: Python<'_>,
        fail_info: Option<Vec<String>>,
        status_string: Option<&str>,
        status: &str,
        now: Option<f64>,
    ) -> PyResult<PyReply> {
        let info = PkiStatusInfo::with_failure(
            status_of(status)?,
            &failure_bits_of(fail_info)?,
            status_string,
        );
        let now = timestamp(py, now)?;
        let reply = self.take()?.reject(info, now).map_err(to_py_err)?;
        Ok(PyReply { reply })
    }

    /// Ask the client to poll again after `check_after` seconds.
    #[pyo3(signature = (check_after = 0, *, now = None))]
    fn wait(&mut self, py: Python<'_>, check_after: u32, now: Option<f64>) -> PyResult<PyReply> {
        let now = timestamp(py, now)?;
        let reply = self.take()?.wait(check_after, now).map_err(to_py_err)?;
        Ok(PyReply { reply })
    }

    /// Accept a revocation request.
    #[pyo3(signature = (*, now = None))]
    fn revoke(&mut self, py: Python<'_>, now: Option<f64>) -> PyResult<PyReply> {
        let now = timestamp(py, now)?;
        let reply = self.take()?.revoke(now).map_err(to_py_err)?;
        Ok(PyReply { reply })
    }

    /// Answer a genm with `(oid, value_der_or_None)` items.
    #[pyo3(signature = (infos = None, *, now = None))]
    fn respond_genp(
        &mut self,
        py: Python<'_>,
        infos: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<PyReply> {
        let content = itavs_of(infos)?;
        let now = timestamp(py, now)?;
        let reply = self.take()?.respond_genp(content, now).map_err(to_py_err)?;
        Ok(PyReply { reply })
    }

    /// The shared secret a MAC-protected request was verified with (to open
    /// a key archived under it); None for other protection.
    #[getter]
    fn mac_secret(&self) -> PyResult<Option<PyBytesOut>> {
        Ok(self.get()?.mac_secret().map(out))
    }

    /// The private key the requester archives with this ir/cr/kur/ccr
    /// (pkiArchiveOptions), PKCS#8 DER: decrypted with the first of
    /// `openers` (`EnvelopeKey`s: the CA's key, `EnvelopeKey.password(
    /// mac_secret)`) it is addressed to and checked to be the key of the
    /// requested public key; None when nothing is archived. Raises
    /// ProtocolError (CMP_KEY_NOT_FOR_US, CMP_KEY_DECRYPT_FAILED,
    /// CMP_KEY_MISMATCH) or BadRequest-coded errors; the request stays
    /// undecided.
    fn archived_key(&self, openers: Vec<PyRef<'_, PyEnvelopeKey>>) -> PyResult<Option<PyBytesOut>> {
        let keys: Vec<&dyn EnvelopeOpener> = openers
            .iter()
            .map(|o| o.key.as_ref() as &dyn EnvelopeOpener)
            .collect();
        let key = self.get()?.archived_key(&keys).map_err(to_py_err)?;
        Ok(key.map(|k| out(k.as_bytes())))
    }

    /// Whether the requester asked for a centrally generated key.
    #[getter]
    fn central_keygen_requested(&self) -> PyResult<bool> {
        Ok(self.get()?.central_keygen_requested())
    }

    /// Central key generation: generate the key (of the type the requester
    /// asked for, else `default_algorithm`); returns
    /// `(private_key_pkcs8_der, public_key_spki_der)`.
    #[pyo3(signature = (default_algorithm = "ec:P-256"))]
    fn generate_key(&self, default_algorithm: &str) -> PyResult<(PyBytesOut, PyBytesOut)> {
        let alg = key_type_of(default_algorithm)?;
        let (key, public) = self.get()?.generate_key(&alg).map_err(to_py_err)?;
        let spki = public.to_der().map_err(|e| to_py_err(Error::Encode(e)))?;
        Ok((out(key.as_bytes()), std::borrow::Cow::Owned(spki)))
    }

    /// Central key generation: issue `cert` and deliver `private_key`
    /// (PKCS#8), signed by the key generation authority `kga_key` /
    /// `kga_cert` (+ `kga_chain`) and encrypted for the requester.
    #[pyo3(signature = (cert, private_key, *, kga_key, kga_cert, kga_chain = None, ca_pubs = None, now = None))]
    #[allow(clippy::too_many_arguments)]
    fn issue_with_key(
        &mut self,
        py: Python<'_>,
        cert: &Bound<'_, PyAny>,
        private_key: &Bound<'_, PyAny>,
        kga_key: &Bound<'_, PyAny>,
        kga_cert: &Bound<'_, PyAny>,
        kga_chain: Option<&Bound<'_, PyAny>>,
        ca_pubs: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<PyReply> {
        // refused before the request is consumed, so it can still be decided
        if !self.get()?.central_keygen_requested() {
            return Err(usage(
                "issue_with_key() answers requests for central key generation only",
            ));
        }
        let cert = cert_of(cert)?;
        let key = key_of(private_key)?
            .to_pkcs8_der()
            .map_err(crate::errors::crypto_err)?;
        let kga = kga_of(kga_key, kga_cert, kga_chain)?;
        let ca_pubs = match ca_pubs {
            Some(c) if !c.is_none() => Some(certs_of(Some(c))?),
            _ => None,
        };
        let now = timestamp(py, now)?;
        let reply = self
            .take()?
            .issue_with_key(cert, &key[..], &kga, ca_pubs, now)
            .map_err(to_py_err)?;
        Ok(PyReply { reply })
    }

    /// krr: answer with the key pair history `keys` (`[(cert, private_key)]`),
    /// each encrypted for the requester and signed by the key generation
    /// authority, optionally with a new signing certificate and CA certificates.
    #[pyo3(signature = (keys, *, kga_key, kga_cert, kga_chain = None, new_sig_cert = None, ca_certs = None, now = None))]
    #[allow(clippy::too_many_arguments)]
    fn recover_keys(
        &mut self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        kga_key: &Bound<'_, PyAny>,
        kga_cert: &Bound<'_, PyAny>,
        kga_chain: Option<&Bound<'_, PyAny>>,
        new_sig_cert: Option<&Bound<'_, PyAny>>,
        ca_certs: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<PyReply> {
        // refused before the request is consumed, so it can still be decided
        if self.get()?.kind() != RequestKind::KeyRecovery {
            return Err(usage("recover_keys() answers krr only"));
        }
        let mut pairs = Vec::new();
        for item in keys.try_iter()? {
            let (c, k): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
            let der = key_of(&k)?
                .to_pkcs8_der()
                .map_err(crate::errors::crypto_err)?;
            pairs.push((cert_of(&c)?, der));
        }
        let refs: Vec<(Certificate, &[u8])> =
            pairs.iter().map(|(c, k)| (c.clone(), &k[..])).collect();
        let kga = kga_of(kga_key, kga_cert, kga_chain)?;
        let new_sig_cert = new_sig_cert
            .filter(|c| !c.is_none())
            .map(cert_of)
            .transpose()?;
        let ca_certs = certs_of(ca_certs)?;
        let now = timestamp(py, now)?;
        let reply = self
            .take()?
            .recover_keys(&refs, new_sig_cert, ca_certs, &kga, now)
            .map_err(to_py_err)?;
        Ok(PyReply { reply })
    }

    fn __repr__(&self) -> String {
        match &self.pending {
            Some(p) => format!(
                "PendingRequest(kind={:?}, polls={})",
                request_kind_name(p.kind()),
                p.polls()
            ),
            None => "PendingRequest(decided)".into(),
        }
    }
}

/// A reply to send back (`der`), with what the responder made of the request.
#[pyclass(frozen, name = "Reply", module = "cmp_protocol._native")]
pub(crate) struct PyReply {
    pub(crate) reply: Reply,
}

#[pymethods]
impl PyReply {
    /// DER of the reply PKIMessage.
    #[getter]
    fn der(&self) -> PyBytesOut {
        out(&self.reply.bytes)
    }

    fn __bytes__(&self) -> PyBytesOut {
        out(&self.reply.bytes)
    }

    /// Body type name ("ip", "error", "pkiconf", ...).
    #[getter]
    fn body(&self) -> &'static str {
        self.reply.body.name()
    }

    #[getter]
    fn transaction_id(&self) -> PyBytesOut {
        out(&self.reply.transaction_id)
    }

    /// When the reply is an error message: why the request failed, as a
    /// CmpError instance (not raised).
    #[getter]
    fn error<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.reply
            .error
            .as_ref()
            .map(|e| error_object(py, e))
            .transpose()
    }

    /// What the application should act on, if anything.
    #[getter]
    fn event(&self) -> PyResult<Option<PyResponderEvent>> {
        self.reply.event.as_ref().map(event_of).transpose()
    }

    /// For a nested reply: the replies to the inner requests.
    #[getter]
    fn inner(&self) -> Vec<PyReply> {
        self.reply
            .inner
            .iter()
            .map(|r| PyReply { reply: r.clone() })
            .collect()
    }

    /// The reply parsed as a Message.
    fn message(&self) -> PyResult<PyMessage> {
        PyMessage::parse_bytes(&self.reply.bytes)
    }

    fn __repr__(&self) -> String {
        match &self.reply.error {
            Some(e) => format!("Reply(body={:?}, error={})", self.body(), e.name()),
            None => format!("Reply(body={:?})", self.body()),
        }
    }
}

/// Something the responder's application should act on.
#[pyclass(frozen, name = "ResponderEvent", module = "cmp_protocol._native")]
pub(crate) struct PyResponderEvent {
    /// "confirmed", "confirmation_rejected", "implicitly_confirmed", "client_error".
    #[pyo3(get)]
    kind: &'static str,
    #[pyo3(get)]
    certificate: Option<PyBytesOut>,
    #[pyo3(get)]
    status: Option<&'static str>,
    #[pyo3(get)]
    fail_info: Vec<&'static str>,
    #[pyo3(get)]
    status_string: Vec<String>,
    #[pyo3(get)]
    error_code: Option<i64>,
    #[pyo3(get)]
    error_details: Vec<String>,
}

#[pymethods]
impl PyResponderEvent {
    fn __repr__(&self) -> String {
        format!("ResponderEvent(kind={:?})", self.kind)
    }
}

fn event_of(e: &ResponderEvent) -> PyResult<PyResponderEvent> {
    let mut ev = PyResponderEvent {
        kind: "confirmed",
        certificate: None,
        status: None,
        fail_info: Vec::new(),
        status_string: Vec::new(),
        error_code: None,
        error_details: Vec::new(),
    };
    let set_status = |ev: &mut PyResponderEvent, s: &PkiStatusInfo| {
        ev.status = Some(s.status.name());
        ev.fail_info = bit_names(s);
        ev.status_string = s.status_string.clone().unwrap_or_default();
    };
    match e {
        ResponderEvent::Confirmed(c) => ev.certificate = Some(cert_der(c)?),
        ResponderEvent::ConfirmationRejected { cert, status } => {
            ev.kind = "confirmation_rejected";
            ev.certificate = Some(cert_der(cert)?);
            set_status(&mut ev, status);
        }
        ResponderEvent::ImplicitlyConfirmed(c) => {
            ev.kind = "implicitly_confirmed";
            ev.certificate = Some(cert_der(c)?);
        }
        ResponderEvent::ClientError(PeerFailure {
            status,
            error_code,
            error_details,
            ..
        }) => {
            ev.kind = "client_error";
            set_status(&mut ev, status);
            ev.error_code = *error_code;
            ev.error_details = error_details.clone();
        }
    }
    Ok(ev)
}

// ----- FakeCa -----

struct FakeState {
    ca: ReferenceCa,
    archive: KeyArchive,
}

/// An in-process CA/RA for test harnesses: a `Responder` whose decisions
/// are made by the reference CA (issue what is asked, revoke what it
/// issued, answer caCerts), optionally after making the client poll.
/// Callable: `ca(request_bytes) -> reply_bytes`, a ready `send` function.
#[pyclass(frozen, module = "cmp_protocol._native")]
pub(crate) struct FakeCa {
    responder: Responder,
    state: Mutex<FakeState>,
    root: Certificate,
    signer_cert: Option<Certificate>,
    wait_polls: u32,
    check_after: u32,
    reject: Option<(Vec<FailureBit>, Option<String>)>,
    decide: Option<Py<PyAny>>,
}

impl FakeCa {
    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn default_decision(&self, p: PendingRequest, now: Timestamp) -> cmp_core::Result<Reply> {
        if p.polls() < self.wait_polls {
            return p.wait(self.check_after, now);
        }
        if let Some((bits, text)) = &self.reject {
            let status = PkiStatusInfo::with_failure(PkiStatus::Rejection, bits, text.as_deref());
            return p.reject(status, now);
        }
        match p.kind() {
            RequestKind::Enroll(_) if p.central_keygen_requested() => {
                self.generate_and_issue(p, now)
            }
            RequestKind::Enroll(_) | RequestKind::P10cr => {
                // a key the requester archives with its request is opened
                // (with our key or the MAC secret) and checked first
                let archived = self.lock().ca.archived_key(&p);
                let archived = match archived {
                    Ok(key) => key,
                    Err(e) => {
                        let text = e.to_string();
                        return p.reject(PkiStatusInfo::rejection(e.failure_bit(), &text), now);
                    }
                };
                let Some(public_key) = p.public_key().cloned() else {
                    return p.reject(
                        PkiStatusInfo::rejection(FailureBit::BadCertTemplate, "no public key"),
                        now,
                    );
                };
                let subject = p
                    .subject()
                    .cloned()
                    .or_else(|| {
                        p.signer_certificate()
                            .map(|c| c.tbs_certificate().subject().clone())
                    })
                    .unwrap_or_default();
                let issued = if p.kind() == RequestKind::Enroll(EnrollKind::Ccr) {
                    // a cross-certificate certifies a CA (path length 0)
                    self.lock()
                        .ca
                        .issue_ca_certificate(subject, public_key, Some(0), now)
                } else {
                    let mut req = IssueRequest::new(subject, public_key);
                    req.extensions = p.extensions()?;
                    self.lock().ca.issue(&req, now)
                };
                match issued {
                    Ok(cert) => {
                        if let Some(key) = archived {
                            self.lock()
                                .archive
                                .archive(cert.clone(), key.as_bytes())
                                .map_err(Error::Crypto)?;
                        }
                        p.issue(cert, None, now)
                    }
                    Err(CaError::BadTemplate(why)) => p.reject(
                        PkiStatusInfo::rejection(FailureBit::BadCertTemplate, why),
                        now,
                    ),
                    Err(e) => {
                        let text = e.to_string();
                        p.reject(
                            PkiStatusInfo::rejection(FailureBit::SystemFailure, &text),
                            now,
                        )
                    }
                }
            }
            RequestKind::Revoke => {
                let serial = p
                    .revocation()
                    .and_then(|d| d.cert_details.serial_number.as_ref())
                    .map(|s| s.as_bytes().to_vec())
                    .unwrap_or_default();
                let reason = crl_reason(&p);
                let result = self.lock().ca.revoke(&serial, reason, now);
                match result {
                    Ok(()) => p.revoke(now),
                    Err(CaError::UnknownCertificate) => p.reject(
                        PkiStatusInfo::rejection(FailureBit::BadCertId, "unknown certificate"),
                        now,
                    ),
                    Err(CaError::AlreadyRevoked) => p.reject(
                        PkiStatusInfo::rejection(FailureBit::CertRevoked, "already revoked"),
                        now,
                    ),
                    Err(e) => {
                        let text = e.to_string();
                        p.reject(PkiStatusInfo::rejection(FailureBit::BadRequest, &text), now)
                    }
                }
            }
            RequestKind::Genm => {
                let chain = self.lock().ca.chain().to_vec();
                let mut content = Vec::new();
                for itav in p.general_message() {
                    let answer = match itav.info_type {
                        oid::IT_CA_CERTS => InfoValue::CaCerts(Some(chain.clone()))
                            .to_itav()
                            .map_err(Error::Encode)?,
                        oid::IT_CERT_REQ_TEMPLATE => InfoValue::CertReqTemplate(None)
                            .to_itav()
                            .map_err(Error::Encode)?,
                        oid::IT_ROOT_CA_CERT => InfoValue::RootCaKeyUpdate(None)
                            .to_itav()
                            .map_err(Error::Encode)?,
                        other => InfoTypeAndValue {
                            info_type: other,
                            info_value: None,
                        },
                    };
                    content.push(answer);
                }
                p.respond_genp(content, now)
            }
            RequestKind::KeyRecovery => self.recover(p, now),
        }
    }

    /// The CA itself is the key generation authority.
    fn kga(st: &FakeState) -> KeyGenAuthority {
        KeyGenAuthority::new(
            Arc::new(st.ca.signing_key().clone()),
            st.ca.certificate().clone(),
        )
    }

    /// Central key generation: a key of the requested type (default
    /// P-256), certified, archived for key recovery, delivered.
    fn generate_and_issue(&self, p: PendingRequest, now: Timestamp) -> cmp_core::Result<Reply> {
        let default = cmp_crypto_rustcrypto::envelope::key_type_identifier(KeyAlgorithm::EcP256);
        let (key, public) = p.generate_key(&default)?;
        let subject = p.subject().cloned().unwrap_or_default();
        let mut req = IssueRequest::new(subject, public);
        req.extensions = p.extensions()?;
        let mut st = self.lock();
        let cert = match st.ca.issue(&req, now) {
            Ok(c) => c,
            Err(e) => {
                drop(st);
                let text = e.to_string();
                return p.reject(
                    PkiStatusInfo::rejection(FailureBit::BadCertTemplate, &text),
                    now,
                );
            }
        };
        st.archive
            .archive(cert.clone(), key.as_bytes())
            .map_err(Error::Crypto)?;
        let kga = Self::kga(&st);
        drop(st);
        p.issue_with_key(cert, key.as_bytes(), &kga, None, now)
    }

    /// krr: the archived key history of the requested subject.
    fn recover(&self, p: PendingRequest, now: Timestamp) -> cmp_core::Result<Reply> {
        let st = self.lock();
        let history: Vec<(Certificate, Vec<u8>)> = p
            .subject()
            .map(|s| {
                st.archive
                    .keys_of(s)
                    .iter()
                    .map(|k| (k.cert.clone(), k.private_key.to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        let kga = Self::kga(&st);
        let ca_certs = vec![st.ca.certificate().clone()];
        drop(st);
        if history.is_empty() {
            return p.reject(
                PkiStatusInfo::rejection(FailureBit::BadCertId, "no archived keys"),
                now,
            );
        }
        let keys: Vec<(Certificate, &[u8])> =
            history.iter().map(|(c, k)| (c.clone(), &k[..])).collect();
        p.recover_keys(&keys, None, ca_certs, &kga, now)
    }

    fn decide(&self, py: Python<'_>, p: PendingRequest, now: Timestamp) -> (Reply, Option<PyErr>) {
        let Some(decide) = &self.decide else {
            return (
                self.default_decision(p, now)
                    .unwrap_or_else(empty_error_reply),
                None,
            );
        };
        let cell = match Py::new(py, PyPendingRequest { pending: Some(p) }) {
            Ok(c) => c,
            Err(e) => return (empty_error_reply(Error::Usage("out of memory")), Some(e)),
        };
        let result = decide.bind(py).call1((cell.clone_ref(py),));
        let leftover = cell.borrow_mut(py).pending.take();
        match result {
            Ok(obj) => {
                if let Ok(r) = obj.cast::<PyReply>() {
                    return (r.get().reply.clone(), None);
                }
                match leftover {
                    // None (or anything else) from decide: the default policy
                    Some(p) => (
                        self.default_decision(p, now)
                            .unwrap_or_else(empty_error_reply),
                        None,
                    ),
                    None => (
                        empty_error_reply(Error::Usage("no reply")),
                        Some(usage("decide decided but did not return the Reply")),
                    ),
                }
            }
            Err(e) => match leftover {
                Some(p) => (fallback_reply(p, now), Some(e)),
                None => (empty_error_reply(Error::Usage("no reply")), Some(e)),
            },
        }
    }
}

#[pymethods]
impl FakeCa {
    /// A new CA hierarchy ("<name> Root CA" / "<name> Issuing CA") with keys
    /// of `key_algorithm`, or the given `ca_key`/`ca_cert`/`ca_chain`.
    ///
    /// MAC clients are accepted for the references in `secrets`
    /// (`{reference: secret}`); signature clients whose certificate chains to
    /// `client_trust` (default: this CA's root). Replies to signed requests
    /// are signed by a generated CMP signer certificate (id-kp-cmcRA), or by
    /// `signer_key`/`signer_cert`.
    #[new]
    #[pyo3(signature = (
        *, name = "Test", key_algorithm = "ec:P-256", ca_key = None, ca_cert = None,
        ca_chain = None, secrets = None, client_trust = None, signer_key = None,
        signer_cert = None, grant_implicit_confirm = false, accept_unprotected = false,
        max_time_skew = Some(600), confirm_wait_time = None, wait_polls = 0, check_after = 0,
        reject = None, reject_text = None, decide = None, now = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        name: &str,
        key_algorithm: &str,
        ca_key: Option<&Bound<'_, PyAny>>,
        ca_cert: Option<&Bound<'_, PyAny>>,
        ca_chain: Option<&Bound<'_, PyAny>>,
        secrets: Option<&Bound<'_, PyAny>>,
        client_trust: Option<&Bound<'_, PyAny>>,
        signer_key: Option<&Bound<'_, PyAny>>,
        signer_cert: Option<&Bound<'_, PyAny>>,
        grant_implicit_confirm: bool,
        accept_unprotected: bool,
        max_time_skew: Option<u64>,
        confirm_wait_time: Option<u64>,
        wait_polls: u32,
        check_after: u32,
        reject: Option<Vec<String>>,
        reject_text: Option<String>,
        decide: Option<Py<PyAny>>,
        now: Option<f64>,
    ) -> PyResult<Self> {
        let now = timestamp(py, now)?;
        let (ca, root) = match (
            ca_key.filter(|k| !k.is_none()),
            ca_cert.filter(|c| !c.is_none()),
        ) {
            (Some(k), Some(c)) => {
                let chain = certs_of(ca_chain)?;
                let cert = cert_of(c)?;
                let root = chain.last().cloned().unwrap_or_else(|| cert.clone());
                (
                    ReferenceCa::new(key_of(k)?, cert, chain).map_err(ca_err)?,
                    root,
                )
            }
            (None, None) => {
                let alg = KeyAlgorithm::from_name(key_algorithm).ok_or_else(|| {
                    PyValueError::new_err(format!("unknown key algorithm {key_algorithm:?}"))
                })?;
                ReferenceCa::generate_hierarchy(name, now, alg).map_err(ca_err)?
            }
            _ => return Err(PyValueError::new_err("ca_key and ca_cert go together")),
        };
        let (signer, signer_cert) = match signer_of(signer_key, signer_cert, None)? {
            Some(Protector::Signature { key, cert, .. }) => (
                Protector::Signature {
                    key,
                    cert: cert.clone(),
                    chain: ca.chain().to_vec(),
                },
                cert,
            ),
            _ => {
                let subject: Name = name_of(&format!("CN={name} CMP Signer"))?;
                let (key, cert): (PrivateKey, Certificate) =
                    ca.generate_cmp_signer(subject, now).map_err(ca_err)?;
                (
                    Protector::Signature {
                        key: Arc::new(key),
                        cert: cert.clone(),
                        chain: ca.chain().to_vec(),
                    },
                    cert,
                )
            }
        };
        let mut c = ResponderConfig::new(provider(), Arc::new(MemoryStore::new(10_000)));
        let secrets = secrets_of(secrets)?.unwrap_or_else(|| StaticSecrets(BTreeMap::new()));
        c.secrets = Some(Arc::new(secrets));
        let mut anchors = certs_of(client_trust)?;
        if anchors.is_empty() {
            anchors.push(root.clone());
        }
        c.client_trust = Some(TrustStore::new(anchors));
        c.untrusted = ca.chain().to_vec();
        c.signer = Some(signer);
        c.grant_implicit_confirm = grant_implicit_confirm;
        c.accept_unprotected = accept_unprotected;
        c.max_time_skew = max_time_skew;
        c.confirm_wait_time = confirm_wait_time;
        c.extra_certs = ca.chain().to_vec();
        c.ca_pubs = vec![root.clone()];
        Ok(Self {
            responder: Responder::new(c),
            state: Mutex::new(FakeState {
                ca,
                archive: KeyArchive::new(),
            }),
            root,
            signer_cert: Some(signer_cert),
            wait_polls,
            check_after,
            reject: match reject {
                Some(bits) => Some((failure_bits_of(Some(bits))?, reject_text)),
                None => None,
            },
            decide,
        })
    }

    /// Handle one request completely and return the Reply.
    #[pyo3(signature = (data, now = None))]
    fn handle_request(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        now: Option<f64>,
    ) -> PyResult<PyReply> {
        let bytes = bytes_of(data)?;
        let now = timestamp(py, now)?;
        let mut failure: Option<PyErr> = None;
        let reply = self
            .responder
            .handle_request_with(&bytes, now, &mut |p, now| {
                let (r, e) = self.decide(py, p, now);
                if let Some(e) = e {
                    failure.get_or_insert(e);
                }
                r
            });
        match failure {
            Some(e) => Err(e),
            None => Ok(PyReply { reply }),
        }
    }

    /// `send` for `run_transaction`: request bytes in, reply bytes out.
    fn __call__(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<PyBytesOut> {
        Ok(out(&self.handle_request(py, data, None)?.reply.bytes))
    }

    /// The root certificate (DER): the trust anchor for clients.
    #[getter]
    fn root(&self) -> PyResult<PyBytesOut> {
        cert_der(&self.root)
    }

    /// The issuing CA certificate (DER).
    #[getter]
    fn ca_certificate(&self) -> PyResult<PyBytesOut> {
        cert_der(self.lock().ca.certificate())
    }

    /// Issuing CA certificate first, up to the root (DER).
    #[getter]
    fn chain(&self) -> PyResult<Vec<PyBytesOut>> {
        certs_der(self.lock().ca.chain())
    }

    /// The certificate replies are signed with (DER).
    #[getter]
    fn signer_certificate(&self) -> PyResult<Option<PyBytesOut>> {
        self.signer_cert.as_ref().map(cert_der).transpose()
    }

    /// Every certificate issued so far (DER, serial order).
    #[getter]
    fn issued(&self) -> PyResult<Vec<PyBytesOut>> {
        let st = self.lock();
        st.ca.issued().map(cert_der).collect()
    }

    /// The CRL of this CA (DER): every certificate revoked so far.
    #[pyo3(signature = (now = None))]
    fn crl(&self, py: Python<'_>, now: Option<f64>) -> PyResult<PyBytesOut> {
        let now = timestamp(py, now)?;
        let crl = self.lock().ca.crl(now).map_err(ca_err)?;
        crl.to_der()
            .map(std::borrow::Cow::Owned)
            .map_err(|e| to_py_err(Error::Encode(e)))
    }

    /// How many keys are archived for key recovery: centrally generated
    /// ones and those requesters archived (pkiArchiveOptions).
    #[getter]
    fn archived_keys(&self) -> usize {
        self.lock().archive.len()
    }

    /// The archived keys of `subject` (RFC 4514), oldest first, as
    /// `(certificate_der, private_key_pkcs8_der)`: what a krr recovers.
    fn archived_keys_of(&self, subject: &str) -> PyResult<Vec<(PyBytesOut, PyBytesOut)>> {
        let subject = name_of(subject)?;
        let st = self.lock();
        st.archive
            .keys_of(&subject)
            .iter()
            .map(|k| Ok((cert_der(&k.cert)?, out(&k.private_key))))
            .collect()
    }

    /// Whether `cert` (issued by this CA) is revoked.
    fn is_revoked(&self, cert: &Bound<'_, PyAny>) -> PyResult<bool> {
        let cert = cert_of(cert)?;
        Ok(self
            .lock()
            .ca
            .is_revoked(cert.tbs_certificate().serial_number().as_bytes()))
    }

    /// Issue a certificate directly (not through CMP), e.g. an existing
    /// device certificate for kur/rr tests. Returns DER.
    /// `extensions` as `(oid, critical, value_der)`, e.g. an extended key
    /// usage id-kp-cmKGA for a key generation authority.
    #[pyo3(signature = (subject, public_key, *, extensions = None, now = None))]
    fn issue_certificate(
        &self,
        py: Python<'_>,
        subject: &str,
        public_key: &Bound<'_, PyAny>,
        extensions: Option<&Bound<'_, PyAny>>,
        now: Option<f64>,
    ) -> PyResult<PyBytesOut> {
        let spki = match public_key.cast::<crate::keys::PyPrivateKey>() {
            Ok(k) => cmp_core::crypto::SigningKey::public_key(&k.get().key),
            Err(_) => {
                let der = bytes_of(public_key)?;
                <spki::SubjectPublicKeyInfoOwned as der::Decode>::from_der(&der)
                    .map_err(crate::errors::decode_err)?
            }
        };
        let mut req = IssueRequest::new(name_of(subject)?, spki);
        req.extensions = crate::client::extensions_of(extensions)?;
        let now = timestamp(py, now)?;
        let cert = self.lock().ca.issue(&req, now).map_err(ca_err)?;
        cert_der(&cert)
    }

    fn __repr__(&self) -> String {
        format!("FakeCa({})", self.lock().ca.name())
    }
}
