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
//! - `counters`: the kernel's counters (`CounterSampler`);
//! - `report`: settings, the report and its prefixes;
//! - `blockset`: the TTL block set and its firewall renderers;
//! - `net`: prefixes, addresses and times between Python and core.

use pyo3::prelude::*;

pub mod blockset;
pub mod counters;
pub mod error;
pub mod net;
pub mod procnet;
pub mod report;

/// The monotonic clock the block set runs on, in milliseconds
/// (``time.monotonic_ns() // 10**6``).
#[pyfunction]
fn monotonic_ms(py: Python<'_>) -> PyResult<u64> {
    net::monotonic_ms(py)
}

/// The native module `halfopen._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    error::register(m)?;
    procnet::register(m)?;
    counters::register(m)?;
    blockset::register(m)?;
    report::register(m)?;
    m.add_function(wrap_pyfunction!(monotonic_ms, m)?)?;
    Ok(())
}
