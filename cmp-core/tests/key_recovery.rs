//! Key recovery (krr / krp, RFC 9810 section 5.3.8), client against
//! responder: keys the CA generated centrally are archived and come back,
//! signed and encrypted for the requester, with an optional new signing
//! certificate; every refusal on both sides.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod delivered;

use std::sync::Arc;

use cmp_core::Error;
use cmp_core::Timestamp;
use cmp_core::asn1::{BodyType, FailureBit, PkiStatusInfo};
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, EnrollKind, EnrollRequest, KeyRecoveryRequest,
    RecoveredKeys,
};
use cmp_core::crypto::{EnvelopeOpener, SigningKey};
use cmp_core::keygen::{KeyGenAuthority, PrivateKeyDer};
use cmp_core::server::{PendingRequest, Reply, RequestKind, Responder};
use cmp_crypto_rustcrypto::{EnvelopeKey, KeyAlgorithm, KeyArchive, PrivateKey};
use delivered::*;
use x509_cert::Certificate;

/// Enroll `device()` with a centrally generated key over MAC and archive it.
fn enroll_central(pki: &mut Pki, archive: &mut KeyArchive) -> (Certificate, PrivateKeyDer) {
    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.mac_client();
    let req = EnrollRequest::central_keygen(EnrollKind::Ir, Some(device()), None, opener);
    let mut tx = ClientTransaction::start_ir(client, req, pki.now).unwrap();
    let now = pki.now;
    let (run, result) = drive(&mut tx, &responder, now, |p, now| {
        let (key, public) = p.generate_key(&ec_alg(KeyAlgorithm::EcP256)).unwrap();
        let cert = pki.issue(p.subject().unwrap(), public);
        archive.archive(cert.clone(), key.as_bytes()).unwrap();
        p.issue_with_key(cert, key.as_bytes(), &kga, None, now)
            .unwrap()
    });
    result.unwrap();
    let issued = run
        .events
        .iter()
        .find_map(|e| match e {
            ClientEvent::CertificateIssued(i) => Some(i.clone()),
            _ => None,
        })
        .unwrap();
    (issued.cert, issued.private_key.unwrap())
}

/// The responder's decision: the archived history of the requested subject.
fn recover_from<'a>(
    archive: &'a KeyArchive,
    kga: &'a KeyGenAuthority,
) -> impl FnMut(PendingRequest, Timestamp) -> Reply + 'a {
    move |p, now| {
        assert_eq!(p.kind(), RequestKind::KeyRecovery);
        let history = archive.keys_of(p.subject().unwrap());
        if history.is_empty() {
            return p
                .reject(
                    PkiStatusInfo::rejection(FailureBit::BadCertId, "no archived keys"),
                    now,
                )
                .unwrap();
        }
        let keys: Vec<(Certificate, &[u8])> = history
            .iter()
            .map(|k| (k.cert.clone(), &k.private_key[..]))
            .collect();
        p.recover_keys(&keys, None, vec![kga.certs[0].clone()], kga, now)
            .unwrap()
    }
}

fn recovered(run: &Run) -> &RecoveredKeys {
    match run.events.last() {
        Some(ClientEvent::KeysRecovered(r)) => r,
        other => panic!("{other:?}"),
    }
}

fn krr(
    responder: &Responder,
    now: Timestamp,
    client: ClientConfig,
    req: &KeyRecoveryRequest,
    decide: impl FnMut(PendingRequest, Timestamp) -> Reply,
) -> (Run, Result<(), Error>, ClientTransaction) {
    let mut tx = ClientTransaction::start_krr(client, req, now).unwrap();
    let (run, result) = drive(&mut tx, responder, now, decide);
    (run, result, tx)
}

#[test]
fn a_centrally_generated_key_is_recovered_under_the_shared_secret() {
    let mut pki = Pki::new();
    let mut archive = KeyArchive::new();
    let (cert, key) = enroll_central(&mut pki, &mut archive);
    assert_eq!(archive.len(), 1);

    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.mac_client();
    let req = KeyRecoveryRequest::new(Some(device()), opener);
    let (run, result, tx) = krr(
        &responder,
        pki.now,
        client,
        &req,
        recover_from(&archive, &kga),
    );
    result.unwrap();
    assert!(tx.is_completed());
    // one round trip, no confirmation
    assert_eq!(
        run.replies.iter().map(|r| r.body).collect::<Vec<_>>(),
        [BodyType::Krp]
    );
    let got = recovered(&run);
    assert_eq!(got.keys.len(), 1);
    assert_eq!(got.keys[0].cert, cert);
    assert_eq!(got.keys[0].private_key, key);
    assert_eq!(got.ca_certs, [pki.ca.certificate().clone()]);
    assert_eq!(got.new_sig_cert, None);
}

