//! Key archiving by the requester (pkiArchiveOptions, RFC 4211 section 6.4):
//! the client sends its new private key encrypted for the CA (password from
//! the MAC secret, or key agreement with the CA's EC certificate); the
//! responder's policy decrypts it, checks it against the requested public
//! key and archives it; a krr then recovers it. Every refusal on the
//! responder's side.
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
use cmp_core::archive::{self, ID_CT_ENC_KEY_WITH_ID};
use cmp_core::asn1::crmf::{AttributeTypeAndValue, EncryptedKey, PkiArchiveOptions};
use cmp_core::asn1::{PkiStatusInfo, oid};
use cmp_core::client::{
    ClientEvent, ClientTransaction, EnrollKind, EnrollRequest, KeyRecoveryRequest,
};
use cmp_core::crypto::{EnvelopeOpener, EnvelopeRecipient, SigningKey};
use cmp_core::keygen::PrivateKeyDer;
use cmp_core::server::PendingRequest;
use cmp_crypto_rustcrypto::{EnvelopeKey, KeyAlgorithm, KeyArchive, PrivateKey};
use delivered::*;
use der::asn1::{Any, OctetString};
use x509_cert::ext::pkix::name::GeneralName;

/// A fresh P-256 key and its PKCS#8 DER.
fn new_key() -> (Arc<PrivateKey>, Vec<u8>) {
    let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let der = key.to_pkcs8_der().unwrap().to_vec();
    (Arc::new(key), der)
}

/// An ir for `key` carrying `controls`.
fn ir(key: Arc<PrivateKey>, controls: Vec<AttributeTypeAndValue>) -> EnrollRequest {
    let mut req = EnrollRequest::new(EnrollKind::Ir, Some(device()), key);
    req.controls = controls;
    req
}

/// The CA's decryption key and the password of the MAC clients.
fn openers(pki: &Pki) -> (EnvelopeKey, EnvelopeKey) {
    (
        EnvelopeKey::private_key(pki.ca.signing_key().clone(), pki.ca.certificate().clone()),
        EnvelopeKey::password(SECRET),
    )
}

/// Send `req` (MAC-protected) and return what the policy's
/// `archived_key` gave; the request is then issued (Ok) or rejected (Err).
fn archived(pki: &mut Pki, req: EnrollRequest) -> Result<Option<PrivateKeyDer>, Error> {
    let responder = pki.responder();
    let (client, _) = pki.mac_client();
    let mut tx = ClientTransaction::start_ir(client, req, pki.now).unwrap();
    let (ca_key, password) = openers(pki);
    let mut seen = None;
    let now = pki.now;
    let (_, result) = drive(&mut tx, &responder, now, |p: PendingRequest, now| {
        assert_eq!(p.mac_secret(), Some(SECRET));
        let got = p.archived_key(&[&ca_key as &dyn EnvelopeOpener, &password]);
        let reply = match &got {
            Ok(_) => {
                let cert = pki.issue(p.subject().unwrap(), p.public_key().unwrap().clone());
                p.issue(cert, None, now).unwrap()
            }
            Err(e) => p
                .reject(
                    PkiStatusInfo::rejection(e.failure_bit(), &e.to_string()),
                    now,
                )
                .unwrap(),
        };
        seen = Some(got);
        reply
    });
    let got = seen.expect("the policy was asked");
    if got.is_ok() {
        result.unwrap();
    }
    got
}

#[test]
fn archived_under_the_mac_secret_and_recovered() {
    let mut pki = Pki::new();
    let (key, der) = new_key();
    let control = archive::archive_control(
        provider().as_ref(),
        &der,
        EnvelopeRecipient::Password(SECRET),
        Some(GeneralName::DirectoryName(device())),
    )
    .unwrap();
    let got = archived(&mut pki, ir(key, vec![control])).unwrap().unwrap();
    assert_eq!(got.as_bytes(), &der[..]);

    // the policy archives it; a krr brings it back
    let mut store = KeyArchive::new();
    let cert = pki.ca.issued().last().unwrap().clone();
    store.archive(cert.clone(), got.as_bytes()).unwrap();
    let kga = pki.kga();
    let responder = pki.responder();
    let (client, opener) = pki.mac_client();
    let mut tx = ClientTransaction::start_krr(
        client,
        &KeyRecoveryRequest::new(Some(device()), opener),
        pki.now,
    )
    .unwrap();
    let (run, result) = drive(&mut tx, &responder, pki.now, |p, now| {
        let history = store.keys_of(p.subject().unwrap());
        let keys: Vec<_> = history
            .iter()
            .map(|k| (k.cert.clone(), &k.private_key[..]))
            .collect();
        p.recover_keys(&keys, None, Vec::new(), &kga, now).unwrap()
    });
    result.unwrap();
    let Some(ClientEvent::KeysRecovered(recovered)) = run.events.last() else {
        panic!("{:?}", run.events);
    };
    assert_eq!(recovered.keys[0].cert, cert);
    assert_eq!(recovered.keys[0].private_key.as_bytes(), &der[..]);
}

#[test]
fn archived_for_the_ca_certificate() {
    let mut pki = Pki::new();
    let (key, der) = new_key();
    let ca_cert = pki.ca.certificate().clone();
    let control = archive::archive_control(
        provider().as_ref(),
        &der,
        EnvelopeRecipient::KeyAgreement(&ca_cert),
        None,
    )
    .unwrap();
    let got = archived(&mut pki, ir(key, vec![control])).unwrap().unwrap();
    assert_eq!(got.as_bytes(), &der[..]);
}

