//! Property tests of the codec: generated messages of every body type
//! round-trip through DER, and arbitrary or mutated bytes never panic the
//! decoder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::str::FromStr;
use std::sync::OnceLock;

use cmp_core::Limits;
use cmp_core::asn1::*;
use cmp_core::message::ParsedMessage;
use der::asn1::{Any, BitString, GeneralizedTime, Int, Null, ObjectIdentifier, OctetString};
use der::{Decode, DecodePem, Encode};
use proptest::prelude::*;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::request::CertReq;

/// A positive INTEGER in minimal two's-complement form (what DER requires).
fn int(v: u64) -> Int {
    let b = v.to_be_bytes();
    let start = b.iter().position(|x| *x != 0).unwrap_or(7);
    let mut bytes = b[start..].to_vec();
    if bytes[0] & 0x80 != 0 {
        bytes.insert(0, 0);
    }
    Int::new(&bytes).unwrap()
}

fn pki(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../tests/vectors/pki/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn certs() -> &'static [Certificate] {
    static CERTS: OnceLock<Vec<Certificate>> = OnceLock::new();
    CERTS.get_or_init(|| {
        ["root.crt", "ca.crt", "server.crt", "ee.crt", "issued.crt"]
            .iter()
            .map(|n| Certificate::from_pem(pki(n)).unwrap())
            .collect()
    })
}

fn csr() -> CertReq {
    CertReq::from_der(&pki("csr.der")).unwrap()
}

fn cert() -> impl Strategy<Value = Certificate> {
    (0..certs().len()).prop_map(|i| certs()[i].clone())
}

fn octets(max: usize) -> impl Strategy<Value = OctetString> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(|v| OctetString::new(v).unwrap())
}

fn bits() -> impl Strategy<Value = BitString> {
    proptest::collection::vec(any::<u8>(), 0..40).prop_map(|v| BitString::from_bytes(&v).unwrap())
}

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![
        Just(Name::default()),
        Just(Name::from_str("CN=Test Device").unwrap()),
        Just(Name::from_str("CN=Test CMP Server,O=Example,C=DE").unwrap()),
    ]
}

fn general_name() -> impl Strategy<Value = GeneralName> {
    prop_oneof![
        name().prop_map(GeneralName::DirectoryName),
        Just(GeneralName::DnsName(
            der::asn1::Ia5String::new("cmp.example").unwrap()
        )),
    ]
}

fn time() -> impl Strategy<Value = GeneralizedTime> {
    (0u64..4_000_000_000).prop_map(|s| {
        GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(s)).unwrap()
    })
}

fn oid() -> impl Strategy<Value = ObjectIdentifier> {
    prop_oneof![
        Just(oid::IT_CA_CERTS),
        Just(oid::IT_IMPLICIT_CONFIRM),
        Just(oid::IT_CERT_REQ_TEMPLATE),
        Just(oid::IT_ROOT_CA_KEY_UPDATE),
        Just(ObjectIdentifier::new_unwrap("1.2.3.4.5")),
    ]
}

fn alg_id() -> impl Strategy<Value = AlgorithmIdentifierOwned> {
    prop_oneof![
        Just(AlgorithmIdentifierOwned {
            oid: oid::ECDSA_WITH_SHA256,
            parameters: None
        }),
        Just(AlgorithmIdentifierOwned {
            oid: oid::SHA256_WITH_RSA,
            parameters: Some(Any::from(Null))
        }),
        Just(AlgorithmIdentifierOwned {
            oid: oid::SHA256,
            parameters: None
        }),
    ]
}

fn free_text() -> impl Strategy<Value = PkiFreeText> {
    proptest::collection::vec("[a-zA-Z0-9 äöü]{0,20}", 1..3)
}

fn status_info() -> impl Strategy<Value = PkiStatusInfo> {
    (
        0u8..7,
        proptest::option::of(free_text()),
        proptest::option::of(proptest::collection::vec(0usize..27, 0..4)),
    )
        .prop_map(|(s, text, fail)| PkiStatusInfo {
            status: match s {
                0 => PkiStatus::Accepted,
                1 => PkiStatus::GrantedWithMods,
                2 => PkiStatus::Rejection,
                3 => PkiStatus::Waiting,
                4 => PkiStatus::RevocationWarning,
                5 => PkiStatus::RevocationNotification,
                _ => PkiStatus::KeyUpdateWarning,
            },
            status_string: text,
            fail_info: fail.map(|b| {
                PkiFailureInfo::from_bits(b.into_iter().filter_map(FailureBit::from_number))
            }),
        })
}

