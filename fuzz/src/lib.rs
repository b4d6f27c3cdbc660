//! Shared fixtures of the fuzz targets: the fixed test PKI (embedded), a
//! deterministic crypto provider, and client transactions and responders
//! driven into each reachable state.
//!
//! Everything a target does per input must be deterministic and cheap:
//!
//! - [`FuzzProvider`] draws "random" bytes from a counter, so a fresh
//!   provider replays the same transactionIDs, nonces and salts every time;
//! - it memoizes the expensive pure functions (PasswordBasedMac's iterated
//!   digest, PBKDF2, signature verification), so re-verifying the same
//!   recorded reply costs a hash-map lookup instead of 10,000 SHA-256 rounds;
//! - [`CachedKey`] returns the same (valid) signature for the same message,
//!   which makes ECDSA deterministic and replayable.
//!
//! Exchanges are first run against a real [`Responder`] in memory (at a
//! fixed time), recorded, and then replayed per input to put a fresh
//! transaction or responder into the wanted state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use cmp_core::asn1::{BodyType, PkiStatusInfo};
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
    RevokeRequest,
};
use cmp_core::crypto::{
    CryptoError, CryptoProvider, DigestAlgorithm, HmacAlgorithm, SecureRandom, SignatureAlgorithm,
    SigningKey,
};
use cmp_core::protection::Protector;
use cmp_core::server::{
    MemoryStore, PendingRequest, Reply, RequestKind, Responder, ResponderConfig, StaticSecrets,
};
use cmp_core::trust::TrustStore;
use cmp_core::{Limits, Timestamp};
use cmp_crypto_rustcrypto::{PrivateKey, RustCryptoProvider};
use der::{Decode, DecodePem, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;
use x509_cert::request::CertReq;

/// MAC reference value (senderKID) of the test client.
pub const REF: &[u8] = b"1234";
/// The shared secret of [`REF`].
pub const SECRET: &[u8] = b"1234-5678";

// ----- the fixed test PKI (tests/vectors/pki) -----

/// The PEM/DER files of the test PKI, embedded at build time.
pub mod files {
    /// Trust anchor.
    pub const ROOT_CRT: &[u8] = include_bytes!("../../tests/vectors/pki/root.crt");
    /// Intermediate CA.
    pub const CA_CRT: &[u8] = include_bytes!("../../tests/vectors/pki/ca.crt");
    /// The CMP server's signer certificate.
    pub const SERVER_CRT: &[u8] = include_bytes!("../../tests/vectors/pki/server.crt");
    /// Its key.
    pub const SERVER_KEY: &[u8] = include_bytes!("../../tests/vectors/pki/server.key");
    /// The end entity's existing certificate (signature-protected requests).
    pub const EE_CRT: &[u8] = include_bytes!("../../tests/vectors/pki/ee.crt");
    /// Its key.
    pub const EE_KEY: &[u8] = include_bytes!("../../tests/vectors/pki/ee.key");
    /// The certificate every enrollment hands out.
    pub const ISSUED_CRT: &[u8] = include_bytes!("../../tests/vectors/pki/issued.crt");
    /// Its key (the key of every enrollment request).
    pub const ISSUED_KEY: &[u8] = include_bytes!("../../tests/vectors/pki/issued.key");
    /// A PKCS#10 request (DER).
    pub const CSR_DER: &[u8] = include_bytes!("../../tests/vectors/pki/csr.der");
}

/// The parsed test PKI.
pub struct Pki {
    /// root.crt
    pub root: Certificate,
    /// ca.crt
    pub ca: Certificate,
    /// server.crt
    pub server: Certificate,
    /// ee.crt
    pub ee: Certificate,
    /// issued.crt
    pub issued: Certificate,
    /// server.key
    pub server_key: Arc<dyn SigningKey>,
    /// ee.key
    pub ee_key: Arc<dyn SigningKey>,
    /// issued.key
    pub issued_key: Arc<dyn SigningKey>,
    /// csr.der
    pub csr: CertReq,
}

/// The test PKI, parsed once.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let cert = |pem: &[u8]| Certificate::from_pem(pem).expect("test PKI certificate");
        let key = |pem: &[u8]| -> Arc<dyn SigningKey> {
            let text = std::str::from_utf8(pem).expect("PEM is text");
            Arc::new(CachedKey::new(
                PrivateKey::from_pem(text).expect("test PKI key"),
            ))
        };
        Pki {
            root: cert(files::ROOT_CRT),
            ca: cert(files::CA_CRT),
            server: cert(files::SERVER_CRT),
            ee: cert(files::EE_CRT),
            issued: cert(files::ISSUED_CRT),
            server_key: key(files::SERVER_KEY),
            ee_key: key(files::EE_KEY),
            issued_key: key(files::ISSUED_KEY),
            csr: CertReq::from_der(files::CSR_DER).expect("test PKI CSR"),
        }
    })
}

