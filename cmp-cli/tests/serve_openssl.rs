//! `cmp serve` against OpenSSL's `openssl cmp` client on loopback, with the
//! fixed test PKI (`tests/vectors/pki`): every exchange OpenSSL 3.0
//! supports, polling, implicit confirmation, a restart with `--state`, and
//! the HTTP errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};

use cmp_core::crypto::KemAlgorithm;
use cmp_crypto_rustcrypto::KemPrivateKey;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cmp_tests::{MAC_REFERENCE, MAC_SECRET, pki_dir, run_openssl, run_openssl_cmp};

/// A path of the fixed test PKI.
fn pki(name: &str) -> String {
    pki_dir().join(name).display().to_string()
}

/// A scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cmp-serve-{tag}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `cmp serve` process; killed on drop if still running.
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// `cmp serve --listen 127.0.0.1:0 ARGS...`, once it listens.
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cmp"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start cmp serve");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // keep draining so the server never blocks on stdout
            for _ in lines {}
        });
        let first = rx.recv_timeout(Duration::from_secs(30));
        let line = match first {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "cmp serve did not start ({other:?}); its stderr:\n{}",
                    log.lock().unwrap()
                );
            }
        };
        let port = line
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix("/.well-known/cmp"))
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        Self { child, port, log }
    }

    /// `-server` argument for OpenSSL.
    fn server_arg(&self) -> String {
        format!("127.0.0.1:{}/.well-known/cmp", self.port)
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Wait until the server's log contains `text` (lines are written just
    /// after the reply is sent).
    fn wait_for_log(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if log.contains(text) {
                return log;
            }
            if Instant::now() > deadline {
                panic!("{text:?} not in the server log:\n{log}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait for the process to end by itself.
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("cmp serve did not exit; log:\n{}", self.log());
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait for the exit.
    fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM failed");
        self.wait_exit()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The server options of the fixed PKI: issuing CA, MAC client, trust
/// anchor and CMP signer.
fn fixed_pki_args() -> Vec<String> {
    [
        "--ca-cert",
        &pki("ca.crt"),
        "--ca-key",
        &pki("ca.key"),
        "--ca-chain",
        &pki("root.crt"),
        "--ref",
        MAC_REFERENCE,
        "--secret",
        MAC_SECRET,
        "--trusted",
        &pki("root.crt"),
        "--cert",
        &pki("server.crt"),
        "--key",
        &pki("server.key"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

fn start_fixed(extra: &[&str]) -> Server {
    let mut args = fixed_pki_args();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    Server::start(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn mac_args() -> Vec<String> {
    vec![
        "-ref".into(),
        MAC_REFERENCE.into(),
        "-secret".into(),
        format!("pass:{MAC_SECRET}"),
    ]
}

/// Signature protection with `cert`/`key`, responses checked against root.crt.
fn sig_args(cert: &str, key: &str) -> Vec<String> {
    vec![
        "-cert".into(),
        cert.into(),
        "-key".into(),
        key.into(),
        "-trusted".into(),
        pki("root.crt"),
        "-untrusted".into(),
        pki("ca.crt"),
    ]
}

/// `openssl cmp -server ... ARGS`; returns the output with stdout and stderr.
fn openssl_cmp(server: &Server, args: &[String]) -> (Output, String) {
    let server_arg = server.server_arg();
    let mut all = vec!["-server", &server_arg];
    all.extend(args.iter().map(String::as_str));
    let out = run_openssl_cmp(&all);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

/// Like [`openssl_cmp`], failing the test unless OpenSSL succeeds.
fn openssl_cmp_ok(server: &Server, args: &[String]) -> String {
    let (out, text) = openssl_cmp(server, args);
    assert!(
        out.status.success(),
        "openssl cmp {} failed:\n{text}\nserver log:\n{}",
        args.join(" "),
        server.log()
    );
    text
}

/// `openssl verify` of `cert` against root.crt with ca.crt as intermediate.
fn verify(cert: &str) {
    verify_with(cert, &pki("root.crt"), &pki("ca.crt"));
}

fn verify_with(cert: &str, root: &str, untrusted: &str) {
    let out = run_openssl(
        &["verify", "-CAfile", root, "-untrusted", untrusted, cert],
        Duration::from_secs(30),
    )
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(": OK"),
        "openssl verify {cert}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The subject of a PEM certificate, as OpenSSL prints it.
fn subject(cert: &str) -> String {
    let out = run_openssl(
        &["x509", "-noout", "-subject", "-in", cert],
        Duration::from_secs(30),
    )
    .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn concat(parts: &[Vec<String>]) -> Vec<String> {
    parts.concat()
}

#[test]
fn ir_under_pbm() {
    let dir = TempDir::new("ir-pbm");
    let server = start_fixed(&[]);
    let cert = dir.file("ir.pem");
    openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "ir"]),
            mac_args(),
            args(&["-newkey", &pki("new.key"), "-subject", "/CN=Device"]),
            args(&["-certout", &cert]),
        ]),
    );
    verify(&cert);
    assert_eq!(subject(&cert), "subject=CN = Device");
    server.wait_for_log("[ir->ip certConf->pkiconf]: issued");
}

#[test]
fn cr_under_pbm() {
    let dir = TempDir::new("cr");
    let server = start_fixed(&[]);
    let cert = dir.file("cr.pem");
    openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "cr"]),
            mac_args(),
            args(&["-newkey", &pki("new.key"), "-subject", "/CN=Device"]),
            args(&["-certout", &cert]),
        ]),
    );
    verify(&cert);
    server.wait_for_log("[cr->cp certConf->pkiconf]");
}

#[test]
fn p10cr_under_pbm() {
    let dir = TempDir::new("p10cr");
    let server = start_fixed(&[]);
    let cert = dir.file("p10.pem");
    openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "p10cr"]),
            mac_args(),
            args(&["-csr", &pki("csr.der"), "-certout", &cert]),
        ]),
    );
    verify(&cert);
    assert_eq!(subject(&cert), "subject=CN = Test Device");
    server.wait_for_log("[p10cr->cp certConf->pkiconf]");
}

