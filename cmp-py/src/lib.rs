//! Python bindings of `cmp-core`: the extension module `cmp_protocol._native`.
//!
//! The Python package around it (`cmp-py/python/cmp_protocol`) defines the
//! exception classes and the transport conveniences; everything here is
//! re-exported from `cmp_protocol`. Conventions:
//!
//! - bytes in, bytes out: messages, certificates (DER; PEM accepted as
//!   input), keys (PKCS#8 DER or PEM), OIDs as dotted strings, names as
//!   RFC 4514 strings (`"CN=Test Device,O=Example"`, spaces after commas
//!   allowed) or OpenSSL's form (`"/O=Example/CN=Test Device"`);
//! - `now` is optional seconds since the epoch (float); default `time.time()`;
//! - every `cmp_core::Error` becomes an instance of the class from
//!   `cmp_protocol.errors` that matches its code, built by [`errors::to_py_err`].
//!
//! No handwritten `unsafe`: the pyo3 macros do not need the workspace's
//! `unsafe_code = "forbid"` lifted.

mod announce;
mod archive;
mod client;
mod coap;
mod conv;
mod errors;
mod kem;
mod keygen;
mod keys;
mod message;
mod server;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<keys::PyPrivateKey>()?;
    m.add_class::<kem::PyKemPrivateKey>()?;
    m.add_function(wrap_pyfunction!(kem::kem_encapsulate_to, m)?)?;
    m.add_class::<client::PyClientConfig>()?;
    m.add_class::<client::PyClientTransaction>()?;
    m.add_class::<client::Continue>()?;
    m.add_class::<client::Waiting>()?;
    m.add_class::<client::CertificateIssued>()?;
    m.add_class::<client::Revoked>()?;
    m.add_class::<client::GeneralResponse>()?;
    m.add_class::<client::KeysRecovered>()?;
    m.add_class::<client::Completed>()?;
    m.add_class::<keygen::PyEnvelopeKey>()?;
    m.add_class::<server::PyResponderConfig>()?;
    m.add_class::<server::PyResponder>()?;
    m.add_class::<server::PyPendingRequest>()?;
    m.add_class::<server::PyReply>()?;
    m.add_class::<server::PyResponderEvent>()?;
    m.add_class::<server::FakeCa>()?;
    m.add_class::<message::PyMessage>()?;
    m.add_class::<announce::PyAnnouncementBuilder>()?;
    m.add_class::<announce::PyAnnouncementValidator>()?;
    m.add_class::<announce::PyAnnouncement>()?;
    m.add_function(wrap_pyfunction!(announce::generate_root_ca, m)?)?;
    m.add_function(wrap_pyfunction!(announce::root_key_update, m)?)?;
    m.add_class::<coap::PyCoapBlock>()?;
    m.add_class::<coap::PyCoapReassembler>()?;
    m.add_function(wrap_pyfunction!(coap::coap_split, m)?)?;
    m.add_function(wrap_pyfunction!(coap::coap_block_size_for_mtu, m)?)?;
    m.add_function(wrap_pyfunction!(coap::coap_uri_path, m)?)?;
    m.add(
        "COAP_CONTENT_FORMAT",
        cmp_core::transport::coap::CONTENT_FORMAT,
    )?;
    m.add_function(wrap_pyfunction!(errors::error_table, m)?)?;
    m.add_function(wrap_pyfunction!(errors::announce_error_table, m)?)?;
    m.add_function(wrap_pyfunction!(errors::coap_error_table, m)?)?;
    m.add_function(wrap_pyfunction!(conv::failure_bits, m)?)?;
    Ok(())
}
