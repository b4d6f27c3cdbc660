//! Key archiving by the requester (pkiArchiveOptions, RFC 4211 section
//! 6.4): the control that carries the request's private key, encrypted for
//! the CA, in an enrollment (`archiveKey`, `archiveCert`).

use cmp_core::asn1::AttributeTypeAndValue;
use cmp_core::client::ClientConfig;
use cmp_core::crypto::EnvelopeRecipient;
use cmp_core::keygen::recipient_for;
use cmp_core::protection::Protector;
use cmp_crypto_rustcrypto::PrivateKey;

use crate::conv::{PemOrDer, cert_of};
use crate::errors::{Res, usage};

/// The pkiArchiveOptions control archiving `key`: encrypted for
/// `archive_cert` (the CA's certificate: key transport to RSA, key
/// agreement with EC) if given, else under the MAC secret of `config`.
pub(crate) fn archive_control(
    config: &ClientConfig,
    key: &PrivateKey,
    archive_cert: Option<&PemOrDer>,
) -> Res<AttributeTypeAndValue> {
    let der = key.to_pkcs8_der()?;
    let cert = archive_cert.map(cert_of).transpose()?;
    let secret = match &config.protector {
        Protector::Mac { secret, .. } => Some(secret.as_slice()),
        _ => None,
    };
    let recipient = match (&cert, secret) {
        (Some(cert), _) => recipient_for(None, Some(cert))?,
        (None, Some(secret)) => EnvelopeRecipient::Password(secret),
        (None, None) => {
            return Err(usage(
                "archiveKey without a MAC secret in the ClientConfig needs archiveCert (the CA's certificate)",
            ));
        }
    };
    Ok(cmp_core::archive::archive_control(
        config.provider.as_ref(),
        &der,
        recipient,
        None,
    )?)
}
