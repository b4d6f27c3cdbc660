//! An RA between end entities and the CA: forwarding with replaced
//! protection (raVerified POP) and nested messages for batching.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use cmp_core::asn1::{BodyType, ProofOfPossession};
use cmp_core::client::{ClientEvent, ClientTransaction, Confirmation};
use cmp_core::message::ParsedMessage;
use cmp_core::protection::Protector;
use cmp_core::ra::{self, ForwardOptions};
use cmp_core::server::{Handled, Responder};
use cmp_core::trust::TrustStore;
use cmp_core::verify::{self, Authenticated, ProtectionPolicy};
use cmp_core::{Error, Limits};
use common::*;

/// The RA's credentials: server.crt carries id-kp-cmcRA.
fn ra_protector() -> Protector {
    Protector::Signature {
        key: key("server.key"),
        cert: cert("server.crt"),
        chain: vec![cert("ca.crt")],
    }
}

/// An end entity that trusts the CA's signer directly.
fn ee_config() -> cmp_core::client::ClientConfig {
    let mut c = mac_client();
    c.server_trust = Some(TrustStore::new(vec![cert("root.crt")]));
    c
}

#[test]
fn forward_with_ra_verified_pop() {
    let ca = Responder::new(responder_config());
    let mut ee = ClientTransaction::start_ir(ee_config(), ir_request(), now()).unwrap();
    let request = ee.poll_transmit().unwrap();

    // the RA authenticates the end entity with its shared secret...
    let parsed = ParsedMessage::decode(&request, &Limits::DEFAULT).unwrap();
    let policy = ProtectionPolicy {
        secret: Some(SECRET),
        trust: None,
        untrusted: &[],
        accept_unprotected: false,
    };
    assert_eq!(
        verify::authenticate(
            &parsed,
            &policy,
            now(),
            provider().as_ref(),
            &Limits::DEFAULT
        ),
        Ok(Authenticated::Mac)
    );
    // ...and forwards it under its own signature, vouching for the POP
    let forwarded = ra::forward_request(
        &parsed,
        &ra_protector(),
        None,
        ForwardOptions { ra_verified: true },
        provider().as_ref(),
        now(),
    )
    .unwrap();
    let reply = match ca.handle_request(&forwarded, now()) {
        Handled::Decide(p) => {
            assert!(matches!(
                p.cert_request().unwrap().popo,
                Some(ProofOfPossession::RaVerified(_))
            ));
            assert_eq!(p.signer_certificate(), Some(&cert("server.crt")));
            issue_fixed(p, now())
        }
        other => panic!("{other:?}"),
    };
    // the CA's answer goes back unchanged; the end entity accepts it
    match ee.handle_response(&reply.bytes, now()).unwrap() {
        ClientEvent::CertificateIssued(i) => assert_eq!(i.cert, cert("issued.crt")),
        other => panic!("{other:?}"),
    }

    // an RA that is not authorised for raVerified is refused
    let ee_as_ra = Protector::Signature {
        key: key("ee.key"),
        cert: cert("ee.crt"),
        chain: vec![cert("ca.crt")],
    };
    let mut ee2 = ClientTransaction::start_ir(ee_config(), ir_request(), now()).unwrap();
    let parsed = ParsedMessage::decode(&ee2.poll_transmit().unwrap(), &Limits::DEFAULT).unwrap();
    let forwarded = ra::forward_request(
        &parsed,
        &ee_as_ra,
        None,
        ForwardOptions { ra_verified: true },
        provider().as_ref(),
        now(),
    )
    .unwrap();
    match ca.handle_request(&forwarded, now()) {
        Handled::Reply(r) => assert_eq!(r.error, Some(Error::NotAuthorized)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn forwarding_refuses_a_broken_pop() {
    let mut req = ir_request();
    req.pop = cmp_core::client::PopMethod::Signature(key("new.key"));
    let mut tx = ClientTransaction::start_ir(ee_config(), req, now()).unwrap();
    let mut m = cmp_core::asn1::PkiMessage::from_der_bytes(&tx.poll_transmit().unwrap()).unwrap();
    // swap in another public key: the POP no longer matches
    if let cmp_core::asn1::PkiBody::Ir(r) = &mut m.body {
        r[0].cert_req.cert_template.public_key = Some(cmp_core::crypto::SigningKey::public_key(
            key("ee.key").as_ref(),
        ));
    }
    let parsed = ParsedMessage::from_message(m).unwrap();
    assert_eq!(
        ra::forward_request(
            &parsed,
            &ra_protector(),
            None,
            ForwardOptions { ra_verified: true },
            provider().as_ref(),
            now()
        ),
        Err(Error::BadPop)
    );
}

#[test]
fn nested_batch_of_two_enrollments() {
    let ca = Responder::new(responder_config());
    let mut ees: Vec<ClientTransaction> = (0..2)
        .map(|_| ClientTransaction::start_ir(ee_config(), ir_request(), now()).unwrap())
        .collect();
    let inner: Vec<_> = ees
        .iter_mut()
        .map(|tx| cmp_core::asn1::PkiMessage::from_der_bytes(&tx.poll_transmit().unwrap()).unwrap())
        .collect();
    let batch = ra::nest(inner, &ra_protector(), None, provider().as_ref(), now()).unwrap();

    let reply = ca.handle_request_with(&batch, now(), &mut |p, now| issue_fixed(p, now));
    assert_eq!(reply.body, BodyType::Nested, "{:?}", reply.error);
    assert_eq!(
        reply.inner.iter().map(|r| r.body).collect::<Vec<_>>(),
        [BodyType::Ip, BodyType::Ip]
    );

    // the RA checks the CA's protection of the batch, then hands out each answer
    let parsed = ParsedMessage::decode(&reply.bytes, &Limits::DEFAULT).unwrap();
    let trust = TrustStore::new(vec![cert("root.crt")]);
    let policy = ProtectionPolicy {
        secret: None,
        trust: Some(&trust),
        untrusted: &[],
        accept_unprotected: false,
    };
    assert!(matches!(
        verify::authenticate(
            &parsed,
            &policy,
            now(),
            provider().as_ref(),
            &Limits::DEFAULT
        ),
        Ok(Authenticated::Signature { .. })
    ));
    let answers = ra::unnest(&parsed).unwrap();
    assert_eq!(answers.len(), 2);
    for (tx, answer) in ees.iter_mut().zip(answers) {
        let bytes = cmp_core::message::encode(answer).unwrap();
        assert!(matches!(
            tx.handle_response(&bytes, now()).unwrap(),
            ClientEvent::CertificateIssued(_)
        ));
        tx.confirm(Confirmation::Accept, now()).unwrap();
        let cert_conf = tx.poll_transmit().unwrap();
        // certConf goes directly (or nested again); here directly
        let Handled::Reply(pki_conf) = ca.handle_request(&cert_conf, now()) else {
            panic!()
        };
        assert_eq!(
            tx.handle_response(&pki_conf.bytes, now()).unwrap(),
            ClientEvent::Completed
        );
    }
}

#[test]
fn nested_from_an_untrusted_ra_is_refused() {
    let mut cfg = responder_config();
    cfg.client_trust = Some(TrustStore::new(vec![cert("issued.crt")]));
    let ca = Responder::new(cfg);
    let mut tx = ClientTransaction::start_ir(ee_config(), ir_request(), now()).unwrap();
    let inner =
        vec![cmp_core::asn1::PkiMessage::from_der_bytes(&tx.poll_transmit().unwrap()).unwrap()];
    let batch = ra::nest(inner, &ra_protector(), None, provider().as_ref(), now()).unwrap();
    match ca.handle_request(&batch, now()) {
        Handled::Reply(r) => assert!(matches!(r.error, Some(Error::SignerNotTrusted(_)))),
        other => panic!("{other:?}"),
    }
}
