//! Key archiving by the requester (RFC 4211 section 6.4, RFC 9810 section
//! 5.2.2): the private key of a certificate request, encrypted for the CA in
//! the `pkiArchiveOptions` control, so that it can be recovered later with a
//! key recovery request (krr).
//!
//! The key travels as `EnvelopedData` whose content (type
//! `id-ct-encKeyWithID`) is an `EncKeyWithID` holding the PKCS#8 private
//! key:
//!
//! ```text
//! PKIArchiveOptions ::= CHOICE { encryptedPrivKey [0] EncryptedKey, ... }
//! EncryptedKey      ::= CHOICE { ..., envelopedData [0] EnvelopedData }
//! EncKeyWithID      ::= SEQUENCE {
//!     privateKey  PrivateKeyInfo,
//!     identifier  CHOICE { string UTF8String, generalName GeneralName } OPTIONAL }
//! ```
//!
//! The client builds the control with [`archive_control`] and sends it in
//! [`EnrollRequest::controls`](crate::client::EnrollRequest::controls); the
//! responder's policy reads it with
//! [`PendingRequest::archived_key`](crate::server::PendingRequest::archived_key),
//! which decrypts it and checks that it is the private key of the requested
//! public key.

use der::asn1::{Any, ObjectIdentifier};
use der::zeroize::Zeroizing;
use der::{Decode, Encode, Sequence};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::ext::pkix::name::GeneralName;

use crate::asn1::crmf::{AttributeTypeAndValue, EncryptedKey, PkiArchiveOptions};
use crate::asn1::oid;
use crate::crypto::{CryptoProvider, EnvelopeError, EnvelopeOpener, EnvelopeRecipient};
use crate::error::{Error, Result};
use crate::keygen::{PrivateKeyDer, check_key_pair};
use crate::protection::Protector;
use x509_cert::Certificate;

/// `id-ct-encKeyWithID` (RFC 4211 section 4.2.2.1): the content type of an
/// archived key's EnvelopedData.
pub const ID_CT_ENC_KEY_WITH_ID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.21");

/// `EncKeyWithID`: a private key and, optionally, whose it is.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct EncKeyWithId {
    /// The PKCS#8 `PrivateKeyInfo` (or `OneAsymmetricKey`).
    pub private_key: Any,
    /// Whose key it is: a UTF8String or a GeneralName, kept as DER.
    pub identifier: Option<Any>,
}

/// The `pkiArchiveOptions` control that archives `private_key` (PKCS#8
/// DER) at the CA: encrypted for `recipient`, the CA's certificate (key
/// transport to RSA, key agreement with EC) or the MAC shared secret
/// (password). `identifier`, if given, names the key's owner.
pub fn archive_control(
    provider: &dyn CryptoProvider,
    private_key: &[u8],
    recipient: EnvelopeRecipient<'_>,
    identifier: Option<GeneralName>,
) -> Result<AttributeTypeAndValue> {
    let content = EncKeyWithId {
        private_key: Any::from_der(private_key)
            .map_err(|_| Error::Usage("the private key to archive is not DER"))?,
        identifier: identifier
            .map(|name| Any::encode_from(&name))
            .transpose()
            .map_err(Error::Encode)?,
    };
    let der = Zeroizing::new(content.to_der().map_err(Error::Encode)?);
    let envelope = provider.seal_envelope(recipient, ID_CT_ENC_KEY_WITH_ID, &der)?;
    let options = PkiArchiveOptions::EncryptedPrivKey(EncryptedKey::EnvelopedData(envelope));
    Ok(AttributeTypeAndValue {
        oid: oid::REG_CTRL_PKI_ARCHIVE_OPTIONS,
        value: Any::encode_from(&options).map_err(Error::Encode)?,
    })
}

/// Where a client archives its key: for the CA's certificate `ca_cert` if
/// given (key transport to RSA, key agreement with EC; see
/// [`crate::keygen::recipient_for`]), else under the MAC secret of
/// `protector`; `None` when there is neither (a signature protector and no
/// certificate: the caller says which option is missing).
pub fn client_recipient<'a>(
    protector: &'a Protector,
    ca_cert: Option<&'a Certificate>,
) -> Result<Option<EnvelopeRecipient<'a>>> {
    match (ca_cert, protector) {
        (Some(cert), _) => crate::keygen::recipient_for(None, Some(cert)).map(Some),
        (None, Protector::Mac { secret, .. }) => Ok(Some(EnvelopeRecipient::Password(secret))),
        (None, _) => Ok(None),
    }
}

