//! The PKI-management side of CMP: a sans-IO responder for a CA or RA.
//!
//! [`Responder::handle_request`] takes request bytes and `now` and gives
//! either a finished [`Reply`] (errors, certConf, pollReq for a decided
//! request, ...) or a [`PendingRequest`] that the application decides:
//! issue, reject, or ask the client to wait. The responder checks
//! protection, proof-of-possession and the header, tracks transactions in a
//! [`TransactionStore`], and protects every reply. A request proving
//! possession of a KEM key by challenge-response is first answered with a
//! popdecc, and reaches the application only with the right popdecr
//! ([`crate::pop_challenge`]).

mod challenge;
mod pending;
pub mod registry;
pub mod store;

pub use pending::{PendingRequest, RequestKind};
pub use registry::{CertificateRegistry, RegistryStatus};
#[cfg(feature = "std")]
pub use store::MemoryStore;
pub use store::{TransactionRecord, TransactionStore};

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use der::Encode;
use der::asn1::OctetString;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::alg;
use crate::asn1::cmp::pvno;
use crate::asn1::{BodyType, ErrorMsgContent, FailureBit, PkiBody, PkiStatus, PkiStatusInfo, oid};
use crate::crypto::{CryptoProvider, DigestAlgorithm};
use crate::error::{Error, PeerFailure, Result};
use crate::limits::Limits;
use crate::message::{HeaderBuilder, ParsedMessage};
use crate::protection::{MacScheme, ProtectionKind, Protector, protection_kind};
use crate::time::Timestamp;
use crate::trust::TrustStore;
use crate::verify::{self, Authenticated, ProtectionPolicy};
use store::Phase;

/// Looks up the shared secret for a MAC reference value (senderKID).
pub trait SecretLookup: Send + Sync {
    /// The secret for `reference`, if it is known.
    fn secret(&self, reference: &[u8]) -> Option<Vec<u8>>;
}

impl<F> SecretLookup for F
where
    F: Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync,
{
    fn secret(&self, reference: &[u8]) -> Option<Vec<u8>> {
        self(reference)
    }
}

/// A fixed table of reference value → secret.
#[derive(Clone, Debug, Default)]
pub struct StaticSecrets(pub BTreeMap<Vec<u8>, Vec<u8>>);

impl StaticSecrets {
    /// Add a reference/secret pair.
    pub fn with(mut self, reference: &[u8], secret: &[u8]) -> Self {
        self.0.insert(reference.to_vec(), secret.to_vec());
        self
    }
}

impl SecretLookup for StaticSecrets {
    fn secret(&self, reference: &[u8]) -> Option<Vec<u8>> {
        self.0.get(reference).cloned()
    }
}

/// How the responder behaves.
#[derive(Clone)]
pub struct ResponderConfig {
    /// The crypto backend.
    pub provider: Arc<dyn CryptoProvider>,
    /// Secrets of MAC-protected clients, by reference value.
    pub secrets: Option<Arc<dyn SecretLookup>>,
    /// Trust anchors for signature-protected requests.
    pub client_trust: Option<TrustStore>,
    /// Untrusted intermediates for building clients' chains.
    pub untrusted: Vec<Certificate>,
    /// Our own signing credentials (a [`Protector::Signature`]); replies to
    /// signature-protected requests, and errors where no MAC can be used,
    /// are signed with it.
    pub signer: Option<Protector>,
    /// Our name as the sender of replies; default: the signer's subject, else NULL-DN.
    pub name: Option<Name>,
    /// Grant implicit confirmation when a client asks for it.
    pub grant_implicit_confirm: bool,
    /// Largest accepted difference between messageTime and `now`, seconds.
    pub max_time_skew: Option<u64>,
    /// How long a transaction may stay open, seconds.
    pub transaction_lifetime: u64,
    /// Announce confirmWaitTime (now + this many seconds) in ip/cp/kup.
    pub confirm_wait_time: Option<u64>,
    /// Accept requests without protection (test set-ups only).
    pub accept_unprotected: bool,
    /// Certificates allowed to use raVerified POP besides those with id-kp-cmcRA.
    pub authorized_ras: Vec<Certificate>,
    /// Certificates for the extraCerts of ip/cp/kup (the issuing chain).
    pub extra_certs: Vec<Certificate>,
    /// caPubs of ip (root certificates for the new end entity).
    pub ca_pubs: Vec<Certificate>,
    /// Decoding and verification caps.
    pub limits: Limits,
    /// Transaction state.
    pub store: Arc<dyn TransactionStore>,
    /// Our KEM private key, for clients that encapsulate to our KEM
    /// certificate and send the ciphertext in the generalInfo of their
    /// first KEM-MAC-protected request (RFC 9810 section 5.1.3.4).
    pub kem_key: Option<Arc<dyn crate::crypto::DecapsulationKey>>,
    /// Refuse requests without messageTime (`missingTimeStamp`); default off.
    pub require_message_time: bool,
    /// The names this responder answers for (its CA names). When not empty,
    /// a request whose recipient is a directoryName other than NULL-DN and
    /// not listed, or whose certificate template names an issuer not
    /// listed, is refused with `wrongAuthority`.
    pub authorities: Vec<Name>,
    /// The application's record of issued certificates, for the `badCertId`,
    /// `certRevoked` and `duplicateCertReq` checks (see [`registry`]).
    pub registry: Option<Arc<dyn CertificateRegistry>>,
    /// Iteration count of the PBM or PBMAC1 protection of our replies to
    /// MAC-protected requests; `None` (the default) keeps the scheme's
    /// default of 10,000 (see [`MacScheme::PBM_SHA256`]).
    pub reply_mac_iterations: Option<u32>,
}

