//! Reports: `ho_config` (prefix levels, thresholds, allowlist) and
//! `ho_report`, walked prefix by prefix or taken whole as JSON.

use std::ffi::{c_char, CString};
use std::net::IpAddr;

use halfopen::report::{PrefixReport, Report};
use halfopen::signs::Sign;
use halfopen::snapshot::Snapshot;
use halfopen::verdict::{Config, Verdict};
use ipnet::IpNet;

use crate::counters::ho_counter_report;
use crate::error::{ho_result, Error};
use crate::handle;
use crate::live::ho_live_options;
use crate::table::{ho_family, ho_table};
use crate::text;

/// What a report selects and how it judges: prefix levels per family,
/// thresholds, the allowlist, the sign rules.
///
/// Created by `ho_config_new` (the defaults) or `ho_config_from_json`,
/// changed by the `ho_config_set_*` functions and `ho_config_allow`, freed
/// by `ho_config_free`. Not to be changed while another thread uses it;
/// several threads may build reports with one config at once.
pub struct ho_config {
    config: Config,
}

/// A report: the prefixes that explain the half-open entries of a table,
/// with their counts, signs, verdicts and reasons.
///
/// Made by `ho_report_new` or `ho_report_read`, freed by `ho_report_free`.
/// Immutable: several threads may read one report at once.
pub struct ho_report {
    report: Report,
    texts: Vec<PrefixText>,
}

/// The strings of one reported prefix, kept for C.
struct PrefixText {
    prefix: CString,
    reason: CString,
}

impl ho_report {
    fn new(report: Report) -> ho_report {
        let texts = report
            .prefixes
            .iter()
            .map(|p| PrefixText {
                prefix: CString::new(p.prefix.to_string()).unwrap_or_default(),
                reason: CString::new(p.reason.replace('\0', " ")).unwrap_or_default(),
            })
            .collect();
        ho_report { report, texts }
    }

    /// The core report, for the other modules of the ABI.
    pub(crate) fn report(&self) -> &Report {
        &self.report
    }
}

/// What to do with a reported prefix.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ho_verdict {
    /// Block it.
    Block = 0,
    /// Keep an eye on it; do not block (yet).
    Watch = 1,
    /// Leave it alone (allowlisted).
    Allow = 2,
}

impl From<Verdict> for ho_verdict {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Block => ho_verdict::Block,
            Verdict::Watch => ho_verdict::Watch,
            Verdict::Allow => ho_verdict::Allow,
        }
    }
}

/// A spoof or reflection sign; a prefix's signs are a bit set with bit
/// `1 << sign` for each.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ho_sign {
    /// Source ports below 1024: our SYN-ACKs hit third parties' servers.
    WellKnownSourcePort = 0,
    /// Source addresses walked in order.
    SequentialWalk = 1,
    /// SYN-ACKs retransmitted: nobody at those addresses answers.
    Unanswered = 2,
    /// No established connection from the prefix while real clients exist.
    NoCompletedHandshake = 3,
    /// Concentrated on one listening port.
    SinglePort = 4,
}

/// One reported prefix, filled in by `ho_report_prefix`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ho_prefix {
    /// `HO_FAMILY_V4` or `HO_FAMILY_V6`.
    pub family: ho_family,
    /// The network address in network byte order: 4 bytes for IPv4 (the
    /// other 12 are 0), 16 for IPv6.
    pub addr: [u8; 16],
    /// The prefix length in bits.
    pub prefix_len: u8,
    /// The prefix as text (`"198.18.5.0/24"`). Borrowed from the report:
    /// valid until `ho_report_free`.
    pub text: *const c_char,
    /// Half-open entries the prefix is reported for (its own minus those of
    /// reported prefixes inside it).
    pub half_open: u64,
    /// Distinct source addresses among them.
    pub sources: u64,
    /// All half-open entries inside the prefix.
    pub total_half_open: u64,
    /// ESTABLISHED connections from inside the prefix.
    pub established: u64,
    /// The signs, bit `1 << sign` per `ho_sign`; `ho_sign_name` names them.
    pub signs: u32,
    /// What to do.
    pub verdict: ho_verdict,
    /// Why, for people. Borrowed from the report: valid until
    /// `ho_report_free`.
    pub reason: *const c_char,
}