/// The pkiArchiveOptions control of a client with `config` archiving
/// `private_key` (PKCS#8 DER) for [`client_recipient`]`(protector,
/// ca_cert)`; `None` when that has no recipient.
pub fn client_control(
    config: &crate::client::ClientConfig,
    private_key: &[u8],
    ca_cert: Option<&Certificate>,
) -> Result<Option<AttributeTypeAndValue>> {
    client_recipient(&config.protector, ca_cert)?
        .map(|recipient| archive_control(config.provider.as_ref(), private_key, recipient, None))
        .transpose()
}

/// The private key archived in `controls` (a certificate request's),
/// decrypted with the first of `openers` it is addressed to and checked to
/// belong to `public_key`; `None` without a `pkiArchiveOptions` control or
/// when it asks for something else than archiving this key.
///
/// Errors: [`Error::BadRequest`] (a malformed or repeated control),
/// [`Error::KeyNotForUs`] (no opener can open it),
/// [`Error::KeyDecryptFailed`] (it does not decrypt, or the content is not
/// an EncKeyWithID), [`Error::UnsupportedAlgorithm`] (the
/// deprecated EncryptedValue form, or an algorithm of the envelope),
/// [`Error::KeyMismatch`] (not the key of `public_key`).
pub fn archived_key(
    provider: &dyn CryptoProvider,
    controls: &[AttributeTypeAndValue],
    public_key: &SubjectPublicKeyInfoOwned,
    openers: &[&dyn EnvelopeOpener],
) -> Result<Option<PrivateKeyDer>> {
    let mut found = controls
        .iter()
        .filter(|c| c.oid == oid::REG_CTRL_PKI_ARCHIVE_OPTIONS);
    let control = match (found.next(), found.next()) {
        (None, _) => return Ok(None),
        (Some(c), None) => c,
        (Some(_), Some(_)) => return Err(Error::BadRequest("pkiArchiveOptions twice")),
    };
    let der = control.value.to_der().map_err(Error::Encode)?;
    let options = PkiArchiveOptions::from_der(&der)
        .map_err(|_| Error::BadRequest("malformed pkiArchiveOptions"))?;
    let envelope = match options {
        PkiArchiveOptions::EncryptedPrivKey(EncryptedKey::EnvelopedData(e)) => e,
        PkiArchiveOptions::EncryptedPrivKey(EncryptedKey::EncryptedValue(_)) => {
            return Err(Error::UnsupportedAlgorithm(
                "EncryptedValue (deprecated) in pkiArchiveOptions".into(),
            ));
        }
        PkiArchiveOptions::KeyGenParameters(_) | PkiArchiveOptions::ArchiveRemGenPrivKey(_) => {
            return Ok(None);
        }
    };
    if envelope.encrypted_content.content_type != ID_CT_ENC_KEY_WITH_ID {
        return Err(Error::KeyDecryptFailed(
            "the archived key's content type is not id-ct-encKeyWithID",
        ));
    }
    let mut content = None;
    for opener in openers {
        match opener.open(&envelope) {
            Err(EnvelopeError::NotForUs) => continue,
            other => {
                content = Some(other.map_err(crate::keygen::envelope_error)?);
                break;
            }
        }
    }
    let content = content.ok_or(Error::KeyNotForUs)?;
    let inner = EncKeyWithId::from_der(&content)
        .map_err(|_| Error::KeyDecryptFailed("the archived key is not an EncKeyWithID"))?;
    let key = PrivateKeyDer::new(inner.private_key.to_der().map_err(Error::Encode)?);
    drop(inner);
    check_key_pair(provider, &key, public_key)?;
    Ok(Some(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enc_key_with_id_round_trips() {
        // PrivateKeyInfo is opaque here: any SEQUENCE
        let key = Any::from_der(&[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap();
        let name = GeneralName::DirectoryName("CN=Device".parse().unwrap());
        let text = der::asn1::Utf8StringRef::new("device 7").unwrap();
        for identifier in [
            None,
            Some(Any::encode_from(&text).unwrap()),
            Some(Any::encode_from(&name).unwrap()),
        ] {
            let value = EncKeyWithId {
                private_key: key.clone(),
                identifier,
            };
            let der = value.to_der().unwrap();
            assert_eq!(EncKeyWithId::from_der(&der).unwrap(), value);
        }
    }
}
