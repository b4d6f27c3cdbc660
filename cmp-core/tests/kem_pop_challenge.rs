//! Proof-of-possession for ML-KEM keys by challenge-response (RFC 9810
//! section 5.2.8.3): the ir asks for it (keyEncipherment / subsequentMessage
//! challengeResp), the responder sends a popdecc whose encryptedRand
//! (EnvelopedData with a KEMRecipientInfo, RFC 9629) holds a random integer
//! and its name, the client decrypts it and answers the integer in a popdecr,
//! and only then is the request decided and the certificate sent in the clear.
//!
//! OpenSSL 3.0 has neither ML-KEM nor popdecc, so there is no interop test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use cmp_core::asn1::{
    CertOrEncCert, Challenge, FailureBit, PkiBody, PkiMessage, PkiStatus, Rand, cmp::pvno, oid,
};
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
    PopMethod,
};
use cmp_core::crypto::{DecapsulationKey, KemAlgorithm, SigningKey};
use cmp_core::pop_kem::{self, KemRecipientInfo};
use cmp_core::protection::Protector;
use cmp_core::server::{
    Handled, MemoryStore, PendingRequest, Reply, Responder, ResponderConfig, ResponderEvent,
    StaticSecrets,
};
use cmp_core::{Error, Timestamp, pop_challenge};
use cmp_crypto_rustcrypto::{
    IssueRequest, KemPrivateKey, KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider,
};
use der::asn1::{Int, OctetString};
use der::{Decode, Encode};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::name::Name;

const REF: &[u8] = b"kem-ref";
const SECRET: &[u8] = b"kem-secret";

struct Setup {
    ca: Arc<Mutex<ReferenceCa>>,
    responder: Responder,
    now: Timestamp,
}

fn ca_name() -> Name {
    Name::from_str("CN=Challenge RA").unwrap()
}

fn setup() -> Setup {
    let now = Timestamp::now();
    let (ca, _root) =
        ReferenceCa::generate_hierarchy("KEM POP challenge", now, KeyAlgorithm::EcP256).unwrap();
    let mut c = ResponderConfig::new(
        Arc::new(RustCryptoProvider),
        Arc::new(MemoryStore::default()),
    );
    c.secrets = Some(Arc::new(StaticSecrets::default().with(REF, SECRET)));
    c.extra_certs = ca.chain().to_vec();
    c.name = Some(ca_name());
    Setup {
        ca: Arc::new(Mutex::new(ca)),
        responder: Responder::new(c),
        now,
    }
}

fn client() -> ClientConfig {
    ClientConfig::new(Arc::new(RustCryptoProvider), Protector::mac(REF, SECRET))
}

fn key_encipherment() -> Extension {
    Extension {
        extn_id: der::asn1::ObjectIdentifier::new_unwrap("2.5.29.15"),
        critical: true,
        extn_value: OctetString::new(
            KeyUsage(KeyUsages::KeyEncipherment.into())
                .to_der()
                .unwrap(),
        )
        .unwrap(),
    }
}

fn request(kind: EnrollKind, key: Arc<dyn DecapsulationKey>) -> EnrollRequest {
    let mut r = EnrollRequest::new(
        kind,
        Some(Name::from_str("CN=KEM Device").unwrap()),
        Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap()),
    );
    r.pop = PopMethod::ChallengeResponse(key);
    r.extensions = vec![key_encipherment()];
    r
}

fn issue_with(ca: &Arc<Mutex<ReferenceCa>>) -> impl FnMut(PendingRequest, Timestamp) -> Reply {
    let ca = Arc::clone(ca);
    move |pending, now| {
        let mut req = IssueRequest::new(
            pending.subject().cloned().unwrap_or_default(),
            pending.public_key().cloned().unwrap(),
        );
        req.extensions = pending.extensions().unwrap();
        let cert = ca.lock().unwrap().issue(&req, now).unwrap();
        pending.issue(cert, None, now).unwrap()
    }
}

/// The responder must not ask the application before the challenge is answered.
fn never_decide(_: PendingRequest, _: Timestamp) -> Reply {
    panic!("the application was asked before the popdecr")
}

/// A challenge-response ir for a new `alg` key, sent, and the responder's
/// answer to it (the popdecc, asked of no application).
struct Challenged {
    s: Setup,
    key: Arc<KemPrivateKey>,
    tx: ClientTransaction,
    ir: Vec<u8>,
    popdecc: Reply,
}

