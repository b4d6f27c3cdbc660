//! Proof-of-possession for ML-KEM keys by the indirect method (RFC 9810
//! section 5.2.8.3): the ir asks for the certificate encrypted
//! (keyEncipherment / subsequentMessage encrCert), the responder returns it
//! in EnvelopedData with a KEMRecipientInfo (RFC 9629), the client decrypts
//! it and confirms its hash; a wrong hash is badPOP.
//!
//! OpenSSL 3.0 has no ML-KEM and no KEMRecipientInfo, so there is no interop test.
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

use cmp_core::asn1::{CertOrEncCert, EncryptedKey, PkiBody, PkiMessage, cmp::pvno, oid};
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
    PopMethod,
};
use cmp_core::crypto::{DecapsulationKey, KemAlgorithm, SigningKey};
use cmp_core::pop_kem::{self, KemRecipientInfo};
use cmp_core::protection::Protector;
use cmp_core::server::{
    MemoryStore, PendingRequest, Reply, Responder, ResponderConfig, ResponderEvent, StaticSecrets,
};
use cmp_core::{Error, Timestamp};
use cmp_crypto_rustcrypto::{
    IssueRequest, KemPrivateKey, KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider,
};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::name::Name;

const REF: &[u8] = b"kem-ref";
const SECRET: &[u8] = b"kem-secret";

struct Setup {
    ca: Arc<Mutex<ReferenceCa>>,
    responder: Responder,
    now: Timestamp,
}

fn setup(grant_implicit: bool) -> Setup {
    let now = Timestamp::now();
    let (ca, _root) =
        ReferenceCa::generate_hierarchy("KEM POP", now, KeyAlgorithm::EcP256).unwrap();
    let mut c = ResponderConfig::new(
        Arc::new(RustCryptoProvider),
        Arc::new(MemoryStore::default()),
    );
    c.secrets = Some(Arc::new(StaticSecrets::default().with(REF, SECRET)));
    c.grant_implicit_confirm = grant_implicit;
    c.extra_certs = ca.chain().to_vec();
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
        extn_value: der::asn1::OctetString::new(
            KeyUsage(KeyUsages::KeyEncipherment.into())
                .to_der()
                .unwrap(),
        )
        .unwrap(),
    }
}

fn kem_request(key: Arc<dyn DecapsulationKey>) -> EnrollRequest {
    let mut r = EnrollRequest::new(
        EnrollKind::Ir,
        Some(Name::from_str("CN=KEM Device").unwrap()),
        Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap()),
    );
    r.pop = PopMethod::EncryptedCert(key);
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

/// The EnvelopedData of an ip.
fn enveloped(bytes: &[u8]) -> cms::enveloped_data::EnvelopedData {
    let ip = PkiMessage::from_der_bytes(bytes).unwrap();
    assert_eq!(ip.header.pvno, pvno::CMP2021);
    let PkiBody::Ip(rep) = ip.body else {
        panic!("not an ip: {:?}", ip.body.body_type())
    };
    match &rep.response[0]
        .certified_key_pair
        .as_ref()
        .unwrap()
        .cert_or_enc_cert
    {
        CertOrEncCert::EncryptedCert(EncryptedKey::EnvelopedData(env)) => env.clone(),
        other => panic!("not encrypted: {other:?}"),
    }
}

fn kemri(env: &cms::enveloped_data::EnvelopedData) -> KemRecipientInfo {
    let [cms::enveloped_data::RecipientInfo::Ori(ori)] = env.recip_infos.0.as_slice() else {
        panic!("one ori expected")
    };
    assert_eq!(ori.ori_type, pop_kem::ID_ORI_KEM);
    KemRecipientInfo::from_der(&ori.ori_value.to_der().unwrap()).unwrap()
}

