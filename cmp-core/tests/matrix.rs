//! The negative-test matrix of docs/negative-matrix.md: for every
//! PKIFailureInfo bit, the input that triggers it at the responder (the
//! reply must be a rejection carrying exactly that bit), and our client
//! receiving that reply in the transaction state it is sent in (the client
//! must report it as a typed failure carrying that bit). The last test keeps
//! the document and the tests in step.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::sync::Arc;

use cmp_core::asn1::{BodyType, FailureBit, PkiBody, PkiMessage, PkiStatus, PkiStatusInfo};
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
    PopMethod, RevokeRequest,
};
use cmp_core::message::{ParsedMessage, encode};
use cmp_core::protection::Protector;
use cmp_core::server::{
    CertificateRegistry, Handled, MemoryStore, RegistryStatus, Reply, Responder, ResponderConfig,
    ResponderEvent,
};
use cmp_core::trust::TrustStore;
use cmp_core::{Error, Limits, Timestamp};
use common::*;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::name::Name;

// ----- helpers -----

fn responder_with(change: impl FnOnce(&mut ResponderConfig)) -> Responder {
    let mut cfg = responder_config();
    change(&mut cfg);
    Responder::new(cfg)
}

/// The reply must be an error message whose PKIStatusInfo is a rejection
/// with exactly `bit`, and the responder must say why with the same bit.
fn assert_error_reply(handled: Handled, bit: FailureBit) -> Reply {
    let Handled::Reply(reply) = handled else {
        panic!("the responder accepted the request: {handled:?}")
    };
    assert_eq!(reply.body, BodyType::Error, "{:?}", reply.error);
    let msg = ParsedMessage::decode(&reply.bytes, &Limits::DEFAULT).unwrap();
    let PkiBody::Error(content) = msg.body() else {
        panic!("not an error message")
    };
    assert_eq!(content.pki_status_info.status, PkiStatus::Rejection);
    assert_eq!(
        content.pki_status_info.failure_bits(),
        [bit],
        "{:?}",
        reply.error
    );
    assert_eq!(reply.error.as_ref().map(Error::failure_bit), Some(bit));
    reply
}

/// The client must end the transaction with an authenticated peer failure
/// (error message or rejection) carrying exactly `bit`.
fn assert_client_reports(
    tx: &mut ClientTransaction,
    reply: &[u8],
    now: Timestamp,
    bit: FailureBit,
) {
    match tx.handle_response(reply, now) {
        Err(Error::Peer(f)) => {
            assert_eq!(f.status.status, PkiStatus::Rejection, "{f}");
            assert_eq!(f.status.failure_bits(), [bit], "{f}");
        }
        other => panic!("expected a peer failure with {}: {other:?}", bit.name()),
    }
    assert!(tx.is_finished(), "a rejection ends the transaction");
    assert!(tx.poll_transmit().is_none(), "nothing more is sent");
}

/// Decode, change, and MAC-protect again (what an attacker who knows the
/// secret, or a broken intermediary, could send).
fn reprotect(bytes: &[u8], change: impl FnOnce(&mut PkiMessage)) -> Vec<u8> {
    reprotect_with(bytes, &Protector::mac(REF, SECRET), change)
}

fn reprotect_with(
    bytes: &[u8],
    protector: &Protector,
    change: impl FnOnce(&mut PkiMessage),
) -> Vec<u8> {
    let mut m = PkiMessage::from_der(bytes).unwrap();
    change(&mut m);
    let msg = protector
        .protect(
            m.header,
            m.body,
            m.extra_certs.unwrap_or_default(),
            provider().as_ref(),
        )
        .unwrap();
    encode(&msg).unwrap()
}

fn sender_nonce(bytes: &[u8]) -> Vec<u8> {
    ParsedMessage::decode(bytes, &Limits::DEFAULT)
        .unwrap()
        .sender_nonce()
        .unwrap()
        .to_vec()
}

