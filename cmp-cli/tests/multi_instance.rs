//! Several `cmp serve` instances on one PostgreSQL database
//! (`--store postgres://...`), as behind a load balancer: a round-robin
//! HTTP forwarder on loopback sends each message of one enrollment to the
//! next instance, for OpenSSL's client and ours. Covers a transaction moving
//! across instances (ir, pollReq, certConf on three different ones),
//! transactionIdInUse across instances, unique serial numbers under
//! parallel load, a kill -9 of an instance between ip and certConf, and the
//! sweep of expired transactions.
//!
//! Each test starts its own PostgreSQL cluster with
//! `tests/postgres/start.sh` (Debian's `postgresql` package; `.ci/run`
//! installs it). Without PostgreSQL the tests fail, saying so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cmp_core::Limits;
use cmp_core::asn1::{BodyType, FailureBit, PkiBody};
use cmp_core::message::ParsedMessage;
use cmp_tests::{MAC_REFERENCE, MAC_SECRET, pki_dir, run_openssl, run_openssl_cmp};
use der::DecodePem;
use postgres::{Client, NoTls};
use x509_cert::Certificate;

fn pki(name: &str) -> String {
    pki_dir().join(name).display().to_string()
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cmp-multi-{tag}-{}-{}",
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

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A PostgreSQL cluster of our own; stopped on drop.
struct Postgres {
    dir: TempDir,
    url: String,
}

impl Postgres {
    fn start() -> Self {
        let dir = TempDir::new("pg");
        let script = repo_root().join("tests/postgres/start.sh");
        let out = Command::new(&script)
            .arg(&dir.0)
            .arg(free_port().to_string())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "cannot start PostgreSQL for the multi-instance tests (install Debian's \
             postgresql package; .ci/run does):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(url.starts_with("postgres://"), "start.sh printed {url:?}");
        Self { dir, url }
    }

    fn client(&self) -> Client {
        Client::connect(&self.url, NoTls).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        self.client().query_one(sql, &[]).unwrap().get(0)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("tests/postgres/stop.sh"))
            .arg(&self.dir.0)
            .status();
    }
}

/// A `cmp serve` process; killed on drop if still running.
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(args: &[String]) -> Self {
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
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
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

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn wait_for_log(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = self.log();
            if log.contains(text) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} not in the server log:\n{log}"
            );
            thread::sleep(Duration::from_millis(20));
        }
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

/// `n` instances over the database of `pg`, with the fixed test PKI.
fn start_instances(pg: &Postgres, n: usize, extra: &[&str]) -> Vec<Server> {
    let mut args: Vec<String> = [
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
        "--store",
        &pg.url,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    // Started together: migrations and CA set-up must not trip over each other.
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let args = args.clone();
            thread::spawn(move || Server::start(&args))
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// One forwarded message: which instance got it, its body type, its DER.
#[derive(Clone, Debug)]
struct Forwarded {
    instance: usize,
    body: Option<BodyType>,
    der: Vec<u8>,
}

type Hook = Box<dyn FnMut(&Forwarded) + Send>;

/// The answers to one message sent to two instances: (instance, body type).
type RacedAnswers = Vec<(usize, Option<BodyType>)>;

/// The raw HTTP answers to one message sent to two instances: (instance, answer).
type RawAnswers = Vec<(usize, Vec<u8>)>;

/// What the forwarder's connection threads share.
#[derive(Default)]
struct Shared {
    /// Instance ports; `None` once killed.
    backends: Mutex<Vec<Option<u16>>>,
    /// Every message forwarded, in order.
    seen: Mutex<Vec<Forwarded>>,
    hook: Mutex<Option<Hook>>,
    next: AtomicUsize,
    /// Send each message of this type to two instances at once.
    race: Mutex<Option<BodyType>>,
    /// The answers' body types of each raced message: (instance, body).
    raced: Mutex<Vec<RacedAnswers>>,
    /// The raw HTTP answers of each raced message: (instance, answer).
    raced_raw: Mutex<Vec<RawAnswers>>,
}

impl Shared {
    /// The next live instance, round robin: (index, port).
    fn pick(&self) -> (usize, u16) {
        let list = self.backends.lock().unwrap();
        assert!(list.iter().any(Option::is_some), "no live instance left");
        loop {
            let i = self.next.fetch_add(1, Ordering::SeqCst) % list.len();
            if let Some(p) = list[i] {
                return (i, p);
            }
        }
    }
}

/// A round-robin HTTP forwarder on loopback (the "load balancer"): each
/// request goes to the next live instance. The hook runs after an instance
/// answered and before the answer is passed on.
struct Forwarder {
    port: u16,
    shared: Arc<Shared>,
}

impl Forwarder {
    fn start(servers: &[Server]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        *shared.backends.lock().unwrap() = servers.iter().map(|s| Some(s.port)).collect();
        let sh = shared.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let sh = sh.clone();
                thread::spawn(move || {
                    let _ = forward(conn, &sh);
                });
            }
        });
        Self { port, shared }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/.well-known/cmp", self.port)
    }

    fn server_arg(&self) -> String {
        format!("127.0.0.1:{}/.well-known/cmp", self.port)
    }

    fn seen(&self) -> Vec<Forwarded> {
        self.shared.seen.lock().unwrap().clone()
    }

    fn set_hook(&self, hook: Hook) {
        *self.shared.hook.lock().unwrap() = Some(hook);
    }
}

