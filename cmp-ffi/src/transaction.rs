//! `cmp_transaction`: one client exchange (ir/cr/kur/ccr, p10cr, rr, genm).

use std::ffi::c_char;

use cmp_core::asn1::{FailureBit, InfoValue, PkiStatusInfo};
use cmp_core::client::{
    ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest, IssuedCertificate,
    RecoveredKeys, RevokeRequest,
};
use cmp_core::{Error, PeerFailure, Timestamp};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::name::Name;
use x509_cert::request::CertReq;

use crate::config::cmp_client_config;
use crate::error::{Failure, cmp_result, guard, guard_value};
use crate::key::cmp_signing_key;
use crate::{
    free_handle, in_bytes, in_mut, in_ref, in_str, out_bytes, out_handle, out_handle_clear,
    out_value, parse_cert,
};

/// Which enrollment request cmp_transaction_new_enroll sends.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_enroll_kind {
    /// Initialization request: the first certificate from this PKI.
    CMP_ENROLL_IR = 0,
    /// Certification request: another certificate.
    CMP_ENROLL_CR = 1,
    /// Key update request: renew `old_cert` with a (new) key; the
    /// credential is normally the old certificate and its key.
    CMP_ENROLL_KUR = 2,
    /// Cross-certification request (RFC 9810 section 5.3.11): a CA asks
    /// this CA to certify its key; `subject` is the requesting CA's name.
    CMP_ENROLL_CCR = 3,
}

/// What cmp_transaction_new_genm asks for.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_genm_type {
    /// An empty genm (the server decides what to answer).
    CMP_GENM_EMPTY = 0,
    /// CA certificates (RFC 9483 section 4.3.1).
    CMP_GENM_CA_CERTS = 1,
    /// A certificate request template (RFC 9483 section 4.3.3).
    CMP_GENM_CERT_REQ_TEMPLATE = 2,
    /// A KEM ciphertext for our KEM key (RFC 9810 section 5.1.3.4), the
    /// first step of KEM-based MAC protection: see
    /// cmp_credential_new_kem_mac. May be sent unprotected.
    CMP_GENM_KEM_CIPHERTEXT = 3,
}

/// What happened after an input to a transaction.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_event {
    /// Nothing to decide: send what cmp_transaction_next_request gives.
    CMP_EVENT_CONTINUE = 0,
    /// The server asks to wait: call cmp_transaction_handle_timeout at
    /// cmp_transaction_timeout() (a pollReq may already be queued: send
    /// what cmp_transaction_next_request gives first).
    CMP_EVENT_WAITING = 1,
    /// A certificate was issued: read it with cmp_transaction_output and
    /// decide with cmp_transaction_confirm or cmp_transaction_reject.
    CMP_EVENT_CERTIFICATE_ISSUED = 2,
    /// The revocation was accepted; the transaction is complete.
    CMP_EVENT_REVOKED = 3,
    /// The general response arrived (CMP_OUTPUT_GENP_ITAV); complete.
    CMP_EVENT_GENERAL_RESPONSE = 4,
    /// The transaction finished successfully.
    CMP_EVENT_COMPLETED = 5,
    /// The key recovery response arrived (CMP_OUTPUT_RECOVERED_CERT and
    /// CMP_OUTPUT_RECOVERED_KEY); the transaction is complete.
    CMP_EVENT_KEYS_RECOVERED = 6,
}

/// The DER outputs of a transaction, for cmp_transaction_output.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_output {
    /// The issued certificate (one item).
    CMP_OUTPUT_CERTIFICATE = 0,
    /// Its issuer chain found in the response, issuer first.
    CMP_OUTPUT_CHAIN = 1,
    /// caPubs: CA certificates the server offers as trust anchors.
    CMP_OUTPUT_CA_PUBS = 2,
    /// extraCerts of the response with the certificate.
    CMP_OUTPUT_EXTRA_CERTS = 3,
    /// The InfoTypeAndValue items of a general response (DER each).
    CMP_OUTPUT_GENP_ITAV = 4,
    /// The private key the PKI generated (central key generation), PKCS#8
    /// DER (one item, or none for a key of our own).
    CMP_OUTPUT_PRIVATE_KEY = 5,
    /// The certificates of the recovered keys (krr), in the PKI's order.
    CMP_OUTPUT_RECOVERED_CERT = 6,
    /// The recovered private keys (krr), PKCS#8 DER, same order.
    CMP_OUTPUT_RECOVERED_KEY = 7,
}

