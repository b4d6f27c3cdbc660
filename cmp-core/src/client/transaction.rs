//! The client transaction state machine.
//!
//! Every transition is in [`ClientTransaction::handle_response`],
//! [`ClientTransaction::handle_timeout`] and [`ClientTransaction::confirm`];
//! any error moves the transaction to the terminal `Failed` state (the h11
//! rule), except that a certificate failing the client's own checks is first
//! rejected towards the server with a certConf.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

use der::Encode;
use der::asn1::OctetString;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::request::CertReq;

use super::ClientConfig;
use super::request::{EnrollKind, EnrollRequest, KeyRecoveryRequest, PopMethod, RevokeRequest};
use crate::alg;
use crate::asn1::cmp::pvno;
use crate::asn1::{
    BodyType, CertOrEncCert, CertRepMessage, CertStatus, CertifiedKeyPair, EncryptedKey,
    FailureBit, InfoTypeAndValue, KeyRecRepContent, PkiBody, PkiStatus, PkiStatusInfo, PollReq,
    oid,
};
use crate::crypto::{DigestAlgorithm, EnvelopeOpener};
use crate::error::{Error, PeerFailure, Result};
use crate::keygen::{self, PrivateKeyDer};
use crate::message::{HeaderBuilder, ParsedMessage};
use crate::time::Timestamp;
use crate::verify::{self, Authenticated, ProtectionPolicy};

/// certReqId used for requests that are not CRMF (p10cr, rr, genm).
const NO_CERT_REQ_ID: i64 = -1;

/// What kind of exchange a transaction runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionKind {
    /// ir, cr or kur.
    Enroll(EnrollKind),
    /// PKCS#10 request.
    P10cr,
    /// Revocation.
    Revoke,
    /// General message.
    Genm,
    /// Key recovery (krr).
    KeyRecovery,
}

/// A certificate the server issued, handed to the caller for checking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCertificate {
    /// The new certificate.
    pub cert: Certificate,
    /// Its issuer chain as found in extraCerts and caPubs (issuer first).
    pub chain: Vec<Certificate>,
    /// caPubs of the response (CA certificates offered as trust anchors).
    pub ca_pubs: Vec<Certificate>,
    /// extraCerts of the response.
    pub extra_certs: Vec<Certificate>,
    /// Whether the server granted implicit confirmation.
    pub implicit_confirm_granted: bool,
    /// The status (accepted or grantedWithMods, possibly with text).
    pub status: PkiStatusInfo,
    /// Central key generation: the private key the PKI generated (PKCS#8
    /// DER), decrypted, its signature verified and checked to belong to
    /// `cert`.
    pub private_key: Option<PrivateKeyDer>,
}

/// One recovered key pair of a krp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveredKey {
    /// The certificate of the key.
    pub cert: Certificate,
    /// The private key (PKCS#8 DER), decrypted, its signature verified and
    /// checked to belong to `cert`.
    pub private_key: PrivateKeyDer,
}

/// What a key recovery response (krp) delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveredKeys {
    /// The status (accepted or grantedWithMods).
    pub status: PkiStatusInfo,
    /// A new signing certificate for the request's new key.
    pub new_sig_cert: Option<Certificate>,
    /// CA certificates.
    pub ca_certs: Vec<Certificate>,
    /// The recovered key pairs (keyPairHist), in the PKI's order.
    pub keys: Vec<RecoveredKey>,
}

/// What happened after an input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum ClientEvent {
    /// Nothing for the caller to decide: drain `poll_transmit` and go on.
    Continue,
    /// The server asks to wait; call `handle_timeout` at `until` (or later).
    Waiting {
        /// When to poll.
        until: Timestamp,
    },
    /// A certificate was issued; decide with [`ClientTransaction::confirm`].
    CertificateIssued(IssuedCertificate),
    /// The revocation was accepted.
    Revoked {
        /// The server's status.
        status: PkiStatusInfo,
    },
    /// The general response arrived.
    GeneralResponse(Vec<InfoTypeAndValue>),
    /// The key recovery response arrived; the transaction is complete.
    KeysRecovered(RecoveredKeys),
    /// The transaction finished successfully.
    Completed,
}

/// The caller's decision on an issued certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// Accept it.
    Accept,
    /// Reject it with this status (rejection and failInfo).
    Reject(PkiStatusInfo),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    /// The answer to the first request.
    Initial,
    /// The answer to a pollReq.
    Poll,
    /// pkiConf; then fail with the error if one is kept.
    PkiConf(Option<Error>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    AwaitingResponse(Expect),
    PollWait {
        at: Timestamp,
    },
    AwaitingConfirm {
        issued: Box<Certificate>,
        cert_req_id: i64,
        implicit: bool,
        deadline: Option<Timestamp>,
    },
    Done,
    Failed,
}

