//! Private keys: PKCS#8 / SEC1 / PKCS#1, PEM or DER, or generated.

use std::sync::Arc;

use cmp_core::crypto::{DecapsulationKey, KemAlgorithm, SigningKey};
use cmp_crypto_rustcrypto::{KemPrivateKey as RcKemKey, KeyAlgorithm, PrivateKey as RcKey};
use napi::bindgen_prelude::{Buffer, Env};
use napi_derive::napi;

use crate::conv::{PemOrDer, bytes_of, der_of, looks_like_pem};
use crate::errors::{JsResult, Res, usage};

/// A key from PEM text or DER bytes.
pub(crate) fn key_of(v: &PemOrDer) -> Res<RcKey> {
    let b = bytes_of(v);
    if looks_like_pem(b) {
        let text = std::str::from_utf8(b).map_err(|_| usage("PEM is not UTF-8"))?;
        Ok(RcKey::from_pem(text)?)
    } else {
        Ok(RcKey::from_der(b)?)
    }
}

/// A private key usable as CMP credential or as the key to certify.
/// Keys can also be passed anywhere as PEM strings or DER Buffers.
#[napi]
pub struct PrivateKey {
    pub(crate) key: RcKey,
}

#[napi]
impl PrivateKey {
    /// Load PEM (PKCS#8, SEC1 "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY") or
    /// DER (PKCS#8, SEC1 or PKCS#1).
    #[napi(factory)]
    pub fn from(env: Env, data: PemOrDer) -> napi::Result<Self> {
        Ok(Self {
            key: key_of(&data).js(&env)?,
        })
    }

    /// Generate a key: "ec:P-256" (default), "ec:P-384", "rsa2048",
    /// "rsa3072", "ed25519", "ml-dsa-44", "ml-dsa-65" or "ml-dsa-87".
    #[napi(factory)]
    pub fn generate(env: Env, algorithm: Option<String>) -> napi::Result<Self> {
        let name = algorithm.as_deref().unwrap_or("ec:P-256");
        let alg = KeyAlgorithm::from_name(name)
            .ok_or_else(|| usage(format!("unknown key algorithm {name:?}")))
            .js(&env)?;
        Ok(Self {
            key: RcKey::generate(alg).js(&env)?,
        })
    }

    /// PKCS#8 PEM.
    #[napi]
    pub fn to_pem(&self, env: Env) -> napi::Result<String> {
        Ok(self.key.to_pkcs8_pem().js(&env)?.to_string())
    }

    /// PKCS#8 DER.
    #[napi]
    pub fn to_der(&self, env: Env) -> napi::Result<Buffer> {
        Ok(Buffer::from(self.key.to_pkcs8_der().js(&env)?.to_vec()))
    }

    /// The SubjectPublicKeyInfo, DER (what `crypto.createPublicKey({format: 'der', type: 'spki'})` reads).
    #[napi]
    pub fn public_key_der(&self, env: Env) -> napi::Result<Buffer> {
        der_of(&self.key.public_key()).js(&env)
    }

    /// The key algorithm ("ec:P-256", ...), or null (RSA of an unusual size).
    #[napi(getter)]
    pub fn algorithm(&self) -> Option<&'static str> {
        self.key.key_algorithm().map(KeyAlgorithm::name)
    }

    /// The OID of the signature algorithm the key signs with.
    #[napi(getter)]
    pub fn signature_algorithm_oid(&self) -> String {
        self.key.algorithm_identifier().oid.to_string()
    }
}

/// An ML-KEM key from PKCS#8 PEM text or DER bytes.
pub(crate) fn kem_key_of(v: &PemOrDer) -> Res<RcKemKey> {
    let b = bytes_of(v);
    if looks_like_pem(b) {
        let text = std::str::from_utf8(b).map_err(|_| usage("PEM is not UTF-8"))?;
        Ok(RcKemKey::from_pem(text)?)
    } else {
        Ok(RcKemKey::from_pkcs8_der(b)?)
    }
}

/// An ML-KEM private key (FIPS 203): a key that cannot sign, certified
/// with the encrypted-certificate proof-of-possession (`pop:
/// 'encryptedCert'`, RFC 9810 section 5.2.8.3).
#[napi]
pub struct KemPrivateKey {
    pub(crate) key: Arc<RcKemKey>,
}

#[napi]
impl KemPrivateKey {
    /// Generate a key: "ml-kem-512", "ml-kem-768" (default) or "ml-kem-1024".
    #[napi(factory)]
    pub fn generate(env: Env, algorithm: Option<String>) -> napi::Result<Self> {
        let alg = match algorithm.as_deref().unwrap_or("ml-kem-768") {
            "ml-kem-512" => KemAlgorithm::MlKem512,
            "ml-kem-768" => KemAlgorithm::MlKem768,
            "ml-kem-1024" => KemAlgorithm::MlKem1024,
            other => return Err(usage(format!("unknown KEM algorithm {other:?}"))).js(&env),
        };
        Ok(Self {
            key: Arc::new(RcKemKey::generate(alg).js(&env)?),
        })
    }

    /// Load PKCS#8 (PEM or DER).
    #[napi(factory)]
    pub fn from(env: Env, data: PemOrDer) -> napi::Result<Self> {
        Ok(Self {
            key: Arc::new(kem_key_of(&data).js(&env)?),
        })
    }

    /// PKCS#8 DER.
    #[napi]
    pub fn to_der(&self, env: Env) -> napi::Result<Buffer> {
        Ok(Buffer::from(self.key.to_pkcs8_der().js(&env)?.to_vec()))
    }

    /// The SubjectPublicKeyInfo, DER.
    #[napi]
    pub fn public_key_der(&self, env: Env) -> napi::Result<Buffer> {
        der_of(&DecapsulationKey::public_key(self.key.as_ref())).js(&env)
    }

    /// "ml-kem-512", "ml-kem-768" or "ml-kem-1024".
    #[napi(getter)]
    pub fn algorithm(&self) -> &'static str {
        match DecapsulationKey::algorithm(self.key.as_ref()) {
            KemAlgorithm::MlKem512 => "ml-kem-512",
            KemAlgorithm::MlKem768 => "ml-kem-768",
            KemAlgorithm::MlKem1024 => "ml-kem-1024",
        }
    }
}
