//! [`KeyArchive`]: the private keys a CA keeps for key recovery.

use alloc::vec::Vec;

use aes_kw::KeyInit as _;
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
/// A real deployment keeps these encrypted in a database or HSM (`cmp
/// serve` stores them sealed by an [`ArchiveSealer`] and reads them back
/// into a `KeyArchive`); this in-memory one is for tests and demos.
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
        check_belongs(&cert, private_key)?;
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

/// HKDF salt of the archive key: names the purpose and the format version.
const SEAL_SALT: &[u8] = b"cmp-rs key archive at rest v1";
/// The format byte in front of a sealed key.
const SEAL_VERSION: u8 = 1;

/// Encrypts archived private keys at rest, e.g. as rows of a database
/// shared by several CA instances.
///
/// Each key is wrapped with AES-256 key wrap with padding (RFC 5649, an
/// authenticated, deterministic mode made for wrapping keys: tampering is
/// detected and no nonce needs to be stored or kept unique) under a
/// key-encryption key derived by HKDF-SHA256 from a secret every instance
/// holds, with the certificate's DER as HKDF info. The secret is the CA's
/// private key (see [`ArchiveSealer::for_ca_key`]), so nothing else needs
/// to be distributed, and a sealed key is bound to its certificate: one
/// sealed for another certificate does not open.
#[derive(Clone)]
pub struct ArchiveSealer {
    secret: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for ArchiveSealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ArchiveSealer").finish_non_exhaustive()
    }
}

impl ArchiveSealer {
    /// A sealer keyed by `secret` (the HKDF input keying material).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: Zeroizing::new(secret.to_vec()),
        }
    }

    /// A sealer keyed by the CA's private key (its PKCS#8 DER encoding).
    ///
    /// # Errors
    /// When the key cannot be encoded.
    pub fn for_ca_key(ca_key: &crate::PrivateKey) -> Result<Self, CryptoError> {
        Ok(Self {
            secret: ca_key.to_pkcs8_der()?,
        })
    }

    /// The key-encryption key of `cert`.
    fn kek(&self, cert: &Certificate) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        use cmp_core::crypto::{CryptoProvider as _, DigestAlgorithm};
        use der::Encode as _;
        let info = cert
            .to_der()
            .map_err(|_| CryptoError::Other("cannot encode the certificate"))?;
        let mut kek = Zeroizing::new([0u8; 32]);
        crate::provider().hkdf(
            DigestAlgorithm::Sha256,
            &self.secret,
            SEAL_SALT,
            &info,
            kek.as_mut_slice(),
        )?;
        Ok(kek)
    }

    /// Seal `private_key` (PKCS#8 DER), which must belong to `cert`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] when the key cannot be parsed or is not
    /// the certificate's.
    pub fn seal(&self, cert: &Certificate, private_key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        check_belongs(cert, private_key)?;
        let kek = self.kek(cert)?;
        let kw = aes_kw::KwpAes256::new_from_slice(kek.as_slice())
            .map_err(|_| CryptoError::InvalidKey("AES-256 key"))?;
        let mut out = alloc::vec![0u8; 1 + private_key.len().div_ceil(8) * 8 + aes_kw::IV_LEN];
        let (version, body) = out.split_at_mut(1);
        version.copy_from_slice(&[SEAL_VERSION]);
        let n = kw
            .wrap_key(private_key, body)
            .map_err(|_| CryptoError::InvalidKey("the key is too long to wrap"))?
            .len();
        out.truncate(1 + n);
        Ok(out)
    }

    /// Open what [`ArchiveSealer::seal`] sealed for `cert`: the private key
    /// (PKCS#8 DER), checked to belong to `cert`.
    ///
    /// # Errors
    /// [`CryptoError::Other`] when `sealed` is malformed, was sealed for
    /// another certificate or under another secret, or was altered;
    /// [`CryptoError::InvalidKey`] when the key is not the certificate's.
    pub fn open(
        &self,
        cert: &Certificate,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let Some((&SEAL_VERSION, body)) = sealed.split_first() else {
            return Err(CryptoError::Other("not a sealed archived key"));
        };
        let kek = self.kek(cert)?;
        let kw = aes_kw::KwpAes256::new_from_slice(kek.as_slice())
            .map_err(|_| CryptoError::InvalidKey("AES-256 key"))?;
        let mut out = Zeroizing::new(alloc::vec![0u8; body.len()]);
        let n = kw
            .unwrap_key(body, &mut out)
            .map_err(|_| {
                CryptoError::Other("archived key: integrity check failed (another CA key?)")
            })?
            .len();
        out.truncate(n);
        check_belongs(cert, &out)?;
        Ok(out)
    }
}

