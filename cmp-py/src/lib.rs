//! Python bindings (pyo3 + maturin); see issue 5 — not implemented yet.
//!
//! This crate is a placeholder in the workspace so that its place and name are fixed;
//! it exports nothing yet.