fn itav() -> impl Strategy<Value = InfoTypeAndValue> {
    (
        oid(),
        proptest::option::of(prop_oneof![
            Just(Any::from(Null)),
            octets(8).prop_map(|o| Any::encode_from(&o).unwrap())
        ]),
    )
        .prop_map(|(info_type, info_value)| InfoTypeAndValue {
            info_type,
            info_value,
        })
}

fn template() -> impl Strategy<Value = CertTemplate> {
    (
        proptest::option::of(name()),
        proptest::option::of(cert()),
        proptest::option::of(1u32..u32::MAX),
        any::<bool>(),
    )
        .prop_map(|(subject, c, serial, with_validity)| CertTemplate {
            subject,
            public_key: c.map(|c| c.tbs_certificate().subject_public_key_info().clone()),
            serial_number: serial.map(|s| int(u64::from(s))),
            validity: with_validity.then(|| OptionalValidity {
                not_before: None,
                not_after: Some(x509_cert::time::Time::GeneralTime(
                    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
                        2_600_000_000,
                    ))
                    .unwrap(),
                )),
            }),
            ..Default::default()
        })
}

fn popo() -> impl Strategy<Value = Option<ProofOfPossession>> {
    proptest::option::of(prop_oneof![
        Just(ProofOfPossession::RaVerified(Null)),
        (alg_id(), bits()).prop_map(|(a, s)| ProofOfPossession::Signature(PopoSigningKey {
            poposk_input: None,
            algorithm_identifier: a,
            signature: s,
        })),
        Just(ProofOfPossession::KeyEncipherment(
            PopoPrivKey::SubsequentMessage(SubsequentMessage::EncrCert)
        )),
        bits().prop_map(|b| ProofOfPossession::KeyAgreement(PopoPrivKey::DhMac(b))),
    ])
}

fn cert_req_messages() -> impl Strategy<Value = CertReqMessages> {
    proptest::collection::vec(
        (any::<i64>(), template(), popo(), any::<bool>()).prop_map(|(id, t, popo, ctrl)| {
            CertReqMsg {
                cert_req: CertRequest {
                    cert_req_id: id,
                    cert_template: t,
                    controls: ctrl.then(|| {
                        vec![AttributeTypeAndValue {
                            oid: oid::REG_CTRL_OLD_CERT_ID,
                            value: Any::from(Null),
                        }]
                    }),
                },
                popo,
                reg_info: None,
            }
        }),
        1..3,
    )
}

fn cert_rep() -> impl Strategy<Value = CertRepMessage> {
    (
        proptest::option::of(proptest::collection::vec(cert(), 1..3)),
        proptest::collection::vec(
            (
                any::<i64>(),
                status_info(),
                proptest::option::of(cert()),
                proptest::option::of(octets(4)),
            ),
            0..3,
        ),
    )
        .prop_map(|(ca_pubs, rs)| CertRepMessage {
            ca_pubs,
            response: rs
                .into_iter()
                .map(|(id, status, c, rsp_info)| CertResponse {
                    cert_req_id: id,
                    status,
                    certified_key_pair: c.map(|c| CertifiedKeyPair {
                        cert_or_enc_cert: CertOrEncCert::Certificate(c),
                        private_key: None,
                        publication_info: None,
                    }),
                    rsp_info,
                })
                .collect(),
        })
}

fn cert_id() -> impl Strategy<Value = CertId> {
    (general_name(), 1u64..u64::MAX).prop_map(|(issuer, s)| CertId {
        issuer,
        serial_number: int(s),
    })
}

