//! Addresses, prefixes and times between Python and core.
//!
//! Prefixes go to Python as `ipaddress.IPv4Network` / `IPv6Network`, and
//! come from it as those, as addresses (a host prefix) or as strings.

use std::net::IpAddr;
use std::time::Duration;

use halfopen::blockset::Millis;
use ipnet::IpNet;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

use crate::error::prefix_error;

/// `ipaddress.ip_network(text)` for a prefix core made.
pub fn network<'py>(py: Python<'py>, net: IpNet) -> PyResult<Bound<'py, PyAny>> {
    static IP_NETWORK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    IP_NETWORK
        .import(py, "ipaddress", "ip_network")?
        .call1((net.trunc().to_string(),))
}

/// A prefix from Python: an `IPv4Network`/`IPv6Network`, an address (a host
/// prefix), or a string such as `"198.18.0.0/15"` or `"2001:db8::1"`. Host
/// bits are cleared.
pub fn prefix_arg(value: &Bound<'_, PyAny>) -> PyResult<IpNet> {
    let text = match value.cast::<PyString>() {
        Ok(s) => s.to_cow()?.trim().to_string(),
        Err(_) => value.str()?.to_cow()?.into_owned(),
    };
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(addr));
    }
    Err(prefix_error(value.py(), &text))
}

/// Prefixes from any iterable of what [`prefix_arg`] takes.
pub fn prefixes_arg(values: &Bound<'_, PyAny>) -> PyResult<Vec<IpNet>> {
    let mut out = Vec::new();
    for value in values.try_iter()? {
        out.push(prefix_arg(&value?)?);
    }
    Ok(out)
}

/// The monotonic clock in milliseconds (`time.monotonic_ns() // 10**6`,
/// CLOCK_MONOTONIC on Linux: it keeps counting across restarts of the
/// process, so saved instants stay meaningful until the machine reboots).
pub fn monotonic_ms(py: Python<'_>) -> PyResult<u64> {
    static MONOTONIC_NS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let ns: u64 = MONOTONIC_NS
        .import(py, "time", "monotonic_ns")?
        .call0()?
        .extract()?;
    Ok(ns / 1_000_000)
}

/// `now` as core's instant, the monotonic clock when `None`.
pub fn now_arg(py: Python<'_>, now: Option<u64>) -> PyResult<Millis> {
    Ok(Millis(match now {
        Some(ms) => ms,
        None => monotonic_ms(py)?,
    }))
}

/// A duration from Python: seconds (int or float) or a `datetime.timedelta`.
pub fn duration_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Duration> {
    let secs: f64 = match value.extract::<f64>() {
        Ok(secs) => secs,
        Err(_) => value
            .call_method0("total_seconds")
            .and_then(|s| s.extract::<f64>())
            .map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!(
                    "{what} must be seconds or a timedelta, not {}",
                    value
                        .get_type()
                        .name()
                        .map_or_else(|_| "?".into(), |n| n.to_string())
                ))
            })?,
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{what} must be a finite number of seconds, at least 0, not {secs}"
        )));
    }
    Duration::try_from_secs_f64(secs)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("{what}: {e}")))
}
