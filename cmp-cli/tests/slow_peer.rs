//! A hostile or broken server over HTTP: one that accepts and never
//! answers, one that trickles a byte per second, and ones that send an
//! endless body. The `cmp` client gives up at its deadline with the typed
//! timeout error (`CMP_TIMEOUT`, exit 4), or at the body size cap, and
//! never hangs or grows without bound.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// No `cmp` run may take longer than this.
const WATCHDOG: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Run {
    code: i32,
    stderr: String,
    elapsed: Duration,
}

/// `cmp genm` against `port` with these timeout options.
fn genm(port: u16, timeouts: &[&str]) -> Run {
    let url = format!("http://127.0.0.1:{port}/pkix/");
    let mut args = vec![
        "genm", "--server", &url, "--ref", "1234", "--secret", "pass:x",
    ];
    args.extend_from_slice(timeouts);
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cmp"))
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
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
    Run {
        code: status.code().unwrap_or(-1),
        stderr: err_reader.join().unwrap(),
        elapsed: started.elapsed(),
    }
}

/// A loopback server that accepts one connection, reads the request head,
/// and then behaves as `serve` says. Returns its port and thread.
fn server(serve: impl FnOnce(TcpStream) + Send + 'static) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // read until the end of the request head (the body is small)
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        serve(stream);
    });
    (port, handle)
}

/// Wait until the client has closed the connection.
fn until_closed(mut stream: TcpStream) {
    let mut buf = [0u8; 1024];
    stream
        .set_read_timeout(Some(WATCHDOG))
        .expect("setting a timeout");
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

fn assert_timed_out(r: &Run, deadline: Duration) {
    assert_eq!(r.code, 4, "{r:?}");
    assert_eq!(
        r.stderr, "cmp: CMP_TIMEOUT: deadline passed (the server did not answer in time)\n",
        "{r:?}"
    );
    assert!(r.elapsed >= deadline, "gave up early: {r:?}");
    assert!(r.elapsed < deadline + Duration::from_secs(3), "{r:?}");
}

#[test]
fn silent_server_hits_the_message_timeout() {
    let (port, handle) = server(until_closed);
    let r = genm(port, &["--msg-timeout", "2"]);
    assert_timed_out(&r, Duration::from_secs(2));
    handle.join().unwrap();
}

#[test]
fn silent_server_hits_the_total_timeout_first() {
    let (port, handle) = server(until_closed);
    let r = genm(port, &["--msg-timeout", "120", "--timeout", "1"]);
    assert_timed_out(&r, Duration::from_secs(1));
    handle.join().unwrap();
}

#[test]
fn trickling_server_cannot_stretch_the_deadline() {
    // one byte per second: every read succeeds, yet the deadline holds
    let (port, handle) = server(|mut stream| {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\n\r\n";
        for b in head.iter().chain(std::iter::repeat_n(&b'x', 60)) {
            if stream.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let r = genm(port, &["--msg-timeout", "3"]);
    assert_timed_out(&r, Duration::from_secs(3));
    handle.join().unwrap();
}

/// Send `head`, then `chunk` forever (until the client goes away).
fn endless(head: &'static [u8], chunk: &'static [u8]) -> impl FnOnce(TcpStream) + Send {
    move |mut stream| {
        if stream.write_all(head).is_err() {
            return;
        }
        let started = Instant::now();
        while stream.write_all(chunk).is_ok() && started.elapsed() < WATCHDOG {}
    }
}

#[test]
fn endless_body_stops_at_the_size_cap() {
    static CHUNK: [u8; 65536] = [0x30; 65536];
    for head in [
        // until EOF, which never comes
        &b"HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\n\r\n"[..],
        // a Content-Length far beyond the cap
        b"HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\nContent-Length: 99999999999\r\n\r\n",
    ] {
        let (port, handle) = server(endless(head, &CHUNK));
        let r = genm(port, &["--msg-timeout", "30"]);
        assert_eq!(r.code, 4, "{r:?}");
        assert!(r.stderr.starts_with("cmp: CMP_TRANSPORT: "), "{r:?}");
        assert!(
            r.stderr.contains("larger than") || r.stderr.contains("exceeds the limit"),
            "{r:?}"
        );
        assert!(r.elapsed < Duration::from_secs(20), "{r:?}");
        handle.join().unwrap();
    }
}

#[test]
fn endless_chunked_body_stops_at_the_size_cap() {
    // chunks of 32 KiB, one after the other: a valid chunked body that
    // never ends
    let (port, handle) = server(|mut stream| {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\nTransfer-Encoding: chunked\r\n\r\n";
        if stream.write_all(head).is_err() {
            return;
        }
        let piece = [b'x'; 0x8000];
        let started = Instant::now();
        while started.elapsed() < WATCHDOG
            && stream.write_all(b"8000\r\n").is_ok()
            && stream.write_all(&piece).is_ok()
            && stream.write_all(b"\r\n").is_ok()
        {}
    });
    let r = genm(port, &["--msg-timeout", "30"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.stderr.starts_with("cmp: CMP_TRANSPORT: "), "{r:?}");
    assert!(r.stderr.contains("larger than"), "{r:?}");
    assert!(r.elapsed < Duration::from_secs(20), "{r:?}");
    handle.join().unwrap();
}
