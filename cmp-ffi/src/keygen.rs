//! Central key generation, key archiving and key recovery:
//! `cmp_envelope_key` (what opens the EnvelopedData a PKI returns keys in),
//! the transactions that receive keys (an ir/cr/kur/ccr without a key, and
//! krr) and the one that sends its key for archiving.

use std::ffi::c_char;
use std::sync::Arc;

use cmp_core::Timestamp;
use cmp_core::archive;
use cmp_core::client::{ClientTransaction, EnrollRequest, KeyRecoveryRequest};
use cmp_crypto_rustcrypto::{EnvelopeKey, PrivateKey, envelope::key_type_identifier};

use crate::config::cmp_client_config;
use crate::error::{Failure, cmp_result, guard, guard_value};
use crate::key::key_algorithm;
use crate::transaction::{cmp_transaction, enroll_kind, finish_new, optional_name, start_enroll};
use crate::{free_handle, in_bytes, in_ref, out_handle, out_handle_clear, parse_cert};

/// What decrypts keys the PKI generated or recovers for us: the MAC shared
/// secret (password-based recipient info), or our private key with its
/// certificate (key transport for RSA, key agreement for EC P-256/P-384).
/// Made by cmp_envelope_key_new_password or
/// cmp_envelope_key_new_private_key, freed by cmp_envelope_key_free. A
/// transaction keeps its own copy, so the handle may be freed after the
/// transaction has started.
pub struct cmp_envelope_key {
    key: Arc<EnvelopeKey>,
}

/// An envelope key from a shared secret (the one of the MAC credential).
/// The secret is copied. On success `*out` owns a new envelope key.
/// Errors: CMP_NULL_POINTER, CMP_USAGE (empty secret).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_envelope_key_new_password(
    secret: *const u8,
    secret_len: usize,
    out: *mut *mut cmp_envelope_key,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: a buffer of `secret_len` bytes (contract).
        let secret = unsafe { in_bytes(secret, secret_len, "secret")? };
        if secret.is_empty() {
            return Err(Failure::Usage("the shared secret is empty"));
        }
        let key = Arc::new(EnvelopeKey::password(secret));
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_envelope_key { key }) }
    })
}

/// An envelope key from a private key (PKCS#8, SEC1 or PKCS#1; PEM or DER)
/// and its certificate (PEM or DER, exactly one), which names the
/// recipient. Both buffers are copied. On success `*out` owns a new
/// envelope key. Errors: CMP_NULL_POINTER, CMP_CRYPTO (not a usable key),
/// CMP_DECODE (certificate), CMP_USAGE (empty certificate).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_envelope_key_new_private_key(
    key: *const u8,
    key_len: usize,
    cert: *const u8,
    cert_len: usize,
    out: *mut *mut cmp_envelope_key,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: buffers of the given lengths (contract).
        let (key, cert) = unsafe {
            (
                in_bytes(key, key_len, "key")?,
                in_bytes(cert, cert_len, "cert")?,
            )
        };
        if cert.is_empty() {
            return Err(Failure::Usage("the certificate is empty"));
        }
        let key = Arc::new(EnvelopeKey::private_key(
            private_key_of(key)?,
            parse_cert(cert)?,
        ));
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_envelope_key { key }) }
    })
}

/// A software private key from PKCS#8, SEC1 or PKCS#1, PEM or DER.
pub(crate) fn private_key_of(bytes: &[u8]) -> Result<PrivateKey, Failure> {
    crate::pem_or_der(bytes, PrivateKey::from_pem, PrivateKey::from_der)
}

/// Free an envelope key; NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_envelope_key_free(key: *mut cmp_envelope_key) {
    guard_value((), || {
        // SAFETY: NULL or a handle from this library not yet freed.
        unsafe { free_handle(key) }
    });
}

/// Start an ir, cr, kur or ccr (`kind`, a cmp_enroll_kind) in which the
/// PKI generates the key (central key generation, RFC 9483 section 4.1.6).
///
/// `key_type` is the cmp_key_algorithm to ask for, or 0 to let the PKI
/// choose. `subject` is an RFC 4514 name, NULL only for a kur; `old_cert`
/// (PEM or DER) is required for a kur and ignored otherwise. `opener`
/// decrypts the delivered key (copied). At CMP_EVENT_CERTIFICATE_ISSUED,
/// CMP_OUTPUT_PRIVATE_KEY holds the key as PKCS#8 DER (load it with
/// cmp_signing_key_from_bytes); the library has checked the KGA's signature
/// on it and that it matches the certificate. Errors: CMP_NULL_POINTER,
/// CMP_USAGE (bad kind, key_type or subject, missing old_cert), CMP_DECODE,
/// CMP_CRYPTO, CMP_ENCODE.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn cmp_transaction_new_central_keygen(
    config: *const cmp_client_config,
    kind: u32,
    key_type: u32,
    subject: *const c_char,
    old_cert: *const u8,
    old_cert_len: usize,
    opener: *const cmp_envelope_key,
    now: u64,
    out: *mut *mut cmp_transaction,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: live handles or NULL; a buffer of `old_cert_len` bytes.
        let (config, opener, old) = unsafe {
            (
                in_ref(config, "config")?,
                in_ref(opener, "opener")?,
                in_bytes(old_cert, old_cert_len, "old_cert")?,
            )
        };
        let kind = enroll_kind(kind)?;
        let algorithm = match key_type {
            0 => None,
            t => Some(key_type_identifier(key_algorithm(t)?)),
        };
        // SAFETY: NULL or a NUL-terminated string (contract).
        let subject = unsafe { optional_name(subject)? };
        let request = EnrollRequest::central_keygen(kind, subject, algorithm, opener.key.clone());
        start_enroll(out, config, request, old, now)
    })
}

