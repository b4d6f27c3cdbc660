//! Mapping between algorithm identifiers on the wire and the algorithm enums
//! of [`crate::crypto`], in one place.

use alloc::string::ToString;

use der::asn1::{Any, Null, ObjectIdentifier};
use spki::AlgorithmIdentifierOwned;

use crate::asn1::oid;
use crate::crypto::{DigestAlgorithm, HmacAlgorithm, SignatureAlgorithm};
use crate::error::{Error, Result};

fn unsupported(oid: &ObjectIdentifier) -> Error {
    Error::UnsupportedAlgorithm(oid.to_string())
}

/// The digest named by a hash OID.
pub fn digest_from_oid(o: &ObjectIdentifier) -> Result<DigestAlgorithm> {
    Ok(match *o {
        oid::SHA1 => DigestAlgorithm::Sha1,
        oid::SHA224 => DigestAlgorithm::Sha224,
        oid::SHA256 => DigestAlgorithm::Sha256,
        oid::SHA384 => DigestAlgorithm::Sha384,
        oid::SHA512 => DigestAlgorithm::Sha512,
        _ => return Err(unsupported(o)),
    })
}

/// The hash OID of a digest.
pub fn digest_oid(d: DigestAlgorithm) -> ObjectIdentifier {
    match d {
        DigestAlgorithm::Sha1 => oid::SHA1,
        DigestAlgorithm::Sha224 => oid::SHA224,
        DigestAlgorithm::Sha256 => oid::SHA256,
        DigestAlgorithm::Sha384 => oid::SHA384,
        DigestAlgorithm::Sha512 => oid::SHA512,
    }
}

/// The `AlgorithmIdentifier` of a digest (parameters absent, RFC 5754).
pub fn digest_algorithm_identifier(d: DigestAlgorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: digest_oid(d),
        parameters: None,
    }
}

/// The HMAC named by an HMAC OID (both the RFC 4231 and the IPsec hmac-sha1 arcs).
pub fn hmac_from_oid(o: &ObjectIdentifier) -> Result<HmacAlgorithm> {
    Ok(HmacAlgorithm(match *o {
        oid::HMAC_SHA1_IPSEC | oid::HMAC_WITH_SHA1 => DigestAlgorithm::Sha1,
        oid::HMAC_WITH_SHA224 => DigestAlgorithm::Sha224,
        oid::HMAC_WITH_SHA256 => DigestAlgorithm::Sha256,
        oid::HMAC_WITH_SHA384 => DigestAlgorithm::Sha384,
        oid::HMAC_WITH_SHA512 => DigestAlgorithm::Sha512,
        _ => return Err(unsupported(o)),
    }))
}

/// The RFC 4231 / RFC 8018 OID of an HMAC.
pub fn hmac_oid(h: HmacAlgorithm) -> ObjectIdentifier {
    match h.0 {
        DigestAlgorithm::Sha1 => oid::HMAC_WITH_SHA1,
        DigestAlgorithm::Sha224 => oid::HMAC_WITH_SHA224,
        DigestAlgorithm::Sha256 => oid::HMAC_WITH_SHA256,
        DigestAlgorithm::Sha384 => oid::HMAC_WITH_SHA384,
        DigestAlgorithm::Sha512 => oid::HMAC_WITH_SHA512,
    }
}

/// The `AlgorithmIdentifier` of an HMAC (parameters NULL, as RFC 8018 and
/// OpenSSL encode them).
pub fn hmac_algorithm_identifier(h: HmacAlgorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: hmac_oid(h),
        parameters: Some(Any::from(Null)),
    }
}

