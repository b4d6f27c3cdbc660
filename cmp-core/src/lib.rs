//! Sans-IO Certificate Management Protocol (CMP, RFC 9810).
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod alg;
pub mod asn1;
pub mod client;
pub mod crypto;
pub mod error;
pub mod limits;
pub mod message;
pub mod pop;
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