/// The fixed time of every target: 42 s after the test PKI's certificates
/// became valid, which is also within 600 s of the messageTime of every
/// OpenSSL vector in tests/vectors (so seeds pass the time check).
pub fn now() -> Timestamp {
    let nb = pki()
        .issued
        .tbs_certificate()
        .validity()
        .not_before
        .to_unix_duration()
        .as_secs();
    Timestamp::from_unix_secs(nb + 42)
}

/// Limits for fuzzing: the defaults, with key-derivation iteration counts
/// capped at the 10,000 our own client and responder use (a hostile count
/// of 100,000 would only make inputs slow, not reach more code).
pub fn fuzz_limits() -> Limits {
    Limits {
        max_pbm_iterations: 10_000,
        max_pbkdf2_iterations: 10_000,
        ..Limits::DEFAULT
    }
}

// ----- deterministic, memoizing crypto -----

#[derive(Clone, PartialEq, Eq, Hash)]
enum MemoKey {
    Iterate(DigestAlgorithm, Vec<u8>, u64),
    Pbkdf2(HmacAlgorithm, Vec<u8>, Vec<u8>, u32, usize),
    Verify(SignatureAlgorithm, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>),
}

impl MemoKey {
    fn size(&self) -> usize {
        64 + match self {
            Self::Iterate(_, a, _) => a.len(),
            Self::Pbkdf2(_, a, b, _, _) => a.len() + b.len(),
            Self::Verify(_, a, b, c, d) => a.len() + b.len() + c.len() + d.len(),
        }
    }
}

#[derive(Clone)]
enum MemoValue {
    Bytes(Result<Vec<u8>, CryptoError>),
    Unit(Result<(), CryptoError>),
}

#[derive(Default)]
struct Memo {
    map: HashMap<MemoKey, MemoValue>,
    bytes: usize,
}

/// Stop memoizing (but keep answering from the memo) past this size.
const MEMO_MAX_BYTES: usize = 64 << 20;

fn memo() -> &'static Mutex<Memo> {
    static MEMO: OnceLock<Mutex<Memo>> = OnceLock::new();
    MEMO.get_or_init(Mutex::default)
}

fn memoized(key: MemoKey, compute: impl FnOnce() -> MemoValue) -> MemoValue {
    if let Some(v) = memo().lock().unwrap().map.get(&key) {
        return v.clone();
    }
    let value = compute();
    let mut m = memo().lock().unwrap();
    let size = key.size() + 64;
    if m.bytes + size <= MEMO_MAX_BYTES {
        m.bytes += size;
        m.map.insert(key, value.clone());
    }
    value
}

/// Iteration counts from which a key derivation is worth memoizing.
const MEMO_MIN_ITERATIONS: u64 = 64;

/// [`RustCryptoProvider`] with a counter instead of the system RNG and a
/// process-wide memo of the expensive pure functions. A fresh provider
/// always produces the same byte sequence.
#[derive(Debug, Default)]
pub struct FuzzProvider {
    counter: AtomicU64,
}

impl FuzzProvider {
    /// A provider at the start of its sequence.
    pub fn new() -> Self {
        Self::default()
    }

