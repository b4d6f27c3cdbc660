//! ML-KEM (RFC 9810): `cmp_kem_key`, a certificate for a KEM key (proof of
//! possession by an encrypted certificate), and the KEM-based MAC with our
//! KEM key or the server's.

use std::ffi::c_char;
use std::sync::Arc;

use cmp_core::asn1::InfoTypeAndValue;
use cmp_core::client::{EnrollRequest, PopMethod};
use cmp_core::crypto::{DecapsulationKey, KemAlgorithm};
use cmp_core::{Error, kem};
use cmp_crypto_rustcrypto::{KemPrivateKey, RustCryptoProvider};
use der::{Decode, Encode};

use crate::config::cmp_client_config;
use crate::credential::cmp_credential;
use crate::error::{Failure, cmp_result, guard, guard_value};
use crate::transaction::{cmp_transaction, enroll_kind, optional_name, start_enroll};
use crate::{
    free_handle, in_bytes, in_mut, in_ref, out_bytes, out_handle, out_handle_clear, parse_cert,
};

/// An ML-KEM private key (FIPS 203): certified with
/// cmp_transaction_new_kem_enroll, then used to protect requests with the
/// KEM-based MAC (cmp_credential_new_kem_mac). Made by
/// cmp_kem_key_generate or cmp_kem_key_from_bytes, freed by
/// cmp_kem_key_free. Objects that use the key keep their own reference.
/// Needs the cargo feature `ml-kem` (on by default); without it every
/// constructor fails with CMP_CRYPTO.
pub struct cmp_kem_key {
    key: Arc<KemPrivateKey>,
}

/// Parameter sets for cmp_kem_key_generate.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_kem_algorithm {
    /// ML-KEM-512.
    CMP_KEM_ML_KEM_512 = 1,
    /// ML-KEM-768 (the usual choice).
    CMP_KEM_ML_KEM_768 = 2,
    /// ML-KEM-1024.
    CMP_KEM_ML_KEM_1024 = 3,
}

/// How cmp_transaction_new_kem_enroll proves possession of the KEM key.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_kem_pop {
    /// The certificate comes back encrypted to the key; the certConf's hash
    /// of the decrypted certificate is the proof (RFC 9810 section 5.2.8.3).
    CMP_KEM_POP_ENCRYPTED_CERT = 0,
    /// The CA first sends a challenge (popdecc) encrypted to the key; the
    /// decrypted number goes back in a popdecr, then the certificate comes
    /// in the clear (RFC 9810 section 5.2.8.3).
    CMP_KEM_POP_CHALLENGE_RESPONSE = 1,
}

fn kem_algorithm(value: u32) -> Result<KemAlgorithm, Failure> {
    Ok(match value {
        1 => KemAlgorithm::MlKem512,
        2 => KemAlgorithm::MlKem768,
        3 => KemAlgorithm::MlKem1024,
        _ => return Err(Failure::Usage("unknown cmp_kem_algorithm")),
    })
}

/// Generate an ML-KEM key pair (`algorithm`, a cmp_kem_algorithm) with the
/// operating system's random generator. On success `*out` owns a new key.
/// Errors: CMP_NULL_POINTER, CMP_USAGE (unknown algorithm), CMP_CRYPTO.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_kem_key_generate(algorithm: u32, out: *mut *mut cmp_kem_key) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        let key = Arc::new(KemPrivateKey::generate(kem_algorithm(algorithm)?)?);
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_kem_key { key }) }
    })
}

/// Load an ML-KEM private key from PKCS#8 (RFC 9935 forms: seed, expanded
/// key, or both), PEM or DER; `data` is copied. On success `*out` owns a
/// new key. Errors: CMP_NULL_POINTER, CMP_CRYPTO (not an ML-KEM key).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_kem_key_from_bytes(
    data: *const u8,
    len: usize,
    out: *mut *mut cmp_kem_key,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: `data` points to `len` bytes (contract).
        let bytes = unsafe { in_bytes(data, len, "data")? };
        let key = crate::pem_or_der(
            bytes,
            KemPrivateKey::from_pem,
            KemPrivateKey::from_pkcs8_der,
        )?;
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_kem_key { key: Arc::new(key) }) }
    })
}

