//! Registration authority helpers (RFC 9483 section 5): forwarding a
//! request upstream under the RA's own protection, and nested messages for
//! additional protection and batching.

use alloc::vec::Vec;

use der::asn1::Null;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::asn1::{PkiBody, PkiMessage, ProofOfPossession};
use crate::crypto::CryptoProvider;
use crate::error::{Error, Result};
use crate::message::{HeaderBuilder, ParsedMessage};
use crate::pop;
use crate::protection::Protector;
use crate::time::Timestamp;

/// How an RA forwards a request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForwardOptions {
    /// Verify a signature POP here and replace it by `raVerified` (RFC 9483
    /// section 5.2.3.2); the upstream CA must authorise this RA for it.
    pub ra_verified: bool,
}

/// Re-protect a request from an end entity with the RA's credentials
/// ("replacing protection", RFC 9483 section 5.2.3.2).
///
/// transactionID, nonces, recipient and generalInfo are kept; the sender
/// becomes the RA (its signer subject, or `ra_name`), messageTime is `now`,
/// and the end entity's extraCerts follow the RA's own. The caller must have
/// authenticated `msg` (see [`crate::verify::authenticate`]).
pub fn forward_request(
    msg: &ParsedMessage,
    ra: &Protector,
    ra_name: Option<Name>,
    options: ForwardOptions,
    provider: &dyn CryptoProvider,
    now: Timestamp,
) -> Result<Vec<u8>> {
    let original = msg.message();
    let mut header = original.header.clone();
    header.protection_alg = None;
    header.sender_kid = None;
    header.message_time = Some(now.to_generalized_time()?);
    if let Some(name) = ra_name.or_else(|| ra.signer_subject().cloned()) {
        header.sender = GeneralName::DirectoryName(name);
    }
    let mut body = original.body.clone();
    if options.ra_verified
        && let PkiBody::Ir(reqs) | PkiBody::Cr(reqs) | PkiBody::Kur(reqs) = &mut body
    {
        for req in reqs.iter_mut() {
            if matches!(req.popo, Some(ProofOfPossession::Signature(_))) {
                pop::verify_signature_pop(req, provider)?;
                req.popo = Some(ProofOfPossession::RaVerified(Null));
            }
        }
    }
    let extra = original.extra_certs.clone().unwrap_or_default();
    ra.protect_to_der(header, body, extra, provider)
}

/// Wrap messages in a `nested` message protected by the RA: one message for
/// additional protection (RFC 9483 section 5.2.2.1), several for batching
/// (section 5.2.2.2). The outer header gets a fresh transactionID and nonce.
pub fn nest(
    messages: Vec<PkiMessage>,
    ra: &Protector,
    recipient: Option<Name>,
    provider: &dyn CryptoProvider,
    now: Timestamp,
) -> Result<Vec<u8>> {
    if messages.is_empty() {
        return Err(Error::Usage("a nested message needs at least one message"));
    }
    let mut builder = HeaderBuilder::new();
    if let Some(name) = ra.signer_subject() {
        builder = builder.sender_name(name.clone());
    }
    if let Some(r) = recipient {
        builder = builder.recipient_name(r);
    }
    let header = builder.build(provider, now)?;
    ra.protect_to_der(header, PkiBody::Nested(messages), Vec::new(), provider)
}

/// The messages inside a `nested` message.
pub fn unnest(msg: &ParsedMessage) -> Result<&[PkiMessage]> {
    match msg.body() {
        PkiBody::Nested(inner) => Ok(inner),
        _ => Err(Error::UnexpectedBody {
            got: msg.body_type().name(),
        }),
    }
}