fn challenged(alg: KemAlgorithm) -> Challenged {
    let s = setup();
    let key = Arc::new(KemPrivateKey::generate(alg).unwrap());
    let mut tx =
        ClientTransaction::start_ir(client(), request(EnrollKind::Ir, key.clone()), s.now).unwrap();
    let ir = tx.poll_transmit().unwrap();
    let popdecc = s
        .responder
        .handle_request_with(&ir, s.now, &mut never_decide);
    Challenged {
        s,
        key,
        tx,
        ir,
        popdecc,
    }
}

fn challenges_of(bytes: &[u8]) -> (PkiMessage, Vec<Challenge>) {
    let msg = PkiMessage::from_der_bytes(bytes).unwrap();
    let PkiBody::Popdecc(c) = msg.body.clone() else {
        panic!("not a popdecc: {:?}", msg.body.body_type())
    };
    (msg, c)
}

/// `msg` with another body, MAC-protected again with the shared secret.
fn reprotect(msg: PkiMessage, body: PkiBody) -> Vec<u8> {
    let forged = Protector::mac(REF, SECRET)
        .protect(msg.header, body, Vec::new(), &RustCryptoProvider)
        .unwrap();
    cmp_core::message::encode(&forged).unwrap()
}

fn kemri(env: &cms::enveloped_data::EnvelopedData) -> KemRecipientInfo {
    let [cms::enveloped_data::RecipientInfo::Ori(ori)] = env.recip_infos.0.as_slice() else {
        panic!("one ori expected")
    };
    assert_eq!(ori.ori_type, pop_kem::ID_ORI_KEM);
    KemRecipientInfo::from_der(&ori.ori_value.to_der().unwrap()).unwrap()
}

#[test]
fn challenge_answered_then_certificate_in_the_clear_for_every_ml_kem_level() {
    for (alg, kem_oid) in [
        (KemAlgorithm::MlKem512, oid::ML_KEM_512),
        (KemAlgorithm::MlKem768, oid::ML_KEM_768),
        (KemAlgorithm::MlKem1024, oid::ML_KEM_1024),
    ] {
        let s = setup();
        let key = Arc::new(KemPrivateKey::generate(alg).unwrap());
        let mut tx =
            ClientTransaction::start_ir(client(), request(EnrollKind::Ir, key.clone()), s.now)
                .unwrap();
        let (run, result) = common::drive(&mut tx, &s.responder, s.now, issue_with(&s.ca));
        result.unwrap();
        assert!(tx.is_completed());
        let bodies: Vec<_> = run.replies.iter().map(|r| r.body.name()).collect();
        assert_eq!(bodies, ["popdecc", "ip", "pkiconf"]);

        // the ir: keyEncipherment POP, challengeResp, pvno 3
        let ir = PkiMessage::from_der_bytes(&run.requests[0]).unwrap();
        assert_eq!(ir.header.pvno, pvno::CMP2021);
        let PkiBody::Ir(reqs) = &ir.body else {
            panic!()
        };
        assert!(pop_challenge::requests_challenge_resp(&reqs[0]));
        assert!(!pop_kem::requests_encr_cert(&reqs[0]));

        // the popdecc: pvno 3, one challenge, SHA-256 witness, empty
        // deprecated field, encryptedRand to the KEM key naming the responder
        let (popdecc, challenges) = challenges_of(&run.replies[0].bytes);
        assert_eq!(popdecc.header.pvno, pvno::CMP2021);
        assert_eq!(popdecc.header.sender, GeneralName::DirectoryName(ca_name()));
        let [challenge] = challenges.as_slice() else {
            panic!("one challenge expected")
        };
        assert_eq!(challenge.owf.as_ref().unwrap().oid, oid::SHA256);
        assert!(challenge.challenge.as_bytes().is_empty());
        let env = challenge.encrypted_rand.as_ref().unwrap();
        assert_eq!(kemri(env).kem.oid, kem_oid);
        let rand = Rand::from_der(
            &pop_kem::decrypt_with_kem_key(env, key.as_ref(), &RustCryptoProvider).unwrap(),
        )
        .unwrap();
        assert_eq!(rand.sender, GeneralName::DirectoryName(ca_name()));
        let witness = cmp_core::crypto::CryptoProvider::digest(
            &RustCryptoProvider,
            cmp_core::crypto::DigestAlgorithm::Sha256,
            &[&rand.int.to_der().unwrap()],
        )
        .unwrap();
        assert_eq!(challenge.witness.as_bytes(), witness.as_slice());

        // the popdecr: the integer, pvno 3
        let popdecr = PkiMessage::from_der_bytes(&run.requests[1]).unwrap();
        assert_eq!(popdecr.header.pvno, pvno::CMP2021);
        assert_eq!(popdecr.body, PkiBody::Popdecr(vec![rand.int.clone()]));

        // the ip: the certificate of the KEM key in the clear, confirmed
        let ip = PkiMessage::from_der_bytes(&run.replies[1].bytes).unwrap();
        let PkiBody::Ip(rep) = &ip.body else { panic!() };
        let CertOrEncCert::Certificate(cert) = &rep.response[0]
            .certified_key_pair
            .as_ref()
            .unwrap()
            .cert_or_enc_cert
        else {
            panic!("the certificate is encrypted")
        };
        assert_eq!(
            cert.tbs_certificate().subject_public_key_info(),
            &key.public_key()
        );
        let Some(ClientEvent::CertificateIssued(issued)) = run
            .client_events
            .iter()
            .find(|e| matches!(e, ClientEvent::CertificateIssued(_)))
        else {
            panic!("{:?}", run.client_events)
        };
        assert_eq!(&issued.cert, cert);
        assert!(matches!(
            run.server_events.as_slice(),
            [ResponderEvent::Confirmed(c)] if c == cert
        ));
    }
}

