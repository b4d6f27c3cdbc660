//! Our client library against OpenSSL's `openssl cmp` mock server on
//! loopback: every exchange OpenSSL 3.0 supports, with real time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use cmp_core::asn1::{BodyType, FailureBit, PkiStatus};
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
    RevokeRequest,
};
use cmp_core::crypto::SigningKey;
use cmp_core::protection::{MacScheme, Protector};
use cmp_core::trust::TrustStore;
use cmp_core::{Error, Timestamp};
use cmp_crypto_rustcrypto::{PrivateKey, RustCryptoProvider};
use cmp_tests::{MAC_REFERENCE, MAC_SECRET, MockServer, Mode, http_post_pkixcmp, pki_dir};
use der::{Decode, DecodePem};
use x509_cert::Certificate;
use x509_cert::name::Name;
use x509_cert::request::CertReq;

fn cert(name: &str) -> Certificate {
    Certificate::from_pem(std::fs::read(pki_dir().join(name)).unwrap()).unwrap()
}

fn key(name: &str) -> Arc<dyn SigningKey> {
    Arc::new(PrivateKey::from_pem(&std::fs::read_to_string(pki_dir().join(name)).unwrap()).unwrap())
}

fn mac_config() -> ClientConfig {
    ClientConfig::new(
        Arc::new(RustCryptoProvider),
        Protector::mac(MAC_REFERENCE.as_bytes(), MAC_SECRET.as_bytes()),
    )
}

fn sig_config(key_name: &str, cert_name: &str) -> ClientConfig {
    let mut c = ClientConfig::new(
        Arc::new(RustCryptoProvider),
        Protector::Signature {
            key: key(key_name),
            cert: cert(cert_name),
            chain: vec![cert("ca.crt")],
        },
    );
    c.server_trust = Some(TrustStore::new(vec![cert("root.crt")]));
    c.untrusted = vec![cert("ca.crt")];
    c
}

fn device_ir(kind: EnrollKind) -> EnrollRequest {
    EnrollRequest::new(
        kind,
        Some(Name::from_str("CN=Test Device").unwrap()),
        key("issued.key"),
    )
}

/// Run `tx` against `server` to its end; returns the events and the result.
fn run(server: &MockServer, tx: &mut ClientTransaction) -> (Vec<ClientEvent>, Result<(), Error>) {
    let mut events = Vec::new();
    for _ in 0..20 {
        let Some(request) = tx.poll_transmit() else {
            if tx.is_finished() {
                return (events, Ok(()));
            }
            let Some(at) = tx.poll_timeout() else {
                panic!("stuck")
            };
            let wait = at.unix_secs().saturating_sub(Timestamp::now().unix_secs());
            std::thread::sleep(Duration::from_secs(wait));
            if let Err(e) = tx.handle_timeout(Timestamp::now().max(at)) {
                return (events, Err(e));
            }
            continue;
        };
        let response = http_post_pkixcmp(&server.url(), &request, Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("HTTP: {e}\n{}", server.log()));
        assert_eq!(response.status, 200);
        assert!(response.is_pkixcmp());
        match tx.handle_response(&response.body, Timestamp::now()) {
            Ok(ClientEvent::CertificateIssued(issued)) => {
                events.push(ClientEvent::CertificateIssued(issued));
                match tx.confirm(Confirmation::Accept, Timestamp::now()) {
                    Ok(ClientEvent::Continue) => {}
                    Ok(ev) => events.push(ev),
                    Err(e) => return (events, Err(e)),
                }
            }
            Ok(ev) => events.push(ev),
            Err(e) => return (events, Err(e)),
        }
    }
    panic!("did not finish")
}

fn issued_cert(events: &[ClientEvent]) -> &Certificate {
    events
        .iter()
        .find_map(|e| match e {
            ClientEvent::CertificateIssued(i) => Some(&i.cert),
            _ => None,
        })
        .expect("no certificate")
}