fn body(depth: u32) -> BoxedStrategy<PkiBody> {
    let leaf = prop_oneof![
        cert_req_messages().prop_map(PkiBody::Ir),
        cert_rep().prop_map(PkiBody::Ip),
        cert_req_messages().prop_map(PkiBody::Cr),
        cert_rep().prop_map(PkiBody::Cp),
        Just(PkiBody::P10cr(csr())),
        proptest::collection::vec(
            (proptest::option::of(alg_id()), octets(20), octets(20)).prop_map(
                |(owf, witness, challenge)| Challenge {
                    owf,
                    witness,
                    challenge,
                    encrypted_rand: None
                }
            ),
            1..3
        )
        .prop_map(PkiBody::Popdecc),
        proptest::collection::vec(any::<u32>().prop_map(|v| int(u64::from(v))), 1..3)
            .prop_map(PkiBody::Popdecr),
        cert_req_messages().prop_map(PkiBody::Kur),
        cert_rep().prop_map(PkiBody::Kup),
        cert_req_messages().prop_map(PkiBody::Krr),
        (
            status_info(),
            proptest::option::of(cert()),
            proptest::option::of(proptest::collection::vec(cert(), 1..3))
        )
            .prop_map(
                |(status, new_sig_cert, ca_certs)| PkiBody::Krp(KeyRecRepContent {
                    status,
                    new_sig_cert,
                    ca_certs,
                    key_pair_hist: None
                })
            ),
        proptest::collection::vec(
            template().prop_map(|t| RevDetails {
                cert_details: t,
                crl_entry_details: None
            }),
            1..3
        )
        .prop_map(PkiBody::Rr),
        (
            proptest::collection::vec(status_info(), 1..3),
            proptest::option::of(proptest::collection::vec(cert_id(), 1..2))
        )
            .prop_map(|(status, rev_certs)| PkiBody::Rp(RevRepContent {
                status,
                rev_certs,
                crls: None
            })),
        cert_req_messages().prop_map(PkiBody::Ccr),
        cert_rep().prop_map(PkiBody::Ccp),
        (cert(), cert(), cert(), any::<bool>()).prop_map(|(a, b, c, v3)| PkiBody::Ckuann(if v3 {
            CaKeyUpdContent::V3(RootCaKeyUpdateContent {
                new_with_new: a,
                new_with_old: Some(b),
                old_with_new: None,
            })
        } else {
            CaKeyUpdContent::V2(CaKeyUpdAnnContent {
                old_with_new: a,
                new_with_old: b,
                new_with_new: c,
            })
        })),
        cert().prop_map(PkiBody::Cann),
        (cert_id(), time(), time()).prop_map(|(cert_id, a, b)| PkiBody::Rann(RevAnnContent {
            status: PkiStatus::RevocationWarning,
            cert_id,
            will_be_revoked_at: a,
            bad_since_date: b,
            crl_details: None
        })),
        Just(PkiBody::Crlann(vec![])),
        Just(PkiBody::PkiConf(Null)),
        proptest::collection::vec(itav(), 0..3).prop_map(PkiBody::Genm),
        proptest::collection::vec(itav(), 0..3).prop_map(PkiBody::Genp),
        (
            status_info(),
            proptest::option::of(any::<i64>()),
            proptest::option::of(free_text())
        )
            .prop_map(
                |(pki_status_info, error_code, error_details)| PkiBody::Error(ErrorMsgContent {
                    pki_status_info,
                    error_code,
                    error_details
                })
            ),
        proptest::collection::vec(
            (
                octets(64),
                any::<i64>(),
                proptest::option::of(status_info()),
                proptest::option::of(alg_id())
            )
                .prop_map(|(cert_hash, cert_req_id, status_info, hash_alg)| {
                    CertStatus {
                        cert_hash,
                        cert_req_id,
                        status_info,
                        hash_alg,
                    }
                }),
            1..3
        )
        .prop_map(PkiBody::CertConf),
        proptest::collection::vec(
            any::<i64>().prop_map(|cert_req_id| PollReq { cert_req_id }),
            1..3
        )
        .prop_map(PkiBody::PollReq),
        proptest::collection::vec(
            (
                any::<i64>(),
                any::<i64>(),
                proptest::option::of(free_text())
            )
                .prop_map(|(cert_req_id, check_after, reason)| PollRep {
                    cert_req_id,
                    check_after,
                    reason
                }),
            1..3
        )
        .prop_map(PkiBody::PollRep),
    ];
    if depth == 0 {
        leaf.boxed()
    } else {
        prop_oneof![
            9 => leaf,
            1 => proptest::collection::vec(message(depth - 1), 1..3).prop_map(PkiBody::Nested),
        ]
        .boxed()
    }
}

fn header() -> impl Strategy<Value = PkiHeader> {
    (
        (
            1u64..=3,
            general_name(),
            general_name(),
            proptest::option::of(time()),
            proptest::option::of(alg_id()),
        ),
        (
            proptest::option::of(octets(20)),
            proptest::option::of(octets(20)),
            proptest::option::of(octets(16)),
            proptest::option::of(octets(16)),
            proptest::option::of(octets(16)),
        ),
        (
            proptest::option::of(free_text()),
            proptest::option::of(proptest::collection::vec(itav(), 1..3)),
        ),
    )
        .prop_map(
            |(
                (pvno, sender, recipient, message_time, protection_alg),
                (sender_kid, recip_kid, transaction_id, sender_nonce, recip_nonce),
                (free_text, general_info),
            )| PkiHeader {
                pvno,
                sender,
                recipient,
                message_time,
                protection_alg,
                sender_kid,
                recip_kid,
                transaction_id,
                sender_nonce,
                recip_nonce,
                free_text,
                general_info,
            },
        )
}

