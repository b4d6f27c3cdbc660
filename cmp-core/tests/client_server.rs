//! The client against the responder, in memory: every transaction kind end
//! to end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use cmp_core::Error;
use cmp_core::asn1::{BodyType, FailureBit, InfoValue, PkiStatus, PkiStatusInfo};
use cmp_core::client::{ClientEvent, ClientTransaction, EnrollKind, EnrollRequest, RevokeRequest};
use cmp_core::server::{RequestKind, Responder, ResponderEvent};
use cmp_core::verify::Authenticated;
use common::*;
use der::Decode;
use x509_cert::request::CertReq;

fn issued(run: &Run) -> &cmp_core::client::IssuedCertificate {
    run.client_events
        .iter()
        .find_map(|e| match e {
            ClientEvent::CertificateIssued(i) => Some(i),
            _ => None,
        })
        .expect("no certificate issued")
}

fn bodies(run: &Run) -> Vec<BodyType> {
    run.replies.iter().map(|r| r.body).collect()
}

#[test]
fn ir_with_mac_confirms_explicitly() {
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), issue_fixed);
    result.unwrap();
    assert!(tx.is_completed());
    assert_eq!(bodies(&run), [BodyType::Ip, BodyType::PkiConf]);
    let got = issued(&run);
    assert_eq!(got.cert, cert("issued.crt"));
    assert_eq!(got.chain, [cert("ca.crt"), cert("root.crt")]);
    assert_eq!(got.ca_pubs, [cert("root.crt")]);
    assert!(!got.implicit_confirm_granted);
    assert_eq!(
        run.server_events,
        [ResponderEvent::Confirmed(cert("issued.crt"))]
    );
    assert_eq!(tx.authenticated_as(), Some(&Authenticated::Mac));
    assert_eq!(run.client_events.last(), Some(&ClientEvent::Completed));
}

#[test]
fn implicit_confirm_is_used_only_when_granted() {
    let mut cfg = responder_config();
    cfg.grant_implicit_confirm = true;
    let responder = Responder::new(cfg);
    let mut client = mac_client();
    client.implicit_confirm = true;
    let mut tx = ClientTransaction::start_ir(client.clone(), ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), issue_fixed);
    result.unwrap();
    assert_eq!(bodies(&run), [BodyType::Ip]);
    assert!(issued(&run).implicit_confirm_granted);
    assert_eq!(
        run.server_events,
        [ResponderEvent::ImplicitlyConfirmed(cert("issued.crt"))]
    );

    // not granted: certConf is sent even though the client asked
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(client, ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), issue_fixed);
    result.unwrap();
    assert_eq!(bodies(&run), [BodyType::Ip, BodyType::PkiConf]);
}

#[test]
fn ir_with_signatures_both_ways() {
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(sig_client(), ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), |p, now| {
        assert_eq!(p.signer_certificate(), Some(&cert("ee.crt")));
        issue_fixed(p, now)
    });
    result.unwrap();
    assert_eq!(bodies(&run), [BodyType::Ip, BodyType::PkiConf]);
    match tx.authenticated_as() {
        Some(Authenticated::Signature { signer, path }) => {
            assert_eq!(signer, &cert("server.crt"));
            assert_eq!(path.last(), Some(&cert("root.crt")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cr_and_kur_and_p10cr() {
    let responder = Responder::new(responder_config());
    let cr = EnrollRequest::new(EnrollKind::Cr, Some(device()), key("issued.key"));
    let mut tx = ClientTransaction::start_enroll(mac_client(), &cr, now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), issue_fixed);
    result.unwrap();
    assert_eq!(bodies(&run), [BodyType::Cp, BodyType::PkiConf]);

    // kur: signed with the certificate being renewed
    let mut client = mac_client();
    client.protector = cmp_core::protection::Protector::Signature {
        key: key("issued.key"),
        cert: cert("issued.crt"),
        chain: vec![cert("ca.crt")],
    };
    client.server_trust = Some(cmp_core::trust::TrustStore::new(vec![cert("root.crt")]));
    let mut kur = EnrollRequest::new(EnrollKind::Kur, None, key("issued.key"));
    kur.old_cert = Some(cert("issued.crt"));
    let mut tx = ClientTransaction::start_enroll(client, &kur, now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), |p, now| {
        assert_eq!(p.kind(), RequestKind::Enroll(EnrollKind::Kur));
        let old = p.old_cert_id().unwrap().unwrap();
        assert_eq!(
            old.serial_number.as_bytes(),
            cert("issued.crt")
                .tbs_certificate()
                .serial_number()
                .as_bytes()
        );
        assert_eq!(p.subject(), Some(&device()));
        issue_fixed(p, now)
    });
    result.unwrap();
    assert_eq!(bodies(&run), [BodyType::Kup, BodyType::PkiConf]);

    // p10cr with the fixed CSR for issued.key
    let csr = CertReq::from_der(&pki_bytes("csr.der")).unwrap();
    let mut tx = ClientTransaction::start_p10cr(mac_client(), csr, now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), |p, now| {
        assert_eq!(p.kind(), RequestKind::P10cr);
        assert_eq!(p.subject(), Some(&device()));
        issue_fixed(p, now)
    });
    result.unwrap();
    assert_eq!(bodies(&run), [BodyType::Cp, BodyType::PkiConf]);
}

#[test]
fn polling_until_issued() {
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), |p, now| {
        if p.polls() < 2 {
            p.wait(5, now).unwrap()
        } else {
            issue_fixed(p, now)
        }
    });
    result.unwrap();
    assert_eq!(
        bodies(&run),
        [
            BodyType::Ip,
            BodyType::PollRep,
            BodyType::Ip,
            BodyType::PkiConf
        ]
    );
    let waits: Vec<_> = run
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Waiting { until } => Some(until.unix_secs() - now().unix_secs()),
            _ => None,
        })
        .collect();
    assert_eq!(waits, [0, 5]);
}