/// The signature algorithm named by a signature `AlgorithmIdentifier`.
///
/// RSASSA-PSS returns the hash from its parameters; the backend checks the
/// remaining parameters when it verifies.
pub fn signature_from_identifier(alg: &AlgorithmIdentifierOwned) -> Result<SignatureAlgorithm> {
    use DigestAlgorithm::*;
    use SignatureAlgorithm::*;
    Ok(match alg.oid {
        oid::SHA224_WITH_RSA => RsaPkcs1(Sha224),
        oid::SHA256_WITH_RSA => RsaPkcs1(Sha256),
        oid::SHA384_WITH_RSA => RsaPkcs1(Sha384),
        oid::SHA512_WITH_RSA => RsaPkcs1(Sha512),
        oid::RSASSA_PSS => RsaPss(pss_hash(alg)?),
        oid::ECDSA_WITH_SHA224 => Ecdsa(Sha224),
        oid::ECDSA_WITH_SHA256 => Ecdsa(Sha256),
        oid::ECDSA_WITH_SHA384 => Ecdsa(Sha384),
        oid::ECDSA_WITH_SHA512 => Ecdsa(Sha512),
        oid::ED25519 => Ed25519,
        oid::ML_DSA_44 => MlDsa44,
        oid::ML_DSA_65 => MlDsa65,
        oid::ML_DSA_87 => MlDsa87,
        ref o => return Err(unsupported(o)),
    })
}

/// The hash a certificate's signature algorithm uses, for the certHash of
/// certConf (RFC 9810 section 5.3.18). `None` for algorithms that name no
/// hash (EdDSA, ML-DSA): those need `hashAlg` (pvno 3).
pub fn signature_hash(alg: SignatureAlgorithm) -> Option<DigestAlgorithm> {
    match alg {
        SignatureAlgorithm::RsaPkcs1(d)
        | SignatureAlgorithm::RsaPss(d)
        | SignatureAlgorithm::Ecdsa(d) => Some(d),
        _ => None,
    }
}

/// The hash named in RSASSA-PSS-params (hashAlgorithm [0], default SHA-1).
fn pss_hash(alg: &AlgorithmIdentifierOwned) -> Result<DigestAlgorithm> {
    use der::{Decode, Encode, Sequence};

    #[derive(Sequence)]
    struct PssParamsHashOnly {
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        hash_algorithm: Option<AlgorithmIdentifierOwned>,
        #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
        mask_gen_algorithm: Option<AlgorithmIdentifierOwned>,
        #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
        salt_length: Option<u32>,
        #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
        trailer_field: Option<u32>,
    }

    let params = alg
        .parameters
        .as_ref()
        .ok_or_else(|| Error::UnsupportedAlgorithm("RSASSA-PSS without parameters".into()))?;
    let der = params.to_der().map_err(Error::Encode)?;
    let parsed = PssParamsHashOnly::from_der(&der).map_err(Error::Decode)?;
    match parsed.hash_algorithm {
        Some(h) => digest_from_oid(&h.oid),
        None => Ok(DigestAlgorithm::Sha1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_and_hmac_oids_round_trip() {
        for d in [
            DigestAlgorithm::Sha1,
            DigestAlgorithm::Sha224,
            DigestAlgorithm::Sha256,
            DigestAlgorithm::Sha384,
            DigestAlgorithm::Sha512,
        ] {
            assert_eq!(digest_from_oid(&digest_oid(d)).unwrap(), d);
            assert_eq!(
                hmac_from_oid(&hmac_oid(HmacAlgorithm(d))).unwrap(),
                HmacAlgorithm(d)
            );
        }
        assert_eq!(
            hmac_from_oid(&oid::HMAC_SHA1_IPSEC).unwrap(),
            HmacAlgorithm(DigestAlgorithm::Sha1)
        );
    }

    #[test]
    fn unknown_oids_are_typed_errors() {
        let o = ObjectIdentifier::new_unwrap("1.2.3.4");
        assert!(matches!(
            digest_from_oid(&o),
            Err(Error::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            hmac_from_oid(&o),
            Err(Error::UnsupportedAlgorithm(_))
        ));
        let alg = AlgorithmIdentifierOwned {
            oid: o,
            parameters: None,
        };
        assert!(matches!(
            signature_from_identifier(&alg),
            Err(Error::UnsupportedAlgorithm(_))
        ));
        let pss = AlgorithmIdentifierOwned {
            oid: oid::RSASSA_PSS,
            parameters: None,
        };
        assert!(matches!(
            signature_from_identifier(&pss),
            Err(Error::UnsupportedAlgorithm(_))
        ));
    }
}
