//! Private keys: loading, generating, writing out, and signing through
//! [`cmp_core::crypto::SigningKey`].

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use cmp_core::asn1::oid;
use cmp_core::crypto::{
    BoxedSigningKey, CryptoError, DigestAlgorithm, SignatureAlgorithm, SigningKey,
};
use der::asn1::Null;
use der::pem::LineEnding;
use der::zeroize::Zeroizing;
use der::{Any, Decode, SecretDocument};
#[cfg(feature = "ml-dsa")]
use ml_dsa::{MlDsa44, MlDsa65, MlDsa87, MlDsaParams};
use p256::elliptic_curve::Generate;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, PrivateKeyInfoRef};
#[cfg(feature = "rsa")]
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
#[cfg(feature = "rsa")]
use rsa::traits::PublicKeyParts;
#[cfg(feature = "rsa")]
use rsa::{Pkcs1v15Sign, Pss, RsaPrivateKey};
#[cfg(feature = "ml-dsa")]
use signature::Keypair;
#[cfg(feature = "ed25519")]
use signature::Signer;
use signature::hazmat::PrehashSigner;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

#[cfg(not(all(
    feature = "p384",
    feature = "rsa",
    feature = "ed25519",
    feature = "ml-dsa"
)))]
use crate::disabled;
use crate::hash;
#[cfg(feature = "ml-dsa")]
use crate::ml_dsa_key;
use crate::public_key::{self, bare_algorithm, ec_algorithm};
#[cfg(any(feature = "rsa", feature = "ed25519", feature = "ml-dsa"))]
use crate::rng;
use crate::rng::SysRng;
use crate::verify::ecdsa_hash_supported;
#[cfg(feature = "rsa")]
use {
    crate::hash::with_digest, crate::public_key::rsa_algorithm, crate::rsa_pss,
    crate::verify::rsa_pkcs1_hash_supported, der::asn1::OctetStringRef,
    spki::AlgorithmIdentifierRef,
};

/// The key types [`PrivateKey::generate`] can make.
///
/// Every variant exists whatever the cargo features; those of algorithms
/// compiled out (see [`KeyAlgorithm::is_supported`]) fail with
/// [`CryptoError::Unsupported`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 (secp256r1), signing with SHA-256.
    EcP256,
    /// ECDSA on NIST P-384 (secp384r1), signing with SHA-384.
    EcP384,
    /// RSA with a 2048-bit modulus, signing PKCS#1 v1.5 with SHA-256.
    Rsa2048,
    /// RSA with a 3072-bit modulus, signing PKCS#1 v1.5 with SHA-256.
    Rsa3072,
    /// Ed25519.
    Ed25519,
    /// ML-DSA-44 (FIPS 204).
    MlDsa44,
    /// ML-DSA-65 (FIPS 204).
    MlDsa65,
    /// ML-DSA-87 (FIPS 204).
    MlDsa87,
}

/// Accepted spellings, compared without regard to ASCII case.
const NAMES: &[(&str, KeyAlgorithm)] = &[
    ("ec:P-256", KeyAlgorithm::EcP256),
    ("ec:P256", KeyAlgorithm::EcP256),
    ("ec:secp256r1", KeyAlgorithm::EcP256),
    ("ec:prime256v1", KeyAlgorithm::EcP256),
    ("ec", KeyAlgorithm::EcP256),
    ("p256", KeyAlgorithm::EcP256),
    ("P-256", KeyAlgorithm::EcP256),
    ("secp256r1", KeyAlgorithm::EcP256),
    ("prime256v1", KeyAlgorithm::EcP256),
    ("ec:P-384", KeyAlgorithm::EcP384),
    ("ec:P384", KeyAlgorithm::EcP384),
    ("ec:secp384r1", KeyAlgorithm::EcP384),
    ("p384", KeyAlgorithm::EcP384),
    ("P-384", KeyAlgorithm::EcP384),
    ("secp384r1", KeyAlgorithm::EcP384),
    ("rsa", KeyAlgorithm::Rsa2048),
    ("rsa2048", KeyAlgorithm::Rsa2048),
    ("rsa:2048", KeyAlgorithm::Rsa2048),
    ("rsa-2048", KeyAlgorithm::Rsa2048),
    ("rsa3072", KeyAlgorithm::Rsa3072),
    ("rsa:3072", KeyAlgorithm::Rsa3072),
    ("rsa-3072", KeyAlgorithm::Rsa3072),
    ("ed25519", KeyAlgorithm::Ed25519),
    ("ml-dsa-44", KeyAlgorithm::MlDsa44),
    ("mldsa44", KeyAlgorithm::MlDsa44),
    ("ml-dsa-65", KeyAlgorithm::MlDsa65),
    ("mldsa65", KeyAlgorithm::MlDsa65),
    ("ml-dsa-87", KeyAlgorithm::MlDsa87),
    ("mldsa87", KeyAlgorithm::MlDsa87),
];