/// ir under signature (ee.crt), cr under signature, then kur with the
/// certificate just issued, then rr of the updated certificate.
#[test]
fn signature_ir_cr_kur_rr() {
    let dir = TempDir::new("sig");
    let server = start_fixed(&[]);
    let ee = sig_args(&pki("ee.crt"), &pki("ee.key"));

    let first = dir.file("first.pem");
    openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "ir"]),
            ee.clone(),
            args(&["-newkey", &pki("new.key"), "-subject", "/CN=Device"]),
            args(&["-certout", &first]),
        ]),
    );
    verify(&first);

    let other = dir.file("other.pem");
    openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "cr"]),
            ee.clone(),
            args(&["-newkey", &pki("issued.key"), "-subject", "/CN=Other"]),
            args(&["-certout", &other]),
        ]),
    );
    verify(&other);

    // kur: signed with the certificate to update, new key issued.key
    let updated = dir.file("updated.pem");
    openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "kur"]),
            sig_args(&first, &pki("new.key")),
            args(&["-newkey", &pki("issued.key"), "-certout", &updated]),
        ]),
    );
    verify(&updated);
    assert_eq!(subject(&updated), subject(&first));
    server.wait_for_log("[kur->kup certConf->pkiconf]");

    // kur of a certificate this CA did not issue (ee.crt): badCertId
    let (out, text) = openssl_cmp(
        &server,
        &concat(&[
            args(&["-cmd", "kur"]),
            ee.clone(),
            args(&[
                "-newkey",
                &pki("issued.key"),
                "-certout",
                &dir.file("x.pem"),
            ]),
        ]),
    );
    assert!(!out.status.success(), "kur of ee.crt succeeded:\n{text}");
    server.wait_for_log("rejected (badCertId)");

    // rr of the updated certificate, signed with it
    let holder = concat(&[
        sig_args(&updated, &pki("issued.key")),
        args(&["-oldcert", &updated]),
    ]);
    let text = openssl_cmp_ok(
        &server,
        &concat(&[args(&["-cmd", "rr", "-revreason", "1"]), holder.clone()]),
    );
    assert!(text.contains("revocation accepted"), "{text}");
    server.wait_for_log("[rr->rp]: revoked");
    server.wait_for_log("(reason 1)");

    // again: already revoked
    let (out, text) = openssl_cmp(
        &server,
        &concat(&[args(&["-cmd", "rr", "-revreason", "1"]), holder]),
    );
    assert!(!out.status.success(), "second rr succeeded:\n{text}");
    assert!(text.contains("certRevoked"), "{text}");
    server.wait_for_log("rejected (certRevoked)");
}