#[test]
fn an_ec_signer_recovers_the_whole_key_history_by_key_agreement() {
    let mut pki = Pki::new();
    let mut archive = KeyArchive::new();
    let first = enroll_central(&mut pki, &mut archive);
    let second = enroll_central(&mut pki, &mut archive);
    assert_eq!(archive.keys_of(&device()).len(), 2);

    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.sig_client(KeyAlgorithm::EcP256);
    let req = KeyRecoveryRequest::new(Some(device()), opener);
    let (run, result, _) = krr(
        &responder,
        pki.now,
        client,
        &req,
        recover_from(&archive, &kga),
    );
    result.unwrap();
    let got = recovered(&run);
    let pairs: Vec<_> = got
        .keys
        .iter()
        .map(|k| (k.cert.clone(), k.private_key.clone()))
        .collect();
    assert_eq!(pairs, [first, second]);
}

#[test]
fn a_new_signing_key_is_certified_alongside_the_recovered_keys() {
    let mut pki = Pki::new();
    let mut archive = KeyArchive::new();
    let (cert, key) = enroll_central(&mut pki, &mut archive);
    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.sig_client(KeyAlgorithm::Rsa2048);
    let new_key = Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap());
    let mut req = KeyRecoveryRequest::new(Some(device()), opener);
    req.new_key = Some(new_key.clone());
    let now = pki.now;
    let (run, result, _) = krr(&responder, now, client, &req, |p, now| {
        // the POP of the new key was verified; its key is offered
        let public = p.public_key().cloned().unwrap();
        assert_eq!(public, new_key.public_key());
        let new_cert = pki.issue(p.subject().unwrap(), public);
        let history = archive.keys_of(p.subject().unwrap());
        let keys = [(history[0].cert.clone(), &history[0].private_key[..])];
        p.recover_keys(&keys, Some(new_cert), Vec::new(), &kga, now)
            .unwrap()
    });
    result.unwrap();
    let got = recovered(&run);
    assert_eq!(got.keys[0].cert, cert);
    assert_eq!(got.keys[0].private_key, key);
    let new_cert = got.new_sig_cert.as_ref().unwrap();
    assert_eq!(
        new_cert.tbs_certificate().subject_public_key_info(),
        &new_key.public_key()
    );
}

#[test]
fn a_missing_new_signing_certificate_is_incorrect_data() {
    let mut pki = Pki::new();
    let mut archive = KeyArchive::new();
    enroll_central(&mut pki, &mut archive);
    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.mac_client();
    let mut req = KeyRecoveryRequest::new(Some(device()), opener);
    req.new_key = Some(Arc::new(
        PrivateKey::generate(KeyAlgorithm::EcP256).unwrap(),
    ));
    let (_, result, tx) = krr(
        &responder,
        pki.now,
        client,
        &req,
        recover_from(&archive, &kga),
    );
    assert!(matches!(result, Err(Error::IncorrectData(_))), "{result:?}");
    assert!(tx.is_finished() && !tx.is_completed());
}

