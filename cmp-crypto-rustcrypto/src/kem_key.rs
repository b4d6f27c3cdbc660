//! ML-KEM (FIPS 203) key pairs and encapsulation, behind the `ml-kem` feature.
//!
//! [`KemPrivateKey`] implements [`cmp_core::crypto::DecapsulationKey`]; the
//! provider's [`kem_encapsulate`](cmp_core::crypto::CryptoProvider::kem_encapsulate)
//! encapsulates with this module. Public keys travel as a `SubjectPublicKeyInfo` whose
//! algorithm is id-alg-ml-kem-512/768/1024 without parameters and whose key is
//! the raw encapsulation key.

use alloc::vec::Vec;
use core::fmt;

use cmp_core::crypto::{CryptoError, DecapsulationKey, Encapsulated, KemAlgorithm};
use cmp_core::kem::kem_from_oid;
#[cfg(feature = "ml-kem")]
use cmp_core::kem::kem_oid;
use der::zeroize::Zeroizing;
use spki::SubjectPublicKeyInfoOwned;

#[cfg(feature = "ml-kem")]
use crate::public_key::{self, bare_algorithm};

#[cfg(feature = "ml-kem")]
use ml_kem::{
    Decapsulate, Encapsulate, KeyExport, MlKem512, MlKem768, MlKem1024, TryKeyInit, array::Array,
};

#[cfg(feature = "ml-kem")]
#[derive(Clone)]
enum Inner {
    MlKem512(ml_kem::DecapsulationKey<MlKem512>),
    MlKem768(ml_kem::DecapsulationKey<MlKem768>),
    MlKem1024(ml_kem::DecapsulationKey<MlKem1024>),
}

/// An ML-KEM private (decapsulation) key, kept as its 64-byte seed form.
///
/// The key material is wiped from memory when the key is dropped. `Debug`
/// shows the algorithm only.
#[derive(Clone)]
pub struct KemPrivateKey {
    #[cfg(feature = "ml-kem")]
    inner: Inner,
    algorithm: KemAlgorithm,
    public_key: SubjectPublicKeyInfoOwned,
}

impl fmt::Debug for KemPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KemPrivateKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

#[cfg(not(feature = "ml-kem"))]
const DISABLED: CryptoError = CryptoError::Unsupported("ML-KEM (cargo feature \"ml-kem\")");

impl KemPrivateKey {
    /// A fresh key pair from the operating system's RNG.
    pub fn generate(alg: KemAlgorithm) -> Result<Self, CryptoError> {
        let mut seed = Zeroizing::new([0u8; 64]);
        crate::rng::fill(seed.as_mut_slice())?;
        Self::from_seed(alg, &seed[..])
    }

    /// The key pair expanded from a 64-byte seed (FIPS 203 `d || z`).
    pub fn from_seed(alg: KemAlgorithm, seed: &[u8]) -> Result<Self, CryptoError> {
        #[cfg(feature = "ml-kem")]
        {
            let seed: ml_kem::Seed = Array::try_from(seed)
                .map_err(|_| CryptoError::InvalidKey("an ML-KEM seed has 64 bytes"))?;
            let inner = match alg {
                KemAlgorithm::MlKem512 => {
                    Inner::MlKem512(ml_kem::DecapsulationKey::from_seed(seed))
                }
                KemAlgorithm::MlKem768 => {
                    Inner::MlKem768(ml_kem::DecapsulationKey::from_seed(seed))
                }
                KemAlgorithm::MlKem1024 => {
                    Inner::MlKem1024(ml_kem::DecapsulationKey::from_seed(seed))
                }
            };
            let ek = match &inner {
                Inner::MlKem512(k) => k.encapsulation_key().to_bytes().to_vec(),
                Inner::MlKem768(k) => k.encapsulation_key().to_bytes().to_vec(),
                Inner::MlKem1024(k) => k.encapsulation_key().to_bytes().to_vec(),
            };
            let public_key = public_key::spki(bare_algorithm(kem_oid(alg)), &ek)?;
            Ok(Self {
                inner,
                algorithm: alg,
                public_key,
            })
        }
        #[cfg(not(feature = "ml-kem"))]
        {
            let _ = (alg, seed);
            Err(DISABLED)
        }
    }