fn addr_bytes(net: &IpNet) -> [u8; 16] {
    let mut out = [0; 16];
    match net.network() {
        IpAddr::V4(a) => out[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => out = a.octets(),
    }
    out
}

fn prefix_of(p: &PrefixReport, text: &PrefixText) -> ho_prefix {
    ho_prefix {
        family: match p.prefix {
            IpNet::V4(_) => ho_family::V4,
            IpNet::V6(_) => ho_family::V6,
        },
        addr: addr_bytes(&p.prefix),
        prefix_len: p.prefix.prefix_len(),
        text: text.prefix.as_ptr(),
        half_open: p.half_open,
        sources: p.sources,
        total_half_open: p.total_half_open,
        established: p.established,
        signs: p.signs.bits(),
        verdict: p.verdict.into(),
        reason: text.reason.as_ptr(),
    }
}

/// Parses a CIDR (`"198.18.0.0/15"`, `"2001:db8::/32"`) or a single address
/// given by C.
pub(crate) fn parse_net(what: &'static str, text: &str) -> Result<IpNet, Error> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            Error::InvalidArgument(format!(
                "{what} {:?} is neither an address nor a CIDR prefix",
                halfopen::procnet::Snippet::new(text.as_bytes()).as_str()
            ))
        })
}

fn boxed_config(config: Config, out: *mut *mut ho_config) {
    handle::hand_out(ho_config { config }, out);
}

/// Stores a config with the defaults in `*out`: levels /32, /24, /16 for
/// IPv4 and /128, /64, /48, /32 for IPv6, at least 50 entries and 1% of the
/// half-open entries for a prefix to be reported, loopback and link-local
/// allowlisted.
///
/// Ownership: on success the caller owns `*out` (`ho_config_free`).
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_config_new(out: *mut *mut ho_config) -> ho_result {
    ffi_fn! {
        check_out!(out);
        boxed_config(Config::default(), out);
        Ok(())
    }
}

/// Stores in `*out` a config read from JSON text: an object with any of
/// the fields of core's `Config` (`levels_v4`, `min_entries`, `allowlist`,
/// `signs`, ...); fields left out keep their defaults. The config is checked
/// when a report is built.
///
/// Errors: `HO_JSON` for text that is not such an object.
///
/// Ownership: `json` (NUL-terminated UTF-8) is borrowed for the call. On
/// success the caller owns `*out` (`ho_config_free`). Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_config_from_json(json: *const c_char, out: *mut *mut ho_config) -> ho_result {
    ffi_fn! {
        let json = try_str!(json);
        check_out!(out);
        let config: Config = serde_json::from_str(json).map_err(|e| Error::Json(e.to_string()))?;
        boxed_config(config, out);
        Ok(())
    }
}

/// Stores the config as JSON (the form `ho_config_from_json` reads) in
/// `*out`.
///
/// Ownership: on success the caller owns `*out` (`ho_string_free`).
/// Threads: any thread, while no other thread changes the config.
#[no_mangle]
pub extern "C" fn ho_config_json(config: *const ho_config, out: *mut *mut c_char) -> ho_result {
    ffi_fn! {
        let config = try_ref!(config);
        check_out!(out);
        let json = serde_json::to_string(&config.config).map_err(|e| Error::Json(e.to_string()))?;
        write_out!(out, text::into_owned(json)?);
        Ok(())
    }
}

/// Frees a config. NULL does nothing.
///
/// Ownership: `config` is invalid after this call. Threads: no other
/// thread may use it during or after this call.
#[no_mangle]
pub extern "C" fn ho_config_free(config: *mut ho_config) {
    ffi_fn! {
        handle::free(config)
    }
}

fn levels(ptr: *const u8, len: usize) -> Result<Vec<u8>, Error> {
    Ok(try_slice!(ptr, len).to_vec())
}