#[test]
fn encrypted_certificate_decrypted_and_confirmed_for_every_ml_kem_level() {
    for (alg, kem_oid, wrap) in [
        (
            KemAlgorithm::MlKem512,
            oid::ML_KEM_512,
            pop_kem::ID_AES128_WRAP,
        ),
        (
            KemAlgorithm::MlKem768,
            oid::ML_KEM_768,
            pop_kem::ID_AES256_WRAP,
        ),
        (
            KemAlgorithm::MlKem1024,
            oid::ML_KEM_1024,
            pop_kem::ID_AES256_WRAP,
        ),
    ] {
        let s = setup(false);
        let key = Arc::new(KemPrivateKey::generate(alg).unwrap());
        let mut tx =
            ClientTransaction::start_ir(client(), kem_request(key.clone()), s.now).unwrap();
        let (run, result) = common::drive(&mut tx, &s.responder, s.now, issue_with(&s.ca));
        result.unwrap();
        assert!(tx.is_completed());

        // the ir: keyEncipherment POP, encrCert, pvno 3
        let ir = PkiMessage::from_der_bytes(&run.requests[0]).unwrap();
        assert_eq!(ir.header.pvno, pvno::CMP2021);
        let PkiBody::Ir(reqs) = &ir.body else {
            panic!()
        };
        assert!(pop_kem::requests_encr_cert(&reqs[0]));

        // the ip: EnvelopedData v3 with one KEMRecipientInfo as RFC 9936 pairs them
        let env = enveloped(&run.replies[0].bytes);
        assert_eq!(env.version, cms::content_info::CmsVersion::V3);
        assert_eq!(env.encrypted_content.content_type, pop_kem::ID_DATA);
        assert_eq!(
            env.encrypted_content.content_enc_alg.oid,
            pop_kem::ID_AES256_CBC
        );
        let k = kemri(&env);
        assert_eq!(k.version, 0);
        assert_eq!(k.kem.oid, kem_oid);
        assert_eq!(k.kemct.as_bytes().len(), alg.ciphertext_len());
        assert_eq!(k.kdf.oid, oid::HKDF_WITH_SHA256);
        assert_eq!(k.wrap.oid, wrap);
        assert_eq!(
            k.kek_length,
            if alg == KemAlgorithm::MlKem512 {
                16
            } else {
                32
            }
        );
        assert_eq!(k.encrypted_key.as_bytes().len(), 40);

        // the client got the certificate of its KEM key and confirmed it
        let Some(ClientEvent::CertificateIssued(issued)) = run.client_events.first() else {
            panic!("{:?}", run.client_events)
        };
        assert_eq!(
            issued.cert.tbs_certificate().subject_public_key_info(),
            &key.public_key()
        );
        assert!(matches!(
            run.server_events.as_slice(),
            [ResponderEvent::Confirmed(c)] if c == &issued.cert
        ));
        assert_eq!(
            pop_kem::decrypt_certificate(&env, key.as_ref(), &RustCryptoProvider).unwrap(),
            issued.cert
        );
    }
}

#[test]
fn a_wrong_cert_hash_in_cert_conf_is_bad_pop() {
    let s = setup(false);
    let key = Arc::new(KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap());
    let mut tx = ClientTransaction::start_ir(client(), kem_request(key), s.now).unwrap();
    let ir = tx.poll_transmit().unwrap();
    let ip = s
        .responder
        .handle_request_with(&ir, s.now, &mut issue_with(&s.ca));
    assert!(matches!(
        tx.handle_response(&ip.bytes, s.now).unwrap(),
        ClientEvent::CertificateIssued(_)
    ));
    tx.confirm(Confirmation::Accept, s.now).unwrap();
    let conf = tx.poll_transmit().unwrap();

    // the same certConf with another hash, protected again
    let mut msg = PkiMessage::from_der_bytes(&conf).unwrap();
    let PkiBody::CertConf(mut statuses) = msg.body.clone() else {
        panic!()
    };
    statuses[0].cert_hash = der::asn1::OctetString::new(vec![0u8; 32]).unwrap();
    msg.body = PkiBody::CertConf(statuses);
    let forged = Protector::mac(REF, SECRET)
        .protect(msg.header, msg.body, Vec::new(), &RustCryptoProvider)
        .unwrap();
    let reply = s.responder.handle_request_with(
        &cmp_core::message::encode(&forged).unwrap(),
        s.now,
        &mut issue_with(&s.ca),
    );
    assert_eq!(reply.error, Some(Error::BadPop));
    assert_eq!(
        cmp_core::server::failure_bit_of(&reply),
        Some(cmp_core::asn1::FailureBit::BadPop)
    );

    // the genuine certConf is still accepted
    let reply = s
        .responder
        .handle_request_with(&conf, s.now, &mut issue_with(&s.ca));
    assert_eq!(reply.error, None);
    assert!(matches!(reply.event, Some(ResponderEvent::Confirmed(_))));
}

