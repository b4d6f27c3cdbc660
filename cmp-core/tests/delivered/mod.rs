//! Fixtures for delivered private keys (central key generation, key
//! recovery): a generated PKI whose CA is the key generation authority, a
//! CMP server certificate, and clients protected by MAC or by RSA / EC
//! signatures.
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

use cmp_core::client::{ClientConfig, ClientEvent, ClientTransaction, Confirmation};
use cmp_core::crypto::{CryptoProvider, SigningKey};
use cmp_core::keygen::{ID_KP_CM_KGA, KeyGenAuthority};
use cmp_core::protection::Protector;
use cmp_core::server::{
    MemoryStore, PendingRequest, Reply, Responder, ResponderConfig, ResponderEvent, StaticSecrets,
};
use cmp_core::trust::TrustStore;
use cmp_core::{Error, Timestamp};
use cmp_crypto_rustcrypto::{
    EnvelopeKey, IssueRequest, KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider,
};
use der::Encode;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::name::Name;

pub const REF: &[u8] = b"kga-ref";
pub const SECRET: &[u8] = b"kga-secret";

pub fn provider() -> Arc<dyn CryptoProvider> {
    Arc::new(RustCryptoProvider)
}

pub struct Pki {
    pub ca: ReferenceCa,
    pub root: Certificate,
    pub server_key: PrivateKey,
    pub server_cert: Certificate,
    pub now: Timestamp,
}

impl Pki {
    pub fn new() -> Self {
        let now = Timestamp::now();
        let (ca, root) = ReferenceCa::generate_hierarchy("KGA", now, KeyAlgorithm::EcP256).unwrap();
        let (server_key, server_cert) = ca
            .generate_cmp_signer(Name::from_str("CN=CMP Server").unwrap(), now)
            .unwrap();
        Self {
            ca,
            root,
            server_key,
            server_cert,
            now,
        }
    }

    /// The CA itself as key generation authority.
    pub fn kga(&self) -> KeyGenAuthority {
        KeyGenAuthority::new(
            Arc::new(self.ca.signing_key().clone()),
            self.ca.certificate().clone(),
        )
    }

    /// An RA certificate with id-kp-cmKGA, as key generation authority.
    pub fn ra_kga(&mut self) -> KeyGenAuthority {
        let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        let mut req = IssueRequest::new(Name::from_str("CN=KGA RA").unwrap(), key.public_key());
        req.extensions = vec![Extension {
            extn_id: der::asn1::ObjectIdentifier::new_unwrap("2.5.29.37"),
            critical: false,
            extn_value: der::asn1::OctetString::new(
                ExtendedKeyUsage(vec![ID_KP_CM_KGA]).to_der().unwrap(),
            )
            .unwrap(),
        }];
        let cert = self.ca.issue(&req, self.now).unwrap();
        KeyGenAuthority {
            key: Arc::new(key),
            certs: vec![cert, self.ca.certificate().clone()],
        }
    }

    pub fn responder(&self) -> Responder {
        let mut c = ResponderConfig::new(provider(), Arc::new(MemoryStore::default()));
        c.secrets = Some(Arc::new(StaticSecrets::default().with(REF, SECRET)));
        c.client_trust = Some(TrustStore::new(vec![self.root.clone()]));
        c.signer = Some(Protector::Signature {
            key: Arc::new(self.server_key.clone()),
            cert: self.server_cert.clone(),
            chain: vec![self.ca.certificate().clone()],
        });
        c.extra_certs = vec![self.ca.certificate().clone(), self.root.clone()];
        Responder::new(c)
    }

    /// A MAC-protected client; its key opener is the shared secret.
    pub fn mac_client(&self) -> (ClientConfig, Arc<EnvelopeKey>) {
        (
            ClientConfig::new(provider(), Protector::mac(REF, SECRET)),
            Arc::new(EnvelopeKey::password(SECRET)),
        )
    }

    /// A client signing with a fresh key of `alg` certified by the CA; its
    /// key opener is that key with its certificate.
    pub fn sig_client(&mut self, alg: KeyAlgorithm) -> (ClientConfig, Arc<EnvelopeKey>) {
        let key = PrivateKey::generate(alg).unwrap();
        let req = IssueRequest::new(
            Name::from_str(&format!("CN=Client {}", alg.name())).unwrap(),
            key.public_key(),
        );
        let cert = self.ca.issue(&req, self.now).unwrap();
        let mut c = ClientConfig::new(
            provider(),
            Protector::Signature {
                key: Arc::new(key.clone()),
                cert: cert.clone(),
                chain: vec![self.ca.certificate().clone()],
            },
        );
        c.server_trust = Some(TrustStore::new(vec![self.root.clone()]));
        (c, Arc::new(EnvelopeKey::private_key(key, cert)))
    }

    /// Issue a certificate for `subject` and `public_key`.
    pub fn issue(
        &mut self,
        subject: &Name,
        public_key: spki::SubjectPublicKeyInfoOwned,
    ) -> Certificate {
        self.ca
            .issue(&IssueRequest::new(subject.clone(), public_key), self.now)
            .unwrap()
    }
}

pub fn device() -> Name {
    Name::from_str("CN=Central Device").unwrap()
}

/// id-ecPublicKey on `curve` (secp256r1 or secp384r1), as in a template.
pub fn ec_alg(alg: KeyAlgorithm) -> AlgorithmIdentifierOwned {
    PrivateKey::generate(alg).unwrap().public_key().algorithm
}

/// Everything seen while driving a transaction.
#[derive(Debug, Default)]
pub struct Run {
    pub events: Vec<ClientEvent>,
    pub server_events: Vec<ResponderEvent>,
    pub replies: Vec<Reply>,
    pub requests: Vec<Vec<u8>>,
}

/// Drive `tx` to its end, accepting issued certificates.
pub fn drive(
    tx: &mut ClientTransaction,
    responder: &Responder,
    mut now: Timestamp,
    mut decide: impl FnMut(PendingRequest, Timestamp) -> Reply,
) -> (Run, Result<(), Error>) {
    let mut run = Run::default();
    for _ in 0..20 {
        let Some(request) = tx.poll_transmit() else {
            if tx.is_finished() {
                return (run, Ok(()));
            }
            let t = tx.poll_timeout().expect("stuck");
            now = now.max(t);
            if let Err(e) = tx.handle_timeout(now) {
                return (run, Err(e));
            }
            continue;
        };
        run.requests.push(request.clone());
        let reply = responder.handle_request_with(&request, now, &mut decide);
        if let Some(e) = &reply.event {
            run.server_events.push(e.clone());
        }
        run.replies.push(reply.clone());
        match tx.handle_response(&reply.bytes, now) {
            Ok(ClientEvent::CertificateIssued(issued)) => {
                run.events.push(ClientEvent::CertificateIssued(issued));
                if let Err(e) = tx.confirm(Confirmation::Accept, now) {
                    return (run, Err(e));
                }
            }
            Ok(ev) => run.events.push(ev),
            Err(e) => return (run, Err(e)),
        }
    }
    panic!("transaction did not end");
}
