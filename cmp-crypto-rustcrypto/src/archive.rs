//! [`KeyArchive`]: the private keys a CA keeps for key recovery.

use alloc::vec::Vec;

use cmp_core::crypto::CryptoError;
use der::zeroize::Zeroizing;
use x509_cert::Certificate;
use x509_cert::name::Name;

use crate::envelope;

/// One archived key pair.
#[derive(Clone)]
pub struct ArchivedKey {
    /// The certificate of the key.
    pub cert: Certificate,
    /// The private key, PKCS#8 DER (wiped when dropped).
    pub private_key: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for ArchivedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ArchivedKey")
            .field("subject", self.cert.tbs_certificate().subject())
            .finish_non_exhaustive()
    }
}

/// An in-memory archive of private keys by certificate subject: what a
/// reference CA keeps of the keys it generated centrally, to answer key
/// recovery requests (krr) with the key pair history.
///
/// A real deployment keeps these encrypted in a database or HSM; this one
/// is for tests, demos and the CLI server.
#[derive(Clone, Debug, Default)]
pub struct KeyArchive {
    keys: Vec<ArchivedKey>,
}

impl KeyArchive {
    /// An empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Archive `private_key` (PKCS#8 DER), which must belong to `cert`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] when the key cannot be parsed or is not
    /// the certificate's.
    pub fn archive(&mut self, cert: Certificate, private_key: &[u8]) -> Result<(), CryptoError> {
        let public = envelope::public_key_of(private_key)?;
        if &public != cert.tbs_certificate().subject_public_key_info() {
            return Err(CryptoError::InvalidKey(
                "the private key does not belong to the certificate",
            ));
        }
        self.keys.push(ArchivedKey {
            cert,
            private_key: Zeroizing::new(private_key.to_vec()),
        });
        Ok(())
    }

    /// The key pair history of `subject`, oldest first.
    pub fn keys_of(&self, subject: &Name) -> Vec<&ArchivedKey> {
        self.keys
            .iter()
            .filter(|k| k.cert.tbs_certificate().subject() == subject)
            .collect()
    }

    /// How many keys are archived.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the archive is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