#[test]
fn genm() {
    let server = start_fixed(&[]);
    // an empty genm: the CA certificates
    let text = openssl_cmp_ok(&server, &concat(&[args(&["-cmd", "genm"]), mac_args()]));
    assert!(text.contains("caCerts"), "{text}");
    for (infotype, answer) in [
        ("caCerts", "caCerts"),
        ("rootCaKeyUpdate", "rootCaKeyUpdate"),
        ("certReqTemplate", "certReqTemplate"),
        ("currentCRL", "currentCRL"),
        ("signKeyPairTypes", "unsupportedOIDs"),
    ] {
        let text = openssl_cmp_ok(
            &server,
            &concat(&[args(&["-cmd", "genm", "-infotype", infotype]), mac_args()]),
        );
        assert!(text.contains(answer), "{infotype}: {text}");
    }
    // under signature protection too
    let text = openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "genm", "-infotype", "caCerts"]),
            sig_args(&pki("ee.crt"), &pki("ee.key")),
        ]),
    );
    assert!(text.contains("caCerts"), "{text}");
    server.wait_for_log("[genm->genp]: genp: unsupportedOIDs");
}

#[test]
fn polling() {
    let dir = TempDir::new("poll");
    let server = start_fixed(&["--poll", "2"]);
    let cert = dir.file("poll.pem");
    openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "ir"]),
            mac_args(),
            args(&["-newkey", &pki("new.key"), "-subject", "/CN=Device"]),
            args(&["-certout", &cert]),
        ]),
    );
    verify(&cert);
    server.wait_for_log("[ir->ip pollReq->pollRep pollReq->ip certConf->pkiconf]");
}

#[test]
fn implicit_confirmation() {
    let dir = TempDir::new("implicit");
    let server = start_fixed(&["--grant-implicit-confirm"]);
    let cert = dir.file("implicit.pem");
    openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "ir", "-implicit_confirm"]),
            mac_args(),
            args(&["-newkey", &pki("new.key"), "-subject", "/CN=Device"]),
            args(&["-certout", &cert]),
        ]),
    );
    verify(&cert);
    server.wait_for_log("[ir->ip]: issued");
    server.wait_for_log("implicitly confirmed");
}

/// Issue, stop with SIGTERM, start again on the same --state: the
/// certificate is still known, and revocable.
#[test]
fn state_survives_restart() {
    let dir = TempDir::new("state");
    let state = dir.file("state.sqlite");
    let cert = dir.file("cert.pem");

    let mut server = start_fixed(&["--state", &state]);
    openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "ir"]),
            mac_args(),
            args(&["-newkey", &pki("new.key"), "-subject", "/CN=Device"]),
            args(&["-certout", &cert]),
        ]),
    );
    verify(&cert);
    server.wait_for_log("confirmed");
    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(server.log().contains("stopped"), "{}", server.log());

    let server = start_fixed(&["--state", &state]);
    server.wait_for_log("(1 issued, 0 revoked)");
    let text = openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "rr", "-revreason", "4"]),
            sig_args(&cert, &pki("new.key")),
            args(&["-oldcert", &cert]),
        ]),
    );
    assert!(text.contains("revocation accepted"), "{text}");
    server.wait_for_log("[rr->rp]: revoked");
}

/// Without --ca-cert: a demo hierarchy, its root written to --root-out.
#[test]
fn demo_hierarchy() {
    let dir = TempDir::new("demo");
    let root = dir.file("root.pem");
    let server = Server::start(&[
        "--root-out",
        &root,
        "--ref",
        MAC_REFERENCE,
        "--secret",
        &format!("pass:{MAC_SECRET}"),
    ]);
    let cert = dir.file("cert.pem");
    let extra = dir.file("extra.pem");
    openssl_cmp_ok(
        &server,
        &concat(&[
            args(&["-cmd", "ir"]),
            mac_args(),
            args(&["-newkey", &pki("new.key"), "-subject", "/CN=Device"]),
            args(&["-certout", &cert, "-extracertsout", &extra]),
        ]),
    );
    verify_with(&cert, &root, &extra);
}