impl ResponderConfig {
    /// A configuration with RFC 9483 defaults and the given store.
    pub fn new(provider: Arc<dyn CryptoProvider>, store: Arc<dyn TransactionStore>) -> Self {
        Self {
            provider,
            secrets: None,
            client_trust: None,
            untrusted: Vec::new(),
            signer: None,
            name: None,
            grant_implicit_confirm: false,
            max_time_skew: Some(600),
            transaction_lifetime: 600,
            confirm_wait_time: None,
            accept_unprotected: false,
            authorized_ras: Vec::new(),
            extra_certs: Vec::new(),
            ca_pubs: Vec::new(),
            limits: Limits::DEFAULT,
            store,
            kem_key: None,
            require_message_time: false,
            authorities: Vec::new(),
            registry: None,
            reply_mac_iterations: None,
        }
    }

    /// The MAC scheme of our replies to a request MAC-protected with `alg`.
    fn reply_mac_scheme(&self, alg: Option<der::asn1::ObjectIdentifier>) -> MacScheme {
        let mut scheme = match alg {
            Some(oid::PBMAC1) => MacScheme::PBMAC1_SHA256,
            _ => MacScheme::PBM_SHA256,
        };
        if let Some(count) = self.reply_mac_iterations
            && let MacScheme::Pbm { iterations, .. } | MacScheme::Pbmac1 { iterations, .. } =
                &mut scheme
        {
            *iterations = count;
        }
        scheme
    }

    fn sender(&self) -> GeneralName {
        self.name
            .clone()
            .or_else(|| {
                self.signer
                    .as_ref()
                    .and_then(|s| s.signer_subject().cloned())
            })
            .map(GeneralName::DirectoryName)
            .unwrap_or_else(crate::message::null_dn)
    }
}

impl core::fmt::Debug for ResponderConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponderConfig")
            .field("name", &self.name)
            .field("grant_implicit_confirm", &self.grant_implicit_confirm)
            .finish_non_exhaustive()
    }
}

/// What the responder did with a request.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Handled {
    /// The reply is ready.
    Reply(Reply),
    /// The application decides (issue, reject, wait, answer).
    Decide(PendingRequest),
    /// A `nested` message from an RA: handle each inner request, then
    /// [`NestedRequest::finish`] with their replies.
    Nested(NestedRequest),
}

/// The inner messages of an authenticated `nested` request (RFC 9483
/// section 5.2.2), already handled as far as the responder can.
#[derive(Debug)]
pub struct NestedRequest {
    config: Arc<ResponderConfig>,
    ctx: ReplyContext,
    /// One entry per inner message, in order.
    pub items: Vec<Handled>,
}

impl NestedRequest {
    /// Wrap the replies to the inner messages (same order) in a `nested`
    /// reply protected like the outer request.
    pub fn finish(self, replies: Vec<Reply>, now: Timestamp) -> Result<Reply> {
        let mut inner = Vec::with_capacity(replies.len());
        for r in &replies {
            inner.push(crate::asn1::PkiMessage::from_der_bytes(&r.bytes)?);
        }
        let (bytes, _) = build_reply(&self.config, &self.ctx, PkiBody::Nested(inner), false, now)?;
        Ok(Reply {
            bytes,
            body: BodyType::Nested,
            transaction_id: self.ctx.transaction_id.clone(),
            error: None,
            event: None,
            inner: replies,
        })
    }
}

/// Something the application should act on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum ResponderEvent {
    /// The client confirmed this certificate.
    Confirmed(Certificate),
    /// The client rejected this certificate in certConf: revoke it.
    ConfirmationRejected {
        /// The certificate.
        cert: Certificate,
        /// The client's status.
        status: PkiStatusInfo,
    },
    /// The certificate was issued under implicit confirmation.
    ImplicitlyConfirmed(Certificate),
    /// The client sent an error message and ended the transaction.
    ClientError(PeerFailure),
}

/// A reply to send back.
#[derive(Clone, Debug)]
pub struct Reply {
    /// DER of the reply PKIMessage.
    pub bytes: Vec<u8>,
    /// Its body type.
    pub body: BodyType,
    /// The transactionID (empty when the request had none).
    pub transaction_id: Vec<u8>,
    /// Why the request failed, when the reply is an error message.
    pub error: Option<Error>,
    /// What the application should act on.
    pub event: Option<ResponderEvent>,
    /// For a `nested` reply: the replies to the inner messages, in order.
    pub inner: Vec<Reply>,
}

