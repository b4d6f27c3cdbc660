//! The end-entity side of CMP: one [`ClientTransaction`] per exchange,
//! sans-IO, shaped like quinn-proto's `Connection`.
//!
//! Inputs are `handle_*` calls (a response, a timer, the caller's decision
//! on an issued certificate), outputs are `poll_*` calls (bytes to send, a
//! time to wake up). The caller always passes `now`.
//!
//! ```text
//! let mut tx = ClientTransaction::start_ir(config, request, now)?;
//! loop {
//!     while let Some(bytes) = tx.poll_transmit() { send(bytes) }
//!     match tx.handle_response(&receive(), now)? {
//!         ClientEvent::CertificateIssued(issued) => tx.confirm(Confirmation::Accept, now)?,
//!         ClientEvent::Completed => break,
//!         _ => {}
//!     }
//! }
//! ```

mod request;
mod transaction;

pub use request::{
    EnrollKind, EnrollRequest, GenmRequest, KeyRecoveryRequest, PopMethod, RevokeRequest,
    crl_reason_extension,
};
pub use transaction::{
    ClientEvent, ClientTransaction, Confirmation, IssuedCertificate, RecoveredKey, RecoveredKeys,
    TransactionKind,
};

use alloc::sync::Arc;
use alloc::vec::Vec;

use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::asn1::cmp::pvno;
use crate::crypto::CryptoProvider;
use crate::limits::Limits;
use crate::protection::Protector;
use crate::trust::TrustStore;

/// Everything a client transaction needs besides the request itself.
#[derive(Clone)]
pub struct ClientConfig {
    /// The crypto backend.
    pub provider: Arc<dyn CryptoProvider>,
    /// How requests are protected (MAC, signature, or none for negative tests).
    pub protector: Protector,
    /// The sender name; default: the signer's subject, else the requested
    /// subject (MAC enrollment), else NULL-DN.
    pub sender: Option<Name>,
    /// The recipient name (the CA); default NULL-DN.
    pub recipient: Option<Name>,
    /// When set, responses must come from this sender.
    pub expected_sender: Option<GeneralName>,
    /// Trust anchors for signature-protected responses.
    pub server_trust: Option<TrustStore>,
    /// Shared secret accepted on MAC-protected responses; default: the
    /// protector's secret.
    pub response_secret: Option<Vec<u8>>,
    /// Untrusted intermediates for building the server's chain.
    pub untrusted: Vec<Certificate>,
    /// Accept responses without protection (only for negative tests).
    pub accept_unprotected_responses: bool,
    /// Largest accepted difference between messageTime and `now`, seconds
    /// (`None`: not checked).
    pub max_time_skew: Option<u64>,
    /// Ask for implicit confirmation.
    pub implicit_confirm: bool,
    /// Protocol version for requests (2, or 3 when RFC 9810 features are used).
    pub pvno: u64,
    /// Give up when the whole transaction takes longer than this many seconds.
    pub total_timeout: Option<u64>,
    /// Decoding and verification caps.
    pub limits: Limits,
    /// Extra certificates to send in every request's extraCerts.
    pub extra_certs: Vec<Certificate>,
    /// The transactionID of the first message; default: a fresh random one.
    /// Set it to continue the transaction of a KEM ciphertext genm
    /// ([`crate::kem`]), whose MAC key is bound to that transactionID.
    pub transaction_id: Option<Vec<u8>>,
    /// Extra generalInfo of the first message (e.g. the KemCiphertextInfo
    /// of [`crate::kem::encapsulate_to`]).
    pub first_general_info: Vec<crate::asn1::InfoTypeAndValue>,
}

impl ClientConfig {
    /// A configuration with RFC 9483 defaults around the given credentials.
    pub fn new(provider: Arc<dyn CryptoProvider>, protector: Protector) -> Self {
        Self {
            provider,
            protector,
            sender: None,
            recipient: None,
            expected_sender: None,
            server_trust: None,
            response_secret: None,
            untrusted: Vec::new(),
            accept_unprotected_responses: false,
            max_time_skew: Some(600),
            implicit_confirm: false,
            pvno: pvno::CMP2000,
            total_timeout: None,
            limits: Limits::DEFAULT,
            extra_certs: Vec::new(),
            transaction_id: None,
            first_general_info: Vec::new(),
        }
    }

    /// The secret MAC-protected responses are checked with.
    pub(crate) fn mac_secret(&self) -> Option<&[u8]> {
        if let Some(s) = &self.response_secret {
            return Some(s);
        }
        match &self.protector {
            Protector::Mac { secret, .. } => Some(secret),
            _ => None,
        }
    }
}

impl core::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("protector", &self.protector)
            .field("sender", &self.sender)
            .field("recipient", &self.recipient)
            .field("implicit_confirm", &self.implicit_confirm)
            .field("pvno", &self.pvno)
            .finish_non_exhaustive()
    }
}