/// One raw HTTP/1.1 request; returns the status code.
fn raw_http(port: u16, head: &str) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    // the status line is enough
    while !response.windows(2).any(|w| w == b"\r\n") {
        let n = stream.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&response);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

#[test]
fn http_errors() {
    let mut server = start_fixed(&["--max-requests", "5"]);
    let port = server.port;
    let get = "GET /.well-known/cmp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_http(port, get), 405);
    let post = "POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmp\r\n\
                Content-Length: 0\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_http(port, post), 404);
    // 2 MiB announced: refused before the body is read
    let big = "POST /.well-known/cmp HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmp\r\n\
               Content-Length: 2097152\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_http(port, big), 413);
    // a body that is not a PKIMessage: an (unprotected) CMP error message
    let url = format!("http://127.0.0.1:{port}/.well-known/cmp/p/ca/initialization");
    let rsp = cmp_tests::http_post_pkixcmp(&url, b"garbage", Duration::from_secs(10)).unwrap();
    assert_eq!(rsp.status, 200);
    assert!(rsp.is_pkixcmp());
    // OpenSSL's default path works too
    let url = format!("http://127.0.0.1:{port}/pkix/");
    let rsp = cmp_tests::http_post_pkixcmp(&url, b"garbage", Duration::from_secs(10)).unwrap();
    assert_eq!(rsp.status, 200);
    // --max-requests 5: the server ends by itself
    let status = server.wait_exit();
    assert!(status.success(), "{status}");
}

// ----- our own client against our own server, for the same set -----

/// Run `cmp SUBCOMMAND --server URL ARGS...` against `server`.
fn our_client(server: &Server, subcommand: &str, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cmp"))
        .arg(subcommand)
        .args(["--server", &format!("http://{}", server.server_arg())])
        .args(args)
        .args(["--timeout", "60"])
        .output()
        .expect("cannot run cmp")
}

