//! `cmp_signing_key`: a software key, or a C callback (secure element, HSM).

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use cmp_core::asn1::oid;
use cmp_core::crypto::{CryptoError, DigestAlgorithm, SignatureAlgorithm, SigningKey};
use cmp_crypto_rustcrypto::{KeyAlgorithm, PrivateKey};
use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::error::{Failure, cmp_result, guard};
use crate::{free_handle, in_bytes, in_ref, out_bytes, out_handle, out_handle_clear};

/// A private key that signs requests and proves possession of a new key.
/// Made by cmp_signing_key_from_bytes, cmp_signing_key_generate or
/// cmp_signing_key_new_callback; freed by cmp_signing_key_free. Objects that
/// use a key (credentials, transactions) keep their own reference, so the
/// handle may be freed as soon as it has been passed on.
pub struct cmp_signing_key {
    pub(crate) key: Arc<dyn SigningKey>,
}

/// Key types for cmp_signing_key_generate.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_key_algorithm {
    /// ECDSA on P-256 with SHA-256.
    CMP_KEY_EC_P256 = 1,
    /// ECDSA on P-384 with SHA-384.
    CMP_KEY_EC_P384 = 2,
    /// Ed25519.
    CMP_KEY_ED25519 = 3,
    /// RSA 2048 bits, PKCS#1 v1.5 with SHA-256.
    CMP_KEY_RSA2048 = 4,
    /// ML-DSA-44 (FIPS 204); cargo feature `ml-dsa` (on by default).
    CMP_KEY_ML_DSA_44 = 5,
    /// ML-DSA-65 (FIPS 204); cargo feature `ml-dsa` (on by default).
    CMP_KEY_ML_DSA_65 = 6,
    /// ML-DSA-87 (FIPS 204); cargo feature `ml-dsa` (on by default).
    CMP_KEY_ML_DSA_87 = 7,
}

/// The key algorithm of a cmp_key_algorithm value.
pub(crate) fn key_algorithm(value: u32) -> Result<KeyAlgorithm, Failure> {
    Ok(match value {
        1 => KeyAlgorithm::EcP256,
        2 => KeyAlgorithm::EcP384,
        3 => KeyAlgorithm::Ed25519,
        4 => KeyAlgorithm::Rsa2048,
        5 => KeyAlgorithm::MlDsa44,
        6 => KeyAlgorithm::MlDsa65,
        7 => KeyAlgorithm::MlDsa87,
        _ => return Err(Failure::Usage("unknown cmp_key_algorithm")),
    })
}

/// How a signing callback returns ECDSA signatures.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cmp_signature_format {
    /// DER Ecdsa-Sig-Value (what OpenSSL and most libraries return); for
    /// RSA and Ed25519, the raw signature (the only format they have).
    CMP_SIGNATURE_DER = 0,
    /// ECDSA only: r || s, each left-padded to the curve size (64 bytes for
    /// P-256, 96 for P-384), as most secure elements return it.
    CMP_SIGNATURE_RAW_RS = 1,
}

/// Largest signature a callback can return, in bytes.
pub const CMP_MAX_SIGNATURE_LEN: usize = 512;

/// A signing callback, for keys held by a secure element or an HSM.
///
/// Called with the `userdata` given to cmp_signing_key_new_callback and the
/// message to sign (the library hashes nothing: the callback hashes with
/// the key's algorithm, SHA-256 for P-256 and RSA, SHA-384 for P-384, then
/// signs). `message` is valid only during the call. The callback writes at
/// most `signature_capacity` (CMP_MAX_SIGNATURE_LEN) bytes to `signature`,
/// stores their number in `*signature_len` and returns 0; any other return
/// value fails the operation with CMP_CRYPTO. It runs on the thread that
/// called into the library, must not call back into the library with the
/// same transaction, and must not unwind (longjmp/C++ exceptions) through it.
pub type cmp_sign_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        message: *const u8,
        message_len: usize,
        signature: *mut u8,
        signature_capacity: usize,
        signature_len: *mut usize,
    ) -> c_int,
