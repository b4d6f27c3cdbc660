//! CoAP transfer of CMP messages (RFC 9482): the content format, the
//! Uri-Path, and block-wise framing (RFC 7959) — `CoapBlock`, `coap_split`,
//! `CoapReassembler`. Sending the CoAP messages is the caller's part.

use std::borrow::Cow;

use cmp_core::transport::coap::{self, Block, BlockSize, Progress, Reassembler};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::conv::{PyBytesOut, bytes_of};
use crate::errors::coap_err;

/// The block size of `bytes` (16, 32, ..., 1024); 2048 is SZX 7, reserved
/// (raises CoapError 700).
fn block_size_of(bytes: usize) -> PyResult<BlockSize> {
    if !bytes.is_power_of_two() || !(16..=2048).contains(&bytes) {
        return Err(PyValueError::new_err(format!(
            "a block size is a power of two from 16 to 1024, not {bytes}"
        )));
    }
    let szx = (bytes.trailing_zeros() - 4) as u8;
    BlockSize::from_szx(szx).map_err(coap_err)
}

/// The value of a Block1 or Block2 option: block number, more flag, size.
#[pyclass(frozen, eq, name = "CoapBlock", module = "cmp_protocol._native")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct PyCoapBlock {
    block: Block,
}

#[pymethods]
impl PyCoapBlock {
    /// Block `num` of `size` bytes, `more` if blocks follow.
    #[new]
    fn new(num: u32, more: bool, size: usize) -> PyResult<Self> {
        Ok(Self {
            block: Block {
                num,
                more,
                size: block_size_of(size)?,
            },
        })
    }

    /// Decode an option value (0 to 3 bytes).
    #[staticmethod]
    fn decode(value: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            block: Block::decode(&bytes_of(value)?).map_err(coap_err)?,
        })
    }

    /// The option value (NUM << 4 | M << 3 | SZX, fewest bytes).
    fn encode(&self) -> PyResult<PyBytesOut> {
        self.block.encode().map(Cow::Owned).map_err(coap_err)
    }

    #[getter]
    fn num(&self) -> u32 {
        self.block.num
    }

    #[getter]
    fn more(&self) -> bool {
        self.block.more
    }

    /// The block size in bytes.
    #[getter]
    fn size(&self) -> usize {
        self.block.size.bytes()
    }

    /// The size exponent SZX (size = 2 ** (SZX + 4)).
    #[getter]
    fn szx(&self) -> u8 {
        self.block.size.szx()
    }

    /// The byte offset of the block in the body.
    #[getter]
    fn offset(&self) -> usize {
        self.block.offset()
    }

    fn __repr__(&self) -> String {
        format!(
            "CoapBlock(num={}, more={}, size={})",
            self.block.num,
            if self.block.more { "True" } else { "False" },
            self.block.size.bytes()
        )
    }
}

/// Cut `body` into blocks of `size` bytes: `[(CoapBlock, payload)]`; every
/// block but the last is full, an empty body is one empty block.
#[pyfunction]
#[pyo3(signature = (body, size = 1024))]
pub(crate) fn coap_split(
    body: &Bound<'_, PyAny>,
    size: usize,
) -> PyResult<Vec<(PyCoapBlock, PyBytesOut)>> {
    let body = bytes_of(body)?;
    let size = block_size_of(size)?;
    Ok(coap::split(&body, size)
        .map_err(coap_err)?
        .into_iter()
        .map(|(block, payload)| (PyCoapBlock { block }, Cow::Owned(payload.to_vec())))
        .collect())
}

/// The largest block size (bytes) whose payload fits in `mtu` bytes once
/// `overhead` bytes (IP, UDP, DTLS, CoAP header, token, options) are taken.
#[pyfunction]
pub(crate) fn coap_block_size_for_mtu(mtu: usize, overhead: usize) -> PyResult<usize> {
    BlockSize::for_mtu(mtu, overhead)
        .map(BlockSize::bytes)
        .map_err(coap_err)
}

/// The Uri-Path segments of the CMP resource: `.well-known`, `cmp`, then
/// `p` and `name` if given, then the operation `label` if given.
#[pyfunction]
#[pyo3(signature = (name = None, label = None))]
pub(crate) fn coap_uri_path(name: Option<&str>, label: Option<&str>) -> Vec<String> {
    coap::uri_path(name, label)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Reassembles one body from its blocks, in order (the size may shrink,
/// never grow; the body never exceeds `max_total` bytes).
#[pyclass(name = "CoapReassembler", module = "cmp_protocol._native")]
pub(crate) struct PyCoapReassembler {
    inner: Reassembler,
}

#[pymethods]
impl PyCoapReassembler {
    /// A reassembler for bodies up to `max_total` bytes.
    #[new]
    #[pyo3(signature = (max_total = 4 * 1024 * 1024))]
    fn new(max_total: usize) -> Self {
        Self {
            inner: Reassembler::new(max_total),
        }
    }

    /// Add one block: the whole body (bytes) once the last block arrived,
    /// else the `CoapBlock` to ask for (Block2) or expect (Block1) next.
    /// Raises CoapError for a block that does not fit; the state is kept,
    /// so the right block may still follow.
    fn push(
        &mut self,
        py: Python<'_>,
        block: &PyCoapBlock,
        payload: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let payload = bytes_of(payload)?;
        match self.inner.push(block.block, &payload).map_err(coap_err)? {
            Progress::NeedMore { next } => Ok(Py::new(py, PyCoapBlock { block: next })?.into_any()),
            Progress::Complete(body) => Ok(PyBytes::new(py, &body).into_any().unbind()),
        }
    }

    /// Bytes received so far.
    #[getter]
    fn received(&self) -> usize {
        self.inner.received()
    }
}
