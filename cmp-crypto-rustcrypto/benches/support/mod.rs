//! Fixtures shared by the benchmarks, the memory count and the load
//! generator: the fixed test PKI, the OpenSSL vectors, generated messages
//! (genp with CA certificates, large rp, the 1 KiB to 1 MiB size sweep),
//! an in-memory client/responder transaction and a provider that counts
//! the cryptographic operations it performs.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod floor;
pub use floor::Floor;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cmp_core::asn1::{
    CertId, InfoValue, PkiBody, PkiMessage, PkiStatus, PkiStatusInfo, RevRepContent,
};
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
};
use cmp_core::crypto::{
    CryptoError, CryptoProvider, DigestAlgorithm, HmacAlgorithm, SecureRandom, SignatureAlgorithm,
    SigningKey,
};
use cmp_core::message::HeaderBuilder;
use cmp_core::protection::{MacScheme, Protector};
use cmp_core::server::{MemoryStore, Responder, ResponderConfig, StaticSecrets};
use cmp_core::trust::TrustStore;
use cmp_core::{Limits, Timestamp};
use cmp_crypto_rustcrypto::{PrivateKey, RustCryptoProvider};
use der::asn1::Int;
use der::{Decode, DecodePem};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

/// Reference value and secret of the OpenSSL vectors (and of both servers
/// in the load test).
pub const REF: &[u8] = b"1234";
pub const SECRET: &[u8] = b"1234-5678";

/// OpenSSL 3.0's default PasswordBasedMac: OWF SHA-256, 500 iterations,
/// HMAC-SHA1, 16-byte salt (what the vectors carry).
pub const PBM_OPENSSL_DEFAULT: MacScheme = MacScheme::Pbm {
    owf: DigestAlgorithm::Sha256,
    mac: HmacAlgorithm(DigestAlgorithm::Sha1),
    iterations: 500,
    salt_len: 16,
};

/// Message sizes of the decode sweep, in bytes (approximate targets).
pub const SWEEP_SIZES: [usize; 6] = [1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20];

/// Entries in the "large rp" of the codec table.
pub const LARGE_RP_ENTRIES: usize = 500;

pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

pub fn bench_keys_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data")
}

/// Where generated messages are kept: `$CMP_BENCH_DATA`, else a directory
/// in the system temp dir.
pub fn data_dir() -> PathBuf {
    std::env::var_os("CMP_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("cmp-bench-data"))
}

pub fn vector(name: &str) -> Vec<u8> {
    std::fs::read(vectors_dir().join(format!("{name}.der"))).unwrap()
}

pub fn pki_file(name: &str) -> Vec<u8> {
    std::fs::read(vectors_dir().join("pki").join(name)).unwrap()
}

pub fn cert(name: &str) -> Certificate {
    Certificate::from_pem(pki_file(name)).unwrap()
}

pub fn key(name: &str) -> Arc<dyn SigningKey> {
    Arc::new(PrivateKey::from_pem(std::str::from_utf8(&pki_file(name)).unwrap()).unwrap())
}

pub fn ed25519_cert() -> Certificate {
    Certificate::from_pem(std::fs::read(bench_keys_dir().join("ed25519.crt")).unwrap()).unwrap()
}

pub fn ed25519_key() -> Arc<dyn SigningKey> {
    let pem = std::fs::read_to_string(bench_keys_dir().join("ed25519.key")).unwrap();
    Arc::new(PrivateKey::from_pem(&pem).unwrap())
}

pub fn provider() -> Arc<dyn CryptoProvider> {
    Arc::new(RustCryptoProvider)
}

/// A time inside the validity of every certificate of the fixed PKI.
pub fn now() -> Timestamp {
    let nb = cert("issued.crt")
        .tbs_certificate()
        .validity()
        .not_before
        .to_unix_duration()
        .as_secs();
    Timestamp::from_unix_secs(nb + 86_400)
}

/// Limits that let the 1 MiB end of the sweep through.
pub fn sweep_limits() -> Limits {
    Limits {
        max_message_size: 4 << 20,
        ..Limits::DEFAULT
    }
}

// ---------------------------------------------------------------------------
// generated messages

fn header(sender: Name) -> cmp_core::asn1::PkiHeader {
    HeaderBuilder::new()
        .sender_name(sender)
        .recipient_name(Name::from_str("CN=Bench Client").unwrap())
        .transaction_id(&[0x42; 16])
        .sender_nonce(&[0x17; 16])
        .recip_nonce(&[0x71; 16])
        .build(&RustCryptoProvider, now())
        .unwrap()
}

fn mac_protect(body: PkiBody, extra: Vec<Certificate>) -> Vec<u8> {
    let protector = Protector::Mac {
        reference: REF.to_vec(),
        secret: SECRET.to_vec(),
        scheme: PBM_OPENSSL_DEFAULT,
    };
    let h = header(Name::from_str("CN=Bench CA").unwrap());
    let msg = protector
        .protect(h, body, extra, &RustCryptoProvider)
        .unwrap();
    cmp_core::message::encode(&msg).unwrap()
}

/// A genp answering caCerts with the three CA-side certificates of the
/// fixed PKI, PBM-protected (OpenSSL's default parameters).
pub fn make_genp_cacerts() -> Vec<u8> {
    let certs = vec![cert("root.crt"), cert("ca.crt"), cert("server.crt")];
    let itav = InfoValue::CaCerts(Some(certs)).to_itav().unwrap();
    mac_protect(PkiBody::Genp(vec![itav]), Vec::new())
}

/// An rp with `n` revocation statuses (each with a status string) and `n`
/// CertIds, PBM-protected.
pub fn make_rp(n: usize) -> Vec<u8> {
    let issuer = GeneralName::DirectoryName(cert("ca.crt").tbs_certificate().subject().clone());
    let mut status = Vec::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        status.push(PkiStatusInfo {
            status: PkiStatus::Accepted,
            status_string: Some(vec![format!("certificate {i} revoked")]),
            fail_info: None,
        });
        let serial = (i as u64 + 1).to_be_bytes();
        ids.push(CertId {
            issuer: issuer.clone(),
            serial_number: Int::new(&[&[0x01][..], &serial[..]].concat()).unwrap(),
        });
    }
    mac_protect(
        PkiBody::Rp(RevRepContent {
            status,
            rev_certs: Some(ids),
            crls: None,
        }),
        Vec::new(),
    )
}

