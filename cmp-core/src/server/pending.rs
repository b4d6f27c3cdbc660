//! A validated request waiting for the application's decision.

use alloc::sync::Arc;
use alloc::vec::Vec;

use der::asn1::OctetString;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::request::CertReq;

use super::registry::RegistryStatus;
use super::store::{Phase, TransactionRecord};
use super::{Reply, ReplyContext, ResponderConfig, ResponderEvent, build_reply};
use crate::asn1::{
    BodyType, CertId, CertOrEncCert, CertRepMessage, CertReqMsg, CertResponse, CertTemplate,
    CertifiedKeyPair, EncryptedKey, ErrorMsgContent, InfoTypeAndValue, KeyRecRepContent, PkiBody,
    PkiStatus, PkiStatusInfo, PollRep, ProofOfPossession, RevDetails, RevRepContent, oid,
};
use crate::client::EnrollKind;
use crate::error::{Error, Result};
use crate::keygen::{self, KeyGenAuthority, PrivateKeyDer};
use crate::message::ParsedMessage;
use crate::pop;
use crate::time::Timestamp;
use crate::verify::Authenticated;

/// What a pending request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// ir, cr or kur.
    Enroll(EnrollKind),
    /// PKCS#10.
    P10cr,
    /// Revocation.
    Revoke,
    /// General message.
    Genm,
    /// Key recovery (krr).
    KeyRecovery,
}

/// A request that passed every check the responder can make itself, for
/// the application to decide. Consumed by exactly one decision.
pub struct PendingRequest {
    config: Arc<ResponderConfig>,
    ctx: ReplyContext,
    msg: ParsedMessage,
    auth: Authenticated,
    kind: RequestKind,
    record: Option<TransactionRecord>,
    polls: u32,
    cert_req_id: i64,
    central_keygen: bool,
}

impl core::fmt::Debug for PendingRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PendingRequest")
            .field("kind", &self.kind)
            .field("polls", &self.polls)
            .finish_non_exhaustive()
    }
}

impl PendingRequest {
    pub(crate) fn new(
        config: Arc<ResponderConfig>,
        ctx: ReplyContext,
        msg: ParsedMessage,
        auth: Authenticated,
        record: Option<TransactionRecord>,
        polls: u32,
    ) -> Result<Self> {
        let mut central_keygen = false;
        let (kind, cert_req_id) = match msg.body() {
            PkiBody::Krr(r) => {
                let [req] = r.as_slice() else {
                    return Err(Error::BadRequest(
                        "exactly one key recovery request is supported",
                    ));
                };
                if req.cert_req.cert_req_id != 0 {
                    return Err(Error::BadRequest("certReqId must be 0"));
                }
                // A new signing key, if one is sent, needs its POP; there
                // is no challenge-response in a key recovery.
                if crate::pop_challenge::requests_challenge_resp(req) {
                    return Err(Error::BadPop);
                }
                if req.cert_req.cert_template.public_key.is_some() {
                    check_cert_request(&config, req, &auth)?;
                }
                (RequestKind::KeyRecovery, 0)
            }
            PkiBody::Ir(r) | PkiBody::Cr(r) | PkiBody::Kur(r) | PkiBody::Ccr(r) => {
                let kind = match msg.body_type() {
                    BodyType::Ir => EnrollKind::Ir,
                    BodyType::Cr => EnrollKind::Cr,
                    BodyType::Ccr => EnrollKind::Ccr,
                    _ => EnrollKind::Kur,
                };
                let [req] = r.as_slice() else {
                    return Err(Error::BadRequest(
                        "exactly one certificate request is supported",
                    ));
                };
                // addressed elsewhere, misnamed or revoked: said before POP is checked
                check_against_registry(&config, req, kind, &auth)?;
                central_keygen = is_central_keygen(req);
                if central_keygen {
                    if req.cert_req.cert_req_id != 0 {
                        return Err(Error::BadRequest("certReqId must be 0"));
                    }
                } else {
                    check_cert_request(&config, req, &auth)?;
                }
                (RequestKind::Enroll(kind), req.cert_req.cert_req_id)
            }
            PkiBody::P10cr(csr) => {
                pop::verify_csr_pop(csr, config.provider.as_ref())?;
                if let Some(registry) = &config.registry
                    && registry.key_certified(&csr.info.public_key)
                {
                    return Err(Error::DuplicateCertReq);
                }
                (RequestKind::P10cr, -1)
            }
            PkiBody::Rr(details) => {
                let [d] = details.as_slice() else {
                    return Err(Error::BadRequest(
                        "exactly one revocation request is supported",
                    ));
                };
                let (Some(issuer), Some(serial)) =
                    (&d.cert_details.issuer, &d.cert_details.serial_number)
                else {
                    return Err(Error::BadCertTemplate(
                        "revocation needs issuer and serialNumber",
                    ));
                };
                if !is_our_authority(&config, issuer) {
                    return Err(Error::WrongAuthority);
                }
                if let Some(registry) = &config.registry {
                    match registry.status(issuer, serial.as_bytes()) {
                        RegistryStatus::Valid => {}
                        RegistryStatus::Revoked => return Err(Error::CertRevoked),
                        RegistryStatus::Unknown => return Err(Error::BadCertId),
                    }
                }
                (RequestKind::Revoke, -1)
            }
            PkiBody::Genm(_) => (RequestKind::Genm, -1),
            _ => {
                return Err(Error::UnexpectedBody {
                    got: msg.body_type().name(),
                });
            }
        };
        Ok(Self {
            config,
            ctx,
            msg,
            auth,
            kind,
            record,
            polls,
            cert_req_id,
            central_keygen,
        })
    }

