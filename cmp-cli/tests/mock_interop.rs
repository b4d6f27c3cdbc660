//! The `cmp` binary against OpenSSL's CMP mock server (`cmp-tests`).
//!
//! Every test starts its own mock server on a free port and runs the built
//! binary in the fixed test PKI's directory; the mock server always issues
//! `issued.crt`, so enrollments use `--newkey issued.key` and
//! `--subject "/CN=Test Device"`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cmp_tests::{MAC_REFERENCE, MAC_SECRET, MockServer, Mode, openssl_available, pki_dir};
use x509_cert::Certificate;

/// No single `cmp` run may take longer than this.
const WATCHDOG: Duration = Duration::from_secs(60);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {} after {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Run the `cmp` binary in the test PKI directory; killed after [`WATCHDOG`].
fn cmp(args: &[&str]) -> Run {
    use std::io::Read;
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cmp"))
        .args(args)
        .current_dir(pki_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running the cmp binary");
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cmp {args:?} hung for {WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
        elapsed,
    }
}

fn start(mode: Mode, extra: &[&str]) -> MockServer {
    assert!(
        openssl_available(),
        "the `openssl` command line tool (3.x) is required"
    );
    MockServer::start(mode, extra).unwrap_or_else(|e| panic!("starting the mock server: {e}"))
}

fn mac_args(server: &MockServer) -> Vec<String> {
    vec![
        "--server".into(),
        server.url(),
        "--ref".into(),
        MAC_REFERENCE.into(),
        "--secret".into(),
        format!("pass:{MAC_SECRET}"),
        "--msg-timeout".into(),
        "20".into(),
    ]
}

fn sig_args(server: &MockServer, cert: &str, key: &str) -> Vec<String> {
    [
        "--server",
        &server.url(),
        "--cert",
        cert,
        "--key",
        key,
        "--trusted",
        "root.crt",
        "--untrusted",
        "ca.crt",
        "--msg-timeout",
        "20",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

const ENROLL: [&str; 4] = ["--newkey", "issued.key", "--subject", "/CN=Test Device"];

fn run(cmd: &str, common: &[String], extra: &[&str]) -> Run {
    let mut args: Vec<&str> = vec![cmd];
    args.extend(common.iter().map(String::as_str));
    args.extend_from_slice(extra);
    cmp(&args)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

fn read_pem_certs(path: &Path) -> Vec<Certificate> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    Certificate::load_pem_chain(&bytes).unwrap()
}

fn issued_crt() -> Certificate {
    read_pem_certs(&pki_dir().join("issued.crt")).remove(0)
}

/// The summary every successful enrollment prints.
fn assert_issued_summary(r: &Run) {
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("certificate issued: accepted\n"),
        "{r:?}"
    );
    assert!(r.stdout.contains("  subject: CN=Test Device\n"), "{r:?}");
    assert!(
        r.stdout.contains("  issuer:  CN=Test Issuing CA\n"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("  serial:  6CB63C0991601DABDCD74454DC8BC0E91C0B940A\n"),
        "{r:?}"
    );
}

// ----- enrollment -----

#[test]
fn ir_pbm_writes_certificate_chain_and_messages() {
    let server = start(Mode::Mac, &[]);
    let dir = tempfile::tempdir().unwrap();
    let certout = dir.path().join("cert.pem");
    let chainout = dir.path().join("chain.pem");
    let cacertsout = dir.path().join("capubs.pem");
    let reqout = dir.path().join("req");
    let rspout = dir.path().join("rsp");
    let mut extra = ENROLL.to_vec();
    extra.extend([
        "--certout",
        path_str(&certout),
        "--chainout",
        path_str(&chainout),
        "--cacertsout",
        path_str(&cacertsout),
        "--reqout",
        path_str(&reqout),
        "--rspout",
        path_str(&rspout),
    ]);
    let r = run("ir", &mac_args(&server), &extra);
    assert_issued_summary(&r);
    assert!(r.stdout.contains("confirmation: explicit"), "{r:?}");
    assert!(
        r.stdout
            .contains(&format!("certificate written to {}", certout.display())),
        "{r:?}"
    );

    // certout is exactly issued.crt, as PEM
    let pem = std::fs::read_to_string(&certout).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
    assert_eq!(read_pem_certs(&certout), vec![issued_crt()]);
    // chain: issuing CA, then root (chain.crt has them in that order)
    assert_eq!(
        read_pem_certs(&chainout),
        read_pem_certs(&pki_dir().join("chain.crt"))
    );
    assert_eq!(
        read_pem_certs(&cacertsout),
        read_pem_certs(&pki_dir().join("root.crt"))
    );

    // the DER messages of the exchange
    let mut reqs: Vec<String> = std::fs::read_dir(&reqout)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut rsps: Vec<String> = std::fs::read_dir(&rspout)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    reqs.sort();
    rsps.sort();
    assert_eq!(reqs, ["01-ir.der", "02-certConf.der"]);
    assert_eq!(rsps, ["01-ip.der", "02-pkiconf.der"]);
    let ir = std::fs::read(reqout.join("01-ir.der")).unwrap();
    assert_eq!(ir.first(), Some(&0x30));
}

#[test]
fn ir_pbm_with_rfc4514_subject_and_verbose() {
    let server = start(Mode::Mac, &[]);
    let r = run(
        "ir",
        &mac_args(&server),
        &[
            "--newkey",
            "issued.key",
            "--subject",
            "CN=Test Device",
            "--verbose",
        ],
    );
    assert_issued_summary(&r);
    // every message, described, on stderr
    for line in [
        "--> request 1 (ir,",
        "<-- response 1 (ip,",
        "--> request 2 (certConf,",
        "<-- response 2 (pkiconf,",
    ] {
        assert!(r.stderr.contains(line), "{line}: {r:?}");
    }
    assert!(
        r.stderr.contains("protectionAlg: PasswordBasedMac"),
        "{r:?}"
    );
    assert!(r.stderr.contains("senderKID: 31323334"), "{r:?}");
}

#[test]
fn ir_signature() {
    let server = start(Mode::Sig, &[]);
    let r = run("ir", &sig_args(&server, "ee.crt", "ee.key"), &ENROLL);
    assert_issued_summary(&r);
}

#[test]
fn ir_signature_without_trust_anchor_fails_validation() {
    let server = start(Mode::Sig, &[]);
    let common: Vec<String> = [
        "--server",
        &server.url(),
        "--cert",
        "ee.crt",
        "--key",
        "ee.key",
        "--untrusted",
        "ca.crt",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let r = run("ir", &common, &ENROLL);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.starts_with("cmp: CMP_WRONG_INTEGRITY: "), "{r:?}");
    assert!(r.stderr.contains("--trusted"), "{r:?}");

    // a trust anchor the server's certificate does not chain to
    let r = run(
        "ir",
        &common,
        &[
            "--trusted",
            "ee.crt",
            "--newkey",
            "issued.key",
            "--subject",
            "/CN=Test Device",
        ],
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.starts_with("cmp: CMP_SIGNER_NOT_TRUSTED: "),
        "{r:?}"
    );
}

#[test]
fn cr_pbm() {
    let server = start(Mode::Mac, &[]);
    let r = run("cr", &mac_args(&server), &ENROLL);
    assert_issued_summary(&r);
}

#[test]
fn kur_signature() {
    let server = start(Mode::Sig, &[]);
    let dir = tempfile::tempdir().unwrap();
    let certout = dir.path().join("new.pem");
    let r = run(
        "kur",
        &sig_args(&server, "issued.crt", "issued.key"),
        &[
            "--oldcert",
            "issued.crt",
            "--newkey",
            "issued.key",
            "--certout",
            path_str(&certout),
        ],
    );
    assert_issued_summary(&r);
    assert_eq!(read_pem_certs(&certout), vec![issued_crt()]);
}

#[test]
fn p10cr_pbm() {
    let server = start(Mode::Mac, &[]);
    let dir = tempfile::tempdir().unwrap();
    let certout = dir.path().join("cert.pem");
    let r = run(
        "p10cr",
        &mac_args(&server),
        &["--csr", "csr.der", "--certout", path_str(&certout)],
    );
    assert_issued_summary(&r);
    assert_eq!(read_pem_certs(&certout), vec![issued_crt()]);
}

#[test]
fn generated_key_for_the_wrong_certificate_is_rejected_with_certconf() {
    // The mock server answers with issued.crt whatever key is asked for: the
    // client must refuse it (certConf with rejection), keep nothing but the key.
    let server = start(Mode::Mac, &[]);
    let dir = tempfile::tempdir().unwrap();
    let keyout = dir.path().join("key.pem");
    let certout = dir.path().join("cert.pem");
    let r = run(
        "ir",
        &mac_args(&server),
        &[
            "--subject",
            "/CN=Test Device",
            "--keyout",
            path_str(&keyout),
            "--certout",
            path_str(&certout),
            "-v",
        ],
    );
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(
        r.stderr.lines().last().unwrap(),
        "cmp: CMP_INCORRECT_DATA: incorrect data: the certificate is for another public key",
        "{r:?}"
    );
    assert!(r.stderr.contains("--> request 2 (certConf,"), "{r:?}");
    assert!(
        r.stderr.contains("status rejection (incorrectData)"),
        "{r:?}"
    );
    assert!(!certout.exists());
    let key = std::fs::read_to_string(&keyout).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{key}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&keyout).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

// ----- revocation and general messages -----

#[test]
fn rr_signature() {
    let server = start(Mode::Sig, &[]);
    let r = run(
        "rr",
        &sig_args(&server, "issued.crt", "issued.key"),
        &["--oldcert", "issued.crt", "--revreason", "1"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("revocation accepted: accepted\n"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("serial:      6CB63C0991601DABDCD74454DC8BC0E91C0B940A"),
        "{r:?}"
    );
    assert!(r.stdout.contains("reason:      keyCompromise (1)"), "{r:?}");
}

#[test]
fn genm_empty() {
    let server = start(Mode::Mac, &[]);
    let r = run("genm", &mac_args(&server), &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "general response: no entries\n", "{r:?}");
}

#[test]
fn genm_with_types() {
    // OpenSSL 3.0's mock server echoes the genm content back
    let server = start(Mode::Mac, &[]);
    let r = run("genm", &mac_args(&server), &["--genm-type", "caCerts"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout, "general response: 1 entry\n  caCerts: none\n",
        "{r:?}"
    );
    let r = run(
        "genm",
        &mac_args(&server),
        &["--genm-type", "rootCaKeyUpdate", "--oldwithold", "root.crt"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("rootCaCert: subject CN=Test Root CA"),
        "{r:?}"
    );
    let r = run("genm", &mac_args(&server), &["--genm-type", "1.2.3.4"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout, "general response: 1 entry\n  1.2.3.4: no value\n",
        "{r:?}"
    );
}

// ----- polling, implicit confirmation -----

#[test]
fn polling() {
    let server = start(Mode::Mac, &["-poll_count", "2", "-check_after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let reqout = dir.path().join("req");
    let mut extra = ENROLL.to_vec();
    extra.extend(["--reqout", path_str(&reqout)]);
    let r = run("ir", &mac_args(&server), &extra);
    assert_issued_summary(&r);
    assert!(r.stdout.contains("  polled:  2 times\n"), "{r:?}");
    let mut reqs: Vec<String> = std::fs::read_dir(&reqout)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    reqs.sort();
    assert_eq!(
        reqs,
        [
            "01-ir.der",
            "02-pollReq.der",
            "03-pollReq.der",
            "04-certConf.der"
        ]
    );
    assert!(r.elapsed < Duration::from_secs(10), "{r:?}");
}

#[test]
fn total_timeout_while_polling() {
    let server = start(Mode::Mac, &["-poll_count", "3", "-check_after", "10"]);
    let mut extra = ENROLL.to_vec();
    extra.extend(["--timeout", "2"]);
    let r = run("ir", &mac_args(&server), &extra);
    assert_eq!(r.code, 4, "{r:?}");
    assert_eq!(r.stderr, "cmp: CMP_TIMEOUT: deadline passed\n", "{r:?}");
    assert!(r.elapsed < Duration::from_secs(5), "{r:?}");
}

#[test]
fn implicit_confirm() {
    let server = start(Mode::Mac, &["-grant_implicitconf"]);
    let dir = tempfile::tempdir().unwrap();
    let reqout = dir.path().join("req");
    let certout = dir.path().join("cert.pem");
    let mut extra = ENROLL.to_vec();
    extra.extend([
        "--implicit-confirm",
        "--reqout",
        path_str(&reqout),
        "--certout",
        path_str(&certout),
    ]);
    let r = run("ir", &mac_args(&server), &extra);
    assert_issued_summary(&r);
    assert!(
        r.stdout
            .contains("  confirmation: implicit (granted by the server)\n"),
        "{r:?}"
    );
    // no certConf was sent
    let reqs: Vec<String> = std::fs::read_dir(&reqout)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(reqs, ["01-ir.der"]);
    assert_eq!(read_pem_certs(&certout), vec![issued_crt()]);
}

// ----- failures -----

#[test]
fn rejection_is_exit_2_and_names_badpop() {
    let server = start(
        Mode::Mac,
        &[
            "-pkistatus",
            "2",
            "-failure",
            "9",
            "-statusstring",
            "rejected_by_policy",
        ],
    );
    let r = run("ir", &mac_args(&server), &ENROLL);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        r.stderr,
        "cmp: CMP_PEER_ERROR: peer reported rejection (badPOP): rejected_by_policy in ip\n",
        "{r:?}"
    );
    assert!(r.stdout.is_empty(), "{r:?}");
}

#[test]
fn error_message_is_exit_2() {
    let server = start(Mode::Mac, &["-send_error"]);
    let r = run("ir", &mac_args(&server), &ENROLL);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .starts_with("cmp: CMP_PEER_ERROR: peer reported rejection"),
        "{r:?}"
    );
    assert!(r.stderr.contains(" in error"), "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
}

#[test]
fn wrong_secret_is_exit_3() {
    // The mock server answers with an error message MAC-protected with its
    // own secret: we cannot authenticate it, so it is reported, not trusted.
    let server = start(Mode::Mac, &[]);
    let mut common = mac_args(&server);
    common[5] = "pass:wrong".into();
    let r = run("ir", &common, &ENROLL);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.stderr.starts_with(
            "cmp: CMP_UNAUTHENTICATED_ERROR: unauthenticated error message (not trusted): \
             rejection (badRequest): wrong pbm value in error"
        ),
        "{r:?}"
    );
    assert_eq!(r.stderr.lines().count(), 1, "{r:?}");
}

#[test]
fn transport_failures_are_exit_4() {
    // wrong path: the mock server answers 404
    let server = start(Mode::Mac, &[]);
    let mut common = mac_args(&server);
    common[1] = format!("http://127.0.0.1:{}/elsewhere", server.port);
    let r = run("genm", &common, &[]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.starts_with("cmp: CMP_TRANSPORT: "), "{r:?}");
    assert!(r.stderr.contains("HTTP status 404"), "{r:?}");

    // nobody listening
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    common[1] = format!("http://127.0.0.1:{port}/pkix/");
    let r = run("genm", &common, &[]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.starts_with("cmp: CMP_TRANSPORT: "), "{r:?}");
    assert!(r.stderr.contains("cannot connect"), "{r:?}");
}

// ----- usage -----

#[test]
fn usage_errors_are_exit_1() {
    let server_less: &[&[&str]] = &[
        // no protection
        &["ir", "--server", "http://127.0.0.1:9/"],
        // https is not supported yet
        &[
            "genm",
            "--server",
            "https://127.0.0.1:9/",
            "--ref",
            "1",
            "--secret",
            "2",
        ],
        // both kinds of protection
        &[
            "genm",
            "--server",
            "http://127.0.0.1:9/",
            "--ref",
            "1",
            "--secret",
            "2",
            "--cert",
            "ee.crt",
            "--key",
            "ee.key",
        ],
        // key does not match the certificate
        &[
            "genm",
            "--server",
            "http://127.0.0.1:9/",
            "--cert",
            "ee.crt",
            "--key",
            "issued.key",
        ],
        // kur without a certificate to update
        &[
            "kur",
            "--server",
            "http://127.0.0.1:9/",
            "--ref",
            "1",
            "--secret",
            "2",
        ],
        // bad DN
        &[
            "ir",
            "--server",
            "http://127.0.0.1:9/",
            "--ref",
            "1",
            "--secret",
            "2",
            "--subject",
            "/XX=1",
        ],
        // missing file
        &[
            "p10cr",
            "--server",
            "http://127.0.0.1:9/",
            "--ref",
            "1",
            "--secret",
            "2",
            "--csr",
            "no-such.der",
        ],
        // clap: missing --server, bad reason code
        &["genm"],
        &["rr", "--server", "http://127.0.0.1:9/", "--revreason", "11"],
        &["frobnicate"],
    ];
    for args in server_less {
        let r = cmp(args);
        assert_eq!(r.code, 1, "{args:?}: {r:?}");
        assert!(
            r.stderr.starts_with("cmp: CMP_") || r.stderr.starts_with("error:"),
            "{args:?}: {r:?}"
        );
        assert!(r.stdout.is_empty(), "{args:?}: {r:?}");
    }
    let r = cmp(&["ir", "--server", "http://127.0.0.1:9/"]);
    assert_eq!(
        r.stderr,
        "cmp: CMP_USAGE: no protection given: use --ref REF --secret SECRET, or --cert FILE --key FILE\n"
    );
}

#[test]
fn help_for_everything() {
    let r = cmp(&["--help"]);
    assert_eq!(r.code, 0, "{r:?}");
    for sub in ["ir", "cr", "kur", "p10cr", "rr", "genm", "demo"] {
        assert!(r.stdout.contains(&format!("  {sub} ")), "{sub}: {r:?}");
    }
    let flags: &[(&str, &[&str])] = &[
        (
            "ir",
            &[
                "--server",
                "--ref",
                "--secret",
                "--mac",
                "--cert",
                "--key",
                "--untrusted",
                "--trusted",
                "--newkey",
                "--keyalg",
                "--subject",
                "--implicit-confirm",
                "--certout",
                "--chainout",
                "--keyout",
                "--timeout",
                "--verbose",
                "--reqout",
                "--rspout",
            ],
        ),
        ("cr", &["--newkey", "--subject", "--certout"]),
        ("kur", &["--oldcert", "--newkey"]),
        ("p10cr", &["--csr", "--certout"]),
        ("rr", &["--oldcert", "--revreason"]),
        ("genm", &["--genm-type"]),
    ];
    for (sub, wanted) in flags {
        let r = cmp(&[sub, "--help"]);
        assert_eq!(r.code, 0, "{r:?}");
        for flag in *wanted {
            assert!(r.stdout.contains(flag), "{sub} {flag}: {r:?}");
        }
        assert!(r.stdout.contains("Exit status"), "{r:?}");
    }
}

#[test]
fn demo_runs_the_whole_life_cycle() {
    let r = cmp(&["demo"]);
    assert_eq!(r.code, 0, "{r:?}");
    for step in [
        "reference CA server listening on http://127.0.0.1:",
        "2. ir (PasswordBasedMac",
        "certificate issued and confirmed",
        "3. kur (signed with the old certificate)",
        "4. genm caCerts",
        "CN=cmp-rs Demo Root CA",
        "5. rr (reason keyCompromise): accepted",
        "life cycle complete",
    ] {
        assert!(r.stdout.contains(step), "missing {step:?} in {r:?}");
    }
    // -v shows every message on stderr
    let r = cmp(&["demo", "-v"]);
    assert_eq!(r.code, 0, "{r:?}");
    for body in [
        "PKIMessage ir",
        "PKIMessage ip",
        "PKIMessage certConf",
        "PKIMessage pkiconf",
        "PKIMessage kur",
        "PKIMessage rp",
    ] {
        assert!(r.stderr.contains(body), "missing {body:?}");
    }
}