/// One CMP transaction on the end-entity side.
pub struct ClientTransaction {
    config: Arc<ClientConfig>,
    kind: TransactionKind,
    state: State,
    transaction_id: Vec<u8>,
    our_nonce: Vec<u8>,
    their_nonce: Option<Vec<u8>>,
    sender: GeneralName,
    cert_req_id: i64,
    expected_key: Option<SubjectPublicKeyInfoOwned>,
    expected_subject: Option<Name>,
    deadline: Option<Timestamp>,
    outbox: VecDeque<Vec<u8>>,
    authenticated_as: Option<Authenticated>,
    /// The protocol version of our messages (3 when EnvelopedData is used).
    pvno: u64,
    /// The KEM key an encrypted certificate is for (indirect POP).
    decryption_key: Option<Arc<dyn crate::crypto::DecapsulationKey>>,
    /// The KEM key a popdecc challenge is for (direct POP); taken when the
    /// challenge is answered, so a second popdecc is unexpected.
    challenge_key: Option<Arc<dyn crate::crypto::DecapsulationKey>>,
    /// Central key generation or key recovery: opens delivered keys.
    key_opener: Option<Arc<dyn EnvelopeOpener>>,
    /// Central key generation: the key type asked for.
    requested_key_alg: Option<spki::AlgorithmIdentifierOwned>,
}