    /// The record stored when the transaction opens.
    pub(crate) fn initial_record(&self) -> Result<Vec<u8>> {
        self.open_record(Phase::AwaitingDecision, Vec::new())?
            .to_bytes()
    }

    /// The record of this request before any decision, in `phase`, with
    /// the senderNonce of our last reply.
    pub(crate) fn open_record(
        &self,
        phase: Phase,
        last_nonce: Vec<u8>,
    ) -> Result<TransactionRecord> {
        Ok(TransactionRecord {
            phase: phase as u8,
            last_nonce: OctetString::new(last_nonce).map_err(Error::Encode)?,
            request: OctetString::new(self.msg.der().to_vec()).map_err(Error::Encode)?,
            cert_req_id: self.cert_req_id,
            issued: None,
            polls: 0,
            signer_path: self.signer_path(),
        })
    }

    /// The reply context of this request.
    pub(crate) fn reply_context(&self) -> &ReplyContext {
        &self.ctx
    }

    /// The validated signer path to keep in the record (signed requests).
    fn signer_path(&self) -> Option<Vec<Certificate>> {
        match &self.auth {
            Authenticated::Signature { path, .. } => Some(path.clone()),
            _ => None,
        }
    }

    // ----- what was asked -----

    /// What is asked for.
    pub fn kind(&self) -> RequestKind {
        self.kind
    }

    /// The request message (the original one when the client is polling).
    pub fn message(&self) -> &ParsedMessage {
        &self.msg
    }

    /// How the requester authenticated.
    pub fn requester(&self) -> &Authenticated {
        &self.auth
    }

    /// The transactionID.
    pub fn transaction_id(&self) -> &[u8] {
        &self.ctx.transaction_id
    }

    /// How often the client has polled for this request so far.
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// The CRMF request of an ir/cr/kur/ccr/krr.
    pub fn cert_request(&self) -> Option<&CertReqMsg> {
        match self.msg.body() {
            PkiBody::Ir(r)
            | PkiBody::Cr(r)
            | PkiBody::Kur(r)
            | PkiBody::Ccr(r)
            | PkiBody::Krr(r) => r.first(),
            _ => None,
        }
    }

    /// The PKCS#10 request of a p10cr.
    pub fn csr(&self) -> Option<&CertReq> {
        match self.msg.body() {
            PkiBody::P10cr(c) => Some(c),
            _ => None,
        }
    }

    /// The certificate template (ir/cr/kur/krr).
    pub fn template(&self) -> Option<&CertTemplate> {
        self.cert_request().map(|r| &r.cert_req.cert_template)
    }

    /// The public key to certify (ir/cr/kur/p10cr; krr: the new signing
    /// key, if any). `None` when the key is to be generated centrally.
    pub fn public_key(&self) -> Option<&SubjectPublicKeyInfoOwned> {
        if self.central_keygen {
            return None;
        }
        match self.csr() {
            Some(csr) => Some(&csr.info.public_key),
            None => self.template().and_then(|t| t.public_key.as_ref()),
        }
    }

