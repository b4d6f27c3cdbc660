//! Load generator for CMP servers over HTTP: complete ir → ip → certConf →
//! pkiConf transactions, PasswordBasedMac-protected (reference `1234`,
//! secret `1234-5678`, OpenSSL 3.0's default PBM parameters), each with its
//! own transactionID, from N concurrent connections for T seconds.
//!
//! ```text
//! cargo run --release -p cmp-crypto-rustcrypto --example loadgen -- URL [CONNECTIONS] [SECONDS]
//! ```
//!
//! The new key is `tests/vectors/pki/issued.key`, so that OpenSSL's mock
//! server (which always hands out `issued.crt`) passes the client's check
//! that the certificate is for the requested key. Prints
//! `loadgen URL connections=N seconds=T transactions=N failed=N tps=X`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cmp_core::Timestamp;
use cmp_core::client::{
    ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest,
};
use cmp_core::crypto::{DigestAlgorithm, HmacAlgorithm, SigningKey};
use cmp_core::protection::{MacScheme, Protector};
use cmp_crypto_rustcrypto::{PrivateKey, RustCryptoProvider};
use x509_cert::name::Name;

/// `http://host:port/path` → (host:port, path).
fn split_url(url: &str) -> (String, String) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("only http:// URLs: {url}"));
    match rest.find('/') {
        Some(i) => {
            let (addr, path) = rest.split_at(i);
            (addr.to_string(), path.to_string())
        }
        None => (rest.to_string(), "/".to_string()),
    }
}

/// One POST on a fresh connection (`Connection: close`); the response body.
fn post(addr: &str, path: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_nodelay(true).ok();
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/pkixcmp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(body).map_err(|e| e.to_string())?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).map_err(|e| e.to_string())?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = String::from_utf8_lossy(resp.get(..split).unwrap_or_default()).to_string();
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(head.lines().next().unwrap_or_default().to_string());
    }
    let body_start = split + 4;
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(resp.len() - body_start);
    resp.get(body_start..body_start + len)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| "short body".to_string())
}

fn transaction(
    config: &Arc<ClientConfig>,
    key: &Arc<dyn SigningKey>,
    addr: &str,
    path: &str,
) -> Result<(), String> {
    let now = Timestamp::now();
    let request = EnrollRequest::new(
        EnrollKind::Ir,
        Some(Name::from_str("CN=Test Device").unwrap()),
        key.clone(),
    );
    let mut tx =
        ClientTransaction::start_ir(config.clone(), request, now).map_err(|e| e.to_string())?;
    while let Some(bytes) = tx.poll_transmit() {
        let reply = post(addr, path, &bytes)?;
        match tx
            .handle_response(&reply, Timestamp::now())
            .map_err(|e| e.to_string())?
        {
            ClientEvent::CertificateIssued(_) => {
                tx.confirm(Confirmation::Accept, Timestamp::now())
                    .map_err(|e| e.to_string())?;
            }
            ClientEvent::Completed => break,
            _ => {}
        }
    }
    if tx.is_completed() {
        Ok(())
    } else {
        Err("transaction did not complete".into())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .expect("usage: loadgen URL [CONNECTIONS] [SECONDS]")
        .clone();
    let conns: usize = args.get(1).map_or(1, |s| s.parse().unwrap());
    let secs: f64 = args.get(2).map_or(5.0, |s| s.parse().unwrap());
    let (addr, path) = split_url(&url);

    let key_pem = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/pki/issued.key"),
    )
    .unwrap();
    let key: Arc<dyn SigningKey> = Arc::new(PrivateKey::from_pem(&key_pem).unwrap());
    let config = Arc::new(ClientConfig::new(
        Arc::new(RustCryptoProvider),
        Protector::Mac {
            reference: b"1234".to_vec(),
            secret: b"1234-5678".to_vec(),
            scheme: MacScheme::Pbm {
                owf: DigestAlgorithm::Sha256,
                mac: HmacAlgorithm(DigestAlgorithm::Sha1),
                iterations: 500,
                salt_len: 16,
            },
        },
    ));

    // one transaction first: fail fast on a misconfigured server
    if let Err(e) = transaction(&config, &key, &addr, &path) {
        eprintln!("loadgen: first transaction against {url} failed: {e}");
        std::process::exit(1);
    }

    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = (0..conns)
        .map(|_| {
            let (config, key, addr, path) =
                (config.clone(), key.clone(), addr.clone(), path.clone());
            let (done, failed, stop) = (done.clone(), failed.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match transaction(&config, &key, &addr, &path) {
                        Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                                eprintln!("loadgen: a transaction failed: {e}");
                            }
                            0
                        }
                    };
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "loadgen {url} connections={conns} seconds={elapsed:.1} transactions={n} failed={} tps={:.1}",
        failed.load(Ordering::Relaxed),
        n as f64 / elapsed
    );
}
