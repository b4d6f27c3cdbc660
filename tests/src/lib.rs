//! Shared helpers for the cross-crate tests.
//!
//! * fixed vectors: [`vectors_dir`], [`pki_dir`], [`read_vector`],
//!   [`vector_names`] — DER PKIMessages captured from OpenSSL 3.0 and the test
//!   PKI they were made with (`tests/vectors/`, see its README);
//! * OpenSSL: [`openssl_available`], [`run_openssl`], [`run_openssl_cmp`],
//!   [`make_pki`] — the `openssl` command line tool and the scripts in
//!   `tests/interop/`;
//! * [`MockServer`] — OpenSSL's `openssl cmp` mock server on loopback, for
//!   the lifetime of a value;
//! * [`http_post_pkixcmp`] — a minimal blocking HTTP/1.1 client that only
//!   talks to loopback addresses.
//!
//! Helpers return [`std::io::Result`]; the few that panic instead (marked
//! "Panics") are test scaffolding whose failure should fail the test.

mod http;
mod mock;
mod openssl;

use std::fs;
use std::io;
use std::path::PathBuf;

pub use http::{HttpResponse, PKIXCMP_CONTENT_TYPE, http_post, http_post_pkixcmp};
pub use mock::{MAC_REFERENCE, MAC_SECRET, MockServer, Mode};
pub use openssl::{
    PKI_FILES, make_pki, openssl_available, run_openssl, run_openssl_cmp, try_run_openssl_cmp,
};

/// The `tests/` directory of the workspace (this crate's manifest directory).
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/vectors`: the fixed DER message vectors captured from OpenSSL 3.0.
pub fn vectors_dir() -> PathBuf {
    tests_dir().join("vectors")
}

/// `tests/vectors/pki`: the fixed test PKI the vectors were captured with.
///
/// [`MockServer::start`] uses it, so keys and certificates in the vectors and
/// in live exchanges with the mock server match.
pub fn pki_dir() -> PathBuf {
    vectors_dir().join("pki")
}

/// `tests/interop`: the shell scripts driving the `openssl` tool.
pub fn interop_dir() -> PathBuf {
    tests_dir().join("interop")
}

/// Reads `tests/vectors/NAME` (`name` without directory, e.g.
/// `"ir-pbm.1.req.der"`; `".der"` is appended when missing).
///
/// # Errors
/// When the file cannot be read, or `name` is not a plain file name.
pub fn try_read_vector(name: &str) -> io::Result<Vec<u8>> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a vector name: {name:?}"),
        ));
    }
    let file = if name.ends_with(".der") {
        name.to_owned()
    } else {
        format!("{name}.der")
    };
    let path = vectors_dir().join(file);
    fs::read(&path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Reads `tests/vectors/NAME` (see [`try_read_vector`]).
///
/// # Panics
/// When the vector cannot be read: a missing vector is a broken test.
#[allow(clippy::panic)]
pub fn read_vector(name: &str) -> Vec<u8> {
    match try_read_vector(name) {
        Ok(bytes) => bytes,
        Err(e) => panic!("cannot read test vector {name:?}: {e}"),
    }
}

/// The names of all vectors: every `tests/vectors/*.der` without the `.der`
/// (e.g. `"ir-pbm.1.req"`), sorted.
///
/// # Panics
/// When `tests/vectors` cannot be listed.
#[allow(clippy::panic)]
pub fn vector_names() -> Vec<String> {
    let dir = vectors_dir();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => panic!("cannot list {}: {e}", dir.display()),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| {
            entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".der"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}
