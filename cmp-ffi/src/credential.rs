//! `cmp_credential`: how our requests are protected.

use cmp_core::asn1::InfoTypeAndValue;
use cmp_core::protection::{MacScheme, Protector};

use crate::error::{Failure, cmp_result, guard, guard_value};
use crate::key::cmp_signing_key;
use crate::{free_handle, in_bytes, in_ref, out_handle, out_handle_clear, parse_cert, parse_certs};

/// Credentials that protect requests: a shared secret (MAC), a signing
/// key with its certificate, or a KEM-based MAC key. Made by
/// cmp_credential_new_mac, cmp_credential_new_signature,
/// cmp_credential_new_kem_mac or cmp_credential_new_kem_to_server, freed
/// by cmp_credential_free. A client configuration copies what it needs, so
/// the credential may be freed right after cmp_client_config_new.
pub struct cmp_credential {
    pub(crate) protector: Protector,
    /// The transaction a KEM-based MAC key belongs to (the genm's).
    pub(crate) transaction_id: Option<Vec<u8>>,
    /// generalInfo of the first request (the KEM ciphertext to the server).
    pub(crate) general_info: Vec<InfoTypeAndValue>,
}

impl cmp_credential {
    fn new(protector: Protector) -> Self {
        Self {
            protector,
            transaction_id: None,
            general_info: Vec::new(),
        }
    }
}

/// A shared-secret credential: PasswordBasedMac with SHA-256 and HMAC-SHA256
/// (10,000 iterations, RFC 9481), `reference` sent as senderKID.
///
/// Both buffers are copied. Responses are verified with the same secret.
/// On success `*out` owns a new credential (free with cmp_credential_free).
/// Errors: CMP_NULL_POINTER, CMP_USAGE (empty secret).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_credential_new_mac(
    reference: *const u8,
    reference_len: usize,
    secret: *const u8,
    secret_len: usize,
    out: *mut *mut cmp_credential,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: the buffers hold the given lengths (contract).
        let (reference, secret) = unsafe {
            (
                in_bytes(reference, reference_len, "reference")?,
                in_bytes(secret, secret_len, "secret")?,
            )
        };
        if secret.is_empty() {
            return Err(Failure::Usage("the shared secret is empty"));
        }
        let protector = Protector::Mac {
            reference: reference.to_vec(),
            secret: secret.to_vec(),
            scheme: MacScheme::PBM_SHA256,
        };
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_credential::new(protector)) }
    })
}

/// A signature credential: `key` signs, `cert` (PEM or DER, exactly one
/// certificate) is its certificate, whose subject becomes the sender, and
/// `chain` (PEM or concatenated DER, may be empty: NULL/0) are the
/// intermediates sent after it in extraCerts, issuer first.
///
/// The key is shared (the credential keeps its own reference; the caller
/// still frees its handle); the buffers are copied.
/// On success `*out` owns a new credential (free with cmp_credential_free).
/// Errors: CMP_NULL_POINTER, CMP_DECODE (a certificate does not parse),
/// CMP_USAGE (not exactly one certificate in `cert`, or over 64 in `chain`).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_credential_new_signature(
    key: *const cmp_signing_key,
    cert: *const u8,
    cert_len: usize,
    chain: *const u8,
    chain_len: usize,
    out: *mut *mut cmp_credential,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: a live key handle or NULL, and buffers of the given lengths.
        let (key, cert, chain) = unsafe {
            (
                in_ref(key, "key")?,
                in_bytes(cert, cert_len, "cert")?,
                in_bytes(chain, chain_len, "chain")?,
            )
        };
        if cert.is_empty() {
            return Err(Failure::Usage("the certificate is empty"));
        }
        let cert = parse_cert(cert)?;
        let chain = if chain.is_empty() {
            Vec::new()
        } else {
            parse_certs(chain)?
        };
        let protector = Protector::Signature {
            key: key.key.clone(),
            cert,
            chain,
        };
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_credential::new(protector)) }
    })
}

/// Free a credential; NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_credential_free(credential: *mut cmp_credential) {
    guard_value((), || {
        // SAFETY: NULL or a handle from this library not yet freed.
        unsafe { free_handle(credential) }
    });
}