/// An rp whose encoding is close to `target` bytes (never above it).
pub fn make_rp_of_size(target: usize) -> Vec<u8> {
    let small = make_rp(1).len();
    let per = make_rp(11).len() - small;
    let mut n = (target.saturating_sub(small) * 10 / per).max(1);
    loop {
        let m = make_rp(n);
        if m.len() <= target || n == 1 {
            return m;
        }
        n -= 1.max((m.len() - target) * 10 / per);
    }
}

/// The ir of `ir-sig.1.req` re-protected with `protector` (sender set to
/// the signer's subject for signatures).
pub fn reprotect_ir(protector: &Protector) -> Vec<u8> {
    let msg = PkiMessage::from_der(&vector("ir-sig.1.req")).unwrap();
    let mut h = msg.header.clone();
    h.protection_alg = None;
    h.sender_kid = None;
    if let Some(name) = protector.signer_subject() {
        h.sender = GeneralName::DirectoryName(name.clone());
    }
    let out = protector
        .protect(h, msg.body.clone(), Vec::new(), &RustCryptoProvider)
        .unwrap();
    cmp_core::message::encode(&out).unwrap()
}

pub fn ed25519_protector() -> Protector {
    Protector::Signature {
        key: ed25519_key(),
        cert: ed25519_cert(),
        chain: Vec::new(),
    }
}

pub fn ecdsa_protector() -> Protector {
    Protector::Signature {
        key: key("ee.key"),
        cert: cert("ee.crt"),
        chain: Vec::new(),
    }
}

pub fn pbm_protector() -> Protector {
    Protector::Mac {
        reference: REF.to_vec(),
        secret: SECRET.to_vec(),
        scheme: PBM_OPENSSL_DEFAULT,
    }
}

pub fn pbmac1_protector() -> Protector {
    Protector::Mac {
        reference: REF.to_vec(),
        secret: SECRET.to_vec(),
        scheme: MacScheme::PBMAC1_SHA256,
    }
}

pub fn sweep_name(size: usize) -> String {
    format!("sweep-{size}")
}