#[test]
fn only_the_right_key_decrypts() {
    let s = setup(false);
    let key = Arc::new(KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap());
    let mut tx = ClientTransaction::start_ir(client(), kem_request(key.clone()), s.now).unwrap();
    let ir = tx.poll_transmit().unwrap();
    let ip = s
        .responder
        .handle_request_with(&ir, s.now, &mut issue_with(&s.ca));
    let env = enveloped(&ip.bytes);
    let p = RustCryptoProvider;

    let other = KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap();
    assert!(matches!(
        pop_kem::decrypt_certificate(&env, &other, &p),
        Err(Error::IncorrectData(_))
    ));
    let small = KemPrivateKey::generate(KemAlgorithm::MlKem512).unwrap();
    assert!(matches!(
        pop_kem::decrypt_certificate(&env, &small, &p),
        Err(Error::IncorrectData(_))
    ));

    // a tampered KEM ciphertext, wrapped key or content: no certificate
    let tamper = |f: &dyn Fn(&mut KemRecipientInfo, &mut cms::enveloped_data::EnvelopedData)| {
        let mut e = env.clone();
        let mut k = kemri(&e);
        f(&mut k, &mut e);
        e.recip_infos = cms::enveloped_data::RecipientInfos::try_from(vec![
            cms::enveloped_data::RecipientInfo::Ori(cms::enveloped_data::OtherRecipientInfo {
                ori_type: pop_kem::ID_ORI_KEM,
                ori_value: der::Any::encode_from(&k).unwrap(),
            }),
        ])
        .unwrap();
        pop_kem::decrypt_certificate(&e, key.as_ref(), &p)
    };
    let flip = |o: &der::asn1::OctetString, i: usize| {
        let mut b = o.as_bytes().to_vec();
        b[i] ^= 1;
        der::asn1::OctetString::new(b).unwrap()
    };
    assert!(matches!(
        tamper(&|k, _| k.kemct = flip(&k.kemct, 3)),
        Err(Error::IncorrectData(_))
    ));
    assert!(matches!(
        tamper(&|k, _| k.encrypted_key = flip(&k.encrypted_key, 3)),
        Err(Error::IncorrectData(_))
    ));
    assert!(matches!(
        tamper(&|_, e| {
            let c = e.encrypted_content.encrypted_content.as_ref().unwrap();
            e.encrypted_content.encrypted_content = Some(flip(c, 0));
        }),
        Err(Error::IncorrectData(_))
    ));
    assert!(matches!(
        tamper(&|k, _| k.kdf.oid = oid::HKDF_WITH_SHA512),
        Err(Error::UnsupportedAlgorithm(_))
    ));

    // the client whose certificate does not decrypt fails with that error
    let mut ip_msg = PkiMessage::from_der_bytes(&ip.bytes).unwrap();
    let PkiBody::Ip(mut rep) = ip_msg.body.clone() else {
        panic!()
    };
    let mut bad = env.clone();
    let c = bad.encrypted_content.encrypted_content.as_ref().unwrap();
    bad.encrypted_content.encrypted_content = Some(flip(c, 0));
    rep.response[0]
        .certified_key_pair
        .as_mut()
        .unwrap()
        .cert_or_enc_cert = CertOrEncCert::EncryptedCert(EncryptedKey::EnvelopedData(bad));
    ip_msg.body = PkiBody::Ip(rep);
    let forged = Protector::mac(REF, SECRET)
        .protect(ip_msg.header, ip_msg.body, Vec::new(), &p)
        .unwrap();
    assert!(matches!(
        tx.handle_response(&cmp_core::message::encode(&forged).unwrap(), s.now),
        Err(Error::IncorrectData(_))
    ));
    assert!(tx.is_finished() && !tx.is_completed());
}

#[test]
fn encr_cert_pop_for_a_signing_key_is_bad_pop() {
    let s = setup(false);
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
    reqs[0].popo = Some(pop_kem::encr_cert_pop());
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
        &mut issue_with(&s.ca),
    );
    assert_eq!(reply.error, Some(Error::BadPop));
}

#[test]
fn implicit_confirmation_is_never_granted_for_an_encrypted_certificate() {
    let s = setup(true);
    let key = Arc::new(KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap());
    let mut config = client();
    config.implicit_confirm = true;
    let mut tx = ClientTransaction::start_ir(config, kem_request(key), s.now).unwrap();
    let (run, result) = common::drive(&mut tx, &s.responder, s.now, issue_with(&s.ca));
    result.unwrap();
    // ir, certConf: the certConf is the proof of possession
    assert_eq!(run.requests.len(), 2);
    let Some(ClientEvent::CertificateIssued(issued)) = run.client_events.first() else {
        panic!()
    };
    assert!(!issued.implicit_confirm_granted);
    assert!(matches!(
        run.server_events.as_slice(),
        [ResponderEvent::Confirmed(_)]
    ));
}

#[test]
fn enveloped_certificate_round_trips_through_der() {
    let now = Timestamp::now();
    let (mut ca, _) = ReferenceCa::generate_hierarchy("RT", now, KeyAlgorithm::EcP256).unwrap();
    let key = KemPrivateKey::generate(KemAlgorithm::MlKem1024).unwrap();
    let cert: Certificate = ca
        .issue(
            &IssueRequest::new(Name::from_str("CN=RT").unwrap(), key.public_key()),
            now,
        )
        .unwrap();
    let p = RustCryptoProvider;
    let env = pop_kem::encrypt_certificate(&cert, &key.public_key(), &p).unwrap();
    let der = env.to_der().unwrap();
    let back = cms::enveloped_data::EnvelopedData::from_der(&der).unwrap();
    assert_eq!(back, env);
    assert_eq!(pop_kem::decrypt_certificate(&back, &key, &p).unwrap(), cert);
    // a non-KEM recipient key is refused
    let ec = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    assert!(matches!(
        pop_kem::encrypt_certificate(&cert, &ec.public_key(), &p),
        Err(Error::UnsupportedAlgorithm(_))
    ));
    // the recipient is named by the key identifier of its public key
    let k = kemri(&env);
    let cms::enveloped_data::RecipientIdentifier::SubjectKeyIdentifier(ski) = k.rid else {
        panic!()
    };
    assert_eq!(
        ski.0.as_bytes(),
        pop_kem::key_identifier(&key.public_key(), &p).unwrap()
    );
}
