//! RSASSA-PSS parameters (RFC 8017 appendix A.2.3, RFC 4055 section 3.1).
//!
//! CMP (RFC 9481 section 3.1.2) uses RSASSA-PSS with the same hash for the
//! message and for MGF1, a salt as long as the hash and the standard trailer
//! field. That is the only parameter set this module builds and the only one
//! it accepts.

use alloc::vec::Vec;

use cmp_core::alg::{digest_from_oid, digest_oid};
use cmp_core::asn1::oid;
use cmp_core::crypto::{CryptoError, DigestAlgorithm};
use der::asn1::AnyRef;
use der::{Any, Decode, Encode};
use rsa::pkcs1::{RsaPssParams, RsaPssParamsOwned, RsaPssParamsRef, TrailerField};
use spki::{AlgorithmIdentifier, AlgorithmIdentifierOwned, AlgorithmIdentifierRef};

/// The hashes RSASSA-PSS is offered with.
pub(crate) fn pss_hash_supported(hash: DigestAlgorithm) -> bool {
    matches!(
        hash,
        DigestAlgorithm::Sha256 | DigestAlgorithm::Sha384 | DigestAlgorithm::Sha512
    )
}

/// The `AlgorithmIdentifier` of RSASSA-PSS with `hash`: full
/// RSASSA-PSS-params, with NULL hash parameters as in the RFC 4055 ASN.1
/// module (`sha256Identifier` etc.) and as OpenSSL writes them.
pub(crate) fn pss_algorithm_identifier(
    hash: DigestAlgorithm,
) -> Result<AlgorithmIdentifierOwned, CryptoError> {
    let hash_id = AlgorithmIdentifierRef {
        oid: digest_oid(hash),
        parameters: Some(AnyRef::NULL),
    };
    let salt_len = u8::try_from(hash.output_len())
        .map_err(|_| CryptoError::Unsupported("RSASSA-PSS salt length"))?;
    let params: RsaPssParamsRef<'_> = RsaPssParams {
        hash: hash_id,
        mask_gen: AlgorithmIdentifier {
            oid: oid::MGF1,
            parameters: Some(hash_id),
        },
        salt_len,
        trailer_field: TrailerField::BC,
    };
    let parameters =
        Any::encode_from(&params).map_err(|_| CryptoError::Other("encoding RSASSA-PSS-params"))?;
    Ok(AlgorithmIdentifierOwned {
        oid: oid::RSASSA_PSS,
        parameters: Some(parameters),
    })
}

/// Decode RSASSA-PSS-params from the parameters of an `AlgorithmIdentifier`.
///
/// Returns `None` when the parameters are absent (a key without restrictions).
fn decode_params(parameters: Option<&Any>) -> Result<Option<Vec<u8>>, CryptoError> {
    match parameters {
        None => Ok(None),
        Some(any) => any
            .to_der()
            .map(Some)
            .map_err(|_| CryptoError::Unsupported("malformed RSASSA-PSS parameters")),
    }
}

/// Whether hash `AlgorithmIdentifier` parameters are acceptable: absent or
/// NULL (RFC 4055 section 2.1: both MUST be accepted).
fn absent_or_null(parameters: Option<&Any>) -> bool {
    parameters.is_none_or(Any::is_null)
}

/// The hash named by RSASSA-PSS-params, once they are known to be the
/// standard set: MGF1 with the same hash, salt length = hash length,
/// trailerField 1.
fn standard_params_hash(der: &[u8]) -> Result<DigestAlgorithm, CryptoError> {
    const WHAT: &str = "RSASSA-PSS parameters other than hash = MGF1 hash, salt = hash length";
    let params = RsaPssParamsOwned::from_der(der)
        .map_err(|_| CryptoError::Unsupported("malformed RSASSA-PSS parameters"))?;
    let hash = digest_from_oid(&params.hash.oid)
        .map_err(|_| CryptoError::Unsupported("RSASSA-PSS hash algorithm"))?;
    if !absent_or_null(params.hash.parameters.as_ref()) {
        return Err(CryptoError::Unsupported(WHAT));
    }
    let mgf_hash = params
        .mask_gen
        .parameters
        .as_ref()
        .ok_or(CryptoError::Unsupported(WHAT))?;
    if params.mask_gen.oid != oid::MGF1
        || mgf_hash.oid != params.hash.oid
        || !absent_or_null(mgf_hash.parameters.as_ref())
        || usize::from(params.salt_len) != hash.output_len()
        || params.trailer_field != TrailerField::BC
    {
        return Err(CryptoError::Unsupported(WHAT));
    }
    Ok(hash)
}

/// Check that the `AlgorithmIdentifier` a signature came with is
/// id-RSASSA-PSS with exactly the parameters implied by `hash`.
pub(crate) fn check_signature_params(
    hash: DigestAlgorithm,
    alg: &AlgorithmIdentifierOwned,
) -> Result<(), CryptoError> {
    if !pss_hash_supported(hash) {
        return Err(CryptoError::Unsupported("RSASSA-PSS hash algorithm"));
    }
    if alg.oid != oid::RSASSA_PSS {
        return Err(CryptoError::Unsupported(
            "RSASSA-PSS signature without id-RSASSA-PSS",
        ));
    }
    // Absent parameters mean SHA-1 with a 20-byte salt: never what `hash` implies.
    let der = decode_params(alg.parameters.as_ref())?.ok_or(CryptoError::Unsupported(
        "RSASSA-PSS with default (SHA-1) parameters",
    ))?;
    if standard_params_hash(&der)? != hash {
        return Err(CryptoError::Unsupported(
            "RSASSA-PSS parameters name another hash",
        ));
    }
    Ok(())
}

/// For a public key whose algorithm is id-RSASSA-PSS: the hash its parameters
/// restrict it to, if any (RFC 4055 section 1.2).
pub(crate) fn key_restriction(
    parameters: Option<&Any>,
) -> Result<Option<DigestAlgorithm>, CryptoError> {
    match decode_params(parameters)? {
        None => Ok(None),
        Some(der) => standard_params_hash(&der)
            .map(Some)
            .map_err(|_| CryptoError::InvalidKey("unsupported RSASSA-PSS key parameters")),
    }
}