/// Copy the private key as PKCS#8 DER (the seed form) into `buf` by the
/// output-buffer convention; the caller should wipe it after use.
/// Errors: CMP_NULL_POINTER, CMP_BUFFER_TOO_SMALL, CMP_CRYPTO.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_kem_key_to_pkcs8(
    key: *const cmp_kem_key,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live key handle (contract).
        let key = unsafe { in_ref(key, "key")? };
        let der = key.key.to_pkcs8_der()?;
        // SAFETY: `buf`/`cap`/`len` follow the output-buffer convention.
        unsafe { out_bytes(&der, buf, cap, len) }
    })
}

/// Copy the public key (DER SubjectPublicKeyInfo) into `buf` by the
/// output-buffer convention.
/// Errors: CMP_NULL_POINTER, CMP_BUFFER_TOO_SMALL, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_kem_key_public_key(
    key: *const cmp_kem_key,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live key handle (contract).
        let key = unsafe { in_ref(key, "key")? };
        let der = key.key.public_key().to_der().map_err(Error::Encode)?;
        // SAFETY: `buf`/`cap`/`len` follow the output-buffer convention.
        unsafe { out_bytes(&der, buf, cap, len) }
    })
}

/// Free a KEM key; NULL is ignored. Objects that were given the key keep
/// working.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_kem_key_free(key: *mut cmp_kem_key) {
    guard_value((), || {
        // SAFETY: NULL or a handle from this library not yet freed.
        unsafe { free_handle(key) }
    });
}

/// Start an ir, cr, kur or ccr (`kind`, a cmp_enroll_kind) that certifies
/// the KEM key `kem_key`. A KEM key cannot sign, so possession is proven
/// indirectly (RFC 9810 section 5.2.8.3; requests with pvno 3), by `pop`
/// (a cmp_kem_pop): the certificate comes back encrypted to the key and
/// the certConf's hash shows we could decrypt it, or the CA's popdecc
/// challenge is decrypted and answered (the transaction sends the popdecr
/// by itself: the event is CMP_EVENT_CONTINUE).
///
/// `subject`, `old_cert` and `now` as for cmp_transaction_new_enroll. At
/// CMP_EVENT_CERTIFICATE_ISSUED the certificate in CMP_OUTPUT_CERTIFICATE
/// has been decrypted and checked to certify `kem_key`.
/// Errors: CMP_NULL_POINTER, CMP_USAGE (bad kind, pop or subject, missing
/// old_cert), CMP_DECODE (old_cert), CMP_CRYPTO, CMP_ENCODE.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn cmp_transaction_new_kem_enroll(
    config: *const cmp_client_config,
    kind: u32,
    kem_key: *const cmp_kem_key,
    pop: u32,
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
                in_ref(kem_key, "kem_key")?,
                in_bytes(old_cert, old_cert_len, "old_cert")?,
            )
        };
        let kind = enroll_kind(kind)?;
        // SAFETY: NULL or a NUL-terminated string (contract).
        let subject = unsafe { optional_name(subject)? };
        let request = EnrollRequest {
            kind,
            subject,
            extensions: Vec::new(),
            pop: match pop {
                0 => PopMethod::EncryptedCert(key.key.clone()),
                1 => PopMethod::ChallengeResponse(key.key.clone()),
                _ => return Err(Failure::Usage("unknown cmp_kem_pop")),
            },
            old_cert: None,
            controls: Vec::new(),
            cert_req_id: 0,
        };
        start_enroll(out, config, request, old, now)
    })
}

