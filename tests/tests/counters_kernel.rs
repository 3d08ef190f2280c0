//! The counter sampler against a real kernel: SYN floods with SYN cookies on
//! (IPv4 and IPv6) and off, a port scan and a ping flood, all inside
//! namespaces the test creates, with spoofed sources from 198.18.0.0/16 and
//! 2001:db8::/32.
//!
//! Each scenario samples the server namespace's counters through
//! `/proc/<pid>/net/...` the way a daemon would every few seconds: quiet
//! intervals first (no alert), then one burst, then the next sample, which
//! must carry the rates and name the counter in an alert. iproute2's
//! `nstat`, run inside the namespace, is the independent reader the
//! sampler's values are checked against.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use halfopen::counters::{
    AlertKind, Counter, CounterError, CounterReport, Sample, SampleReader, Sampler,
    UndercountReason,
};
use halfopen::procnet::{Family, NetNs, TcpState};
use halfopen::report::Report;
use halfopen::verdict::Config;
use halfopen_tests::{listen, require_root, wait_until, Lab, LabConfig, Netns, SynSender};

/// How long the test lets a quiet interval last.
const QUIET: Duration = Duration::from_millis(400);

/// The sampler of a lab's server, with what each step reported.
struct Watch {
    sampler: Sampler,
    ns: NetNs,
}

impl Watch {
    fn new(lab: &Lab) -> Watch {
        let ns = lab.server.net_ns();
        let mut sampler = Sampler::new(ns.clone(), 60);
        sampler.sample().unwrap();
        Watch { sampler, ns }
    }

    /// Takes the next sample and reports.
    fn step(&mut self) -> CounterReport {
        self.sampler.sample().unwrap();
        self.sampler.report().unwrap()
    }

    /// Quiet intervals raise no alert.
    fn quiet(&mut self, intervals: usize) {
        for _ in 0..intervals {
            std::thread::sleep(QUIET);
            let r = self.step();
            assert!(r.alerts.is_empty(), "alerts while quiet: {:#?}", r.alerts);
        }
    }

    /// Intervals after a burst raise no spike (full queues may remain).
    fn no_spikes(&mut self, intervals: usize) {
        for _ in 0..intervals {
            std::thread::sleep(QUIET);
            let r = self.step();
            let spikes: Vec<_> = r.alerts.iter().filter(|a| a.counter.is_some()).collect();
            assert!(spikes.is_empty(), "spikes after the burst: {spikes:#?}");
        }
    }

    fn now(&self) -> Sample {
        SampleReader::new(self.ns.clone()).read().unwrap()
    }

    /// Waits until `counter` stops moving (a burst fully processed).
    fn settle(&self, counter: Counter) {
        let mut last = None;
        assert!(wait_until(Duration::from_secs(10), || {
            std::thread::sleep(Duration::from_millis(100));
            let v = self.now().counters.get(counter);
            let still = last == Some(v);
            last = Some(v);
            still
        }));
    }
}

/// Counters as `nstat -asz` prints them inside `ns`, keyed like
/// `TcpExtSyncookiesSent`.
fn nstat(ns: &Netns) -> HashMap<String, u64> {
    ns.exec(&["nstat", "-asz"])
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_owned(), w.next()?.parse().ok()?))
        })
        .collect()
}

/// Checks the sampler's reading of `c` against nstat's, read in between
/// two samples (counters only grow while it runs).
fn check_with_nstat(w: &Watch, lab: &Lab, c: Counter) -> u64 {
    let before = w.now().counters.get(c).unwrap();
    let theirs = nstat(&lab.server)[&format!("{}{}", c.section(), c.name())];
    let after = w.now().counters.get(c).unwrap();
    assert!(
        before <= theirs && theirs <= after,
        "{c}: nstat {theirs} outside {before}..={after}"
    );
    theirs
}

fn kinds(r: &CounterReport) -> Vec<(AlertKind, Option<Counter>)> {
    r.alerts.iter().map(|a| (a.kind, a.counter)).collect()
}

fn has(r: &CounterReport, kind: AlertKind, counter: Counter) -> bool {
    r.alerts
        .iter()
        .any(|a| a.kind == kind && a.counter == Some(counter))
}