impl core::fmt::Debug for ClientTransaction {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientTransaction")
            .field("kind", &self.kind)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl ClientTransaction {
    /// Start an ir, cr or kur; the request is ready in `poll_transmit`.
    pub fn start_enroll(
        config: impl Into<Arc<ClientConfig>>,
        request: &EnrollRequest,
        now: Timestamp,
    ) -> Result<Self> {
        let config = config.into();
        let body = request.to_body()?;
        let subject = request.requested_subject();
        let mut tx = Self::new(
            config,
            TransactionKind::Enroll(request.kind),
            subject.clone(),
            now,
        );
        tx.cert_req_id = request.cert_req_id;
        if let PopMethod::CentralKeyGen { algorithm, opener } = &request.pop {
            tx.key_opener = Some(Arc::clone(opener));
            tx.requested_key_alg = algorithm.clone();
        } else {
            tx.expected_key = Some(request.public_key());
        }
        tx.expected_subject = subject;
        if let super::PopMethod::EncryptedCert(key) = &request.pop {
            tx.decryption_key = Some(Arc::clone(key));
            tx.pvno = pvno::CMP2021;
        }
        if let super::PopMethod::ChallengeResponse(key) = &request.pop {
            tx.challenge_key = Some(Arc::clone(key));
            tx.pvno = pvno::CMP2021;
        }
        tx.send_first(body, now)?;
        Ok(tx)
    }

    /// Start an ir.
    pub fn start_ir(
        config: impl Into<Arc<ClientConfig>>,
        mut request: EnrollRequest,
        now: Timestamp,
    ) -> Result<Self> {
        request.kind = EnrollKind::Ir;
        Self::start_enroll(config, &request, now)
    }

    /// Start a cross-certification request (ccr): `request` carries the
    /// requesting CA's name and key; the answer is a ccp, confirmed like a cp.
    pub fn start_ccr(
        config: impl Into<Arc<ClientConfig>>,
        mut request: EnrollRequest,
        now: Timestamp,
    ) -> Result<Self> {
        request.kind = EnrollKind::Ccr;
        Self::start_enroll(config, &request, now)
    }

    /// Start a PKCS#10 request with a DER-encoded CSR.
    pub fn start_p10cr(
        config: impl Into<Arc<ClientConfig>>,
        csr: CertReq,
        now: Timestamp,
    ) -> Result<Self> {
        let config = config.into();
        let subject = Some(csr.info.subject.clone());
        let mut tx = Self::new(config, TransactionKind::P10cr, subject.clone(), now);
        tx.cert_req_id = NO_CERT_REQ_ID;
        tx.expected_key = Some(csr.info.public_key.clone());
        tx.expected_subject = subject;
        tx.send_first(PkiBody::P10cr(csr), now)?;
        Ok(tx)
    }

    /// Start a revocation request.
    pub fn start_rr(
        config: impl Into<Arc<ClientConfig>>,
        request: &RevokeRequest,
        now: Timestamp,
    ) -> Result<Self> {
        let config = config.into();
        let mut tx = Self::new(config, TransactionKind::Revoke, None, now);
        tx.cert_req_id = NO_CERT_REQ_ID;
        tx.send_first(request.to_body()?, now)?;
        Ok(tx)
    }

    /// Start a key recovery request (krr).
    pub fn start_krr(
        config: impl Into<Arc<ClientConfig>>,
        request: &KeyRecoveryRequest,
        now: Timestamp,
    ) -> Result<Self> {
        let config = config.into();
        let body = request.to_body()?;
        let mut tx = Self::new(
            config,
            TransactionKind::KeyRecovery,
            request.subject.clone(),
            now,
        );
        tx.cert_req_id = 0;
        tx.expected_key = request.new_key.as_ref().map(|k| k.public_key());
        tx.key_opener = Some(Arc::clone(&request.opener));
        tx.send_first(body, now)?;
        Ok(tx)
    }

    /// Start a general message with these InfoTypeAndValues (possibly none).
    pub fn start_genm(
        config: impl Into<Arc<ClientConfig>>,
        content: Vec<InfoTypeAndValue>,
        now: Timestamp,
    ) -> Result<Self> {
        let config = config.into();
        let mut tx = Self::new(config, TransactionKind::Genm, None, now);
        tx.cert_req_id = NO_CERT_REQ_ID;
        tx.send_first(PkiBody::Genm(content), now)?;
        Ok(tx)
    }

    fn new(
        config: Arc<ClientConfig>,
        kind: TransactionKind,
        subject: Option<Name>,
        now: Timestamp,
    ) -> Self {
        let sender = config
            .sender
            .clone()
            .or_else(|| config.protector.signer_subject().cloned())
            .or(subject)
            .map(GeneralName::DirectoryName)
            .unwrap_or_else(crate::message::null_dn);
        let deadline = config.total_timeout.map(|t| now.plus_secs(t));
        let pv = config.pvno;
        Self {
            config,
            kind,
            state: State::AwaitingResponse(Expect::Initial),
            transaction_id: Vec::new(),
            our_nonce: Vec::new(),
            their_nonce: None,
            sender,
            cert_req_id: 0,
            expected_key: None,
            expected_subject: None,
            deadline,
            outbox: VecDeque::new(),
            authenticated_as: None,
            pvno: pv,
            decryption_key: None,
            challenge_key: None,
            key_opener: None,
            requested_key_alg: None,
        }
    }

    // ----- getters -----

    /// What this transaction does.
    pub fn kind(&self) -> TransactionKind {
        self.kind
    }

    /// The transactionID.
    pub fn transaction_id(&self) -> &[u8] {
        &self.transaction_id
    }

    /// Whether the transaction has ended (successfully or not).
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done | State::Failed)
    }

    /// Whether the transaction ended successfully.
    pub fn is_completed(&self) -> bool {
        self.state == State::Done
    }

    /// How the last response was authenticated.
    pub fn authenticated_as(&self) -> Option<&Authenticated> {
        self.authenticated_as.as_ref()
    }

    // ----- outputs -----

    /// The next message to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outbox.pop_front()
    }

    /// When `handle_timeout` should be called next: the polling time, the
    /// confirmWaitTime, or the transaction deadline, whichever is first.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let state_time = match &self.state {
            State::PollWait { at } => Some(*at),
            State::AwaitingConfirm { deadline, .. } => *deadline,
            _ => None,
        };
        match (state_time, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- inputs -----

    /// Time has passed: send the due pollReq, or give up at the deadline.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Result<()> {
        if self.is_finished() {
            return Ok(());
        }
        if self.deadline.is_some_and(|d| now >= d) {
            return self.fail(Error::Timeout);
        }
        if let State::PollWait { at } = self.state
            && now >= at
        {
            self.send_poll_req(now)?;
        }
        Ok(())
    }

    /// Handle the server's response bytes.
    pub fn handle_response(&mut self, bytes: &[u8], now: Timestamp) -> Result<ClientEvent> {
        let expect = match &self.state {
            State::AwaitingResponse(e) => e.clone(),
            State::Done | State::Failed => return Err(Error::Usage("the transaction has ended")),
            _ => return Err(Error::Usage("no response is expected now")),
        };
        if self.deadline.is_some_and(|d| now >= d) {
            return self.fail(Error::Timeout);
        }
        match self.process_response(bytes, now, expect) {
            Ok(event) => Ok(event),
            Err(e) => self.fail(e),
        }
    }

    /// The caller's decision on the certificate of `CertificateIssued`.
    pub fn confirm(&mut self, decision: Confirmation, now: Timestamp) -> Result<ClientEvent> {
        // Every path below sets the state again: take it rather than copy
        // the certificate.
        let (issued, cert_req_id, implicit, deadline) =
            match core::mem::replace(&mut self.state, State::Failed) {
                State::AwaitingConfirm {
                    issued,
                    cert_req_id,
                    implicit,
                    deadline,
                } => (issued, cert_req_id, implicit, deadline),
                other => {
                    self.state = other;
                    return Err(Error::Usage("no certificate awaits confirmation"));
                }
            };
        if deadline.is_some_and(|d| now > d) || self.deadline.is_some_and(|d| now >= d) {
            return self.fail(Error::Timeout);
        }
        if implicit {
            // Implicit confirmation was granted: nothing is sent either way.
            self.state = State::Done;
            return Ok(ClientEvent::Completed);
        }
        let status = match decision {
            Confirmation::Accept => PkiStatusInfo::accepted(),
            Confirmation::Reject(s) => s,
        };
        match self.send_cert_conf(&issued, cert_req_id, status, now) {
            Ok(()) => {
                self.state = State::AwaitingResponse(Expect::PkiConf(None));
                Ok(ClientEvent::Continue)
            }
            Err(e) => self.fail(e),
        }
    }

    // ----- internals -----

    fn fail<T>(&mut self, e: Error) -> Result<T> {
        self.state = State::Failed;
        Err(e)
    }

    fn process_response(
        &mut self,
        bytes: &[u8],
        now: Timestamp,
        expect: Expect,
    ) -> Result<ClientEvent> {
        let config = Arc::clone(&self.config);
        let msg = ParsedMessage::decode(bytes, &config.limits)?;
        self.authenticate(&msg, now)?;
        self.check_header(&msg, now)?;
        self.their_nonce = msg.sender_nonce().map(<[u8]>::to_vec);

        let body_type = msg.body_type();
        match (expect, msg.body()) {
            (Expect::PkiConf(then), PkiBody::PkiConf(_)) => match then {
                Some(e) => Err(e),
                None => {
                    self.state = State::Done;
                    Ok(ClientEvent::Completed)
                }
            },
            (_, PkiBody::Error(content)) => {
                if content.pki_status_info.status == PkiStatus::Waiting && self.can_poll() {
                    return self.poll_now(now);
                }
                Err(Error::Peer(PeerFailure {
                    body: BodyType::Error,
                    status: content.pki_status_info.clone(),
                    error_code: content.error_code,
                    error_details: content.error_details.clone().unwrap_or_default(),
                }))
            }
            (Expect::Initial | Expect::Poll, PkiBody::PollRep(entries)) if self.can_poll() => {
                let entry = entries
                    .iter()
                    .find(|e| e.cert_req_id == self.cert_req_id)
                    .or_else(|| entries.first())
                    .ok_or(Error::IncorrectData("empty pollRep"))?;
                // negative waits count as zero; the deadline caps the rest
                let wait = u64::try_from(entry.check_after).unwrap_or(0);
                let until = now.plus_secs(wait);
                self.state = State::PollWait { at: until };
                Ok(ClientEvent::Waiting { until })
            }
            (
                Expect::Initial | Expect::Poll,
                PkiBody::Ip(_) | PkiBody::Cp(_) | PkiBody::Kup(_) | PkiBody::Ccp(_),
            ) if self.expected_response() == Some(body_type) => self.handle_cert_rep(msg, now),
            (Expect::Initial, PkiBody::Popdecc(challenges)) if self.challenge_key.is_some() => {
                self.answer_challenges(&msg, challenges, now)
            }
            (Expect::Initial | Expect::Poll, PkiBody::Rp(rp))
                if self.kind == TransactionKind::Revoke =>
            {
                let status = rp
                    .status
                    .first()
                    .cloned()
                    .ok_or(Error::IncorrectData("rp without status"))?;
                if status.status == PkiStatus::Waiting {
                    return self.poll_now(now);
                }
                if status.status.is_success() {
                    self.state = State::Done;
                    Ok(ClientEvent::Revoked { status })
                } else {
                    Err(Error::Peer(PeerFailure::from_status(BodyType::Rp, status)))
                }
            }
            (Expect::Initial | Expect::Poll, PkiBody::Krp(krp))
                if self.kind == TransactionKind::KeyRecovery =>
            {
                self.handle_krp(krp, now)
            }
            (Expect::Initial | Expect::Poll, PkiBody::Genp(content))
                if self.kind == TransactionKind::Genm =>
            {
                self.state = State::Done;
                Ok(ClientEvent::GeneralResponse(content.clone()))
            }
            _ => Err(Error::UnexpectedBody {
                got: body_type.name(),
            }),
        }
    }

    /// Direct POP: decrypt the challenge of a popdecc and send the popdecr;
    /// the ip/cp/kup is the answer to it.
    fn answer_challenges(
        &mut self,
        msg: &ParsedMessage,
        challenges: &[crate::asn1::Challenge],
        now: Timestamp,
    ) -> Result<ClientEvent> {
        let key = self
            .challenge_key
            .take()
            .ok_or(Error::UnexpectedBody { got: "popdecc" })?;
        let answers = crate::pop_challenge::answer_challenges(
            challenges,
            &[key.as_ref()],
            &msg.header().sender,
            self.config.provider.as_ref(),
        )?;
        self.send(PkiBody::Popdecr(answers), now, false)?;
        self.state = State::AwaitingResponse(Expect::Initial);
        Ok(ClientEvent::Continue)
    }

    fn can_poll(&self) -> bool {
        matches!(
            self.state,
            State::AwaitingResponse(Expect::Initial | Expect::Poll)
        )
    }

    fn expected_response(&self) -> Option<BodyType> {
        match self.kind {
            TransactionKind::Enroll(EnrollKind::Ir) => Some(BodyType::Ip),
            TransactionKind::Enroll(EnrollKind::Cr) | TransactionKind::P10cr => Some(BodyType::Cp),
            TransactionKind::Enroll(EnrollKind::Kur) => Some(BodyType::Kup),
            TransactionKind::Enroll(EnrollKind::Ccr) => Some(BodyType::Ccp),
            _ => None,
        }
    }

    fn poll_now(&mut self, now: Timestamp) -> Result<ClientEvent> {
        self.send_poll_req(now)?;
        Ok(ClientEvent::Waiting { until: now })
    }

    fn authenticate(&mut self, msg: &ParsedMessage, now: Timestamp) -> Result<()> {
        let config = &self.config;
        let policy = ProtectionPolicy {
            secret: config.mac_secret(),
            trust: config.server_trust.as_ref(),
            untrusted: &config.untrusted,
            accept_unprotected: config.accept_unprotected_responses,
        };
        // The server's path validated for an earlier reply is not re-verified.
        let known = self.authenticated_as.as_ref();
        match verify::authenticate_with_known(
            msg,
            &policy,
            now,
            config.provider.as_ref(),
            &config.limits,
            known,
        ) {
            Ok(auth) => {
                self.authenticated_as = Some(auth);
                Ok(())
            }
            Err(e) => {
                // An error message we cannot authenticate is reported, never trusted.
                if let PkiBody::Error(content) = msg.body()
                    && matches!(
                        e,
                        Error::MissingProtection | Error::WrongIntegrity | Error::BadMessageCheck
                    )
                {
                    return Err(Error::UnauthenticatedError(PeerFailure {
                        body: BodyType::Error,
                        status: content.pki_status_info.clone(),
                        error_code: content.error_code,
                        error_details: content.error_details.clone().unwrap_or_default(),
                    }));
                }
                Err(e)
            }
        }
    }

    fn check_header(&self, msg: &ParsedMessage, now: Timestamp) -> Result<()> {
        let pv = msg.pvno();
        if pv != pvno::CMP2000 && pv != pvno::CMP2021 {
            return Err(Error::UnsupportedVersion(pv));
        }
        if msg.transaction_id() != Some(self.transaction_id.as_slice()) {
            return Err(Error::TransactionIdMismatch);
        }
        if msg.recip_nonce() != Some(self.our_nonce.as_slice()) {
            return Err(Error::BadRecipientNonce);
        }
        if msg.sender_nonce().is_none_or(|n| n.is_empty()) {
            return Err(Error::BadSenderNonce);
        }
        if let Some(expected) = &self.config.expected_sender
            && &msg.header().sender != expected
        {
            return Err(Error::WrongSender);
        }
        verify::check_message_time(msg, now, self.config.max_time_skew)
    }

    /// An ip, cp, kup or ccp. The message is taken: the certificates it
    /// carries move into the event instead of being copied.
    fn handle_cert_rep(&mut self, msg: ParsedMessage, now: Timestamp) -> Result<ClientEvent> {
        let body_type = msg.body_type();
        let implicit = self.config.implicit_confirm && msg.implicit_confirm();
        let confirm_deadline = msg
            .general_info()
            .iter()
            .find(|i| i.info_type == oid::IT_CONFIRM_WAIT_TIME)
            .and_then(|i| i.info_value.as_ref())
            .and_then(|v| v.decode_as::<der::asn1::GeneralizedTime>().ok())
            .map(|t| Timestamp::from_generalized_time(&t));
        let message = msg.into_message();
        let (PkiBody::Ip(rep) | PkiBody::Cp(rep) | PkiBody::Kup(rep) | PkiBody::Ccp(rep)) =
            message.body
        else {
            return Err(Error::UnexpectedBody {
                got: body_type.name(),
            });
        };
        let extra_certs = message.extra_certs.unwrap_or_default();
        let CertRepMessage { ca_pubs, response } = rep;
        let index = match self.kind {
            // p10cr answers carry certReqId -1 (RFC 9483) or 0 (some CAs)
            TransactionKind::P10cr => (!response.is_empty()).then_some(0),
            _ => response
                .iter()
                .position(|r| r.cert_req_id == self.cert_req_id),
        }
        .ok_or(Error::BadCertId)?;
        let response = response.into_iter().nth(index).ok_or(Error::BadCertId)?;
        let status = response.status;
        if status.status == PkiStatus::Waiting {
            return self.poll_now(now);
        }
        if !status.status.is_success() {
            return Err(Error::Peer(PeerFailure::from_status(body_type, status)));
        }
        let (cert_or_enc_cert, delivered) = match response.certified_key_pair {
            Some(CertifiedKeyPair {
                cert_or_enc_cert,
                private_key,
                ..
            }) => (Some(cert_or_enc_cert), private_key),
            None => (None, None),
        };
        let cert = match cert_or_enc_cert {
            Some(CertOrEncCert::Certificate(c)) => c,
            Some(CertOrEncCert::EncryptedCert(crate::asn1::EncryptedKey::EnvelopedData(env))) => {
                let key = self.decryption_key.as_ref().ok_or(Error::IncorrectData(
                    "an encrypted certificate we did not ask for",
                ))?;
                crate::pop_kem::decrypt_certificate(
                    &env,
                    key.as_ref(),
                    self.config.provider.as_ref(),
                )?
            }
            Some(CertOrEncCert::EncryptedCert(_)) => {
                return Err(Error::UnsupportedAlgorithm(
                    "encryptedCert in EncryptedValue".into(),
                ));
            }
            None => {
                return Err(Error::IncorrectData(
                    "accepted response without a certificate",
                ));
            }
        };
        let cert_req_id = response.cert_req_id;
        let ca_pubs = ca_pubs.unwrap_or_default();

        let mut private_key = None;
        let checked = self.check_issued(&cert).and_then(|()| {
            private_key = self.delivered_key(delivered.as_ref(), &cert, now)?;
            Ok(())
        });
        if let Err(e) = checked {
            if implicit {
                return Err(e);
            }
            // Tell the server we do not accept it, then report the failure.
            let bit = match e {
                Error::BadCertTemplate(_) => FailureBit::BadCertTemplate,
                Error::KeyNotForUs
                | Error::KeyDecryptFailed(_)
                | Error::KeySignatureInvalid
                | Error::KeyMismatch
                | Error::SignerNotTrusted(_) => e.failure_bit(),
                _ => FailureBit::IncorrectData,
            };
            let text = alloc::format!("{e}");
            self.send_cert_conf(
                &cert,
                cert_req_id,
                PkiStatusInfo::rejection(bit, &text),
                now,
            )?;
            self.state = State::AwaitingResponse(Expect::PkiConf(Some(e)));
            return Ok(ClientEvent::Continue);
        }

        let chain = crate::trust::issuer_chain_in(&cert, &[&extra_certs, &ca_pubs]);
        self.state = State::AwaitingConfirm {
            issued: Box::new(cert.clone()),
            cert_req_id,
            implicit,
            deadline: confirm_deadline,
        };
        Ok(ClientEvent::CertificateIssued(IssuedCertificate {
            cert,
            chain,
            ca_pubs,
            extra_certs,
            implicit_confirm_granted: implicit,
            status,
            private_key,
        }))
    }

    /// Central key generation: decrypt, verify and check the delivered key.
    fn delivered_key(
        &self,
        delivered: Option<&EncryptedKey>,
        cert: &Certificate,
        now: Timestamp,
    ) -> Result<Option<PrivateKeyDer>> {
        match (&self.key_opener, delivered) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(Error::IncorrectData(
                "a private key was delivered although none was requested",
            )),
            (Some(_), None) => Err(Error::IncorrectData(
                "central key generation: no private key was delivered",
            )),
            (Some(opener), Some(encrypted)) => {
                let key = self.open_delivered(opener.as_ref(), encrypted, cert, now)?;
                if let Some(wanted) = &self.requested_key_alg
                    && !same_key_type(
                        wanted,
                        &cert.tbs_certificate().subject_public_key_info().algorithm,
                    )
                {
                    return Err(Error::BadCertTemplate(
                        "the generated key is not of the requested type",
                    ));
                }
                Ok(Some(key))
            }
        }
    }

    /// Open one delivered key for `cert`: decrypt, verify the signer and
    /// its authority, check that the key belongs to `cert`.
    fn open_delivered(
        &self,
        opener: &dyn EnvelopeOpener,
        encrypted: &EncryptedKey,
        cert: &Certificate,
        now: Timestamp,
    ) -> Result<PrivateKeyDer> {
        let EncryptedKey::EnvelopedData(envelope) = encrypted else {
            return Err(Error::UnsupportedAlgorithm(
                "EncryptedValue (deprecated) for a delivered private key".into(),
            ));
        };
        let provider = self.config.provider.as_ref();
        let opened = keygen::open_key_package(provider, opener, envelope)?;
        let response_signer = match &self.authenticated_as {
            Some(Authenticated::Signature { signer, .. }) => Some(signer),
            _ => None,
        };
        keygen::authorize_kga(
            provider,
            &opened,
            cert,
            response_signer,
            self.config.server_trust.as_ref(),
            now,
        )?;
        let [key] = <[PrivateKeyDer; 1]>::try_from(opened.keys)
            .map_err(|_| Error::KeyDecryptFailed("the key package must hold exactly one key"))?;
        keygen::check_key_pair(
            provider,
            &key,
            cert.tbs_certificate().subject_public_key_info(),
        )?;
        Ok(key)
    }

    fn handle_krp(&mut self, krp: &KeyRecRepContent, now: Timestamp) -> Result<ClientEvent> {
        let status = krp.status.clone();
        if status.status == PkiStatus::Waiting {
            return self.poll_now(now);
        }
        if !status.status.is_success() {
            return Err(Error::Peer(PeerFailure::from_status(BodyType::Krp, status)));
        }
        let opener = self
            .key_opener
            .clone()
            .ok_or(Error::Usage("key recovery without a key opener"))?;
        let mut keys = Vec::new();
        for pair in krp.key_pair_hist.iter().flatten() {
            let CertOrEncCert::Certificate(cert) = &pair.cert_or_enc_cert else {
                return Err(Error::UnsupportedAlgorithm(
                    "encryptedCert in keyPairHist".into(),
                ));
            };
            let encrypted = pair.private_key.as_ref().ok_or(Error::IncorrectData(
                "a recovered key pair without its private key",
            ))?;
            let private_key = self.open_delivered(opener.as_ref(), encrypted, cert, now)?;
            keys.push(RecoveredKey {
                cert: cert.clone(),
                private_key,
            });
        }
        if let Some(new) = &krp.new_sig_cert {
            self.check_issued(new)?;
        } else if self.expected_key.is_some() {
            return Err(Error::IncorrectData(
                "no new signature certificate for the new key",
            ));
        }
        if keys.is_empty() && krp.new_sig_cert.is_none() {
            return Err(Error::IncorrectData("krp accepted without any key"));
        }
        self.state = State::Done;
        Ok(ClientEvent::KeysRecovered(RecoveredKeys {
            status,
            new_sig_cert: krp.new_sig_cert.clone(),
            ca_certs: krp.ca_certs.clone().unwrap_or_default(),
            keys,
        }))
    }

    /// The client's own checks of an issued certificate (RFC 9483 section 4.1.1).
    fn check_issued(&self, cert: &Certificate) -> Result<()> {
        let tbs = cert.tbs_certificate();
        if let Some(key) = &self.expected_key
            && tbs.subject_public_key_info() != key
        {
            return Err(Error::IncorrectData(
                "the certificate is for another public key",
            ));
        }
        if let Some(subject) = &self.expected_subject
            && !subject.is_empty()
            && tbs.subject() != subject
        {
            return Err(Error::BadCertTemplate(
                "the certificate's subject is not the requested one",
            ));
        }
        // A cross-certificate certifies a CA (RFC 9810 section 5.3.11).
        if self.kind == TransactionKind::Enroll(EnrollKind::Ccr)
            && !matches!(
                tbs.get_extension::<x509_cert::ext::pkix::BasicConstraints>(),
                Ok(Some((
                    _,
                    x509_cert::ext::pkix::BasicConstraints { ca: true, .. }
                )))
            )
        {
            return Err(Error::BadCertTemplate(
                "a cross-certificate must be a CA certificate",
            ));
        }
        Ok(())
    }

    fn send_first(&mut self, body: PkiBody, now: Timestamp) -> Result<()> {
        self.send(body, now, true)
    }

    fn send_poll_req(&mut self, now: Timestamp) -> Result<()> {
        let body = PkiBody::PollReq(alloc::vec![PollReq {
            cert_req_id: self.cert_req_id
        }]);
        self.send(body, now, false)?;
        self.state = State::AwaitingResponse(Expect::Poll);
        Ok(())
    }

    fn send_cert_conf(
        &mut self,
        cert: &Certificate,
        cert_req_id: i64,
        status: PkiStatusInfo,
        now: Timestamp,
    ) -> Result<()> {
        let (hash_alg, digest, needs_v3) = cert_hash_algorithm(cert);
        let der = cert.to_der().map_err(Error::Encode)?;
        let hash = self.config.provider.digest(digest, &[&der])?;
        let body = PkiBody::CertConf(alloc::vec![CertStatus {
            cert_hash: OctetString::new(hash).map_err(Error::Encode)?,
            cert_req_id,
            status_info: Some(status),
            hash_alg: if needs_v3 { Some(hash_alg) } else { None },
        }]);
        self.send_with_pvno(
            body,
            now,
            false,
            if needs_v3 { pvno::CMP2021 } else { self.pvno },
        )
    }

    fn send(&mut self, body: PkiBody, now: Timestamp, first: bool) -> Result<()> {
        self.send_with_pvno(body, now, first, self.pvno)
    }

    fn send_with_pvno(
        &mut self,
        body: PkiBody,
        now: Timestamp,
        first: bool,
        pv: u64,
    ) -> Result<()> {
        let config = Arc::clone(&self.config);
        let mut builder = HeaderBuilder::new()
            .pvno(pv)
            .sender(self.sender.clone())
            .recipient(
                config
                    .recipient
                    .clone()
                    .map(GeneralName::DirectoryName)
                    .unwrap_or_else(crate::message::null_dn),
            );
        if !first {
            builder = builder.transaction_id(&self.transaction_id);
        } else {
            if let Some(id) = &config.transaction_id {
                builder = builder.transaction_id(id);
            }
            for itav in &config.first_general_info {
                builder = builder.general_info(itav.clone());
            }
        }
        if let Some(n) = &self.their_nonce {
            builder = builder.recip_nonce(n);
        }
        if first
            && config.implicit_confirm
            && matches!(
                self.kind,
                TransactionKind::Enroll(_) | TransactionKind::P10cr
            )
        {
            builder = builder.implicit_confirm();
        }
        let header = builder.build(config.provider.as_ref(), now)?;
        if first {
            self.transaction_id = header
                .transaction_id
                .as_ref()
                .map(|t| t.as_bytes().to_vec())
                .unwrap_or_default();
        }
        self.our_nonce = header
            .sender_nonce
            .as_ref()
            .map(|n| n.as_bytes().to_vec())
            .unwrap_or_default();
        let der = config.protector.protect_to_der(
            header,
            body,
            config.extra_certs.clone(),
            config.provider.as_ref(),
        )?;
        self.outbox.push_back(der);
        Ok(())
    }
}

/// Whether a certified key is of the type a template asked for: the same
/// algorithm, and for EC keys the same curve.
fn same_key_type(
    wanted: &spki::AlgorithmIdentifierOwned,
    got: &spki::AlgorithmIdentifierOwned,
) -> bool {
    wanted.oid == got.oid
        && (wanted.oid != oid::EC_PUBLIC_KEY
            || wanted.parameters.is_none()
            || wanted.parameters == got.parameters)
}

/// The hash for certConf's certHash: the one of the certificate's signature
/// algorithm, else SHA-512 with hashAlg (which needs pvno 3, RFC 9810 5.3.18).
fn cert_hash_algorithm(
    cert: &Certificate,
) -> (spki::AlgorithmIdentifierOwned, DigestAlgorithm, bool) {
    let from_sig = alg::signature_from_identifier(cert.signature_algorithm())
        .ok()
        .and_then(alg::signature_hash);
    match from_sig {
        Some(d) => (alg::digest_algorithm_identifier(d), d, false),
        None => (
            alg::digest_algorithm_identifier(DigestAlgorithm::Sha512),
            DigestAlgorithm::Sha512,
            true,
        ),
    }
}
