//! The counters sampler: `ho_sampler` samples a namespace's kernel counters
//! every few seconds; `ho_counter_report` holds what they say (rates,
//! alerts, settings, listener queues), walked alert by alert or as JSON.

use std::ffi::{c_char, CString};
use std::path::PathBuf;

use halfopen::counters::{AlertKind, CounterReport, Sampler};
use halfopen::procnet::NetNs;

use crate::error::{ho_result, Error};
use crate::handle;
use crate::text;

/// Samples one network namespace's counters (`/proc/net/netstat`, `snmp`,
/// `snmp6`, `dev`) and keeps the last samples.
///
/// Created by `ho_sampler_new`, `ho_sampler_new_pid` or
/// `ho_sampler_new_dir`; freed by `ho_sampler_free`. `ho_sampler_sample`
/// changes it: one thread at a time. `ho_sampler_report` only reads it.
pub struct ho_sampler {
    sampler: Sampler,
}

/// What the counters say at one moment: the latest sample, the rates since
/// the one before, alerts, settings, listener queues, and why the half-open
/// table undercounts. Made by `ho_sampler_report`, freed by
/// `ho_counter_report_free`; immutable, so several threads may read one.
pub struct ho_counter_report {
    report: CounterReport,
    alerts: Vec<AlertText>,
}

impl ho_counter_report {
    /// The core report, for the other modules of the ABI.
    pub(crate) fn report(&self) -> &CounterReport {
        &self.report
    }
}

/// The strings of one alert, kept for C.
struct AlertText {
    message: CString,
    counter: Option<CString>,
}

/// What an alert is about.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ho_alert_kind {
    /// SYN cookies sent or SYNs dropped far over the baseline.
    SynFlood = 1,
    /// Resets or port unreachables for closed ports far over the baseline.
    PortScan = 2,
    /// Echo requests or replies far over the baseline.
    PingFlood = 3,
    /// A listener's SYN queue or accept queue is full.
    QueueFull = 4,
    /// The half-open table misses part of what arrives.
    TableUndercounts = 5,
    /// SYN cookies are off while a SYN flood fills a queue.
    CookiesOff = 6,
}

impl From<AlertKind> for ho_alert_kind {
    fn from(kind: AlertKind) -> Self {
        match kind {
            AlertKind::SynFlood => ho_alert_kind::SynFlood,
            AlertKind::PortScan => ho_alert_kind::PortScan,
            AlertKind::PingFlood => ho_alert_kind::PingFlood,
            AlertKind::QueueFull => ho_alert_kind::QueueFull,
            AlertKind::TableUndercounts => ho_alert_kind::TableUndercounts,
            AlertKind::CookiesOff => ho_alert_kind::CookiesOff,
        }
    }
}

/// One alert of a counter report, filled in by `ho_counter_report_alert`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ho_alert {
    /// What it is about.
    pub kind: ho_alert_kind,
    /// The counter that spiked (`"TcpExt.SyncookiesSent"`), or NULL.
    /// Borrowed from the report: valid until `ho_counter_report_free`.
    pub counter: *const c_char,
    /// The counter's rate per second, or NaN when the alert has none.
    pub rate: f64,
    /// The counter's baseline rate per second, or NaN when none.
    pub baseline: f64,
    /// A sentence for people. Borrowed from the report: valid until
    /// `ho_counter_report_free`.
    pub message: *const c_char,
}

fn new_sampler(ns: NetNs, capacity: usize, out: *mut *mut ho_sampler) {
    let sampler = Sampler::new(ns, capacity);
    handle::hand_out(ho_sampler { sampler }, out);
}

/// Stores in `*out` a new sampler of the caller's network namespace that
/// keeps the last `capacity` samples (at least 2), with the default alert
/// rules. No sample is taken yet.
///
/// Ownership: on success the caller owns `*out` (`ho_sampler_free`).
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_sampler_new(capacity: usize, out: *mut *mut ho_sampler) -> ho_result {
    ffi_fn! {
        check_out!(out);
        new_sampler(NetNs::Current, capacity, out);
        Ok(())
    }
}