/// Sets the IPv4 prefix levels (lengths, e.g. {32, 24, 16}) the report
/// aggregates at; checked when a report is built (`HO_CONFIG_*`).
///
/// Ownership: `levels` (`len` bytes) is copied. Threads: not while another
/// thread uses `config`.
#[no_mangle]
pub extern "C" fn ho_config_set_levels_v4(
    config: *mut ho_config,
    levels_ptr: *const u8,
    len: usize,
) -> ho_result {
    ffi_fn! {
        let config = try_mut!(config);
        config.config.levels_v4 = levels(levels_ptr, len)?;
        Ok(())
    }
}

/// Sets the IPv6 prefix levels (e.g. {128, 64, 48, 32}); as
/// `ho_config_set_levels_v4`.
///
/// Ownership: `levels` (`len` bytes) is copied. Threads: not while another
/// thread uses `config`.
#[no_mangle]
pub extern "C" fn ho_config_set_levels_v6(
    config: *mut ho_config,
    levels_ptr: *const u8,
    len: usize,
) -> ho_result {
    ffi_fn! {
        let config = try_mut!(config);
        config.config.levels_v6 = levels(levels_ptr, len)?;
        Ok(())
    }
}

/// Sets the thresholds: a prefix is reported when it explains at least
/// `min_entries` half-open entries and at least `min_share` (0 to 1) of
/// all of them. The share is checked when a report is built
/// (`HO_CONFIG_SHARE`).
///
/// Threads: not while another thread uses `config`.
#[no_mangle]
pub extern "C" fn ho_config_set_thresholds(
    config: *mut ho_config,
    min_entries: u64,
    min_share: f64,
) -> ho_result {
    ffi_fn! {
        let config = try_mut!(config);
        config.config.min_entries = min_entries;
        config.config.min_share = min_share;
        Ok(())
    }
}

/// Sets the shortest prefixes that may be blocked (default /16 and /48):
/// shorter ones are watched. Checked when a report is built
/// (`HO_CONFIG_MIN_BLOCK_LEN`).
///
/// Threads: not while another thread uses `config`.
#[no_mangle]
pub extern "C" fn ho_config_set_min_block_len(config: *mut ho_config, v4: u8, v6: u8) -> ho_result {
    ffi_fn! {
        let config = try_mut!(config);
        config.config.min_block_len_v4 = v4;
        config.config.min_block_len_v6 = v6;
        Ok(())
    }
}

/// Adds `cidr` (`"203.0.113.0/24"`, or one address) to the allowlist:
/// prefixes inside it are allowed, prefixes covering it watched, never
/// blocked.
///
/// Errors: `HO_INVALID_ARGUMENT` for text that is no address or prefix.
///
/// Ownership: `cidr` (NUL-terminated) is borrowed for the call. Threads:
/// not while another thread uses `config`.
#[no_mangle]
pub extern "C" fn ho_config_allow(config: *mut ho_config, cidr: *const c_char) -> ho_result {
    ffi_fn! {
        let config = try_mut!(config);
        let cidr = try_str!(cidr);
        let net = parse_net("cidr", cidr)?;
        config.config.allowlist.push(net);
        Ok(())
    }
}

/// Empties the allowlist, the defaults (loopback, link-local) included.
///
/// Threads: not while another thread uses `config`.
#[no_mangle]
pub extern "C" fn ho_config_clear_allowlist(config: *mut ho_config) -> ho_result {
    ffi_fn! {
        try_mut!(config).config.allowlist.clear();
        Ok(())
    }
}

/// Sets whether a prefix with ESTABLISHED connections is only watched
/// (default true), and whether a thin prefix (its entries spread too thinly
/// over its sub-prefixes) may be blocked (default false).
///
/// Threads: not while another thread uses `config`.
#[no_mangle]
pub extern "C" fn ho_config_set_rules(
    config: *mut ho_config,
    protect_established: bool,
    block_thin: bool,
) -> ho_result {
    ffi_fn! {
        let config = try_mut!(config);
        config.config.protect_established = protect_established;
        config.config.block_thin = block_thin;
        Ok(())
    }
}

/// Sets the most prefix tree nodes a report builds per family (a memory
/// bound: an entry without a node of its own counts in its deepest covering
/// prefix, or as dropped when it has none; the report's `tree` says how
/// many) and how many top sources it lists.
///
/// Threads: not while another thread uses `config`.
#[no_mangle]
pub extern "C" fn ho_config_set_limits(
    config: *mut ho_config,
    node_cap: usize,
    top_sources: usize,
) -> ho_result {
    ffi_fn! {
        let config = try_mut!(config);
        config.config.node_cap = node_cap;
        config.config.top_sources = top_sources;
        Ok(())
    }
}

