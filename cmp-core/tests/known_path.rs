//! Re-validating a signer's path known from an earlier message of the same
//! transaction: the certificate signatures on it are not verified again,
//! everything else is, and the result is the one a full validation gives.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cmp_core::Error;
use cmp_core::asn1::BodyType;
use cmp_core::client::ClientTransaction;
use cmp_core::crypto::{
    CryptoError, CryptoProvider, DigestAlgorithm, HmacAlgorithm, SecureRandom, SignatureAlgorithm,
};
use cmp_core::server::Responder;
use cmp_core::trust::{
    self, TrustStore, ValidationOptions, validate_chain, validate_chain_with_known,
};
use cmp_core::{Timestamp, verify::Authenticated};
use cmp_crypto_rustcrypto::RustCryptoProvider;
use common::*;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;

/// Counts signature verifications.
#[derive(Default)]
struct Counting(AtomicUsize);

impl SecureRandom for Counting {
    fn fill(&self, dest: &mut [u8]) -> Result<(), CryptoError> {
        RustCryptoProvider.fill(dest)
    }
}

impl CryptoProvider for Counting {
    fn digest(&self, alg: DigestAlgorithm, parts: &[&[u8]]) -> Result<Vec<u8>, CryptoError> {
        RustCryptoProvider.digest(alg, parts)
    }
    fn hmac(
        &self,
        alg: HmacAlgorithm,
        key: &[u8],
        parts: &[&[u8]],
    ) -> Result<Vec<u8>, CryptoError> {
        RustCryptoProvider.hmac(alg, key, parts)
    }
    fn pbkdf2(
        &self,
        prf: HmacAlgorithm,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        RustCryptoProvider.pbkdf2(prf, password, salt, iterations, out)
    }
    fn verify_signature(
        &self,
        alg: SignatureAlgorithm,
        params: &AlgorithmIdentifierOwned,
        spki: &SubjectPublicKeyInfoOwned,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        RustCryptoProvider.verify_signature(alg, params, spki, message, signature)
    }
}

fn not_after(c: &Certificate) -> u64 {
    c.tbs_certificate()
        .validity()
        .not_after
        .to_unix_duration()
        .as_secs()
}

fn store() -> TrustStore {
    TrustStore::new(vec![cert("root.crt")])
}

#[test]
fn a_known_path_skips_its_signatures_and_gives_the_same_path() {
    let opts = ValidationOptions::for_cmp_signer();
    let p = Counting::default();
    let extra = [cert("ca.crt")];
    let full = validate_chain(&cert("server.crt"), &extra, &store(), now(), &opts, &p).unwrap();
    assert_eq!(p.0.swap(0, Ordering::Relaxed), 2);
    let known = full.clone().into_certificates();
    assert_eq!(
        known,
        [cert("server.crt"), cert("ca.crt"), cert("root.crt")]
    );
    let again = validate_chain_with_known(
        &cert("server.crt"),
        &extra,
        &store(),
        now(),
        &opts,
        &p,
        &known,
    )
    .unwrap();
    assert_eq!(p.0.load(Ordering::Relaxed), 0);
    assert_eq!(again, full);

    // a known path of another leaf shares only the ca → root link
    let p = Counting::default();
    let other = [cert("ee.crt"), cert("ca.crt"), cert("root.crt")];
    validate_chain_with_known(
        &cert("server.crt"),
        &extra,
        &store(),
        now(),
        &opts,
        &p,
        &other,
    )
    .unwrap();
    assert_eq!(p.0.load(Ordering::Relaxed), 1);
}

#[test]
fn a_known_path_is_still_checked_in_time() {
    let opts = ValidationOptions::for_cmp_signer();
    let known = [cert("server.crt"), cert("ca.crt"), cert("root.crt")];
    let late = Timestamp::from_unix_secs(not_after(&cert("server.crt")) + 1);
    assert_eq!(
        validate_chain_with_known(
            &cert("server.crt"),
            &[cert("ca.crt")],
            &store(),
            late,
            &opts,
            &RustCryptoProvider,
            &known,
        ),
        Err(Error::SignerNotTrusted(trust::EXPIRED))
    );
    // and without the intermediate there is still no path
    assert_eq!(
        validate_chain_with_known(
            &cert("server.crt"),
            &[],
            &store(),
            now(),
            &opts,
            &RustCryptoProvider,
            &known,
        ),
        Err(Error::SignerNotTrusted(trust::NO_PATH))
    );
}

#[test]
fn the_client_validates_the_server_path_once_per_transaction() {
    let responder = Responder::new(responder_config());
    let counter = Arc::new(Counting::default());
    let mut client = sig_client();
    client.provider = counter.clone();
    let mut tx = ClientTransaction::start_ir(client, ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), issue_fixed);
    result.unwrap();
    let bodies: Vec<BodyType> = run.replies.iter().map(|r| r.body).collect();
    assert_eq!(bodies, [BodyType::Ip, BodyType::PkiConf]);
    // ip: its signature and the server's path (2); pkiConf: its signature only
    assert_eq!(counter.0.load(Ordering::Relaxed), 4);
    match tx.authenticated_as() {
        Some(Authenticated::Signature { signer, path }) => {
            assert_eq!(signer, &cert("server.crt"));
            assert_eq!(
                path,
                &[cert("server.crt"), cert("ca.crt"), cert("root.crt")]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_responder_validates_the_client_path_once_per_transaction() {
    let counter = Arc::new(Counting::default());
    let mut config = responder_config();
    config.provider = counter.clone();
    let store = Arc::new(cmp_core::server::MemoryStore::default());
    config.store = store.clone();
    let responder = Responder::new(config);
    let mut tx = ClientTransaction::start_ir(sig_client(), ir_request(), now()).unwrap();
    let (run, result) = drive(&mut tx, &responder, now(), issue_fixed);
    result.unwrap();
    let bodies: Vec<BodyType> = run.replies.iter().map(|r| r.body).collect();
    assert_eq!(bodies, [BodyType::Ip, BodyType::PkiConf]);
    // ir: its signature, the client's path (2) and the POP; certConf: its
    // signature only
    assert_eq!(counter.0.load(Ordering::Relaxed), 5);
    let tid = <cmp_core::asn1::PkiMessage as der::Decode>::from_der(&run.requests[0])
        .unwrap()
        .header
        .transaction_id
        .unwrap();
    let record = cmp_core::server::TransactionStore::get(store.as_ref(), tid.as_bytes(), now())
        .unwrap()
        .unwrap();
    let record = cmp_core::server::TransactionRecord::from_bytes(&record).unwrap();
    assert_eq!(
        record.signer_path,
        Some(vec![cert("ee.crt"), cert("ca.crt"), cert("root.crt")])
    );
}

#[test]
fn a_record_without_a_signer_path_still_decodes() {
    use cmp_core::server::TransactionRecord;
    use der::asn1::OctetString;
    let record = TransactionRecord {
        phase: 3,
        last_nonce: OctetString::new(vec![1; 16]).unwrap(),
        request: OctetString::new(vec![2; 4]).unwrap(),
        cert_req_id: 0,
        issued: None,
        polls: 3,
        signer_path: None,
    };
    let bytes = record.to_bytes().unwrap();
    assert_eq!(TransactionRecord::from_bytes(&bytes).unwrap(), record);
    let with_path = TransactionRecord {
        signer_path: Some(vec![cert("ee.crt"), cert("ca.crt")]),
        ..record.clone()
    };
    let longer = with_path.to_bytes().unwrap();
    assert!(longer.len() > bytes.len());
    assert_eq!(TransactionRecord::from_bytes(&longer).unwrap(), with_path);
}