#[test]
fn rejection_is_reported_with_its_status() {
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), |p, now| {
        p.reject(
            PkiStatusInfo::rejection(FailureBit::BadPop, "rejected_by_policy"),
            now,
        )
        .unwrap()
    });
    match result {
        Err(Error::Peer(f)) => {
            assert_eq!(f.body, BodyType::Ip);
            assert_eq!(f.status.status, PkiStatus::Rejection);
            assert_eq!(f.status.failure_bits(), [FailureBit::BadPop]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(bodies(&run), [BodyType::Ip]);
    assert!(tx.is_finished() && !tx.is_completed());
}

#[test]
fn revocation_and_general_messages() {
    let responder = Responder::new(responder_config());
    let rr = RevokeRequest {
        cert: cert("issued.crt"),
        reason: Some(1),
    };
    let mut tx = ClientTransaction::start_rr(common::sig_client(), &rr, now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), |p, now| {
        let d = p.revocation().unwrap();
        assert_eq!(
            d.cert_details.serial_number.as_ref().unwrap().as_bytes(),
            cert("issued.crt")
                .tbs_certificate()
                .serial_number()
                .as_bytes()
        );
        assert!(d.crl_entry_details.is_some());
        p.revoke(now).unwrap()
    });
    result.unwrap();
    assert!(matches!(run.client_events[0], ClientEvent::Revoked { .. }));

    let ask = InfoValue::CaCerts(None).to_itav().unwrap();
    let mut tx = ClientTransaction::start_genm(mac_client(), vec![ask], now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), |p, now| {
        assert_eq!(p.general_message().len(), 1);
        let answer = InfoValue::CaCerts(Some(vec![cert("root.crt")]))
            .to_itav()
            .unwrap();
        p.respond_genp(vec![answer], now).unwrap()
    });
    result.unwrap();
    match &run.client_events[0] {
        ClientEvent::GeneralResponse(itavs) => {
            assert_eq!(
                InfoValue::from_itav(&itavs[0]).unwrap(),
                Some(InfoValue::CaCerts(Some(vec![cert("root.crt")])))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rr_and_genm_can_poll_too() {
    let responder = Responder::new(responder_config());
    let rr = RevokeRequest {
        cert: cert("issued.crt"),
        reason: None,
    };
    let mut tx = ClientTransaction::start_rr(common::sig_client(), &rr, now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), |p, now| {
        if p.polls() == 0 {
            p.wait(2, now).unwrap()
        } else {
            p.revoke(now).unwrap()
        }
    });
    result.unwrap();
    assert_eq!(bodies(&run), [BodyType::Error, BodyType::Rp]);
}

#[test]
fn a_certificate_for_another_key_is_rejected_in_cert_conf() {
    let responder = Responder::new(responder_config());
    let mut tx = ClientTransaction::start_ir(mac_client(), ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), |p, now| {
        p.issue(cert("ee.crt"), None, now).unwrap()
    });
    assert_eq!(
        result,
        Err(Error::IncorrectData(
            "the certificate is for another public key"
        ))
    );
    assert_eq!(bodies(&run), [BodyType::Ip, BodyType::PkiConf]);
    match &run.server_events[..] {
        [ResponderEvent::ConfirmationRejected { cert: c, status }] => {
            assert_eq!(c, &cert("ee.crt"));
            assert_eq!(status.failure_bits(), [FailureBit::IncorrectData]);
        }
        other => panic!("{other:?}"),
    }
}
