//! C ABI (cbindgen, include/cmp.h); see issue 7 — not implemented yet.
//!
//! This crate is a placeholder in the workspace so that its place and name are fixed;
//! it exports nothing yet.