    /// Whether the requester asks for central key generation (RFC 9483
    /// section 4.1.6: no POP, and no public key or one with an empty
    /// value). Answer with [`PendingRequest::issue_with_key`].
    pub fn central_keygen_requested(&self) -> bool {
        self.central_keygen
    }

    /// Central key generation: the key type the requester asked for (the
    /// algorithm of the template's empty public key), if it named one.
    pub fn requested_key_algorithm(&self) -> Option<&spki::AlgorithmIdentifierOwned> {
        if !self.central_keygen {
            return None;
        }
        self.template()
            .and_then(|t| t.public_key.as_ref())
            .map(|k| &k.algorithm)
    }

    /// Central key generation: generate the key through the crypto
    /// provider, of the requested type or else of type `default` (an SPKI
    /// algorithm such as `id-ecPublicKey` with `secp256r1`). Returns the
    /// private key (PKCS#8 DER) and its public key, to certify.
    pub fn generate_key(
        &self,
        default: &spki::AlgorithmIdentifierOwned,
    ) -> Result<(PrivateKeyDer, SubjectPublicKeyInfoOwned)> {
        if !self.central_keygen {
            return Err(Error::Usage(
                "the request did not ask for central key generation",
            ));
        }
        let alg = self.requested_key_algorithm().unwrap_or(default);
        let provider = self.config.provider.as_ref();
        let key = PrivateKeyDer::from(provider.generate_key(alg)?);
        let public = provider.public_key_of(key.as_bytes())?;
        Ok((key, public))
    }

    /// The private key the requester sends for archiving (the
    /// pkiArchiveOptions control of an ir/cr/kur/ccr, RFC 4211 section 6.4),
    /// decrypted with the first of `openers` it is addressed to (the CA's
    /// decryption key; a password opener of [`PendingRequest::mac_secret`])
    /// and checked to be the key of the requested public key. `None` when
    /// the request archives nothing. Errors: see
    /// [`crate::archive::archived_key`].
    pub fn archived_key(
        &self,
        openers: &[&dyn crate::crypto::EnvelopeOpener],
    ) -> Result<Option<PrivateKeyDer>> {
        let (Some(request), Some(public_key)) = (self.cert_request(), self.public_key()) else {
            return Ok(None);
        };
        crate::archive::archived_key(
            self.config.provider.as_ref(),
            request.cert_req.controls.as_deref().unwrap_or_default(),
            public_key,
            openers,
        )
    }

    /// The shared secret a MAC-protected request was verified with (e.g.
    /// to open a key the requester archived under it); `None` for other
    /// protection.
    pub fn mac_secret(&self) -> Option<&[u8]> {
        match (&self.auth, &self.ctx.protection) {
            (Authenticated::Mac, super::ReplyProtection::Mac { secret, .. }) => Some(secret),
            _ => None,
        }
    }

    /// The requested subject (ir/cr/kur/p10cr; krr: whose keys to recover).
    pub fn subject(&self) -> Option<&Name> {
        match self.csr() {
            Some(csr) => Some(&csr.info.subject),
            None => self.template().and_then(|t| t.subject.as_ref()),
        }
    }

    /// The requested extensions (template extensions, or the CSR's
    /// extensionRequest attribute).
    pub fn extensions(&self) -> Result<Vec<Extension>> {
        if let Some(csr) = self.csr() {
            for attr in csr.info.attributes.iter() {
                if attr.oid == der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14")
                    && let Some(v) = attr.values.iter().next()
                {
                    let der = v.to_der().map_err(Error::Decode)?;
                    return Vec::<Extension>::from_der(&der).map_err(Error::Decode);
                }
            }
            return Ok(Vec::new());
        }
        Ok(self
            .template()
            .and_then(|t| t.extensions.clone())
            .unwrap_or_default())
    }

    /// kur: the oldCertID control, if sent.
    pub fn old_cert_id(&self) -> Result<Option<CertId>> {
        match self.cert_request() {
            Some(req) => old_cert_id_of(req),
            None => Ok(None),
        }
    }