/// Start an ir and take its request.
fn start(
    config: ClientConfig,
    request: EnrollRequest,
    now: Timestamp,
) -> (ClientTransaction, Vec<u8>) {
    let mut tx = ClientTransaction::start_ir(config, request, now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    (tx, bytes)
}

/// An ir that was issued and confirmed by the client: the transaction waits
/// for pkiConf; returns it, the responder and the certConf sent.
fn awaiting_pki_conf() -> (ClientTransaction, Responder, Vec<u8>) {
    let responder = Responder::new(responder_config());
    let (mut tx, ir) = start(mac_client(), ir_request(), now());
    let Handled::Decide(p) = responder.handle_request(&ir, now()) else {
        panic!()
    };
    let ip = issue_fixed(p, now());
    assert!(matches!(
        tx.handle_response(&ip.bytes, now()).unwrap(),
        ClientEvent::CertificateIssued(_)
    ));
    tx.confirm(Confirmation::Accept, now()).unwrap();
    let cert_conf = tx.poll_transmit().unwrap();
    (tx, responder, cert_conf)
}

fn with_cert_req_id(id: i64) -> EnrollRequest {
    let mut r = ir_request();
    r.cert_req_id = id;
    r
}

fn with_pop(pop: PopMethod) -> EnrollRequest {
    let mut r = ir_request();
    r.pop = pop;
    r
}

/// A kur signed with ee.crt for a new key, naming ee.crt in oldCertID.
fn kur_request() -> EnrollRequest {
    let mut r = EnrollRequest::new(EnrollKind::Kur, None, key("new.key"));
    r.old_cert = Some(cert("ee.crt"));
    r
}

fn start_kur(now: Timestamp) -> (ClientTransaction, Vec<u8>) {
    let mut tx = ClientTransaction::start_enroll(sig_client(), &kur_request(), now).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    (tx, bytes)
}

fn start_rr(config: ClientConfig, cert: Certificate) -> (ClientTransaction, Vec<u8>) {
    let mut tx =
        ClientTransaction::start_rr(config, &RevokeRequest { cert, reason: None }, now()).unwrap();
    let bytes = tx.poll_transmit().unwrap();
    (tx, bytes)
}

/// The CA's record of what it issued, for the registry checks: ee.crt is
/// revoked, issued.crt is valid, and issued.key is certified.
#[derive(Debug)]
struct Issued {
    revoked: Vec<Certificate>,
    valid: Vec<Certificate>,
}

impl CertificateRegistry for Issued {
    fn status(&self, issuer: &Name, serial: &[u8]) -> RegistryStatus {
        let is = |c: &&Certificate| {
            c.tbs_certificate().issuer() == issuer
                && c.tbs_certificate().serial_number().as_bytes() == serial
        };
        if self.revoked.iter().any(|c| is(&c)) {
            RegistryStatus::Revoked
        } else if self.valid.iter().any(|c| is(&c)) {
            RegistryStatus::Valid
        } else {
            RegistryStatus::Unknown
        }
    }

    fn key_certified(&self, key: &SubjectPublicKeyInfoOwned) -> bool {
        self.valid
            .iter()
            .any(|c| c.tbs_certificate().subject_public_key_info() == key)
    }
}

fn registry() -> Arc<Issued> {
    Arc::new(Issued {
        revoked: vec![cert("ee.crt")],
        valid: vec![cert("issued.crt")],
    })
}

fn another_ca() -> Name {
    "CN=Another CA".parse().unwrap()
}

fn our_ca() -> Name {
    cert("ca.crt").tbs_certificate().subject().clone()
}

// ----- badAlg -----

fn huge_iteration_client() -> ClientConfig {
    let mut c = mac_client();
    c.protector = Protector::Mac {
        reference: REF.to_vec(),
        secret: SECRET.to_vec(),
        scheme: cmp_core::protection::MacScheme::Pbm {
            owf: cmp_core::crypto::DigestAlgorithm::Sha256,
            mac: cmp_core::crypto::HmacAlgorithm(cmp_core::crypto::DigestAlgorithm::Sha256),
            iterations: 1_000_000,
            salt_len: 16,
        },
    };
    c
}

#[test]
fn client_bad_alg() {
    let responder = Responder::new(responder_config());
    let (mut tx, ir) = start(huge_iteration_client(), ir_request(), now());
    let reply = assert_error_reply(responder.handle_request(&ir, now()), FailureBit::BadAlg);
    // answered with a MAC the client can verify (the responder's own count)
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::BadAlg);
}

// ----- badMessageCheck -----