    /// As an `Arc<dyn CryptoProvider>`.
    pub fn arc() -> Arc<dyn CryptoProvider> {
        Arc::new(Self::new())
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl SecureRandom for FuzzProvider {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        for chunk in dest.chunks_mut(8) {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let v = splitmix64(n).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

impl CryptoProvider for FuzzProvider {
    fn digest(&self, alg: DigestAlgorithm, parts: &[&[u8]]) -> Result<Vec<u8>, CryptoError> {
        RustCryptoProvider.digest(alg, parts)
    }

    fn hmac(
        &self,
        alg: HmacAlgorithm,
        key: &[u8],
        parts: &[&[u8]],
    ) -> Result<Vec<u8>, CryptoError> {
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
        if u64::from(iterations) < MEMO_MIN_ITERATIONS {
            return RustCryptoProvider.pbkdf2(prf, password, salt, iterations, out);
        }
        let key = MemoKey::Pbkdf2(prf, password.to_vec(), salt.to_vec(), iterations, out.len());
        let len = out.len();
        let value = memoized(key, || {
            let mut buf = vec![0u8; len];
            MemoValue::Bytes(
                RustCryptoProvider
                    .pbkdf2(prf, password, salt, iterations, &mut buf)
                    .map(|()| buf),
            )
        });
        match value {
            MemoValue::Bytes(Ok(bytes)) => {
                out.copy_from_slice(&bytes);
                Ok(())
            }
            MemoValue::Bytes(Err(e)) | MemoValue::Unit(Err(e)) => Err(e),
            MemoValue::Unit(Ok(())) => unreachable!("pbkdf2 memo holds bytes"),
        }
    }

    fn verify_signature(
        &self,
        alg: SignatureAlgorithm,
        params: &AlgorithmIdentifierOwned,
        spki: &SubjectPublicKeyInfoOwned,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let (Ok(p), Ok(k)) = (params.to_der(), spki.to_der()) else {
            return RustCryptoProvider.verify_signature(alg, params, spki, message, signature);
        };
        let key = MemoKey::Verify(alg, p, k, message.to_vec(), signature.to_vec());
        match memoized(key, || {
            MemoValue::Unit(
                RustCryptoProvider.verify_signature(alg, params, spki, message, signature),
            )
        }) {
            MemoValue::Unit(r) => r,
            MemoValue::Bytes(_) => unreachable!("verify memo holds units"),
        }
    }

    fn iterate_digest(
        &self,
        alg: DigestAlgorithm,
        input: &[u8],
        iterations: u64,
    ) -> Result<Vec<u8>, CryptoError> {
        if iterations < MEMO_MIN_ITERATIONS {
            return RustCryptoProvider.iterate_digest(alg, input, iterations);
        }
        let key = MemoKey::Iterate(alg, input.to_vec(), iterations);
        match memoized(key, || {
            MemoValue::Bytes(RustCryptoProvider.iterate_digest(alg, input, iterations))
        }) {
            MemoValue::Bytes(r) => r,
            MemoValue::Unit(_) => unreachable!("digest memo holds bytes"),
        }
    }
}

/// A signing key that signs each distinct message once and then returns
/// the same signature (still valid; it makes randomized ECDSA replayable).
pub struct CachedKey {
    inner: PrivateKey,
    cache: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

impl CachedKey {
    /// Wrap `inner`.
    pub fn new(inner: PrivateKey) -> Self {
        Self {
            inner,
            cache: Mutex::default(),
        }
    }
}

impl SigningKey for CachedKey {
    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.inner.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm()
    }

    fn algorithm_identifier(&self) -> AlgorithmIdentifierOwned {
        self.inner.algorithm_identifier()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if let Some(sig) = self.cache.lock().unwrap().get(message) {
            return Ok(sig.clone());
        }
        let sig = self.inner.sign(message)?;
        let mut cache = self.cache.lock().unwrap();
        if cache.len() < 4096 {
            cache.insert(message.to_vec(), sig.clone());
        }
        Ok(sig)
    }
}

// ----- the responder -----

/// The responder configuration of tests/common: MAC secret 1234 ->
/// 1234-5678, client trust root.crt, signer server.crt, extraCerts the
/// chain, caPubs the root; with a fresh deterministic provider.
pub fn responder_config(accept_unprotected: bool) -> ResponderConfig {
    let pki = pki();
    let mut c = ResponderConfig::new(FuzzProvider::arc(), Arc::new(MemoryStore::default()));
    c.secrets = Some(Arc::new(StaticSecrets::default().with(REF, SECRET)));
    c.client_trust = Some(TrustStore::new(vec![pki.root.clone()]));
    c.signer = Some(Protector::Signature {
        key: pki.server_key.clone(),
        cert: pki.server.clone(),
        chain: vec![pki.ca.clone()],
    });
    c.extra_certs = vec![pki.ca.clone(), pki.root.clone()];
    c.ca_pubs = vec![pki.root.clone()];
    c.accept_unprotected = accept_unprotected;
    c.limits = fuzz_limits();
    c
}

/// How the application answers a pending request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Issue issued.crt (ir/cr/kur/p10cr), accept an rr, answer a genm.
    Issue,
    /// Ask the client to poll (checkAfter 0).
    Wait,
    /// Reject (badRequest).
    Reject,
}

/// A reply that stands for a decision that could not be built (the
/// application would answer with an error of its own).
fn no_reply(p: &PendingRequest) -> Reply {
    Reply {
        bytes: Vec::new(),
        body: BodyType::Error,
        transaction_id: p.transaction_id().to_vec(),
        error: None,
        event: None,
        inner: Vec::new(),
    }
}

/// Decide `p` as `decision` says; never panics.
pub fn decide(decision: Decision, p: PendingRequest, now: Timestamp) -> Reply {
    let fallback = no_reply(&p);
    let r = match (decision, p.kind()) {
        (Decision::Issue, RequestKind::Enroll(_) | RequestKind::P10cr) => {
            p.issue(pki().issued.clone(), None, now)
        }
        (Decision::Issue, RequestKind::Revoke) => p.revoke(now),
        (Decision::Issue, RequestKind::Genm) => p.respond_genp(Vec::new(), now),
        // no archived keys in the fuzz PKI
        (Decision::Issue, RequestKind::KeyRecovery) => p.reject(
            PkiStatusInfo::rejection(cmp_core::asn1::FailureBit::BadCertId, "fuzz"),
            now,
        ),
        (Decision::Wait, _) => p.wait(0, now),
        (Decision::Reject, _) => p.reject(
            PkiStatusInfo::rejection(cmp_core::asn1::FailureBit::BadRequest, "fuzz"),
            now,
        ),
    };
    r.unwrap_or(fallback)
}

// ----- the client -----

/// Which credentials the client transaction uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientVariant {
    /// MAC: reference 1234, secret 1234-5678.
    Mac,
    /// Signature with ee.key / ee.crt (+ ca.crt), trusting root.crt.
    Signature,
    /// MAC, and unprotected responses are accepted too (so that fuzz inputs
    /// reach the body handling without forging a MAC).
    MacAcceptUnprotected,
}

/// The state the transaction is in when the fuzz input arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientState {
    /// Awaiting the answer to its first request.
    AwaitingFirst,
    /// Awaiting the answer to a pollReq.
    AwaitingPoll,
    /// Awaiting pkiConf after its certConf.
    AwaitingPkiConf,
    /// A certificate awaits the caller's confirmation (nothing expected).
    AwaitingConfirm,
}

/// What the transaction asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientKind {
    /// ir for CN=Test Device with issued.key.
    Ir,
    /// p10cr with csr.der.
    P10cr,
    /// rr for issued.crt (keyCompromise).
    Rr,
    /// genm without content.
    Genm,
}