    /// The certificate that signed the request, if it was signature-protected
    /// (for kur: the certificate being updated), or the KEM certificate whose
    /// key protected it with a KEM-based MAC.
    pub fn signer_certificate(&self) -> Option<&Certificate> {
        match &self.auth {
            Authenticated::Signature { signer, .. } => Some(signer),
            Authenticated::Kem {
                certificate: Some(cert),
            } => Some(cert),
            _ => None,
        }
    }

    /// rr: what to revoke.
    pub fn revocation(&self) -> Option<&RevDetails> {
        match self.msg.body() {
            PkiBody::Rr(d) => d.first(),
            _ => None,
        }
    }

    /// genm: the InfoTypeAndValues asked for.
    pub fn general_message(&self) -> &[InfoTypeAndValue] {
        match self.msg.body() {
            PkiBody::Genm(c) => c,
            _ => &[],
        }
    }

    /// Whether the client asked for implicit confirmation.
    pub fn implicit_confirm_requested(&self) -> bool {
        self.ctx.implicit_confirm_asked
    }

    // ----- decisions -----

    /// Issue `cert` (ir/cr/kur/p10cr). `ca_pubs` overrides the configured caPubs.
    pub fn issue(
        self,
        cert: Certificate,
        ca_pubs: Option<Vec<Certificate>>,
        now: Timestamp,
    ) -> Result<Reply> {
        if self.central_keygen {
            return Err(Error::Usage(
                "central key generation was requested: answer with issue_with_key()",
            ));
        }
        self.issue_inner(cert, None, ca_pubs, now)
    }

    /// Central key generation: issue `cert` for the generated `private_key`
    /// (PKCS#8 DER), which is signed by `kga` and encrypted for the
    /// requester: with the MAC shared secret (PWRI) when the request was
    /// MAC-protected, else for the protection certificate's key (RSA: key
    /// transport, EC: key agreement).
    pub fn issue_with_key(
        self,
        cert: Certificate,
        private_key: &[u8],
        kga: &KeyGenAuthority,
        ca_pubs: Option<Vec<Certificate>>,
        now: Timestamp,
    ) -> Result<Reply> {
        if !self.central_keygen {
            return Err(Error::Usage(
                "issue_with_key() answers requests for central key generation only",
            ));
        }
        let envelope = self.seal_for_requester(kga, private_key)?;
        self.issue_inner(
            cert,
            Some(EncryptedKey::EnvelopedData(envelope)),
            ca_pubs,
            now,
        )
    }

    /// Answer a key recovery request: `keys` are the recovered key pairs
    /// (certificate, PKCS#8 DER private key), each signed by `kga` and
    /// encrypted for the requester as in [`PendingRequest::issue_with_key`];
    /// `new_sig_cert` certifies the request's new key, if it had one.
    pub fn recover_keys(
        self,
        keys: &[(Certificate, &[u8])],
        new_sig_cert: Option<Certificate>,
        ca_certs: Vec<Certificate>,
        kga: &KeyGenAuthority,
        now: Timestamp,
    ) -> Result<Reply> {
        if self.kind != RequestKind::KeyRecovery {
            return Err(Error::Usage("recover_keys() answers krr only"));
        }
        if keys.is_empty() && new_sig_cert.is_none() {
            return Err(Error::Usage(
                "nothing recovered: reject() the request instead",
            ));
        }
        let mut hist = Vec::with_capacity(keys.len());
        for (cert, key) in keys {
            let envelope = self.seal_for_requester(kga, key)?;
            hist.push(CertifiedKeyPair {
                cert_or_enc_cert: CertOrEncCert::Certificate(cert.clone()),
                private_key: Some(EncryptedKey::EnvelopedData(envelope)),
                publication_info: None,
            });
        }
        let body = PkiBody::Krp(KeyRecRepContent {
            status: PkiStatusInfo::accepted(),
            new_sig_cert,
            ca_certs: if ca_certs.is_empty() {
                None
            } else {
                Some(ca_certs)
            },
            key_pair_hist: if hist.is_empty() { None } else { Some(hist) },
        });
        self.finish(body, false, Phase::Done, None, None, now)
    }

    fn seal_for_requester(
        &self,
        kga: &KeyGenAuthority,
        private_key: &[u8],
    ) -> Result<cms::enveloped_data::EnvelopedData> {
        let secret = match &self.ctx.protection {
            super::ReplyProtection::Mac { secret, .. } => Some(secret.as_slice()),
            _ => None,
        };
        let signer = match &self.auth {
            Authenticated::Signature { signer, .. } => Some(signer),
            _ => None,
        };
        let recipient = keygen::recipient_for(secret, signer)?;
        keygen::seal_key_package(
            self.config.provider.as_ref(),
            kga,
            &[private_key],
            recipient,
        )
    }