#[test]
fn client_bad_message_check() {
    // The client's secret is wrong: the responder answers with the real one,
    // which the client cannot verify. It reports the failure, untrusted.
    let responder = Responder::new(responder_config());
    let mut c = mac_client();
    c.protector = Protector::mac(REF, b"wrong secret");
    let (mut tx, ir) = start(c, ir_request(), now());
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::BadMessageCheck,
    );
    match tx.handle_response(&reply.bytes, now()) {
        Err(Error::UnauthenticatedError(f)) => {
            assert_eq!(f.status.failure_bits(), [FailureBit::BadMessageCheck])
        }
        other => panic!("{other:?}"),
    }
    assert!(tx.is_finished());
}

// ----- badRequest -----

#[test]
fn client_bad_request() {
    let responder = Responder::new(responder_config());
    let (mut tx, ir) = start(mac_client(), with_cert_req_id(7), now());
    let reply = assert_error_reply(responder.handle_request(&ir, now()), FailureBit::BadRequest);
    assert_eq!(reply.error, Some(Error::BadRequest("certReqId must be 0")));
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::BadRequest);
}

// ----- badTime -----

#[test]
fn client_bad_time() {
    // A device whose clock is an hour behind (and which therefore does not
    // check messageTime itself) learns why it was refused.
    let responder = Responder::new(responder_config());
    let device_now = Timestamp::from_unix_secs(now().unix_secs() - 3600);
    let mut c = mac_client();
    c.max_time_skew = None;
    let (mut tx, ir) = start(c, ir_request(), device_now);
    let reply = assert_error_reply(responder.handle_request(&ir, now()), FailureBit::BadTime);
    assert_client_reports(&mut tx, &reply.bytes, device_now, FailureBit::BadTime);
}

// ----- badCertId -----

#[test]
fn responder_bad_cert_id_for_unknown_or_misnamed_certificates() {
    let responder = responder_with(|c| c.registry = Some(registry()));
    // rr for a certificate this CA never issued
    let (_, rr) = start_rr(mac_client(), cert("server.crt"));
    let reply = assert_error_reply(responder.handle_request(&rr, now()), FailureBit::BadCertId);
    assert_eq!(reply.error, Some(Error::BadCertId));
    // kur whose oldCertID names another certificate than the one that signed it
    let (_, kur) = start_kur(now());
    let misnamed = reprotect_with(&kur, &sig_protector(), |m| {
        let PkiBody::Kur(reqs) = &mut m.body else {
            panic!()
        };
        let controls = reqs[0].cert_req.controls.as_mut().unwrap();
        let mut id = controls[0]
            .value
            .decode_as::<cmp_core::asn1::CertId>()
            .unwrap();
        id.serial_number = der::asn1::Int::new(&[0x42]).unwrap();
        controls[0].value = der::asn1::Any::encode_from(&id).unwrap();
    });
    let responder = Responder::new(responder_config());
    assert_error_reply(
        responder.handle_request(&misnamed, now()),
        FailureBit::BadCertId,
    );
}

fn sig_protector() -> Protector {
    Protector::Signature {
        key: key("ee.key"),
        cert: cert("ee.crt"),
        chain: vec![cert("ca.crt")],
    }
}

#[test]
fn client_bad_cert_id() {
    // The certConf's certHash is altered on its way: the client, waiting for
    // pkiConf, receives the rejection.
    let (mut tx, responder, cert_conf) = awaiting_pki_conf();
    let altered = reprotect(&cert_conf, |m| {
        let PkiBody::CertConf(s) = &mut m.body else {
            panic!()
        };
        s[0].cert_hash = der::asn1::OctetString::new(vec![0u8; 32]).unwrap();
    });
    let reply = assert_error_reply(
        responder.handle_request(&altered, now()),
        FailureBit::BadCertId,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::BadCertId);
}

// ----- badDataFormat -----

/// The request with its body replaced by bytes that do not decode; the
/// header is intact.
fn with_undecodable_body(request: &[u8]) -> Vec<u8> {
    let m = PkiMessage::from_der(request).unwrap();
    let mut content = m.header.to_der().unwrap();
    // [0] (ir) holding a NULL instead of CertReqMessages
    content.extend_from_slice(&[0xa0, 0x02, 0x05, 0x00]);
    let mut out = der::Header::new(
        der::Tag::Sequence,
        der::Length::try_from(content.len()).unwrap(),
    )
    .to_der()
    .unwrap();
    out.extend_from_slice(&content);
    out
}

