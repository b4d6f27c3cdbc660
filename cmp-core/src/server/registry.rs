//! What the responder may ask the application about certificates it issued:
//! whether one is known, valid or revoked, and whether a key is already
//! certified. With a [`CertificateRegistry`] configured, the responder
//! itself refuses an rr or kur for an unknown certificate (`badCertId`) or a
//! revoked one (`certRevoked`), and an ir/cr/p10cr for a key that already
//! has a valid certificate (`duplicateCertReq`), before the application is
//! asked to decide.

use spki::SubjectPublicKeyInfoOwned;
use x509_cert::name::Name;

/// What the registry knows about one certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryStatus {
    /// Not issued by this CA (as far as the registry knows).
    Unknown,
    /// Issued here and not revoked.
    Valid,
    /// Issued here and revoked.
    Revoked,
}

/// The application's record of the certificates its CA issued.
pub trait CertificateRegistry: Send + Sync {
    /// The status of the certificate with this issuer and serial number
    /// (the serial's content octets as they appear in the certificate).
    fn status(&self, issuer: &Name, serial: &[u8]) -> RegistryStatus;

    /// Whether a valid certificate for `key` exists already, so that a new
    /// ir, cr or p10cr for it is a duplicate. Policies that allow several
    /// certificates per key return `false`.
    fn key_certified(&self, key: &SubjectPublicKeyInfoOwned) -> bool;
}
