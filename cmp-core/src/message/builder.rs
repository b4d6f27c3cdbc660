//! Building PKIHeaders: fresh transactionID and senderNonce from the
//! provider's RNG, messageTime from the caller's `now`.

use alloc::vec::Vec;

use der::asn1::{Any, OctetString};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::asn1::cmp::pvno;
use crate::asn1::{InfoTypeAndValue, PkiFreeText, PkiHeader};
use crate::crypto::SecureRandom;
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// Length of generated transactionIDs (RFC 9483: 128 bits).
pub const TRANSACTION_ID_LEN: usize = 16;
/// Length of generated nonces (RFC 9483: 128 bits).
pub const NONCE_LEN: usize = 16;

/// Builds a [`PkiHeader`]. Fields left unset get RFC 9483 defaults: pvno 2,
/// a NULL-DN sender and recipient, a fresh transactionID and senderNonce,
/// and messageTime = `now`.
#[derive(Clone, Debug)]
pub struct HeaderBuilder {
    pvno: u64,
    sender: GeneralName,
    recipient: GeneralName,
    transaction_id: Option<Vec<u8>>,
    sender_nonce: Option<Vec<u8>>,
    recip_nonce: Option<Vec<u8>>,
    sender_kid: Option<Vec<u8>>,
    recip_kid: Option<Vec<u8>>,
    free_text: Option<PkiFreeText>,
    general_info: Vec<InfoTypeAndValue>,
    with_message_time: bool,
}

impl Default for HeaderBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// The NULL-DN GeneralName (`directoryName` with an empty RDN sequence).
pub fn null_dn() -> GeneralName {
    GeneralName::DirectoryName(Name::default())
}

impl HeaderBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        Self {
            pvno: pvno::CMP2000,
            sender: null_dn(),
            recipient: null_dn(),
            transaction_id: None,
            sender_nonce: None,
            recip_nonce: None,
            sender_kid: None,
            recip_kid: None,
            free_text: None,
            general_info: Vec::new(),
            with_message_time: true,
        }
    }

    /// Protocol version.
    pub fn pvno(mut self, pvno: u64) -> Self {
        self.pvno = pvno;
        self
    }

    /// Sender name.
    pub fn sender(mut self, sender: GeneralName) -> Self {
        self.sender = sender;
        self
    }

    /// Sender as a directory name.
    pub fn sender_name(self, name: Name) -> Self {
        self.sender(GeneralName::DirectoryName(name))
    }

    /// Recipient name.
    pub fn recipient(mut self, recipient: GeneralName) -> Self {
        self.recipient = recipient;
        self
    }

    /// Recipient as a directory name.
    pub fn recipient_name(self, name: Name) -> Self {
        self.recipient(GeneralName::DirectoryName(name))
    }

    /// Use this transactionID instead of a fresh one (later messages of a transaction).
    pub fn transaction_id(mut self, id: &[u8]) -> Self {
        self.transaction_id = Some(id.to_vec());
        self
    }

    /// Use this senderNonce instead of a fresh one (tests only: nonces must be fresh).
    pub fn sender_nonce(mut self, nonce: &[u8]) -> Self {
        self.sender_nonce = Some(nonce.to_vec());
        self
    }

    /// recipNonce: the peer's last senderNonce.
    pub fn recip_nonce(mut self, nonce: &[u8]) -> Self {
        self.recip_nonce = Some(nonce.to_vec());
        self
    }

    /// senderKID (set by MAC protection to the reference value).
    pub fn sender_kid(mut self, kid: &[u8]) -> Self {
        self.sender_kid = Some(kid.to_vec());
        self
    }

    /// recipKID.
    pub fn recip_kid(mut self, kid: &[u8]) -> Self {
        self.recip_kid = Some(kid.to_vec());
        self
    }

    /// freeText.
    pub fn free_text(mut self, lines: PkiFreeText) -> Self {
        self.free_text = Some(lines);
        self
    }

    /// Add a generalInfo entry.
    pub fn general_info(mut self, itav: InfoTypeAndValue) -> Self {
        self.general_info.push(itav);
        self
    }

    /// Add id-it-implicitConfirm (value NULL) to generalInfo.
    pub fn implicit_confirm(self) -> Self {
        self.general_info(InfoTypeAndValue {
            info_type: crate::asn1::oid::IT_IMPLICIT_CONFIRM,
            info_value: Some(Any::from(der::asn1::Null)),
        })
    }

    /// Leave messageTime out (for negative tests).
    pub fn without_message_time(mut self) -> Self {
        self.with_message_time = false;
        self
    }

    /// Build the header, drawing fresh values from `rng` where needed.
    pub fn build(self, rng: &dyn SecureRandom, now: Timestamp) -> Result<PkiHeader> {
        let fresh = |len: usize| -> Result<Vec<u8>> {
            let mut v = alloc::vec![0u8; len];
            rng.fill(&mut v)?;
            Ok(v)
        };
        let octets = |v: Vec<u8>| OctetString::new(v).map_err(Error::Encode);
        let transaction_id = match self.transaction_id {
            Some(id) => id,
            None => fresh(TRANSACTION_ID_LEN)?,
        };
        let sender_nonce = match self.sender_nonce {
            Some(n) => n,
            None => fresh(NONCE_LEN)?,
        };
        Ok(PkiHeader {
            pvno: self.pvno,
            sender: self.sender,
            recipient: self.recipient,
            message_time: if self.with_message_time {
                Some(now.to_generalized_time()?)
            } else {
                None
            },
            protection_alg: None,
            sender_kid: self.sender_kid.map(octets).transpose()?,
            recip_kid: self.recip_kid.map(octets).transpose()?,
            transaction_id: Some(octets(transaction_id)?),
            sender_nonce: Some(octets(sender_nonce)?),
            recip_nonce: self.recip_nonce.map(octets).transpose()?,
            free_text: self.free_text,
            general_info: if self.general_info.is_empty() {
                None
            } else {
                Some(self.general_info)
            },
        })
    }
}