#[test]
fn responder_bad_data_format_reaches_the_transaction() {
    let responder = Responder::new(responder_config());
    let (_, ir) = start(mac_client(), ir_request(), now());
    let broken = with_undecodable_body(&ir);
    let reply = assert_error_reply(
        responder.handle_request(&broken, now()),
        FailureBit::BadDataFormat,
    );
    assert!(matches!(reply.error, Some(Error::Decode(_))));
    // the header still decoded: the reply names the transaction and answers
    // the nonce, and is MAC-protected for the client of the senderKID
    let msg = ParsedMessage::decode(&reply.bytes, &Limits::DEFAULT).unwrap();
    let request = ParsedMessage::decode(&ir, &Limits::DEFAULT).unwrap();
    assert_eq!(msg.transaction_id(), request.transaction_id());
    assert_eq!(msg.recip_nonce(), request.sender_nonce());
    cmp_core::protection::verify_mac(&msg, SECRET, provider().as_ref(), &Limits::DEFAULT).unwrap();
    // and nothing was stored for it
    assert!(matches!(
        responder.handle_request(&ir, now()),
        Handled::Decide(_)
    ));
}

#[test]
fn client_bad_data_format() {
    let responder = Responder::new(responder_config());
    let (mut tx, ir) = start(mac_client(), ir_request(), now());
    let reply = assert_error_reply(
        responder.handle_request(&with_undecodable_body(&ir), now()),
        FailureBit::BadDataFormat,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::BadDataFormat);
}

// ----- wrongAuthority -----

#[test]
fn responder_wrong_authority() {
    let responder = responder_with(|c| c.authorities = vec![our_ca()]);
    // addressed to another CA
    let mut c = mac_client();
    c.recipient = Some(another_ca());
    let (_, ir) = start(c, ir_request(), now());
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::WrongAuthority,
    );
    assert_eq!(reply.error, Some(Error::WrongAuthority));
    // addressed to us, or to nobody in particular (NULL-DN): accepted
    let mut c = mac_client();
    c.recipient = Some(our_ca());
    let (_, ir) = start(c, ir_request(), now());
    assert!(matches!(
        responder.handle_request(&ir, now()),
        Handled::Decide(_)
    ));
    let (_, ir) = start(mac_client(), ir_request(), now());
    assert!(matches!(
        responder.handle_request(&ir, now()),
        Handled::Decide(_)
    ));
    // a template naming another issuer
    let (_, ir) = start(mac_client(), ir_request(), now());
    let other_issuer = reprotect(&ir, |m| {
        let PkiBody::Ir(reqs) = &mut m.body else {
            panic!()
        };
        reqs[0].cert_req.cert_template.issuer = Some(another_ca());
    });
    assert_error_reply(
        responder.handle_request(&other_issuer, now()),
        FailureBit::WrongAuthority,
    );
    // an rr for a certificate of another issuer
    let (_, rr) = start_rr(mac_client(), cert("root.crt"));
    assert_error_reply(
        responder.handle_request(&rr, now()),
        FailureBit::WrongAuthority,
    );
}

#[test]
fn client_wrong_authority() {
    let responder = responder_with(|c| c.authorities = vec![our_ca()]);
    let mut c = mac_client();
    c.recipient = Some(another_ca());
    let (mut tx, ir) = start(c, ir_request(), now());
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::WrongAuthority,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::WrongAuthority);
}

// ----- incorrectData -----
// The end entity's bit: the CA issued a certificate for another key. The
// client rejects it in certConf with incorrectData; the responder reports
// the rejection to the application (which revokes the certificate).

fn issue_for_another_key(p: cmp_core::server::PendingRequest, now: Timestamp) -> Reply {
    p.issue(cert("ee.crt"), None, now).unwrap()
}