fn message(depth: u32) -> BoxedStrategy<PkiMessage> {
    (
        header(),
        body(depth),
        proptest::option::of(bits()),
        proptest::option::of(proptest::collection::vec(cert(), 1..3)),
    )
        .prop_map(|(header, body, protection, extra_certs)| PkiMessage {
            header,
            body,
            protection,
            extra_certs,
        })
        .boxed()
}

fn vectors() -> &'static [Vec<u8>] {
    static V: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    V.get_or_init(|| {
        let dir = format!("{}/../tests/vectors", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "der"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read(p).unwrap()).collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_messages_round_trip(msg in message(1)) {
        let der = msg.to_der().unwrap();
        let back = PkiMessage::from_der(&der).unwrap();
        prop_assert_eq!(&back, &msg);
        prop_assert_eq!(back.to_der().unwrap(), der.clone());
        // the parsed view covers the same bytes and sees the same body
        let parsed = ParsedMessage::decode(&der, &Limits::DEFAULT).unwrap();
        prop_assert_eq!(parsed.body_type(), msg.body.body_type());
        prop_assert_eq!(parsed.der(), &der[..]);
        let expected_pp = cmp_core::message::encode_protected_part(&msg.header, &msg.body).unwrap();
        prop_assert_eq!(parsed.protected_part(), &expected_pp[..]);
        // the readable form names the body type
        let text = cmp_core::message::describe(&msg);
        prop_assert!(text.contains(msg.body.body_type().name()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = ParsedMessage::decode(&bytes, &Limits::DEFAULT);
    }

    #[test]
    fn mutated_vectors_never_panic(
        index in 0usize..1000,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8),
    ) {
        let all = vectors();
        let mut bytes = all[index % all.len()].clone();
        for (pos, value, op) in edits {
            if bytes.is_empty() { break; }
            let i = pos.index(bytes.len());
            match op {
                0 => bytes[i] = value,
                1 => bytes[i] ^= 1 << (value % 8),
                2 => { bytes.truncate(i); }
                _ => bytes.insert(i, value),
            }
        }
        if let Ok(parsed) = ParsedMessage::decode(&bytes, &Limits::DEFAULT) {
            // whatever decodes must re-encode to exactly the input (DER is canonical)
            prop_assert_eq!(parsed.message().to_der().unwrap(), bytes);
        }
    }
}

#[test]
fn every_body_type_is_generated() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = body(1);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..5000 {
        let b = strategy.new_tree(&mut runner).unwrap().current();
        seen.insert(b.body_type());
    }
    for t in BodyType::ALL {
        assert!(seen.contains(&t), "{} never generated", t.name());
    }
}

#[test]
fn oversized_and_too_deeply_nested_messages_are_rejected() {
    let bytes = vectors()[0].clone();
    let limits = Limits {
        max_message_size: bytes.len() - 1,
        ..Limits::DEFAULT
    };
    assert!(matches!(
        ParsedMessage::decode(&bytes, &limits),
        Err(cmp_core::Error::MessageTooLarge { .. })
    ));

    let inner = PkiMessage::from_der(&bytes).unwrap();
    let mut msg = inner.clone();
    for _ in 0..3 {
        msg = PkiMessage {
            header: inner.header.clone(),
            body: PkiBody::Nested(vec![msg]),
            protection: None,
            extra_certs: None,
        };
    }
    let der = msg.to_der().unwrap();
    assert!(ParsedMessage::decode(&der, &Limits::DEFAULT).is_ok());
    let limits = Limits {
        max_nesting_depth: 2,
        ..Limits::DEFAULT
    };
    assert_eq!(
        ParsedMessage::decode(&der, &limits).unwrap_err(),
        cmp_core::Error::NestingTooDeep { max: 2 }
    );
}

/// Found by the `decode` fuzz target: a certificate in extraCerts spells out
/// `version [0] v1`, the DEFAULT that DER forbids encoding. The derived
/// decoders accept it and re-encoding drops those 5 bytes, so the message
/// layer must refuse it rather than silently change what the peer sent.
#[test]
fn non_canonical_input_is_refused_not_silently_changed() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/regressions/decode/extracert-explicit-default-version-v1"
    ))
    .unwrap();
    // the raw types decode it, losing bytes...
    let lossy = PkiMessage::from_der(&bytes).unwrap();
    assert_ne!(lossy.to_der().unwrap(), bytes);
    // ...the message layer refuses it with a typed decode error
    match ParsedMessage::decode(&bytes, &Limits::DEFAULT) {
        Err(cmp_core::Error::Decode(e)) => {
            assert!(
                matches!(e.kind(), der::ErrorKind::Noncanonical { .. }),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
}