/// Whether `private_key` (PKCS#8 DER) is the key of `cert`.
fn check_belongs(cert: &Certificate, private_key: &[u8]) -> Result<(), CryptoError> {
    let public = envelope::public_key_of(private_key)?;
    if &public != cert.tbs_certificate().subject_public_key_info() {
        return Err(CryptoError::InvalidKey(
            "the private key does not belong to the certificate",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use core::str::FromStr;

    use cmp_core::Timestamp;
    use cmp_core::crypto::CryptoError;
    use x509_cert::name::Name;

    use super::ArchiveSealer;
    use cmp_core::crypto::SigningKey as _;

    use crate::{IssueRequest, KeyAlgorithm, PrivateKey, ReferenceCa};

    #[test]
    fn sealed_keys_open_only_for_their_certificate_and_ca() {
        let now = Timestamp::from_unix_secs(1_760_000_000);
        let (mut ca, _) =
            ReferenceCa::generate_hierarchy("Seal", now, KeyAlgorithm::EcP256).unwrap();
        let (other_ca, _) =
            ReferenceCa::generate_hierarchy("Other", now, KeyAlgorithm::EcP256).unwrap();
        let subject = Name::from_str("CN=Archived").unwrap();
        let key = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        let pkcs8 = key.to_pkcs8_der().unwrap();
        let cert = ca
            .issue(&IssueRequest::new(subject.clone(), key.public_key()), now)
            .unwrap();
        let second = PrivateKey::generate(KeyAlgorithm::EcP256).unwrap();
        let cert2 = ca
            .issue(&IssueRequest::new(subject, second.public_key()), now)
            .unwrap();

        let sealer = ArchiveSealer::for_ca_key(ca.signing_key()).unwrap();
        let sealed = sealer.seal(&cert, &pkcs8).unwrap();
        // not the key in clear, nor any 16 bytes of it
        assert!(
            !sealed
                .windows(16)
                .any(|w| pkcs8.windows(16).any(|p| p == w))
        );
        assert_eq!(
            sealer.open(&cert, &sealed).unwrap().as_slice(),
            pkcs8.as_slice()
        );
        // a second sealer from the same CA key (another instance) opens it
        let again = ArchiveSealer::for_ca_key(ca.signing_key()).unwrap();
        assert_eq!(
            again.open(&cert, &sealed).unwrap().as_slice(),
            pkcs8.as_slice()
        );

        // bound to the certificate, the CA key, and intact
        assert!(matches!(
            sealer.open(&cert2, &sealed),
            Err(CryptoError::Other(_))
        ));
        let stranger = ArchiveSealer::for_ca_key(other_ca.signing_key()).unwrap();
        assert!(matches!(
            stranger.open(&cert, &sealed),
            Err(CryptoError::Other(_))
        ));
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(matches!(
            sealer.open(&cert, &altered),
            Err(CryptoError::Other(_))
        ));
        assert!(sealer.open(&cert, &[]).is_err());
        assert!(sealer.open(&cert, &[2, 0, 0]).is_err());
        // only the certificate's own key is sealed
        assert!(matches!(
            sealer.seal(&cert2, &pkcs8),
            Err(CryptoError::InvalidKey(_))
        ));
    }
}
