//! The command's error type, its one-line rendering and its exit codes.
//!
//! Exit codes (documented in `--help`):
//!
//! | code | meaning |
//! | ---- | ------- |
//! | 0 | success |
//! | 1 | usage or local error (arguments, files, our own configuration) |
//! | 2 | the server rejected the request (error message, rejection status) |
//! | 3 | a response failed protection or validation checks |
//! | 4 | transport failure (connection, HTTP, timeout) |

use std::fmt;
use std::process::ExitCode;

use cmp_core::ErrorKind;

/// Exit code: usage or local error.
pub(crate) const EXIT_LOCAL: u8 = 1;
/// Exit code: the server rejected the request.
pub(crate) const EXIT_PEER: u8 = 2;
/// Exit code: a response failed protection or validation checks.
pub(crate) const EXIT_VALIDATION: u8 = 3;
/// Exit code: transport failure.
pub(crate) const EXIT_TRANSPORT: u8 = 4;

/// Everything a subcommand can fail with.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Bad or inconsistent arguments.
    Usage(String),
    /// A file could not be read, parsed or written.
    Io(String),
    /// The HTTP exchange failed (connection, status, content type, timeout).
    Transport(String),
    /// The CMP library reported an error.
    Cmp(Box<cmp_core::Error>),
    /// A library error with a hint on the likely cause.
    Hinted(Box<cmp_core::Error>, &'static str),
    /// An announcement failed its checks.
    Announce(Box<cmp_core::announce::AnnounceError>),
    /// The transaction ended in a state the library should not allow.
    Internal(String),
}

impl CliError {
    /// The stable symbolic name printed after `cmp: `.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Usage(_) => "CMP_USAGE",
            Self::Io(_) => "CMP_IO",
            Self::Transport(_) => "CMP_TRANSPORT",
            Self::Cmp(e) | Self::Hinted(e, _) => e.name(),
            Self::Announce(e) => e.name(),
            Self::Internal(_) => "CMP_INTERNAL",
        }
    }

    /// The process exit code for this error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Io(_) | Self::Internal(_) => EXIT_LOCAL,
            Self::Transport(_) => EXIT_TRANSPORT,
            Self::Announce(e) => match &**e {
                cmp_core::announce::AnnounceError::Message(inner) => {
                    Self::Cmp(inner.clone()).exit_code()
                }
                _ => EXIT_VALIDATION,
            },
            Self::Cmp(e) | Self::Hinted(e, _) => match (&**e, e.kind()) {
                // The total deadline passed: the network (or server) was too slow.
                (cmp_core::Error::Timeout, _) => EXIT_TRANSPORT,
                // An error message we could not authenticate is a protection failure.
                (cmp_core::Error::UnauthenticatedError(_), _) => EXIT_VALIDATION,
                (_, ErrorKind::Peer) => EXIT_PEER,
                (_, ErrorKind::Remote) => EXIT_VALIDATION,
                (_, ErrorKind::Local) => EXIT_LOCAL,
            },
        }
    }

    /// Print `cmp: NAME: text` to stderr and return the exit code.
    pub(crate) fn report(&self) -> ExitCode {
        eprintln!("cmp: {}: {self}", self.name());
        ExitCode::from(self.exit_code())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(s) | Self::Io(s) | Self::Transport(s) => f.write_str(s),
            Self::Internal(s) => write!(f, "internal error: {s}"),
            Self::Cmp(e) => write!(f, "{e}"),
            Self::Announce(e) => write!(f, "{e}"),
            Self::Hinted(e, hint) => write!(f, "{e} ({hint})"),
        }
    }
}

impl From<cmp_core::Error> for CliError {
    fn from(e: cmp_core::Error) -> Self {
        Self::Cmp(Box::new(e))
    }
}

/// A subject or recipient name that does not parse is a usage error.
impl From<cmp_core::name::NameError> for CliError {
    fn from(e: cmp_core::name::NameError) -> Self {
        Self::Usage(e.to_string())
    }
}

/// Shorthand for a usage error.
pub(crate) fn usage(text: impl Into<String>) -> CliError {
    CliError::Usage(text.into())
}

/// Result alias for the command.
pub(crate) type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;
    use cmp_core::PeerFailure;
    use cmp_core::asn1::{BodyType, PkiStatusInfo};

    #[test]
    fn exit_codes() {
        assert_eq!(usage("x").exit_code(), 1);
        assert_eq!(CliError::Io("x".into()).exit_code(), 1);
        assert_eq!(CliError::Transport("x".into()).exit_code(), 4);
        let failure = PeerFailure::from_status(BodyType::Ip, PkiStatusInfo::default());
        assert_eq!(
            CliError::from(cmp_core::Error::Peer(failure.clone())).exit_code(),
            2
        );
        assert_eq!(
            CliError::from(cmp_core::Error::UnauthenticatedError(failure)).exit_code(),
            3
        );
        assert_eq!(
            CliError::from(cmp_core::Error::BadMessageCheck).exit_code(),
            3
        );
        assert_eq!(CliError::from(cmp_core::Error::Timeout).exit_code(), 4);
        assert_eq!(CliError::from(cmp_core::Error::Config("x")).exit_code(), 1);
        assert_eq!(
            CliError::from(cmp_core::Error::BadMessageCheck).name(),
            "CMP_BAD_MESSAGE_CHECK"
        );
    }
}
