//! The CLI's life-cycle additions end to end: enrollment through files
//! (`--server file:DIR` against `cmp serve --spool DIR`), cross-certification
//! (`cmp ccr`), and root CA key update announcements (`cmp announce` /
//! `cmp check-announcement`); results checked with OpenSSL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use cmp_tests::run_openssl;

const REF: &str = "4711";
const SECRET: &str = "pass:offline-secret";

/// A `cmp serve` process, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cmp"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--ref",
                REF,
                "--secret",
                SECRET,
            ])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start cmp serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("cmp serve did not start: {other:?}");
            }
        };
        let port = line
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix("/.well-known/cmp"))
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/.well-known/cmp", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cmp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cmp"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run cmp")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

fn openssl_ok(args: &[&str]) -> String {
    let out = run_openssl(args, Duration::from_secs(30)).unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn enrollment_entirely_through_files() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = tmp.path().join("spool");
    std::fs::create_dir(&spool).unwrap();
    let root = tmp.path().join("root.pem");
    let server = Server::start(&["--spool", &p(&spool), "--root-out", &p(&root)]);

    let cert = tmp.path().join("cert.pem");
    let chain = tmp.path().join("chain.pem");
    let key = tmp.path().join("key.pem");
    let out = cmp(&[
        "ir",
        "--server",
        &format!("file:{}", spool.display()),
        "--ref",
        REF,
        "--secret",
        SECRET,
        "--subject",
        "/CN=offline device",
        "--keyout",
        &p(&key),
        "--certout",
        &p(&cert),
        "--chainout",
        &p(&chain),
        "--timeout",
        "60",
        "-v",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let log = String::from_utf8_lossy(&out.stderr);
    // ir → ip, then certConf → pkiConf: two exchanges through the directory
    assert!(log.contains("(ir, "), "{log}");
    assert!(log.contains("(ip, "), "{log}");
    assert!(log.contains("(certConf, "), "{log}");
    assert!(log.contains("(pkiconf, "), "{log}");
    // the client cleans up after itself
    let left: Vec<_> = std::fs::read_dir(&spool).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
    // the certificate verifies with OpenSSL up to the server's root
    let verified = openssl_ok(&[
        "verify",
        "-CAfile",
        &p(&root),
        "-untrusted",
        &p(&chain),
        &p(&cert),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
    drop(server);
}

#[test]
fn file_exchange_without_an_answer_times_out_and_keeps_the_request() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cmp(&[
        "ir",
        "--server",
        &format!("file:{}", tmp.path().display()),
        "--ref",
        REF,
        "--secret",
        SECRET,
        "--subject",
        "/CN=nobody answers",
        "--msg-timeout",
        "1",
    ]);
    // exit status 4: transport failure
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].ends_with("-01.req.der"), "{left:?}");

    let missing = cmp(&[
        "ir",
        "--server",
        &format!("file:{}/absent", tmp.path().display()),
        "--ref",
        REF,
        "--secret",
        SECRET,
    ]);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
}

#[test]
fn cross_certification_with_cmp_ccr() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root.pem");
    let server = Server::start(&["--root-out", &p(&root)]);
    let cross = tmp.path().join("cross.pem");
    let chain = tmp.path().join("chain.pem");
    let out = cmp(&[
        "ccr",
        "--server",
        &server.url(),
        "--ref",
        REF,
        "--secret",
        SECRET,
        "--subject",
        "/CN=Partner CA/O=Partner",
        "--keyout",
        &p(&tmp.path().join("partner.key")),
        "--certout",
        &p(&cross),
        "--chainout",
        &p(&chain),
        "-v",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("(ccr, "), "{log}");
    assert!(log.contains("(ccp, "), "{log}");
    assert!(log.contains("(pkiconf, "), "{log}");
    let dump = openssl_ok(&["x509", "-in", &p(&cross), "-noout", "-text"]);
    assert!(dump.contains("CA:TRUE, pathlen:0"), "{dump}");
    assert!(dump.contains("Certificate Sign"), "{dump}");
    assert!(dump.contains("CN = Partner CA"), "{dump}");
    let verified = openssl_ok(&[
        "verify",
        "-CAfile",
        &p(&root),
        "-untrusted",
        &p(&chain),
        &p(&cross),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
}

/// An OpenSSL-made self-signed root: (certificate, key) paths.
fn openssl_root(dir: &Path, name: &str) -> (String, String) {
    // no spaces in file names: `openssl cmp -trusted` takes a list
    let file = name.replace(' ', "_");
    let cert = dir.join(format!("{file}.pem"));
    let key = dir.join(format!("{file}.key"));
    openssl_ok(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &p(&key),
        "-out",
        &p(&cert),
        "-subj",
        &format!("/CN={name}"),
        "-days",
        "30",
    ]);
    (p(&cert), p(&key))
}

#[test]
fn root_key_update_announced_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (root, root_key) = openssl_root(d, "Old Root");
    let ann = p(&d.join("ckuann.der"));
    let (nwn, nwo, own) = (
        p(&d.join("nwn.pem")),
        p(&d.join("nwo.pem")),
        p(&d.join("own.pem")),
    );
    // The root announces its own key update, signing with the old key.
    let out = cmp(&[
        "announce",
        "root-update",
        "--root-cert",
        &root,
        "--root-key",
        &root_key,
        "--keyout",
        &p(&d.join("new.key")),
        "--newwithnew",
        &nwn,
        "--newwithold",
        &nwo,
        "--oldwithnew",
        &own,
        "--cert",
        &root,
        "--key",
        &root_key,
        "--out",
        &ann,
    ]);
    assert!(out.status.success(), "{}", text(&out));

    // OpenSSL agrees with the three links.
    openssl_ok(&["verify", "-CAfile", &nwn, &nwn]);
    openssl_ok(&["verify", "-CAfile", &root, &nwo]);
    openssl_ok(&["verify", "-CAfile", &nwn, &own]);
    assert!(
        !run_openssl(&["verify", "-CAfile", &root, &nwn], Duration::from_secs(30))
            .unwrap()
            .status
            .success()
    );

    // The end entity trusting the old root accepts it and gets the new anchor.
    let got = p(&d.join("got.pem"));
    let out = cmp(&[
        "check-announcement",
        "--in",
        &ann,
        "--trusted",
        &root,
        "--newroot-out",
        &got,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("install the new trust anchor"));
    assert_eq!(std::fs::read(&got).unwrap(), std::fs::read(&nwn).unwrap());

    // One trusting another root refuses it: validation failure, exit 3.
    let (other, _) = openssl_root(d, "Other Root");
    let out = cmp(&["check-announcement", "--in", &ann, "--trusted", &other]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CMP_SIGNER_NOT_TRUSTED"),
        "{}",
        text(&out)
    );
}

#[test]
fn certificate_and_crl_announcements_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (root, root_key) = openssl_root(d, "Ann Root");
    // an end-entity certificate and an empty CRL, both by OpenSSL
    let ee_key = p(&d.join("ee.key"));
    let csr = p(&d.join("ee.csr"));
    openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &ee_key,
        "-out",
        &csr,
        "-subj",
        "/CN=announced",
    ]);
    let ee = p(&d.join("ee.pem"));
    openssl_ok(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &root,
        "-CAkey",
        &root_key,
        "-CAcreateserial",
        "-out",
        &ee,
        "-days",
        "10",
    ]);
    let cann = p(&d.join("cann.der"));
    let out = cmp(&[
        "announce", "cert", "--certin", &ee, "--cert", &root, "--key", &root_key, "--out", &cann,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let got = p(&d.join("got.pem"));
    let out = cmp(&[
        "check-announcement",
        "--in",
        &cann,
        "--trusted",
        &root,
        "--certout",
        &got,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("certificate announced: CN=announced"));
    assert_eq!(
        openssl_ok(&["x509", "-in", &got, "-noout", "-fingerprint"]),
        openssl_ok(&["x509", "-in", &ee, "-noout", "-fingerprint"])
    );

    // a CRL signed by the root with OpenSSL's ca command
    std::fs::write(d.join("index.txt"), b"").unwrap();
    std::fs::write(d.join("crlnumber"), b"01\n").unwrap();
    let conf = d.join("ca.cnf");
    std::fs::write(
        &conf,
        format!(
            "[ca]\ndefault_ca = x\n[x]\ndatabase = {}\ncrlnumber = {}\ndefault_md = sha256\ndefault_crl_days = 1\n",
            d.join("index.txt").display(),
            d.join("crlnumber").display()
        ),
    )
    .unwrap();
    let crl = p(&d.join("root.crl"));
    openssl_ok(&[
        "ca",
        "-gencrl",
        "-config",
        &p(&conf),
        "-cert",
        &root,
        "-keyfile",
        &root_key,
        "-out",
        &crl,
    ]);
    let crlann = p(&d.join("crlann.der"));
    let out = cmp(&[
        "announce", "crl", "--crlin", &crl, "--cert", &root, "--key", &root_key, "--out", &crlann,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = cmp(&["check-announcement", "--in", &crlann, "--trusted", &root]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 CRL(s) announced"));
    // OpenSSL decodes it and verifies its protection too
    let log = openssl_reads(&crlann, &root);
    assert!(
        log.contains("unexpected pkibody:message type is 'CRLANN'"),
        "{log}"
    );

    // rann: revocation warning
    let rann = p(&d.join("rann.der"));
    let out = cmp(&[
        "announce",
        "revocation",
        "--certin",
        &ee,
        "--after",
        "3600",
        "--cert",
        &root,
        "--key",
        &root_key,
        "--out",
        &rann,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = cmp(&["check-announcement", "--in", &rann, "--trusted", &root]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("certificate to be revoked"));
}

#[test]
fn root_update_offered_by_cmp_serve_and_checked_by_cmp_genm() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (root, root_key) = openssl_root(d, "Served Root");
    let (nwn, nwo, own) = (
        p(&d.join("nwn.pem")),
        p(&d.join("nwo.pem")),
        p(&d.join("own.pem")),
    );
    let out = cmp(&[
        "announce",
        "root-update",
        "--root-cert",
        &root,
        "--root-key",
        &root_key,
        "--keyout",
        &p(&d.join("new.key")),
        "--newwithnew",
        &nwn,
        "--newwithold",
        &nwo,
        "--oldwithnew",
        &own,
        "--cert",
        &root,
        "--key",
        &root_key,
        "--out",
        &p(&d.join("unused.der")),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let read = |f: &str| std::fs::read_to_string(f).unwrap();
    let bundle = d.join("update.pem");
    std::fs::write(&bundle, read(&nwn) + &read(&nwo) + &read(&own)).unwrap();
    let broken = d.join("broken.pem");
    std::fs::write(&broken, read(&nwn) + &read(&own)).unwrap();

    let server = Server::start(&["--root-update", &p(&bundle)]);
    let got = p(&d.join("got.pem"));
    let url = server.url();
    let genm = |extra: &[&str]| {
        let mut args = vec![
            "genm",
            "--server",
            &url,
            "--ref",
            REF,
            "--secret",
            SECRET,
            "--genm-type",
            "rootCaKeyUpdate",
        ];
        args.extend_from_slice(extra);
        cmp(&args)
    };
    let out = genm(&["--oldwithold", &root, "--newwithnew", &got]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("checked: newWithOld links"),
        "{}",
        text(&out)
    );
    assert_eq!(read(&got), read(&nwn));
    // a client that already has the new root is told there is no update
    let out = genm(&["--oldwithold", &nwn]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no update available"),
        "{}",
        text(&out)
    );
    drop(server);

    // an update whose newWithOld the old root did not sign is refused
    let server = Server::start(&["--root-update", &p(&broken)]);
    let out = cmp(&[
        "genm",
        "--server",
        &server.url(),
        "--ref",
        REF,
        "--secret",
        SECRET,
        "--genm-type",
        "rootCaKeyUpdate",
        "--oldwithold",
        &root,
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("CMP_NEW_WITH_OLD_SIGNATURE"),
        "{}",
        text(&out)
    );
}

/// What `openssl cmp` says when it reads `file` as the answer to a genm.
fn openssl_reads(file: &str, trusted: &str) -> String {
    let out = run_openssl(
        &[
            "cmp",
            "-cmd",
            "genm",
            "-server",
            "127.0.0.1:1/unused",
            "-rspin",
            file,
            "-trusted",
            trusted,
            "-ref",
            "unused",
            "-secret",
            "pass:unused",
        ],
        Duration::from_secs(30),
    )
    .unwrap();
    // it never accepts an announcement as a genp
    assert!(!out.status.success());
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn openssl_decodes_our_announcements_and_verifies_their_protection() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (root, root_key) = openssl_root(d, "Interop Root");
    let (other, _) = openssl_root(d, "Unrelated Root");
    let signer = ["--cert", &root, "--key", &root_key];
    let file = |name: &str| p(&d.join(name));
    let make = |args: &[&str], out: &str| {
        let mut all = args.to_vec();
        all.extend_from_slice(&signer);
        all.extend_from_slice(&["--out", out]);
        let o = cmp(&all);
        assert!(o.status.success(), "{}", text(&o));
    };
    // OpenSSL 3.0 implements RFC 4210: the V2 form of ckuann
    let new_key = file("new.key");
    make(
        &[
            "announce",
            "root-update",
            "--v2",
            "--root-cert",
            &root,
            "--root-key",
            &root_key,
            "--keyout",
            &new_key,
        ],
        &file("ckuann.der"),
    );
    make(&["announce", "cert", "--certin", &root], &file("cann.der"));
    make(
        &["announce", "revocation", "--certin", &root, "--done"],
        &file("rann.der"),
    );

    for (name, body) in [
        ("ckuann.der", "CKUANN"),
        ("cann.der", "CANN"),
        ("rann.der", "RANN"),
    ] {
        // trusted: decoded, protection verified, then refused as the wrong body
        let log = openssl_reads(&file(name), &root);
        assert!(
            log.contains(&format!("unexpected pkibody:message type is '{body}'")),
            "{name}: {log}"
        );
        assert!(!log.contains("validating"), "{name}: {log}");
        // another anchor: the protection does not validate
        let log = openssl_reads(&file(name), &other);
        assert!(
            log.contains("certificate verification failed"),
            "{name}: {log}"
        );
    }
}

#[test]
fn spool_answers_garbage_with_an_error_and_sets_oversized_files_aside() {
    use cmp_core::Limits;
    use cmp_core::asn1::BodyType;
    use cmp_core::message::ParsedMessage;

    let tmp = tempfile::tempdir().unwrap();
    let spool = tmp.path();
    let server = Server::start(&["--spool", &p(spool)]);
    // written as the file exchange asks: to a hidden name, then renamed, so
    // the server never reads half a file
    let put = |name: &str, bytes: &[u8]| {
        let tmp = spool.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, spool.join(name)).unwrap();
    };
    put("junk-01.req.der", b"not a PKIMessage");
    put("huge-01.req.der", &vec![0x30u8; (1 << 20) + 1]);
    // not a request: ignored
    std::fs::write(spool.join("notes.txt"), b"hello").unwrap();

    let answer = spool.join("junk-01.rsp.der");
    let set_aside = spool.join("huge-01.req.failed");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !(answer.exists() && set_aside.exists()) {
        assert!(std::time::Instant::now() < deadline, "no answer in time");
        thread::sleep(Duration::from_millis(50));
    }
    let reply = std::fs::read(&answer).unwrap();
    let msg = ParsedMessage::decode(&reply, &Limits::DEFAULT).unwrap();
    assert_eq!(msg.body_type(), BodyType::Error);
    assert!(!spool.join("huge-01.rsp.der").exists());
    assert!(!spool.join("notes.rsp.der").exists());
    drop(server);
}

#[test]
fn a_cross_certified_partner_ca_is_trusted_by_openssl_through_the_cross_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (root, root_key) = openssl_root(d, "Serving Root");
    // the root itself serves: no path length limit above the cross-certificate
    let server = Server::start(&["--ca-cert", &root, "--ca-key", &root_key]);
    let partner_key = p(&d.join("partner.key"));
    let cross = p(&d.join("cross.pem"));
    let out = cmp(&[
        "ccr",
        "--server",
        &server.url(),
        "--ref",
        REF,
        "--secret",
        SECRET,
        "--subject",
        "/CN=Partner CA",
        "--keyout",
        &partner_key,
        "--certout",
        &cross,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    drop(server);

    // the partner CA issues with the key it had cross-certified (OpenSSL)
    let csr = p(&d.join("ee.csr"));
    openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &p(&d.join("ee.key")),
        "-out",
        &csr,
        "-subj",
        "/CN=partner device",
    ]);
    let ee = p(&d.join("ee.pem"));
    openssl_ok(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &cross,
        "-CAkey",
        &partner_key,
        "-CAcreateserial",
        "-out",
        &ee,
        "-days",
        "10",
    ]);
    // a relying party of the serving root accepts it through the cross-certificate
    let verified = openssl_ok(&["verify", "-CAfile", &root, "-untrusted", &cross, &ee]);
    assert!(verified.contains(": OK"), "{verified}");
    let refused = run_openssl(&["verify", "-CAfile", &root, &ee], Duration::from_secs(30)).unwrap();
    assert!(!refused.status.success());
}
