//! OpenSSL's CMP mock server (`openssl cmp -port ...`) as a test fixture.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::openssl::wait_until;
use crate::{interop_dir, pki_dir};

/// The sender KID (reference) the mock server expects in `mac` mode.
pub const MAC_REFERENCE: &str = "1234";
/// The shared secret of the mock server in `mac` mode.
pub const MAC_SECRET: &str = "1234-5678";

/// How long a mock server may live at most, even if never stopped (a guard
/// against stray servers when a test run is killed).
const LIFETIME_SECS: &str = "900";

/// How the mock server protects its messages and checks requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// PasswordBasedMac with reference [`MAC_REFERENCE`] and secret
    /// [`MAC_SECRET`], both ways.
    Mac,
    /// Responses signed with `server.key`; requests must be signed by a
    /// certificate chaining to `root.crt` (through `ca.crt`).
    Sig,
}

impl Mode {
    /// The mode argument of `mock-server.sh`: `"mac"` or `"sig"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Mac => "mac",
            Mode::Sig => "sig",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A running `openssl cmp` mock server on loopback, started by
/// `tests/interop/mock-server.sh`; stopped (killed and reaped) on drop.
///
/// It answers every enrollment with `issued.crt` of its PKI (so clients must
/// enroll with `issued.key`), handles one connection at a time, and is
/// reached at [`url`](Self::url). When dropped during a panic, its log is
/// printed to stderr and the log file is kept.
#[derive(Debug)]
pub struct MockServer {
    /// The TCP port it listens on.
    pub port: u16,
    /// Process id the script printed (see [`MockServer::pid`]).
    pid: u32,
    /// The script, which stays the server's parent until it exits.
    script: Child,
    mode: Mode,
    log_path: PathBuf,
}

impl MockServer {
    /// Starts a mock server with the fixed test PKI (`tests/vectors/pki`,
    /// the one the vectors were captured with) on a port the system chooses.
    /// `extra_args` go to `openssl cmp` unchanged (e.g.
    /// `&["-poll_count", "2", "-check_after", "1"]`).
    ///
    /// # Errors
    /// When the script cannot be run or the server does not come up; the
    /// message carries the script's and OpenSSL's output.
    pub fn start(mode: Mode, extra_args: &[&str]) -> io::Result<MockServer> {
        Self::start_with_pki(&pki_dir(), mode, extra_args)
    }

    /// As [`start`](Self::start), with the PKI in `pki` (made by
    /// [`make_pki`](crate::make_pki)) instead of the fixed one.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn start_with_pki(pki: &Path, mode: Mode, extra_args: &[&str]) -> io::Result<MockServer> {
        let log_path = new_log_file()?;
        let spawned = Command::new("bash")
            .arg(interop_dir().join("mock-server.sh"))
            .arg(pki)
            .arg("0")
            .arg(mode.as_str())
            .args(extra_args)
            .env("MOCK_LOG", &log_path)
            .env("MOCK_FOREGROUND", "1")
            .env("MOCK_LIFETIME", LIFETIME_SECS)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut script = match spawned {
            Ok(child) => child,
            Err(e) => {
                let _ = fs::remove_file(&log_path);
                return Err(io::Error::new(
                    e.kind(),
                    format!("running mock-server.sh: {e}"),
                ));
            }
        };

        // The script prints "PID PORT" once the server listens, then closes
        // its stdout; on failure it prints nothing and exits.
        let mut line = String::new();
        let read = match script.stdout.take() {
            Some(stdout) => BufReader::new(stdout).read_line(&mut line),
            None => Ok(0),
        };
        match read.and_then(|_| parse_pid_port(&line)) {
            Ok((pid, port)) => Ok(MockServer {
                port,
                pid,
                script,
                mode,
                log_path,
            }),
            Err(e) => {
                let status = wait_until(&mut script, Instant::now() + Duration::from_secs(10));
                let mut stderr = String::new();
                if let Some(mut pipe) = script.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                let log = fs::read_to_string(&log_path).unwrap_or_default();
                let _ = fs::remove_file(&log_path);
                Err(io::Error::other(format!(
                    "mock server ({mode}) did not start: {e}; script exit: {status:?}; \
                     stdout: {line:?}; stderr: {stderr}; log: {log}"
                )))
            }
        }
    }

    /// The CMP endpoint: `http://127.0.0.1:PORT/pkix/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/pkix/", self.port)
    }

    /// The server address in the form `openssl cmp -server` takes:
    /// `127.0.0.1:PORT/pkix/`.
    pub fn server_arg(&self) -> String {
        format!("127.0.0.1:{}/pkix/", self.port)
    }

    /// The mode it was started in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The process id the script printed: the `openssl` server, or the
    /// `timeout` wrapper that limits its lifetime (which passes signals on).
    /// Either way, the process exists exactly as long as the server runs.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Path of the file the server logs to (its stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// What the server has logged so far (one line per request received,
    /// plus OpenSSL's errors), for printing when a test fails.
    pub fn log(&self) -> String {
        match fs::read(&self.log_path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => format!("(cannot read {}: {e})", self.log_path.display()),
        }
    }

    /// Sends a signal to the server process (`sh`'s `kill -s SIGNAL PID`).
    fn signal(&self, signal: &str) {
        let _ = Command::new("sh")
            .args(["-c", "kill -s \"$1\" \"$2\" 2>/dev/null", "sh", signal])
            .arg(self.pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // The script waits for the server and exits right after it, so
        // reaping the script means the server is gone.
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        if !matches!(wait_until_quiet(&mut self.script, deadline), Some(true)) {
            self.signal("KILL");
            let _ = self.script.kill();
            let _ = self.script.wait();
        }
        if thread::panicking() {
            eprintln!(
                "--- mock server ({}, port {}) log, kept in {} ---\n{}--- end of mock server log ---",
                self.mode,
                self.port,
                self.log_path.display(),
                self.log()
            );
        } else {
            let _ = fs::remove_file(&self.log_path);
        }
    }
}

/// Like [`wait_until`], but without killing: `Some(true)` once the child has
/// exited, `Some(false)` past the deadline, `None` on error.
fn wait_until_quiet(child: &mut Child, deadline: Instant) -> Option<bool> {
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return Some(true),
            Ok(None) if Instant::now() >= deadline => return Some(false),
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(_) => return None,
        }
    }
}

fn parse_pid_port(line: &str) -> io::Result<(u32, u16)> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("expected \"PID PORT\" from mock-server.sh, got {line:?}"),
        )
    };
    let mut fields = line.split_whitespace();
    let pid: u32 = fields.next().and_then(|f| f.parse().ok()).ok_or_else(bad)?;
    let port: u16 = fields.next().and_then(|f| f.parse().ok()).ok_or_else(bad)?;
    if fields.next().is_some() || pid == 0 || port == 0 {
        return Err(bad());
    }
    Ok((pid, port))
}

/// Creates a new, empty log file in the temporary directory.
fn new_log_file() -> io::Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir();
    let mut attempt = 0;
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(
            "cmp-tests-mock-{}-{n}-{nanos:x}.log",
            std::process::id()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pid_port_line() {
        assert_eq!(parse_pid_port("123 4567\n").unwrap(), (123, 4567));
        for bad in ["", "\n", "123", "123 0", "x 1", "1 2 3", "1 70000"] {
            assert!(parse_pid_port(bad).is_err(), "{bad:?}");
        }
    }
}
