//! Algorithms compiled out by cargo features: their errors, and just enough
//! parsing to tell a key of such an algorithm from a malformed one.

use cmp_core::crypto::CryptoError;
#[cfg(any(not(feature = "p384"), not(feature = "rsa")))]
use der::{Decode, asn1::AnyRef};

/// P-384 without the `p384` feature.
#[cfg(not(feature = "p384"))]
pub(crate) const P384: CryptoError =
    CryptoError::Unsupported("P-384 (not compiled in: cargo feature `p384`)");

/// RSA without the `rsa` feature.
#[cfg(not(feature = "rsa"))]
pub(crate) const RSA: CryptoError =
    CryptoError::Unsupported("RSA (not compiled in: cargo feature `rsa`)");

/// Ed25519 without the `ed25519` feature.
#[cfg(not(feature = "ed25519"))]
pub(crate) const ED25519: CryptoError =
    CryptoError::Unsupported("Ed25519 (not compiled in: cargo feature `ed25519`)");

/// ML-DSA without the `ml-dsa` feature.
#[cfg(not(feature = "ml-dsa"))]
pub(crate) const ML_DSA: CryptoError =
    CryptoError::Unsupported("ML-DSA (not compiled in: cargo feature `ml-dsa`)");

/// The named curve of a SEC1 `ECPrivateKey` (RFC 5915), if it has one:
///
/// ```text
/// ECPrivateKey ::= SEQUENCE {
///   version        INTEGER { ecPrivkeyVer1(1) },
///   privateKey     OCTET STRING,
///   parameters [0] ECParameters {{ NamedCurve }} OPTIONAL,
///   publicKey  [1] BIT STRING OPTIONAL }
/// ```
#[cfg(not(feature = "p384"))]
pub(crate) fn sec1_curve(der: &[u8]) -> Option<der::asn1::ObjectIdentifier> {
    use der::asn1::{ContextSpecific, ObjectIdentifier, OctetStringRef};
    use der::{Reader, TagNumber};

    AnyRef::from_der(der)
        .ok()?
        .sequence(|reader| {
            if u8::decode(reader)? != 1 {
                return Ok(None);
            }
            <&OctetStringRef>::decode(reader)?;
            let curve = ContextSpecific::<ObjectIdentifier>::decode_explicit(reader, TagNumber(0))?
                .map(|field| field.value);
            // The rest ([1] publicKey) does not matter here.
            while !reader.is_finished() {
                AnyRef::decode(reader)?;
            }
            Ok::<_, der::Error>(curve)
        })
        .ok()
        .flatten()
}

/// Whether `der` has the shape of a PKCS#1 `RSAPrivateKey` (RFC 8017
/// appendix A.1.2): a SEQUENCE of a version and at least eight INTEGERs.
#[cfg(not(feature = "rsa"))]
pub(crate) fn is_pkcs1_private_key(der: &[u8]) -> bool {
    use der::Reader;
    use der::asn1::UintRef;

    AnyRef::from_der(der)
        .and_then(|any| {
            any.sequence(|reader| {
                for _ in 0..9 {
                    UintRef::decode(reader)?;
                }
                while !reader.is_finished() {
                    AnyRef::decode(reader)?;
                }
                Ok(())
            })
        })
        .is_ok()
}