/// Builds the report of `table` under `config` and stores it in `*out`.
/// The report names the table's source (`"source"` in its JSON) unless the
/// table was parsed from a buffer.
///
/// Errors: `HO_CONFIG_*` when the config is invalid.
///
/// Ownership: `table` and `config` are borrowed for the call; the report
/// does not borrow from them. On success the caller owns `*out`
/// (`ho_report_free`). Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_report_new(
    table: *const ho_table,
    config: *const ho_config,
    out: *mut *mut ho_report,
) -> ho_result {
    ffi_fn! {
        let table = try_ref!(table);
        let config = try_ref!(config);
        check_out!(out);
        let mut report = Report::from_entries(table.entries(), &config.config)?;
        if let Some(origin) = table.core_origin() {
            report = report.with_source(origin);
        }
        handle::hand_out(ho_report::new(report), out);
        Ok(())
    }
}

/// Reads the live tables `opts` names and builds their report under
/// `config` in one pass, without keeping the rows; stores it in `*out`.
///
/// Errors: those of `ho_table_read` and `ho_report_new`.
///
/// Ownership: `opts` and `config` are borrowed for the call. On success the
/// caller owns `*out` (`ho_report_free`). Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_report_read(
    opts: *const ho_live_options,
    config: *const ho_config,
    out: *mut *mut ho_report,
) -> ho_result {
    ffi_fn! {
        let opts = try_ref!(opts);
        let config = try_ref!(config);
        check_out!(out);
        let (snapshot, summary) = Snapshot::read(opts.options())?;
        let report = Report::build(&snapshot, &config.config)?.with_source(summary.origin);
        handle::hand_out(ho_report::new(report), out);
        Ok(())
    }
}

/// Adds what the kernel's counters say (`counters`: the latest sample,
/// rates, alerts, settings, notes, why the table undercounts) to `report`,
/// so its JSON carries them too.
///
/// Ownership: `counters` is borrowed for the call (copied). Threads: not
/// while another thread reads `report`.
#[no_mangle]
pub extern "C" fn ho_report_add_counters(
    report: *mut ho_report,
    counters: *const ho_counter_report,
) -> ho_result {
    ffi_fn! {
        let report = try_mut!(report);
        let counters = try_ref!(counters);
        report.report = report.report.clone().with_counters(counters.report().clone());
        Ok(())
    }
}

/// All half-open entries (SYN_RECV) the report counted; 0 for NULL.
///
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_report_half_open(report: *const ho_report) -> u64 {
    ffi_fn! {
        // SAFETY: NULL or a report from this library, per the documentation.
        unsafe { report.as_ref() }.map_or(0, |r| r.report.half_open)
    }
}

/// The entries a prefix needed to be reported in this report; 0 for NULL.
///
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_report_threshold(report: *const ho_report) -> u64 {
    ffi_fn! {
        // SAFETY: NULL or a report from this library, per the documentation.
        unsafe { report.as_ref() }.map_or(0, |r| r.report.threshold)
    }
}

/// The number of reported prefixes, most half-open entries first; 0 for
/// NULL.
///
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_report_prefix_count(report: *const ho_report) -> usize {
    ffi_fn! {
        // SAFETY: NULL or a report from this library, per the documentation.
        unsafe { report.as_ref() }.map_or(0, |r| r.report.prefixes.len())
    }
}

/// Fills `*out` with reported prefix `index` (from 0; prefixes are listed
/// by half-open entries, most first).
///
/// Errors: `HO_INDEX_OUT_OF_RANGE`.
///
/// Ownership: `out->text` and `out->reason` belong to `report` and stay
/// valid until `ho_report_free(report)`. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_report_prefix(
    report: *const ho_report,
    index: usize,
    out: *mut ho_prefix,
) -> ho_result {
    ffi_fn! {
        let report = try_ref!(report);
        check_out!(out);
        let len = report.report.prefixes.len();
        let (p, t) = report
            .report
            .prefixes
            .get(index)
            .zip(report.texts.get(index))
            .ok_or(Error::IndexOutOfRange { index, len })?;
        write_out!(out, prefix_of(p, t));
        Ok(())
    }
}

