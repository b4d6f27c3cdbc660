//! Protection checks on arbitrary messages: MAC with the known secret
//! (iteration counts capped low for speed), the signature with the signer
//! certificate found in extraCerts, and full authentication (path
//! validation to root.crt).
#![no_main]

use cmp_core::Limits;
use cmp_core::message::ParsedMessage;
use cmp_core::protection::{
    find_signer_cert, protection_kind, verify_mac, verify_signature_with_cert,
};
use cmp_core::trust::TrustStore;
use cmp_core::verify::{ProtectionPolicy, authenticate, check_message_time};
use cmp_crypto_rustcrypto::RustCryptoProvider;
use cmp_fuzz::{SECRET, now, pki};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    max_pbm_iterations: 1000,
    max_pbkdf2_iterations: 1000,
    ..Limits::DEFAULT
};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = ParsedMessage::decode(data, &Limits::DEFAULT) else {
        return;
    };
    let provider = RustCryptoProvider;
    let _ = protection_kind(&msg);
    let _ = verify_mac(&msg, SECRET, &provider, &LIMITS);
    let _ = verify_mac(&msg, b"", &provider, &LIMITS);
    if let Some(cert) = find_signer_cert(&msg) {
        let _ = verify_signature_with_cert(&msg, cert, &provider);
    }
    let store = TrustStore::new(vec![pki().root.clone()]);
    let policy = ProtectionPolicy {
        secret: Some(SECRET),
        trust: Some(&store),
        untrusted: &[],
        accept_unprotected: false,
    };
    let _ = authenticate(&msg, &policy, now(), &provider, &LIMITS);
    let _ = check_message_time(&msg, now(), Some(600));
});
