//! Heap use of one full in-memory transaction (ir → ip → certConf →
//! pkiConf, client and responder), counted by dhat's allocator, and the
//! cryptographic operations it performs.
//!
//! Prints one line per case:
//! `memory CASE peak_bytes=N allocations=N allocated_bytes=N`, then
//! `ops CASE sign=N verify=N ...`. Each case runs in its own process (the
//! heap peak cannot be reset), so the binary re-runs itself with
//! `CMP_BENCH_MEMORY_CASE` set.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::Arc;

use support::{CountingProvider, Fixture, OpCounter, provider};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const CASE_VAR: &str = "CMP_BENCH_MEMORY_CASE";

fn measure(case: &str) {
    let sig = case == "sig";
    // Fixtures (keys, certificates, the responder) are built before
    // counting starts; only the transaction's own allocations are counted.
    let fixture = Fixture::new(sig, provider(), None);
    // one warm run so that lazily initialised statics are not counted
    fixture.run();
    let fixture = Fixture::new(sig, provider(), None);
    let stats = {
        let _profiler = dhat::Profiler::builder().testing().build();
        let wire = fixture.run();
        drop(wire);
        dhat::HeapStats::get()
    };
    println!(
        "memory {case} peak_bytes={} allocations={} allocated_bytes={}",
        stats.max_bytes, stats.total_blocks, stats.total_bytes
    );

    let counter = Arc::new(OpCounter::default());
    let counted = Fixture::new(
        sig,
        Arc::new(CountingProvider(counter.clone())),
        Some(&counter),
    );
    let wire = counted.run();
    println!("ops {case} {}", counter.summary());
    let sizes: Vec<String> = wire.iter().map(|m| m.len().to_string()).collect();
    println!("sizes {case} {}", sizes.join(" "));
}

fn main() {
    if let Ok(case) = std::env::var(CASE_VAR) {
        measure(&case);
        return;
    }
    // `cargo bench` passes `--bench`; any other argument is ignored.
    // The shared messages (for the Criterion and OpenSSL benchmarks).
    println!("data {}", support::ensure_data().display());
    let exe = std::env::current_exe().unwrap();
    for case in ["mac", "sig"] {
        let status = std::process::Command::new(&exe)
            .env(CASE_VAR, case)
            .status()
            .unwrap();
        assert!(status.success(), "memory case {case} failed");
    }
}