/// One client transaction. Made by a cmp_transaction_new_* function,
/// freed by cmp_transaction_free. The loop: send every
/// cmp_transaction_next_request to the server, feed each answer to
/// cmp_transaction_handle_response, act on the event, until
/// cmp_transaction_is_finished.
pub struct cmp_transaction {
    pub(crate) tx: ClientTransaction,
    /// The request last handed out by cmp_transaction_next_request.
    current: Option<Vec<u8>>,
    issued: Option<IssuedCertificate>,
    pub(crate) genp: Vec<Vec<u8>>,
    recovered: Option<RecoveredKeys>,
    peer: Option<PeerFailure>,
}

impl cmp_transaction {
    fn new(tx: ClientTransaction) -> Self {
        Self {
            tx,
            current: None,
            issued: None,
            genp: Vec::new(),
            recovered: None,
            peer: None,
        }
    }

    /// Record what the caller may inspect, and map the event.
    fn take(&mut self, result: Result<ClientEvent, Error>) -> Result<cmp_event, Failure> {
        match result {
            Ok(ClientEvent::Continue) => Ok(cmp_event::CMP_EVENT_CONTINUE),
            Ok(ClientEvent::Waiting { .. }) => Ok(cmp_event::CMP_EVENT_WAITING),
            Ok(ClientEvent::CertificateIssued(issued)) => {
                self.issued = Some(issued);
                Ok(cmp_event::CMP_EVENT_CERTIFICATE_ISSUED)
            }
            Ok(ClientEvent::Revoked { .. }) => Ok(cmp_event::CMP_EVENT_REVOKED),
            Ok(ClientEvent::GeneralResponse(items)) => {
                self.genp = items
                    .iter()
                    .map(|i| i.to_der().map_err(Error::Encode))
                    .collect::<Result<_, _>>()?;
                Ok(cmp_event::CMP_EVENT_GENERAL_RESPONSE)
            }
            Ok(ClientEvent::Completed) => Ok(cmp_event::CMP_EVENT_COMPLETED),
            Ok(ClientEvent::KeysRecovered(keys)) => {
                self.recovered = Some(keys);
                Ok(cmp_event::CMP_EVENT_KEYS_RECOVERED)
            }
            Err(e) => {
                if let Error::Peer(p) | Error::UnauthenticatedError(p) = &e {
                    self.peer = Some(p.clone());
                }
                Err(Failure::Core(e))
            }
        }
    }
}

pub(crate) fn finish_new(
    out: *mut *mut cmp_transaction,
    tx: Result<ClientTransaction, Error>,
) -> Result<(), Failure> {
    let tx = tx?;
    // SAFETY: `out` was checked by out_handle_clear in the caller.
    unsafe { out_handle(out, cmp_transaction::new(tx)) }
}

/// The cmp_enroll_kind value `kind`.
pub(crate) fn enroll_kind(kind: u32) -> Result<EnrollKind, Failure> {
    match kind {
        0 => Ok(EnrollKind::Ir),
        1 => Ok(EnrollKind::Cr),
        2 => Ok(EnrollKind::Kur),
        3 => Ok(EnrollKind::Ccr),
        _ => Err(Failure::Usage("unknown cmp_enroll_kind")),
    }
}

/// A subject name (RFC 4514, or OpenSSL's `/CN=a/O=b` form), or `None` for NULL.
///
/// # Safety
/// `subject` is NULL or a NUL-terminated string.
pub(crate) unsafe fn optional_name(subject: *const c_char) -> Result<Option<Name>, Failure> {
    if subject.is_null() {
        return Ok(None);
    }
    // SAFETY: a NUL-terminated string (contract).
    let text = unsafe { in_str(subject, "subject")? };
    cmp_core::name::parse_dn(text)
        .map(Some)
        .map_err(|_| Failure::Usage("subject is not a distinguished name"))
}

/// Start `request` (a kur names the DER certificate `old` it updates,
/// every other kind a subject) and hand the transaction out in `out`.
pub(crate) fn start_enroll(
    out: *mut *mut cmp_transaction,
    config: &cmp_client_config,
    mut request: EnrollRequest,
    old: &[u8],
    now: u64,
) -> Result<(), Failure> {
    if request.kind == EnrollKind::Kur {
        if old.is_empty() {
            return Err(Failure::Usage("a kur needs old_cert"));
        }
        request.old_cert = Some(parse_cert(old)?);
    } else if request.subject.is_none() {
        return Err(Failure::Null("subject"));
    }
    let tx = ClientTransaction::start_enroll(
        config.config.clone(),
        &request,
        Timestamp::from_unix_secs(now),
    );
    finish_new(out, tx)
}