>;

/// Load a private key from PKCS#8, SEC1 (EC) or PKCS#1 (RSA), PEM or DER.
///
/// `data`/`len` are copied. On success `*out` owns a new key (free it with
/// cmp_signing_key_free); on failure `*out` is NULL.
/// Errors: CMP_NULL_POINTER, CMP_CRYPTO (not a key this library can use).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_signing_key_from_bytes(
    data: *const u8,
    len: usize,
    out: *mut *mut cmp_signing_key,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract of this function).
        unsafe { out_handle_clear(out)? };
        // SAFETY: `data` points to `len` bytes (contract of this function).
        let bytes = unsafe { in_bytes(data, len, "data")? };
        let key: Arc<dyn SigningKey> = Arc::new(crate::keygen::private_key_of(bytes)?);
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_signing_key { key }) }
    })
}

/// Generate a new key pair with the operating system's random generator.
///
/// On success `*out` owns a new key (free with cmp_signing_key_free).
/// Errors: CMP_NULL_POINTER, CMP_USAGE (unknown `algorithm`), CMP_CRYPTO.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_signing_key_generate(
    algorithm: u32,
    out: *mut *mut cmp_signing_key,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract of this function).
        unsafe { out_handle_clear(out)? };
        let alg = key_algorithm(algorithm)?;
        let key: Arc<dyn SigningKey> = Arc::new(PrivateKey::generate(alg)?);
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_signing_key { key }) }
    })
}

/// A key whose private half stays outside the library: `callback` signs.
///
/// `spki_der`/`spki_len` is the DER SubjectPublicKeyInfo of the key (copied);
/// supported: EC P-256 (signs ecdsa-with-SHA256), EC P-384
/// (ecdsa-with-SHA384), Ed25519, RSA (sha256WithRSAEncryption).
/// `format` is a cmp_signature_format. `userdata` is passed to every call
/// and is not owned: it must stay valid until the key and everything that
/// holds it (credentials, client configurations, transactions) are freed.
/// On success `*out` owns a new key (free with cmp_signing_key_free).
/// Errors: CMP_NULL_POINTER (`callback` or `out`), CMP_DECODE (bad SPKI),
/// CMP_UNSUPPORTED_ALGORITHM, CMP_USAGE (bad `format`).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_signing_key_new_callback(
    spki_der: *const u8,
    spki_len: usize,
    format: u32,
    callback: cmp_sign_callback,
    userdata: *mut c_void,
    out: *mut *mut cmp_signing_key,
) -> cmp_result {
    guard(|| {
        // SAFETY: `out` is NULL or writable (contract of this function).
        unsafe { out_handle_clear(out)? };
        let callback = callback.ok_or(Failure::Null("callback"))?;
        // SAFETY: `spki_der` points to `spki_len` bytes (contract).
        let bytes = unsafe { in_bytes(spki_der, spki_len, "spki_der")? };
        let spki = SubjectPublicKeyInfoOwned::from_der(bytes).map_err(cmp_core::Error::Decode)?;
        let raw_rs = match format {
            0 => false,
            1 => true,
            _ => return Err(Failure::Usage("unknown cmp_signature_format")),
        };
        let (algorithm, alg_id, ec_size) = algorithm_for(&spki)?;
        let key = CallbackKey {
            spki,
            algorithm,
            alg_id,
            ec_raw_size: if raw_rs { ec_size } else { None },
            callback,
            userdata,
        };
        if raw_rs && ec_size.is_none() {
            return Err(Failure::Usage(
                "CMP_SIGNATURE_RAW_RS is for ECDSA keys only",
            ));
        }
        // SAFETY: `out` was checked by out_handle_clear.
        unsafe { out_handle(out, cmp_signing_key { key: Arc::new(key) }) }
    })
}

