//! ML-DSA private keys in PKCS#8 (RFC 9881 section 6).
//!
//! ```text
//! ML-DSA-PrivateKey ::= CHOICE {
//!     seed [0] OCTET STRING (SIZE (32)),
//!     expandedKey OCTET STRING,
//!     both SEQUENCE { seed OCTET STRING (SIZE (32)), expandedKey OCTET STRING } }
//! ```
//!
//! The `seed` and `both` forms are read (for `both`, the expanded key must be
//! the one the seed expands to); the expanded-only form is refused, since the
//! key cannot be checked and would not be written back out. Keys are written
//! in the `seed` form.

use cmp_core::crypto::CryptoError;
use der::asn1::{AnyRef, OctetStringRef};
use der::zeroize::Zeroizing;
use der::{Decode, Tag, TagNumber, Tagged};
use ml_dsa::{MlDsaParams, Seed, SigningKey};

const MALFORMED: CryptoError = CryptoError::InvalidKey("malformed ML-DSA private key");

fn seed_from(bytes: &[u8]) -> Result<Zeroizing<Seed>, CryptoError> {
    Seed::try_from(bytes)
        .map(Zeroizing::new)
        .map_err(|_| MALFORMED)
}

/// Decode the `privateKey` contents of an ML-DSA PKCS#8 `PrivateKeyInfo`.
pub(crate) fn decode<P: MlDsaParams>(private_key: &[u8]) -> Result<SigningKey<P>, CryptoError> {
    let any = AnyRef::from_der(private_key).map_err(|_| MALFORMED)?;
    match any.tag() {
        Tag::ContextSpecific {
            constructed: false,
            number: TagNumber(0),
        } => Ok(SigningKey::from_seed(&*seed_from(any.value())?)),
        Tag::Sequence => {
            let (seed, expanded) = any
                .sequence(|reader| {
                    let seed = <&OctetStringRef>::decode(reader)?;
                    let expanded = <&OctetStringRef>::decode(reader)?;
                    Ok::<_, der::Error>((seed.as_bytes(), expanded.as_bytes()))
                })
                .map_err(|_| MALFORMED)?;
            let key = SigningKey::<P>::from_seed(&*seed_from(seed)?);
            #[allow(deprecated, reason = "only to check the expanded key against the seed")]
            let ours = Zeroizing::new(key.expanded_key().to_expanded());
            if ours.as_slice() != expanded {
                return Err(CryptoError::InvalidKey(
                    "ML-DSA private key: expanded key does not match the seed",
                ));
            }
            Ok(key)
        }
        Tag::OctetString => Err(CryptoError::Unsupported(
            "ML-DSA private key in expanded-only form",
        )),
        _ => Err(MALFORMED),
    }
}