/// Start an ir, cr, kur or ccr (`kind`, a cmp_enroll_kind) for `new_key`, whose
/// possession is proven by signing the request (POP).
///
/// `subject` is an RFC 4514 name ("CN=Device 1,O=Example"), or NULL for a
/// kur (then the old certificate's subject is requested). `old_cert`
/// (PEM or DER) is required for a kur and ignored otherwise. `now` is the
/// current time (Unix seconds). Everything is copied; the key is shared.
/// On success `*out` owns a new transaction whose first request waits in
/// cmp_transaction_next_request. Errors: CMP_NULL_POINTER, CMP_USAGE (bad
/// kind or subject, missing old_cert), CMP_DECODE (old_cert), CMP_CRYPTO
/// (signing failed), CMP_ENCODE.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn cmp_transaction_new_enroll(
    config: *const cmp_client_config,
    kind: u32,
    new_key: *const cmp_signing_key,
    subject: *const c_char,
    old_cert: *const u8,
    old_cert_len: usize,
    now: u64,
    out: *mut *mut cmp_transaction,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: live handles or NULL; a buffer of `old_cert_len` bytes.
        let (config, key, old) = unsafe {
            (
                in_ref(config, "config")?,
                in_ref(new_key, "new_key")?,
                in_bytes(old_cert, old_cert_len, "old_cert")?,
            )
        };
        let kind = enroll_kind(kind)?;
        // SAFETY: NULL or a NUL-terminated string (contract).
        let subject = unsafe { optional_name(subject)? };
        let request = EnrollRequest::new(kind, subject, key.key.clone());
        start_enroll(out, config, request, old, now)
    })
}

/// Start a p10cr with a DER PKCS#10 CSR (copied) at `now` (Unix seconds).
/// On success `*out` owns a new transaction. Errors: CMP_NULL_POINTER,
/// CMP_DECODE (not a CSR), CMP_CRYPTO, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_new_p10cr(
    config: *const cmp_client_config,
    csr_der: *const u8,
    csr_len: usize,
    now: u64,
    out: *mut *mut cmp_transaction,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: a live handle or NULL; a buffer of `csr_len` bytes.
        let (config, csr) = unsafe {
            (
                in_ref(config, "config")?,
                in_bytes(csr_der, csr_len, "csr_der")?,
            )
        };
        let csr = CertReq::from_der(csr).map_err(Error::Decode)?;
        let tx = ClientTransaction::start_p10cr(
            config.config.clone(),
            csr,
            Timestamp::from_unix_secs(now),
        );
        finish_new(out, tx)
    })
}

/// Start a revocation request for `cert` (PEM or DER, copied) with CRL
/// reason `reason` (0..10 without 7, RFC 5280), or -1 for none, at `now`.
/// On success `*out` owns a new transaction. Errors: CMP_NULL_POINTER,
/// CMP_DECODE, CMP_USAGE (bad reason), CMP_CRYPTO, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_new_rr(
    config: *const cmp_client_config,
    cert: *const u8,
    cert_len: usize,
    reason: i32,
    now: u64,
    out: *mut *mut cmp_transaction,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: a live handle or NULL; a buffer of `cert_len` bytes.
        let (config, cert) =
            unsafe { (in_ref(config, "config")?, in_bytes(cert, cert_len, "cert")?) };
        if cert.is_empty() {
            return Err(Failure::Usage("the certificate is empty"));
        }
        let reason = match reason {
            -1 => None,
            r => Some(
                u8::try_from(r)
                    .map_err(|_| Failure::Usage("CRL reason codes are 0..=10 without 7"))?,
            ),
        };
        let request = RevokeRequest {
            cert: parse_cert(cert)?,
            reason,
        };
        let tx = ClientTransaction::start_rr(
            config.config.clone(),
            &request,
            Timestamp::from_unix_secs(now),
        );
        finish_new(out, tx)
    })
}