/// Copy the key's public key (DER SubjectPublicKeyInfo) into `buf`.
///
/// See the header's output-buffer convention (`*len` gets the size needed).
/// Errors: CMP_NULL_POINTER, CMP_BUFFER_TOO_SMALL, CMP_ENCODE.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_signing_key_public_key(
    key: *const cmp_signing_key,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: `key` is NULL or a live key handle (contract).
        let key = unsafe { in_ref(key, "key")? };
        let der = key
            .key
            .public_key()
            .to_der()
            .map_err(cmp_core::Error::Encode)?;
        // SAFETY: `buf`/`cap`/`len` follow the output-buffer convention.
        unsafe { out_bytes(&der, buf, cap, len) }
    })
}

/// Sign `message` with the key, as the library does for protection and
/// proof-of-possession (DER Ecdsa-Sig-Value for ECDSA). Useful to put a
/// software key behind a callback, and for tests.
///
/// Output through `buf` by the output-buffer convention; a signature is at
/// most CMP_MAX_SIGNATURE_LEN bytes for the algorithms of
/// cmp_key_algorithm. Note that the signature is computed before the size
/// check, so probing with a NULL buffer signs twice.
/// Errors: CMP_NULL_POINTER, CMP_CRYPTO, CMP_BUFFER_TOO_SMALL.
#[unsafe(no_mangle)]
pub extern "C" fn cmp_signing_key_sign(
    key: *const cmp_signing_key,
    message: *const u8,
    message_len: usize,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> cmp_result {
    guard(|| {
        // SAFETY: `key` is NULL or a live key handle (contract).
        let key = unsafe { in_ref(key, "key")? };
        // SAFETY: `message` points to `message_len` bytes (contract).
        let message = unsafe { in_bytes(message, message_len, "message")? };
        let sig = key.key.sign(message)?;
        // SAFETY: `buf`/`cap`/`len` follow the output-buffer convention.
        unsafe { out_bytes(&sig, buf, cap, len) }
    })
}

/// Free a key made by this library; NULL is ignored. Objects that were
/// given the key keep working (they hold their own reference).
#[unsafe(no_mangle)]
pub extern "C" fn cmp_signing_key_free(key: *mut cmp_signing_key) {
    crate::error::guard_value((), || {
        // SAFETY: `key` is NULL or a handle from this library not yet freed.
        unsafe { free_handle(key) }
    });
}

/// (signature algorithm, its identifier, ECDSA scalar size) for a public key.
fn algorithm_for(
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<(SignatureAlgorithm, AlgorithmIdentifierOwned, Option<usize>), Failure> {
    let id = |oid: ObjectIdentifier, parameters: Option<Any>| AlgorithmIdentifierOwned {
        oid,
        parameters,
    };
    let unsupported = || {
        Failure::Core(cmp_core::Error::UnsupportedAlgorithm(
            spki.algorithm.oid.to_string(),
        ))
    };
    match spki.algorithm.oid {
        oid::EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or_else(unsupported)?;
            match curve {
                oid::SECP256R1 => Ok((
                    SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
                    id(oid::ECDSA_WITH_SHA256, None),
                    Some(32),
                )),
                oid::SECP384R1 => Ok((
                    SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384),
                    id(oid::ECDSA_WITH_SHA384, None),
                    Some(48),
                )),
                _ => Err(unsupported()),
            }
        }
        oid::ED25519 => Ok((SignatureAlgorithm::Ed25519, id(oid::ED25519, None), None)),
        oid::RSA_ENCRYPTION => Ok((
            SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha256),
            id(oid::SHA256_WITH_RSA, Some(Any::null())),
            None,
        )),
        _ => Err(unsupported()),
    }
}

struct CallbackKey {
    spki: SubjectPublicKeyInfoOwned,
    algorithm: SignatureAlgorithm,
    alg_id: AlgorithmIdentifierOwned,
    /// Some(scalar size) when the callback returns raw r || s.
    ec_raw_size: Option<usize>,
    callback:
        unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut u8, usize, *mut usize) -> c_int,
    userdata: *mut c_void,
}

