//! Tests of the interop harness itself: fixed vectors, the OpenSSL mock
//! server, the loopback HTTP client and `make-pki.sh`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use cmp_tests::{
    MockServer, Mode, PKI_FILES, http_post_pkixcmp, make_pki, openssl_available, pki_dir,
    read_vector, run_openssl_cmp, vector_names, vectors_dir,
};

const TIMEOUT: Duration = Duration::from_secs(20);

/// OpenSSL is always installed where these tests run: its absence is a failure.
fn require_openssl() {
    assert!(
        openssl_available(),
        "the `openssl` command line tool (3.x) is required for the interop tests"
    );
}

fn start(mode: Mode, extra: &[&str]) -> MockServer {
    require_openssl();
    MockServer::start(mode, extra).unwrap_or_else(|e| panic!("starting the mock server: {e}"))
}

#[test]
fn vectors_are_listed_and_readable() {
    let names = vector_names();
    assert!(names.contains(&"ir-pbm.1.req".to_owned()), "{names:?}");
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "not sorted: {names:?}"
    );
    for name in &names {
        let der = read_vector(name);
        assert_eq!(der.first(), Some(&0x30), "{name} is not a DER SEQUENCE");
        assert!(vectors_dir().join(format!("{name}.der")).is_file());
    }
    assert_eq!(read_vector("ir-pbm.1.req"), read_vector("ir-pbm.1.req.der"));
    for file in [
        "root.crt",
        "ca.crt",
        "server.crt",
        "server.key",
        "issued.crt",
        "chain.crt",
    ] {
        assert!(pki_dir().join(file).is_file(), "fixed PKI lacks {file}");
    }
}

#[test]
fn mock_server_answers_replayed_ir_with_a_pkimessage() {
    let server = start(Mode::Mac, &[]);
    let request = read_vector("ir-pbm.1.req.der");
    let response = http_post_pkixcmp(&server.url(), &request, TIMEOUT)
        .unwrap_or_else(|e| panic!("POST to {}: {e}\nlog:\n{}", server.url(), server.log()));
    assert_eq!(response.status, 200, "{response:?}\nlog:\n{}", server.log());
    assert_eq!(
        response.content_type.as_deref(),
        Some("application/pkixcmp"),
        "log:\n{}",
        server.log()
    );
    assert!(response.is_pkixcmp());
    // A replay: OpenSSL may answer with an ip or an error message; either way
    // a PKIMessage, i.e. a DER SEQUENCE.
    assert_eq!(response.body.first(), Some(&0x30), "{response:?}");
    assert!(response.body.len() > 16, "{response:?}");
    assert!(
        server.log().contains("POST /pkix/"),
        "log:\n{}",
        server.log()
    );
}

#[test]
fn mock_server_sig_mode_and_extra_options() {
    let server = start(Mode::Sig, &["-grant_implicitconf"]);
    assert_eq!(server.mode(), Mode::Sig);
    let response =
        http_post_pkixcmp(&server.url(), &read_vector("ir-sig.1.req.der"), TIMEOUT).unwrap();
    assert_eq!(response.status, 200, "log:\n{}", server.log());
    assert!(response.is_pkixcmp());
    assert_eq!(response.body.first(), Some(&0x30));
}

#[test]
fn mock_server_wrong_path_is_404() {
    let server = start(Mode::Mac, &[]);
    let url = format!("http://127.0.0.1:{}/elsewhere", server.port);
    let response = http_post_pkixcmp(&url, &read_vector("genm-pbm.1.req"), TIMEOUT).unwrap();
    assert_eq!(response.status, 404, "{response:?}");
    assert!(response.body.is_empty());
}

