//! The ASN.1 message model: CMP (RFC 9810) and CRMF (RFC 4211) types,
//! written with `der`'s derive macros on the RustCrypto `x509-cert`, `spki`
//! and `cms` types.
//!
//! Every type quotes its ASN.1 definition. All types are owned (no borrowed
//! lifetimes) so that state machines can keep them.

pub mod cmp;
pub mod crmf;
pub mod genm;
pub mod oid;
pub mod params;
pub mod status;

pub use cmp::*;
pub use crmf::*;
pub use genm::*;
pub use params::*;
pub use status::*;