#[test]
fn responder_incorrect_data_in_cert_conf() {
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), issue_for_another_key);
    assert!(matches!(result, Err(Error::IncorrectData(_))), "{result:?}");
    let last = run.replies.last().unwrap();
    assert_eq!(last.body, BodyType::PkiConf);
    match &run.server_events[..] {
        [ResponderEvent::ConfirmationRejected { cert: c, status }] => {
            assert_eq!(c, &cert("ee.crt"));
            assert_eq!(status.status, PkiStatus::Rejection);
            assert_eq!(status.failure_bits(), [FailureBit::IncorrectData]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn client_incorrect_data() {
    let responder = Responder::new(responder_config());
    let (mut tx, ir) = start(mac_client(), ir_request(), now());
    let Handled::Decide(p) = responder.handle_request(&ir, now()) else {
        panic!()
    };
    let ip = issue_for_another_key(p, now());
    // not handed to the caller: rejected towards the server first
    assert_eq!(
        tx.handle_response(&ip.bytes, now()).unwrap(),
        ClientEvent::Continue
    );
    let cert_conf = tx.poll_transmit().unwrap();
    let msg = ParsedMessage::decode(&cert_conf, &Limits::DEFAULT).unwrap();
    let PkiBody::CertConf(statuses) = msg.body() else {
        panic!()
    };
    let status = statuses[0].status_info.as_ref().unwrap();
    assert_eq!(status.failure_bits(), [FailureBit::IncorrectData]);
    let Handled::Reply(pki_conf) = responder.handle_request(&cert_conf, now()) else {
        panic!()
    };
    assert_eq!(
        tx.handle_response(&pki_conf.bytes, now()),
        Err(Error::IncorrectData(
            "the certificate is for another public key"
        ))
    );
    assert_eq!(
        Error::IncorrectData("x").failure_bit(),
        FailureBit::IncorrectData
    );
}

// ----- missingTimeStamp -----

#[test]
fn responder_missing_time_stamp() {
    let responder = responder_with(|c| c.require_message_time = true);
    let (_, ir) = start(mac_client(), ir_request(), now());
    let timeless = reprotect(&ir, |m| m.header.message_time = None);
    let reply = assert_error_reply(
        responder.handle_request(&timeless, now()),
        FailureBit::MissingTimeStamp,
    );
    assert_eq!(reply.error, Some(Error::MissingTimeStamp));
    // with messageTime: accepted; without the policy: accepted too
    assert!(matches!(
        responder.handle_request(&ir, now()),
        Handled::Decide(_)
    ));
    assert!(matches!(
        Responder::new(responder_config()).handle_request(&timeless, now()),
        Handled::Decide(_)
    ));
}

#[test]
fn client_missing_time_stamp() {
    let responder = responder_with(|c| c.require_message_time = true);
    let (mut tx, ir) = start(mac_client(), ir_request(), now());
    let timeless = reprotect(&ir, |m| m.header.message_time = None);
    let reply = assert_error_reply(
        responder.handle_request(&timeless, now()),
        FailureBit::MissingTimeStamp,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::MissingTimeStamp);
}

// ----- badPOP -----

#[test]
fn client_bad_pop() {
    let responder = Responder::new(responder_config());
    let (mut tx, ir) = start(
        mac_client(),
        with_pop(PopMethod::None(key("issued.key").public_key())),
        now(),
    );
    let reply = assert_error_reply(responder.handle_request(&ir, now()), FailureBit::BadPop);
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::BadPop);
}

// ----- certRevoked -----

#[test]
fn responder_cert_revoked() {
    let responder = responder_with(|c| c.registry = Some(registry()));
    // rr for a revoked certificate
    let (_, rr) = start_rr(mac_client(), cert("ee.crt"));
    let reply = assert_error_reply(
        responder.handle_request(&rr, now()),
        FailureBit::CertRevoked,
    );
    assert_eq!(reply.error, Some(Error::CertRevoked));
    // kur signed with (and naming) a revoked certificate
    let (_, kur) = start_kur(now());
    assert_error_reply(
        responder.handle_request(&kur, now()),
        FailureBit::CertRevoked,
    );
    // rr for a valid certificate goes to the application
    let (_, rr) = start_rr(mac_client(), cert("issued.crt"));
    assert!(matches!(
        responder.handle_request(&rr, now()),
        Handled::Decide(_)
    ));
}

#[test]
fn client_cert_revoked() {
    let responder = responder_with(|c| c.registry = Some(registry()));
    let (mut tx, kur) = start_kur(now());
    let reply = assert_error_reply(
        responder.handle_request(&kur, now()),
        FailureBit::CertRevoked,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::CertRevoked);
    let (mut tx, rr) = start_rr(mac_client(), cert("ee.crt"));
    let reply = assert_error_reply(
        responder.handle_request(&rr, now()),
        FailureBit::CertRevoked,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::CertRevoked);
}

// ----- certConfirmed -----

#[test]
fn client_cert_confirmed() {
    // The certConf is delivered twice (a transport retry): the first answer
    // is lost, the second is certConfirmed, and the client reports it.
    let (mut tx, responder, cert_conf) = awaiting_pki_conf();
    let Handled::Reply(first) = responder.handle_request(&cert_conf, now()) else {
        panic!()
    };
    assert_eq!(first.body, BodyType::PkiConf);
    let reply = assert_error_reply(
        responder.handle_request(&cert_conf, now()),
        FailureBit::CertConfirmed,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::CertConfirmed);
}

// ----- wrongIntegrity -----

#[test]
fn client_wrong_integrity() {
    // A signing client at a responder that takes MACs only: the signed reply
    // reaches the client, which trusts the responder's signer.
    let responder = responder_with(|c| c.client_trust = None);
    let (mut tx, ir) = start(sig_client(), ir_request(), now());
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::WrongIntegrity,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::WrongIntegrity);
}

// ----- badRecipientNonce -----

#[test]
fn client_bad_recipient_nonce() {
    let (mut tx, responder, cert_conf) = awaiting_pki_conf();
    let altered = reprotect(&cert_conf, |m| {
        m.header.recip_nonce = Some(der::asn1::OctetString::new(vec![1u8; 16]).unwrap())
    });
    let reply = assert_error_reply(
        responder.handle_request(&altered, now()),
        FailureBit::BadRecipientNonce,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::BadRecipientNonce);
}

// ----- badSenderNonce -----

#[test]
fn client_bad_sender_nonce() {
    // The request's senderNonce was cut to 4 bytes on its way. The reply
    // echoes the cut nonce, which the client would refuse; an intermediary
    // that restores the nonce (re-protecting with the shared secret) hands
    // the client the rejection it must report.
    let responder = Responder::new(responder_config());
    let (mut tx, ir) = start(mac_client(), ir_request(), now());
    let short = reprotect(&ir, |m| {
        m.header.sender_nonce = Some(der::asn1::OctetString::new(vec![1u8; 4]).unwrap())
    });
    let reply = assert_error_reply(
        responder.handle_request(&short, now()),
        FailureBit::BadSenderNonce,
    );
    let relinked = reprotect(&reply.bytes, |m| {
        m.header.recip_nonce = Some(der::asn1::OctetString::new(sender_nonce(&ir)).unwrap())
    });
    assert_client_reports(&mut tx, &relinked, now(), FailureBit::BadSenderNonce);
}

// ----- badCertTemplate -----

#[test]
fn responder_bad_cert_template() {
    let responder = Responder::new(responder_config());
    let (_, ir) = start(mac_client(), ir_request(), now());
    let keyless = reprotect(&ir, |m| {
        let PkiBody::Ir(reqs) = &mut m.body else {
            panic!()
        };
        reqs[0].cert_req.cert_template.public_key = None;
    });
    let reply = assert_error_reply(
        responder.handle_request(&keyless, now()),
        FailureBit::BadCertTemplate,
    );
    assert_eq!(
        reply.error,
        Some(Error::BadCertTemplate("public key missing"))
    );
    // an rr without serialNumber
    let (_, rr) = start_rr(mac_client(), cert("issued.crt"));
    let no_serial = reprotect(&rr, |m| {
        let PkiBody::Rr(d) = &mut m.body else {
            panic!()
        };
        d[0].cert_details.serial_number = None;
    });
    assert_error_reply(
        responder.handle_request(&no_serial, now()),
        FailureBit::BadCertTemplate,
    );
}

#[test]
fn client_bad_cert_template() {
    let responder = Responder::new(responder_config());
    let (mut tx, ir) = start(mac_client(), ir_request(), now());
    let keyless = reprotect(&ir, |m| {
        let PkiBody::Ir(reqs) = &mut m.body else {
            panic!()
        };
        reqs[0].cert_req.cert_template.public_key = None;
    });
    let reply = assert_error_reply(
        responder.handle_request(&keyless, now()),
        FailureBit::BadCertTemplate,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::BadCertTemplate);
}

// ----- signerNotTrusted -----

#[test]
fn client_signer_not_trusted() {
    let responder =
        responder_with(|c| c.client_trust = Some(TrustStore::new(vec![cert("issued.crt")])));
    let (mut tx, ir) = start(sig_client(), ir_request(), now());
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::SignerNotTrusted,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::SignerNotTrusted);
}