    fn issue_inner(
        mut self,
        cert: Certificate,
        private_key: Option<EncryptedKey>,
        ca_pubs: Option<Vec<Certificate>>,
        now: Timestamp,
    ) -> Result<Reply> {
        if !matches!(self.kind, RequestKind::Enroll(_) | RequestKind::P10cr) {
            return Err(Error::Usage("issue() answers certificate requests only"));
        }
        // Indirect POP: the certificate goes out encrypted to the KEM key,
        // and only certConf proves possession, so it is never implicit.
        let encrypted = match self.cert_request() {
            Some(req) if crate::pop_kem::requests_encr_cert(req) => {
                let key = req
                    .cert_req
                    .cert_template
                    .public_key
                    .as_ref()
                    .ok_or(Error::BadCertTemplate("public key missing"))?;
                Some(crate::pop_kem::encrypt_certificate(
                    &cert,
                    key,
                    self.config.provider.as_ref(),
                )?)
            }
            _ => None,
        };
        if encrypted.is_some() {
            self.ctx.pvno = crate::asn1::cmp::pvno::CMP2021;
        }
        let grant = self.config.grant_implicit_confirm
            && self.ctx.implicit_confirm_asked
            && encrypted.is_none();
        let cert_or_enc_cert = match encrypted {
            Some(env) => {
                CertOrEncCert::EncryptedCert(crate::asn1::EncryptedKey::EnvelopedData(env))
            }
            None => CertOrEncCert::Certificate(cert.clone()),
        };
        let ca_pubs = ca_pubs.unwrap_or_else(|| self.config.ca_pubs.clone());
        let rep = CertRepMessage {
            ca_pubs: if ca_pubs.is_empty() || self.kind == RequestKind::Enroll(EnrollKind::Kur) {
                None
            } else {
                Some(ca_pubs)
            },
            response: alloc::vec![CertResponse {
                cert_req_id: self.cert_req_id,
                status: PkiStatusInfo::accepted(),
                certified_key_pair: Some(CertifiedKeyPair {
                    cert_or_enc_cert,
                    private_key,
                    publication_info: None,
                }),
                rsp_info: None,
            }],
        };
        let (phase, event) = if grant {
            (
                Phase::Done,
                Some(ResponderEvent::ImplicitlyConfirmed(cert.clone())),
            )
        } else {
            (Phase::AwaitingConfirm, None)
        };
        let issued = if grant { None } else { Some(cert) };
        let body = self.rep_body(rep);
        self.finish(body, grant, phase, issued, event, now)
    }

    /// Refuse the request with `status` (rejection and failInfo).
    pub fn reject(self, status: PkiStatusInfo, now: Timestamp) -> Result<Reply> {
        let body = match self.kind {
            RequestKind::Enroll(_) | RequestKind::P10cr => self.rep_body(CertRepMessage {
                ca_pubs: None,
                response: alloc::vec![CertResponse {
                    cert_req_id: self.cert_req_id,
                    status,
                    certified_key_pair: None,
                    rsp_info: None,
                }],
            }),
            RequestKind::Revoke => PkiBody::Rp(RevRepContent {
                status: alloc::vec![status],
                rev_certs: None,
                crls: None,
            }),
            RequestKind::Genm => PkiBody::Error(ErrorMsgContent {
                pki_status_info: status,
                error_code: None,
                error_details: None,
            }),
            RequestKind::KeyRecovery => PkiBody::Krp(KeyRecRepContent {
                status,
                new_sig_cert: None,
                ca_certs: None,
                key_pair_hist: None,
            }),
        };
        self.finish(body, false, Phase::Done, None, None, now)
    }