/// Write every generated message into [`data_dir`] unless already there,
/// and return the directory.
pub fn ensure_data() -> PathBuf {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    type Make = Box<dyn Fn() -> Vec<u8>>;
    let mut items: Vec<(String, Make)> = vec![
        ("genp-cacerts".into(), Box::new(make_genp_cacerts)),
        ("rp-large".into(), Box::new(|| make_rp(LARGE_RP_ENTRIES))),
        (
            "ir-ed25519".into(),
            Box::new(|| reprotect_ir(&ed25519_protector())),
        ),
        (
            "ir-pbmac1".into(),
            Box::new(|| reprotect_ir(&pbmac1_protector())),
        ),
    ];
    for size in SWEEP_SIZES {
        items.push((sweep_name(size), Box::new(move || make_rp_of_size(size))));
    }
    for (name, make) in items {
        let path = dir.join(format!("{name}.der"));
        if !path.exists() {
            std::fs::write(&path, make()).unwrap();
        }
    }
    dir
}

pub fn data(name: &str) -> Vec<u8> {
    std::fs::read(ensure_data().join(format!("{name}.der"))).unwrap()
}

/// The codec set: (name, bytes). ir, ip and certConf are OpenSSL's own
/// messages from the vectors.
pub fn codec_set() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("ir", vector("ir-pbm.1.req")),
        ("ip", vector("ir-pbm.1.rsp")),
        ("certConf", vector("ir-pbm.2.req")),
        ("genp-cacerts", data("genp-cacerts")),
        ("rp-large", data("rp-large")),
    ]
}

// ---------------------------------------------------------------------------
// the in-memory transaction

pub fn mac_client(provider: Arc<dyn CryptoProvider>) -> ClientConfig {
    ClientConfig::new(provider, Protector::mac(REF, SECRET))
}

pub fn sig_client(provider: Arc<dyn CryptoProvider>, ee_key: Arc<dyn SigningKey>) -> ClientConfig {
    let mut c = ClientConfig::new(
        provider,
        Protector::Signature {
            key: ee_key,
            cert: cert("ee.crt"),
            chain: vec![cert("ca.crt")],
        },
    );
    c.server_trust = Some(TrustStore::new(vec![cert("root.crt")]));
    c
}

pub fn responder(provider: Arc<dyn CryptoProvider>, server_key: Arc<dyn SigningKey>) -> Responder {
    let mut c = ResponderConfig::new(provider, Arc::new(MemoryStore::default()));
    c.secrets = Some(Arc::new(StaticSecrets::default().with(REF, SECRET)));
    c.client_trust = Some(TrustStore::new(vec![cert("root.crt")]));
    c.signer = Some(Protector::Signature {
        key: server_key,
        cert: cert("server.crt"),
        chain: vec![cert("ca.crt")],
    });
    c.extra_certs = vec![cert("ca.crt"), cert("root.crt")];
    c.ca_pubs = vec![cert("root.crt")];
    Responder::new(c)
}

/// Everything one transaction needs, built once.
pub struct Fixture {
    pub client: Arc<ClientConfig>,
    pub responder: Responder,
    pub new_key: Arc<dyn SigningKey>,
    pub issued: Certificate,
    pub now: Timestamp,
}

impl Fixture {
    pub fn new(
        signature: bool,
        provider: Arc<dyn CryptoProvider>,
        counter: Option<&Arc<OpCounter>>,
    ) -> Self {
        let wrap = |k: Arc<dyn SigningKey>| -> Arc<dyn SigningKey> {
            match counter {
                Some(c) => Arc::new(CountingKey(k, c.clone())),
                None => k,
            }
        };
        let client = if signature {
            sig_client(provider.clone(), wrap(key("ee.key")))
        } else {
            mac_client(provider.clone())
        };
        Self {
            client: Arc::new(client),
            responder: responder(provider, wrap(key("server.key"))),
            new_key: wrap(key("issued.key")),
            issued: cert("issued.crt"),
            now: now(),
        }
    }

    /// The fixture of a transaction case: `mac` (our default PBM, 10,000
    /// iterations both ways), `mac500` (OpenSSL 3.0's default PBM parameters
    /// from the client, replies MAC-protected with 500 iterations too) or
    /// `sig`.
    pub fn for_case(case: &str, provider: Arc<dyn CryptoProvider>) -> Self {
        let mut f = Self::new(case == "sig", provider.clone(), None);
        if case == "mac500" {
            let mut client = mac_client(provider.clone());
            client.protector = Protector::Mac {
                reference: REF.to_vec(),
                secret: SECRET.to_vec(),
                scheme: PBM_OPENSSL_DEFAULT,
            };
            f.client = Arc::new(client);
            let mut config = f.responder.config().clone();
            config.reply_mac_iterations = Some(500);
            f.responder = Responder::new(config);
        }
        f
    }

