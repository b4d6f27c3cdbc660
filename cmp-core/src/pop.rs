//! Proof-of-possession for certificate requests (RFC 4211 section 4,
//! RFC 9483 section 4.1.1).

use der::Encode;
use der::asn1::{BitString, Null};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::request::CertReq;

use crate::alg;
use crate::asn1::{
    CertReqMsg, CertRequest, PopoSigningKey, PopoSigningKeyAuthInfo, ProofOfPossession,
};
use crate::crypto::{CryptoError, CryptoProvider, SigningKey};
use crate::error::{Error, Result};

/// Signature POP: `key` signs the DER of `req` (the template carries subject
/// and public key, so `poposkInput` is omitted).
pub fn signature_pop(req: &CertRequest, key: &dyn SigningKey) -> Result<ProofOfPossession> {
    let der = req.to_der().map_err(Error::Encode)?;
    let signature = key.sign(&der)?;
    Ok(ProofOfPossession::Signature(PopoSigningKey {
        poposk_input: None,
        algorithm_identifier: key.algorithm_identifier(),
        signature: BitString::from_bytes(&signature).map_err(Error::Encode)?,
    }))
}

/// `raVerified` POP, for an RA that has checked possession itself.
pub fn ra_verified() -> ProofOfPossession {
    ProofOfPossession::RaVerified(Null)
}

/// Verify a signature POP of `msg`.
///
/// Errors with `BadPop` when the POP is missing, is not a signature, does
/// not verify, or its key is not the template's; other POP kinds
/// (raVerified, key encipherment) are the caller's policy and give
/// `BadPop` here too.
pub fn verify_signature_pop(msg: &CertReqMsg, provider: &dyn CryptoProvider) -> Result<()> {
    let Some(ProofOfPossession::Signature(popo)) = &msg.popo else {
        return Err(Error::BadPop);
    };
    let template_key = msg.cert_req.cert_template.public_key.as_ref();
    let (signed, key): (alloc::vec::Vec<u8>, &SubjectPublicKeyInfoOwned) = match &popo.poposk_input
    {
        None => {
            let key = template_key.ok_or(Error::BadCertTemplate("public key missing"))?;
            (msg.cert_req.to_der().map_err(Error::Encode)?, key)
        }
        Some(input) => {
            // RFC 4211 4.1: only allowed when the template lacks subject or key;
            // the key signed for must then be the one to certify.
            if let Some(k) = template_key
                && *k != input.public_key
            {
                return Err(Error::BadPop);
            }
            if matches!(input.auth_info, PopoSigningKeyAuthInfo::PublicKeyMac(_)) {
                return Err(Error::BadPop);
            }
            (input.to_der().map_err(Error::Encode)?, &input.public_key)
        }
    };
    verify_pop_signature(
        provider,
        &popo.algorithm_identifier,
        key,
        &signed,
        popo.signature.as_bytes(),
    )
}

/// A PKCS#10 request's self-signature, which is its proof-of-possession
/// (p10cr): `BadPop` when it does not verify.
pub fn verify_csr_pop(csr: &CertReq, provider: &dyn CryptoProvider) -> Result<()> {
    let info = csr.info.to_der().map_err(Error::Encode)?;
    verify_pop_signature(
        provider,
        &csr.algorithm,
        &csr.info.public_key,
        &info,
        csr.signature.as_bytes(),
    )
}

/// `signature` by `key` over `signed` under `alg`, or `BadPop`; only a
/// failure of the provider itself is reported as such.
fn verify_pop_signature(
    provider: &dyn CryptoProvider,
    alg: &AlgorithmIdentifierOwned,
    key: &SubjectPublicKeyInfoOwned,
    signed: &[u8],
    signature: Option<&[u8]>,
) -> Result<()> {
    let sig_alg = alg::signature_from_identifier(alg).map_err(|_| Error::BadPop)?;
    let sig = signature.ok_or(Error::BadPop)?;
    match provider.verify_signature(sig_alg, alg, key, signed, sig) {
        Ok(()) => Ok(()),
        Err(
            CryptoError::BadSignature | CryptoError::InvalidKey(_) | CryptoError::Unsupported(_),
        ) => Err(Error::BadPop),
        Err(e) => Err(Error::Crypto(e)),
    }
}