/// Read one HTTP message (head and Content-Length body) from `r`.
fn read_http(r: &mut impl Read) -> std::io::Result<(String, Vec<u8>)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if r.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok((head, body))
}

fn forward(mut client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    // A kept-alive client connection: each request goes to the next instance.
    loop {
        let Ok((head, body)) = read_http(&mut client) else {
            return Ok(());
        };
        forward_one(&mut client, &head, body, shared)?;
    }
}

/// POST `body` to the instance on `port`; the raw HTTP answer.
fn exchange(port: u16, path: &str, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        up,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/pkixcmp\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    up.write_all(body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    Ok(answer)
}

/// The body type of the CMP message in a raw HTTP answer.
fn answer_body(answer: &[u8]) -> Option<BodyType> {
    let (_, body) = read_http(&mut &answer[..]).ok()?;
    ParsedMessage::decode(&body, &Limits::DEFAULT)
        .ok()
        .map(|m| m.body_type())
}

fn forward_one(
    client: &mut TcpStream,
    head: &str,
    body: Vec<u8>,
    shared: &Shared,
) -> std::io::Result<()> {
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("/.well-known/cmp")
        .to_owned();
    let kind = ParsedMessage::decode(&body, &Limits::DEFAULT)
        .ok()
        .map(|m| m.body_type());
    let (instance, answer) = if kind.is_some() && kind == *shared.race.lock().unwrap() {
        // Two instances get the same message at the same moment.
        let picks = [shared.pick(), shared.pick()];
        let gate = Arc::new(Barrier::new(2));
        let racers: Vec<_> = picks
            .iter()
            .map(|&(i, port)| {
                let (gate, path, body) = (gate.clone(), path.clone(), body.clone());
                thread::spawn(move || {
                    gate.wait();
                    (i, exchange(port, &path, &body))
                })
            })
            .collect();
        let mut answers = Vec::new();
        for r in racers {
            let (i, a) = r.join().unwrap();
            answers.push((i, a?));
        }
        shared
            .raced
            .lock()
            .unwrap()
            .push(answers.iter().map(|(i, a)| (*i, answer_body(a))).collect());
        shared.raced_raw.lock().unwrap().push(answers.clone());
        let pick = answers
            .iter()
            .position(|(_, a)| matches!(answer_body(a), Some(b) if b != BodyType::Error))
            .unwrap_or(0);
        answers.swap_remove(pick)
    } else {
        let (i, port) = shared.pick();
        (i, exchange(port, &path, &body)?)
    };
    let record = Forwarded {
        instance,
        body: kind,
        der: body,
    };
    shared.seen.lock().unwrap().push(record.clone());
    if let Some(h) = shared.hook.lock().unwrap().as_mut() {
        h(&record);
    }
    client.write_all(&answer)?;
    client.flush()
}

fn mac_args() -> Vec<String> {
    vec![
        "-ref".into(),
        MAC_REFERENCE.into(),
        "-secret".into(),
        format!("pass:{MAC_SECRET}"),
    ]
}

/// `openssl cmp -cmd ir` through the forwarder; panics unless it succeeds.
fn openssl_ir(fwd: &Forwarder, subject: &str, certout: &str, extra: &[&str]) {
    let server = fwd.server_arg();
    let mut args = vec![
        "-server".to_owned(),
        server,
        "-cmd".into(),
        "ir".into(),
        "-newkey".into(),
        pki("new.key"),
        "-subject".into(),
        subject.into(),
        "-certout".into(),
        certout.into(),
    ];
    args.extend(mac_args());
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let out = run_openssl_cmp(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        out.status.success(),
        "openssl cmp {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Our client's `cmp ir` through the forwarder.
fn our_ir(fwd: &Forwarder, subject: &str, certout: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cmp"))
        .args(["ir", "--server", &fwd.url(), "--ref", MAC_REFERENCE])
        .args(["--secret", MAC_SECRET, "--subject", subject])
        .args(["--certout", certout, "--timeout", "120"])
        .output()
        .unwrap()
}

fn our_ir_ok(fwd: &Forwarder, subject: &str, certout: &str) {
    let out = our_ir(fwd, subject, certout);
    assert!(
        out.status.success(),
        "cmp ir failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_cert(path: &str) -> Certificate {
    let pem = std::fs::read_to_string(path).unwrap();
    Certificate::from_pem(pem.as_bytes()).unwrap()
}

fn serial(cert: &Certificate) -> Vec<u8> {
    let s = cert.tbs_certificate().serial_number().as_bytes();
    let start = s.iter().position(|&b| b != 0).unwrap_or(0);
    s[start..].to_vec()
}

fn verify(cert: &str) {
    let out = run_openssl(
        &[
            "verify",
            "-CAfile",
            &pki("root.crt"),
            "-untrusted",
            &pki("ca.crt"),
            cert,
        ],
        Duration::from_secs(30),
    )
    .unwrap();
    assert!(
        out.status.success(),
        "openssl verify {cert}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The row of `cert` in cmp_issued: (DER, confirmed), and whether revoked.
fn issued_row(pg: &Postgres, cert: &Certificate) -> (Vec<u8>, bool, bool) {
    let mut c = pg.client();
    let s = serial(cert);
    let row = c
        .query_one(
            "SELECT certificate, confirmed_at IS NOT NULL FROM cmp_issued WHERE serial = $1",
            &[&s],
        )
        .unwrap();
    let revoked = c
        .query_opt("SELECT 1 FROM cmp_revoked WHERE serial = $1", &[&s])
        .unwrap()
        .is_some();
    (row.get(0), row.get(1), revoked)
}

fn assert_confirmed_once(pg: &Postgres, cert: &Certificate, subject_text: &str) {
    let (der, confirmed, revoked) = issued_row(pg, cert);
    assert_eq!(der, der::Encode::to_der(cert).unwrap());
    assert!(confirmed, "the certificate is not marked confirmed");
    assert!(!revoked, "a confirmed certificate was revoked");
    let same_subject: i64 = pg
        .client()
        .query_one(
            "SELECT count(*) FROM cmp_issued WHERE subject = $1",
            &[&subject_text],
        )
        .unwrap()
        .get(0);
    assert_eq!(same_subject, 1, "{subject_text} issued more than once");
}

fn bodies(seen: &[Forwarded]) -> Vec<(usize, BodyType)> {
    seen.iter()
        .map(|f| (f.instance, f.body.expect("an unparsable request")))
        .collect()
}

#[test]
fn one_enrollment_spread_over_three_instances() {
    let pg = Postgres::start();
    let servers = start_instances(&pg, 3, &["--poll", "1"]);
    let fwd = Forwarder::start(&servers);
    let dir = TempDir::new("spread");

    // OpenSSL: ir on A, pollReq on B, certConf on C.
    let cert = dir.file("openssl.pem");
    openssl_ir(&fwd, "/CN=Spread OpenSSL", &cert, &[]);
    verify(&cert);
    assert_eq!(
        bodies(&fwd.seen()),
        [
            (0, BodyType::Ir),
            (1, BodyType::PollReq),
            (2, BodyType::CertConf)
        ]
    );
    assert_confirmed_once(&pg, &read_cert(&cert), "CN=Spread OpenSSL");
    servers[2].wait_for_log("certConf->pkiconf");

    // Our client, the same way round.
    let ours = dir.file("ours.pem");
    our_ir_ok(&fwd, "CN=Spread cmp-rs", &ours);
    verify(&ours);
    assert_eq!(
        bodies(&fwd.seen()[3..]),
        [
            (0, BodyType::Ir),
            (1, BodyType::PollReq),
            (2, BodyType::CertConf)
        ]
    );
    assert_confirmed_once(&pg, &read_cert(&ours), "CN=Spread cmp-rs");
    assert_eq!(pg.count("SELECT count(*) FROM cmp_issued"), 2);
    assert_eq!(pg.count("SELECT count(*) FROM cmp_revoked"), 0);
    assert_eq!(
        pg.count("SELECT count(*) FROM schema_migrations"),
        3,
        "each migration ran once for three instances"
    );
}

#[test]
fn transaction_id_in_use_across_instances() {
    let pg = Postgres::start();
    let servers = start_instances(&pg, 3, &[]);
    let fwd = Forwarder::start(&servers);
    let dir = TempDir::new("inuse");
    let cert = dir.file("c.pem");
    openssl_ir(&fwd, "/CN=Once", &cert, &[]);
    let seen = fwd.seen();
    assert_eq!(bodies(&seen), [(0, BodyType::Ir), (1, BodyType::CertConf)]);
    // The same ir (same transactionID), replayed to the third instance.
    let ir = &seen[0].der;
    let mut up = TcpStream::connect(("127.0.0.1", servers[2].port)).unwrap();
    write!(
        up,
        "POST /.well-known/cmp HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmp\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        ir.len()
    )
    .unwrap();
    up.write_all(ir).unwrap();
    let (head, body) = read_http(&mut up).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let reply = ParsedMessage::decode(&body, &Limits::DEFAULT).unwrap();
    let PkiBody::Error(content) = reply.body() else {
        panic!("expected an error message, got {:?}", reply.body_type());
    };
    assert_eq!(
        content.pki_status_info.failure_bits(),
        [FailureBit::TransactionIdInUse]
    );
    servers[2].wait_for_log("transactionIdInUse");
    assert_eq!(pg.count("SELECT count(*) FROM cmp_issued"), 1);
}

#[test]
fn serial_numbers_unique_across_parallel_enrollments() {
    const N: usize = 12;
    let pg = Postgres::start();
    let servers = start_instances(&pg, 3, &[]);
    let fwd = Arc::new(Forwarder::start(&servers));
    let dir = Arc::new(TempDir::new("serials"));
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let (fwd, dir) = (fwd.clone(), dir.clone());
            thread::spawn(move || {
                let path = dir.file(&format!("{i}.pem"));
                if i % 3 == 0 {
                    openssl_ir(&fwd, &format!("/CN=Parallel {i}"), &path, &[]);
                } else {
                    our_ir_ok(&fwd, &format!("CN=Parallel {i}"), &path);
                }
                read_cert(&path)
            })
        })
        .collect();
    let certs: Vec<Certificate> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let mut serials: Vec<Vec<u8>> = certs.iter().map(serial).collect();
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), N, "serial numbers collided");
    for (i, cert) in certs.iter().enumerate() {
        assert_confirmed_once(&pg, cert, &format!("CN=Parallel {i}"));
    }
    assert_eq!(pg.count("SELECT count(*) FROM cmp_issued"), N as i64);
    // every instance took part
    let seen = fwd.seen();
    for i in 0..3 {
        assert!(seen.iter().any(|f| f.instance == i), "instance {i} idle");
    }
}

#[test]
fn kill_9_between_ip_and_cert_conf() {
    let pg = Postgres::start();
    let servers = start_instances(&pg, 3, &[]);
    let fwd = Forwarder::start(&servers);
    let dir = TempDir::new("kill");
    let pids: Vec<u32> = servers.iter().map(|s| s.child.id()).collect();
    // When an instance has answered an ir (the ip is on its way back to the
    // client), kill -9 it and stop routing to it.
    let shared = fwd.shared.clone();
    let killed = Arc::new(Mutex::new(Vec::new()));
    let k = killed.clone();
    fwd.set_hook(Box::new(move |f: &Forwarded| {
        if f.body == Some(BodyType::Ir) {
            let status = Command::new("kill")
                .args(["-9", &pids[f.instance].to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            shared.backends.lock().unwrap()[f.instance] = None;
            k.lock().unwrap().push(f.instance);
        }
    }));

    let cert = dir.file("openssl.pem");
    openssl_ir(&fwd, "/CN=Survivor OpenSSL", &cert, &[]);
    verify(&cert);
    let ours = dir.file("ours.pem");
    our_ir_ok(&fwd, "CN=Survivor cmp-rs", &ours);
    verify(&ours);

    let seen = bodies(&fwd.seen());
    assert_eq!(
        seen,
        [
            (0, BodyType::Ir),
            (1, BodyType::CertConf),
            (2, BodyType::Ir),
            (1, BodyType::CertConf)
        ]
    );
    assert_eq!(*killed.lock().unwrap(), [0, 2]);
    for s in [&servers[0], &servers[2]] {
        assert!(
            TcpStream::connect(("127.0.0.1", s.port)).is_err(),
            "a killed instance still answers"
        );
    }
    // Nothing lost, nothing issued twice.
    assert_confirmed_once(&pg, &read_cert(&cert), "CN=Survivor OpenSSL");
    assert_confirmed_once(&pg, &read_cert(&ours), "CN=Survivor cmp-rs");
    assert_eq!(pg.count("SELECT count(*) FROM cmp_issued"), 2);
    assert_eq!(pg.count("SELECT count(*) FROM cmp_revoked"), 0);
    servers[1].wait_for_log("certConf->pkiconf");
}

#[test]
fn sweep_keeps_confirmed_certificates() {
    let pg = Postgres::start();
    let servers = start_instances(&pg, 3, &["--transaction-lifetime", "3"]);
    let fwd = Forwarder::start(&servers);
    let dir = TempDir::new("sweep");
    let confirmed = dir.file("confirmed.pem");
    openssl_ir(&fwd, "/CN=Confirmed", &confirmed, &[]);
    // The client never sends certConf: the certificate must be withdrawn.
    let unconfirmed = dir.file("unconfirmed.pem");
    openssl_ir(&fwd, "/CN=Unconfirmed", &unconfirmed, &["-disable_confirm"]);
    assert_eq!(pg.count("SELECT count(*) FROM cmp_transactions"), 2);

    let deadline = Instant::now() + Duration::from_secs(30);
    while pg.count("SELECT count(*) FROM cmp_transactions") > 0 {
        assert!(Instant::now() < deadline, "expired transactions not swept");
        thread::sleep(Duration::from_millis(200));
    }
    let (_, is_confirmed, revoked) = issued_row(&pg, &read_cert(&confirmed));
    assert!(
        is_confirmed && !revoked,
        "the confirmed certificate was lost"
    );
    let (_, is_confirmed, revoked) = issued_row(&pg, &read_cert(&unconfirmed));
    assert!(
        !is_confirmed && revoked,
        "the unconfirmed one was not revoked"
    );
    assert_eq!(pg.count("SELECT count(*) FROM cmp_issued"), 2);
    assert_eq!(pg.count("SELECT count(*) FROM cmp_revoked"), 1);
    // exactly one instance swept it (each expired row goes to one sweeper)
    let revoked_logs = servers
        .iter()
        .filter(|s| s.log().contains("expired without certConf"))
        .count();
    assert_eq!(revoked_logs, 1);
}

#[test]
fn racing_cert_confs_confirm_once() {
    let pg = Postgres::start();
    let servers = start_instances(&pg, 3, &[]);
    let fwd = Forwarder::start(&servers);
    *fwd.shared.race.lock().unwrap() = Some(BodyType::CertConf);
    let dir = TempDir::new("race");
    let cert = dir.file("openssl.pem");
    openssl_ir(&fwd, "/CN=Raced OpenSSL", &cert, &[]);
    let ours = dir.file("ours.pem");
    our_ir_ok(&fwd, "CN=Raced cmp-rs", &ours);
    let raced = fwd.shared.raced.lock().unwrap().clone();
    assert_eq!(raced.len(), 2);
    for pair in &raced {
        let mut bodies: Vec<BodyType> = pair.iter().map(|(_, b)| b.unwrap()).collect();
        bodies.sort_by_key(|b| b.name());
        // one instance confirmed, the other refused
        assert_eq!(bodies, [BodyType::Error, BodyType::PkiConf], "{pair:?}");
        assert_ne!(pair[0].0, pair[1].0);
    }
    assert_confirmed_once(&pg, &read_cert(&cert), "CN=Raced OpenSSL");
    assert_confirmed_once(&pg, &read_cert(&ours), "CN=Raced cmp-rs");
    assert_eq!(pg.count("SELECT count(*) FROM cmp_revoked"), 0);
    let confirmations: usize = servers
        .iter()
        .map(|s| s.log().matches("certConf->pkiconf").count())
        .sum();
    assert_eq!(confirmations, 2, "each certificate confirmed exactly once");
}

#[test]
fn instances_started_together_share_one_demo_hierarchy() {
    let pg = Postgres::start();
    let dir = Arc::new(TempDir::new("demo"));
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let url = pg.url.clone();
            let root = dir.file(&format!("root{i}.pem"));
            thread::spawn(move || {
                Server::start(&[
                    "--ref".into(),
                    MAC_REFERENCE.into(),
                    "--secret".into(),
                    MAC_SECRET.into(),
                    "--store".into(),
                    url,
                    "--root-out".into(),
                    root,
                ])
            })
        })
        .collect();
    let servers: Vec<Server> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let roots: Vec<String> = (0..3)
        .map(|i| std::fs::read_to_string(dir.file(&format!("root{i}.pem"))).unwrap())
        .collect();
    assert_eq!(roots[0], roots[1]);
    assert_eq!(roots[0], roots[2]);
    assert_eq!(
        pg.count("SELECT count(*) FROM cmp_meta WHERE key = 'demo_ca_key'"),
        1
    );
    let fwd = Forwarder::start(&servers);
    let cert = dir.file("c.pem");
    our_ir_ok(&fwd, "CN=Demo", &cert);
    assert_eq!(
        bodies(&fwd.seen()),
        [(0, BodyType::Ir), (1, BodyType::CertConf)]
    );
    assert_confirmed_once(&pg, &read_cert(&cert), "CN=Demo");
}

#[test]
fn racing_poll_reqs_deliver_one_certificate() {
    let pg = Postgres::start();
    let servers = start_instances(&pg, 3, &["--poll", "1"]);
    let fwd = Forwarder::start(&servers);
    *fwd.shared.race.lock().unwrap() = Some(BodyType::PollReq);
    let dir = TempDir::new("race-poll");
    let cert = dir.file("c.pem");
    our_ir_ok(&fwd, "CN=Raced poll", &cert);
    let raced = fwd.shared.raced.lock().unwrap().clone();
    assert_eq!(raced.len(), 1);
    // One instance delivered the certificate; the other answered with a
    // protected CMP error message, HTTP 200: the transaction had moved on
    // (when it lost the race after issuing, it withdrew its certificate and
    // answered from the transaction's new state).
    let delivered = raced[0]
        .iter()
        .filter(|(_, b)| *b == Some(BodyType::Ip))
        .count();
    assert_eq!(delivered, 1, "{:?}", raced[0]);
    let raw = fwd.shared.raced_raw.lock().unwrap().clone();
    let loser = raw[0]
        .iter()
        .find(|(_, a)| answer_body(a) != Some(BodyType::Ip))
        .map(|(_, a)| a.clone())
        .unwrap();
    let (head, body) = read_http(&mut &loser[..]).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let reply = ParsedMessage::decode(&body, &Limits::DEFAULT).unwrap();
    let PkiBody::Error(content) = reply.body() else {
        panic!("expected an error message, got {:?}", reply.body_type());
    };
    assert_eq!(
        content.pki_status_info.failure_bits(),
        [FailureBit::BadRequest],
        "{:?}",
        content.pki_status_info
    );
    cmp_core::protection::verify_mac(
        &reply,
        MAC_SECRET.as_bytes(),
        &cmp_crypto_rustcrypto::RustCryptoProvider,
        &Limits::DEFAULT,
    )
    .expect("the error message is protected with the transaction's MAC");
    let delivered = read_cert(&cert);
    let (_, confirmed, revoked) = issued_row(&pg, &delivered);
    assert!(confirmed && !revoked);
    // Any other certificate for this subject was withdrawn.
    let live: i64 = pg
        .client()
        .query_one(
            "SELECT count(*) FROM cmp_issued i WHERE subject = 'CN=Raced poll'
             AND NOT EXISTS (SELECT 1 FROM cmp_revoked r WHERE r.serial = i.serial)",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(live, 1, "a second certificate stayed valid");
}

/// `cmp` with the MAC credentials against the instance `s` directly.
fn cmp_on(s: &Server, cmd: &str, args: &[&str]) -> String {
    let url = format!("http://127.0.0.1:{}/.well-known/cmp", s.port);
    let out = Command::new(env!("CARGO_BIN_EXE_cmp"))
        .args([cmd, "--server", &url, "--ref", MAC_REFERENCE])
        .args(["--secret", MAC_SECRET])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cmp {cmd} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The DER of the first PEM block of `path`.
fn pem_der(path: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(path).unwrap();
    der::pem::decode_vec(text.as_bytes()).unwrap().1
}

#[test]
fn key_archived_on_one_instance_is_recovered_on_another() {
    let pg = Postgres::start();
    let servers = start_instances(&pg, 2, &[]);
    let dir = TempDir::new("archive");
    // the requester's own key, archived on instance A
    cmp_on(
        &servers[0],
        "ir",
        &[
            "--subject",
            "/CN=Archived",
            "--archive-key",
            "--keyout",
            &dir.file("own.key"),
            "--certout",
            &dir.file("own.pem"),
        ],
    );
    // a centrally generated key, also on A
    cmp_on(
        &servers[0],
        "cr",
        &[
            "--subject",
            "/CN=Archived",
            "--central-keygen",
            "--newkeyout",
            &dir.file("central.key"),
            "--certout",
            &dir.file("central.pem"),
        ],
    );
    assert_eq!(
        pg.count("SELECT count(*) FROM schema_migrations WHERE name = '0002_key_archive'"),
        1
    );
    // the rows hold the keys sealed, never the PKCS#8 in clear
    let rows: Vec<Vec<u8>> = pg
        .client()
        .query("SELECT sealed FROM cmp_archived_keys ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows.len(), 2);
    for (row, key) in rows.iter().zip(["own.key", "central.key"]) {
        let pkcs8 = pem_der(&dir.file(key));
        assert!(
            !row.windows(pkcs8.len()).any(|w| w == pkcs8.as_slice()),
            "{key} is stored in clear"
        );
    }

    // recovered on instance B
    let text = cmp_on(
        &servers[1],
        "krr",
        &[
            "--subject",
            "/CN=Archived",
            "--certout",
            &dir.file("recovered.pem"),
            "--newkeyout",
            &dir.file("recovered.key"),
        ],
    );
    assert!(text.contains("keys recovered: accepted (2 keys)"), "{text}");
    let keys = std::fs::read_to_string(dir.file("recovered.key")).unwrap();
    let certs = std::fs::read_to_string(dir.file("recovered.pem")).unwrap();
    for (key, cert) in [("own.key", "own.pem"), ("central.key", "central.pem")] {
        let key_pem = std::fs::read_to_string(dir.file(key)).unwrap();
        let cert_pem = std::fs::read_to_string(dir.file(cert)).unwrap();
        assert!(keys.contains(&key_pem), "{key} not recovered");
        assert!(certs.contains(&cert_pem), "{cert} not recovered");
    }
    servers[1].wait_for_log("recovered 2 keys");
}

/// A crash between recording an issued certificate and storing the
/// transaction that delivers it leaves a certificate no transaction holds:
/// simulated by deleting the transaction row and dating the certificate
/// back. The sweep revokes it (and only it: a certificate awaiting its
/// certConf in an open transaction, and a confirmed one, stay valid).
#[test]
fn sweep_revokes_certificates_never_delivered() {
    let pg = Postgres::start();
    let servers = start_instances(&pg, 2, &["--transaction-lifetime", "600"]);
    let fwd = Forwarder::start(&servers);
    let dir = TempDir::new("orphan");
    let confirmed = dir.file("confirmed.pem");
    openssl_ir(&fwd, "/CN=Delivered", &confirmed, &[]);
    let orphan = dir.file("orphan.pem");
    openssl_ir(&fwd, "/CN=Orphan", &orphan, &["-disable_confirm"]);
    let waiting = dir.file("waiting.pem");
    openssl_ir(&fwd, "/CN=Waiting", &waiting, &["-disable_confirm"]);
    let (orphan, waiting) = (read_cert(&orphan), read_cert(&waiting));
    let mut c = pg.client();
    // the orphan's transaction was never stored; both issued long ago
    let deleted = c
        .execute(
            "DELETE FROM cmp_transactions WHERE position($1 IN record) > 0",
            &[&der::Encode::to_der(&orphan).unwrap()],
        )
        .unwrap();
    assert_eq!(deleted, 1);
    c.execute(
        "UPDATE cmp_issued SET issued_at = issued_at - 3600000 WHERE serial = $1 OR serial = $2",
        &[&serial(&orphan), &serial(&waiting)],
    )
    .unwrap();
    // a restart runs the sweep at once
    drop(servers);
    let servers = start_instances(&pg, 1, &[]);
    servers[0].wait_for_log("\"CN=Orphan\" was issued but never delivered");
    let (_, _, revoked) = issued_row(&pg, &orphan);
    assert!(revoked, "the undelivered certificate is still valid");
    let (_, is_confirmed, revoked) = issued_row(&pg, &waiting);
    assert!(
        !is_confirmed && !revoked,
        "a certificate awaiting certConf was revoked"
    );
    let (_, is_confirmed, revoked) = issued_row(&pg, &read_cert(&confirmed));
    assert!(
        is_confirmed && !revoked,
        "a confirmed certificate was revoked"
    );
    assert_eq!(pg.count("SELECT count(*) FROM cmp_revoked"), 1);
    assert!(!servers[0].log().contains("CN=Waiting\" was issued"));
}