/// As `ho_sampler_new`, for the network namespace of process `pid`
/// (`/proc/<pid>/net`).
///
/// Ownership: on success the caller owns `*out` (`ho_sampler_free`).
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_sampler_new_pid(
    pid: u32,
    capacity: usize,
    out: *mut *mut ho_sampler,
) -> ho_result {
    ffi_fn! {
        check_out!(out);
        new_sampler(NetNs::Pid(pid), capacity, out);
        Ok(())
    }
}

/// As `ho_sampler_new`, for a directory laid out like `/proc/net` holding
/// `netstat`, `snmp`, `snmp6` and `dev` (a capture).
///
/// Ownership: `dir` (NUL-terminated UTF-8) is copied. On success the caller
/// owns `*out` (`ho_sampler_free`). Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_sampler_new_dir(
    dir: *const c_char,
    capacity: usize,
    out: *mut *mut ho_sampler,
) -> ho_result {
    ffi_fn! {
        let dir = try_str!(dir);
        check_out!(out);
        new_sampler(NetNs::Dir(PathBuf::from(dir)), capacity, out);
        Ok(())
    }
}

/// As `ho_sampler_new`, for the network namespace behind a namespace file
/// (`/run/netns/NAME` as `ip netns add` makes it, or `/proc/<pid>/ns/net`):
/// every sample and report enters it on a helper thread (`setns(2)`, which
/// needs `CAP_SYS_ADMIN`); the calling thread stays where it is. Errors of
/// entering come from `ho_sampler_sample` and `ho_sampler_report` as
/// `HO_NETNS_OPEN` / `HO_NETNS_ENTER` / `HO_NETNS_THREAD`.
///
/// Ownership: `file` (NUL-terminated UTF-8) is copied. On success the
/// caller owns `*out` (`ho_sampler_free`). Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_sampler_new_netns(
    file: *const c_char,
    capacity: usize,
    out: *mut *mut ho_sampler,
) -> ho_result {
    ffi_fn! {
        let file = try_str!(file);
        check_out!(out);
        let sampler = Sampler::in_namespace(file, capacity);
        handle::hand_out(ho_sampler { sampler }, out);
        Ok(())
    }
}

/// Takes a sample now (on the monotonic clock). Call it every few seconds:
/// an hourly average hides a one-minute barrage.
///
/// Errors: `HO_COUNTER_IO`, `HO_COUNTER_PARSE_*` (line and field in the last
/// error), `HO_COUNTER_RATE`.
///
/// Ownership: `sampler` is borrowed for the call. Threads: one thread at a
/// time per sampler.
#[no_mangle]
pub extern "C" fn ho_sampler_sample(sampler: *mut ho_sampler) -> ho_result {
    ffi_fn! {
        let sampler = try_mut!(sampler);
        sampler.sampler.sample()?;
        Ok(())
    }
}

/// The number of samples the sampler keeps now; 0 for NULL.
///
/// Ownership: `sampler` is borrowed for the call. Threads: not while
/// another thread samples.
#[no_mangle]
pub extern "C" fn ho_sampler_len(sampler: *const ho_sampler) -> usize {
    ffi_fn! {
        // SAFETY: NULL or a sampler from this library, per the documentation.
        unsafe { sampler.as_ref() }.map_or(0, |s| s.sampler.history().samples().len())
    }
}

/// Reads the namespace's settings and listener queues now and stores in
/// `*out` a report of the samples taken so far.
///
/// Errors: `HO_COUNTER_*`, `HO_READ_IO` and `HO_PARSE_*` (the listeners'
/// table), `HO_NETNS_*` (entering the namespace for its settings).
///
/// Ownership: `sampler` is borrowed for the call. On success the caller
/// owns `*out` (`ho_counter_report_free`), which does not borrow from the
/// sampler. Threads: not while another thread samples.
#[no_mangle]
pub extern "C" fn ho_sampler_report(
    sampler: *const ho_sampler,
    out: *mut *mut ho_counter_report,
) -> ho_result {
    ffi_fn! {
        let sampler = try_ref!(sampler);
        check_out!(out);
        let report = sampler.sampler.report()?;
        let alerts = report
            .alerts
            .iter()
            .map(|a| AlertText {
                message: CString::new(a.message.replace('\0', " ")).unwrap_or_default(),
                counter: a.counter.and_then(|c| CString::new(c.key()).ok()),
            })
            .collect();
        handle::hand_out(ho_counter_report { report, alerts }, out);
        Ok(())
    }
}