impl KeyAlgorithm {
    /// Every key algorithm, in declaration order.
    pub const ALL: [Self; 8] = [
        Self::EcP256,
        Self::EcP384,
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Ed25519,
        Self::MlDsa44,
        Self::MlDsa65,
        Self::MlDsa87,
    ];

    /// Parse a key algorithm name, case-insensitively: `"ec:P-256"`, `"p256"`
    /// or `"EC"`; `"ec:P-384"` or `"p384"`; `"rsa2048"` or `"rsa"`;
    /// `"rsa3072"`; `"ed25519"`; `"ml-dsa-44"`, `"ml-dsa-65"`, `"ml-dsa-87"`
    /// (and a few common variants such as `"secp256r1"` or `"rsa:2048"`).
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        NAMES
            .iter()
            .find(|(spelling, _)| spelling.eq_ignore_ascii_case(name))
            .map(|&(_, alg)| alg)
    }

    /// The canonical name, which [`KeyAlgorithm::from_name`] parses back.
    pub const fn name(self) -> &'static str {
        match self {
            Self::EcP256 => "ec:P-256",
            Self::EcP384 => "ec:P-384",
            Self::Rsa2048 => "rsa2048",
            Self::Rsa3072 => "rsa3072",
            Self::Ed25519 => "ed25519",
            Self::MlDsa44 => "ml-dsa-44",
            Self::MlDsa65 => "ml-dsa-65",
            Self::MlDsa87 => "ml-dsa-87",
        }
    }

    /// Whether this build has the algorithm: P-256 always, the others with
    /// their cargo feature (`p384`, `rsa`, `ed25519`, `ml-dsa`).
    pub const fn is_supported(self) -> bool {
        match self {
            Self::EcP256 => true,
            Self::EcP384 => cfg!(feature = "p384"),
            Self::Rsa2048 | Self::Rsa3072 => cfg!(feature = "rsa"),
            Self::Ed25519 => cfg!(feature = "ed25519"),
            Self::MlDsa44 | Self::MlDsa65 | Self::MlDsa87 => cfg!(feature = "ml-dsa"),
        }
    }

    /// The signature algorithm a key of this type signs with by default.
    pub const fn default_signature_algorithm(self) -> SignatureAlgorithm {
        match self {
            Self::EcP256 => SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
            Self::EcP384 => SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384),
            Self::Rsa2048 | Self::Rsa3072 => SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
            Self::Ed25519 => SignatureAlgorithm::Ed25519,
            Self::MlDsa44 => SignatureAlgorithm::MlDsa44,
            Self::MlDsa65 => SignatureAlgorithm::MlDsa65,
            Self::MlDsa87 => SignatureAlgorithm::MlDsa87,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or(CryptoError::Unsupported("key algorithm name"))
    }
}

/// What an RSA key may be used for.
#[cfg(feature = "rsa")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RsaUse {
    /// An rsaEncryption key: PKCS#1 v1.5 or PSS.
    Any,
    /// An id-RSASSA-PSS key: PSS only, restricted to one hash if the key's
    /// parameters say so.
    PssOnly(Option<DigestAlgorithm>),
}

#[cfg(feature = "rsa")]
#[derive(Clone)]
struct RsaKey {
    key: RsaPrivateKey,
    /// The `AlgorithmIdentifier` the key is labelled with (in its SPKI and PKCS#8).
    key_algorithm: AlgorithmIdentifierOwned,
    usage: RsaUse,
}

#[derive(Clone)]
enum Inner {
    P256(p256::ecdsa::SigningKey),
    #[cfg(feature = "p384")]
    P384(p384::ecdsa::SigningKey),
    #[cfg(feature = "rsa")]
    Rsa(Box<RsaKey>),
    #[cfg(feature = "ed25519")]
    Ed25519(Box<ed25519_dalek::SigningKey>),
    #[cfg(feature = "ml-dsa")]
    MlDsa44(Box<ml_dsa::SigningKey<MlDsa44>>),
    #[cfg(feature = "ml-dsa")]
    MlDsa65(Box<ml_dsa::SigningKey<MlDsa65>>),
    #[cfg(feature = "ml-dsa")]
    MlDsa87(Box<ml_dsa::SigningKey<MlDsa87>>),
}