fn our_client_ok(server: &Server, subcommand: &str, args: &[String]) -> String {
    let out = our_client(server, subcommand, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "cmp {subcommand} failed: {}\n{stdout}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    stdout
}

fn our_mac() -> Vec<String> {
    args(&[
        "--ref",
        MAC_REFERENCE,
        "--secret",
        MAC_SECRET,
        "--trusted",
        &pki("root.crt"),
    ])
}

fn our_sig(cert: &str, key: &str) -> Vec<String> {
    args(&[
        "--cert",
        cert,
        "--key",
        key,
        "--trusted",
        &pki("root.crt"),
        "--untrusted",
        &pki("ca.crt"),
    ])
}

#[test]
fn our_client_against_our_server() {
    let server = start_fixed(&[]);
    let dir = TempDir::new("self");

    // ir under PBM, with a generated key written out
    let (c1, k1) = (dir.file("ir.pem"), dir.file("ir.key"));
    our_client_ok(
        &server,
        "ir",
        &concat(&[
            our_mac(),
            args(&[
                "--subject",
                "/CN=Self Device",
                "--certout",
                &c1,
                "--keyout",
                &k1,
            ]),
        ]),
    );
    verify(&c1);
    assert_eq!(subject(&c1), "subject=CN = Self Device");

    // ir under signature (ee.crt), cr under PBM, p10cr
    let c2 = dir.file("ir-sig.pem");
    our_client_ok(
        &server,
        "ir",
        &concat(&[
            our_sig(&pki("ee.crt"), &pki("ee.key")),
            args(&["--subject", "/CN=Signed", "--certout", &c2]),
        ]),
    );
    verify(&c2);
    let c3 = dir.file("cr.pem");
    our_client_ok(
        &server,
        "cr",
        &concat(&[
            our_mac(),
            args(&["--subject", "/CN=Second", "--certout", &c3]),
        ]),
    );
    verify(&c3);
    let c4 = dir.file("p10.pem");
    our_client_ok(
        &server,
        "p10cr",
        &concat(&[
            our_mac(),
            args(&["--csr", &pki("csr.der"), "--certout", &c4]),
        ]),
    );
    verify(&c4);

    // kur signed with the first certificate, then rr of the renewed one
    let (c5, k5) = (dir.file("kur.pem"), dir.file("kur.key"));
    our_client_ok(
        &server,
        "kur",
        &concat(&[
            our_sig(&c1, &k1),
            args(&["--oldcert", &c1, "--certout", &c5, "--keyout", &k5]),
        ]),
    );
    verify(&c5);
    assert_eq!(subject(&c5), "subject=CN = Self Device");
    let out = our_client_ok(
        &server,
        "rr",
        &concat(&[
            our_sig(&c5, &k5),
            args(&["--oldcert", &c5, "--revreason", "1"]),
        ]),
    );
    assert!(out.contains("revoked") || out.contains("accepted"), "{out}");
    // a second rr of the same certificate is refused: certRevoked
    let again = our_client(
        &server,
        "rr",
        &concat(&[our_mac(), args(&["--oldcert", &c5])]),
    );
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("certRevoked"),
        "{again:?}"
    );

    // genm: root CA update (RFC 9483 4.3.2 asks with rootCaCert): no update
    let out = our_client_ok(
        &server,
        "genm",
        &concat(&[
            our_mac(),
            args(&[
                "--genm-type",
                "rootCaKeyUpdate",
                "--oldwithold",
                &pki("root.crt"),
            ]),
        ]),
    );
    assert!(out.contains("rootCaKeyUpdate"), "{out}");
    assert!(!out.contains("unsupported"), "{out}");

    // genm: CA certificates
    let cacerts = dir.file("cacerts.pem");
    our_client_ok(
        &server,
        "genm",
        &concat(&[
            our_mac(),
            args(&["--genm-type", "caCerts", "--cacertsout", &cacerts]),
        ]),
    );
    assert!(
        std::fs::read_to_string(&cacerts)
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
}

#[test]
fn our_client_polls_and_uses_implicit_confirm() {
    let server = start_fixed(&["--poll", "2"]);
    let dir = TempDir::new("self-poll");
    let c = dir.file("c.pem");
    let out = our_client_ok(
        &server,
        "ir",
        &concat(&[
            our_mac(),
            args(&["--subject", "/CN=Poller", "--certout", &c]),
        ]),
    );
    verify(&c);
    assert!(
        out.contains("2 poll") || out.contains("polls: 2") || out.contains("polled"),
        "{out}"
    );

    let server = start_fixed(&["--grant-implicit-confirm"]);
    let c = dir.file("i.pem");
    let out = our_client_ok(
        &server,
        "ir",
        &concat(&[
            our_mac(),
            args(&[
                "--subject",
                "/CN=Implicit",
                "--implicit-confirm",
                "--certout",
                &c,
            ]),
        ]),
    );
    verify(&c);
    assert!(out.to_lowercase().contains("implicit"), "{out}");
}

#[test]
fn kem_key_option() {
    // not an ML-KEM key: a start-up error (exit status 1)
    let out = Command::new(env!("CARGO_BIN_EXE_cmp"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ref",
            "1",
            "--secret",
            "2",
        ])
        .args(["--kem-key", &pki("ee.key")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not a usable ML-KEM private key"),
        "{stderr}"
    );

    // an ML-KEM key (PEM here; DER works too) authenticates no client: it
    // is not enough to start
    let dir = TempDir::new("kem-key");
    let key = KemPrivateKey::generate(KemAlgorithm::MlKem768).unwrap();
    let path = dir.file("kem.pem");
    std::fs::write(&path, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cmp"))
        .args(["serve", "--listen", "127.0.0.1:0", "--kem-key", &path])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no client could authenticate"), "{stderr}");
    // with a MAC client it starts
    let server = Server::start(&["--ref", "1", "--secret", "2", "--kem-key", &path]);
    server.wait_for_log("KEM key: ML-KEM-768");
}