/// Frees a sampler. NULL does nothing.
///
/// Ownership: `sampler` is invalid after this call. Threads: no other
/// thread may use it during or after this call.
#[no_mangle]
pub extern "C" fn ho_sampler_free(sampler: *mut ho_sampler) {
    ffi_fn! {
        handle::free(sampler)
    }
}

/// The number of alerts in `report`; 0 for NULL.
///
/// Ownership: `report` is borrowed for the call. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_counter_report_alert_count(report: *const ho_counter_report) -> usize {
    ffi_fn! {
        // SAFETY: NULL or a report from this library, per the documentation.
        unsafe { report.as_ref() }.map_or(0, |r| r.report.alerts.len())
    }
}

/// Fills `*out` with alert `index` (from 0) of `report`.
///
/// Errors: `HO_INDEX_OUT_OF_RANGE`.
///
/// Ownership: the strings in `*out` belong to `report` and stay valid until
/// `ho_counter_report_free(report)`. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_counter_report_alert(
    report: *const ho_counter_report,
    index: usize,
    out: *mut ho_alert,
) -> ho_result {
    ffi_fn! {
        let report = try_ref!(report);
        check_out!(out);
        let len = report.report.alerts.len();
        let (alert, strings) = report
            .report
            .alerts
            .get(index)
            .zip(report.alerts.get(index))
            .ok_or(Error::IndexOutOfRange { index, len })?;
        write_out!(out, ho_alert {
            kind: alert.kind.into(),
            counter: strings.counter.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            rate: alert.rate.unwrap_or(f64::NAN),
            baseline: alert.baseline.unwrap_or(f64::NAN),
            message: strings.message.as_ptr(),
        });
        Ok(())
    }
}

fn report_json(report: *const ho_counter_report) -> Result<String, Error> {
    let report = try_ref!(report);
    serde_json::to_string(&report.report).map_err(|e| Error::Json(e.to_string()))
}

/// Stores the whole report as JSON (one line, keys as core serializes them)
/// in `*out`.
///
/// Ownership: on success the caller owns `*out` and frees it with
/// `ho_string_free`. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_counter_report_json(
    report: *const ho_counter_report,
    out: *mut *mut c_char,
) -> ho_result {
    ffi_fn! {
        check_out!(out);
        let json = report_json(report)?;
        write_out!(out, text::into_owned(json)?);
        Ok(())
    }
}

/// As `ho_counter_report_json`, into the caller's buffer `buf` of
/// `capacity` bytes, NUL-terminated; `*out_len` receives the length without
/// the NUL, also when the result is `HO_BUFFER_TOO_SMALL` (then nothing is
/// copied; a NULL `buf` with `capacity` 0 asks for the length).
///
/// Ownership: `buf` is the caller's. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_counter_report_json_into(
    report: *const ho_counter_report,
    buf: *mut c_char,
    capacity: usize,
    out_len: *mut usize,
) -> ho_result {
    ffi_fn! {
        check_out!(out_len);
        let json = report_json(report)?;
        text::copy_out(&json, buf, capacity, out_len)
    }
}