/// A private key held in memory, signing through
/// [`cmp_core::crypto::SigningKey`].
///
/// Supported: ECDSA on P-256 (SHA-256 by default) and P-384 (SHA-384),
/// RSA (PKCS#1 v1.5 with SHA-256 by default, RSASSA-PSS on request with
/// [`PrivateKey::with_rsa_pss`]), Ed25519 and ML-DSA-44/65/87 (pure, empty
/// context, hedged signing), each but P-256 as far as the cargo features
/// build it in.
///
/// The key material is wiped from memory when the key is dropped. `Debug`
/// shows the algorithm only.
#[derive(Clone)]
pub struct PrivateKey {
    inner: Inner,
    algorithm: SignatureAlgorithm,
    algorithm_identifier: AlgorithmIdentifierOwned,
    public_key: SubjectPublicKeyInfoOwned,
}

const MALFORMED_PKCS8: CryptoError = CryptoError::InvalidKey("malformed PKCS#8 private key");
const WRONG_KEY: CryptoError = CryptoError::InvalidKey("key type does not match the algorithm");

#[cfg(feature = "ml-dsa")]
fn ml_dsa_spki<P: MlDsaParams>(
    oid: der::asn1::ObjectIdentifier,
    key: &ml_dsa::SigningKey<P>,
) -> Result<SubjectPublicKeyInfoOwned, CryptoError> {
    public_key::spki(bare_algorithm(oid), key.verifying_key().encode().as_slice())
}

#[cfg(feature = "ml-dsa")]
fn ml_dsa_sign<P: MlDsaParams>(
    key: &ml_dsa::SigningKey<P>,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    key.expanded_key()
        .sign_randomized(message, &[], &mut SysRng)
        .map(|sig| sig.encode().to_vec())
        .map_err(|_| CryptoError::Other("ML-DSA signing failed"))
}

#[cfg(feature = "rsa")]
fn rsa_from_pkcs1(der: &[u8]) -> Result<RsaPrivateKey, CryptoError> {
    RsaPrivateKey::from_pkcs1_der(der)
        .map_err(|_| CryptoError::InvalidKey("malformed RSA private key"))
}

/// The `AlgorithmIdentifier` of signatures made with `alg`.
fn signature_algorithm_identifier(
    alg: SignatureAlgorithm,
) -> Result<AlgorithmIdentifierOwned, CryptoError> {
    use DigestAlgorithm::*;
    Ok(match alg {
        SignatureAlgorithm::Ecdsa(h) => bare_algorithm(match h {
            Sha256 => oid::ECDSA_WITH_SHA256,
            Sha384 => oid::ECDSA_WITH_SHA384,
            Sha512 => oid::ECDSA_WITH_SHA512,
            Sha1 | Sha224 => return Err(CryptoError::Unsupported("ECDSA hash algorithm")),
        }),
        SignatureAlgorithm::RsaPkcs1(h) => AlgorithmIdentifierOwned {
            oid: match h {
                Sha224 => oid::SHA224_WITH_RSA,
                Sha256 => oid::SHA256_WITH_RSA,
                Sha384 => oid::SHA384_WITH_RSA,
                Sha512 => oid::SHA512_WITH_RSA,
                Sha1 => return Err(CryptoError::Unsupported("RSA PKCS#1 v1.5 hash algorithm")),
            },
            parameters: Some(Any::from(Null)),
        },
        #[cfg(feature = "rsa")]
        SignatureAlgorithm::RsaPss(h) => rsa_pss::pss_algorithm_identifier(h)?,
        #[cfg(not(feature = "rsa"))]
        SignatureAlgorithm::RsaPss(_) => return Err(disabled::RSA),
        SignatureAlgorithm::Ed25519 => bare_algorithm(oid::ED25519),
        SignatureAlgorithm::MlDsa44 => bare_algorithm(oid::ML_DSA_44),
        SignatureAlgorithm::MlDsa65 => bare_algorithm(oid::ML_DSA_65),
        SignatureAlgorithm::MlDsa87 => bare_algorithm(oid::ML_DSA_87),
    })
}

/// The PEM blocks of `pem`, in order (text between blocks is skipped).
fn pem_blocks(pem: &str) -> impl Iterator<Item = &str> {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "-----END ";
    const DASHES: &str = "-----";
    let mut rest = pem;
    core::iter::from_fn(move || {
        let start = rest.find(BEGIN)?;
        let after_start = rest.get(start..)?;
        let end_marker = after_start.find(END)?;
        let after_end = after_start.get(end_marker + END.len()..)?;
        let close = after_end.find(DASHES)?;
        let block_len = end_marker + END.len() + close + DASHES.len();
        let block = after_start.get(..block_len)?;
        rest = after_start.get(block_len..)?;
        Some(block)
    })
}