/// A client set-up chosen by one selector byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientSetup {
    /// Credentials.
    pub variant: ClientVariant,
    /// State.
    pub state: ClientState,
    /// Request kind (only `AwaitingFirst` uses other kinds than ir).
    pub kind: ClientKind,
}

impl ClientSetup {
    /// Bits 0-1 state, bits 2-3 variant (3 = Mac), bits 4-5 kind (for
    /// `AwaitingFirst`; ir otherwise). Bits 6-7 are left to the target.
    pub fn from_byte(b: u8) -> Self {
        let state = match b & 3 {
            0 => ClientState::AwaitingFirst,
            1 => ClientState::AwaitingPoll,
            2 => ClientState::AwaitingPkiConf,
            _ => ClientState::AwaitingConfirm,
        };
        let variant = match (b >> 2) & 3 {
            1 => ClientVariant::Signature,
            2 => ClientVariant::MacAcceptUnprotected,
            _ => ClientVariant::Mac,
        };
        let kind = match (state, (b >> 4) & 3) {
            (ClientState::AwaitingFirst, 1) => ClientKind::P10cr,
            (ClientState::AwaitingFirst, 2) => ClientKind::Rr,
            (ClientState::AwaitingFirst, 3) => ClientKind::Genm,
            _ => ClientKind::Ir,
        };
        Self {
            variant,
            state,
            kind,
        }
    }

