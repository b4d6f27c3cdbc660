//! Criterion benchmarks of cmp-core with the RustCrypto provider: codec,
//! protection, the full in-memory transaction, its cryptographic floor and
//! the decode size sweep. `scripts/bench` runs them next to the OpenSSL
//! harness and prints one table (see BENCHMARKS.md).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use cmp_core::Limits;
use cmp_core::alg::signature_from_identifier;
use cmp_core::asn1::{PkiBody, PkiMessage};
use cmp_core::crypto::{CryptoProvider, HmacAlgorithm, SigningKey};
use cmp_core::message::ParsedMessage;
use cmp_core::protection::{self, Protector};
use cmp_crypto_rustcrypto::RustCryptoProvider;
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use der::{Decode, Encode};
use support::*;
use x509_cert::Certificate;

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("codec");
    for (name, bytes) in codec_set() {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("decode", name), &bytes, |b, bytes| {
            b.iter(|| PkiMessage::from_der(black_box(bytes)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("parse", name), &bytes, |b, bytes| {
            b.iter(|| ParsedMessage::decode(black_box(bytes), &Limits::DEFAULT).unwrap())
        });
        let msg = PkiMessage::from_der(&bytes).unwrap();
        assert_eq!(msg.to_der().unwrap(), bytes);
        g.bench_with_input(BenchmarkId::new("encode", name), &msg, |b, msg| {
            b.iter(|| black_box(msg).to_der().unwrap())
        });
    }
    g.finish();
}

fn sweep(c: &mut Criterion) {
    let mut g = c.benchmark_group("sweep");
    g.sampling_mode(SamplingMode::Flat);
    let limits = sweep_limits();
    for size in SWEEP_SIZES {
        let bytes = data(&sweep_name(size));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("parse", size), &bytes, |b, bytes| {
            b.iter(|| ParsedMessage::decode(black_box(bytes), &limits).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("decode", size), &bytes, |b, bytes| {
            b.iter(|| PkiMessage::from_der(black_box(bytes)).unwrap())
        });
    }
    g.finish();
}

fn protection(c: &mut Criterion) {
    let p = RustCryptoProvider;
    let mut g = c.benchmark_group("protect");
    let cases: Vec<(&str, Protector, Vec<u8>)> = vec![
        ("pbm", pbm_protector(), vector("ir-pbm.1.req")),
        ("pbmac1", pbmac1_protector(), data("ir-pbmac1")),
        ("ecdsa-p256", ecdsa_protector(), vector("ir-sig.1.req")),
        ("ed25519", ed25519_protector(), data("ir-ed25519")),
    ];
    for (name, protector, bytes) in cases {
        let msg = ParsedMessage::decode(&bytes, &Limits::DEFAULT).unwrap();
        let header = msg.header().clone();
        let body = msg.body().clone();
        g.bench_function(BenchmarkId::new("apply", name), |b| {
            b.iter(|| {
                protector
                    .protect(header.clone(), body.clone(), Vec::new(), &p)
                    .unwrap()
            })
        });
        match &protector {
            Protector::Mac { secret, .. } => {
                protection::verify_mac(&msg, secret, &p, &Limits::DEFAULT).unwrap();
                g.bench_function(BenchmarkId::new("verify", name), |b| {
                    b.iter(|| protection::verify_mac(&msg, secret, &p, &Limits::DEFAULT).unwrap())
                });
            }
            Protector::Signature { cert, .. } => {
                protection::verify_signature_with_cert(&msg, cert, &p).unwrap();
                g.bench_function(BenchmarkId::new("verify", name), |b| {
                    b.iter(|| protection::verify_signature_with_cert(&msg, cert, &p).unwrap())
                });
            }
            Protector::None => unreachable!(),
        }
    }
    g.finish();
}

fn transaction(c: &mut Criterion) {
    let mut g = c.benchmark_group("transaction");
    g.sampling_mode(SamplingMode::Flat);
    for (name, sig) in [("mac", false), ("sig", true)] {
        let fixture = Fixture::new(sig, provider(), None);
        assert_eq!(fixture.run().len(), 4);
        g.bench_function(name, |b| b.iter(|| fixture.run()));
    }
    g.finish();
}

/// One MAC: derive the key from the secret and the message's salt, then
/// HMAC its protected part.
struct MacOp {
    owf: cmp_core::crypto::DigestAlgorithm,
    input: Vec<u8>,
    iterations: u64,
    mac: HmacAlgorithm,
    data: Vec<u8>,
}

fn mac_op(bytes: &[u8]) -> MacOp {
    let msg = ParsedMessage::decode(bytes, &Limits::DEFAULT).unwrap();
    let alg = msg.header().protection_alg.clone().unwrap();
    let params = alg.parameters.unwrap().to_der().unwrap();
    let pbm = cmp_core::asn1::PbmParameter::from_der(&params).unwrap();
    let mut input = SECRET.to_vec();
    input.extend_from_slice(pbm.salt.as_bytes());
    MacOp {
        owf: cmp_core::alg::digest_from_oid(&pbm.owf.oid).unwrap(),
        input,
        iterations: pbm.iteration_count,
        mac: cmp_core::alg::hmac_from_oid(&pbm.mac.oid).unwrap(),
        data: msg.protected_part().to_vec(),
    }
}

/// A signature to make with `key` and check with `cert`.
struct SigOp {
    key: Option<Arc<dyn SigningKey>>,
    cert: Certificate,
    data: Vec<u8>,
    signature: Vec<u8>,
}

fn verify_op(
    p: &RustCryptoProvider,
    cert: &Certificate,
    data: &[u8],
    sig: &[u8],
    key: &dyn SigningKey,
) {
    let alg_id = key.algorithm_identifier();
    p.verify_signature(
        key.algorithm(),
        &alg_id,
        cert.tbs_certificate().subject_public_key_info(),
        data,
        sig,
    )
    .unwrap();
}

/// The cryptography a transaction cannot avoid, timed alone: for MAC, each
/// of the four messages is MAC'd by its sender and checked by its receiver
/// (key derivation + HMAC, twice per message), plus the POP signature of the
/// new key and its check; for signatures, four signatures and their checks,
/// the POP signature and its check, and one path validation per side (two
/// certificate signatures each: ee→ca→root and server→ca→root).
fn floor(c: &mut Criterion) {
    let p = RustCryptoProvider;
    let mut g = c.benchmark_group("floor");
    g.sampling_mode(SamplingMode::Flat);

    let mac_fixture = Fixture::new(false, provider(), None);
    let wire = mac_fixture.run();
    let mac_ops: Vec<MacOp> = wire.iter().map(|m| mac_op(m)).collect();
    let pop_key = key("issued.key");
    let ir = ParsedMessage::decode(&wire[0], &Limits::DEFAULT).unwrap();
    let PkiBody::Ir(reqs) = ir.body() else {
        panic!("not an ir")
    };
    let pop_data = reqs[0].cert_req.to_der().unwrap();
    let issued = cert("issued.crt");
    let pop_sig = pop_key.sign(&pop_data).unwrap();
    verify_op(&p, &issued, &pop_data, &pop_sig, pop_key.as_ref());

    g.bench_function("mac", |b| {
        b.iter(|| {
            for op in &mac_ops {
                for _ in 0..2 {
                    let k = p.iterate_digest(op.owf, &op.input, op.iterations).unwrap();
                    black_box(p.hmac(op.mac, &k, &[&op.data]).unwrap());
                }
            }
            black_box(pop_key.sign(&pop_data).unwrap());
            verify_op(&p, &issued, &pop_data, &pop_sig, pop_key.as_ref());
        })
    });

    let sig_fixture = Fixture::new(true, provider(), None);
    let wire = sig_fixture.run();
    let ee_key = key("ee.key");
    let server_key = key("server.key");
    let mut sig_ops = Vec::new();
    for (i, m) in wire.iter().enumerate() {
        let msg = ParsedMessage::decode(m, &Limits::DEFAULT).unwrap();
        let (k, crt) = if i % 2 == 0 {
            (ee_key.clone(), cert("ee.crt"))
        } else {
            (server_key.clone(), cert("server.crt"))
        };
        let data = msg.protected_part().to_vec();
        let signature = msg.protection().unwrap().to_vec();
        verify_op(&p, &crt, &data, &signature, k.as_ref());
        sig_ops.push(SigOp {
            key: Some(k),
            cert: crt,
            data,
            signature,
        });
    }
    // the two paths: (certificate, its issuer)
    let chain_ops: Vec<(Certificate, Certificate)> = vec![
        (cert("ee.crt"), cert("ca.crt")),
        (cert("ca.crt"), cert("root.crt")),
        (cert("server.crt"), cert("ca.crt")),
        (cert("ca.crt"), cert("root.crt")),
    ];
    let chain_ops: Vec<_> = chain_ops
        .into_iter()
        .map(|(c, issuer)| {
            let alg_id = c.signature_algorithm().clone();
            let alg = signature_from_identifier(&alg_id).unwrap();
            let tbs = c.tbs_certificate().to_der().unwrap();
            let sig = c.signature().raw_bytes().to_vec();
            (alg, alg_id, issuer, tbs, sig)
        })
        .collect();
    g.bench_function("sig", |b| {
        b.iter(|| {
            for op in &sig_ops {
                let k = op.key.as_ref().unwrap();
                black_box(k.sign(&op.data).unwrap());
                verify_op(&p, &op.cert, &op.data, &op.signature, k.as_ref());
            }
            black_box(pop_key.sign(&pop_data).unwrap());
            verify_op(&p, &issued, &pop_data, &pop_sig, pop_key.as_ref());
            for (alg, alg_id, issuer, tbs, sig) in &chain_ops {
                p.verify_signature(
                    *alg,
                    alg_id,
                    issuer.tbs_certificate().subject_public_key_info(),
                    tbs,
                    sig,
                )
                .unwrap();
            }
        })
    });
    g.finish();
}

fn config() -> Criterion {
    // Short runs by default (scripts/bench); override on the command line.
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
        .configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = codec, protection, transaction, floor, sweep
}
criterion_main!(benches);