    /// Ask the client to poll again after `check_after` seconds.
    pub fn wait(self, check_after: u32, now: Timestamp) -> Result<Reply> {
        let waiting = PkiStatusInfo {
            status: PkiStatus::Waiting,
            status_string: None,
            fail_info: None,
        };
        let answering_poll = self
            .record
            .as_ref()
            .is_some_and(|r| r.phase != Phase::AwaitingPopResponse as u8);
        let body = if answering_poll {
            // answering a pollReq
            PkiBody::PollRep(alloc::vec![PollRep {
                cert_req_id: self.cert_req_id,
                check_after: i64::from(check_after),
                reason: None,
            }])
        } else {
            match self.kind {
                RequestKind::Enroll(_) | RequestKind::P10cr => self.rep_body(CertRepMessage {
                    ca_pubs: None,
                    response: alloc::vec![CertResponse {
                        cert_req_id: self.cert_req_id,
                        status: waiting,
                        certified_key_pair: None,
                        rsp_info: None,
                    }],
                }),
                // RFC 9483 section 4.4: an error message with status waiting
                RequestKind::Revoke | RequestKind::Genm | RequestKind::KeyRecovery => {
                    PkiBody::Error(ErrorMsgContent {
                        pki_status_info: waiting,
                        error_code: None,
                        error_details: None,
                    })
                }
            }
        };
        self.finish(body, false, Phase::AwaitingDecision, None, None, now)
    }

    /// Accept a revocation request.
    pub fn revoke(self, now: Timestamp) -> Result<Reply> {
        if self.kind != RequestKind::Revoke {
            return Err(Error::Usage("revoke() answers rr only"));
        }
        let body = PkiBody::Rp(RevRepContent {
            status: alloc::vec![PkiStatusInfo::accepted()],
            rev_certs: None,
            crls: None,
        });
        self.finish(body, false, Phase::Done, None, None, now)
    }

    /// Answer a genm with these InfoTypeAndValues.
    pub fn respond_genp(self, content: Vec<InfoTypeAndValue>, now: Timestamp) -> Result<Reply> {
        if self.kind != RequestKind::Genm {
            return Err(Error::Usage("respond_genp() answers genm only"));
        }
        self.finish(PkiBody::Genp(content), false, Phase::Done, None, None, now)
    }

    fn rep_body(&self, rep: CertRepMessage) -> PkiBody {
        match self.kind {
            RequestKind::Enroll(EnrollKind::Ir) => PkiBody::Ip(rep),
            RequestKind::Enroll(EnrollKind::Kur) => PkiBody::Kup(rep),
            RequestKind::Enroll(EnrollKind::Ccr) => PkiBody::Ccp(rep),
            _ => PkiBody::Cp(rep),
        }
    }

    fn finish(
        self,
        body: PkiBody,
        grant_implicit: bool,
        phase: Phase,
        issued: Option<Certificate>,
        event: Option<ResponderEvent>,
        now: Timestamp,
    ) -> Result<Reply> {
        let body_type = body.body_type();
        let (bytes, nonce) = build_reply(&self.config, &self.ctx, body, grant_implicit, now)?;
        let record = TransactionRecord {
            phase: phase as u8,
            last_nonce: OctetString::new(nonce).map_err(Error::Encode)?,
            request: OctetString::new(self.msg.der().to_vec()).map_err(Error::Encode)?,
            cert_req_id: self.cert_req_id,
            issued,
            polls: self.polls,
            signer_path: self.signer_path(),
        };
        let expires = now.plus_secs(self.config.transaction_lifetime);
        // Compare-and-swap against the record this request was decided on:
        // a concurrent request on another front end must not be overwritten.
        let expected = match &self.record {
            Some(r) => r.to_bytes()?,
            None => self.initial_record()?,
        };
        let replaced = self.config.store.replace(
            &self.ctx.transaction_id,
            &expected,
            record.to_bytes()?,
            expires,
            now,
        )?;
        if !replaced {
            return Err(Error::TransactionIdInUse);
        }
        Ok(Reply {
            bytes,
            body: body_type,
            transaction_id: self.ctx.transaction_id.clone(),
            error: None,
            event,
            inner: Vec::new(),
        })
    }
}

/// RFC 9483 section 4.1.6: central key generation is asked for with no POP
/// and a template without public key, or with one whose value is empty.
fn is_central_keygen(req: &CertReqMsg) -> bool {
    req.popo.is_none()
        && req
            .cert_req
            .cert_template
            .public_key
            .as_ref()
            .is_none_or(|k| k.subject_public_key.raw_bytes().is_empty())
}