impl PrivateKey {
    fn from_inner(inner: Inner) -> Result<Self, CryptoError> {
        let (algorithm, public_key) = match &inner {
            Inner::P256(k) => (
                SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
                public_key::spki(
                    ec_algorithm(oid::SECP256R1),
                    k.verifying_key().to_sec1_point(false).as_bytes(),
                )?,
            ),
            #[cfg(feature = "p384")]
            Inner::P384(k) => (
                SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384),
                public_key::spki(
                    ec_algorithm(oid::SECP384R1),
                    k.verifying_key().to_sec1_point(false).as_bytes(),
                )?,
            ),
            #[cfg(feature = "rsa")]
            Inner::Rsa(k) => (
                match k.usage {
                    RsaUse::Any => SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
                    RsaUse::PssOnly(hash) => {
                        SignatureAlgorithm::RsaPss(hash.unwrap_or(DigestAlgorithm::Sha256))
                    }
                },
                public_key::spki(
                    k.key_algorithm.clone(),
                    &public_key::rsa_public_key_der(k.key.as_public_key())?,
                )?,
            ),
            #[cfg(feature = "ed25519")]
            Inner::Ed25519(k) => (
                SignatureAlgorithm::Ed25519,
                public_key::spki(bare_algorithm(oid::ED25519), k.verifying_key().as_bytes())?,
            ),
            #[cfg(feature = "ml-dsa")]
            Inner::MlDsa44(k) => (SignatureAlgorithm::MlDsa44, ml_dsa_spki(oid::ML_DSA_44, k)?),
            #[cfg(feature = "ml-dsa")]
            Inner::MlDsa65(k) => (SignatureAlgorithm::MlDsa65, ml_dsa_spki(oid::ML_DSA_65, k)?),
            #[cfg(feature = "ml-dsa")]
            Inner::MlDsa87(k) => (SignatureAlgorithm::MlDsa87, ml_dsa_spki(oid::ML_DSA_87, k)?),
        };
        Ok(Self {
            inner,
            algorithm,
            algorithm_identifier: signature_algorithm_identifier(algorithm)?,
            public_key,
        })
    }

    #[cfg(feature = "rsa")]
    fn rsa(key: RsaPrivateKey) -> Inner {
        Inner::Rsa(Box::new(RsaKey {
            key,
            key_algorithm: rsa_algorithm(),
            usage: RsaUse::Any,
        }))
    }

    /// Generate a fresh key from the operating system's RNG.
    ///
    /// RSA generation takes a while (seconds in a debug build). An algorithm
    /// compiled out ([`KeyAlgorithm::is_supported`]) fails with
    /// [`CryptoError::Unsupported`].
    pub fn generate(alg: KeyAlgorithm) -> Result<Self, CryptoError> {
        let inner = match alg {
            KeyAlgorithm::EcP256 => Inner::P256(
                p256::ecdsa::SigningKey::try_generate_from_rng(&mut SysRng)
                    .map_err(|_| CryptoError::Rng)?,
            ),
            #[cfg(feature = "p384")]
            KeyAlgorithm::EcP384 => Inner::P384(
                p384::ecdsa::SigningKey::try_generate_from_rng(&mut SysRng)
                    .map_err(|_| CryptoError::Rng)?,
            ),
            #[cfg(not(feature = "p384"))]
            KeyAlgorithm::EcP384 => return Err(disabled::P384),
            #[cfg(feature = "rsa")]
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                let bits = if alg == KeyAlgorithm::Rsa2048 {
                    2048
                } else {
                    3072
                };
                // The rsa crate wants an infallible RNG; make sure the OS RNG
                // works, so that a failure is an error here rather than a
                // panic inside key generation.
                rng::fill(&mut [0u8; 16])?;
                let mut rng = getrandom::rand_core::UnwrapErr(SysRng);
                let key = RsaPrivateKey::new(&mut rng, bits)
                    .map_err(|_| CryptoError::Other("RSA key generation failed"))?;
                Self::rsa(key)
            }
            #[cfg(not(feature = "rsa"))]
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => return Err(disabled::RSA),
            #[cfg(feature = "ed25519")]
            KeyAlgorithm::Ed25519 => Inner::Ed25519(Box::new(
                ed25519_dalek::SigningKey::from_bytes(&*rng::seed32()?),
            )),
            #[cfg(not(feature = "ed25519"))]
            KeyAlgorithm::Ed25519 => return Err(disabled::ED25519),
            #[cfg(feature = "ml-dsa")]
            KeyAlgorithm::MlDsa44 => Inner::MlDsa44(Box::new(ml_dsa::SigningKey::from_seed(
                &ml_dsa::Seed::from(*rng::seed32()?),
            ))),
            #[cfg(feature = "ml-dsa")]
            KeyAlgorithm::MlDsa65 => Inner::MlDsa65(Box::new(ml_dsa::SigningKey::from_seed(
                &ml_dsa::Seed::from(*rng::seed32()?),
            ))),
            #[cfg(feature = "ml-dsa")]
            KeyAlgorithm::MlDsa87 => Inner::MlDsa87(Box::new(ml_dsa::SigningKey::from_seed(
                &ml_dsa::Seed::from(*rng::seed32()?),
            ))),
            #[cfg(not(feature = "ml-dsa"))]
            KeyAlgorithm::MlDsa44 | KeyAlgorithm::MlDsa65 | KeyAlgorithm::MlDsa87 => {
                return Err(disabled::ML_DSA);
            }
        };
        Self::from_inner(inner)
    }

    /// Load a PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` (RFC 5208, RFC 5958).
    ///
    /// Key algorithms: rsaEncryption, id-RSASSA-PSS (the key then signs
    /// RSASSA-PSS only), id-ecPublicKey on P-256 or P-384, id-Ed25519 and
    /// id-ml-dsa-44/65/87 (seed or seed-and-expanded form, RFC 9881).
    /// Encrypted PKCS#8 is not supported, nor are algorithms compiled out
    /// ([`CryptoError::Unsupported`]).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|_| MALFORMED_PKCS8)?;
        let inner = match info.algorithm.oid {
            #[cfg(feature = "rsa")]
            oid::RSA_ENCRYPTION => {
                if info.algorithm.parameters.is_some_and(|p| !p.is_null()) {
                    return Err(CryptoError::InvalidKey(
                        "rsaEncryption parameters must be NULL",
                    ));
                }
                Self::rsa(rsa_from_pkcs1(info.private_key.as_bytes())?)
            }
            #[cfg(feature = "rsa")]
            oid::RSASSA_PSS => {
                let key_algorithm = AlgorithmIdentifierOwned::from(info.algorithm);
                let hash = rsa_pss::key_restriction(key_algorithm.parameters.as_ref())?;
                Inner::Rsa(Box::new(RsaKey {
                    key: rsa_from_pkcs1(info.private_key.as_bytes())?,
                    key_algorithm,
                    usage: RsaUse::PssOnly(hash),
                }))
            }
            #[cfg(not(feature = "rsa"))]
            oid::RSA_ENCRYPTION | oid::RSASSA_PSS => return Err(disabled::RSA),
            oid::EC_PUBLIC_KEY => {
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map_err(|_| CryptoError::InvalidKey("EC private key without a named curve"))?;
                match curve {
                    oid::SECP256R1 => Inner::P256(
                        p256::ecdsa::SigningKey::from_pkcs8_der(der)
                            .map_err(|_| CryptoError::InvalidKey("malformed P-256 private key"))?,
                    ),
                    #[cfg(feature = "p384")]
                    oid::SECP384R1 => Inner::P384(
                        p384::ecdsa::SigningKey::from_pkcs8_der(der)
                            .map_err(|_| CryptoError::InvalidKey("malformed P-384 private key"))?,
                    ),
                    #[cfg(not(feature = "p384"))]
                    oid::SECP384R1 => return Err(disabled::P384),
                    _ => return Err(CryptoError::Unsupported("elliptic curve")),
                }
            }
            #[cfg(feature = "ed25519")]
            oid::ED25519 => Inner::Ed25519(Box::new(
                ed25519_dalek::SigningKey::from_pkcs8_der(der)
                    .map_err(|_| CryptoError::InvalidKey("malformed Ed25519 private key"))?,
            )),
            #[cfg(not(feature = "ed25519"))]
            oid::ED25519 => return Err(disabled::ED25519),
            #[cfg(feature = "ml-dsa")]
            oid::ML_DSA_44 | oid::ML_DSA_65 | oid::ML_DSA_87
                if info.algorithm.parameters.is_some() =>
            {
                return Err(CryptoError::InvalidKey("ML-DSA parameters must be absent"));
            }
            #[cfg(feature = "ml-dsa")]
            oid::ML_DSA_44 => {
                Inner::MlDsa44(Box::new(ml_dsa_key::decode(info.private_key.as_bytes())?))
            }
            #[cfg(feature = "ml-dsa")]
            oid::ML_DSA_65 => {
                Inner::MlDsa65(Box::new(ml_dsa_key::decode(info.private_key.as_bytes())?))
            }
            #[cfg(feature = "ml-dsa")]
            oid::ML_DSA_87 => {
                Inner::MlDsa87(Box::new(ml_dsa_key::decode(info.private_key.as_bytes())?))
            }
            #[cfg(not(feature = "ml-dsa"))]
            oid::ML_DSA_44 | oid::ML_DSA_65 | oid::ML_DSA_87 => return Err(disabled::ML_DSA),
            _ => return Err(CryptoError::Unsupported("private key algorithm")),
        };
        Self::from_inner(inner)
    }

    /// Load a SEC1 `ECPrivateKey` (RFC 5915) on P-256 or P-384 (P-384 with
    /// the `p384` feature, [`CryptoError::Unsupported`] without).
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, CryptoError> {
        if let Ok(key) = p256::SecretKey::from_sec1_der(der) {
            return Self::from_inner(Inner::P256(key.into()));
        }
        #[cfg(feature = "p384")]
        if let Ok(key) = p384::SecretKey::from_sec1_der(der) {
            return Self::from_inner(Inner::P384(key.into()));
        }
        #[cfg(not(feature = "p384"))]
        if disabled::sec1_curve(der) == Some(oid::SECP384R1) {
            return Err(disabled::P384);
        }
        Err(CryptoError::InvalidKey(
            "not a P-256 or P-384 SEC1 private key",
        ))
    }

    /// Load a PKCS#1 `RSAPrivateKey` (RFC 8017 appendix A.1.2); without the
    /// `rsa` feature, [`CryptoError::Unsupported`].
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        #[cfg(feature = "rsa")]
        return Self::from_inner(Self::rsa(rsa_from_pkcs1(der)?));
        #[cfg(not(feature = "rsa"))]
        return Err(if disabled::is_pkcs1_private_key(der) {
            disabled::RSA
        } else {
            CryptoError::InvalidKey("malformed RSA private key")
        });
    }

    /// Load a DER private key in any of the forms [`PrivateKey::from_pem`]
    /// reads: PKCS#8, then SEC1, then PKCS#1. A key of an algorithm compiled
    /// out fails with [`CryptoError::Unsupported`].
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        if PrivateKeyInfoRef::from_der(der).is_ok() {
            return Self::from_pkcs8_der(der);
        }
        Self::from_sec1_der(der)
            .or_else(|e| match e {
                CryptoError::Unsupported(_) => Err(e),
                _ => Self::from_pkcs1_der(der),
            })
            .map_err(|e| match e {
                CryptoError::Unsupported(_) => e,
                _ => CryptoError::InvalidKey("not a PKCS#8, SEC1 or PKCS#1 private key"),
            })
    }

    /// Load the first private key of a PEM document: `PRIVATE KEY`
    /// (PKCS#8), `EC PRIVATE KEY` (SEC1) or `RSA PRIVATE KEY` (PKCS#1).
    ///
    /// Other blocks before it (such as OpenSSL's `EC PARAMETERS`) are
    /// skipped; `ENCRYPTED PRIVATE KEY` is refused as unsupported.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        for block in pem_blocks(pem) {
            let (label, der) = der::pem::decode_vec(block.as_bytes())
                .map_err(|_| CryptoError::InvalidKey("malformed PEM"))?;
            let der = Zeroizing::new(der);
            match label {
                "PRIVATE KEY" => return Self::from_pkcs8_der(&der),
                "EC PRIVATE KEY" => return Self::from_sec1_der(&der),
                "RSA PRIVATE KEY" => return Self::from_pkcs1_der(&der),
                "ENCRYPTED PRIVATE KEY" => {
                    return Err(CryptoError::Unsupported("encrypted private keys"));
                }
                _ => {}
            }
        }
        Err(CryptoError::InvalidKey("no private key in the PEM input"))
    }

    /// The key as unencrypted PKCS#8 DER (RFC 5208 v1 form; ML-DSA keys in
    /// the RFC 9881 seed form).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let encoded: Result<SecretDocument, pkcs8::Error> = match &self.inner {
            Inner::P256(k) => k.to_pkcs8_der(),
            #[cfg(feature = "p384")]
            Inner::P384(k) => k.to_pkcs8_der(),
            #[cfg(feature = "rsa")]
            Inner::Rsa(k) if k.key_algorithm.oid == oid::RSA_ENCRYPTION => k.key.to_pkcs8_der(),
            #[cfg(feature = "rsa")]
            Inner::Rsa(k) => {
                let pkcs1 = k
                    .key
                    .to_pkcs1_der()
                    .map_err(|_| CryptoError::Other("encoding RSA private key"))?;
                let private_key = OctetStringRef::new(pkcs1.as_bytes())
                    .map_err(|_| CryptoError::Other("encoding RSA private key"))?;
                let info = PrivateKeyInfoRef::new(
                    AlgorithmIdentifierRef::from(&k.key_algorithm),
                    private_key,
                );
                SecretDocument::encode_msg(&info).map_err(pkcs8::Error::from)
            }
            #[cfg(feature = "ed25519")]
            Inner::Ed25519(k) => ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: k.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_der(),
            #[cfg(feature = "ml-dsa")]
            Inner::MlDsa44(k) => k.to_pkcs8_der(),
            #[cfg(feature = "ml-dsa")]
            Inner::MlDsa65(k) => k.to_pkcs8_der(),
            #[cfg(feature = "ml-dsa")]
            Inner::MlDsa87(k) => k.to_pkcs8_der(),
        };
        encoded
            .map(|doc| doc.to_bytes())
            .map_err(|_| CryptoError::Other("encoding PKCS#8 private key"))
    }

    /// The key as an unencrypted PKCS#8 PEM document (`PRIVATE KEY`, LF line
    /// endings).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, CryptoError> {
        let der = self.to_pkcs8_der()?;
        der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &der)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Other("encoding PEM"))
    }

    /// Sign with `alg` from now on, if the key can.
    ///
    /// ECDSA keys take SHA-256, SHA-384 or SHA-512; RSA keys take PKCS#1 v1.5
    /// with SHA-224/256/384/512 or RSASSA-PSS with SHA-256/384/512 (an
    /// id-RSASSA-PSS key only PSS, with the hash its parameters name).
    /// Returns [`CryptoError::InvalidKey`] if the algorithm is for another
    /// key type and [`CryptoError::Unsupported`] for an unsupported hash.
    pub fn with_signature_algorithm(
        mut self,
        alg: SignatureAlgorithm,
    ) -> Result<Self, CryptoError> {
        match (&self.inner, alg) {
            (Inner::P256(_), SignatureAlgorithm::Ecdsa(h)) => {
                if !ecdsa_hash_supported(h) {
                    return Err(CryptoError::Unsupported("ECDSA hash algorithm"));
                }
            }
            #[cfg(feature = "p384")]
            (Inner::P384(_), SignatureAlgorithm::Ecdsa(h)) => {
                if !ecdsa_hash_supported(h) {
                    return Err(CryptoError::Unsupported("ECDSA hash algorithm"));
                }
            }
            #[cfg(feature = "rsa")]
            (Inner::Rsa(k), SignatureAlgorithm::RsaPkcs1(h)) => {
                if k.usage != RsaUse::Any {
                    return Err(CryptoError::InvalidKey(
                        "RSASSA-PSS key cannot sign PKCS#1 v1.5",
                    ));
                }
                if !rsa_pkcs1_hash_supported(h) {
                    return Err(CryptoError::Unsupported("RSA PKCS#1 v1.5 hash algorithm"));
                }
            }
            #[cfg(feature = "rsa")]
            (Inner::Rsa(k), SignatureAlgorithm::RsaPss(h)) => {
                if !rsa_pss::pss_hash_supported(h) {
                    return Err(CryptoError::Unsupported("RSASSA-PSS hash algorithm"));
                }
                if matches!(k.usage, RsaUse::PssOnly(Some(restricted)) if restricted != h) {
                    return Err(CryptoError::InvalidKey(
                        "RSASSA-PSS key restricted to another hash",
                    ));
                }
            }
            #[cfg(feature = "ed25519")]
            (Inner::Ed25519(_), SignatureAlgorithm::Ed25519) => {}
            #[cfg(feature = "ml-dsa")]
            (Inner::MlDsa44(_), SignatureAlgorithm::MlDsa44)
            | (Inner::MlDsa65(_), SignatureAlgorithm::MlDsa65)
            | (Inner::MlDsa87(_), SignatureAlgorithm::MlDsa87) => {}
            _ => return Err(WRONG_KEY),
        }
        self.algorithm_identifier = signature_algorithm_identifier(alg)?;
        self.algorithm = alg;
        Ok(self)
    }

    /// Sign RSASSA-PSS with SHA-256 (MGF1-SHA-256, 32-byte salt) instead of
    /// PKCS#1 v1.5. Fails with [`CryptoError::InvalidKey`] for a non-RSA key.
    pub fn with_rsa_pss(self) -> Result<Self, CryptoError> {
        const NOT_RSA: CryptoError = CryptoError::InvalidKey("RSASSA-PSS needs an RSA key");
        #[cfg(feature = "rsa")]
        let hash = match &self.inner {
            Inner::Rsa(k) => match k.usage {
                RsaUse::PssOnly(Some(hash)) => hash,
                _ => DigestAlgorithm::Sha256,
            },
            _ => return Err(NOT_RSA),
        };
        #[cfg(feature = "rsa")]
        return self.with_signature_algorithm(SignatureAlgorithm::RsaPss(hash));
        // Without the feature there are no RSA keys.
        #[cfg(not(feature = "rsa"))]
        return Err(NOT_RSA);
    }

    /// The key type, if it is one [`PrivateKey::generate`] makes (an RSA key
    /// of another size gives `None`).
    pub fn key_algorithm(&self) -> Option<KeyAlgorithm> {
        Some(match &self.inner {
            Inner::P256(_) => KeyAlgorithm::EcP256,
            #[cfg(feature = "p384")]
            Inner::P384(_) => KeyAlgorithm::EcP384,
            #[cfg(feature = "rsa")]
            Inner::Rsa(k) => match k.key.size() {
                256 => KeyAlgorithm::Rsa2048,
                384 => KeyAlgorithm::Rsa3072,
                _ => return None,
            },
            #[cfg(feature = "ed25519")]
            Inner::Ed25519(_) => KeyAlgorithm::Ed25519,
            #[cfg(feature = "ml-dsa")]
            Inner::MlDsa44(_) => KeyAlgorithm::MlDsa44,
            #[cfg(feature = "ml-dsa")]
            Inner::MlDsa65(_) => KeyAlgorithm::MlDsa65,
            #[cfg(feature = "ml-dsa")]
            Inner::MlDsa87(_) => KeyAlgorithm::MlDsa87,
        })
    }

    /// Box the key, the form `cmp-core` credentials hold.
    pub fn into_boxed(self) -> BoxedSigningKey {
        Box::new(self)
    }
}