#[test]
fn cr_and_kur_are_challenged_too() {
    for (kind, answer) in [(EnrollKind::Cr, "cp"), (EnrollKind::Kur, "kup")] {
        let s = setup();
        let key = Arc::new(KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap());
        let mut tx = ClientTransaction::start_enroll(client(), &request(kind, key), s.now).unwrap();
        let (run, result) = common::drive(&mut tx, &s.responder, s.now, issue_with(&s.ca));
        result.unwrap();
        let bodies: Vec<_> = run.replies.iter().map(|r| r.body.name()).collect();
        assert_eq!(bodies, ["popdecc", answer, "pkiconf"]);
    }
}

#[test]
fn a_wrong_answer_is_bad_pop_and_ends_the_transaction() {
    let Challenged {
        s, mut tx, popdecc, ..
    } = challenged(KemAlgorithm::MlKem512);
    assert_eq!(popdecc.error, None);
    assert_eq!(
        tx.handle_response(&popdecc.bytes, s.now).unwrap(),
        ClientEvent::Continue
    );
    let genuine = tx.poll_transmit().unwrap();

    // the same popdecr with another integer, protected again
    let msg = PkiMessage::from_der_bytes(&genuine).unwrap();
    let PkiBody::Popdecr(answers) = msg.body.clone() else {
        panic!()
    };
    let mut wrong = answers[0].as_bytes().to_vec();
    *wrong.last_mut().unwrap() ^= 1;
    let forged = reprotect(msg, PkiBody::Popdecr(vec![Int::new(&wrong).unwrap()]));
    let reply = s
        .responder
        .handle_request_with(&forged, s.now, &mut never_decide);
    assert_eq!(reply.error, Some(Error::BadPop));
    assert_eq!(
        cmp_core::server::failure_bit_of(&reply),
        Some(FailureBit::BadPop)
    );

    // the client (whose nonce the forged popdecr kept) learns of it
    match tx.handle_response(&reply.bytes, s.now) {
        Err(Error::Peer(f)) => {
            assert_eq!(f.status.status, PkiStatus::Rejection);
            assert_eq!(f.status.failure_bits(), vec![FailureBit::BadPop]);
        }
        other => panic!("{other:?}"),
    }
    assert!(tx.is_finished() && !tx.is_completed());

    // no second guess: the genuine answer now comes too late
    let reply = s
        .responder
        .handle_request_with(&genuine, s.now, &mut never_decide);
    assert_eq!(reply.error, Some(Error::UnexpectedBody { got: "popdecr" }));
}