/// Frees a counter report. NULL does nothing.
///
/// Ownership: `report` and every string it lent are invalid after this
/// call. Threads: no other thread may use it during or after this call.
#[no_mangle]
pub extern "C" fn ho_counter_report_free(report: *mut ho_counter_report) {
    ffi_fn! {
        handle::free(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    const NETSTAT: &str = "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed ListenOverflows ListenDrops\nTcpExt: 0 0 0 0 0\n";
    const SNMP: &str = "Tcp: RtoAlgorithm ActiveOpens PassiveOpens OutRsts\nTcp: 1 0 0 0\n";

    fn capture(dir: &std::path::Path, syncookies: u64) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("netstat"),
            NETSTAT.replace("TcpExt: 0 0", &format!("TcpExt: {syncookies} 0")),
        )
        .unwrap();
        std::fs::write(dir.join("snmp"), SNMP).unwrap();
        std::fs::write(dir.join("snmp6"), "").unwrap();
        std::fs::write(dir.join("dev"), "Inter-|\n face |\n").unwrap();
    }

    #[test]
    fn a_spike_in_a_capture_gives_an_alert_and_json_like_core() {
        let dir = std::env::temp_dir().join(format!("ho-ffi-counters-{}", std::process::id()));
        capture(&dir, 0);
        let cdir = CString::new(dir.to_str().unwrap()).unwrap();
        let mut s = std::ptr::null_mut();
        assert_eq!(
            ho_sampler_new_dir(cdir.as_ptr(), 8, &mut s),
            ho_result::HO_OK
        );
        assert_eq!(ho_sampler_sample(s), ho_result::HO_OK);
        std::thread::sleep(std::time::Duration::from_millis(20));
        capture(&dir, 100_000);
        assert_eq!(ho_sampler_sample(s), ho_result::HO_OK);
        assert_eq!(ho_sampler_len(s), 2);
        let mut r = std::ptr::null_mut();
        let code = ho_sampler_report(s, &mut r);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(code, ho_result::HO_OK, "{:?}", unsafe {
            CStr::from_ptr(crate::error::ho_last_error_message())
        });
        let n = ho_counter_report_alert_count(r);
        assert!(n >= 1);
        let mut a = std::mem::MaybeUninit::<ho_alert>::uninit();
        assert_eq!(
            ho_counter_report_alert(r, 0, a.as_mut_ptr()),
            ho_result::HO_OK
        );
        let a = unsafe { a.assume_init() };
        let core = unsafe { &(*r).report };
        assert_eq!(a.kind, ho_alert_kind::from(core.alerts[0].kind));
        assert_eq!(
            unsafe { CStr::from_ptr(a.message) }.to_str().unwrap(),
            core.alerts[0].message
        );
        let mut json = std::ptr::null_mut();
        assert_eq!(ho_counter_report_json(r, &mut json), ho_result::HO_OK);
        assert_eq!(
            unsafe { CStr::from_ptr(json) }.to_str().unwrap(),
            serde_json::to_string(core).unwrap()
        );
        text::ho_string_free(json);
        let mut spare = a;
        assert_eq!(
            ho_counter_report_alert(r, n, &mut spare),
            ho_result::HO_INDEX_OUT_OF_RANGE
        );
        ho_counter_report_free(r);
        ho_sampler_free(s);
    }

    #[test]
    fn a_malformed_counter_file_names_line_and_field() {
        let dir = std::env::temp_dir().join(format!("ho-ffi-counters-bad-{}", std::process::id()));
        capture(&dir, 0);
        std::fs::write(dir.join("snmp"), "Tcp: RtoAlgorithm OutRsts\nTcp: 1 x9\n").unwrap();
        let cdir = CString::new(dir.to_str().unwrap()).unwrap();
        let mut s = std::ptr::null_mut();
        assert_eq!(
            ho_sampler_new_dir(cdir.as_ptr(), 8, &mut s),
            ho_result::HO_OK
        );
        let code = ho_sampler_sample(s);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(code, ho_result::HO_COUNTER_PARSE_BAD_VALUE);
        assert_eq!(crate::error::ho_last_error_line(), 2);
        let field = unsafe { CStr::from_ptr(crate::error::ho_last_error_field()) };
        assert_eq!(field.to_str().unwrap(), "Tcp.OutRsts");
        ho_sampler_free(s);
    }
}