    /// The selector byte of this set-up (inverse of [`Self::from_byte`]).
    pub fn to_byte(self) -> u8 {
        let state = match self.state {
            ClientState::AwaitingFirst => 0,
            ClientState::AwaitingPoll => 1,
            ClientState::AwaitingPkiConf => 2,
            ClientState::AwaitingConfirm => 3,
        };
        let variant = match self.variant {
            ClientVariant::Mac => 0,
            ClientVariant::Signature => 1,
            ClientVariant::MacAcceptUnprotected => 2,
        };
        let kind = match self.kind {
            ClientKind::Ir => 0,
            ClientKind::P10cr => 1,
            ClientKind::Rr => 2,
            ClientKind::Genm => 3,
        };
        state | variant << 2 | kind << 4
    }

    /// Every distinct set-up.
    pub fn all() -> Vec<Self> {
        let mut v: Vec<Self> = (0..64u8).map(Self::from_byte).collect();
        v.sort_by_key(|s| s.to_byte());
        v.dedup();
        v
    }
}

/// The client configuration of a variant, with a fresh deterministic provider.
pub fn client_config(variant: ClientVariant) -> ClientConfig {
    let pki = pki();
    let mut c = match variant {
        ClientVariant::Mac | ClientVariant::MacAcceptUnprotected => {
            ClientConfig::new(FuzzProvider::arc(), Protector::mac(REF, SECRET))
        }
        ClientVariant::Signature => {
            let mut c = ClientConfig::new(
                FuzzProvider::arc(),
                Protector::Signature {
                    key: pki.ee_key.clone(),
                    cert: pki.ee.clone(),
                    chain: vec![pki.ca.clone()],
                },
            );
            c.server_trust = Some(TrustStore::new(vec![pki.root.clone()]));
            c
        }
    };
    c.accept_unprotected_responses = variant == ClientVariant::MacAcceptUnprotected;
    c.limits = fuzz_limits();
    c
}

fn start(setup: ClientSetup) -> ClientTransaction {
    let pki = pki();
    let config = client_config(setup.variant);
    let now = now();
    match setup.kind {
        ClientKind::Ir => {
            let device = "CN=Test Device".parse().expect("a name");
            let request = EnrollRequest::new(EnrollKind::Ir, Some(device), pki.issued_key.clone());
            ClientTransaction::start_ir(config, request, now)
        }
        ClientKind::P10cr => ClientTransaction::start_p10cr(config, pki.csr.clone(), now),
        ClientKind::Rr => ClientTransaction::start_rr(
            config,
            &RevokeRequest {
                cert: pki.issued.clone(),
                reason: Some(1),
            },
            now,
        ),
        ClientKind::Genm => ClientTransaction::start_genm(config, Vec::new(), now),
    }
    .expect("the transaction starts")
}

/// A recorded exchange: the replies that put a fresh transaction into its
/// state, and the genuine reply that would come next (a seed).
#[derive(Clone, Debug)]
pub struct ClientScript {
    /// Replies to feed before the fuzz input.
    pub prefix: Vec<Vec<u8>>,
    /// The genuine next reply (for `AwaitingConfirm`: the ip again).
    pub next: Vec<u8>,
}

