//! Python bindings for halfopen, built by maturin into the wheel `halfopen`
//! as the module `halfopen._native`.
//!
//! The bindings are thin: every decision stays in core. This crate converts
//! arguments and results (addresses and prefixes become `ipaddress` objects),
//! maps core's errors to one exception hierarchy and releases the GIL while
//! core parses and aggregates.
//!
//! # Organization
//!
//! - `error`: the exception hierarchy and the one mapping from core's errors;
//! - `procnet`: the TCP table parser (`parse`, `parse_file`, `read_live`);
//! - `counters`: the kernel's counters (`CounterSampler`).

use pyo3::prelude::*;

pub mod counters;
pub mod error;
pub mod procnet;

/// The native module `halfopen._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    error::register(m)?;
    procnet::register(m)?;
    counters::register(m)?;
    Ok(())
}