// ----- transactionIdInUse -----

#[test]
fn client_transaction_id_in_use() {
    // The ir is delivered twice (a transport retry) while the first is
    // still open: the client receives the answer to the second.
    let responder = Responder::new(responder_config());
    let (mut tx, ir) = start(mac_client(), ir_request(), now());
    assert!(matches!(
        responder.handle_request(&ir, now()),
        Handled::Decide(_)
    ));
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::TransactionIdInUse,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::TransactionIdInUse);
}

// ----- unsupportedVersion -----

#[test]
fn client_unsupported_version() {
    let responder = Responder::new(responder_config());
    let mut c = mac_client();
    c.pvno = 1;
    let (mut tx, ir) = start(c, ir_request(), now());
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::UnsupportedVersion,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::UnsupportedVersion);
}

// ----- notAuthorized -----

#[test]
fn client_not_authorized() {
    let responder = Responder::new(responder_config());
    let (mut tx, ir) = start(
        mac_client(),
        with_pop(PopMethod::RaVerified(key("issued.key").public_key())),
        now(),
    );
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::NotAuthorized,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::NotAuthorized);
}

// ----- systemUnavail -----

#[test]
fn client_system_unavail() {
    let responder = responder_with(|c| c.store = Arc::new(MemoryStore::new(0)));
    let (mut tx, ir) = start(mac_client(), ir_request(), now());
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::SystemUnavail,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::SystemUnavail);
}

