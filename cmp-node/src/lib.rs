//! Node bindings (napi-rs); see issue 6 — not implemented yet.
//!
//! This crate is a placeholder in the workspace so that its place and name are fixed;
//! it exports nothing yet.