/// Start a general message asking for `type` (a cmp_genm_type) at `now`.
/// On success `*out` owns a new transaction. Errors: CMP_NULL_POINTER,
/// CMP_USAGE (bad type), CMP_CRYPTO, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_new_genm(
    config: *const cmp_client_config,
    r#type: u32,
    now: u64,
    out: *mut *mut cmp_transaction,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: a live handle or NULL (contract).
        let config = unsafe { in_ref(config, "config")? };
        let content = match r#type {
            0 => Vec::new(),
            1 => vec![InfoValue::CaCerts(None).to_itav().map_err(Error::Encode)?],
            2 => vec![
                InfoValue::CertReqTemplate(None)
                    .to_itav()
                    .map_err(Error::Encode)?,
            ],
            3 => vec![cmp_core::kem::ciphertext_request()],
            _ => return Err(Failure::Usage("unknown cmp_genm_type")),
        };
        let tx = ClientTransaction::start_genm(
            config.config.clone(),
            content,
            Timestamp::from_unix_secs(now),
        );
        finish_new(out, tx)
    })
}

/// The next request to send (DER PKIMessage, to POST as
/// application/pkixcmp), or `*data = NULL`, `*len = 0` when there is none.
///
/// Ownership: the bytes belong to the transaction and stay valid until the
/// next call of any function with this transaction, or its free; copy them
/// if you need them longer. Errors: CMP_NULL_POINTER.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_next_request(
    tx: *mut cmp_transaction,
    data: *mut *const u8,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle (contract).
        let tx = unsafe { in_mut(tx, "tx")? };
        if data.is_null() || len.is_null() {
            return Err(Failure::Null(if data.is_null() { "data" } else { "len" }));
        }
        tx.current = tx.tx.poll_transmit();
        let (ptr, n) = match &tx.current {
            Some(bytes) => (bytes.as_ptr(), bytes.len()),
            None => (std::ptr::null(), 0),
        };
        // SAFETY: both checked for NULL above; writable by contract.
        unsafe {
            out_value(data, ptr, "data")?;
            out_value(len, n, "len")
        }
    })
}

/// Feed the server's response (the HTTP body, copied) at `now`; `*event`
/// says what happened. The bytes are checked fully before anything is
/// trusted: size (cmp_client_config_set_max_message_size), DER, protection,
/// transactionID, nonces, messageTime, and the issued certificate against
/// the request.
///
/// On failure the transaction is finished (failed), except for
/// CMP_NULL_POINTER and CMP_USAGE (no response expected now). A failed
/// certificate check may first queue a rejecting certConf: send it before
/// giving up if you like. Errors: any code of docs/errors.md;
/// CMP_PEER_ERROR / CMP_UNAUTHENTICATED_ERROR carry the server's status
/// (cmp_transaction_peer_status).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_handle_response(
    tx: *mut cmp_transaction,
    data: *const u8,
    len: usize,
    now: u64,
    event: *mut cmp_event,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle; a buffer of `len` bytes.
        let (tx, bytes) = unsafe { (in_mut(tx, "tx")?, in_bytes(data, len, "data")?) };
        if event.is_null() {
            return Err(Failure::Null("event"));
        }
        tx.current = None;
        let result = tx.tx.handle_response(bytes, Timestamp::from_unix_secs(now));
        let ev = tx.take(result)?;
        // SAFETY: checked for NULL above; writable by contract.
        unsafe { out_value(event, ev, "event") }
    })
}

/// When cmp_transaction_handle_timeout should be called next (Unix seconds,
/// rounded up), or 0 when no timer runs: the polling time after
/// CMP_EVENT_WAITING, the confirmation deadline, or the total deadline.
/// Errors: CMP_NULL_POINTER.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_timeout(tx: *const cmp_transaction, at: *mut u64) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let tx = unsafe { in_ref(tx, "tx")? };
        let value = tx
            .tx
            .poll_timeout()
            .map_or(0, |t| t.unix_millis().div_ceil(1000).max(1));
        // SAFETY: NULL-checked by out_value; writable by contract.
        unsafe { out_value(at, value, "at") }
    })
}

/// Time has passed (`now`, Unix seconds): queue the due pollReq (then send
/// cmp_transaction_next_request) or fail with CMP_TIMEOUT at the deadline.
/// Calling it early does nothing. Errors: CMP_NULL_POINTER, CMP_TIMEOUT,
/// CMP_CRYPTO, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_handle_timeout(tx: *mut cmp_transaction, now: u64) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle (contract).
        let tx = unsafe { in_mut(tx, "tx")? };
        tx.current = None;
        tx.tx.handle_timeout(Timestamp::from_unix_secs(now))?;
        Ok(())
    })
}