// ----- duplicateCertReq -----

#[test]
fn responder_duplicate_cert_req() {
    let responder = responder_with(|c| c.registry = Some(registry()));
    // issued.key is certified by issued.crt already
    let (_, ir) = start(mac_client(), ir_request(), now());
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::DuplicateCertReq,
    );
    assert_eq!(reply.error, Some(Error::DuplicateCertReq));
    // the same for a PKCS#10 request of that key
    let csr = x509_cert::request::CertReq::from_der(&pki_bytes("csr.der")).unwrap();
    let certified = csr.info.public_key.clone();
    let p10 = ClientTransaction::start_p10cr(mac_client(), csr, now())
        .unwrap()
        .poll_transmit()
        .unwrap();
    let dup = Responder::new({
        let mut c = responder_config();
        c.registry = Some(Arc::new(Issued {
            revoked: vec![],
            valid: vec![],
        }));
        c
    });
    assert!(matches!(
        dup.handle_request(&p10, now()),
        Handled::Decide(_)
    ));
    struct Certified(SubjectPublicKeyInfoOwned);
    impl CertificateRegistry for Certified {
        fn status(&self, _: &Name, _: &[u8]) -> RegistryStatus {
            RegistryStatus::Unknown
        }
        fn key_certified(&self, key: &SubjectPublicKeyInfoOwned) -> bool {
            key == &self.0
        }
    }
    let responder = responder_with(|c| c.registry = Some(Arc::new(Certified(certified))));
    assert_error_reply(
        responder.handle_request(&p10, now()),
        FailureBit::DuplicateCertReq,
    );
    // a new key is fine
    let fresh = EnrollRequest::new(EnrollKind::Ir, Some(device()), key("new.key"));
    let (_, ir) = start(mac_client(), fresh, now());
    let responder = responder_with(|c| c.registry = Some(registry()));
    assert!(matches!(
        responder.handle_request(&ir, now()),
        Handled::Decide(_)
    ));
}

#[test]
fn client_duplicate_cert_req() {
    let responder = responder_with(|c| c.registry = Some(registry()));
    let (mut tx, ir) = start(mac_client(), ir_request(), now());
    let reply = assert_error_reply(
        responder.handle_request(&ir, now()),
        FailureBit::DuplicateCertReq,
    );
    assert_client_reports(&mut tx, &reply.bytes, now(), FailureBit::DuplicateCertReq);
}

// ----- rejections in other bodies -----