/// Run `setup` against a real responder in memory and record the replies.
fn record(setup: ClientSetup) -> ClientScript {
    let now = now();
    let responder = Responder::new(responder_config(false));
    let mut tx = start(setup);
    let ask = |bytes: Vec<u8>, d: Decision| {
        responder
            .handle_request_with(&bytes, now, &mut |p, now| decide(d, p, now))
            .bytes
    };
    let first = tx.poll_transmit().expect("a first request");
    let script = match setup.state {
        ClientState::AwaitingFirst => ClientScript {
            prefix: Vec::new(),
            next: ask(first, Decision::Issue),
        },
        ClientState::AwaitingPoll => {
            let r1 = ask(first, Decision::Wait);
            let ev = tx.handle_response(&r1, now);
            assert!(matches!(ev, Ok(ClientEvent::Waiting { .. })), "{ev:?}");
            let poll = tx.poll_transmit().expect("a pollReq");
            ClientScript {
                prefix: vec![r1],
                next: ask(poll, Decision::Issue),
            }
        }
        ClientState::AwaitingConfirm => {
            let r1 = ask(first, Decision::Issue);
            let ev = tx.handle_response(&r1, now);
            assert!(
                matches!(ev, Ok(ClientEvent::CertificateIssued(_))),
                "{ev:?}"
            );
            ClientScript {
                prefix: vec![r1.clone()],
                next: r1,
            }
        }
        ClientState::AwaitingPkiConf => {
            let r1 = ask(first, Decision::Issue);
            let ev = tx.handle_response(&r1, now);
            assert!(
                matches!(ev, Ok(ClientEvent::CertificateIssued(_))),
                "{ev:?}"
            );
            let ev = tx.confirm(Confirmation::Accept, now);
            assert!(matches!(ev, Ok(ClientEvent::Continue)), "{ev:?}");
            let conf = tx.poll_transmit().expect("a certConf");
            ClientScript {
                prefix: vec![r1],
                next: ask(conf, Decision::Issue),
            }
        }
    };
    // The replay must reach the same state: the genuine next reply works.
    let mut replayed = replay(setup, &script);
    let ev = replayed.handle_response(&script.next, now);
    match setup.state {
        ClientState::AwaitingConfirm => assert!(ev.is_err()),
        _ => assert!(ev.is_ok(), "{setup:?}: replay failed: {ev:?}"),
    }
    script
}

fn replay(setup: ClientSetup, script: &ClientScript) -> ClientTransaction {
    let now = now();
    let mut tx = start(setup);
    for reply in &script.prefix {
        let ev = tx.handle_response(reply, now);
        if setup.state == ClientState::AwaitingPkiConf
            && matches!(ev, Ok(ClientEvent::CertificateIssued(_)))
        {
            let _ = tx.confirm(Confirmation::Accept, now);
        }
    }
    tx
}

/// The recorded exchange of `setup` (recorded on first use).
pub fn client_script(setup: ClientSetup) -> ClientScript {
    static SCRIPTS: OnceLock<Mutex<HashMap<ClientSetup, ClientScript>>> = OnceLock::new();
    let scripts = SCRIPTS.get_or_init(Mutex::default);
    if let Some(s) = scripts.lock().unwrap().get(&setup) {
        return s.clone();
    }
    let s = record(setup);
    scripts.lock().unwrap().insert(setup, s.clone());
    s
}

/// A fresh client transaction in the state `setup` names; its queued
/// output (pollReq, certConf) is left in `poll_transmit`.
pub fn client_in_state(setup: ClientSetup) -> ClientTransaction {
    let script = client_script(setup);
    replay(setup, &script)
}

// ----- the responder in a state -----

/// What the responder has already seen when the fuzz input arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponderStage {
    /// Nothing: the input is a first message.
    Fresh,
    /// A genuine ir, answered with ip (certConf expected).
    AfterIssue,
    /// A genuine ir, answered with "waiting" (pollReq expected).
    AfterWait,
    /// A genuine ir, ip, certConf, pkiConf (the transaction is done).
    AfterConfirm,
}

/// A responder set-up chosen by one selector byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ResponderSetup {
    /// Stage.
    pub stage: ResponderStage,
    /// Whether unprotected requests are accepted (and the genuine messages
    /// are unprotected).
    pub unprotected: bool,
    /// How the request carried by the fuzz input is decided.
    pub decision: Decision,
}

impl ResponderSetup {
    /// Bits 0-1 stage, bit 2 unprotected, bits 4-5 decision (0/1 issue,
    /// 2 wait, 3 reject). Bits 3, 6, 7 are ignored.
    pub fn from_byte(b: u8) -> Self {
        let stage = match b & 3 {
            0 => ResponderStage::Fresh,
            1 => ResponderStage::AfterIssue,
            2 => ResponderStage::AfterWait,
            _ => ResponderStage::AfterConfirm,
        };
        let decision = match (b >> 4) & 3 {
            2 => Decision::Wait,
            3 => Decision::Reject,
            _ => Decision::Issue,
        };
        Self {
            stage,
            unprotected: b & 4 != 0,
            decision,
        }
    }

