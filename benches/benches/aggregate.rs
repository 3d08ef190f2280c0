//! Aggregation and verdicts for 1 M half-open entries from a parsed table,
//! against a plain `HashMap<u32 /24, count>` pass, a pass that only reads
//! the rows, and the same counts kept in the `prefix-trie` crate; the same
//! against a hash-map pass for other shapes of flood (1 M random IPv4
//! sources, 1 M distinct IPv6 sources in 16 /64s); and an adversarial spray
//! of 1 M random IPv6 /128s under the node cap.

use std::collections::HashMap;
use std::hint::black_box;
use std::net::IpAddr;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use halfopen::prefix_tree::{Sample, TreeBuilder};
use halfopen::procnet::{parse_table, Family, TcpEntry, TcpState};
use halfopen::report::Report;
use halfopen::snapshot::Snapshot;
use halfopen::verdict::Config;
use ipnet::Ipv4Net;
use prefix_trie::PrefixMap;

const ROWS: usize = 1_000_000;

/// One pass counting half-open entries per prefix in a std `HashMap`,
/// nothing else: `prefix` gives a source's prefix, `None` for the other
/// family.
fn hashmap_pass(entries: &[TcpEntry<'_>], prefix: impl Fn(IpAddr) -> Option<u64>) -> usize {
    let mut per: HashMap<u64, u64> = HashMap::new();
    for e in entries {
        if e.state == TcpState::SynRecv {
            if let Some(p) = prefix(e.remote.ip()) {
                *per.entry(p).or_default() += 1;
            }
        }
    }
    per.len()
}

/// The cost of the tree made visible: one pass counting half-open entries
/// per IPv4 /24.
fn hashmap_24(entries: &[TcpEntry<'_>]) -> usize {
    hashmap_pass(entries, |ip| match ip {
        IpAddr::V4(a) => Some(u64::from(u32::from(a) >> 8)),
        IpAddr::V6(_) => None,
    })
}

/// The same for IPv6 /64s.
fn hashmap_64(entries: &[TcpEntry<'_>]) -> usize {
    hashmap_pass(entries, |ip| match ip {
        IpAddr::V6(a) => Some((u128::from(a) >> 64) as u64),
        IpAddr::V4(_) => None,
    })
}

/// The floor of any pass over the parsed rows: reading the two fields a
/// count needs, nothing else.
fn read_rows(entries: &[TcpEntry<'_>]) -> u64 {
    entries
        .iter()
        .map(|e| u64::from(e.state == TcpState::SynRecv) + u64::from(e.remote.port()))
        .sum()
}

#[derive(Default, Clone, Copy)]
struct TrieCounts {
    half_open: u64,
    sources: u64,
}

/// The same counts as the tree (entries and distinct sources at /32, /24,
/// /16) kept in `prefix_trie::PrefixMap`.
fn prefix_trie_counts(entries: &[TcpEntry<'_>]) -> usize {
    let mut map: PrefixMap<Ipv4Net, TrieCounts> = PrefixMap::new();
    for e in entries {
        if e.state != TcpState::SynRecv {
            continue;
        }
        let IpAddr::V4(a) = e.remote.ip() else {
            continue;
        };
        let host = Ipv4Net::new(a, 32).unwrap();
        let c = map.entry(host).or_default();
        c.half_open += 1;
        let new_source = c.half_open == 1;
        for len in [24, 16] {
            let net = Ipv4Net::new(a, len).unwrap().trunc();
            let c = map.entry(net).or_default();
            c.half_open += 1;
            c.sources += u64::from(new_source);
        }
    }
    map.len()
}

fn bench_flood(c: &mut Criterion) {
    let text = halfopen_benches::flood_table(ROWS);
    let entries: Vec<TcpEntry<'_>> = parse_table(text.as_bytes(), None)
        .collect::<Result<_, _>>()
        .expect("generated table parses");
    let config = Config::default();
    let snapshot = Snapshot::from_entries(&entries);
    let report = Report::build(&snapshot, &config).unwrap();
    eprintln!(
        "flood: {} half-open, {} prefixes reported ({} block), {} tree nodes, {} distinct sources",
        report.half_open,
        report.prefixes.len(),
        report.blocks().count(),
        report.tree.nodes,
        report.sources.distinct
    );

    let mut g = c.benchmark_group("aggregate_1M");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(10);
    g.bench_function("halfopen_entries_to_report", |b| {
        b.iter(|| Report::from_entries(black_box(&entries), &config).unwrap())
    });
    g.bench_function("halfopen_snapshot_to_report", |b| {
        b.iter(|| Report::build(black_box(&snapshot), &config).unwrap())
    });
    g.bench_function("halfopen_entries_to_snapshot", |b| {
        b.iter(|| Snapshot::from_entries(black_box(&entries)).half_open())
    });
    g.bench_function("baseline_hashmap_24", |b| {
        b.iter(|| hashmap_24(black_box(&entries)))
    });
    g.bench_function("baseline_read_rows", |b| {
        b.iter(|| read_rows(black_box(&entries)))
    });
    g.bench_function("prefix_trie_crate_32_24_16", |b| {
        b.iter(|| prefix_trie_counts(black_box(&entries)))
    });
    g.finish();
}

/// Other shapes of flood, each against a hash-map pass over its rows.
fn bench_shapes(c: &mut Criterion) {
    type Baseline = fn(&[TcpEntry<'_>]) -> usize;
    let shapes: [(&str, Vec<TcpEntry<'static>>, Baseline); 2] = [
        (
            "ipv4_spray",
            halfopen_benches::ipv4_spray_entries(ROWS),
            hashmap_24,
        ),
        (
            "ipv6_flood",
            halfopen_benches::ipv6_flood_entries(ROWS),
            hashmap_64,
        ),
    ];
    let config = Config::default();
    for (name, entries, baseline) in &shapes {
        let snapshot = Snapshot::from_entries(entries);
        let r = Report::build(&snapshot, &config).unwrap();
        eprintln!(
            "{name}: {} half-open, {} distinct sources, {} tree nodes, {} counted above their address, {} prefixes reported",
            r.half_open, r.sources.distinct, r.tree.nodes, r.tree.overflow, r.prefixes.len()
        );
        let mut g = c.benchmark_group(format!("{name}_1M"));
        g.throughput(Throughput::Elements(ROWS as u64));
        g.sample_size(10);
        g.bench_function("halfopen_snapshot_to_report", |b| {
            b.iter(|| Report::build(black_box(&snapshot), &config).unwrap())
        });
        g.bench_function("halfopen_entries_to_snapshot", |b| {
            b.iter(|| Snapshot::from_entries(black_box(entries)).half_open())
        });
        g.bench_function("baseline_hashmap", |b| {
            b.iter(|| baseline(black_box(entries)))
        });
        g.finish();
    }
}

fn bench_spray(c: &mut Criterion) {
    let entries = halfopen_benches::ipv6_spray_entries(ROWS);
    let snapshot = Snapshot::from_entries(&entries);
    let capped = Config::default();
    let uncapped = Config::default().with_node_cap(usize::MAX);
    for (name, config) in [("capped", &capped), ("uncapped", &uncapped)] {
        let mut t = TreeBuilder::new(Family::V6, &config.levels_v6, config.node_cap).unwrap();
        for h in snapshot.half_open_entries() {
            t.insert(
                h.remote,
                Sample {
                    remote_port: 40000,
                    local_port: h.local_port,
                    retransmitted: h.retransmits > 0,
                },
            );
        }
        let tree = t.build();
        let r = Report::build(&snapshot, config).unwrap();
        eprintln!(
            "spray {name}: node_cap {}, nodes {}, approx tree bytes {:.1} MiB, overflow {}, dropped {}, prefixes {}",
            if config.node_cap == usize::MAX { "none".to_string() } else { config.node_cap.to_string() },
            r.tree.nodes,
            tree.approx_bytes() as f64 / (1 << 20) as f64,
            r.tree.overflow,
            r.tree.dropped,
            r.prefixes.len()
        );
    }
    let mut g = c.benchmark_group("spray_1M_ipv6");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(10);
    g.bench_function("snapshot_to_report_capped", |b| {
        b.iter(|| Report::build(black_box(&snapshot), &capped).unwrap())
    });
    g.bench_function("snapshot_to_report_uncapped", |b| {
        b.iter(|| Report::build(black_box(&snapshot), &uncapped).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = bench_flood, bench_shapes, bench_spray
}
criterion_main!(benches);
