//! Shared fixtures: the fixed test PKI and a client/responder pair driven
//! in memory with simulated time.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs
)]

use std::str::FromStr;
use std::sync::Arc;

use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
};
use cmp_core::crypto::{CryptoProvider, SigningKey};
use cmp_core::protection::Protector;
use cmp_core::server::{
    MemoryStore, PendingRequest, Reply, Responder, ResponderConfig, ResponderEvent, StaticSecrets,
};
use cmp_core::trust::TrustStore;
use cmp_core::{Error, Timestamp};
use cmp_crypto_rustcrypto::{PrivateKey, RustCryptoProvider};
use der::DecodePem;
use x509_cert::Certificate;
use x509_cert::name::Name;

pub const REF: &[u8] = b"1234";
pub const SECRET: &[u8] = b"1234-5678";

pub fn pki_bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../tests/vectors/pki/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub fn cert(name: &str) -> Certificate {
    Certificate::from_pem(pki_bytes(name)).unwrap()
}

pub fn key(name: &str) -> Arc<dyn SigningKey> {
    Arc::new(PrivateKey::from_pem(std::str::from_utf8(&pki_bytes(name)).unwrap()).unwrap())
}

pub fn provider() -> Arc<dyn CryptoProvider> {
    Arc::new(RustCryptoProvider)
}

/// A time inside the validity of every certificate of the fixed PKI.
pub fn now() -> Timestamp {
    let ee = cert("issued.crt");
    let nb = ee
        .tbs_certificate()
        .validity()
        .not_before
        .to_unix_duration()
        .as_secs();
    Timestamp::from_unix_secs(nb + 86_400)
}

pub fn device() -> Name {
    Name::from_str("CN=Test Device").unwrap()
}

pub fn mac_client() -> ClientConfig {
    ClientConfig::new(provider(), Protector::mac(REF, SECRET))
}

pub fn sig_client() -> ClientConfig {
    let mut c = ClientConfig::new(
        provider(),
        Protector::Signature {
            key: key("ee.key"),
            cert: cert("ee.crt"),
            chain: vec![cert("ca.crt")],
        },
    );
    c.server_trust = Some(TrustStore::new(vec![cert("root.crt")]));
    c
}

pub fn responder_config() -> ResponderConfig {
    let mut c = ResponderConfig::new(provider(), Arc::new(MemoryStore::default()));
    c.secrets = Some(Arc::new(StaticSecrets::default().with(REF, SECRET)));
    c.client_trust = Some(TrustStore::new(vec![cert("root.crt")]));
    c.signer = Some(Protector::Signature {
        key: key("server.key"),
        cert: cert("server.crt"),
        chain: vec![cert("ca.crt")],
    });
    c.extra_certs = vec![cert("ca.crt"), cert("root.crt")];
    c.ca_pubs = vec![cert("root.crt")];
    c
}

pub fn ir_request() -> EnrollRequest {
    EnrollRequest::new(EnrollKind::Ir, Some(device()), key("issued.key"))
}

/// Everything observed while driving a transaction to its end.
#[derive(Debug, Default)]
pub struct Run {
    pub client_events: Vec<ClientEvent>,
    pub server_events: Vec<ResponderEvent>,
    pub replies: Vec<Reply>,
    pub requests: Vec<Vec<u8>>,
}

/// Drive `tx` against `responder`, deciding pending requests with `decide`,
/// accepting issued certificates, and advancing simulated time on waits.
pub fn drive(
    tx: &mut ClientTransaction,
    responder: &Responder,
    mut now: Timestamp,
    mut decide: impl FnMut(PendingRequest, Timestamp) -> Reply,
) -> (Run, Result<(), Error>) {
    let mut run = Run::default();
    for _ in 0..50 {
        let Some(request) = tx.poll_transmit() else {
            if tx.is_finished() {
                return (run, Ok(()));
            }
            match tx.poll_timeout() {
                Some(t) => {
                    now = now.max(t);
                    if let Err(e) = tx.handle_timeout(now) {
                        return (run, Err(e));
                    }
                    continue;
                }
                None => panic!("stuck: nothing to send and no timer"),
            }
        };
        run.requests.push(request.clone());
        let reply = responder.handle_request_with(&request, now, &mut decide);
        if let Some(e) = &reply.event {
            run.server_events.push(e.clone());
        }
        run.replies.push(reply.clone());
        match tx.handle_response(&reply.bytes, now) {
            Ok(ClientEvent::CertificateIssued(issued)) => {
                run.client_events
                    .push(ClientEvent::CertificateIssued(issued));
                match tx.confirm(Confirmation::Accept, now) {
                    Ok(ClientEvent::Continue) => {}
                    Ok(ev) => run.client_events.push(ev),
                    Err(e) => return (run, Err(e)),
                }
            }
            Ok(ev) => run.client_events.push(ev),
            Err(e) => return (run, Err(e)),
        }
    }
    panic!("transaction did not end");
}

/// Issue `issued.crt` to whatever is asked.
pub fn issue_fixed(p: PendingRequest, now: Timestamp) -> Reply {
    p.issue(cert("issued.crt"), None, now).unwrap()
}