/// Accept the certificate of CMP_EVENT_CERTIFICATE_ISSUED: queues the
/// certConf (`*event` = CMP_EVENT_CONTINUE: send it, then feed the pkiConf
/// to cmp_transaction_handle_response), or, with implicit confirmation
/// granted, completes at once (CMP_EVENT_COMPLETED).
/// Errors: CMP_NULL_POINTER, CMP_USAGE (no certificate awaits a decision),
/// CMP_TIMEOUT (confirmWaitTime passed), CMP_CRYPTO, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_confirm(
    tx: *mut cmp_transaction,
    now: u64,
    event: *mut cmp_event,
) -> cmp_result {
    decide(tx, Confirmation::Accept, now, event)
}

/// Reject the certificate of CMP_EVENT_CERTIFICATE_ISSUED, telling the
/// server why: `fail_bit` is a PKIFailureInfo bit number (RFC 9810, e.g.
/// 7 incorrectData, 19 badCertTemplate) and `reason` an optional text (NULL
/// for none; read during the call only). Queues the certConf carrying the
/// rejection (`*event` = CMP_EVENT_CONTINUE: send it, then feed the
/// pkiConf to cmp_transaction_handle_response, which gives
/// CMP_EVENT_COMPLETED); with implicit confirmation granted nothing can be
/// sent (the server already took the certificate as accepted) and the
/// transaction completes at once (CMP_EVENT_COMPLETED). Either way the
/// exchange itself ended properly, as in the Rust, Python and Node
/// bindings: cmp_transaction_is_completed is true although no certificate
/// was accepted, and the rejected one stays readable with
/// cmp_transaction_output. Errors: as cmp_transaction_confirm, and
/// CMP_USAGE for an unknown bit.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_reject(
    tx: *mut cmp_transaction,
    fail_bit: u32,
    reason: *const c_char,
    now: u64,
    event: *mut cmp_event,
) -> cmp_result {
    let status = guard_value(Err(Failure::Usage("internal error")), || {
        let bit = usize::try_from(fail_bit)
            .ok()
            .and_then(FailureBit::from_number)
            .ok_or(Failure::Usage("unknown PKIFailureInfo bit"))?;
        let text = if reason.is_null() {
            None
        } else {
            // SAFETY: a NUL-terminated string (contract).
            Some(unsafe { in_str(reason, "reason")? })
        };
        Ok(PkiStatusInfo::with_failure(
            cmp_core::asn1::PkiStatus::Rejection,
            &[bit],
            text,
        ))
    });
    match status {
        Ok(status) => decide(tx, Confirmation::Reject(status), now, event),
        Err(f) => guard(|| Err(f)),
    }
}

fn decide(
    tx: *mut cmp_transaction,
    decision: Confirmation,
    now: u64,
    event: *mut cmp_event,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle (contract).
        let tx = unsafe { in_mut(tx, "tx")? };
        if event.is_null() {
            return Err(Failure::Null("event"));
        }
        tx.current = None;
        let result = tx.tx.confirm(decision, Timestamp::from_unix_secs(now));
        let ev = tx.take(result)?;
        // SAFETY: checked for NULL above; writable by contract.
        unsafe { out_value(event, ev, "event") }
    })
}

/// Whether the transaction has ended, successfully or not (false for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_is_finished(tx: *const cmp_transaction) -> bool {
    guard_value(false, || {
        // SAFETY: NULL or a live handle (contract).
        unsafe { in_ref(tx, "tx") }.is_ok_and(|t| t.tx.is_finished())
    })
}

/// Whether the transaction ended successfully (false for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_is_completed(tx: *const cmp_transaction) -> bool {
    guard_value(false, || {
        // SAFETY: NULL or a live handle (contract).
        unsafe { in_ref(tx, "tx") }.is_ok_and(|t| t.tx.is_completed())
    })
}

/// How many items output `which` (a cmp_output) holds now: 0 before the
/// corresponding event. Errors: CMP_NULL_POINTER, CMP_USAGE (bad `which`).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_output_count(
    tx: *const cmp_transaction,
    which: u32,
    count: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let tx = unsafe { in_ref(tx, "tx")? };
        let n = output_count(tx, which)?;
        // SAFETY: NULL-checked by out_value; writable by contract.
        unsafe { out_value(count, n, "count") }
    })
}

