//! ML-DSA (FIPS 204) end to end: a CA with an ML-DSA key issues ML-DSA
//! end-entity certificates, and ir / ip / certConf / pkiConf are
//! signature-protected with ML-DSA on both sides; the ML-DSA signature POP
//! of the new key is checked, and certConf hashes the ML-DSA-signed
//! certificate with hashAlg (pvno 3).
//!
//! OpenSSL 3.0 has no ML-DSA, so there is no interop test.
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

use cmp_core::asn1::{PkiBody, PkiMessage, cmp::pvno, oid};
use cmp_core::client::{ClientConfig, ClientEvent, ClientTransaction, EnrollKind, EnrollRequest};
use cmp_core::crypto::SigningKey;
use cmp_core::message::ParsedMessage;
use cmp_core::protection::Protector;
use cmp_core::server::{MemoryStore, Responder, ResponderConfig, ResponderEvent};
use cmp_core::trust::TrustStore;
use cmp_core::verify::Authenticated;
use cmp_core::{Error, Limits, Timestamp};
use cmp_crypto_rustcrypto::{
    IssueRequest, KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider,
};
use x509_cert::name::Name;

struct Setup {
    ca: Arc<Mutex<ReferenceCa>>,
    responder: Responder,
    client: ClientConfig,
    now: Timestamp,
}

fn setup(alg: KeyAlgorithm) -> Setup {
    let now = Timestamp::now();
    let (ca, root) = ReferenceCa::generate_hierarchy("PQ", now, alg).unwrap();
    assert_eq!(ca.signing_key().key_algorithm(), Some(alg));
    let (ra_key, ra_cert) = ca
        .generate_cmp_signer(Name::from_str("CN=PQ RA").unwrap(), now)
        .unwrap();
    assert_eq!(ra_key.key_algorithm(), Some(alg));
    let mut rc = ResponderConfig::new(
        Arc::new(RustCryptoProvider),
        Arc::new(MemoryStore::default()),
    );
    rc.client_trust = Some(TrustStore::new(vec![root.clone()]));
    rc.signer = Some(Protector::Signature {
        key: Arc::new(ra_key),
        cert: ra_cert,
        chain: ca.chain().to_vec(),
    });
    rc.extra_certs = ca.chain().to_vec();

    // the end entity already holds an ML-DSA certificate of this PKI
    let old_key = PrivateKey::generate(alg).unwrap();
    let mut ca = ca;
    let old_cert = ca
        .issue(
            &IssueRequest::new(
                Name::from_str("CN=PQ Device").unwrap(),
                old_key.public_key(),
            ),
            now,
        )
        .unwrap();
    let mut client = ClientConfig::new(
        Arc::new(RustCryptoProvider),
        Protector::Signature {
            key: Arc::new(old_key),
            cert: old_cert,
            chain: ca.chain().to_vec(),
        },
    );
    client.server_trust = Some(TrustStore::new(vec![root]));
    Setup {
        ca: Arc::new(Mutex::new(ca)),
        responder: Responder::new(rc),
        client,
        now,
    }
}

fn issue_with(
    ca: &Arc<Mutex<ReferenceCa>>,
) -> impl FnMut(cmp_core::server::PendingRequest, Timestamp) -> cmp_core::server::Reply {
    let ca = Arc::clone(ca);
    move |pending, now| {
        let req = IssueRequest::new(
            pending.subject().cloned().unwrap_or_default(),
            pending.public_key().cloned().unwrap(),
        );
        let cert = ca.lock().unwrap().issue(&req, now).unwrap();
        pending.issue(cert, None, now).unwrap()
    }
}

fn ml_dsa_oid(alg: KeyAlgorithm) -> der::asn1::ObjectIdentifier {
    match alg {
        KeyAlgorithm::MlDsa44 => oid::ML_DSA_44,
        KeyAlgorithm::MlDsa65 => oid::ML_DSA_65,
        _ => oid::ML_DSA_87,
    }
}

