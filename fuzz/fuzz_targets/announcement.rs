//! Announcement validation (ckuann, cann, rann, crlann): any bytes give an
//! `Announcement` or an `AnnounceError`, never a panic; what is accepted
//! really is signed by a signer of the test PKI, and a root key update
//! accepted names the trusted root as the old one.
#![no_main]

use std::sync::OnceLock;

use cmp_core::announce::{Announcement, AnnouncementValidator};
use cmp_core::trust::TrustStore;
use cmp_fuzz::{FuzzProvider, fuzz_limits, now, pki};
use libfuzzer_sys::fuzz_target;

fn validator() -> &'static AnnouncementValidator {
    static V: OnceLock<AnnouncementValidator> = OnceLock::new();
    V.get_or_init(|| {
        let p = pki();
        let mut v =
            AnnouncementValidator::new(FuzzProvider::arc(), TrustStore::new(vec![p.root.clone()]));
        v.untrusted = vec![p.ca.clone()];
        v.secret = Some(b"1234-5678".to_vec());
        v.limits = fuzz_limits();
        // seeds carry the real time of their making, not the fixed `now`
        v.max_time_skew = None;
        v
    })
}

fuzz_target!(|data: &[u8]| {
    // a month after the test PKI's start: the new roots of the seeds (made
    // after the PKI, valid for ten years) are valid then, and so is the PKI
    let at = now().plus_secs(30 * 86_400);
    let result = validator().validate(data, at);
    match result {
        Ok(Announcement::RootKeyUpdate(u)) => {
            assert_eq!(
                u.old_root,
                pki().root,
                "a root update must replace the anchor"
            );
            assert_ne!(
                u.new_root.tbs_certificate().subject_public_key_info(),
                u.old_root.tbs_certificate().subject_public_key_info()
            );
        }
        Ok(_) => {}
        Err(e) => {
            assert!(!e.name().is_empty());
            assert!(!e.to_string().is_empty());
        }
    }
});