fn output_count(tx: &cmp_transaction, which: u32) -> Result<usize, Failure> {
    let issued = tx.issued.as_ref();
    Ok(match which {
        0 => usize::from(issued.is_some()),
        1 => issued.map_or(0, |i| i.chain.len()),
        2 => issued.map_or(0, |i| i.ca_pubs.len()),
        3 => issued.map_or(0, |i| i.extra_certs.len()),
        4 => tx.genp.len(),
        5 => usize::from(issued.is_some_and(|i| i.private_key.is_some())),
        6 | 7 => tx.recovered.as_ref().map_or(0, |r| r.keys.len()),
        _ => return Err(Failure::Usage("unknown cmp_output")),
    })
}

/// Copy item `index` of output `which` (a cmp_output) as DER into `buf`
/// by the output-buffer convention. Errors: CMP_NULL_POINTER, CMP_USAGE
/// (bad `which`, or `index` >= cmp_transaction_output_count),
/// CMP_BUFFER_TOO_SMALL, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_output(
    tx: *const cmp_transaction,
    which: u32,
    index: usize,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let tx = unsafe { in_ref(tx, "tx")? };
        let issued = tx.issued.as_ref();
        fn pick(list: Option<&Vec<Certificate>>, index: usize) -> Option<&Certificate> {
            list.and_then(|l| l.get(index))
        }
        let der = match which {
            0 => issued.filter(|_| index == 0).map(|i| &i.cert),
            1 => pick(issued.map(|i| &i.chain), index),
            2 => pick(issued.map(|i| &i.ca_pubs), index),
            3 => pick(issued.map(|i| &i.extra_certs), index),
            4 => {
                let item = tx
                    .genp
                    .get(index)
                    .ok_or(Failure::Usage("index out of range"))?;
                // SAFETY: output-buffer convention (contract).
                return unsafe { out_bytes(item, buf, cap, len) };
            }
            5 => {
                let key = issued
                    .and_then(|i| i.private_key.as_ref())
                    .filter(|_| index == 0)
                    .ok_or(Failure::Usage("index out of range"))?;
                // SAFETY: output-buffer convention (contract).
                return unsafe { out_bytes(key.as_bytes(), buf, cap, len) };
            }
            6 => tx
                .recovered
                .as_ref()
                .and_then(|r| r.keys.get(index))
                .map(|k| &k.cert),
            7 => {
                let key = tx
                    .recovered
                    .as_ref()
                    .and_then(|r| r.keys.get(index))
                    .ok_or(Failure::Usage("index out of range"))?;
                // SAFETY: output-buffer convention (contract).
                return unsafe { out_bytes(key.private_key.as_bytes(), buf, cap, len) };
            }
            _ => return Err(Failure::Usage("unknown cmp_output")),
        }
        .ok_or(Failure::Usage("index out of range"))?
        .to_der()
        .map_err(Error::Encode)?;
        // SAFETY: output-buffer convention (contract).
        unsafe { out_bytes(&der, buf, cap, len) }
    })
}

/// After CMP_PEER_ERROR or CMP_UNAUTHENTICATED_ERROR: the server's
/// PKIStatus (`*status`: 2 rejection, ...) and PKIFailureInfo as a bit mask
/// (`*fail_info`: bit n set for failure bit n, e.g. 1u << 9 badPOP). Its
/// statusString is in cmp_last_error_message. Either pointer may be NULL.
/// Errors: CMP_NULL_POINTER (`tx`), CMP_USAGE (no peer failure recorded).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_peer_status(
    tx: *const cmp_transaction,
    status: *mut i32,
    fail_info: *mut u32,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let tx = unsafe { in_ref(tx, "tx")? };
        let peer = tx
            .peer
            .as_ref()
            .ok_or(Failure::Usage("no peer failure recorded"))?;
        let (s, bits) = crate::message::status_numbers(&peer.status);
        if !status.is_null() {
            // SAFETY: non-null and writable by contract.
            unsafe { out_value(status, s, "status")? };
        }
        if !fail_info.is_null() {
            // SAFETY: non-null and writable by contract.
            unsafe { out_value(fail_info, bits, "fail_info")? };
        }
        Ok(())
    })
}

/// Free a transaction (finished or not; nothing is sent); NULL is ignored.
/// Pointers from cmp_transaction_next_request become invalid.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_free(tx: *mut cmp_transaction) {
    guard_value((), || {
        // SAFETY: NULL or a handle from this library not yet freed.
        unsafe { free_handle(tx) }
    });
}