#[test]
fn ir_ip_cert_conf_pki_conf_signed_with_ml_dsa_at_every_level() {
    for alg in [
        KeyAlgorithm::MlDsa44,
        KeyAlgorithm::MlDsa65,
        KeyAlgorithm::MlDsa87,
    ] {
        let s = setup(alg);
        let new_key = Arc::new(PrivateKey::generate(alg).unwrap());
        let request = EnrollRequest::new(
            EnrollKind::Ir,
            Some(Name::from_str("CN=PQ Device").unwrap()),
            new_key.clone(),
        );
        let mut tx = ClientTransaction::start_ir(s.client.clone(), request, s.now).unwrap();
        let (run, result) = common::drive(&mut tx, &s.responder, s.now, issue_with(&s.ca));
        result.unwrap();
        assert!(tx.is_completed());
        assert!(matches!(
            tx.authenticated_as(),
            Some(Authenticated::Signature { .. })
        ));

        // every message both ways is signed with ML-DSA of this level
        for bytes in run
            .requests
            .iter()
            .chain(run.replies.iter().map(|r| &r.bytes))
        {
            let msg = ParsedMessage::decode(bytes, &Limits::DEFAULT).unwrap();
            assert_eq!(msg.protection_alg_oid(), Some(ml_dsa_oid(alg)));
        }

        // the issued certificate: the new ML-DSA key, signed by the ML-DSA CA
        let Some(ClientEvent::CertificateIssued(issued)) = run.client_events.first() else {
            panic!("no certificate: {:?}", run.client_events);
        };
        let tbs = issued.cert.tbs_certificate();
        assert_eq!(tbs.subject_public_key_info(), &new_key.public_key());
        assert_eq!(issued.cert.signature_algorithm().oid, ml_dsa_oid(alg));

        // the ir's POP is an ML-DSA signature; certConf names its hash (pvno 3)
        let ir = PkiMessage::from_der_bytes(&run.requests[0]).unwrap();
        let PkiBody::Ir(reqs) = &ir.body else {
            panic!("not an ir")
        };
        match &reqs[0].popo {
            Some(cmp_core::asn1::ProofOfPossession::Signature(p)) => {
                assert_eq!(p.algorithm_identifier.oid, ml_dsa_oid(alg))
            }
            other => panic!("POP {other:?}"),
        }
        let conf = PkiMessage::from_der_bytes(&run.requests[1]).unwrap();
        assert_eq!(conf.header.pvno, pvno::CMP2021);
        let PkiBody::CertConf(st) = &conf.body else {
            panic!("not a certConf")
        };
        assert_eq!(st[0].hash_alg.as_ref().unwrap().oid, oid::SHA512);
        assert!(matches!(
            run.server_events.as_slice(),
            [ResponderEvent::Confirmed(c)] if c == &issued.cert
        ));
    }
}

#[test]
fn a_tampered_ml_dsa_protection_is_refused_both_ways() {
    let s = setup(KeyAlgorithm::MlDsa44);
    let key = Arc::new(PrivateKey::generate(KeyAlgorithm::MlDsa44).unwrap());
    let request = EnrollRequest::new(
        EnrollKind::Ir,
        Some(Name::from_str("CN=PQ Device").unwrap()),
        key,
    );
    let mut tx = ClientTransaction::start_ir(s.client.clone(), request, s.now).unwrap();
    let bytes = tx.poll_transmit().unwrap();

    let mut msg = PkiMessage::from_der_bytes(&bytes).unwrap();
    let mut sig = msg.protection.as_ref().unwrap().raw_bytes().to_vec();
    sig[5] ^= 0x80;
    msg.protection = Some(der::asn1::BitString::from_bytes(&sig).unwrap());
    let forged = cmp_core::message::encode(&msg).unwrap();
    let reply = s
        .responder
        .handle_request_with(&forged, s.now, &mut issue_with(&s.ca));
    assert_eq!(reply.error, Some(Error::BadMessageCheck));

    let reply = s
        .responder
        .handle_request_with(&bytes, s.now, &mut issue_with(&s.ca));
    assert_eq!(reply.error, None);
    let mut ip = PkiMessage::from_der_bytes(&reply.bytes).unwrap();
    let mut sig = ip.protection.as_ref().unwrap().raw_bytes().to_vec();
    sig[0] ^= 0x01;
    ip.protection = Some(der::asn1::BitString::from_bytes(&sig).unwrap());
    let forged = cmp_core::message::encode(&ip).unwrap();
    assert_eq!(
        tx.handle_response(&forged, s.now),
        Err(Error::BadMessageCheck)
    );
}

#[test]
fn an_ml_dsa_pop_by_another_key_is_bad_pop() {
    let s = setup(KeyAlgorithm::MlDsa65);
    let key = Arc::new(PrivateKey::generate(KeyAlgorithm::MlDsa65).unwrap());
    let other = PrivateKey::generate(KeyAlgorithm::MlDsa65).unwrap();
    let request = EnrollRequest::new(
        EnrollKind::Ir,
        Some(Name::from_str("CN=PQ Device").unwrap()),
        key,
    );
    // the template names `other`'s public key, the POP is by `key`
    let PkiBody::Ir(mut reqs) = request.to_body().unwrap() else {
        panic!("not an ir")
    };
    reqs[0].cert_req.cert_template.public_key = Some(other.public_key());
    // a signed ir with the mismatching POP
    let header = cmp_core::message::HeaderBuilder::new()
        .sender(x509_cert::ext::pkix::name::GeneralName::DirectoryName(
            s.client.protector.signer_subject().unwrap().clone(),
        ))
        .build(&RustCryptoProvider, s.now)
        .unwrap();
    let msg = s
        .client
        .protector
        .protect(header, PkiBody::Ir(reqs), Vec::new(), &RustCryptoProvider)
        .unwrap();
    let bytes = cmp_core::message::encode(&msg).unwrap();
    let reply = s
        .responder
        .handle_request_with(&bytes, s.now, &mut issue_with(&s.ca));
    assert_eq!(reply.error, Some(Error::BadPop));
}