#[test]
fn ir_with_pbm_is_accepted_by_openssl() {
    let server = MockServer::start(Mode::Mac, &[]).unwrap();
    let mut tx =
        ClientTransaction::start_ir(mac_config(), device_ir(EnrollKind::Ir), Timestamp::now())
            .unwrap();
    let (events, result) = run(&server, &mut tx);
    result.unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(issued_cert(&events), &cert("issued.crt"));
    assert!(
        matches!(events.last(), Some(ClientEvent::Completed)),
        "did not complete"
    );
}

#[test]
fn ir_with_pbmac1_is_accepted_by_openssl() {
    let server = MockServer::start(Mode::Mac, &[]).unwrap();
    let mut config = mac_config();
    config.protector = Protector::Mac {
        reference: MAC_REFERENCE.as_bytes().to_vec(),
        secret: MAC_SECRET.as_bytes().to_vec(),
        scheme: MacScheme::PBMAC1_SHA256,
    };
    let mut tx =
        ClientTransaction::start_ir(config, device_ir(EnrollKind::Ir), Timestamp::now()).unwrap();
    let (events, result) = run(&server, &mut tx);
    // OpenSSL 3.0 predates PBMAC1 in CMP: it answers with an error we report
    // precisely (never a panic or a silent success).
    match result {
        Ok(()) => assert_eq!(issued_cert(&events), &cert("issued.crt")),
        Err(Error::Peer(f)) | Err(Error::UnauthenticatedError(f)) => {
            assert_eq!(f.status.status, PkiStatus::Rejection, "{f}");
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn ir_with_signature_protection_both_ways() {
    let server = MockServer::start(Mode::Sig, &[]).unwrap();
    let mut tx = ClientTransaction::start_ir(
        sig_config("ee.key", "ee.crt"),
        device_ir(EnrollKind::Ir),
        Timestamp::now(),
    )
    .unwrap();
    let (events, result) = run(&server, &mut tx);
    result.unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(issued_cert(&events), &cert("issued.crt"));
    match tx.authenticated_as() {
        Some(cmp_core::verify::Authenticated::Signature { signer, .. }) => {
            assert_eq!(signer, &cert("server.crt"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cr_kur_and_p10cr() {
    let server = MockServer::start(Mode::Mac, &[]).unwrap();
    let mut tx =
        ClientTransaction::start_enroll(mac_config(), &device_ir(EnrollKind::Cr), Timestamp::now())
            .unwrap();
    let (events, result) = run(&server, &mut tx);
    result.unwrap_or_else(|e| panic!("cr: {e}\n{}", server.log()));
    assert_eq!(issued_cert(&events), &cert("issued.crt"));

    let csr = CertReq::from_der(&std::fs::read(pki_dir().join("csr.der")).unwrap()).unwrap();
    let mut tx = ClientTransaction::start_p10cr(mac_config(), csr, Timestamp::now()).unwrap();
    let (events, result) = run(&server, &mut tx);
    result.unwrap_or_else(|e| panic!("p10cr: {e}\n{}", server.log()));
    assert_eq!(issued_cert(&events), &cert("issued.crt"));

    let server = MockServer::start(Mode::Sig, &[]).unwrap();
    let mut kur = device_ir(EnrollKind::Kur);
    kur.subject = None;
    kur.old_cert = Some(cert("issued.crt"));
    let mut tx = ClientTransaction::start_enroll(
        sig_config("issued.key", "issued.crt"),
        &kur,
        Timestamp::now(),
    )
    .unwrap();
    let (events, result) = run(&server, &mut tx);
    result.unwrap_or_else(|e| panic!("kur: {e}\n{}", server.log()));
    assert_eq!(issued_cert(&events), &cert("issued.crt"));
}

#[test]
fn rr_and_genm() {
    let server = MockServer::start(Mode::Sig, &[]).unwrap();
    let rr = RevokeRequest {
        cert: cert("issued.crt"),
        reason: Some(1),
    };
    let mut tx = ClientTransaction::start_rr(
        sig_config("issued.key", "issued.crt"),
        &rr,
        Timestamp::now(),
    )
    .unwrap();
    let (events, result) = run(&server, &mut tx);
    result.unwrap_or_else(|e| panic!("rr: {e}\n{}", server.log()));
    assert!(matches!(events[0], ClientEvent::Revoked { .. }));

    let server = MockServer::start(Mode::Mac, &[]).unwrap();
    let mut tx = ClientTransaction::start_genm(mac_config(), vec![], Timestamp::now()).unwrap();
    let (events, result) = run(&server, &mut tx);
    result.unwrap_or_else(|e| panic!("genm: {e}\n{}", server.log()));
    assert!(matches!(events[0], ClientEvent::GeneralResponse(_)));
}

#[test]
fn polling_and_implicit_confirm() {
    let server = MockServer::start(Mode::Mac, &["-poll_count", "2", "-check_after", "1"]).unwrap();
    let mut tx =
        ClientTransaction::start_ir(mac_config(), device_ir(EnrollKind::Ir), Timestamp::now())
            .unwrap();
    let (events, result) = run(&server, &mut tx);
    result.unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    let waits = events
        .iter()
        .filter(|e| matches!(e, ClientEvent::Waiting { .. }))
        .count();
    assert!(waits >= 2, "{events:?}");
    assert_eq!(issued_cert(&events), &cert("issued.crt"));

    let server = MockServer::start(Mode::Mac, &["-grant_implicitconf"]).unwrap();
    let mut config = mac_config();
    config.implicit_confirm = true;
    let mut tx =
        ClientTransaction::start_ir(config, device_ir(EnrollKind::Ir), Timestamp::now()).unwrap();
    let (events, result) = run(&server, &mut tx);
    result.unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    match &events[0] {
        ClientEvent::CertificateIssued(i) => assert!(i.implicit_confirm_granted),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(events.last(), Some(ClientEvent::Completed)),
        "did not complete"
    );
}

#[test]
fn rejection_and_error_are_reported() {
    let server = MockServer::start(
        Mode::Mac,
        &[
            "-pkistatus",
            "2",
            "-failure",
            "9",
            "-statusstring",
            "rejected_by_policy",
        ],
    )
    .unwrap();
    let mut tx =
        ClientTransaction::start_ir(mac_config(), device_ir(EnrollKind::Ir), Timestamp::now())
            .unwrap();
    match run(&server, &mut tx).1 {
        Err(Error::Peer(f)) => {
            assert_eq!(f.body, BodyType::Ip);
            assert_eq!(f.status.failure_bits(), [FailureBit::BadPop]);
            assert_eq!(
                f.status.status_string.as_deref(),
                Some(&["rejected_by_policy".to_string()][..])
            );
        }
        other => panic!("{other:?}"),
    }

    let server = MockServer::start(Mode::Mac, &["-send_error"]).unwrap();
    let mut tx =
        ClientTransaction::start_ir(mac_config(), device_ir(EnrollKind::Ir), Timestamp::now())
            .unwrap();
    match run(&server, &mut tx).1 {
        Err(Error::Peer(f)) => assert_eq!(f.body, BodyType::Error),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_secret_is_caught_on_both_sides() {
    let server = MockServer::start(Mode::Mac, &[]).unwrap();
    let mut config = mac_config();
    config.protector = Protector::mac(MAC_REFERENCE.as_bytes(), b"wrong");
    let mut tx =
        ClientTransaction::start_ir(config, device_ir(EnrollKind::Ir), Timestamp::now()).unwrap();
    // OpenSSL rejects our MAC; its error reply is protected with the real
    // secret, which does not verify with ours: reported, not trusted.
    match run(&server, &mut tx).1 {
        Err(Error::UnauthenticatedError(f)) => assert_eq!(f.body, BodyType::Error),
        other => panic!("{other:?}"),
    }
}
