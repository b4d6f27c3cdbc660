//! Message protection: apply and verify MAC (PBM, PBMAC1) and signature
//! protection (RFC 9810 section 5.1.3, RFC 9481).
//!
//! Verification always runs over the `ProtectedPart` bytes as received
//! (see [`ParsedMessage::protected_part`]), MAC comparison is constant time,
//! and every key-derivation parameter a peer controls is capped by
//! [`Limits`].

pub mod kem;
pub mod mac;

use alloc::sync::Arc;
use alloc::vec::Vec;

use der::asn1::{BitString, OctetString};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::alg;
use crate::asn1::{PkiBody, PkiHeader, PkiMessage};
use crate::crypto::{CryptoError, CryptoProvider, SigningKey};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::message::{ParsedMessage, encode_protected_part};

pub use mac::MacScheme;

/// What kind of protection a message carries, judged from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtectionKind {
    /// No protectionAlg and no protection.
    None,
    /// PasswordBasedMac or PBMAC1.
    Mac,
    /// A signature.
    Signature,
}

/// The kind of protection `msg` carries.
///
/// Errors: `UnsupportedAlgorithm` for a protectionAlg we do not know,
/// `MissingProtection` when protectionAlg and protection disagree.
pub fn protection_kind(msg: &ParsedMessage) -> Result<ProtectionKind> {
    let alg = msg.header().protection_alg.as_ref();
    match (alg, msg.protection()) {
        (None, None) => Ok(ProtectionKind::None),
        (None, Some(_)) | (Some(_), None) => Err(Error::MissingProtection),
        (Some(a), Some(_)) if mac::is_mac_protection(&a.oid) => Ok(ProtectionKind::Mac),
        (Some(a), Some(_)) => alg::signature_from_identifier(a).map(|_| ProtectionKind::Signature),
    }
}

/// Credentials that protect the messages we send.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)] // built once per configuration, not per message
pub enum Protector {
    /// No protection (negative tests, or where policy allows).
    None,
    /// A shared secret identified by a reference value (senderKID).
    Mac {
        /// The reference value sent as senderKID.
        reference: Vec<u8>,
        /// The shared secret.
        secret: Vec<u8>,
        /// How the MAC key is derived.
        scheme: MacScheme,
    },
    /// A private key with its certificate (and chain, leaf's issuer first).
    Signature {
        /// The signing key.
        key: Arc<dyn SigningKey>,
        /// Its certificate: its subject is the sender, its SKI the senderKID.
        cert: Certificate,
        /// Chain certificates to send in extraCerts after `cert`.
        chain: Vec<Certificate>,
    },
}

impl core::fmt::Debug for Protector {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::None => f.write_str("Protector::None"),
            Self::Mac { scheme, .. } => f
                .debug_struct("Protector::Mac")
                .field("scheme", scheme)
                .finish_non_exhaustive(),
            Self::Signature { cert, .. } => f
                .debug_struct("Protector::Signature")
                .field("subject", &cert.tbs_certificate().subject())
                .finish_non_exhaustive(),
        }
    }
}

impl Protector {
    /// A MAC protector with the default scheme (PBM, SHA-256).
    pub fn mac(reference: &[u8], secret: &[u8]) -> Self {
        Self::Mac {
            reference: reference.to_vec(),
            secret: secret.to_vec(),
            scheme: MacScheme::PBM_SHA256,
        }
    }

    /// The subject of the signer's certificate, which RFC 9483 requires as sender.
    pub fn signer_subject(&self) -> Option<&x509_cert::name::Name> {
        match self {
            Self::Signature { cert, .. } => Some(cert.tbs_certificate().subject()),
            _ => None,
        }
    }

    /// Protect `header` + `body`: sets protectionAlg and senderKID, computes
    /// the protection, and for signatures puts the signer's certificate and
    /// chain first in extraCerts, followed by `extra_certs`.
    pub fn protect(
        &self,
        header: PkiHeader,
        body: PkiBody,
        extra_certs: Vec<Certificate>,
        provider: &dyn CryptoProvider,
    ) -> Result<PkiMessage> {
        self.protect_with_part(header, body, extra_certs, provider)
            .map(|(message, _)| message)
    }