#[test]
fn client_reports_rejections_in_ip_and_rp() {
    // A decision of the application: the rejection comes in the ip's
    // CertResponse and in the rp's status, not in an error message. Every
    // bit reaches the caller as it was sent.
    let responder = Responder::new(responder_config());
    for bit in FailureBit::ALL {
        let (mut tx, ir) = start(mac_client(), ir_request(), now());
        let Handled::Decide(p) = responder.handle_request(&ir, now()) else {
            panic!()
        };
        let ip = p
            .reject(PkiStatusInfo::rejection(bit, "policy"), now())
            .unwrap();
        assert_eq!(ip.body, BodyType::Ip);
        match tx.handle_response(&ip.bytes, now()) {
            Err(Error::Peer(f)) => {
                assert_eq!(f.body, BodyType::Ip);
                assert_eq!(f.status.status, PkiStatus::Rejection);
                assert_eq!(f.status.failure_bits(), [bit]);
            }
            other => panic!("{}: {other:?}", bit.name()),
        }
        assert!(tx.is_finished());
    }
    let (mut tx, rr) = start_rr(mac_client(), cert("issued.crt"));
    let Handled::Decide(p) = responder.handle_request(&rr, now()) else {
        panic!()
    };
    let rp = p
        .reject(
            PkiStatusInfo::rejection(FailureBit::CertRevoked, "already revoked"),
            now(),
        )
        .unwrap();
    match tx.handle_response(&rp.bytes, now()) {
        Err(Error::Peer(f)) => {
            assert_eq!(f.body, BodyType::Rp);
            assert_eq!(f.status.failure_bits(), [FailureBit::CertRevoked]);
        }
        other => panic!("{other:?}"),
    }
}

// ----- the document -----

/// The bits RFC 9483 expects a PKI management entity to use.
const REQUIRED: [FailureBit; 22] = [
    FailureBit::BadAlg,
    FailureBit::BadMessageCheck,
    FailureBit::BadRequest,
    FailureBit::BadTime,
    FailureBit::BadCertId,
    FailureBit::BadDataFormat,
    FailureBit::WrongAuthority,
    FailureBit::IncorrectData,
    FailureBit::MissingTimeStamp,
    FailureBit::BadPop,
    FailureBit::CertRevoked,
    FailureBit::CertConfirmed,
    FailureBit::WrongIntegrity,
    FailureBit::BadRecipientNonce,
    FailureBit::BadSenderNonce,
    FailureBit::BadCertTemplate,
    FailureBit::SignerNotTrusted,
    FailureBit::TransactionIdInUse,
    FailureBit::UnsupportedVersion,
    FailureBit::NotAuthorized,
    FailureBit::SystemUnavail,
    FailureBit::DuplicateCertReq,
];

fn test_source(file: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/{file}.rs", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The `file::name` spans of a cell: each must be a `#[test]` in that file.
fn assert_tests_exist(cell: &str, row: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for part in cell.split('`').skip(1).step_by(2) {
        // other code spans (an error variant in a remark) are not test names
        let Some((file, name)) = part.split_once("::") else {
            continue;
        };
        let source = test_source(file);
        let needle = format!("#[test]\nfn {name}()");
        assert!(
            source.contains(&needle),
            "{row}: no test {name} in cmp-core/tests/{file}.rs"
        );
        found.push((file.to_string(), name.to_string()));
    }
    found
}

#[test]
fn the_matrix_document_matches_the_tests() {
    let doc = std::fs::read_to_string(format!(
        "{}/../docs/negative-matrix.md",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut bits = Vec::new();
    let mut named = Vec::new();
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, bit, input, responder, client, _] = cols[..] else {
            panic!("row with {} columns: {line}", cols.len())
        };
        let bit = bit.trim_matches('`');
        let bit = FailureBit::ALL
            .into_iter()
            .find(|b| b.name() == bit)
            .unwrap_or_else(|| panic!("unknown failInfo bit {bit}"));
        assert!(!input.is_empty(), "{line}: no input");
        let r = assert_tests_exist(responder, line);
        let c = assert_tests_exist(client, line);
        assert!(!r.is_empty(), "{line}: no responder test");
        assert!(!c.is_empty(), "{line}: no client test");
        named.extend(r);
        named.extend(c);
        bits.push(bit);
    }
    for bit in REQUIRED {
        assert!(bits.contains(&bit), "the matrix lacks {}", bit.name());
    }
    // every bit the responder answers a failed request with has its row
    for e in Error::catalogue() {
        if e.kind() == cmp_core::ErrorKind::Remote {
            assert!(
                bits.contains(&e.failure_bit()),
                "the matrix lacks {} ({})",
                e.failure_bit().name(),
                e.name()
            );
        }
    }
    // and every test of this file is in the table
    let me = test_source("matrix");
    for chunk in me.split("#[test]\nfn ").skip(1) {
        let name = chunk.split('(').next().unwrap();
        if name == "the_matrix_document_matches_the_tests" {
            continue;
        }
        assert!(
            named.iter().any(|(f, n)| f == "matrix" && n == name),
            "matrix::{name} is not in docs/negative-matrix.md"
        );
    }
}