#[test]
fn no_archive_control_archives_nothing() {
    let mut pki = Pki::new();
    let (key, _) = new_key();
    assert_eq!(archived(&mut pki, ir(key, Vec::new())).unwrap(), None);
    // archiveRemGenPrivKey is about keys the CA generates: nothing to read
    let (key, _) = new_key();
    let control = AttributeTypeAndValue {
        oid: oid::REG_CTRL_PKI_ARCHIVE_OPTIONS,
        value: Any::encode_from(&PkiArchiveOptions::ArchiveRemGenPrivKey(true)).unwrap(),
    };
    assert_eq!(archived(&mut pki, ir(key, vec![control])).unwrap(), None);
}

#[test]
fn another_key_than_the_requested_one_is_refused() {
    let mut pki = Pki::new();
    let (key, _) = new_key();
    let (_, other) = new_key();
    let control = archive::archive_control(
        provider().as_ref(),
        &other,
        EnvelopeRecipient::Password(SECRET),
        None,
    )
    .unwrap();
    assert_eq!(
        archived(&mut pki, ir(key, vec![control])),
        Err(Error::KeyMismatch)
    );
}

#[test]
fn undecryptable_and_malformed_archives_are_refused() {
    let mut pki = Pki::new();
    let p = provider();
    let (key, der) = new_key();

    // another password: addressed to "a password", does not decrypt
    let wrong = archive::archive_control(
        p.as_ref(),
        &der,
        EnvelopeRecipient::Password(b"not the secret"),
        None,
    )
    .unwrap();
    assert!(matches!(
        archived(&mut pki, ir(key.clone(), vec![wrong])),
        Err(Error::KeyDecryptFailed(_))
    ));

    // to a certificate none of the openers holds
    let other = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
    let client_cert = pki.issue(&device(), SigningKey::public_key(&other));
    let elsewhere = archive::archive_control(
        p.as_ref(),
        &der,
        EnvelopeRecipient::KeyAgreement(&client_cert),
        None,
    )
    .unwrap();
    assert_eq!(
        archived(&mut pki, ir(key.clone(), vec![elsewhere])),
        Err(Error::KeyNotForUs)
    );

    // twice
    let right =
        archive::archive_control(p.as_ref(), &der, EnvelopeRecipient::Password(SECRET), None)
            .unwrap();
    assert_eq!(
        archived(&mut pki, ir(key.clone(), vec![right.clone(), right])),
        Err(Error::BadRequest("pkiArchiveOptions twice"))
    );

    // not a PKIArchiveOptions
    let garbage = AttributeTypeAndValue {
        oid: oid::REG_CTRL_PKI_ARCHIVE_OPTIONS,
        value: Any::encode_from(&OctetString::new(vec![1, 2, 3]).unwrap()).unwrap(),
    };
    assert_eq!(
        archived(&mut pki, ir(key.clone(), vec![garbage])),
        Err(Error::BadRequest("malformed pkiArchiveOptions"))
    );

    // an envelope of another content type than id-ct-encKeyWithID
    // id-data (RFC 5652)
    let id_data = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
    let envelope = p
        .seal_envelope(EnvelopeRecipient::Password(SECRET), id_data, &der)
        .unwrap();
    let options = PkiArchiveOptions::EncryptedPrivKey(EncryptedKey::EnvelopedData(envelope));
    let other_type = AttributeTypeAndValue {
        oid: oid::REG_CTRL_PKI_ARCHIVE_OPTIONS,
        value: Any::encode_from(&options).unwrap(),
    };
    assert!(matches!(
        archived(&mut pki, ir(key.clone(), vec![other_type])),
        Err(Error::KeyDecryptFailed(_))
    ));

    // the right content type around something that is not an EncKeyWithID
    let envelope = p
        .seal_envelope(
            EnvelopeRecipient::Password(SECRET),
            ID_CT_ENC_KEY_WITH_ID,
            &[5, 0],
        )
        .unwrap();
    let options = PkiArchiveOptions::EncryptedPrivKey(EncryptedKey::EnvelopedData(envelope));
    let not_enc_key = AttributeTypeAndValue {
        oid: oid::REG_CTRL_PKI_ARCHIVE_OPTIONS,
        value: Any::encode_from(&options).unwrap(),
    };
    assert_eq!(
        archived(&mut pki, ir(key, vec![not_enc_key])),
        Err(Error::KeyDecryptFailed(
            "the archived key is not an EncKeyWithID"
        ))
    );
}

#[test]
fn the_client_recipient_is_the_ca_certificate_or_the_mac_secret() {
    let pki = Pki::new();
    let (mac, _) = pki.mac_client();
    let ca_cert = pki.ca.certificate();
    assert!(matches!(
        archive::client_recipient(&mac.protector, None),
        Ok(Some(EnvelopeRecipient::Password(s))) if s == SECRET
    ));
    // a certificate wins over the secret; EC: key agreement
    assert!(matches!(
        archive::client_recipient(&mac.protector, Some(ca_cert)),
        Ok(Some(EnvelopeRecipient::KeyAgreement(c))) if c == ca_cert
    ));
    // a signature protector has no secret: the caller must name a certificate
    let signer = cmp_core::protection::Protector::Signature {
        key: Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256).unwrap()),
        cert: ca_cert.clone(),
        chain: Vec::new(),
    };
    assert!(matches!(archive::client_recipient(&signer, None), Ok(None)));
}
