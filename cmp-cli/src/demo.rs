//! The README's main job: a self-contained demonstration on embedded defaults.

use std::str::FromStr;
use std::sync::Arc;

use cmp_core::asn1::{CertReqMsg, CertRequest, CertTemplate, PkiBody};
use cmp_core::crypto::SigningKey;
use cmp_core::message::{HeaderBuilder, ParsedMessage, describe, encode};
use cmp_core::protection::{self, Protector};
use cmp_core::{Limits, Timestamp, pop};
use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey, provider};
use x509_cert::name::Name;

/// Build a PBM-protected ir for a fresh P-256 key, parse it back, verify its
/// protection and print it.
pub(crate) fn run() -> Result<(), String> {
    let now = Timestamp::now();
    let key: Arc<dyn SigningKey> =
        Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).map_err(|e| e.to_string())?);
    let subject = Name::from_str("CN=Demo Device,O=cmp-rs").map_err(|e| e.to_string())?;
    let cert_req = CertRequest {
        cert_req_id: 0,
        cert_template: CertTemplate {
            subject: Some(subject.clone()),
            public_key: Some(key.public_key()),
            ..Default::default()
        },
        controls: None,
    };
    let popo = pop::signature_pop(&cert_req, key.as_ref()).map_err(|e| e.to_string())?;
    let body = PkiBody::Ir(vec![CertReqMsg {
        cert_req,
        popo: Some(popo),
        reg_info: None,
    }]);
    let header = HeaderBuilder::new()
        .sender_name(subject)
        .build(provider(), now)
        .map_err(|e| e.to_string())?;
    let protector = Protector::mac(b"1234", b"1234-5678");
    let message = protector
        .protect(header, body, Vec::new(), provider())
        .map_err(|e| e.to_string())?;
    let der = encode(&message).map_err(|e| e.to_string())?;

    let parsed = ParsedMessage::decode(&der, &Limits::DEFAULT).map_err(|e| e.to_string())?;
    protection::verify_mac(&parsed, b"1234-5678", provider(), &Limits::DEFAULT)
        .map_err(|e| e.to_string())?;
    println!(
        "Built a {}-byte ir protected with PasswordBasedMac (reference 1234), parsed it back:\n",
        der.len()
    );
    print!("{}", describe(parsed.message()));
    println!("\nprotection verified with the shared secret");
    Ok(())
}