/// Checks of a CRMF request the responder makes before the application sees it.
fn check_cert_request(
    config: &ResponderConfig,
    req: &CertReqMsg,
    auth: &Authenticated,
) -> Result<()> {
    if req.cert_req.cert_req_id != 0 {
        return Err(Error::BadRequest("certReqId must be 0"));
    }
    if req.cert_req.cert_template.public_key.is_none() {
        return Err(Error::BadCertTemplate("public key missing"));
    }
    match &req.popo {
        Some(ProofOfPossession::Signature(_)) => {
            pop::verify_signature_pop(req, config.provider.as_ref())
        }
        // A KEM key proves possession later, by decrypting its certificate
        // or a challenge (popdecc, answered before the request is decided).
        Some(ProofOfPossession::KeyEncipherment(_))
            if crate::pop_kem::requests_encr_cert(req)
                || crate::pop_challenge::requests_challenge_resp(req) =>
        {
            let key = req.cert_req.cert_template.public_key.as_ref();
            match key.map(|k| crate::kem::kem_from_oid(&k.algorithm.oid)) {
                Some(Ok(_)) => Ok(()),
                _ => Err(Error::BadPop),
            }
        }
        Some(ProofOfPossession::RaVerified(_)) => {
            if is_authorized_ra(config, auth) {
                Ok(())
            } else {
                Err(Error::NotAuthorized)
            }
        }
        _ => Err(Error::BadPop),
    }
}

/// The template's issuer, when named, must be one of our authorities; a
/// kur must name (in oldCertID, if sent) the certificate that signed it;
/// with a registry, the certificate to update must be valid and the key of
/// a new ir/cr must not be certified already.
fn check_against_registry(
    config: &ResponderConfig,
    req: &CertReqMsg,
    kind: EnrollKind,
    auth: &Authenticated,
) -> Result<()> {
    let template = &req.cert_req.cert_template;
    if let Some(issuer) = &template.issuer
        && !is_our_authority(config, issuer)
    {
        return Err(Error::WrongAuthority);
    }
    let signer = match auth {
        Authenticated::Signature { signer, .. } => Some(signer),
        _ => None,
    };
    if kind == EnrollKind::Kur {
        if let (Some(signer), Some(id)) = (signer, old_cert_id_of(req)?) {
            let tbs = signer.tbs_certificate();
            let names_signer = matches!(&id.issuer,
                GeneralName::DirectoryName(n) if n == tbs.issuer())
                && id.serial_number.as_bytes() == tbs.serial_number().as_bytes();
            if !names_signer {
                return Err(Error::BadCertId);
            }
        }
        if let (Some(registry), Some(signer)) = (&config.registry, signer) {
            let tbs = signer.tbs_certificate();
            match registry.status(tbs.issuer(), tbs.serial_number().as_bytes()) {
                RegistryStatus::Valid => {}
                RegistryStatus::Revoked => return Err(Error::CertRevoked),
                RegistryStatus::Unknown => return Err(Error::BadCertId),
            }
        }
    } else if let (Some(registry), Some(key)) = (&config.registry, &template.public_key)
        && registry.key_certified(key)
    {
        return Err(Error::DuplicateCertReq);
    }
    Ok(())
}

/// The oldCertID control of a request, if present.
fn old_cert_id_of(req: &CertReqMsg) -> Result<Option<CertId>> {
    for c in req.cert_req.controls.iter().flatten() {
        if c.oid == oid::REG_CTRL_OLD_CERT_ID {
            return c
                .value
                .decode_as::<CertId>()
                .map(Some)
                .map_err(Error::Decode);
        }
    }
    Ok(None)
}

/// Whether `issuer` is one of the configured authorities (any name is when
/// none are configured).
fn is_our_authority(config: &ResponderConfig, issuer: &Name) -> bool {
    config.authorities.is_empty() || config.authorities.contains(issuer)
}

/// raVerified is accepted from a signer whose certificate carries
/// id-kp-cmcRA, or who is listed in `authorized_ras`.
fn is_authorized_ra(config: &ResponderConfig, auth: &Authenticated) -> bool {
    let Authenticated::Signature { signer, .. } = auth else {
        return false;
    };
    if config.authorized_ras.contains(signer) {
        return true;
    }
    matches!(
        signer.tbs_certificate().get_extension::<ExtendedKeyUsage>(),
        Ok(Some((_, eku))) if eku.0.contains(&oid::KP_CMC_RA)
    )
}