/// `n` spoofed sources: 60% from 198.18.7.0/24, 25% from 198.18.9.0/24,
/// the rest spread over 198.18.100.0/24 to 198.18.199.0/24, interleaved so
/// any prefix of the sequence has about those shares.
fn flood_sources(n: u64) -> Vec<(IpAddr, u16)> {
    (0..n)
        .map(|i| {
            let third = match i % 20 {
                0..=11 => 7,
                12..=16 => 9,
                _ => 100 + (i / 20 % 100) as u8,
            };
            let host = 1 + (i * 7 % 250) as u8;
            let ip = IpAddr::V4(Ipv4Addr::new(198, 18, third, host));
            (ip, 1024 + (i % 60000) as u16)
        })
        .collect()
}

/// What a SYN flood with cookies on left: the lab and its listener (kept
/// alive), the sampler and the first sample after the flood.
struct CookieFlood {
    lab: Lab,
    _listener: std::net::TcpListener,
    w: Watch,
    r: CounterReport,
}

const BACKLOG: u32 = 256;

/// Floods a listener with backlog [`BACKLOG`] at `target` in a fresh lab
/// with SYN cookies on, from `sources`, after two quiet intervals; checks
/// what any such flood must show: the cookies rate and the alert naming
/// it, the table holding about the backlog and the counters the rest, the
/// listener's full queue with its backlog, and nstat agreeing.
fn cookie_flood(tag: &str, target: SocketAddr, sources: Vec<(IpAddr, u16)>) -> CookieFlood {
    let cfg = LabConfig {
        syncookies: Some(true),
        ..LabConfig::default()
    };
    let lab = Lab::new(tag, &cfg).unwrap();
    let listener = listen(&lab.server, target, BACKLOG).unwrap();
    let mut w = Watch::new(&lab);
    w.quiet(2);
    let before = w.now();

    let n = sources.len() as u64;
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(50_000);
    assert_eq!(syn.send(sources, target).unwrap(), n);
    w.settle(Counter::SyncookiesSent);

    // The very next sample: rates and an alert naming the counter.
    let r = w.step();
    let rates = r.rates.as_ref().unwrap();
    let cookies_rate = rates.get(Counter::SyncookiesSent).unwrap();
    assert!(cookies_rate > 100.0, "rate {cookies_rate}");
    assert!(
        has(&r, AlertKind::SynFlood, Counter::SyncookiesSent),
        "{:#?}",
        r.alerts
    );
    // The rate is the counter's growth over the interval.
    let after = r.counters.as_ref().unwrap();
    let cookies = after.counters.get(Counter::SyncookiesSent).unwrap()
        - before.counters.get(Counter::SyncookiesSent).unwrap();
    assert!(cookies_rate * rates.interval_secs <= cookies as f64 + 0.5);

    // The table holds about the backlog's worth; the counters the rest.
    let family = if target.is_ipv4() {
        Family::V4
    } else {
        Family::V6
    };
    let half_open = lab.server.count(family, TcpState::SynRecv).unwrap() as u64;
    assert!(
        half_open <= u64::from(BACKLOG) + 2 && half_open >= u64::from(BACKLOG) / 2,
        "{half_open} half-open entries, backlog {BACKLOG}"
    );
    assert!(
        cookies + half_open >= n * 95 / 100,
        "cookies {cookies} + table {half_open} < {n}"
    );
    let q = r.listeners.iter().find(|l| l.local == target).unwrap();
    assert_eq!(q.backlog, Some(BACKLOG));
    assert_eq!(u64::from(q.half_open), half_open);
    assert!(r.undercount.iter().any(
        |u| matches!(u, UndercountReason::SynQueueFull { listener, .. } if *listener == target)
    ));
    check_with_nstat(&w, &lab, Counter::SyncookiesSent);
    CookieFlood {
        lab,
        _listener: listener,
        w,
        r,
    }
}