/// Stores the whole report as compact JSON in `*out`: exactly the text of
/// core's `Report::to_json` (fields `half_open`, `by_state`, `listeners`,
/// `sources`, `threshold`, `host`, `prefixes`, `tree`, ...).
///
/// Ownership: on success the caller owns `*out` (`ho_string_free`).
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_report_json(report: *const ho_report, out: *mut *mut c_char) -> ho_result {
    ffi_fn! {
        let report = try_ref!(report);
        check_out!(out);
        write_out!(out, text::into_owned(report.report.to_json())?);
        Ok(())
    }
}

/// As `ho_report_json`, into the caller's buffer `buf` of `capacity`
/// bytes, NUL-terminated; `*out_len` receives the length without the NUL,
/// also when the result is `HO_BUFFER_TOO_SMALL` (then nothing is copied;
/// a NULL `buf` with `capacity` 0 asks for the length).
///
/// Ownership: `buf` is the caller's. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_report_json_into(
    report: *const ho_report,
    buf: *mut c_char,
    capacity: usize,
    out_len: *mut usize,
) -> ho_result {
    ffi_fn! {
        let report = try_ref!(report);
        text::copy_out(&report.report.to_json(), buf, capacity, out_len)
    }
}

/// Frees a report. NULL does nothing.
///
/// Ownership: `report` and every string it lent are invalid after this
/// call. Threads: no other thread may use it during or after this call.
#[no_mangle]
pub extern "C" fn ho_report_free(report: *mut ho_report) {
    ffi_fn! {
        handle::free(report)
    }
}

/// The name of sign `sign` (a `ho_sign`: the bit's index, as in reports'
/// JSON, e.g. `"sequential_walk"`), or NULL for a number that is no sign.
///
/// Ownership: a static string; never free it. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_sign_name(sign: u32) -> *const c_char {
    ffi_fn! {
        Sign::ALL
            .into_iter()
            .find(|s| s.index() == sign)
            .map_or(std::ptr::null(), |s| sign_cstr(s).as_ptr())
    }
}

/// The name of verdict `verdict` (`"block"`, `"watch"`, `"allow"`), or NULL
/// for a number that is no `ho_verdict`.
///
/// Ownership: a static string; never free it. Threads: any thread.
#[no_mangle]
pub extern "C" fn ho_verdict_name(verdict: u32) -> *const c_char {
    ffi_fn! {
        match verdict {
            0 => c"block".as_ptr(),
            1 => c"watch".as_ptr(),
            2 => c"allow".as_ptr(),
            _ => std::ptr::null(),
        }
    }
}