    /// [`Self::protect`], returning the message's DER. The header and body
    /// are encoded once: the ProtectedPart encoded for the protection is
    /// reused for the message.
    pub fn protect_to_der(
        &self,
        header: PkiHeader,
        body: PkiBody,
        extra_certs: Vec<Certificate>,
        provider: &dyn CryptoProvider,
    ) -> Result<Vec<u8>> {
        match self.protect_with_part(header, body, extra_certs, provider)? {
            (message, Some(part)) => crate::message::message_der_from_protected_part(
                &part,
                message.protection.as_ref(),
                message.extra_certs.as_ref(),
            ),
            (message, None) => crate::message::encode(&message),
        }
    }

    /// The protected message and, when protection was computed, the DER of
    /// its ProtectedPart.
    fn protect_with_part(
        &self,
        mut header: PkiHeader,
        body: PkiBody,
        extra_certs: Vec<Certificate>,
        provider: &dyn CryptoProvider,
    ) -> Result<(PkiMessage, Option<Vec<u8>>)> {
        let mut certs = Vec::new();
        let mut part = None;
        let protection = match self {
            Self::None => None,
            Self::Mac {
                reference,
                secret,
                scheme,
            } => {
                let mut salt = alloc::vec![0u8; scheme.salt_len()];
                provider.fill(&mut salt)?;
                let alg_id = scheme.algorithm_identifier(&salt)?;
                header.protection_alg = Some(alg_id.clone());
                header.sender_kid =
                    Some(OctetString::new(reference.clone()).map_err(Error::Encode)?);
                let data = encode_protected_part(&header, &body)?;
                let transaction_id = header
                    .transaction_id
                    .as_ref()
                    .map(|t| t.as_bytes().to_vec())
                    .unwrap_or_default();
                // our own parameters: only the structural limits apply
                let value = mac_value(
                    &transaction_id,
                    &alg_id,
                    secret,
                    &data,
                    provider,
                    &Limits {
                        max_pbm_iterations: u64::MAX,
                        max_pbkdf2_iterations: u64::MAX,
                        min_iterations: 1,
                        ..Limits::DEFAULT
                    },
                )?;
                part = Some(data);
                Some(value)
            }
            Self::Signature { key, cert, chain } => {
                header.protection_alg = Some(key.algorithm_identifier());
                if let Some(ski) = subject_key_identifier(cert)? {
                    header.sender_kid = Some(OctetString::new(ski).map_err(Error::Encode)?);
                }
                let data = encode_protected_part(&header, &body)?;
                certs.push(cert.clone());
                certs.extend(chain.iter().cloned());
                let signature = key.sign(&data)?;
                part = Some(data);
                Some(signature)
            }
        };
        for c in extra_certs {
            if !certs.contains(&c) {
                certs.push(c);
            }
        }
        let protection = protection
            .map(|p| BitString::from_bytes(&p))
            .transpose()
            .map_err(Error::Encode)?;
        let message = PkiMessage {
            header,
            body,
            protection,
            extra_certs: if certs.is_empty() { None } else { Some(certs) },
        };
        Ok((message, part))
    }
}

/// The subjectKeyIdentifier extension of `cert`, if present.
pub fn subject_key_identifier(cert: &Certificate) -> Result<Option<Vec<u8>>> {
    match cert
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
    {
        Ok(Some((_, ski))) => Ok(Some(ski.0.as_bytes().to_vec())),
        Ok(None) => Ok(None),
        Err(e) => Err(Error::Decode(e)),
    }
}

