//! Resource caps for everything a peer controls.
//!
//! A hostile peer must not be able to burn CPU or memory: message size,
//! key-derivation iteration counts and nesting depth are capped with safe
//! defaults, and callers can tighten or relax each one.

/// Caps applied when decoding and verifying messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted DER message, in bytes (default 1 MiB).
    pub max_message_size: usize,
    /// Largest accepted PasswordBasedMac iteration count (default 100,000,
    /// OpenSSL's cap).
    pub max_pbm_iterations: u64,
    /// Largest accepted PBKDF2 iteration count for PBMAC1 (default 1,000,000).
    pub max_pbkdf2_iterations: u64,
    /// Smallest accepted PBM / PBKDF2 iteration count (default 100; RFC 9481
    /// asks for at least 100 for PBM).
    pub min_iterations: u64,
    /// Deepest accepted nesting of `nested` messages (default 4).
    pub max_nesting_depth: usize,
    /// Largest number of certificates in extraCerts or caPubs (default 64).
    pub max_certificates: usize,
}

impl Limits {
    /// The defaults described on each field.
    pub const DEFAULT: Self = Self {
        max_message_size: 1024 * 1024,
        max_pbm_iterations: 100_000,
        max_pbkdf2_iterations: 1_000_000,
        min_iterations: 100,
        max_nesting_depth: 4,
        max_certificates: 64,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
