//! Sans-IO Certificate Management Protocol (CMP, RFC 9810).
//!
//! `cmp-core` holds the whole protocol and none of the I/O: it never opens
//! a socket or a file, never reads a clock and never draws randomness on its
//! own. Bytes go in and come out; the caller passes `now`; cryptography
//! comes through a [`crypto::CryptoProvider`] (the default one is the
//! `cmp-crypto-rustcrypto` crate). The same code serves a blocking CLI, an
//! async server, the Python, Node and C bindings and bare-metal firmware
//! (`no_std` + `alloc` without the default `std` feature).
//!
//! - [`asn1`]: every CMP (RFC 9810) and CRMF (RFC 4211) type, DER in and out;
//! - [`name`]: distinguished names from OpenSSL or RFC 4514 text;
//! - [`message`]: decoding with [`Limits`], the parsed view, header building;
//! - [`protection`]: PasswordBasedMac, PBMAC1, KEM-based MAC and signature protection;
//! - [`kem`]: the KemCiphertextInfo exchange for KEM-based MAC (ML-KEM);
//! - [`pop_kem`]: proof-of-possession of KEM keys by encrypted certificate;
//! - [`pop_challenge`]: proof-of-possession of KEM keys by challenge-response
//!   (popdecc / popdecr);
//! - [`client`]: end-entity transactions (ir, cr, kur, p10cr, rr, genm,
//!   polling, confirmation);
//! - [`server`]: the RA/CA responder with a [`server::TransactionStore`];
//! - [`keygen`]: delivered private keys (central key generation, key
//!   recovery): signed key packages in CMS EnvelopedData;
//! - [`ra`]: forwarding with replaced protection, nested messages;
//! - [`trust`]: certificate path validation for CMP signers;
//! - [`transport`]: RFC 9811 HTTP paths and reply classification, RFC 9482
//!   CoAP framing;
//! - [`announce`]: CA announcements (ckuann, cann, rann, crlann), built and
//!   validated.
//!
//! # Example: enrollment, client and responder in memory
//!
//! ```
//! use std::sync::Arc;
//! use cmp_core::client::{ClientConfig, ClientEvent, ClientTransaction, Confirmation, EnrollKind, EnrollRequest};
//! use cmp_core::protection::Protector;
//! use cmp_core::server::{MemoryStore, Responder, ResponderConfig, StaticSecrets};
//! use cmp_core::Timestamp;
//! use cmp_crypto_rustcrypto::{IssueRequest, KeyAlgorithm, PrivateKey, ReferenceCa, RustCryptoProvider};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let now = Timestamp::now();
//! let provider = Arc::new(RustCryptoProvider);
//!
//! // The CA side: a responder that knows the shared secret of reference "1234".
//! let (mut ca, _root) = ReferenceCa::generate_hierarchy("Example", now, KeyAlgorithm::EcP256)?;
//! let mut config = ResponderConfig::new(provider.clone(), Arc::new(MemoryStore::default()));
//! config.secrets = Some(Arc::new(StaticSecrets::default().with(b"1234", b"1234-5678")));
//! let responder = Responder::new(config);
//!
//! // The end entity: a fresh key, an ir protected with the shared secret.
//! let key = Arc::new(PrivateKey::generate(KeyAlgorithm::EcP256)?);
//! let client = ClientConfig::new(provider, Protector::mac(b"1234", b"1234-5678"));
//! let request = EnrollRequest::new(EnrollKind::Ir, Some("CN=Device".parse()?), key);
//! let mut tx = ClientTransaction::start_ir(client, request, now)?;
//!
//! let mut issued = None;
//! while let Some(bytes) = tx.poll_transmit() {
//!     // Here the bytes would travel over HTTP; the responder answers them,
//!     // asking the application (our reference CA) to decide on requests.
//!     let reply = responder.handle_request_with(&bytes, now, &mut |pending, now| {
//!         let req = IssueRequest::new(pending.subject().cloned().unwrap_or_default(),
//!                                     pending.public_key().cloned().expect("template has a key"));
//!         let cert = ca.issue(&req, now).expect("issued");
//!         pending.issue(cert, None, now).expect("reply built")
//!     });
//!     match tx.handle_response(&reply.bytes, now)? {
//!         ClientEvent::CertificateIssued(cert) => {
//!             issued = Some(cert.cert);
//!             tx.confirm(Confirmation::Accept, now)?; // queues certConf
//!         }
//!         ClientEvent::Completed => break,
//!         _ => {}
//!     }
//! }
//! assert!(tx.is_completed());
//! assert_eq!(issued.unwrap().tbs_certificate().subject().to_string(), "CN=Device");
//! # Ok(())
//! # }
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod alg;
pub mod announce;
pub mod archive;
pub mod asn1;
pub mod client;
pub mod crypto;
pub mod error;
pub mod kem;
pub mod keygen;
pub mod limits;
pub mod message;
pub mod name;
pub mod pop;
pub mod pop_challenge;
pub mod pop_kem;
pub mod protection;
pub mod ra;
pub mod server;
pub mod time;
pub mod transport;
pub mod trust;
pub mod verify;

pub use error::{Error, ErrorKind, PeerFailure, Result};

pub use limits::Limits;
pub use time::Timestamp;