    /// A selector byte of this set-up.
    pub fn to_byte(self) -> u8 {
        let stage = match self.stage {
            ResponderStage::Fresh => 0,
            ResponderStage::AfterIssue => 1,
            ResponderStage::AfterWait => 2,
            ResponderStage::AfterConfirm => 3,
        };
        let decision = match self.decision {
            Decision::Issue => 0,
            Decision::Wait => 2,
            Decision::Reject => 3,
        };
        stage | u8::from(self.unprotected) << 2 | decision << 4
    }
}

/// Genuine client messages of one transaction (recorded once).
#[derive(Clone, Debug)]
pub struct GenuineMessages {
    /// The ir.
    pub ir: Vec<u8>,
    /// The certConf answering the ip.
    pub cert_conf: Vec<u8>,
    /// The pollReq answering "waiting".
    pub poll_req: Vec<u8>,
}

fn genuine_client(unprotected: bool) -> ClientTransaction {
    let pki = pki();
    let mut config = client_config(ClientVariant::Mac);
    if unprotected {
        config.protector = Protector::None;
        config.server_trust = Some(TrustStore::new(vec![pki.root.clone()]));
    }
    let device = "CN=Test Device".parse().expect("a name");
    let request = EnrollRequest::new(EnrollKind::Ir, Some(device), pki.issued_key.clone());
    ClientTransaction::start_ir(config, request, now()).expect("the ir starts")
}

fn record_genuine(unprotected: bool) -> GenuineMessages {
    let now = now();
    let issue = |p, now| decide(Decision::Issue, p, now);
    // ir, ip, certConf
    let responder = Responder::new(responder_config(unprotected));
    let mut tx = genuine_client(unprotected);
    let ir = tx.poll_transmit().expect("an ir");
    let ip = responder.handle_request_with(&ir, now, &mut issue.clone());
    let ev = tx.handle_response(&ip.bytes, now);
    assert!(
        matches!(ev, Ok(ClientEvent::CertificateIssued(_))),
        "{ev:?}"
    );
    let _ = tx.confirm(Confirmation::Accept, now);
    let cert_conf = tx.poll_transmit().expect("a certConf");
    let conf = responder.handle_request_with(&cert_conf, now, &mut issue.clone());
    assert_eq!(conf.body, BodyType::PkiConf, "{:?}", conf.error);
    // ir, waiting, pollReq (the same deterministic client and responder)
    let responder = Responder::new(responder_config(unprotected));
    let mut tx = genuine_client(unprotected);
    let ir2 = tx.poll_transmit().expect("an ir");
    let waiting =
        responder.handle_request_with(&ir2, now, &mut |p, now| decide(Decision::Wait, p, now));
    let ev = tx.handle_response(&waiting.bytes, now);
    assert!(matches!(ev, Ok(ClientEvent::Waiting { .. })), "{ev:?}");
    let poll_req = tx.poll_transmit().expect("a pollReq");
    GenuineMessages {
        ir,
        cert_conf,
        poll_req,
    }
}

/// The genuine messages (MAC-protected, or unprotected), recorded once.
pub fn genuine(unprotected: bool) -> &'static GenuineMessages {
    static MAC: OnceLock<GenuineMessages> = OnceLock::new();
    static PLAIN: OnceLock<GenuineMessages> = OnceLock::new();
    if unprotected {
        PLAIN.get_or_init(|| record_genuine(true))
    } else {
        MAC.get_or_init(|| record_genuine(false))
    }
}

/// A fresh responder (own store, fresh provider) that has already seen
/// what `setup.stage` names.
pub fn responder_in_stage(setup: ResponderSetup) -> Responder {
    let now = now();
    let responder = Responder::new(responder_config(setup.unprotected));
    let msgs = genuine(setup.unprotected);
    let issue = |p, now| decide(Decision::Issue, p, now);
    match setup.stage {
        ResponderStage::Fresh => {}
        ResponderStage::AfterIssue => {
            responder.handle_request_with(&msgs.ir, now, &mut issue.clone());
        }
        ResponderStage::AfterWait => {
            responder
                .handle_request_with(&msgs.ir, now, &mut |p, now| decide(Decision::Wait, p, now));
        }
        ResponderStage::AfterConfirm => {
            responder.handle_request_with(&msgs.ir, now, &mut issue.clone());
            responder.handle_request_with(&msgs.cert_conf, now, &mut issue.clone());
        }
    }
    responder
}

