//! The kernel's counters: `CounterSampler` samples a namespace's `net`
//! directory, keeps the last samples and reports rates and alerts.
//!
//! Results are plain Python data (the same JSON core writes, decoded), so
//! they print, compare and serialize as they are.

use std::path::PathBuf;

use halfopen::counters::Sampler;
use halfopen::procnet::NetNs;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::error::PyHoError;
use crate::procnet::namespace_file;

/// Decodes JSON made by core into Python objects with `json.loads`.
pub fn from_json<'py>(py: Python<'py>, json: &str) -> PyResult<Bound<'py, PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    LOADS.import(py, "json", "loads")?.call1((json,))
}

/// Serializes a core value to JSON; core's report types always serialize.
pub fn to_json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Samples the kernel's counters (``/proc/net/netstat``, ``snmp``,
/// ``snmp6``, ``dev``) of a network namespace and turns them into rates.
///
/// ``pid`` picks the namespace of that process (default: this one's);
/// ``netns`` a namespace by name (as ``ip netns add`` made it) or namespace
/// file, entered on a helper thread for every read (needs
/// ``CAP_SYS_ADMIN``); ``net_dir`` reads a directory of captured files
/// instead (as ``/proc/net`` would be). ``history`` is how many samples are
/// kept for the baselines spike alerts compare against. Reading releases
/// the GIL.
#[pyclass(name = "CounterSampler", module = "halfopen")]
pub struct PyCounterSampler {
    pub inner: Sampler,
}

#[pymethods]
impl PyCounterSampler {
    #[new]
    #[pyo3(signature = (pid = None, *, netns = None, net_dir = None, history = 60))]
    fn new(
        pid: Option<u32>,
        netns: Option<PathBuf>,
        net_dir: Option<PathBuf>,
        history: usize,
    ) -> PyResult<Self> {
        if history < 2 {
            return Err(PyValueError::new_err(format!(
                "history must keep at least 2 samples, not {history}"
            )));
        }
        let inner = match (pid, netns, net_dir) {
            (None, None, None) => Sampler::new(NetNs::Current, history),
            (Some(pid), None, None) => Sampler::new(NetNs::Pid(pid), history),
            (None, Some(file), None) => Sampler::in_namespace(namespace_file(file), history),
            (None, None, Some(dir)) => Sampler::new(NetNs::Dir(dir), history),
            _ => {
                return Err(PyValueError::new_err(
                    "give one of pid, netns and net_dir, not more",
                ))
            }
        };
        Ok(PyCounterSampler { inner })
    }

    /// Reads one sample; returns the rates per second since the previous
    /// sample (``{"TcpExt.SyncookiesSent": 12.5, ...}``), or ``None`` for
    /// the first sample.
    fn sample<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let inner = &mut self.inner;
        let rates = py.detach(|| inner.sample().map(|r| r.cloned()).map_err(PyHoError::from))?;
        let Some(rates) = rates else {
            return Ok(None);
        };
        let out = PyDict::new(py);
        for (counter, rate) in rates.counters.iter() {
            out.set_item(counter.key(), rate)?;
        }
        Ok(Some(out))
    }

    /// How many samples are kept.
    #[getter]
    fn samples(&self) -> usize {
        self.inner.history().samples().len()
    }

    /// The counter report as a dict: the latest sample, its rates, the
    /// alerts (spikes, full queues), the settings (SYN cookies, backlogs)
    /// with notes, every listener's queue, and why the half-open table may
    /// undercount a flood. Reading the settings releases the GIL.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let json = self.report_json(py)?;
        from_json(py, &json)
    }

    /// The counter report as JSON text, as core writes it.
    fn report_json(&self, py: Python<'_>) -> PyResult<String> {
        let inner = &self.inner;
        let report = py.detach(|| inner.report().map_err(PyHoError::from))?;
        to_json(&report)
    }

    fn __repr__(&self) -> String {
        format!("CounterSampler(samples={})", self.samples())
    }
}

/// Adds the counter sampler to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCounterSampler>()?;
    Ok(())
}