#[test]
fn too_many_or_too_few_answers_are_bad_pop() {
    for count in [0usize, 2] {
        let Challenged {
            s, mut tx, popdecc, ..
        } = challenged(KemAlgorithm::MlKem768);
        tx.handle_response(&popdecc.bytes, s.now).unwrap();
        let msg = PkiMessage::from_der_bytes(&tx.poll_transmit().unwrap()).unwrap();
        let PkiBody::Popdecr(answers) = msg.body.clone() else {
            panic!()
        };
        let forged = reprotect(msg, PkiBody::Popdecr(vec![answers[0].clone(); count]));
        let reply = s
            .responder
            .handle_request_with(&forged, s.now, &mut never_decide);
        assert_eq!(reply.error, Some(Error::BadPop));
    }
}

#[test]
fn popdecr_outside_a_challenge_is_refused() {
    let s = setup();
    let key = Arc::new(KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap());
    let mut tx =
        ClientTransaction::start_ir(client(), request(EnrollKind::Ir, key), s.now).unwrap();
    let (run, result) = common::drive(&mut tx, &s.responder, s.now, issue_with(&s.ca));
    result.unwrap();
    // a replayed popdecr after the certificate was confirmed
    let reply = s
        .responder
        .handle_request_with(&run.requests[1], s.now, &mut never_decide);
    assert_eq!(reply.error, Some(Error::UnexpectedBody { got: "popdecr" }));

    // a popdecr in a transaction that never had a challenge (signature POP)
    let mut sig = EnrollRequest::new(
        EnrollKind::Ir,
        Some(Name::from_str("CN=Signer").unwrap()),
        Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap()),
    );
    sig.cert_req_id = 0;
    let mut tx = ClientTransaction::start_ir(client(), sig, s.now).unwrap();
    let ir = tx.poll_transmit().unwrap();
    let ip = s
        .responder
        .handle_request_with(&ir, s.now, &mut issue_with(&s.ca));
    assert_eq!(ip.body.name(), "ip");
    let ip_msg = PkiMessage::from_der_bytes(&ip.bytes).unwrap();
    let ir_msg = PkiMessage::from_der_bytes(&ir).unwrap();
    let header = cmp_core::message::HeaderBuilder::new()
        .pvno(pvno::CMP2021)
        .transaction_id(ir_msg.header.transaction_id.as_ref().unwrap().as_bytes())
        .recip_nonce(ip_msg.header.sender_nonce.as_ref().unwrap().as_bytes())
        .build(&RustCryptoProvider, s.now)
        .unwrap();
    let popdecr = Protector::mac(REF, SECRET)
        .protect(
            header,
            PkiBody::Popdecr(vec![Int::new(&[0x42]).unwrap()]),
            Vec::new(),
            &RustCryptoProvider,
        )
        .unwrap();
    let reply = s.responder.handle_request_with(
        &cmp_core::message::encode(&popdecr).unwrap(),
        s.now,
        &mut never_decide,
    );
    assert_eq!(reply.error, Some(Error::UnexpectedBody { got: "popdecr" }));
}

#[test]
fn poll_req_and_cert_conf_wait_for_the_challenge() {
    let Challenged {
        s,
        mut tx,
        ir,
        popdecc,
        ..
    } = challenged(KemAlgorithm::MlKem768);
    let (msg, _) = challenges_of(&popdecc.bytes);
    let ir_msg = PkiMessage::from_der_bytes(&ir).unwrap();
    for body in [
        PkiBody::PollReq(vec![cmp_core::asn1::PollReq { cert_req_id: 0 }]),
        PkiBody::CertConf(vec![cmp_core::asn1::CertStatus {
            cert_hash: OctetString::new(vec![0; 32]).unwrap(),
            cert_req_id: 0,
            status_info: None,
            hash_alg: None,
        }]),
    ] {
        let header = cmp_core::message::HeaderBuilder::new()
            .pvno(pvno::CMP2021)
            .transaction_id(ir_msg.header.transaction_id.as_ref().unwrap().as_bytes())
            .recip_nonce(msg.header.sender_nonce.as_ref().unwrap().as_bytes())
            .build(&RustCryptoProvider, s.now)
            .unwrap();
        let m = Protector::mac(REF, SECRET)
            .protect(header, body, Vec::new(), &RustCryptoProvider)
            .unwrap();
        let reply = s.responder.handle_request_with(
            &cmp_core::message::encode(&m).unwrap(),
            s.now,
            &mut never_decide,
        );
        assert!(
            matches!(reply.error, Some(Error::BadRequest(_))),
            "{:?}",
            reply.error
        );
    }
    // the challenge is still open
    tx.handle_response(&popdecc.bytes, s.now).unwrap();
    let popdecr = tx.poll_transmit().unwrap();
    let ip = s
        .responder
        .handle_request_with(&popdecr, s.now, &mut issue_with(&s.ca));
    assert_eq!(ip.body.name(), "ip");
}

