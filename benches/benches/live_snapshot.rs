//! Live snapshots and reports of a namespace under a real flood: halfopen
//! through netlink sock_diag, halfopen through `/proc/net/tcp{,6}`, and
//! `ss -tan state syn-recv | wc -l` as the baseline, in the same run,
//! timed by the wall clock and by CPU time (this process and its children).
//! A second group compares halfopen's sock_diag decoder with
//! netlink-packet-sock-diag's on the same captured datagrams.
//!
//! Needs root (network namespaces, raw sockets); prints why and measures
//! nothing otherwise. `HALFOPEN_BENCH_SIZES=1000,100000` picks the sizes.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use std::os::fd::AsRawFd;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput,
};
use halfopen::live::{self, Namespace, Options, Source};
use halfopen::procnet::{Family, TcpEntry, TcpState, TimerKind};
use halfopen::report::Report;
use halfopen::snapshot::Snapshot;
use halfopen::sockdiag::{Messages, Record, SockDiag, StateSet};
use halfopen::verdict::Config;
use halfopen_tests::{
    listen, require_root, spoofed_sources, wait_until, Lab, LabConfig, SynSender,
};

/// A lab whose server holds `n` half-open entries (3/5 IPv4, 2/5 IPv6,
/// on two listeners).
struct Flooded {
    lab: Lab,
    _listeners: Vec<std::net::TcpListener>,
    n: u64,
}

fn flooded(n_asked: u64) -> Flooded {
    let config = LabConfig {
        // Entries live about two minutes: longer than the measurement.
        synack_retries: Some(6),
        ..LabConfig::default()
    };
    let lab = Lab::new("bl", &config).unwrap();
    let (s4, s6) = (Lab::server_addr_v4(80), Lab::server_addr_v6(443));
    let listeners = vec![
        listen(&lab.server, s4, 65535).unwrap(),
        listen(&lab.server, s6, 65535).unwrap(),
    ];
    let n4 = n_asked * 3 / 5;
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(40_000);
    syn.send(spoofed_sources(Family::V4, 0, n4), s4).unwrap();
    syn.send(spoofed_sources(Family::V6, 0, n_asked - n4), s6)
        .unwrap();
    let ns = Namespace::Path(lab.server.path());
    let half_open = Options::new().namespace(ns).states(StateSet::HALF_OPEN);
    let count = || live::read(&half_open, |_| {}).unwrap().entries;
    // Wait for the table to settle: a SYN can be lost on the link.
    let mut last = 0;
    wait_until(Duration::from_secs(30), || {
        let now = count();
        let settled = now == n_asked || (now == last && now > 0);
        last = now;
        std::thread::sleep(Duration::from_millis(500));
        settled
    });
    let n = count();
    eprintln!("{n} half-open entries in {}", lab.server.name());
    assert!(
        n >= n_asked * 99 / 100,
        "{n} of {n_asked} half-open entries"
    );
    Flooded {
        lab,
        _listeners: listeners,
        n,
    }
}

