//! The full transaction against its cryptographic floor, measured
//! interleaved: pairs of (one transaction, one floor) are timed back to
//! back, so that a change in machine load hits both alike. Prints
//! `ratio CASE transaction_ns=N floor_ns=N ratio=X` with medians over the
//! pairs (`CMP_BENCH_PAIRS`, default 40).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::Instant;

use support::{Fixture, Floor, provider};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let pairs: usize = std::env::var("CMP_BENCH_PAIRS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40)
        .max(1);
    let floor = Floor::new();
    for case in ["mac", "mac500", "sig"] {
        let fixture = Fixture::for_case(case, provider());
        let run_floor = || floor.case(case);
        // warm-up
        fixture.run();
        run_floor();
        let (mut tx, mut fl, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..pairs {
            let t0 = Instant::now();
            fixture.run();
            let t1 = Instant::now();
            run_floor();
            let t2 = Instant::now();
            let (a, b) = ((t1 - t0).as_nanos() as f64, (t2 - t1).as_nanos() as f64);
            tx.push(a);
            fl.push(b);
            ratios.push(a / b);
        }
        println!(
            "ratio {case} transaction_ns={:.0} floor_ns={:.0} ratio={:.3}",
            median(&mut tx),
            median(&mut fl),
            median(&mut ratios)
        );
    }
}