#[test]
fn openssl_client_against_mock_server() {
    let server = start(Mode::Mac, &[]);
    let output = run_openssl_cmp(&[
        "-cmd",
        "genm",
        "-server",
        &server.server_arg(),
        "-ref",
        "1234",
        "-secret",
        "pass:1234-5678",
        "-msg_timeout",
        "20",
    ]);
    assert!(
        output.status.success(),
        "openssl cmp genm failed: {}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
}

#[test]
fn mock_server_is_stopped_on_drop() {
    let server = start(Mode::Mac, &[]);
    let pid = server.pid().to_string();
    let alive = |pid: &str| {
        std::process::Command::new("sh")
            .args(["-c", "kill -0 \"$1\" 2>/dev/null", "sh", pid])
            .status()
            .unwrap()
            .success()
    };
    assert!(alive(&pid));
    drop(server);
    // Drop has killed and reaped it (no zombie left either).
    assert!(!alive(&pid), "mock server {pid} still exists");
}

#[test]
fn mock_server_start_failure_is_an_error() {
    require_openssl();
    let err = MockServer::start(Mode::Mac, &["-no_such_option"]).unwrap_err();
    assert!(err.to_string().contains("no_such_option"), "{err}");
}

#[test]
fn http_client_refuses_non_loopback_hosts() {
    // A listener on loopback to show no connection is attempted anywhere:
    // the refusal happens before any address is resolved or connected.
    for url in [
        "http://192.0.2.1:80/pkix/",
        "http://example.com/pkix/",
        "http://[2001:db8::1]:8080/",
        "http://127.0.0.2/",
        "http://0.0.0.0:1/",
    ] {
        let start = Instant::now();
        let err = http_post_pkixcmp(url, b"\x30\x00", TIMEOUT).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{url}: {err}");
        assert!(start.elapsed() < Duration::from_secs(1), "{url}");
    }
    let err = http_post_pkixcmp("https://127.0.0.1/", b"", TIMEOUT).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn http_client_times_out_on_a_silent_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/pkix/",
        listener.local_addr().unwrap().port()
    );
    let start = Instant::now();
    let err = http_post_pkixcmp(&url, b"\x30\x00", Duration::from_millis(300)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
    drop(listener);
}

#[test]
fn make_pki_writes_every_file() {
    require_openssl();
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    make_pki(&pki).unwrap();
    for file in PKI_FILES {
        let path = pki.join(file);
        let len = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .len();
        assert!(len > 0, "{} is empty", path.display());
    }
    // The same files as the fixed PKI, plus the RSA and Ed25519 keys.
    for entry in std::fs::read_dir(pki_dir()).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            pki.join(&name).is_file(),
            "make-pki.sh does not write {name:?}"
        );
    }
    let extra: Vec<_> = std::fs::read_dir(&pki)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !PKI_FILES.contains(&n.as_str()))
        .collect();
    assert!(extra.is_empty(), "unexpected files: {extra:?}");

    // The chain verifies, and the keys are what they should be.
    let root = pki.join("root.crt");
    let ca = pki.join("ca.crt");
    for cert in ["server.crt", "ee.crt", "issued.crt"] {
        let out = cmp_tests::run_openssl(
            &[
                "verify",
                "-CAfile",
                root.to_str().unwrap(),
                "-untrusted",
                ca.to_str().unwrap(),
                pki.join(cert).to_str().unwrap(),
            ],
            TIMEOUT,
        )
        .unwrap();
        assert!(
            out.status.success(),
            "{cert}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for (key, expect) in [
        ("rsa.key", "2048 bit"),
        ("ed25519.key", "ED25519"),
        ("new.key", "prime256v1"),
    ] {
        let out = cmp_tests::run_openssl(
            &[
                "pkey",
                "-in",
                pki.join(key).to_str().unwrap(),
                "-noout",
                "-text",
            ],
            TIMEOUT,
        )
        .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(expect), "{key}: {text}");
    }

    // And the mock server runs with it.
    let server = MockServer::start_with_pki(&pki, Mode::Sig, &[]).unwrap();
    assert_ne!(server.port, 0);
}