/// Verify MAC protection of `msg` with `secret`.
///
/// Errors: `MissingProtection`, `WrongIntegrity` (signature-protected),
/// `UnsupportedAlgorithm`, `IterationCountTooHigh`, `BadMessageCheck`.
pub fn verify_mac(
    msg: &ParsedMessage,
    secret: &[u8],
    provider: &dyn CryptoProvider,
    limits: &Limits,
) -> Result<()> {
    match protection_kind(msg)? {
        ProtectionKind::None => return Err(Error::MissingProtection),
        ProtectionKind::Signature => return Err(Error::WrongIntegrity),
        ProtectionKind::Mac => {}
    }
    let (Some(alg_id), Some(received)) = (msg.header().protection_alg.as_ref(), msg.protection())
    else {
        return Err(Error::MissingProtection);
    };
    let transaction_id = msg.transaction_id().unwrap_or_default();
    let expected = mac_value(
        transaction_id,
        alg_id,
        secret,
        msg.protected_part(),
        provider,
        limits,
    )?;
    if provider.constant_time_eq(&expected, received) {
        Ok(())
    } else {
        Err(Error::BadMessageCheck)
    }
}

/// The MAC of `data`: KEM-based MACs are bound to the transactionID, the
/// password-based ones are not.
fn mac_value(
    transaction_id: &[u8],
    alg_id: &spki::AlgorithmIdentifierOwned,
    secret: &[u8],
    data: &[u8],
    provider: &dyn CryptoProvider,
    limits: &Limits,
) -> Result<Vec<u8>> {
    if alg_id.oid == crate::asn1::oid::KEM_BASED_MAC {
        kem::compute_mac(alg_id, secret, transaction_id, data, provider)
    } else {
        mac::compute_mac(alg_id, secret, data, provider, limits)
    }
}

/// Verify signature protection of `msg` with the signer's public key.
///
/// This checks the signature only; whether the signer is trusted is the
/// caller's decision (certificate path validation).
pub fn verify_signature(
    msg: &ParsedMessage,
    signer: &SubjectPublicKeyInfoOwned,
    provider: &dyn CryptoProvider,
) -> Result<()> {
    match protection_kind(msg)? {
        ProtectionKind::None => return Err(Error::MissingProtection),
        ProtectionKind::Mac => return Err(Error::WrongIntegrity),
        ProtectionKind::Signature => {}
    }
    let (Some(alg_id), Some(sig)) = (msg.header().protection_alg.as_ref(), msg.protection()) else {
        return Err(Error::MissingProtection);
    };
    let sig_alg = alg::signature_from_identifier(alg_id)?;
    match provider.verify_signature(sig_alg, alg_id, signer, msg.protected_part(), sig) {
        Ok(()) => Ok(()),
        Err(CryptoError::BadSignature) | Err(CryptoError::InvalidKey(_)) => {
            Err(Error::BadMessageCheck)
        }
        Err(CryptoError::Unsupported(what)) => Err(Error::UnsupportedAlgorithm(what.into())),
        Err(e) => Err(Error::Crypto(e)),
    }
}

/// Verify signature protection with the public key of `cert`.
pub fn verify_signature_with_cert(
    msg: &ParsedMessage,
    cert: &Certificate,
    provider: &dyn CryptoProvider,
) -> Result<()> {
    verify_signature(
        msg,
        cert.tbs_certificate().subject_public_key_info(),
        provider,
    )
}

/// Find the signer's certificate among extraCerts: the one whose SKI equals
/// senderKID, else whose subject equals the sender's directory name, else
/// the first one (RFC 9483 section 3.3: the signer's certificate comes first).
pub fn find_signer_cert(msg: &ParsedMessage) -> Option<&Certificate> {
    let certs = msg.extra_certs();
    if let Some(kid) = msg.sender_kid()
        && let Some(c) = certs
            .iter()
            .find(|c| matches!(subject_key_identifier(c), Ok(Some(ski)) if ski == kid))
    {
        return Some(c);
    }
    if let x509_cert::ext::pkix::name::GeneralName::DirectoryName(name) = &msg.header().sender
        && let Some(c) = certs.iter().find(|c| c.tbs_certificate().subject() == name)
    {
        return Some(c);
    }
    certs.first()
}