#[test]
fn the_application_may_make_the_client_wait_after_the_challenge() {
    let s = setup();
    let key = Arc::new(KemPrivateKey::generate(KemAlgorithm::MlKem1024).unwrap());
    let mut tx =
        ClientTransaction::start_ir(client(), request(EnrollKind::Ir, key), s.now).unwrap();
    let mut issue = issue_with(&s.ca);
    let mut asked = 0;
    let (run, result) = common::drive(&mut tx, &s.responder, s.now, |p, now| {
        asked += 1;
        if asked == 1 {
            p.wait(0, now).unwrap()
        } else {
            issue(p, now)
        }
    });
    result.unwrap();
    assert!(tx.is_completed());
    let bodies: Vec<_> = run.replies.iter().map(|r| r.body.name()).collect();
    // the answer to the popdecr is an ip with status waiting, then polling
    assert_eq!(bodies, ["popdecc", "ip", "ip", "pkiconf"]);
    let waiting = PkiMessage::from_der_bytes(&run.replies[1].bytes).unwrap();
    let PkiBody::Ip(rep) = waiting.body else {
        panic!()
    };
    assert_eq!(rep.response[0].status.status, PkiStatus::Waiting);
}

#[test]
fn challenge_resp_for_a_signing_key_is_bad_pop() {
    let s = setup();
    let ec = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let mut r = EnrollRequest::new(
        EnrollKind::Ir,
        Some(Name::from_str("CN=EC Device").unwrap()),
        Arc::new(ec.clone()),
    );
    r.pop = PopMethod::None(ec.public_key());
    let PkiBody::Ir(mut reqs) = r.to_body().unwrap() else {
        panic!()
    };
    reqs[0].popo = Some(pop_challenge::challenge_resp_pop());
    let header = cmp_core::message::HeaderBuilder::new()
        .pvno(pvno::CMP2021)
        .build(&RustCryptoProvider, s.now)
        .unwrap();
    let msg = Protector::mac(REF, SECRET)
        .protect(header, PkiBody::Ir(reqs), Vec::new(), &RustCryptoProvider)
        .unwrap();
    let reply = s.responder.handle_request_with(
        &cmp_core::message::encode(&msg).unwrap(),
        s.now,
        &mut never_decide,
    );
    assert_eq!(reply.error, Some(Error::BadPop));
}

/// Start a challenge-response ir, get the genuine popdecc, and give the
/// client a popdecc with `f` applied to its challenges instead.
fn client_result_for(
    f: impl Fn(&mut Vec<Challenge>, &dyn DecapsulationKey),
) -> (ClientTransaction, Result<ClientEvent, Error>) {
    let Challenged {
        s,
        key,
        mut tx,
        popdecc,
        ..
    } = challenged(KemAlgorithm::MlKem768);
    let (msg, mut challenges) = challenges_of(&popdecc.bytes);
    f(&mut challenges, key.as_ref());
    let forged = reprotect(msg, PkiBody::Popdecc(challenges));
    let result = tx.handle_response(&forged, s.now);
    (tx, result)
}

#[test]
fn the_client_refuses_a_challenge_naming_another_sender() {
    let (tx, result) = client_result_for(|c, key| {
        let other = GeneralName::DirectoryName(Name::from_str("CN=Someone Else").unwrap());
        c[0] = pop_challenge::new_challenge(&key.public_key(), &other, &RustCryptoProvider)
            .unwrap()
            .0;
    });
    assert_eq!(result, Err(Error::WrongSender));
    assert!(tx.is_finished() && !tx.is_completed());
}