/// A KEM-based MAC credential (RFC 9810 section 5.1.3.4) for the holder of
/// a certified KEM key. First run a genm of CMP_GENM_KEM_CIPHERTEXT with
/// the KEM certificate first in the extraCerts
/// (cmp_client_config_add_extra_certs) until CMP_EVENT_GENERAL_RESPONSE;
/// then this decapsulates the ciphertext of that genp (`genm`) with
/// `kem_key` and makes a credential whose MAC key derives from the shared
/// secret. `reference` (may be empty) is sent as senderKID.
///
/// The credential continues the genm's transaction: a configuration made
/// from it sends that transactionID and serves exactly one transaction
/// (a second one is refused by the server as transactionIdInUse). A wrong
/// key is not detected here (ML-KEM's implicit rejection gives another
/// secret): the server then refuses the request with badMessageCheck.
/// Errors: CMP_NULL_POINTER, CMP_USAGE (`genm` has no general response),
/// CMP_INCORRECT_DATA (no KemCiphertextInfo in it, or one for another
/// ML-KEM parameter set than the key's), CMP_DECODE,
/// CMP_UNSUPPORTED_ALGORITHM, CMP_CRYPTO.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_credential_new_kem_mac(
    genm: *const cmp_transaction,
    kem_key: *const cmp_kem_key,
    reference: *const u8,
    reference_len: usize,
    out: *mut *mut cmp_credential,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: live handles or NULL; a buffer of `reference_len` bytes.
        let (genm, key, reference) = unsafe {
            (
                in_ref(genm, "genm")?,
                in_ref(kem_key, "kem_key")?,
                in_bytes(reference, reference_len, "reference")?,
            )
        };
        if genm.genp.is_empty() {
            return Err(Failure::Usage(
                "the genm transaction has no general response yet",
            ));
        }
        let genp = genm
            .genp
            .iter()
            .map(|der| InfoTypeAndValue::from_der(der).map_err(Error::Decode))
            .collect::<Result<Vec<_>, _>>()?;
        let protector = kem::client_protector(&genp, key.key.as_ref(), reference)?;
        let credential = cmp_credential {
            protector,
            transaction_id: Some(genm.tx.transaction_id().to_vec()),
            general_info: Vec::new(),
        };
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, credential) }
    })
}

/// A fresh shared secret encapsulated to the ML-KEM public key of the DER
/// or PEM certificate `cert`: the KemCiphertextInfo to send and the secret.
fn encapsulate_to_cert(cert: &[u8]) -> Result<(InfoTypeAndValue, Vec<u8>), Failure> {
    if cert.is_empty() {
        return Err(Failure::Usage("the certificate is empty"));
    }
    let cert = parse_cert(cert)?;
    Ok(kem::encapsulate_to(
        cert.tbs_certificate().subject_public_key_info(),
        &RustCryptoProvider,
    )?)
}

/// Authenticate the server by its KEM key: encapsulate a fresh shared
/// secret to the ML-KEM public key of `server_cert` (PEM or DER, exactly
/// one; the caller must already trust it) and send the ciphertext in the
/// generalInfo of the first request. The requests keep the protection of
/// the configuration's credential (MAC or signature); the server's
/// responses must carry the KEM-based MAC of that secret, which only the
/// holder of the certified key can compute (RFC 9810 section 5.1.3.4).
///
/// The secret belongs to one transaction: call this again before the
/// next one (each call replaces the previous ciphertext and secret).
/// Errors: CMP_NULL_POINTER, CMP_USAGE (empty certificate), CMP_DECODE,
/// CMP_UNSUPPORTED_ALGORITHM (not an ML-KEM key), CMP_CRYPTO, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_encapsulate_to_server(
    config: *mut cmp_client_config,
    server_cert: *const u8,
    server_cert_len: usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle; a buffer of the length.
        let (config, cert) = unsafe {
            (
                in_mut(config, "config")?,
                in_bytes(server_cert, server_cert_len, "server_cert")?,
            )
        };
        let (itav, secret) = encapsulate_to_cert(cert)?;
        config.config.first_general_info = vec![itav];
        config.config.response_secret = Some(secret);
        Ok(())
    })
}

/// A credential that protects requests with the KEM-based MAC of a secret
/// encapsulated to the server's KEM certificate (as
/// cmp_client_config_encapsulate_to_server, but the requests too carry
/// that MAC). Such requests authenticate the server to us, but not us to
/// the server (anyone can encapsulate to a public key): only a server that
/// accepts anonymous requests answers them; the reference CA (`cmp serve
/// --kem-key`) refuses them with notAuthorized. `reference` (may be empty)
/// is sent as senderKID. One credential serves one transaction.
/// Errors: as cmp_client_config_encapsulate_to_server.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_credential_new_kem_to_server(
    server_cert: *const u8,
    server_cert_len: usize,
    reference: *const u8,
    reference_len: usize,
    out: *mut *mut cmp_credential,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: buffers of the given lengths (contract).
        let (cert, reference) = unsafe {
            (
                in_bytes(server_cert, server_cert_len, "server_cert")?,
                in_bytes(reference, reference_len, "reference")?,
            )
        };
        let (itav, secret) = encapsulate_to_cert(cert)?;
        let credential = cmp_credential {
            protector: kem::mac_protector(secret, reference),
            transaction_id: None,
            general_info: vec![itav],
        };
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, credential) }
    })
}
