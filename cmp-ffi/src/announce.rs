//! CA announcements on the end-entity side: `cmp_announcement`, a
//! validated ckuann, cann, rann or crlann (RFC 9810 section 5.3.13-16).

use cmp_core::Timestamp;
use cmp_core::announce::{Announcement, AnnouncementValidator};
use der::Encode;

use crate::config::cmp_client_config;
use crate::error::{Failure, cmp_result, guard, guard_value};
use crate::{free_handle, in_bytes, in_ref, out_bytes, out_handle, out_handle_clear, out_value};

/// What a validated announcement announces.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_announcement_type {
    /// ckuann: a root CA key update; install CMP_ANNOUNCED_NEW_ROOT as a
    /// trust anchor.
    CMP_ANNOUNCEMENT_ROOT_KEY_UPDATE = 0,
    /// cann: a certificate was issued (CMP_ANNOUNCED_CERTIFICATE).
    CMP_ANNOUNCEMENT_CERTIFICATE = 1,
    /// rann: a certificate is or will be revoked
    /// (cmp_announcement_revocation).
    CMP_ANNOUNCEMENT_REVOCATION = 2,
    /// crlann: new CRLs (CMP_ANNOUNCED_CRL).
    CMP_ANNOUNCEMENT_CRL = 3,
}

/// The DER outputs of an announcement, for cmp_announcement_output.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_announced {
    /// ckuann: the trust anchor being replaced.
    CMP_ANNOUNCED_OLD_ROOT = 0,
    /// ckuann: the new root certificate (newWithNew).
    CMP_ANNOUNCED_NEW_ROOT = 1,
    /// ckuann: the new key certified with the old one (newWithOld).
    CMP_ANNOUNCED_NEW_WITH_OLD = 2,
    /// ckuann: the old key certified with the new one (oldWithNew), if sent.
    CMP_ANNOUNCED_OLD_WITH_NEW = 3,
    /// cann: the announced certificate.
    CMP_ANNOUNCED_CERTIFICATE = 4,
    /// cann: its validated path, leaf first, anchor last.
    CMP_ANNOUNCED_PATH = 5,
    /// crlann: the CRLs (CertificateList DER each).
    CMP_ANNOUNCED_CRL = 6,
    /// rann: the serial number of the certificate (big-endian bytes of the
    /// DER INTEGER content).
    CMP_ANNOUNCED_SERIAL = 7,
}

/// A validated announcement. Made by cmp_announcement_validate, freed by
/// cmp_announcement_free.
pub struct cmp_announcement {
    inner: Announcement,
}

/// Check the announcement message `msg` (DER PKIMessage) at `now` (Unix
/// seconds) with the trust anchors, untrusted certificates, maximum time
/// skew and limits of `config`: its signature must chain to a trust
/// anchor, and what it announces must pass the checks of its type
/// (RFC 9810 section 4.4 for a root key update). MAC-protected
/// announcements are not accepted. On success `*out` owns the result.
/// Errors: CMP_NULL_POINTER, CMP_USAGE (no trust anchors in `config`),
/// CMP_NOT_AN_ANNOUNCEMENT and the other codes 600-616, and the codes of
/// the message checks (CMP_DECODE, CMP_BAD_PROTECTION, ...).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_announcement_validate(
    config: *const cmp_client_config,
    msg: *const u8,
    msg_len: usize,
    now: u64,
    out: *mut *mut cmp_announcement,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract).
        unsafe { out_handle_clear(out)? };
        // SAFETY: a live handle or NULL; a buffer of `msg_len` bytes.
        let (config, msg) = unsafe { (in_ref(config, "config")?, in_bytes(msg, msg_len, "msg")?) };
        let c = &config.config;
        let trust = c.server_trust.clone().ok_or(Failure::Usage(
            "announcements need trust anchors in the configuration",
        ))?;
        let mut validator = AnnouncementValidator::new(c.provider.clone(), trust);
        validator.untrusted = c.untrusted.clone();
        validator.max_time_skew = c.max_time_skew;
        validator.limits = c.limits;
        let inner = validator.validate(msg, Timestamp::from_unix_secs(now))?;
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_announcement { inner }) }
    })
}

/// The type of a validated announcement (a cmp_announcement_type) in
/// `*type`. Errors: CMP_NULL_POINTER.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_announcement_get_type(
    a: *const cmp_announcement,
    r#type: *mut u32,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let a = unsafe { in_ref(a, "a")? };
        let t = match &a.inner {
            Announcement::RootKeyUpdate(_) => {
                cmp_announcement_type::CMP_ANNOUNCEMENT_ROOT_KEY_UPDATE
            }
            Announcement::CertificateAnnounced { .. } => {
                cmp_announcement_type::CMP_ANNOUNCEMENT_CERTIFICATE
            }
            Announcement::RevocationAnnounced { .. } => {
                cmp_announcement_type::CMP_ANNOUNCEMENT_REVOCATION
            }
            Announcement::CrlAnnounced(_) => cmp_announcement_type::CMP_ANNOUNCEMENT_CRL,
        };
        // SAFETY: NULL-checked by out_value; writable by contract.
        unsafe { out_value(r#type, t as u32, "type") }
    })
}

