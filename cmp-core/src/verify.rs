//! Authenticating a received message: which protection it carries, whether
//! that protection verifies, and whether the signer is trusted (RFC 9483
//! section 3.5). Shared by the client and the responder.

use alloc::vec::Vec;

use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;

use crate::crypto::CryptoProvider;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::message::ParsedMessage;
use crate::protection::{self, ProtectionKind};
use crate::time::Timestamp;
use crate::trust::{TrustStore, ValidationOptions, validate_chain_with_known};

/// What a receiver accepts as protection.
#[derive(Clone, Copy, Debug)]
pub struct ProtectionPolicy<'a> {
    /// Shared secret for MAC-protected messages (`None`: MAC not accepted).
    pub secret: Option<&'a [u8]>,
    /// Trust anchors for signature-protected messages (`None`: signatures not accepted).
    pub trust: Option<&'a TrustStore>,
    /// Further untrusted intermediates for building the signer's chain.
    pub untrusted: &'a [Certificate],
    /// Accept messages without protection (negative tests, or by policy).
    pub accept_unprotected: bool,
}

/// How a message was authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per received message
pub enum Authenticated {
    /// Not protected (accepted by policy).
    Unprotected,
    /// MAC with the shared secret.
    Mac,
    /// KEM-based MAC (RFC 9810 section 5.1.3.4, [`crate::kem`]). It
    /// authenticates the holder of the KEM private key to the party that
    /// encapsulated: to a responder, the requester of `certificate`; to a
    /// client, the responder when the client encapsulated to the responder's
    /// KEM certificate (not when the client holds the KEM key: then only a
    /// signed genp authenticated the responder).
    Kem {
        /// On the responder: the requester's KEM certificate, validated when
        /// the responder encapsulated to it. `None` when the requester
        /// encapsulated to the responder's key (which does not authenticate
        /// the requester), and always on the client.
        certificate: Option<Certificate>,
    },
    /// Signature by this certificate, whose chain (leaf first) validated.
    Signature {
        /// The signer's certificate.
        signer: Certificate,
        /// The validated path, from the signer to the trust anchor.
        path: Vec<Certificate>,
    },
}

/// Verify the protection of `msg` according to `policy`.
///
/// Errors: `MissingProtection` (unprotected and not accepted),
/// `WrongIntegrity` (a kind of protection the policy does not accept),
/// `UnsupportedAlgorithm`, `IterationCountTooHigh`, `BadMessageCheck`,
/// `SignerNotTrusted`.
pub fn authenticate(
    msg: &ParsedMessage,
    policy: &ProtectionPolicy<'_>,
    now: Timestamp,
    provider: &dyn CryptoProvider,
    limits: &Limits,
) -> Result<Authenticated> {
    authenticate_with_known(msg, policy, now, provider, limits, None)
}

/// [`authenticate`], given how an earlier message of the same transaction
/// was authenticated: certificate signatures on that message's validated
/// signer path are not verified again (see
/// [`crate::trust::validate_chain_with_known`]). The message's own
/// protection is always verified, and the path is always checked at `now`.
pub fn authenticate_with_known(
    msg: &ParsedMessage,
    policy: &ProtectionPolicy<'_>,
    now: Timestamp,
    provider: &dyn CryptoProvider,
    limits: &Limits,
    known: Option<&Authenticated>,
) -> Result<Authenticated> {
    let known_path = match known {
        Some(Authenticated::Signature { path, .. }) => path.as_slice(),
        _ => &[],
    };
    match protection::protection_kind(msg)? {
        ProtectionKind::None if policy.accept_unprotected => Ok(Authenticated::Unprotected),
        ProtectionKind::None => Err(Error::MissingProtection),
        ProtectionKind::Mac => {
            let secret = policy.secret.ok_or(Error::WrongIntegrity)?;
            protection::verify_mac(msg, secret, provider, limits)?;
            if msg.protection_alg_oid() == Some(crate::asn1::oid::KEM_BASED_MAC) {
                Ok(Authenticated::Kem { certificate: None })
            } else {
                Ok(Authenticated::Mac)
            }
        }
        ProtectionKind::Signature => {
            let store = policy.trust.ok_or(Error::WrongIntegrity)?;
            let signer = protection::find_signer_cert(msg)
                .ok_or(Error::SignerNotTrusted(
                    "no signer certificate in extraCerts",
                ))?
                .clone();
            // The signature first: a forged message must report badMessageCheck
            // whatever its certificates claim.
            protection::verify_signature_with_cert(msg, &signer, provider)?;
            let mut extra: Vec<Certificate> = msg.extra_certs().to_vec();
            extra.extend(policy.untrusted.iter().cloned());
            let path = validate_chain_with_known(
                &signer,
                &extra,
                store,
                now,
                &ValidationOptions::for_cmp_signer(),
                provider,
                known_path,
            )?;
            // RFC 9483 section 3.5: the sender must be the signer's subject.
            if let GeneralName::DirectoryName(name) = &msg.header().sender {
                if name != signer.tbs_certificate().subject() {
                    return Err(Error::WrongSender);
                }
            } else {
                return Err(Error::WrongSender);
            }
            Ok(Authenticated::Signature {
                signer,
                path: path.into_certificates(),
            })
        }
    }
}

/// Check messageTime against `now` when a skew window is configured.
pub fn check_message_time(
    msg: &ParsedMessage,
    now: Timestamp,
    max_skew: Option<u64>,
) -> Result<()> {
    match (max_skew, msg.message_time()) {
        (Some(skew), Some(t)) if t.abs_diff(now) > skew => Err(Error::BadTime),
        _ => Ok(()),
    }
}