/// Seed inputs for the targets with a selector byte (used by the
/// `write_seeds` test).
pub mod seeds {
    use super::*;

    /// (file name, bytes) seeds of client_response: every set-up with its
    /// genuine next reply, and for the set-ups that accept unprotected
    /// responses also that reply with its protection stripped.
    pub fn client_response() -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for s in ClientSetup::all() {
            let name = format!(
                "gen-{:02x}-{:?}-{:?}-{:?}",
                s.to_byte(),
                s.variant,
                s.state,
                s.kind
            );
            let next = client_script(s).next;
            if s.variant == ClientVariant::MacAcceptUnprotected {
                let mut msg = cmp_core::asn1::PkiMessage::from_der_bytes(&next).unwrap();
                msg.header.protection_alg = None;
                msg.protection = None;
                let mut input = vec![s.to_byte()];
                input.extend(cmp_core::message::encode(&msg).unwrap());
                out.push((format!("{name}-unprotected"), input));
            }
            let mut input = vec![s.to_byte()];
            input.extend(next);
            out.push((name, input));
        }
        out
    }

    /// Seeds of responder_request: the genuine message of each stage,
    /// MAC-protected and unprotected.
    pub fn responder_request() -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for unprotected in [false, true] {
            let m = genuine(unprotected);
            for (stage, name, msg) in [
                (ResponderStage::Fresh, "ir", &m.ir),
                (ResponderStage::AfterIssue, "certConf", &m.cert_conf),
                (ResponderStage::AfterWait, "pollReq", &m.poll_req),
                (ResponderStage::AfterConfirm, "certConf-again", &m.cert_conf),
            ] {
                let s = ResponderSetup {
                    stage,
                    unprotected,
                    decision: Decision::Issue,
                };
                let mut input = vec![s.to_byte()];
                input.extend_from_slice(msg);
                let prot = if unprotected { "plain" } else { "mac" };
                out.push((format!("gen-{:02x}-{prot}-{name}", s.to_byte()), input));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_bytes_round_trip() {
        for b in 0..=255u8 {
            let s = ClientSetup::from_byte(b);
            assert_eq!(ClientSetup::from_byte(s.to_byte()), s);
            let r = ResponderSetup::from_byte(b);
            assert_eq!(ResponderSetup::from_byte(r.to_byte()), r);
        }
    }

    #[test]
    fn every_client_state_replays() {
        for s in ClientSetup::all() {
            let _ = client_script(s);
        }
    }

    #[test]
    fn stripped_replies_pass_where_unprotected_is_accepted() {
        for (name, input) in seeds::client_response() {
            if !name.ends_with("-unprotected") || name.contains("AwaitingConfirm") {
                continue;
            }
            let mut tx = client_in_state(ClientSetup::from_byte(input[0]));
            let ev = tx.handle_response(&input[1..], now());
            assert!(ev.is_ok(), "{name}: {ev:?}");
        }
    }

    #[test]
    fn responder_stages_accept_the_genuine_follow_ups() {
        let now = now();
        for unprotected in [false, true] {
            let m = genuine(unprotected);
            let issue = |p, now| decide(Decision::Issue, p, now);
            let r = responder_in_stage(ResponderSetup {
                stage: ResponderStage::AfterIssue,
                unprotected,
                decision: Decision::Issue,
            });
            let reply = r.handle_request_with(&m.cert_conf, now, &mut issue.clone());
            assert_eq!(reply.body, BodyType::PkiConf, "{:?}", reply.error);
            let r = responder_in_stage(ResponderSetup {
                stage: ResponderStage::AfterWait,
                unprotected,
                decision: Decision::Issue,
            });
            let reply = r.handle_request_with(&m.poll_req, now, &mut issue.clone());
            assert_eq!(reply.body, BodyType::Ip, "{:?}", reply.error);
        }
    }

    /// Regenerates the `gen-*` seeds in corpus/client_response and
    /// corpus/responder_request:
    /// `cargo +nightly test --manifest-path fuzz/Cargo.toml --lib -- --ignored`.
    #[test]
    #[ignore = "writes files"]
    fn write_seeds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        for (target, seeds) in [
            ("client_response", seeds::client_response()),
            ("responder_request", seeds::responder_request()),
        ] {
            let dir = root.join(target);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, bytes) in seeds {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        }
    }
}