    /// One ir → ip → certConf → pkiConf; returns the request and reply
    /// bytes in order.
    pub fn run(&self) -> Vec<Vec<u8>> {
        let request = EnrollRequest::new(
            EnrollKind::Ir,
            Some(Name::from_str("CN=Test Device").unwrap()),
            self.new_key.clone(),
        );
        let mut tx = ClientTransaction::start_ir(self.client.clone(), request, self.now).unwrap();
        let mut wire = Vec::with_capacity(4);
        while let Some(bytes) = tx.poll_transmit() {
            let issued = &self.issued;
            let reply = self
                .responder
                .handle_request_with(&bytes, self.now, &mut |p, now| {
                    p.issue(issued.clone(), None, now).unwrap()
                });
            wire.push(bytes);
            match tx.handle_response(&reply.bytes, self.now).unwrap() {
                ClientEvent::CertificateIssued(_) => {
                    tx.confirm(Confirmation::Accept, self.now).unwrap();
                }
                ClientEvent::Completed => {
                    wire.push(reply.bytes);
                    break;
                }
                _ => {}
            }
            wire.push(reply.bytes);
        }
        assert!(tx.is_completed());
        wire
    }
}

// ---------------------------------------------------------------------------
// counting the cryptography

/// Counts of the operations a transaction performed.
#[derive(Default, Debug)]
pub struct OpCounter {
    pub digest: AtomicU64,
    pub hmac: AtomicU64,
    pub iterate_digest: AtomicU64,
    pub iterations: AtomicU64,
    pub pbkdf2: AtomicU64,
    pub verify: AtomicU64,
    pub sign: AtomicU64,
}

impl OpCounter {
    pub fn summary(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "sign={} verify={} pbm_derive={} (iterations {}) pbkdf2={} hmac={} digest={}",
            g(&self.sign),
            g(&self.verify),
            g(&self.iterate_digest),
            g(&self.iterations),
            g(&self.pbkdf2),
            g(&self.hmac),
            g(&self.digest)
        )
    }
}

/// A provider that counts what goes through it.
pub struct CountingProvider(pub Arc<OpCounter>);

fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

impl SecureRandom for CountingProvider {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        RustCryptoProvider.fill(dest)
    }
}

impl CryptoProvider for CountingProvider {
    fn digest(&self, alg: DigestAlgorithm, parts: &[&[u8]]) -> Result<Vec<u8>, CryptoError> {
        bump(&self.0.digest);
        RustCryptoProvider.digest(alg, parts)
    }
    fn hmac(
        &self,
        alg: HmacAlgorithm,
        key: &[u8],
        parts: &[&[u8]],
    ) -> Result<Vec<u8>, CryptoError> {
        bump(&self.0.hmac);
        RustCryptoProvider.hmac(alg, key, parts)
    }
    fn pbkdf2(
        &self,
        prf: HmacAlgorithm,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        bump(&self.0.pbkdf2);
        RustCryptoProvider.pbkdf2(prf, password, salt, iterations, out)
    }
    fn verify_signature(
        &self,
        alg: SignatureAlgorithm,
        alg_id: &AlgorithmIdentifierOwned,
        key: &SubjectPublicKeyInfoOwned,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        bump(&self.0.verify);
        RustCryptoProvider.verify_signature(alg, alg_id, key, message, signature)
    }
    fn iterate_digest(
        &self,
        alg: DigestAlgorithm,
        input: &[u8],
        iterations: u64,
    ) -> Result<Vec<u8>, CryptoError> {
        bump(&self.0.iterate_digest);
        self.0.iterations.fetch_add(iterations, Ordering::Relaxed);
        RustCryptoProvider.iterate_digest(alg, input, iterations)
    }
}

/// A signing key that counts its signatures.
pub struct CountingKey(pub Arc<dyn SigningKey>, pub Arc<OpCounter>);

impl SigningKey for CountingKey {
    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.0.public_key()
    }
    fn algorithm(&self) -> SignatureAlgorithm {
        self.0.algorithm()
    }
    fn algorithm_identifier(&self) -> AlgorithmIdentifierOwned {
        self.0.algorithm_identifier()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        bump(&self.1.sign);
        self.0.sign(message)
    }
}

pub fn decode_any(bytes: &[u8]) -> PkiMessage {
    PkiMessage::from_der(bytes).unwrap()
}
