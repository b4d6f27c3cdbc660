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

    /// Load an ML-KEM key from PKCS#8 DER (RFC 9935): the `seed` form, or
    /// `both` when its expanded key is the one the seed expands to; the
    /// expanded-only form is refused (it cannot be checked or written back).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        use der::asn1::{AnyRef, OctetStringRef};
        use der::{Decode, Tag, TagNumber, Tagged};
        const MALFORMED: CryptoError = CryptoError::InvalidKey("malformed ML-KEM private key");
        let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|_| MALFORMED)?;
        let alg = kem_from_oid(&info.algorithm.oid)
            .map_err(|_| CryptoError::Unsupported("private key algorithm"))?;
        if info.algorithm.parameters.is_some() {
            return Err(CryptoError::InvalidKey("ML-KEM parameters must be absent"));
        }
        let any = AnyRef::from_der(info.private_key.as_bytes()).map_err(|_| MALFORMED)?;
        match any.tag() {
            Tag::ContextSpecific {
                constructed: false,
                number: TagNumber(0),
            } => Self::from_seed(alg, any.value()),
            Tag::Sequence => {
                let (seed, expanded) = any
                    .sequence(|reader| {
                        let seed = <&OctetStringRef>::decode(reader)?;
                        let expanded = <&OctetStringRef>::decode(reader)?;
                        Ok::<_, der::Error>((seed.as_bytes(), expanded.as_bytes()))
                    })
                    .map_err(|_| MALFORMED)?;
                let key = Self::from_seed(alg, seed)?;
                if *key.expanded()? != expanded {
                    return Err(CryptoError::InvalidKey(
                        "ML-KEM private key: expanded key does not match the seed",
                    ));
                }
                Ok(key)
            }
            Tag::OctetString => Err(CryptoError::Unsupported(
                "ML-KEM private key in expanded-only form",
            )),
            _ => Err(MALFORMED),
        }
    }

    /// Load an ML-KEM key from a PEM `PRIVATE KEY` (PKCS#8) document.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        let (label, der) = der::pem::decode_vec(pem.as_bytes())
            .map_err(|_| CryptoError::InvalidKey("malformed PEM"))?;
        let der = Zeroizing::new(der);
        if label != "PRIVATE KEY" {
            return Err(CryptoError::InvalidKey("not a PRIVATE KEY PEM document"));
        }
        Self::from_pkcs8_der(&der)
    }

    /// The key as unencrypted PKCS#8 DER in the RFC 9935 `seed` form.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        use der::Encode;
        const ENCODING: CryptoError = CryptoError::Other("encoding PKCS#8 private key");
        let seed = self.seed()?;
        // seed [0] IMPLICIT OCTET STRING (SIZE (64))
        let mut private_key = Zeroizing::new(alloc::vec![0x80, 0x40]);
        private_key.extend_from_slice(&seed);
        let info = pkcs8::PrivateKeyInfoRef::new(
            spki::AlgorithmIdentifierRef {
                oid: self.public_key.algorithm.oid,
                parameters: None,
            },
            der::asn1::OctetStringRef::new(&private_key).map_err(|_| ENCODING)?,
        );
        info.to_der().map(Zeroizing::new).map_err(|_| ENCODING)
    }

    /// The key as a PEM `PRIVATE KEY` document (LF line endings).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<alloc::string::String>, CryptoError> {
        let der = self.to_pkcs8_der()?;
        der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &der)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Other("encoding PEM"))
    }

    /// The FIPS 203 expanded decapsulation key (to check the `both` form).
    fn expanded(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        #[cfg(feature = "ml-kem")]
        {
            #[allow(deprecated, reason = "only to check an expanded key against the seed")]
            use ml_kem::ExpandedKeyEncoding;
            #[allow(deprecated, reason = "only to check an expanded key against the seed")]
            let bytes = match &self.inner {
                Inner::MlKem512(k) => k.to_expanded_bytes().to_vec(),
                Inner::MlKem768(k) => k.to_expanded_bytes().to_vec(),
                Inner::MlKem1024(k) => k.to_expanded_bytes().to_vec(),
            };
            Ok(Zeroizing::new(bytes))
        }
        #[cfg(not(feature = "ml-kem"))]
        {
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
    fn pkcs8_round_trips_in_seed_and_both_forms() {
        use der::Encode;
        for alg in [
            KemAlgorithm::MlKem512,
            KemAlgorithm::MlKem768,
            KemAlgorithm::MlKem1024,
        ] {
            let key = KemPrivateKey::generate(alg).unwrap();
            let der = key.to_pkcs8_der().unwrap();
            let again = KemPrivateKey::from_pkcs8_der(&der).unwrap();
            assert_eq!(again.public_key(), key.public_key());
            let pem = key.to_pkcs8_pem().unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
            assert_eq!(
                KemPrivateKey::from_pem(&pem).unwrap().public_key(),
                key.public_key()
            );

            // `both`: seed and matching expanded key; a mismatch is refused
            let seed = der::asn1::OctetString::new(key.seed().unwrap().to_vec()).unwrap();
            let both = |expanded: Vec<u8>| {
                let mut body = seed.to_der().unwrap();
                body.extend(
                    der::asn1::OctetString::new(expanded)
                        .unwrap()
                        .to_der()
                        .unwrap(),
                );
                let mut seq = alloc::vec![0x30, 0x82, (body.len() >> 8) as u8, body.len() as u8];
                seq.extend(body);
                pkcs8::PrivateKeyInfoRef::new(
                    spki::AlgorithmIdentifierRef {
                        oid: key.public_key().algorithm.oid,
                        parameters: None,
                    },
                    der::asn1::OctetStringRef::new(&seq).unwrap(),
                )
                .to_der()
                .unwrap()
            };
            let expanded = key.expanded().unwrap().to_vec();
            assert_eq!(
                KemPrivateKey::from_pkcs8_der(&both(expanded.clone()))
                    .unwrap()
                    .public_key(),
                key.public_key()
            );
            let mut wrong = expanded;
            wrong[0] ^= 1;
            assert!(matches!(
                KemPrivateKey::from_pkcs8_der(&both(wrong)),
                Err(CryptoError::InvalidKey(_))
            ));
        }
        assert!(KemPrivateKey::from_pkcs8_der(b"\x30\x00").is_err());
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
