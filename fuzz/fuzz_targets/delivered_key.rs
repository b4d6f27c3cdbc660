//! Opening delivered private keys (central key generation, key recovery)
//! from arbitrary bytes: an EnvelopedData (bare or in a ContentInfo) opened
//! with the shared secret (PWRI) and with the EE's EC key (KARI), the key
//! package inside verified, and any SignedData verified as a key package.
#![no_main]

use cmp_core::crypto::EnvelopeOpener;
use cmp_core::keygen::{open_key_package, verify_key_package};
use cmp_crypto_rustcrypto::{EnvelopeKey, PrivateKey, RustCryptoProvider};
use cmp_fuzz::{SECRET, pki};
use cms::content_info::ContentInfo;
use cms::enveloped_data::EnvelopedData;
use cms::signed_data::SignedData;
use der::Decode;
use libfuzzer_sys::fuzz_target;

const EE_KEY: &str = include_str!("../../tests/vectors/pki/ee.key");

fuzz_target!(|data: &[u8]| {
    let provider = RustCryptoProvider;
    // A ContentInfo (what `openssl cms` writes) or the bare structure.
    let unwrapped = ContentInfo::from_der(data)
        .ok()
        .and_then(|c| der::Encode::to_der(&c.content).ok());
    let candidate = unwrapped.as_deref().unwrap_or(data);
    if let Ok(env) = EnvelopedData::from_der(candidate) {
        let password = EnvelopeKey::password(SECRET);
        let _ = password.open(&env);
        let _ = open_key_package(&provider, &password, &env);
        if let Ok(key) = PrivateKey::from_pem(EE_KEY) {
            let holder = EnvelopeKey::private_key(key, pki().ee.clone());
            let _ = holder.open(&env);
        }
    }
    if let Ok(signed) = SignedData::from_der(candidate) {
        let _ = verify_key_package(&provider, &signed);
    }
});
