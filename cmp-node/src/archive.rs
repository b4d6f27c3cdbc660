//! Key archiving by the requester (pkiArchiveOptions, RFC 4211 section
//! 6.4): the control that carries the request's private key, encrypted for
//! the CA, in an enrollment (`archiveKey`, `archiveCert`).

use cmp_core::asn1::AttributeTypeAndValue;
use cmp_core::client::ClientConfig;
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
    cmp_core::archive::client_control(config, &der, cert.as_ref())?.ok_or_else(|| {
        usage(
            "archiveKey without a MAC secret in the ClientConfig needs archiveCert (the CA's certificate)",
        )
    })
}
