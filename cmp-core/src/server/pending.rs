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
    CertifiedKeyPair, ErrorMsgContent, InfoTypeAndValue, PkiBody, PkiStatus, PkiStatusInfo,
    PollRep, ProofOfPossession, RevDetails, RevRepContent, oid,
};
use crate::client::EnrollKind;
use crate::error::{Error, Result};
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
        let (kind, cert_req_id) = match msg.body() {
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
                check_cert_request(&config, req, &auth)?;
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
        })
    }

    /// The record stored when the transaction opens.
    pub(crate) fn initial_record(&self) -> Result<Vec<u8>> {
        TransactionRecord {
            phase: Phase::AwaitingDecision as u8,
            last_nonce: OctetString::new(Vec::new()).map_err(Error::Encode)?,
            request: OctetString::new(self.msg.der().to_vec()).map_err(Error::Encode)?,
            cert_req_id: self.cert_req_id,
            issued: None,
            polls: 0,
        }
        .to_bytes()
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

    /// The CRMF request of an ir/cr/kur/ccr.
    pub fn cert_request(&self) -> Option<&CertReqMsg> {
        match self.msg.body() {
            PkiBody::Ir(r) | PkiBody::Cr(r) | PkiBody::Kur(r) | PkiBody::Ccr(r) => r.first(),
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

    /// The certificate template (ir/cr/kur).
    pub fn template(&self) -> Option<&CertTemplate> {
        self.cert_request().map(|r| &r.cert_req.cert_template)
    }

    /// The public key to certify (ir/cr/kur/p10cr).
    pub fn public_key(&self) -> Option<&SubjectPublicKeyInfoOwned> {
        match self.csr() {
            Some(csr) => Some(&csr.info.public_key),
            None => self.template().and_then(|t| t.public_key.as_ref()),
        }
    }

    /// The requested subject (ir/cr/kur/p10cr).
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
        let Some(controls) = self
            .cert_request()
            .and_then(|r| r.cert_req.controls.as_ref())
        else {
            return Ok(None);
        };
        for c in controls {
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
        mut self,
        cert: Certificate,
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
                    private_key: None,
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
        let body = if self.record.is_some() {
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
                RequestKind::Revoke | RequestKind::Genm => PkiBody::Error(ErrorMsgContent {
                    pki_status_info: waiting,
                    error_code: None,
                    error_details: None,
                }),
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
        // A KEM key proves possession later, by decrypting its certificate.
        Some(ProofOfPossession::KeyEncipherment(_)) if crate::pop_kem::requests_encr_cert(req) => {
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