fn sign_cstr(sign: Sign) -> &'static std::ffi::CStr {
    // The names of `Sign::name`, NUL-terminated; the tests check that they
    // agree.
    match sign {
        Sign::WellKnownSourcePort => c"well_known_source_port",
        Sign::SequentialWalk => c"sequential_walk",
        Sign::Unanswered => c"unanswered",
        Sign::NoCompletedHandshake => c"no_completed_handshake",
        Sign::SinglePort => c"single_port",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{ho_table_free, ho_table_parse};
    use halfopen::procnet::{header, write_entry, Family, TcpEntry, TcpState, TimerKind};
    use std::ffi::CStr;

    fn flood() -> String {
        let mut table = header(Family::V4);
        for i in 0..200u32 {
            let e = TcpEntry {
                slot: i,
                local: "198.18.0.1:80".parse().unwrap(),
                remote: ([198, 18, 5, i as u8], 40000).into(),
                state: TcpState::SynRecv,
                tx_queue: 0,
                rx_queue: 0,
                timer: TimerKind::Retransmit,
                timer_expires: 100,
                retransmits: 1,
                uid: 0,
                timeout: 0,
                inode: 0,
                trailing: "",
            };
            write_entry(&mut table, &e);
        }
        table
    }

    #[test]
    fn the_report_is_core_s_report() {
        let text = flood();
        let mut t = std::ptr::null_mut();
        assert_eq!(
            ho_table_parse(text.as_ptr(), text.len(), 0, &mut t),
            ho_result::HO_OK
        );
        let mut c = std::ptr::null_mut();
        assert_eq!(ho_config_new(&mut c), ho_result::HO_OK);
        let mut r = std::ptr::null_mut();
        assert_eq!(ho_report_new(t, c, &mut r), ho_result::HO_OK);
        let entries: Vec<_> = halfopen::procnet::parse_table(text.as_bytes(), None)
            .collect::<Result<_, _>>()
            .unwrap();
        let core = Report::from_entries(&entries, &Config::default()).unwrap();
        let mut json = std::ptr::null_mut();
        assert_eq!(ho_report_json(r, &mut json), ho_result::HO_OK);
        assert_eq!(
            unsafe { CStr::from_ptr(json) }.to_str().unwrap(),
            core.to_json()
        );
        text::ho_string_free(json);

        assert_eq!(ho_report_half_open(r), 200);
        assert_eq!(ho_report_prefix_count(r), core.prefixes.len());
        let mut p = std::mem::MaybeUninit::<ho_prefix>::uninit();
        assert_eq!(ho_report_prefix(r, 0, p.as_mut_ptr()), ho_result::HO_OK);
        let p = unsafe { p.assume_init() };
        assert_eq!(
            unsafe { CStr::from_ptr(p.text) }.to_str().unwrap(),
            "198.18.5.0/24"
        );
        assert_eq!(&p.addr[..4], &[198, 18, 5, 0]);
        assert_eq!(p.prefix_len, 24);
        assert_eq!(p.verdict, ho_verdict::Block);
        assert_eq!(p.signs, core.prefixes[0].signs.bits());
        assert_eq!(
            unsafe { CStr::from_ptr(p.reason) }.to_str().unwrap(),
            core.prefixes[0].reason
        );
        ho_report_free(r);

        // An invalid config is refused when the report is built.
        assert_eq!(ho_config_set_thresholds(c, 10, 1.5), ho_result::HO_OK);
        let mut r = std::ptr::null_mut();
        assert_eq!(ho_report_new(t, c, &mut r), ho_result::HO_CONFIG_SHARE);
        assert!(r.is_null());
        ho_config_free(c);
        ho_table_free(t);
    }

    #[test]
    fn names_agree_with_core() {
        for s in Sign::ALL {
            let name = unsafe { CStr::from_ptr(ho_sign_name(s.index())) };
            assert_eq!(name.to_str().unwrap(), s.name());
        }
        assert!(ho_sign_name(Sign::ALL.len() as u32).is_null());
        for v in Verdict::ALL {
            let name = unsafe { CStr::from_ptr(ho_verdict_name(ho_verdict::from(v) as u32)) };
            assert_eq!(name.to_str().unwrap(), v.name());
        }
        assert!(ho_verdict_name(3).is_null());
    }

    #[test]
    fn config_json_round_trips() {
        let mut c = std::ptr::null_mut();
        assert_eq!(ho_config_new(&mut c), ho_result::HO_OK);
        let cidr = CString::new("198.51.100.0/24").unwrap();
        assert_eq!(ho_config_allow(c, cidr.as_ptr()), ho_result::HO_OK);
        let bad = CString::new("198.51.100.0/33").unwrap();
        assert_eq!(
            ho_config_allow(c, bad.as_ptr()),
            ho_result::HO_INVALID_ARGUMENT
        );
        let mut json = std::ptr::null_mut();
        assert_eq!(ho_config_json(c, &mut json), ho_result::HO_OK);
        let mut back = std::ptr::null_mut();
        assert_eq!(ho_config_from_json(json, &mut back), ho_result::HO_OK);
        assert_eq!(unsafe { &(*back).config }, unsafe { &(*c).config });
        let garbage = CString::new("{\"levels_v4\": \"x\"}").unwrap();
        assert_eq!(
            ho_config_from_json(garbage.as_ptr(), &mut back),
            ho_result::HO_JSON
        );
        text::ho_string_free(json);
        ho_config_free(back);
        ho_config_free(c);
    }
}
