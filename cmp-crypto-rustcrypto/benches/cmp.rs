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
use std::time::Duration;

use cmp_core::Limits;
use cmp_core::asn1::PkiMessage;
use cmp_core::message::ParsedMessage;
use cmp_core::protection::{self, Protector};
use cmp_crypto_rustcrypto::RustCryptoProvider;
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use der::{Decode, Encode};
use support::*;

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
    for name in ["mac", "mac500", "sig"] {
        let fixture = Fixture::for_case(name, provider());
        assert_eq!(fixture.run().len(), 4);
        g.bench_function(name, |b| b.iter(|| fixture.run()));
    }
    g.finish();
}

/// The cryptography a transaction cannot avoid, timed alone (see
/// [`support::floor`]).
fn floor(c: &mut Criterion) {
    let mut g = c.benchmark_group("floor");
    g.sampling_mode(SamplingMode::Flat);
    let f = Floor::new();
    g.bench_function("mac", |b| b.iter(|| f.mac()));
    g.bench_function("mac500", |b| b.iter(|| f.mac500()));
    g.bench_function("sig", |b| b.iter(|| f.sig()));
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