/// How replies in a transaction are protected.
#[derive(Clone, Debug)]
pub(crate) enum ReplyProtection {
    Mac {
        reference: Vec<u8>,
        secret: Vec<u8>,
        scheme: MacScheme,
    },
    Signature,
    None,
}

/// What every reply in a transaction needs from its request.
#[derive(Clone, Debug)]
pub(crate) struct ReplyContext {
    pub(crate) pvno: u64,
    pub(crate) transaction_id: Vec<u8>,
    pub(crate) client_nonce: Option<Vec<u8>>,
    pub(crate) recipient: GeneralName,
    pub(crate) protection: ReplyProtection,
    pub(crate) implicit_confirm_asked: bool,
}

/// The responder. Cheap to clone; share one among threads.
#[derive(Clone, Debug)]
pub struct Responder {
    config: Arc<ResponderConfig>,
}

/// A failed request: the reply context (when known) and the error.
type Failure = Box<(Option<ReplyContext>, Error)>;

impl Responder {
    /// A responder with this configuration.
    pub fn new(config: ResponderConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ResponderConfig {
        &self.config
    }

    /// Handle one request. Never fails: every problem becomes an error reply
    /// (with the matching PKIFailureInfo bit) whose `error` says what it was.
    pub fn handle_request(&self, bytes: &[u8], now: Timestamp) -> Handled {
        match self.process(bytes, now) {
            Ok(handled) => handled,
            Err(failure) => {
                let (ctx, e) = *failure;
                Handled::Reply(error_reply(&self.config, ctx.as_ref(), e, now))
            }
        }
    }

    /// Handle one request completely, asking `decide` for every decision
    /// (inner messages of a `nested` request included). A reply of `decide`
    /// without bytes but with an `error` (a decision that failed, e.g. whose
    /// compare-and-swap of the transaction record lost to another front end)
    /// becomes an error message for that error, protected like any reply.
    pub fn handle_request_with(
        &self,
        bytes: &[u8],
        now: Timestamp,
        decide: &mut dyn FnMut(PendingRequest, Timestamp) -> Reply,
    ) -> Reply {
        self.resolve(self.handle_request(bytes, now), now, decide)
    }

    fn resolve(
        &self,
        handled: Handled,
        now: Timestamp,
        decide: &mut dyn FnMut(PendingRequest, Timestamp) -> Reply,
    ) -> Reply {
        match handled {
            Handled::Reply(r) => r,
            Handled::Decide(p) => {
                // A decision that failed without a reply (e.g. it lost a
                // compare-and-swap to another front end) is answered with
                // an error message in the request's context, not dropped.
                let ctx = p.reply_context().clone();
                let reply = decide(p, now);
                match reply.error {
                    Some(e) if reply.bytes.is_empty() && reply.inner.is_empty() => {
                        error_reply(&self.config, Some(&ctx), e, now)
                    }
                    _ => reply,
                }
            }
            Handled::Nested(n) => {
                let NestedRequest { config, ctx, items } = n;
                let replies = items
                    .into_iter()
                    .map(|h| self.resolve(h, now, decide))
                    .collect();
                let outer = NestedRequest {
                    config,
                    ctx: ctx.clone(),
                    items: Vec::new(),
                };
                outer
                    .finish(replies, now)
                    .unwrap_or_else(|e| error_reply(&self.config, Some(&ctx), e, now))
            }
        }
    }

    /// Drop expired transactions from the store.
    pub fn sweep(&self, now: Timestamp) -> Result<usize> {
        self.config.store.sweep(now)
    }

    fn process(&self, bytes: &[u8], now: Timestamp) -> core::result::Result<Handled, Failure> {
        let cfg = &self.config;
        let msg = ParsedMessage::decode(bytes, &cfg.limits)
            .map_err(|e| Box::new((self.salvage_context(bytes), e)))?;
        let pv = msg.pvno();
        let mut ctx = ReplyContext {
            pvno: if pv == pvno::CMP2021 {
                pvno::CMP2021
            } else {
                pvno::CMP2000
            },
            transaction_id: msg.transaction_id().map(<[u8]>::to_vec).unwrap_or_default(),
            client_nonce: msg.sender_nonce().map(<[u8]>::to_vec),
            recipient: msg.header().sender.clone(),
            protection: if cfg.signer.is_some() {
                ReplyProtection::Signature
            } else {
                ReplyProtection::None
            },
            implicit_confirm_asked: msg.implicit_confirm(),
        };
        // A genm asking for a KEM ciphertext may come unprotected: its answer
        // is only of use to the holder of the certified KEM key.
        let kem_request = crate::kem::is_ciphertext_request(msg.body());
        let authenticated = if kem_request && protection_kind(&msg) == Ok(ProtectionKind::None) {
            Ok(Authenticated::Unprotected)
        } else {
            self.authenticate(&msg, &mut ctx, now)
        };
        let auth = match authenticated {
            Ok(a) => a,
            Err(e) => return Err(Box::new((Some(ctx), e))),
        };
        let fail = |e: Error| Box::new((Some(ctx.clone()), e));
        if pv != pvno::CMP2000 && pv != pvno::CMP2021 {
            return Err(fail(Error::UnsupportedVersion(pv)));
        }
        if ctx.transaction_id.is_empty() {
            return Err(fail(Error::MissingHeaderField("transactionID")));
        }
        // The store keeps side entries under tagged keys (store::StoreKey):
        // a transactionID spelling such a key could read or block another
        // transaction's entries.
        if !matches!(
            store::StoreKey::parse(&ctx.transaction_id),
            store::StoreKey::Transaction(_)
        ) {
            return Err(fail(Error::BadRequest(
                "transactionID starts with a prefix reserved by the store",
            )));
        }
        if msg.sender_nonce().is_none_or(|n| n.len() < 8) {
            return Err(fail(Error::BadSenderNonce));
        }
        if cfg.require_message_time && msg.message_time().is_none() {
            return Err(fail(Error::MissingTimeStamp));
        }
        verify::check_message_time(&msg, now, cfg.max_time_skew).map_err(fail)?;
        if !self.addressed_to_us(&msg.header().recipient) {
            return Err(fail(Error::WrongAuthority));
        }

        match msg.body_type() {
            BodyType::Genm if kem_request => self.kem_ciphertext(&msg, &ctx, now).map_err(fail),
            BodyType::Ir
            | BodyType::Cr
            | BodyType::Kur
            | BodyType::Ccr
            | BodyType::P10cr
            | BodyType::Rr
            | BodyType::Krr
            | BodyType::Genm => {
                // A first message answers nothing: a recipNonce in it is ignored.
                let pending =
                    PendingRequest::new(Arc::clone(&self.config), ctx.clone(), msg, auth, None, 0)
                        .map_err(fail)?;
                if challenge::requested(&pending) {
                    return challenge::send_challenge(cfg, &pending, now).map_err(fail);
                }
                let record = pending.initial_record().map_err(fail)?;
                let inserted = cfg
                    .store
                    .insert_new(
                        &ctx.transaction_id,
                        record,
                        now.plus_secs(cfg.transaction_lifetime),
                        now,
                    )
                    .map_err(fail)?;
                if !inserted {
                    return Err(fail(Error::TransactionIdInUse));
                }
                Ok(Handled::Decide(pending))
            }
            BodyType::CertConf => self.cert_conf(&msg, &ctx, now).map_err(fail),
            BodyType::PollReq => self.poll_req(msg, &ctx, auth, now).map_err(fail),
            BodyType::Popdecr => {
                challenge::check_response(self, &msg, &ctx, auth, now).map_err(fail)
            }
            BodyType::Error => self.client_error(&msg, &ctx, now).map_err(fail),
            BodyType::Nested => {
                let PkiBody::Nested(inner) = msg.body() else {
                    return Err(fail(Error::UnexpectedBody { got: "nested" }));
                };
                let items = inner
                    .iter()
                    .map(|m| match crate::message::encode(m) {
                        Ok(b) => self.handle_request(&b, now),
                        Err(e) => Handled::Reply(error_reply(cfg, None, e, now)),
                    })
                    .collect();
                Ok(Handled::Nested(NestedRequest {
                    config: Arc::clone(&self.config),
                    ctx: ctx.clone(),
                    items,
                }))
            }
            other => Err(fail(Error::UnexpectedBody { got: other.name() })),
        }
    }

    /// For a request that does not decode: the reply context from its
    /// header, when the header alone decodes, so that the error reply reaches
    /// the transaction it belongs to (MAC-protected when the senderKID names
    /// a known secret, as for any request that fails authentication).
    fn salvage_context(&self, bytes: &[u8]) -> Option<ReplyContext> {
        let header = crate::message::decode_header(bytes, self.config.limits.max_message_size)?;
        let mut ctx = ReplyContext {
            pvno: if header.pvno == pvno::CMP2021 {
                pvno::CMP2021
            } else {
                pvno::CMP2000
            },
            transaction_id: header
                .transaction_id
                .as_ref()
                .map(|t| t.as_bytes().to_vec())
                .unwrap_or_default(),
            client_nonce: header.sender_nonce.as_ref().map(|n| n.as_bytes().to_vec()),
            recipient: header.sender.clone(),
            protection: if self.config.signer.is_some() {
                ReplyProtection::Signature
            } else {
                ReplyProtection::None
            },
            implicit_confirm_asked: false,
        };
        let is_mac = header
            .protection_alg
            .as_ref()
            .is_some_and(|a| a.oid == oid::PASSWORD_BASED_MAC || a.oid == oid::PBMAC1);
        if is_mac
            && let Some(reference) = header.sender_kid.as_ref().map(|k| k.as_bytes().to_vec())
            && let Some(secret) = self
                .config
                .secrets
                .as_ref()
                .and_then(|s| s.secret(&reference))
        {
            let scheme = self
                .config
                .reply_mac_scheme(header.protection_alg.as_ref().map(|a| a.oid));
            ctx.protection = ReplyProtection::Mac {
                reference,
                secret,
                scheme,
            };
        }
        Some(ctx)
    }

    /// Whether a request addressed to `recipient` is for us (see
    /// [`ResponderConfig::authorities`]).
    fn addressed_to_us(&self, recipient: &GeneralName) -> bool {
        let ours = &self.config.authorities;
        match recipient {
            _ if ours.is_empty() => true,
            GeneralName::DirectoryName(name) => name.is_empty() || ours.contains(name),
            _ => true,
        }
    }

    fn authenticate(
        &self,
        msg: &ParsedMessage,
        ctx: &mut ReplyContext,
        now: Timestamp,
    ) -> Result<Authenticated> {
        let cfg = &self.config;
        let mut secret = None;
        let tid = msg.transaction_id().unwrap_or_default();
        // A shared secret for this transaction: from a ciphertext to our KEM
        // key in this message's generalInfo, or kept from the genp we sent.
        let fresh_kem_session = self.kem_ciphertext_for_us(msg)?;
        let kem_session = match &fresh_kem_session {
            Some(s) => Some(s.clone()),
            None if !tid.is_empty() => cfg
                .store
                .get(&crate::kem::session_key(tid), now)?
                .map(|b| crate::kem::KemSession::from_bytes(&b))
                .transpose()?,
            None => None,
        };
        let kem_protected = msg.protection_alg_oid() == Some(oid::KEM_BASED_MAC);
        if kem_protected {
            if tid.is_empty() {
                return Err(Error::MissingHeaderField("transactionID"));
            }
            let session = kem_session.as_ref().ok_or(Error::UnknownCredential)?;
            let found = session.shared_secret.as_bytes().to_vec();
            let params = msg
                .header()
                .protection_alg
                .as_ref()
                .map(crate::protection::kem::parameters)
                .transpose()?
                .ok_or(Error::MissingProtection)?;
            ctx.protection = ReplyProtection::Mac {
                reference: msg.sender_kid().unwrap_or_default().to_vec(),
                secret: found.clone(),
                scheme: crate::kem::scheme_of(&params)?,
            };
            secret = Some(found);
        } else if protection_kind(msg)? == ProtectionKind::Mac {
            let reference = msg.sender_kid().ok_or(Error::UnknownCredential)?.to_vec();
            let found = cfg
                .secrets
                .as_ref()
                .and_then(|s| s.secret(&reference))
                .ok_or(Error::UnknownCredential)?;
            let scheme = cfg.reply_mac_scheme(msg.protection_alg_oid());
            // Replies (errors included) are MAC-protected with the client's secret.
            ctx.protection = ReplyProtection::Mac {
                reference,
                secret: found.clone(),
                scheme,
            };
            secret = Some(found);
        }
        let policy = ProtectionPolicy {
            secret: secret.as_deref(),
            trust: cfg.client_trust.as_ref(),
            untrusted: &cfg.untrusted,
            accept_unprotected: cfg.accept_unprotected,
        };
        let known = self.known_signer(msg, now);
        let mut auth = verify::authenticate_with_known(
            msg,
            &policy,
            now,
            cfg.provider.as_ref(),
            &cfg.limits,
            known.as_ref(),
        )?;
        if let (Authenticated::Kem { certificate }, Some(session)) = (&mut auth, &kem_session) {
            certificate.clone_from(&session.peer_certificate);
        }
        // A request protected otherwise (e.g. signed by a client whose peer
        // has only a KEM key) gets its replies protected with the KEM-based MAC.
        if !kem_protected && let Some(session) = &kem_session {
            ctx.protection = ReplyProtection::Mac {
                reference: Vec::new(),
                secret: session.shared_secret.as_bytes().to_vec(),
                scheme: MacScheme::KEM_HKDF_SHA256,
            };
        }
        // Keep a shared secret that arrived with this (verified) message for
        // the rest of the transaction.
        if let Some(session) = fresh_kem_session {
            store_kem_session(cfg, tid, &session, now)?;
        }
        Ok(auth)
    }

    /// For a signed later request of a transaction (certConf, pollReq,
    /// error): the signer path validated for its earlier requests, from the
    /// transaction record. Only certificate signatures on that path are taken
    /// as known (see [`verify::authenticate_with_known`]); anything missing
    /// or unreadable means a full validation.
    fn known_signer(&self, msg: &ParsedMessage, now: Timestamp) -> Option<Authenticated> {
        let later = matches!(
            msg.body_type(),
            BodyType::CertConf | BodyType::PollReq | BodyType::Error | BodyType::Popdecr
        );
        let tid = msg.transaction_id().unwrap_or_default();
        if !later || tid.is_empty() || protection_kind(msg) != Ok(ProtectionKind::Signature) {
            return None;
        }
        let bytes = self.config.store.get(tid, now).ok()??;
        let path = TransactionRecord::from_bytes(&bytes).ok()?.signer_path?;
        Some(Authenticated::Signature {
            signer: path.first()?.clone(),
            path,
        })
    }

    /// The KEM session of a ciphertext to our KEM key in the generalInfo of
    /// `msg`, if there is one.
    fn kem_ciphertext_for_us(&self, msg: &ParsedMessage) -> Result<Option<crate::kem::KemSession>> {
        let info = match crate::kem::ciphertext_from_genp(msg.general_info()) {
            Ok(info) => info,
            Err(Error::IncorrectData(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let key = self.config.kem_key.as_ref().ok_or_else(|| {
            Error::UnsupportedAlgorithm("a KEM ciphertext for us, but we have no KEM key".into())
        })?;
        let ss = crate::kem::decapsulate(&info, key.as_ref())?;
        Ok(Some(crate::kem::KemSession {
            shared_secret: OctetString::new(ss).map_err(Error::Encode)?,
            peer_certificate: None,
        }))
    }

    /// Answer a genm asking for a KEM ciphertext (RFC 9810 section
    /// 5.1.3.4): validate the KEM certificate (first in extraCerts, keyUsage
    /// keyEncipherment when present) against `client_trust`, encapsulate to
    /// its key, keep the shared secret for this transaction, and send the
    /// ciphertext in a genp.
    fn kem_ciphertext(
        &self,
        msg: &ParsedMessage,
        ctx: &ReplyContext,
        now: Timestamp,
    ) -> Result<Handled> {
        let cfg = &self.config;
        let cert = msg
            .extra_certs()
            .first()
            .ok_or(Error::BadRequest("no KEM certificate in extraCerts"))?;
        let trust = cfg.client_trust.as_ref().ok_or(Error::SignerNotTrusted(
            "no trust anchors for KEM certificates",
        ))?;
        let mut pool = msg.extra_certs().to_vec();
        pool.extend(cfg.untrusted.iter().cloned());
        let opts = crate::trust::ValidationOptions {
            required_key_usage: Some(x509_cert::ext::pkix::KeyUsages::KeyEncipherment.into()),
            ..crate::trust::ValidationOptions::default()
        };
        crate::trust::validate_chain(cert, &pool, trust, now, &opts, cfg.provider.as_ref())?;
        let spki = cert.tbs_certificate().subject_public_key_info();
        let kem = crate::kem::kem_from_oid(&spki.algorithm.oid)?;
        let encapsulated = cfg.provider.kem_encapsulate(kem, spki)?;
        let session = crate::kem::KemSession {
            shared_secret: OctetString::new(encapsulated.shared_secret).map_err(Error::Encode)?,
            peer_certificate: Some(cert.clone()),
        };
        store_kem_session(cfg, &ctx.transaction_id, &session, now)?;
        let body = PkiBody::Genp(alloc::vec![crate::kem::ciphertext_response(
            kem,
            &encapsulated.ciphertext
        )?]);
        let (bytes, _) = build_reply(cfg, ctx, body, false, now)?;
        Ok(Handled::Reply(Reply {
            bytes,
            body: BodyType::Genp,
            transaction_id: ctx.transaction_id.clone(),
            error: None,
            event: None,
            inner: Vec::new(),
        }))
    }

    fn load(&self, ctx: &ReplyContext, now: Timestamp) -> Result<TransactionRecord> {
        self.load_raw(ctx, now).map(|(record, _)| record)
    }

    /// The record and its serialized form (for [`TransactionStore::replace`]).
    fn load_raw(&self, ctx: &ReplyContext, now: Timestamp) -> Result<(TransactionRecord, Vec<u8>)> {
        let bytes = self
            .config
            .store
            .get(&ctx.transaction_id, now)?
            .ok_or(Error::BadRequest(
                "no open transaction with this transactionID",
            ))?;
        Ok((TransactionRecord::from_bytes(&bytes)?, bytes))
    }

    fn cert_conf(
        &self,
        msg: &ParsedMessage,
        ctx: &ReplyContext,
        now: Timestamp,
    ) -> Result<Handled> {
        let (mut record, loaded) = self.load_raw(ctx, now)?;
        let PkiBody::CertConf(statuses) = msg.body() else {
            return Err(Error::UnexpectedBody {
                got: msg.body_type().name(),
            });
        };
        match record.phase()? {
            Phase::AwaitingConfirm => {}
            Phase::Done => return Err(Error::CertConfirmed),
            Phase::AwaitingDecision | Phase::AwaitingPopResponse => {
                return Err(Error::BadRequest("no certificate was issued yet"));
            }
        }
        check_recip_nonce(msg, &record)?;
        // taken: the record is stored again below without it
        let issued = record
            .issued
            .take()
            .ok_or(Error::Store(String::from("issued certificate missing")))?;
        let [status] = statuses.as_slice() else {
            return Err(Error::BadRequest(
                "certConf must confirm exactly one certificate",
            ));
        };
        if status.cert_req_id != record.cert_req_id {
            return Err(Error::BadCertId);
        }
        let digest = match &status.hash_alg {
            Some(a) => alg::digest_from_oid(&a.oid)?,
            None => alg::signature_from_identifier(issued.signature_algorithm())
                .ok()
                .and_then(alg::signature_hash)
                .unwrap_or(DigestAlgorithm::Sha256),
        };
        let der = issued.to_der().map_err(Error::Encode)?;
        let hash = self.config.provider.digest(digest, &[&der])?;
        if !self
            .config
            .provider
            .constant_time_eq(&hash, status.cert_hash.as_bytes())
        {
            // With an encrypted certificate the hash is the proof of possession.
            let original = ParsedMessage::decode(record.request.as_bytes(), &self.config.limits)?;
            let indirect = matches!(original.body(),
                PkiBody::Ir(r) | PkiBody::Cr(r) | PkiBody::Kur(r)
                    if r.first().is_some_and(crate::pop_kem::requests_encr_cert));
            return Err(if indirect {
                Error::BadPop
            } else {
                Error::BadCertId
            });
        }
        let event = match &status.status_info {
            Some(s) if !s.status.is_success() => ResponderEvent::ConfirmationRejected {
                cert: issued,
                status: s.clone(),
            },
            _ => ResponderEvent::Confirmed(issued),
        };
        let reply = build_reply(
            &self.config,
            ctx,
            PkiBody::PkiConf(der::asn1::Null),
            false,
            now,
        )?;
        record.phase = Phase::Done as u8;
        record.issued = None;
        record.last_nonce = OctetString::new(reply.1).map_err(Error::Encode)?;
        // Compare-and-swap: of two certConfs racing on two front ends only
        // one confirms; an expired (swept) transaction is not revived.
        let replaced = self.config.store.replace(
            &ctx.transaction_id,
            &loaded,
            record.to_bytes()?,
            now.plus_secs(self.config.transaction_lifetime),
            now,
        )?;
        if !replaced {
            return match self.load(ctx, now).and_then(|r| r.phase()) {
                Ok(Phase::Done) => Err(Error::CertConfirmed),
                _ => Err(Error::BadRequest(
                    "the transaction changed meanwhile or expired",
                )),
            };
        }
        Ok(Handled::Reply(Reply {
            bytes: reply.0,
            body: BodyType::PkiConf,
            transaction_id: ctx.transaction_id.clone(),
            error: None,
            event: Some(event),
            inner: Vec::new(),
        }))
    }

    fn poll_req(
        &self,
        msg: ParsedMessage,
        ctx: &ReplyContext,
        auth: Authenticated,
        now: Timestamp,
    ) -> Result<Handled> {
        let record = self.load(ctx, now)?;
        if record.phase()? != Phase::AwaitingDecision {
            return Err(Error::BadRequest("nothing to poll for"));
        }
        check_recip_nonce(&msg, &record)?;
        let PkiBody::PollReq(entries) = msg.body() else {
            return Err(Error::UnexpectedBody {
                got: msg.body_type().name(),
            });
        };
        if !entries.iter().any(|e| e.cert_req_id == record.cert_req_id) {
            return Err(Error::BadCertId);
        }
        let original = ParsedMessage::decode(record.request.as_bytes(), &self.config.limits)?;
        // The original request's context, with this message's nonce and protection.
        let mut poll_ctx = ctx.clone();
        poll_ctx.implicit_confirm_asked = original.implicit_confirm();
        let pending = PendingRequest::new(
            Arc::clone(&self.config),
            poll_ctx,
            original,
            auth,
            Some(record.clone()),
            record.polls + 1,
        )?;
        Ok(Handled::Decide(pending))
    }

    fn client_error(
        &self,
        msg: &ParsedMessage,
        ctx: &ReplyContext,
        now: Timestamp,
    ) -> Result<Handled> {
        let PkiBody::Error(content) = msg.body() else {
            return Err(Error::UnexpectedBody {
                got: msg.body_type().name(),
            });
        };
        // The transaction ends whatever state it was in.
        self.config.store.remove(&ctx.transaction_id)?;
        let (bytes, _) = build_reply(
            &self.config,
            ctx,
            PkiBody::PkiConf(der::asn1::Null),
            false,
            now,
        )?;
        Ok(Handled::Reply(Reply {
            bytes,
            body: BodyType::PkiConf,
            transaction_id: ctx.transaction_id.clone(),
            error: None,
            event: Some(ResponderEvent::ClientError(PeerFailure {
                body: BodyType::Error,
                status: content.pki_status_info.clone(),
                error_code: content.error_code,
                error_details: content.error_details.clone().unwrap_or_default(),
            })),
            inner: Vec::new(),
        }))
    }
}

/// A follow-up message must echo the senderNonce of our last reply.
fn check_recip_nonce(msg: &ParsedMessage, record: &TransactionRecord) -> Result<()> {
    if msg.recip_nonce() == Some(record.last_nonce.as_bytes()) {
        Ok(())
    } else {
        Err(Error::BadRecipientNonce)
    }
}

/// Build and protect a reply; returns its DER and its senderNonce.
pub(crate) fn build_reply(
    cfg: &ResponderConfig,
    ctx: &ReplyContext,
    body: PkiBody,
    grant_implicit: bool,
    now: Timestamp,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut builder = HeaderBuilder::new()
        .pvno(ctx.pvno)
        .sender(cfg.sender())
        .recipient(ctx.recipient.clone());
    if !ctx.transaction_id.is_empty() {
        builder = builder.transaction_id(&ctx.transaction_id);
    }
    if let Some(n) = &ctx.client_nonce {
        builder = builder.recip_nonce(n);
    }
    if grant_implicit {
        builder = builder.implicit_confirm();
    }
    let issuing = matches!(
        body,
        PkiBody::Ip(_) | PkiBody::Cp(_) | PkiBody::Kup(_) | PkiBody::Ccp(_)
    );
    if issuing
        && !grant_implicit
        && let Some(wait) = cfg.confirm_wait_time
    {
        let t = now.plus_secs(wait).to_generalized_time()?;
        builder = builder.general_info(crate::asn1::InfoTypeAndValue {
            info_type: oid::IT_CONFIRM_WAIT_TIME,
            info_value: Some(der::asn1::Any::encode_from(&t).map_err(Error::Encode)?),
        });
    }
    let header = builder.build(cfg.provider.as_ref(), now)?;
    let nonce = header
        .sender_nonce
        .as_ref()
        .map(|n| n.as_bytes().to_vec())
        .unwrap_or_default();
    let extra = if issuing {
        cfg.extra_certs.clone()
    } else {
        Vec::new()
    };
    let protector = match &ctx.protection {
        ReplyProtection::Mac {
            reference,
            secret,
            scheme,
        } => Protector::Mac {
            reference: reference.clone(),
            secret: secret.clone(),
            scheme: *scheme,
        },
        ReplyProtection::Signature => cfg.signer.clone().unwrap_or(Protector::None),
        ReplyProtection::None => Protector::None,
    };
    let der = protector.protect_to_der(header, body, extra, cfg.provider.as_ref())?;
    Ok((der, nonce))
}

/// An error reply for `e` (status rejection, the error's failure bit, its text).
pub(crate) fn error_reply(
    cfg: &ResponderConfig,
    ctx: Option<&ReplyContext>,
    e: Error,
    now: Timestamp,
) -> Reply {
    let fallback;
    let ctx = match ctx {
        Some(c) => c,
        None => {
            fallback = ReplyContext {
                pvno: pvno::CMP2000,
                transaction_id: Vec::new(),
                client_nonce: None,
                recipient: crate::message::null_dn(),
                protection: if cfg.signer.is_some() {
                    ReplyProtection::Signature
                } else {
                    ReplyProtection::None
                },
                implicit_confirm_asked: false,
            };
            &fallback
        }
    };
    let text = alloc::format!("{e}");
    let body = PkiBody::Error(ErrorMsgContent {
        pki_status_info: PkiStatusInfo::with_failure(
            PkiStatus::Rejection,
            &[e.failure_bit()],
            Some(&text),
        ),
        error_code: Some(i64::from(e.code())),
        error_details: None,
    });
    let bytes = build_reply(cfg, ctx, body.clone(), false, now)
        .map(|(b, _)| b)
        // Protection itself failed (e.g. the signer is broken): send it unprotected.
        .or_else(|_| {
            let mut plain = ctx.clone();
            plain.protection = ReplyProtection::None;
            build_reply(cfg, &plain, body, false, now).map(|(b, _)| b)
        })
        .unwrap_or_default();
    Reply {
        bytes,
        body: BodyType::Error,
        transaction_id: ctx.transaction_id.clone(),
        error: Some(e),
        event: None,
        inner: Vec::new(),
    }
}

/// The failure bit an error reply carries, for tests and logs.
pub fn failure_bit_of(reply: &Reply) -> Option<FailureBit> {
    reply.error.as_ref().map(Error::failure_bit)
}

/// Keep the KEM shared secret of transaction `tid` for its lifetime; a
/// session already held for it means the transactionID is in use.
fn store_kem_session(
    cfg: &ResponderConfig,
    tid: &[u8],
    session: &crate::kem::KemSession,
    now: Timestamp,
) -> Result<()> {
    let inserted = cfg.store.insert_new(
        &crate::kem::session_key(tid),
        session.to_bytes()?,
        now.plus_secs(cfg.transaction_lifetime),
        now,
    )?;
    if inserted {
        Ok(())
    } else {
        Err(Error::TransactionIdInUse)
    }
}