#[test]
fn the_client_refuses_a_challenge_it_cannot_decrypt() {
    // encrypted to another ML-KEM-768 key
    let (tx, result) = client_result_for(|c, _| {
        let other = KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap();
        let sender = GeneralName::DirectoryName(ca_name());
        c[0] = pop_challenge::new_challenge(&other.public_key(), &sender, &RustCryptoProvider)
            .unwrap()
            .0;
    });
    assert!(matches!(result, Err(Error::IncorrectData(_))), "{result:?}");
    assert!(tx.is_finished() && !tx.is_completed());

    // a tampered KEM ciphertext
    let (_, result) = client_result_for(|c, _| {
        let env = c[0].encrypted_rand.as_mut().unwrap();
        let mut k = kemri(env);
        let mut ct = k.kemct.as_bytes().to_vec();
        ct[5] ^= 1;
        k.kemct = OctetString::new(ct).unwrap();
        env.recip_infos = cms::enveloped_data::RecipientInfos::try_from(vec![
            cms::enveloped_data::RecipientInfo::Ori(cms::enveloped_data::OtherRecipientInfo {
                ori_type: pop_kem::ID_ORI_KEM,
                ori_value: der::Any::encode_from(&k).unwrap(),
            }),
        ])
        .unwrap();
    });
    assert!(matches!(result, Err(Error::IncorrectData(_))), "{result:?}");
}

#[test]
fn the_client_checks_the_witness_and_the_form_of_the_challenge() {
    let (_, result) = client_result_for(|c, _| {
        let mut w = c[0].witness.as_bytes().to_vec();
        w[0] ^= 1;
        c[0].witness = OctetString::new(w).unwrap();
    });
    assert!(matches!(result, Err(Error::IncorrectData(_))), "{result:?}");

    // no owf in the first challenge
    let (_, result) = client_result_for(|c, _| c[0].owf = None);
    assert!(matches!(result, Err(Error::IncorrectData(_))), "{result:?}");

    // an owf this crate does not know
    let (_, result) = client_result_for(|c, _| {
        c[0].owf.as_mut().unwrap().oid = der::asn1::ObjectIdentifier::new_unwrap("1.2.3.4");
    });
    assert!(
        matches!(result, Err(Error::UnsupportedAlgorithm(_))),
        "{result:?}"
    );

    // the deprecated form (no encryptedRand)
    let (_, result) = client_result_for(|c, _| c[0].encrypted_rand = None);
    assert!(
        matches!(result, Err(Error::UnsupportedAlgorithm(_))),
        "{result:?}"
    );

    // two challenges for one request
    let (_, result) = client_result_for(|c, _| c.push(c[0].clone()));
    assert!(matches!(result, Err(Error::IncorrectData(_))), "{result:?}");
}

#[test]
fn a_client_that_asked_for_no_challenge_refuses_a_popdecc() {
    // the popdecc of a challenge-response transaction ...
    let Challenged {
        s, key, popdecc, ..
    } = challenged(KemAlgorithm::MlKem768);
    let (mut msg, challenges) = challenges_of(&popdecc.bytes);

    // ... sent in answer to an encrCert ir
    let mut r = request(EnrollKind::Ir, key.clone());
    r.pop = PopMethod::EncryptedCert(key);
    let mut tx = ClientTransaction::start_ir(client(), r, s.now).unwrap();
    let encr_ir = PkiMessage::from_der_bytes(&tx.poll_transmit().unwrap()).unwrap();
    msg.header.transaction_id = encr_ir.header.transaction_id;
    msg.header.recip_nonce = encr_ir.header.sender_nonce;
    let forged = reprotect(msg, PkiBody::Popdecc(challenges));
    assert_eq!(
        tx.handle_response(&forged, s.now),
        Err(Error::UnexpectedBody { got: "popdecc" })
    );
}

#[test]
fn a_second_popdecc_is_unexpected() {
    let Challenged {
        s, mut tx, popdecc, ..
    } = challenged(KemAlgorithm::MlKem768);
    tx.handle_response(&popdecc.bytes, s.now).unwrap();
    let popdecr = PkiMessage::from_der_bytes(&tx.poll_transmit().unwrap()).unwrap();
    // the same challenge again, as the answer to the popdecr
    let (mut msg, challenges) = challenges_of(&popdecc.bytes);
    msg.header.recip_nonce = popdecr.header.sender_nonce;
    let again = reprotect(msg, PkiBody::Popdecc(challenges));
    assert_eq!(
        tx.handle_response(&again, s.now),
        Err(Error::UnexpectedBody { got: "popdecc" })
    );
}