fn sizes() -> Vec<u64> {
    std::env::var("HALFOPEN_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').map(|n| n.trim().parse().unwrap()).collect())
        .unwrap_or_else(|| vec![1_000, 100_000])
}

/// What the snapshot is used for downstream: the half-open entries.
fn half_open(entries: &[TcpEntry<'static>]) -> usize {
    entries
        .iter()
        .filter(|e| e.state == TcpState::SynRecv)
        .count()
}

/// A full live snapshot and its report (prefixes, signs, verdicts), as
/// `halfopen scan` makes them.
fn report(opts: &Options) -> Report {
    let (snapshot, summary) = Snapshot::read(opts).unwrap();
    Report::build(&snapshot, &Config::default())
        .unwrap()
        .with_source(summary.origin)
}

fn live_snapshot(c: &mut Criterion) {
    if !require_root("live_snapshot bench") {
        return;
    }
    for n in sizes() {
        let flood = flooded(n);
        let server = flood.lab.server.path();
        // The benchmark runs inside the server's namespace, as a daemon on
        // the attacked host would: every source reads "its own" tables.
        let home = Entered::enter(&server);
        let netlink = Options::new().source(Source::Netlink);
        let proc = Options::new().source(Source::Proc);
        let setns = netlink.clone().namespace(Namespace::Path(server.clone()));
        // Each source sees the whole flood before it is timed.
        let mut verdicts = Vec::new();
        for opts in [&netlink, &proc, &setns] {
            let (entries, summary) = live::snapshot(opts).unwrap();
            assert_eq!(summary.origin.name(), opts.source.name());
            assert_eq!(half_open(&entries) as u64, flood.n);
            let r = report(opts);
            assert_eq!(r.half_open, flood.n);
            verdicts.push(
                r.prefixes
                    .iter()
                    .map(|p| (p.prefix, p.verdict))
                    .collect::<Vec<_>>(),
            );
        }
        assert!(verdicts.iter().all(|v| *v == verdicts[0]));
        assert_eq!(ss(), flood.n + 1, "ss prints a header line");

        let wall = c.benchmark_group(format!("live_snapshot/{n}"));
        sources(wall, n, &netlink, &proc, &setns);
        let mut cpu = Criterion::default()
            .with_measurement(CpuTime)
            .configure_from_args();
        let group = cpu.benchmark_group(format!("live_snapshot_cpu/{n}"));
        sources(group, n, &netlink, &proc, &setns);
        drop(home);
    }
}

/// Snapshot and report from each source, `ss` as the baseline, netlink
/// through `setns` and netlink without the report, in one group.
fn sources<M: Measurement>(
    mut group: BenchmarkGroup<'_, M>,
    n: u64,
    netlink: &Options,
    proc: &Options,
    setns: &Options,
) {
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(if n > 10_000 { 6 } else { 3 }));
    group.bench_function("netlink_report", |b| b.iter(|| report(netlink)));
    group.bench_function("proc_report", |b| b.iter(|| report(proc)));
    group.bench_function("ss_state_syn_recv_wc", |b| b.iter(ss));
    group.bench_function("netlink_setns_report", |b| b.iter(|| report(setns)));
    group.bench_function("netlink_snapshot_only", |b| {
        b.iter(|| half_open(&live::snapshot(netlink).unwrap().0))
    });
    group.finish();
}

/// `ss -tan state syn-recv | wc -l` in the calling thread's namespace: the
/// line count it prints.
fn ss() -> u64 {
    let out = Command::new("sh")
        .args(["-c", "ss -tan state syn-recv | wc -l"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The main thread inside another network namespace until dropped.
struct Entered(std::fs::File);

impl Entered {
    fn enter(path: &std::path::Path) -> Entered {
        let home = std::fs::File::open("/proc/thread-self/ns/net").unwrap();
        let ns = std::fs::File::open(path).unwrap();
        // SAFETY: setns(2) with a descriptor kept open for the call.
        assert_eq!(
            unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        Entered(home)
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        // SAFETY: as above, back to the namespace the thread came from.
        assert_eq!(
            unsafe { libc::setns(self.0.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
    }
}

/// CPU time of this process and of its waited-for children (`ss`, `sh`,
/// `wc`), in nanoseconds: what a snapshot costs the machine, kernel work
/// included, whatever else the machine runs meanwhile.
struct CpuTime;

fn cpu_now() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: the pointers are to locals the calls fill in.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts);
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru);
    }
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64 + tv(ru.ru_utime) + tv(ru.ru_stime)
}

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        cpu_now()
    }
    fn end(&self, start: u64) -> u64 {
        cpu_now().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e-3, "µs cpu")
        } else {
            (1e-6, "ms cpu")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }
    fn scale_throughputs(&self, _: f64, _: &Throughput, values: &mut [f64]) -> &'static str {
        values.iter_mut().for_each(|v| *v = 0.0);
        "n/a"
    }
    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// The datagrams of a dump of the server's sockets, as the kernel sent
/// them, and the number of sockets in them.
fn capture(flood: &Flooded) -> (Vec<Vec<u8>>, u64) {
    let mut diag = flood.lab.server.run(SockDiag::open).unwrap();
    let mut raw = Vec::new();
    for family in Family::BOTH {
        diag.dump_raw(family, StateSet::ALL, |d| raw.push(d.to_vec()))
            .unwrap();
    }
    let sockets = raw
        .iter()
        .flat_map(|d| Messages::new(d))
        .filter(|r| matches!(r, Ok(Record::Socket(_))))
        .count() as u64;
    (raw, sockets)
}

/// Decodes with netlink-packet-sock-diag and builds the same entries.
fn decode_with_crate(datagrams: &[Vec<u8>], out: &mut Vec<TcpEntry<'static>>) {
    use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
    use netlink_packet_sock_diag::{inet::Timer, SockDiagMessage};
    for d in datagrams {
        let mut offset = 0;
        while offset < d.len() {
            let msg = NetlinkMessage::<SockDiagMessage>::deserialize(&d[offset..]).unwrap();
            offset += (msg.header.length as usize + 3) & !3;
            let NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) = msg.payload else {
                continue;
            };
            let h = &r.header;
            let (timer, ms, retrans) = match h.timer {
                Some(Timer::Retransmit(t, n)) => (TimerKind::Retransmit, t.as_millis(), n),
                Some(Timer::KeepAlive(t)) => (TimerKind::Keepalive, t.as_millis(), 0),
                Some(Timer::TimeWait) => (TimerKind::TimeWait, 0, 0),
                Some(Timer::Probe(t)) => (TimerKind::ZeroWindowProbe, t.as_millis(), 0),
                None => (TimerKind::None, 0, 0),
            };
            out.push(TcpEntry {
                slot: out.len() as u32,
                local: SocketAddr::new(h.socket_id.source_address, h.socket_id.source_port),
                remote: SocketAddr::new(
                    h.socket_id.destination_address,
                    h.socket_id.destination_port,
                ),
                state: TcpState::from_code(h.state).unwrap(),
                tx_queue: h.send_queue,
                rx_queue: h.recv_queue,
                timer,
                timer_expires: ms as u64 / 10,
                retransmits: u32::from(retrans),
                uid: h.uid,
                timeout: 0,
                inode: u64::from(h.inode),
                trailing: "",
            });
        }
    }
}