impl SigningKey for PrivateKey {
    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.public_key.clone()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn algorithm_identifier(&self) -> AlgorithmIdentifierOwned {
        self.algorithm_identifier.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        const FAILED: CryptoError = CryptoError::Other("signing failed");
        match (&self.inner, self.algorithm) {
            (Inner::P256(k), SignatureAlgorithm::Ecdsa(h)) => {
                let sig: p256::ecdsa::DerSignature = k
                    .sign_prehash(&hash::digest(h, &[message]))
                    .map_err(|_| FAILED)?;
                Ok(sig.as_bytes().to_vec())
            }
            #[cfg(feature = "p384")]
            (Inner::P384(k), SignatureAlgorithm::Ecdsa(h)) => {
                let sig: p384::ecdsa::DerSignature = k
                    .sign_prehash(&hash::digest(h, &[message]))
                    .map_err(|_| FAILED)?;
                Ok(sig.as_bytes().to_vec())
            }
            #[cfg(feature = "rsa")]
            (Inner::Rsa(k), SignatureAlgorithm::RsaPkcs1(h)) => {
                let hashed = hash::digest(h, &[message]);
                with_digest!(h, D => k.key.sign(Pkcs1v15Sign::new::<D>(), &hashed))
                    .map_err(|_| FAILED)
            }
            #[cfg(feature = "rsa")]
            (Inner::Rsa(k), SignatureAlgorithm::RsaPss(h)) => {
                let hashed = hash::digest(h, &[message]);
                // Salt as long as the hash; RSA blinding on; OS RNG for both.
                with_digest!(h, D => k.key.sign(Pss::<D>::new(), &hashed)).map_err(|_| FAILED)
            }
            #[cfg(feature = "ed25519")]
            (Inner::Ed25519(k), SignatureAlgorithm::Ed25519) => {
                let sig: ed25519_dalek::Signature = k.try_sign(message).map_err(|_| FAILED)?;
                Ok(sig.to_bytes().to_vec())
            }
            #[cfg(feature = "ml-dsa")]
            (Inner::MlDsa44(k), SignatureAlgorithm::MlDsa44) => ml_dsa_sign(k, message),
            #[cfg(feature = "ml-dsa")]
            (Inner::MlDsa65(k), SignatureAlgorithm::MlDsa65) => ml_dsa_sign(k, message),
            #[cfg(feature = "ml-dsa")]
            (Inner::MlDsa87(k), SignatureAlgorithm::MlDsa87) => ml_dsa_sign(k, message),
            // `with_signature_algorithm` keeps key and algorithm in step.
            _ => Err(WRONG_KEY),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}