// SAFETY: the library never calls the callback concurrently on its own; the
// header documents that handles are used from one thread at a time and that
// `userdata` belongs to the caller, who answers for its thread safety.
unsafe impl Send for CallbackKey {}
// SAFETY: as for Send: the key has no interior state besides the pointer.
unsafe impl Sync for CallbackKey {}

impl SigningKey for CallbackKey {
    fn public_key(&self) -> SubjectPublicKeyInfoOwned {
        self.spki.clone()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn algorithm_identifier(&self) -> AlgorithmIdentifierOwned {
        self.alg_id.clone()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut sig = [0u8; CMP_MAX_SIGNATURE_LEN];
        let mut len = 0usize;
        // SAFETY: message and sig are valid for the lengths passed during the
        // call; the callback contract (header) bounds its writes to the
        // capacity, and userdata is the caller's pointer given back unchanged.
        let rc = unsafe {
            (self.callback)(
                self.userdata,
                message.as_ptr(),
                message.len(),
                sig.as_mut_ptr(),
                sig.len(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(CryptoError::Other("the signing callback failed"));
        }
        let sig = sig.get(..len).ok_or(CryptoError::Other(
            "the signing callback returned a length above the capacity",
        ))?;
        match self.ec_raw_size {
            Some(size) => raw_rs_to_der(sig, size),
            None => Ok(sig.to_vec()),
        }
    }
}

/// DER Ecdsa-Sig-Value from r || s (each `size` bytes, size <= 48 so all
/// lengths fit in one byte).
fn raw_rs_to_der(raw: &[u8], size: usize) -> Result<Vec<u8>, CryptoError> {
    if raw.len() != size.saturating_mul(2) || size > 48 {
        return Err(CryptoError::BadSignature);
    }
    let (r, s) = raw.split_at(size);
    let mut body = Vec::with_capacity(2 * size + 6);
    for v in [r, s] {
        let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
        let v = v.get(start..).unwrap_or_default();
        if v.is_empty() {
            return Err(CryptoError::BadSignature); // r and s are never 0
        }
        let pad = v.first().is_some_and(|b| b & 0x80 != 0);
        body.push(0x02);
        body.push(u8::try_from(v.len() + usize::from(pad)).map_err(|_| CryptoError::BadSignature)?);
        if pad {
            body.push(0);
        }
        body.extend_from_slice(v);
    }
    let mut out = Vec::with_capacity(body.len() + 2);
    out.push(0x30);
    out.push(u8::try_from(body.len()).map_err(|_| CryptoError::BadSignature)?);
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = include_bytes!("../../tests/vectors/pki/issued.key");

    unsafe extern "C" fn soft_sign(
        userdata: *mut c_void,
        message: *const u8,
        message_len: usize,
        signature: *mut u8,
        cap: usize,
        signature_len: *mut usize,
    ) -> c_int {
        // userdata is a *const cmp_signing_key for a software key
        let rc = cmp_signing_key_sign(
            userdata.cast(),
            message,
            message_len,
            signature,
            cap,
            signature_len,
        );
        if rc == cmp_result::CMP_OK { 0 } else { -1 }
    }

    unsafe extern "C" fn failing(
        _: *mut c_void,
        _: *const u8,
        _: usize,
        _: *mut u8,
        _: usize,
        _: *mut usize,
    ) -> c_int {
        1
    }

    fn soft_key() -> *mut cmp_signing_key {
        let mut key = std::ptr::null_mut();
        assert_eq!(
            cmp_signing_key_from_bytes(KEY.as_ptr(), KEY.len(), &mut key),
            cmp_result::CMP_OK
        );
        key
    }

    fn spki(key: *const cmp_signing_key) -> Vec<u8> {
        let mut len = 0;
        assert_eq!(
            cmp_signing_key_public_key(key, std::ptr::null_mut(), 0, &mut len),
            cmp_result::CMP_BUFFER_TOO_SMALL
        );
        let mut buf = vec![0u8; len];
        assert_eq!(
            cmp_signing_key_public_key(key, buf.as_mut_ptr(), buf.len(), &mut len),
            cmp_result::CMP_OK
        );
        buf
    }

    #[test]
    fn callback_key_signs_like_the_software_key() {
        let soft = soft_key();
        let spki = spki(soft);
        let mut cb = std::ptr::null_mut();
        assert_eq!(
            cmp_signing_key_new_callback(
                spki.as_ptr(),
                spki.len(),
                0,
                Some(soft_sign),
                soft.cast(),
                &mut cb
            ),
            cmp_result::CMP_OK
        );
        // SAFETY: cb is a live handle made above.
        let k = unsafe { &*cb };
        let sig = k.key.sign(b"hello").unwrap();
        let provider = cmp_crypto_rustcrypto::provider();
        cmp_core::crypto::CryptoProvider::verify_signature(
            provider,
            k.key.algorithm(),
            &k.key.algorithm_identifier(),
            &k.key.public_key(),
            b"hello",
            &sig,
        )
        .unwrap();
        cmp_signing_key_free(cb);
        cmp_signing_key_free(soft);
    }

    #[test]
    fn callback_failures_and_bad_inputs() {
        let soft = soft_key();
        let spki = spki(soft);
        let mut cb = std::ptr::null_mut();
        assert_eq!(
            cmp_signing_key_new_callback(
                spki.as_ptr(),
                spki.len(),
                0,
                Some(failing),
                std::ptr::null_mut(),
                &mut cb
            ),
            cmp_result::CMP_OK
        );
        // SAFETY: cb is a live handle made above.
        assert!(unsafe { &*cb }.key.sign(b"x").is_err());
        cmp_signing_key_free(cb);
        assert_eq!(
            cmp_signing_key_new_callback(
                spki.as_ptr(),
                spki.len(),
                0,
                None,
                std::ptr::null_mut(),
                &mut cb
            ),
            cmp_result::CMP_NULL_POINTER
        );
        assert!(cb.is_null());
        assert_eq!(
            cmp_signing_key_new_callback(
                spki.as_ptr(),
                10,
                0,
                Some(failing),
                std::ptr::null_mut(),
                &mut cb
            ),
            cmp_result::CMP_DECODE
        );
        assert_eq!(
            cmp_signing_key_new_callback(
                spki.as_ptr(),
                spki.len(),
                7,
                Some(failing),
                std::ptr::null_mut(),
                &mut cb
            ),
            cmp_result::CMP_USAGE
        );
        assert_eq!(
            cmp_signing_key_from_bytes(b"junk".as_ptr(), 4, &mut cb),
            cmp_result::CMP_CRYPTO
        );
        assert_eq!(
            cmp_signing_key_from_bytes(std::ptr::null(), 4, &mut cb),
            cmp_result::CMP_NULL_POINTER
        );
        assert_eq!(cmp_signing_key_generate(99, &mut cb), cmp_result::CMP_USAGE);
        cmp_signing_key_free(std::ptr::null_mut());
        cmp_signing_key_free(soft);
    }

    #[test]
    fn raw_rs_becomes_der() {
        let mut raw = [0u8; 64];
        raw[0] = 0x80;
        raw[31] = 1;
        raw[63] = 5;
        let der = raw_rs_to_der(&raw, 32).unwrap();
        assert_eq!(der[..5], [0x30, 0x26, 0x02, 0x21, 0x00]);
        assert_eq!(der[der.len() - 3..], [0x02, 0x01, 0x05]);
        assert!(raw_rs_to_der(&raw[..63], 32).is_err());
        assert!(raw_rs_to_der(&[0u8; 64], 32).is_err());
    }
}