    /// The 64-byte seed, to store the key (wiped when dropped).
    pub fn seed(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        #[cfg(feature = "ml-kem")]
        {
            let seed = match &self.inner {
                Inner::MlKem512(k) => k.to_seed(),
                Inner::MlKem768(k) => k.to_seed(),
                Inner::MlKem1024(k) => k.to_seed(),
            }
            .ok_or(CryptoError::Other("ML-KEM key without a seed"))?;
            Ok(Zeroizing::new(seed.to_vec()))
        }
        #[cfg(not(feature = "ml-kem"))]
        {
            Err(DISABLED)
        }
    }
}

impl DecapsulationKey for KemPrivateKey {
    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.public_key.clone()
    }

    fn algorithm(&self) -> KemAlgorithm {
        self.algorithm
    }

    fn decapsulate(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        #[cfg(feature = "ml-kem")]
        {
            const WRONG_LEN: CryptoError =
                CryptoError::InvalidKey("KEM ciphertext of the wrong length");
            let ss = match &self.inner {
                Inner::MlKem512(k) => k.decapsulate_slice(ciphertext).map_err(|_| WRONG_LEN)?,
                Inner::MlKem768(k) => k.decapsulate_slice(ciphertext).map_err(|_| WRONG_LEN)?,
                Inner::MlKem1024(k) => k.decapsulate_slice(ciphertext).map_err(|_| WRONG_LEN)?,
            };
            Ok(ss.to_vec())
        }
        #[cfg(not(feature = "ml-kem"))]
        {
            let _ = ciphertext;
            Err(DISABLED)
        }
    }
}

/// Encapsulate to the ML-KEM public key `spki` of algorithm `alg`.
pub(crate) fn encapsulate(
    alg: KemAlgorithm,
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<Encapsulated, CryptoError> {
    if kem_from_oid(&spki.algorithm.oid).ok() != Some(alg) {
        return Err(CryptoError::InvalidKey(
            "the public key is not for this KEM",
        ));
    }
    #[cfg(feature = "ml-kem")]
    {
        const BAD_KEY: CryptoError = CryptoError::InvalidKey("malformed ML-KEM public key");
        let ek = spki.subject_public_key.as_bytes().ok_or(BAD_KEY)?;
        fn run<E: Encapsulate + TryKeyInit>(ek: &[u8]) -> Result<Encapsulated, CryptoError> {
            let key = E::new_from_slice(ek).map_err(|_| BAD_KEY)?;
            let (ct, ss) = key.encapsulate();
            Ok(Encapsulated {
                ciphertext: ct.to_vec(),
                shared_secret: ss.to_vec(),
            })
        }
        match alg {
            KemAlgorithm::MlKem512 => run::<ml_kem::EncapsulationKey<MlKem512>>(ek),
            KemAlgorithm::MlKem768 => run::<ml_kem::EncapsulationKey<MlKem768>>(ek),
            KemAlgorithm::MlKem1024 => run::<ml_kem::EncapsulationKey<MlKem1024>>(ek),
        }
    }
    #[cfg(not(feature = "ml-kem"))]
    {
        Err(DISABLED)
    }
}

#[cfg(all(test, feature = "ml-kem"))]
mod tests {
    use super::*;

    #[test]
    fn encapsulate_then_decapsulate_agree_for_every_level() {
        for alg in [
            KemAlgorithm::MlKem512,
            KemAlgorithm::MlKem768,
            KemAlgorithm::MlKem1024,
        ] {
            let key = KemPrivateKey::generate(alg).unwrap();
            let e = encapsulate(alg, &key.public_key()).unwrap();
            assert_eq!(e.ciphertext.len(), alg.ciphertext_len());
            assert_eq!(key.decapsulate(&e.ciphertext).unwrap(), e.shared_secret);
            // a tampered ciphertext gives another secret (implicit rejection)
            let mut bad = e.ciphertext.clone();
            bad[0] ^= 1;
            assert_ne!(key.decapsulate(&bad).unwrap(), e.shared_secret);
            assert!(matches!(
                key.decapsulate(&bad[1..]),
                Err(CryptoError::InvalidKey(_))
            ));
            // the seed round-trips
            let again = KemPrivateKey::from_seed(alg, &key.seed().unwrap()).unwrap();
            assert_eq!(again.public_key(), key.public_key());
        }
    }

    #[test]
    fn a_key_of_another_level_is_refused() {
        let key = KemPrivateKey::generate(KemAlgorithm::MlKem512).unwrap();
        assert!(matches!(
            encapsulate(KemAlgorithm::MlKem768, &key.public_key()),
            Err(CryptoError::InvalidKey(_))
        ));
    }
}