/// Start an ir, cr, kur or ccr (`kind`, a cmp_enroll_kind) for the software
/// key `new_key` (PKCS#8, SEC1 or PKCS#1; PEM or DER; copied), proven by
/// its signature as in cmp_transaction_new_enroll, and archive that key at
/// the CA (pkiArchiveOptions, RFC 4211 section 6.4) for a later
/// cmp_transaction_new_krr. The key travels encrypted: for `archive_cert`
/// (PEM or DER, exactly one: the CA's certificate; RSA: key transport, EC:
/// key agreement), or with NULL/0 under the MAC secret of `config`'s
/// credential (password-based).
///
/// `subject`, `old_cert` and `now` as for cmp_transaction_new_enroll.
/// Errors: CMP_NULL_POINTER, CMP_USAGE (bad kind or subject, missing
/// old_cert, no archive_cert with a signature credential), CMP_DECODE,
/// CMP_CRYPTO (not a usable key), CMP_BAD_REQUEST (archive_cert can neither
/// receive key transport nor agree keys), CMP_ENCODE.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn cmp_transaction_new_enroll_archived(
    config: *const cmp_client_config,
    kind: u32,
    new_key: *const u8,
    new_key_len: usize,
    archive_cert: *const u8,
    archive_cert_len: usize,
    subject: *const c_char,
    old_cert: *const u8,
    old_cert_len: usize,
    now: u64,
    out: *mut *mut cmp_transaction,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: a live handle or NULL; buffers of the given lengths.
        let (config, key, recipient_cert, old) = unsafe {
            (
                in_ref(config, "config")?,
                in_bytes(new_key, new_key_len, "new_key")?,
                in_bytes(archive_cert, archive_cert_len, "archive_cert")?,
                in_bytes(old_cert, old_cert_len, "old_cert")?,
            )
        };
        let kind = enroll_kind(kind)?;
        // SAFETY: NULL or a NUL-terminated string (contract).
        let subject = unsafe { optional_name(subject)? };
        let key = private_key_of(key)?;
        let recipient_cert = match recipient_cert {
            [] => None,
            der => Some(parse_cert(der)?),
        };
        let control = archive::client_control(
            &config.config,
            &key.to_pkcs8_der()?,
            recipient_cert.as_ref(),
        )?
        .ok_or(Failure::Usage(
            "archiving under a signature credential needs archive_cert",
        ))?;
        let mut request = EnrollRequest::new(kind, subject, Arc::new(key));
        request.controls.push(control);
        start_enroll(out, config, request, old, now)
    })
}

/// Start a key recovery request (krr) for the archived keys of `subject`
/// (an RFC 4514 name, or NULL to send none and let the PKI go by the
/// sender), decrypted with `opener` (copied), at `now` (Unix seconds).
///
/// The response gives CMP_EVENT_KEYS_RECOVERED and completes the
/// transaction; then CMP_OUTPUT_RECOVERED_CERT and CMP_OUTPUT_RECOVERED_KEY
/// hold the certificates and their PKCS#8 DER keys, same index for one
/// pair. Errors: CMP_NULL_POINTER, CMP_USAGE (bad subject), CMP_CRYPTO,
/// CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_transaction_new_krr(
    config: *const cmp_client_config,
    subject: *const c_char,
    opener: *const cmp_envelope_key,
    now: u64,
    out: *mut *mut cmp_transaction,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: live handles or NULL (contract).
        let (config, opener) = unsafe { (in_ref(config, "config")?, in_ref(opener, "opener")?) };
        // SAFETY: NULL or a NUL-terminated string (contract).
        let subject = unsafe { optional_name(subject)? };
        let request = KeyRecoveryRequest::new(subject, opener.key.clone());
        let tx = ClientTransaction::start_krr(
            config.config.clone(),
            &request,
            Timestamp::from_unix_secs(now),
        );
        finish_new(out, tx)
    })
}