fn decode_with_halfopen(datagrams: &[Vec<u8>], out: &mut Vec<TcpEntry<'static>>) {
    for d in datagrams {
        for record in Messages::new(d) {
            if let Record::Socket(mut e) = record.unwrap() {
                e.slot = out.len() as u32;
                out.push(e);
            }
        }
    }
}

fn sockdiag_decode(c: &mut Criterion) {
    if !require_root("sockdiag_decode bench") {
        return;
    }
    let n = *sizes().iter().max().unwrap();
    let flood = flooded(n);
    let start = Instant::now();
    let (raw, sockets) = capture(&flood);
    eprintln!(
        "captured {sockets} sockets in {} datagrams ({} bytes) in {:?}",
        raw.len(),
        raw.iter().map(Vec::len).sum::<usize>(),
        start.elapsed()
    );
    let (mut a, mut b) = (Vec::new(), Vec::new());
    decode_with_halfopen(&raw, &mut a);
    decode_with_crate(&raw, &mut b);
    assert_eq!(a.len() as u64, sockets);
    assert_eq!(
        a.iter()
            .map(|e| (e.local, e.remote, e.state))
            .collect::<Vec<_>>(),
        b.iter()
            .map(|e| (e.local, e.remote, e.state))
            .collect::<Vec<_>>()
    );
    let mut group = c.benchmark_group(format!("sockdiag_decode/{n}"));
    group.sample_size(30);
    group.bench_function("halfopen", |bench| {
        bench.iter_batched_ref(
            || Vec::with_capacity(sockets as usize),
            |out| decode_with_halfopen(&raw, out),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("netlink_packet_sock_diag", |bench| {
        bench.iter_batched_ref(
            || Vec::with_capacity(sockets as usize),
            |out| decode_with_crate(&raw, out),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, live_snapshot, sockdiag_decode);
criterion_main!(benches);