/// DER of one value.
fn der<T: Encode>(value: &T) -> Result<Vec<u8>, Failure> {
    Ok(value.to_der().map_err(cmp_core::Error::Encode)?)
}

/// The DER items of output `which` (a cmp_announced) of this announcement.
fn items(a: &cmp_announcement, which: u32) -> Result<Vec<Vec<u8>>, Failure> {
    let mut out = Vec::new();
    match (&a.inner, which) {
        (Announcement::RootKeyUpdate(u), 0) => out.push(der(&u.old_root)?),
        (Announcement::RootKeyUpdate(u), 1) => out.push(der(&u.new_root)?),
        (Announcement::RootKeyUpdate(u), 2) => out.push(der(&u.new_with_old)?),
        (Announcement::RootKeyUpdate(u), 3) => {
            if let Some(c) = &u.old_with_new {
                out.push(der(c)?);
            }
        }
        (Announcement::CertificateAnnounced { cert, .. }, 4) => out.push(der(cert)?),
        (Announcement::CertificateAnnounced { path, .. }, 5) => {
            for c in path {
                out.push(der(c)?);
            }
        }
        (Announcement::CrlAnnounced(crls), 6) => {
            for c in crls {
                out.push(der(c)?);
            }
        }
        (Announcement::RevocationAnnounced { cert_id, .. }, 7) => {
            out.push(cert_id.serial_number.as_bytes().to_vec());
        }
        (_, 0..=7) => {}
        _ => return Err(Failure::Usage("unknown cmp_announced")),
    }
    Ok(out)
}

/// How many items output `which` (a cmp_announced) holds: 0 for an output
/// of another announcement type. Errors: CMP_NULL_POINTER, CMP_USAGE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_announcement_output_count(
    a: *const cmp_announcement,
    which: u32,
    count: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let a = unsafe { in_ref(a, "a")? };
        let n = items(a, which)?.len();
        // SAFETY: NULL-checked by out_value; writable by contract.
        unsafe { out_value(count, n, "count") }
    })
}

/// Copy item `index` of output `which` (a cmp_announced) into `buf` by the
/// output-buffer convention. Errors: CMP_NULL_POINTER, CMP_USAGE (bad
/// `which`, `index` out of range), CMP_BUFFER_TOO_SMALL, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_announcement_output(
    a: *const cmp_announcement,
    which: u32,
    index: usize,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let a = unsafe { in_ref(a, "a")? };
        let list = items(a, which)?;
        let item = list
            .get(index)
            .ok_or(Failure::Usage("index out of range"))?;
        // SAFETY: output-buffer convention (contract).
        unsafe { out_bytes(item, buf, cap, len) }
    })
}

/// For a rann: the PKIStatus (`*status`: 4 revocationWarning, 5
/// revocationNotification), when the revocation takes effect and since
/// when the certificate is considered bad (Unix seconds). Any output
/// pointer may be NULL. Errors: CMP_NULL_POINTER (`a`), CMP_USAGE (not a
/// rann).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_announcement_revocation(
    a: *const cmp_announcement,
    status: *mut i32,
    will_be_revoked_at: *mut u64,
    bad_since: *mut u64,
) -> cmp_result {
    guard(|| {
        // SAFETY: NULL or a live handle (contract).
        let a = unsafe { in_ref(a, "a")? };
        let Announcement::RevocationAnnounced {
            status: s,
            will_be_revoked_at: at,
            bad_since: since,
            ..
        } = &a.inner
        else {
            return Err(Failure::Usage("not a revocation announcement"));
        };
        // SAFETY: each pointer is checked for NULL here and writable by contract.
        unsafe {
            if !status.is_null() {
                out_value(status, *s as i32, "status")?;
            }
            if !will_be_revoked_at.is_null() {
                out_value(will_be_revoked_at, at.unix_secs(), "will_be_revoked_at")?;
            }
            if !bad_since.is_null() {
                out_value(bad_since, since.unix_secs(), "bad_since")?;
            }
        }
        Ok(())
    })
}

/// Free an announcement; NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_announcement_free(a: *mut cmp_announcement) {
    guard_value((), || {
        // SAFETY: NULL or a handle from this library not yet freed.
        unsafe { free_handle(a) }
    });
}
