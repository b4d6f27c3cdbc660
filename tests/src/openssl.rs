//! Running the `openssl` command line tool and the interop scripts.

use std::io::{self, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::interop_dir;

/// Files [`make_pki`] (`tests/interop/make-pki.sh`) writes into its
/// directory.
pub const PKI_FILES: &[&str] = &[
    "root.key",
    "root.crt",
    "ca.key",
    "ca.crt",
    "server.key",
    "server.crt",
    "ee.key",
    "ee.crt",
    "issued.key",
    "issued.crt",
    "new.key",
    "csr.der",
    "chain.crt",
    "rsa.key",
    "ed25519.key",
];

/// How long [`run_openssl_cmp`] lets an `openssl cmp` client run.
const CMP_CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether the `openssl` tool can be run (`openssl version` succeeds).
pub fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `openssl ARGS...` with stdin closed and collects its output; kills
/// it if it is still running after `timeout`.
///
/// A non-zero exit is not an error: look at `Output::status`.
///
/// # Errors
/// When `openssl` cannot be started, or it ran out of time
/// ([`io::ErrorKind::TimedOut`], the message carries what it printed).
pub fn run_openssl(args: &[&str], timeout: Duration) -> io::Result<Output> {
    let mut command = Command::new("openssl");
    command.args(args);
    run_with_timeout(command, timeout)
}

/// Runs `openssl cmp ARGS...` (e.g. an OpenSSL client against a
/// [`MockServer`](crate::MockServer) or against a server of ours), killing it
/// after two minutes.
///
/// # Errors
/// As [`run_openssl`].
pub fn try_run_openssl_cmp(args: &[&str]) -> io::Result<Output> {
    let mut command = Command::new("openssl");
    command.arg("cmp").args(args);
    run_with_timeout(command, CMP_CLIENT_TIMEOUT)
}

/// Runs `openssl cmp ARGS...` and returns its output (see
/// [`try_run_openssl_cmp`]); a failing exchange is a non-zero
/// `Output::status`, with OpenSSL's reasons in `Output::stderr`.
///
/// # Panics
/// When `openssl` cannot be run at all or runs for more than two minutes:
/// OpenSSL is a hard requirement of the interop tests.
#[allow(clippy::panic)]
pub fn run_openssl_cmp(args: &[&str]) -> Output {
    match try_run_openssl_cmp(args) {
        Ok(output) => output,
        Err(e) => panic!("cannot run `openssl cmp {}`: {e}", args.join(" ")),
    }
}

/// Builds a fresh test PKI in `dir` with `tests/interop/make-pki.sh` (see
/// [`PKI_FILES`]). Takes a few seconds (RSA key generation).
///
/// # Errors
/// When the script cannot be run or fails (its stderr is in the message).
pub fn make_pki(dir: &Path) -> io::Result<()> {
    let mut command = Command::new("bash");
    command.arg(interop_dir().join("make-pki.sh")).arg(dir);
    let output = run_with_timeout(command, Duration::from_secs(120))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "make-pki.sh {} failed ({}): {}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// Spawns `command` with piped output and waits at most `timeout` for it.
pub(crate) fn run_with_timeout(mut command: Command, timeout: Duration) -> io::Result<Output> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_until(&mut child, Instant::now() + timeout)?;
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{:?} killed after {timeout:?}; stdout: {}; stderr: {}",
                command.get_program(),
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            ),
        )),
    }
}

/// Reads a pipe to its end on a separate thread.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error only truncates the captured output.
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

/// Waits for `child` until `deadline`; past it, kills and reaps the child and
/// returns `None`.
pub(crate) fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            // It may have exited in between; either way reap it.
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(10));
    }
}
