//! `cmp_client_config`: everything a transaction needs besides the request.

use std::ffi::c_char;
use std::sync::Arc;

use cmp_core::client::ClientConfig;
use cmp_core::trust::TrustStore;
use cmp_crypto_rustcrypto::RustCryptoProvider;
use x509_cert::Certificate;

use crate::credential::cmp_credential;
use crate::error::{Failure, cmp_result, guard, guard_value};
use crate::{
    free_handle, in_bytes, in_mut, in_ref, in_str, out_handle, out_handle_clear, parse_certs,
};

/// A client configuration: credentials, the server's trust anchors, and
/// limits. Made by cmp_client_config_new, changed by the
/// cmp_client_config_set_* / _add_* functions, freed by
/// cmp_client_config_free. A transaction takes a snapshot when it starts,
/// so the configuration may be changed or freed while transactions run.
pub struct cmp_client_config {
    pub(crate) config: ClientConfig,
}

/// A configuration with RFC 9483 defaults around `credential` (copied; a
/// KEM-based MAC credential also fixes the transactionID or the first
/// request's generalInfo, so its configuration serves one transaction):
/// responses must be protected (MAC responses are checked with the
/// credential's secret; signed responses need trust anchors, see
/// cmp_client_config_add_trust_anchors), messageTime may be off by at most
/// 600 s, explicit confirmation, no overall deadline, messages up to 1 MiB.
///
/// On success `*out` owns a new configuration (free with
/// cmp_client_config_free). Errors: CMP_NULL_POINTER.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_new(
    credential: *const cmp_credential,
    out: *mut *mut cmp_client_config,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: NULL or a live credential handle (contract).
        let credential = unsafe { in_ref(credential, "credential")? };
        let mut config =
            ClientConfig::new(Arc::new(RustCryptoProvider), credential.protector.clone());
        config.transaction_id = credential.transaction_id.clone();
        config.first_general_info = credential.general_info.clone();
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_client_config { config }) }
    })
}

/// Add trust anchors (PEM, or concatenated DER; copied) for signed
/// responses. Errors: CMP_NULL_POINTER, CMP_DECODE, CMP_USAGE (empty or
/// over 64 certificates).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_add_trust_anchors(
    config: *mut cmp_client_config,
    certs: *const u8,
    len: usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle; a buffer of `len` bytes.
        let (config, bytes) =
            unsafe { (in_mut(config, "config")?, in_bytes(certs, len, "certs")?) };
        let certs = parse_certs(bytes)?;
        let store = config
            .config
            .server_trust
            .get_or_insert_with(|| TrustStore::new(Vec::new()));
        for c in certs {
            store.add_anchor(c);
        }
        Ok(())
    })
}

/// Add untrusted intermediate certificates (PEM or concatenated DER;
/// copied) used to build the server's chain. Errors: as
/// cmp_client_config_add_trust_anchors.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_add_untrusted(
    config: *mut cmp_client_config,
    certs: *const u8,
    len: usize,
) -> cmp_result {
    // SAFETY: forwarded under this function's contract.
    unsafe {
        add_certs(config, certs, len, "too many untrusted certificates", |c| {
            &mut c.untrusted
        })
    }
}

/// Add certificates (PEM or concatenated DER; copied) to send in the
/// extraCerts of every request, after those of a signature credential:
/// for a genm of CMP_GENM_KEM_CIPHERTEXT, our KEM certificate first, then
/// its intermediates. Errors: as cmp_client_config_add_trust_anchors.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_add_extra_certs(
    config: *mut cmp_client_config,
    certs: *const u8,
    len: usize,
) -> cmp_result {
    // SAFETY: forwarded under this function's contract.
    unsafe {
        add_certs(config, certs, len, "too many extra certificates", |c| {
            &mut c.extra_certs
        })
    }
}

/// Append the certificates of `certs` (PEM or concatenated DER) to the list
/// `list` picks, at most MAX_INPUT_CERTS in all.
///
/// # Safety
/// `config` is NULL or a live, unaliased handle; `certs` holds `len` bytes.
unsafe fn add_certs(
    config: *mut cmp_client_config,
    certs: *const u8,
    len: usize,
    too_many: &'static str,
    list: fn(&mut ClientConfig) -> &mut Vec<Certificate>,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle; a buffer of `len` bytes.
        let (config, bytes) =
            unsafe { (in_mut(config, "config")?, in_bytes(certs, len, "certs")?) };
        let certs = parse_certs(bytes)?;
        let list = list(&mut config.config);
        if list.len().saturating_add(certs.len()) > crate::MAX_INPUT_CERTS {
            return Err(Failure::Usage(too_many));
        }
        list.extend(certs);
        Ok(())
    })
}

/// Set the recipient name (the CA), an RFC 4514 string such as
/// "CN=Issuing CA,O=Example"; NULL resets to the default (NULL-DN). The
/// string is only read during the call.
/// Errors: CMP_NULL_POINTER (`config`), CMP_USAGE (not a valid name).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_set_recipient(
    config: *mut cmp_client_config,
    name: *const c_char,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle (contract).
        let config = unsafe { in_mut(config, "config")? };
        config.config.recipient = if name.is_null() {
            None
        } else {
            // SAFETY: a NUL-terminated string (contract).
            let text = unsafe { in_str(name, "name")? };
            Some(
                cmp_core::name::parse_dn(text)
                    .map_err(|_| Failure::Usage("not a distinguished name"))?,
            )
        };
        Ok(())
    })
}

/// Ask for implicit confirmation (`enable` non-zero): if the server grants
/// it, no certConf/pkiConf round trip follows an issued certificate.
/// Errors: CMP_NULL_POINTER.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_set_implicit_confirm(
    config: *mut cmp_client_config,
    enable: bool,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle (contract).
        unsafe { in_mut(config, "config")? }.config.implicit_confirm = enable;
        Ok(())
    })
}

/// Largest accepted difference between a response's messageTime and `now`,
/// in seconds; 0 disables the check (for devices without a real-time clock).
/// Errors: CMP_NULL_POINTER.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_set_max_time_skew(
    config: *mut cmp_client_config,
    seconds: u64,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle (contract).
        unsafe { in_mut(config, "config")? }.config.max_time_skew =
            (seconds != 0).then_some(seconds);
        Ok(())
    })
}

/// Give up (CMP_TIMEOUT) when a transaction takes longer than `seconds` in
/// total, counted from its start; 0 means no deadline.
/// Errors: CMP_NULL_POINTER.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_set_total_timeout(
    config: *mut cmp_client_config,
    seconds: u64,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle (contract).
        unsafe { in_mut(config, "config")? }.config.total_timeout =
            (seconds != 0).then_some(seconds);
        Ok(())
    })
}

/// Largest accepted response in bytes (default 1 MiB; minimum 256). This
/// bounds the memory one response can take.
/// Errors: CMP_NULL_POINTER, CMP_USAGE (below 256).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_set_max_message_size(
    config: *mut cmp_client_config,
    bytes: usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live, unaliased handle (contract).
        let config = unsafe { in_mut(config, "config")? };
        if bytes < 256 {
            return Err(Failure::Usage("maximum message size below 256 bytes"));
        }
        config.config.limits.max_message_size = bytes;
        Ok(())
    })
}

/// Free a configuration; NULL is ignored. Running transactions are not
/// affected.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_client_config_free(config: *mut cmp_client_config) {
    guard_value((), || {
        // SAFETY: NULL or a handle from this library not yet freed.
        unsafe { free_handle(config) }
    });
}