#[test]
fn nothing_archived_is_a_rejection_in_krp() {
    let pki = Pki::new();
    let archive = KeyArchive::new();
    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.mac_client();
    let req = KeyRecoveryRequest::new(Some(device()), opener);
    let (run, result, _) = krr(
        &responder,
        pki.now,
        client,
        &req,
        recover_from(&archive, &kga),
    );
    match result {
        Err(Error::Peer(f)) => {
            assert_eq!(f.body, BodyType::Krp);
            assert_eq!(f.status.failure_bits(), [FailureBit::BadCertId]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(run.replies[0].body, BodyType::Krp);
}

#[test]
fn the_client_polls_until_the_keys_are_recovered() {
    let mut pki = Pki::new();
    let mut archive = KeyArchive::new();
    let (_, key) = enroll_central(&mut pki, &mut archive);
    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.mac_client();
    let req = KeyRecoveryRequest::new(Some(device()), opener);
    let mut recover = recover_from(&archive, &kga);
    let (run, result, _) = krr(&responder, pki.now, client, &req, |p, now| {
        if p.polls() == 0 {
            p.wait(5, now).unwrap()
        } else {
            recover(p, now)
        }
    });
    result.unwrap();
    assert_eq!(
        run.replies.iter().map(|r| r.body).collect::<Vec<_>>(),
        [BodyType::Error, BodyType::Krp]
    );
    assert_eq!(recovered(&run).keys[0].private_key, key);
}

/// A krr whose krp the client refuses with `expected`.
fn refused_krp(
    opener: Arc<dyn EnvelopeOpener>,
    client_of: impl FnOnce(&mut Pki) -> ClientConfig,
    kga_of: impl FnOnce(&mut Pki) -> KeyGenAuthority,
    tamper: impl FnOnce(&mut KeyArchive, &mut Pki),
) -> Error {
    let mut pki = Pki::new();
    let mut archive = KeyArchive::new();
    enroll_central(&mut pki, &mut archive);
    tamper(&mut archive, &mut pki);
    let kga = kga_of(&mut pki);
    let client = client_of(&mut pki);
    let responder = pki.responder();
    let req = KeyRecoveryRequest::new(Some(device()), opener);
    let (_, result, tx) = krr(
        &responder,
        pki.now,
        client,
        &req,
        recover_from(&archive, &kga),
    );
    assert!(tx.is_finished() && !tx.is_completed());
    result.unwrap_err()
}

#[test]
fn every_broken_krp_is_refused_with_its_own_error() {
    let mac = |pki: &mut Pki| pki.mac_client().0;
    let ca = |pki: &mut Pki| pki.kga();
    let untouched = |_: &mut KeyArchive, _: &mut Pki| {};

    // a wrong password
    let e = refused_krp(
        Arc::new(EnvelopeKey::password(b"wrong")),
        mac,
        ca,
        untouched,
    );
    assert!(matches!(e, Error::KeyDecryptFailed(_)), "{e:?}");

    // the keys come for the EC signer, we hold only a password
    let e = refused_krp(
        Arc::new(EnvelopeKey::password(SECRET)),
        |pki| pki.sig_client(KeyAlgorithm::EcP256).0,
        ca,
        untouched,
    );
    assert_eq!(e, Error::KeyNotForUs);

    // the key package is signed with the wrong key
    let e = refused_krp(
        Arc::new(EnvelopeKey::password(SECRET)),
        mac,
        |pki| {
            KeyGenAuthority::new(
                Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap()),
                pki.ca.certificate().clone(),
            )
        },
        untouched,
    );
    assert_eq!(e, Error::KeySignatureInvalid);
}

#[test]
fn the_archive_refuses_a_key_that_is_not_the_certificates() {
    let mut pki = Pki::new();
    let mut archive = KeyArchive::new();
    let (cert, key) = enroll_central(&mut pki, &mut archive);
    let other = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    assert!(
        archive
            .archive(cert.clone(), &other.to_pkcs8_der().unwrap())
            .is_err()
    );
    assert!(archive.archive(cert, b"not a key").is_err());
    assert_eq!(archive.len(), 1);
    assert_eq!(
        &archive.keys_of(&device())[0].private_key[..],
        key.as_bytes()
    );
}

#[test]
fn a_mismatched_recovered_key_is_a_key_mismatch() {
    let mut pki = Pki::new();
    let mut archive = KeyArchive::new();
    let (cert, _) = enroll_central(&mut pki, &mut archive);
    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.mac_client();
    let req = KeyRecoveryRequest::new(Some(device()), opener);
    let other = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let other_der = other.to_pkcs8_der().unwrap();
    let (_, result, _) = krr(&responder, pki.now, client, &req, |p, now| {
        p.recover_keys(
            &[(cert.clone(), &other_der[..])],
            None,
            Vec::new(),
            &kga,
            now,
        )
        .unwrap()
    });
    assert_eq!(result, Err(Error::KeyMismatch));
}

#[test]
fn the_responder_refuses_misuse_of_recover_keys() {
    let pki = Pki::new();
    let kga = pki.kga();
    let responder = pki.responder();

    // recover_keys() on an ir
    let (client, _) = pki.mac_client();
    let own = Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap());
    let req = EnrollRequest::new(EnrollKind::Ir, Some(device()), own);
    let bytes = ClientTransaction::start_ir(client, req, pki.now)
        .unwrap()
        .poll_transmit()
        .unwrap();
    let mut seen = None;
    responder.handle_request_with(&bytes, pki.now, &mut |p, now| {
        let e = p
            .recover_keys(&[], None, Vec::new(), &kga, now)
            .unwrap_err();
        seen = Some(e.clone());
        error_reply(e)
    });
    assert!(matches!(seen, Some(Error::Usage(_))));

    // recover_keys() with nothing to deliver
    let (client, opener) = pki.mac_client();
    let req = KeyRecoveryRequest::new(Some(device()), opener);
    let bytes = ClientTransaction::start_krr(client, &req, pki.now)
        .unwrap()
        .poll_transmit()
        .unwrap();
    let mut seen = None;
    responder.handle_request_with(&bytes, pki.now, &mut |p, now| {
        assert_eq!(p.kind(), RequestKind::KeyRecovery);
        assert_eq!(p.public_key(), None);
        let e = p
            .recover_keys(&[], None, Vec::new(), &kga, now)
            .unwrap_err();
        seen = Some(e.clone());
        error_reply(e)
    });
    assert!(matches!(seen, Some(Error::Usage(_))));
}

fn error_reply(e: Error) -> Reply {
    Reply {
        bytes: Vec::new(),
        body: BodyType::Error,
        transaction_id: Vec::new(),
        error: Some(e),
        event: None,
        inner: Vec::new(),
    }
}

/// Decode `bytes`, change the krr, and MAC-protect it again.
fn changed_krr(bytes: &[u8], change: impl FnOnce(&mut Vec<cmp_core::asn1::CertReqMsg>)) -> Vec<u8> {
    let mut m = cmp_core::asn1::PkiMessage::from_der_bytes(bytes).unwrap();
    let cmp_core::asn1::PkiBody::Krr(reqs) = &mut m.body else {
        panic!("not a krr")
    };
    change(reqs);
    let msg = cmp_core::protection::Protector::mac(REF, SECRET)
        .protect(m.header, m.body, Vec::new(), provider().as_ref())
        .unwrap();
    cmp_core::message::encode(&msg).unwrap()
}

#[test]
fn the_responder_checks_the_krr_before_the_application_sees_it() {
    let pki = Pki::new();
    let responder = pki.responder();
    let (client, opener) = pki.mac_client();
    let mut req = KeyRecoveryRequest::new(Some(device()), opener);
    req.new_key = Some(Arc::new(
        PrivateKey::generate(KeyAlgorithm::EcP256).unwrap(),
    ));
    let krr = ClientTransaction::start_krr(client, &req, pki.now)
        .unwrap()
        .poll_transmit()
        .unwrap();
    let never =
        |_: PendingRequest, _: Timestamp| -> Reply { panic!("must not reach the application") };

    let cases: Vec<(Vec<u8>, Error)> = vec![
        // two requests in one krr
        (
            changed_krr(&krr, |r| {
                let again = r[0].clone();
                r.push(again);
            }),
            Error::BadRequest("exactly one key recovery request is supported"),
        ),
        // certReqId other than 0
        (
            changed_krr(&krr, |r| r[0].cert_req.cert_req_id = 7),
            Error::BadRequest("certReqId must be 0"),
        ),
        // a new key without its POP
        (changed_krr(&krr, |r| r[0].popo = None), Error::BadPop),
        // a new key whose POP another key made
        (
            changed_krr(&krr, |r| {
                r[0].cert_req.cert_template.public_key = Some(
                    PrivateKey::generate(KeyAlgorithm::EcP256)
                        .unwrap()
                        .public_key(),
                );
            }),
            Error::BadPop,
        ),
    ];
    for (bytes, expected) in cases {
        let reply = responder.handle_request_with(&bytes, pki.now, &mut { never });
        assert_eq!(reply.body, BodyType::Error);
        assert_eq!(reply.error, Some(expected));
    }
}