#[test]
fn syn_flood_with_cookies_shows_in_counters_not_in_table() {
    if !require_root("syn_flood_with_cookies_shows_in_counters_not_in_table") {
        return;
    }
    let CookieFlood {
        lab,
        _listener,
        mut w,
        r,
    } = cookie_flood("cck", Lab::server_addr_v4(80), flood_sources(6000));
    assert!(kinds(&r).contains(&(AlertKind::TableUndercounts, None)));
    assert!(kinds(&r).contains(&(AlertKind::QueueFull, None)));
    assert!(r
        .undercount
        .iter()
        .any(|u| matches!(u, UndercountReason::CookiesSent { .. })));
    // The settings are the namespace's own (the host keeps its own values).
    assert_eq!(r.settings_error, None);
    let settings = r.settings.as_ref().unwrap();
    assert_eq!(settings.tcp_syncookies, Some(1));
    assert_eq!(
        settings.tcp_max_syn_backlog.unwrap().to_string(),
        lab.server
            .read_sysctl("net.ipv4.tcp_max_syn_backlog")
            .unwrap()
    );
    assert_eq!(settings.somaxconn, Some(65535));

    // The table's sample still points to the heavy prefixes.
    let entries = lab.server.entries(Family::V4).unwrap();
    let report = Report::from_entries(&entries, &Config::default()).unwrap();
    let reported: Vec<String> = report
        .prefixes
        .iter()
        .filter(|p| p.prefix.prefix_len() == 24)
        .map(|p| p.prefix.to_string())
        .collect();
    assert_eq!(reported, ["198.18.7.0/24", "198.18.9.0/24"], "{report:#?}");
    // And the report carries the counters.
    let json = report.with_counters(r).to_json();
    assert!(json.contains(r#""kind":"syn_flood","counter":"TcpExt.SyncookiesSent""#));
    assert!(json.contains(r#""reason":"cookies_sent""#));

    // Once the barrage stops, the counters go quiet again; the SYN queue
    // stays full until its entries expire, and the report keeps saying so.
    w.no_spikes(2);
    let r = w.step();
    assert_eq!(
        kinds(&r),
        [
            (AlertKind::QueueFull, None),
            (AlertKind::TableUndercounts, None)
        ]
    );
}

/// The same flood over IPv6: the cookies counter is shared by both
/// families, the listener's queue and backlog are the IPv6 listener's, and
/// the table's sample still points to the heavy /64.
#[test]
fn ipv6_syn_flood_with_cookies_shows_in_counters_not_in_table() {
    if !require_root("ipv6_syn_flood_with_cookies_shows_in_counters_not_in_table") {
        return;
    }
    // 80% from 2001:db8:7::/64, the rest spread over /64s of 2001:db8:9::/48.
    let sources = (0..6000u64)
        .map(|i| {
            let net = if i % 5 == 4 {
                0x2001_0db8_0009_0000u128 | u128::from(i / 5 % 200)
            } else {
                0x2001_0db8_0007_0000
            };
            let ip = IpAddr::V6(((net << 64) | u128::from(1 + i * 7919 % 60_000)).into());
            (ip, 1024 + (i % 60000) as u16)
        })
        .collect();
    let CookieFlood { lab, _listener, .. } = cookie_flood("cc6", Lab::server_addr_v6(443), sources);
    let entries = lab.server.entries(Family::V6).unwrap();
    let report = Report::from_entries(&entries, &Config::default()).unwrap();
    let top = &report.prefixes[0];
    assert_eq!(top.prefix.to_string(), "2001:db8:7::/64", "{report:#?}");
    assert_eq!(
        top.verdict,
        halfopen::verdict::Verdict::Block,
        "{}",
        top.reason
    );
}

#[test]
fn syn_flood_without_cookies_grows_the_table_and_leaves_counters_quiet() {
    if !require_root("syn_flood_without_cookies_grows_the_table_and_leaves_counters_quiet") {
        return;
    }
    let cfg = LabConfig {
        syncookies: Some(false),
        ..LabConfig::default()
    };
    let lab = Lab::new("ccn", &cfg).unwrap();
    let target = Lab::server_addr_v4(80);
    let _l = listen(&lab.server, target, 4096).unwrap();
    let mut w = Watch::new(&lab);
    w.quiet(1);
    let before = w.now();

    let n = 1500;
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(50_000);
    assert_eq!(syn.send(flood_sources(n), target).unwrap(), n);
    assert!(wait_until(Duration::from_secs(10), || {
        lab.server.count(Family::V4, TcpState::SynRecv).unwrap() as u64 == n
    }));
    let r = w.step();
    // The table holds every SYN; no cookie, no drop, no alert.
    let after = r.counters.as_ref().unwrap();
    for c in [
        Counter::SyncookiesSent,
        Counter::ListenDrops,
        Counter::ListenOverflows,
        Counter::TcpReqQFullDrop,
        Counter::TcpReqQFullDoCookies,
    ] {
        assert_eq!(after.counters.get(c), before.counters.get(c), "{c}");
        assert_eq!(r.rates.as_ref().unwrap().get(c), Some(0.0), "{c}");
    }
    assert!(r.alerts.is_empty(), "{:#?}", r.alerts);
    assert!(r.undercount.is_empty(), "{:?}", r.undercount);
    // Meanwhile the SYNs did arrive: the attack link's packet rate.
    let rates = r.rates.as_ref().unwrap();
    let att = rates.interfaces.iter().find(|i| i.name == "att0").unwrap();
    assert!(att.rx_packets * rates.interval_secs >= n as f64 * 0.95);
    let settings = r.settings.as_ref().unwrap();
    assert_eq!(settings.tcp_syncookies, Some(0));
    assert!(r.notes[0].text.starts_with("SYN cookies are off"));
    assert_eq!(check_with_nstat(&w, &lab, Counter::SyncookiesSent), 0);
}

#[test]
fn port_scans_raise_the_scan_alert() {
    if !require_root("port_scans_raise_the_scan_alert") {
        return;
    }
    let lab = Lab::new("ccs", &LabConfig::default()).unwrap();
    let mut w = Watch::new(&lab);
    w.quiet(2);

    // SYNs to closed ports: the server answers each with a reset.
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(50_000);
    let src = IpAddr::V4(Ipv4Addr::new(198, 18, 66, 6));
    let ports = 1000..3000u16;
    for port in ports.clone() {
        syn.send([(src, 40000)], Lab::server_addr_v4(port)).unwrap();
    }
    w.settle(Counter::TcpOutRsts);
    let r = w.step();
    assert!(
        has(&r, AlertKind::PortScan, Counter::TcpOutRsts),
        "{:#?}",
        r.alerts
    );
    let rsts = r.rates.as_ref().unwrap().get(Counter::TcpOutRsts).unwrap();
    assert!(rsts * r.rates.as_ref().unwrap().interval_secs >= ports.len() as f64 * 0.95);
    assert!(
        r.alerts.iter().all(|a| a.kind == AlertKind::PortScan),
        "{:#?}",
        r.alerts
    );
    check_with_nstat(&w, &lab, Counter::TcpOutRsts);
    w.quiet(1);

    // UDP datagrams to closed ports: NoPorts (and port unreachables, which
    // the kernel rate-limits).
    let sock = lab
        .attacker
        .run(|| UdpSocket::bind(SocketAddr::new(Lab::ATTACKER_V4.into(), 0)))
        .unwrap();
    for port in 5000..6500u16 {
        sock.send_to(b"probe", SocketAddr::new(Lab::SERVER_V4.into(), port))
            .unwrap();
    }
    w.settle(Counter::UdpNoPorts);
    let r = w.step();
    assert!(
        has(&r, AlertKind::PortScan, Counter::UdpNoPorts),
        "{:#?}",
        r.alerts
    );
    assert!(
        r.alerts.iter().all(|a| a.kind == AlertKind::PortScan),
        "{:#?}",
        r.alerts
    );
    let rates = r.rates.as_ref().unwrap();
    assert!(rates.get(Counter::IcmpOutDestUnreachs).unwrap() > 0.0);
    check_with_nstat(&w, &lab, Counter::UdpNoPorts);
    w.quiet(1);
}

#[test]
fn ping_floods_raise_the_ping_alert() {
    if !require_root("ping_floods_raise_the_ping_alert") {
        return;
    }
    let lab = Lab::new("ccp", &LabConfig::default()).unwrap();
    let mut w = Watch::new(&lab);
    w.quiet(2);

    let mut s = SynSender::new(&lab.attacker).unwrap().rate(50_000);
    let n = 3000;
    s.ping("198.18.77.1".parse().unwrap(), Lab::SERVER_V4.into(), n)
        .unwrap();
    s.ping("2001:db8:77::1".parse().unwrap(), Lab::SERVER_V6.into(), n)
        .unwrap();
    w.settle(Counter::IcmpOutEchoReps);
    w.settle(Counter::Icmp6OutEchoReplies);
    let r = w.step();
    let by_counter: BTreeMap<Counter, AlertKind> = r
        .alerts
        .iter()
        .filter_map(|a| Some((a.counter?, a.kind)))
        .collect();
    for c in [
        Counter::IcmpInEchos,
        Counter::IcmpOutEchoReps,
        Counter::Icmp6InEchos,
        Counter::Icmp6OutEchoReplies,
    ] {
        assert_eq!(
            by_counter.get(&c),
            Some(&AlertKind::PingFlood),
            "{c}: {:#?}",
            r.alerts
        );
        let got =
            r.rates.as_ref().unwrap().get(c).unwrap() * r.rates.as_ref().unwrap().interval_secs;
        assert!(
            (got - n as f64).abs() <= n as f64 * 0.05,
            "{c}: {got} of {n}"
        );
        check_with_nstat(&w, &lab, c);
    }
    // The echoes are traffic on the attack link too.
    let att = r
        .rates
        .as_ref()
        .unwrap()
        .interfaces
        .iter()
        .find(|i| i.name == "att0")
        .unwrap();
    assert!(att.rx_packets * r.rates.as_ref().unwrap().interval_secs >= 2.0 * n as f64 * 0.95);
    w.quiet(2);
}

/// A sampler made from a namespace file reads that namespace's counters,
/// settings and listener queues from a helper thread, whatever namespace
/// the caller's thread is in: nstat inside agrees, the namespace's own
/// sysctls show, and its listener has its backlog.
#[test]
fn a_namespace_file_is_sampled_from_inside() {
    if !require_root("a_namespace_file_is_sampled_from_inside") {
        return;
    }
    let ns = Netns::new("ccn").unwrap();
    ns.sysctl("net.ipv4.tcp_syncookies", "0").unwrap();
    ns.sysctl("net.core.somaxconn", "77").unwrap();
    let listener = ns
        .run(|| std::net::TcpListener::bind("127.0.0.1:4242"))
        .unwrap();
    let mut sampler = Sampler::in_namespace(ns.path(), 4);
    assert!(sampler.sample().unwrap().is_none());
    // Datagrams to a closed port inside: each is a UDP NoPorts there.
    let sent = 25;
    ns.run(|| {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..sent {
            s.send_to(b"x", "127.0.0.1:9").unwrap();
        }
    });
    std::thread::sleep(Duration::from_millis(50));
    let before = sampler.sample().unwrap().unwrap().clone();
    let counted = before.get(Counter::UdpNoPorts).unwrap() * before.interval_secs;
    assert_eq!(counted.round() as u64, sent);
    let latest = sampler
        .history()
        .latest()
        .unwrap()
        .counters
        .get(Counter::UdpNoPorts);
    let theirs = nstat(&ns)["UdpNoPorts"];
    assert_eq!(
        latest,
        Some(theirs),
        "nstat inside agrees (nothing else sends there)"
    );

    let report = sampler.report().unwrap();
    let settings = report.settings.as_ref().unwrap();
    assert_eq!(settings.tcp_syncookies, Some(0));
    assert_eq!(settings.somaxconn, Some(77));
    let queue = report
        .listeners
        .iter()
        .find(|q| q.local == listener.local_addr().unwrap())
        .unwrap_or_else(|| panic!("listener not found: {:?}", report.listeners));
    assert_eq!(
        queue.backlog,
        Some(77),
        "the listener's backlog, capped at somaxconn"
    );

    let mut nowhere = Sampler::in_namespace("/proc/self/status", 4);
    let err = nowhere.sample().unwrap_err();
    assert!(matches!(err, CounterError::Namespace(_)), "{err}");
    assert!(err.to_string().contains("/proc/self/status"), "{err}");
}