#[test]
fn challenge_and_rand_round_trip_through_der() {
    let key = KemPrivateKey::generate(KemAlgorithm::MlKem512).unwrap();
    let sender = GeneralName::DirectoryName(ca_name());
    let p = RustCryptoProvider;
    let (challenge, a) = pop_challenge::new_challenge(&key.public_key(), &sender, &p).unwrap();
    // A is positive with 16 bytes of randomness
    assert_eq!(a.as_bytes().len(), 16);
    assert_eq!(a.as_bytes()[0] & 0xc0, 0x40);
    let (_, b) = pop_challenge::new_challenge(&key.public_key(), &sender, &p).unwrap();
    assert_ne!(a, b);
    let content: Vec<Challenge> = vec![challenge.clone()];
    let der = content.to_der().unwrap();
    assert_eq!(Vec::<Challenge>::from_der(&der).unwrap(), content);
    // encryptedRand is [0] EXPLICIT (constructed context tag 0) after the
    // empty deprecated challenge field
    let one = challenge.to_der().unwrap();
    let empty_octets = [0x04, 0x00];
    let at = one
        .windows(2)
        .position(|w| w == empty_octets)
        .expect("empty challenge field");
    assert_eq!(one[at + 2], 0xa0);
    // decrypts to the Rand it was made of
    let back = Challenge::from_der(&one).unwrap();
    let answers = pop_challenge::answer_challenges(&[back], &[&key], &sender, &p).unwrap();
    assert_eq!(answers, vec![a.clone()]);

    // the RFC 4210 form (no owf, no encryptedRand) decodes too
    let old = Challenge {
        owf: None,
        witness: OctetString::new(vec![7; 20]).unwrap(),
        challenge: OctetString::new(vec![9; 64]).unwrap(),
        encrypted_rand: None,
    };
    let der = old.to_der().unwrap();
    assert_eq!(der[0], 0x30);
    assert_eq!(Challenge::from_der(&der).unwrap(), old);

    let rand = Rand { int: a, sender };
    assert_eq!(Rand::from_der(&rand.to_der().unwrap()).unwrap(), rand);

    // the popdecr content: SEQUENCE OF INTEGER
    let resp: Vec<Int> = vec![Int::new(&[0x01, 0x02]).unwrap(), Int::new(&[0x7f]).unwrap()];
    let der = resp.to_der().unwrap();
    assert_eq!(der, [0x30, 0x07, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x7f]);
    assert_eq!(Vec::<Int>::from_der(&der).unwrap(), resp);
}

#[test]
fn answers_are_checked_in_order() {
    let p = RustCryptoProvider;
    let a = Int::new(&[0x41, 1]).unwrap();
    let b = Int::new(&[0x41, 2]).unwrap();
    assert_eq!(
        pop_challenge::check_answers(&[a.clone(), b.clone()], &[a.clone(), b.clone()], &p),
        Ok(())
    );
    assert_eq!(
        pop_challenge::check_answers(&[a.clone(), b.clone()], &[b, a], &p),
        Err(Error::BadPop)
    );
}

#[test]
fn the_confirmation_can_still_be_a_rejection() {
    let s = setup();
    let key = Arc::new(KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap());
    let mut tx =
        ClientTransaction::start_ir(client(), request(EnrollKind::Ir, key.clone()), s.now).unwrap();
    let ir = tx.poll_transmit().unwrap();
    let Handled::Reply(popdecc) = s.responder.handle_request(&ir, s.now) else {
        panic!("the popdecc is sent without asking the application")
    };
    tx.handle_response(&popdecc.bytes, s.now).unwrap();
    let popdecr = tx.poll_transmit().unwrap();
    let Handled::Decide(pending) = s.responder.handle_request(&popdecr, s.now) else {
        panic!("the right answer hands the request to the application")
    };
    assert_eq!(pending.public_key(), Some(&KemPrivateKey::public_key(&key)));
    let ip = issue_with(&s.ca)(pending, s.now);
    let ClientEvent::CertificateIssued(_) = tx.handle_response(&ip.bytes, s.now).unwrap() else {
        panic!()
    };
    tx.confirm(
        Confirmation::Reject(cmp_core::asn1::PkiStatusInfo::rejection(
            FailureBit::BadCertTemplate,
            "no",
        )),
        s.now,
    )
    .unwrap();
    let conf = tx.poll_transmit().unwrap();
    let reply = s
        .responder
        .handle_request_with(&conf, s.now, &mut never_decide);
    assert!(matches!(
        reply.event,
        Some(ResponderEvent::ConfirmationRejected { .. })
    ));
}
