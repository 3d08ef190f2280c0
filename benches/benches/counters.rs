//! One counter sample against the procfs crate's own readers, in the same run.
//!
//! - `live/*`: reading this machine's files from `/proc/net` and parsing them.
//!   `halfopen_sample` is a whole sample (netstat, snmp, snmp6, dev);
//!   `halfopen_three` and `procfs_three` read the three files procfs has
//!   readers for (snmp, snmp6, dev; procfs has none for netstat).
//! - `parse/*`: the same three files from memory (a namespace capture), so
//!   file reads do not blur the comparison of the parsers.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use halfopen::counters::{parse_dev, parse_snmp, parse_snmp6, PerCounter, SampleReader};
use halfopen::procnet::NetNs;
use procfs::FromRead;

const SNMP: &str = include_str!("../../core/tests/data/counters/netns/snmp");
const SNMP6: &str = include_str!("../../core/tests/data/counters/netns/snmp6");
const DEV: &str = include_str!("../../core/tests/data/counters/netns/dev");

fn ours_three(snmp: &str, snmp6: &str, dev: &str) -> (PerCounter<u64>, usize) {
    let mut c = PerCounter::default();
    let mut d = Vec::new();
    parse_snmp(snmp, &mut c).unwrap();
    parse_snmp6(snmp6, &mut c).unwrap();
    parse_dev(dev, &mut d).unwrap();
    (c, d.len())
}

fn bench(c: &mut Criterion) {
    let mut live = c.benchmark_group("counters/live");
    let mut reader = SampleReader::new(NetNs::Current);
    live.bench_function("halfopen_sample", |b| {
        b.iter(|| black_box(reader.read().unwrap()))
    });
    live.bench_function("halfopen_three", |b| {
        b.iter(|| {
            let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap();
            let snmp6 = std::fs::read_to_string("/proc/net/snmp6").unwrap();
            let dev = std::fs::read_to_string("/proc/net/dev").unwrap();
            black_box(ours_three(&snmp, &snmp6, &dev))
        })
    });
    live.bench_function("procfs_three", |b| {
        b.iter(|| {
            black_box((
                procfs::net::snmp().unwrap(),
                procfs::net::snmp6().unwrap(),
                procfs::net::dev_status().unwrap(),
            ))
        })
    });
    live.finish();

    let mut parse = c.benchmark_group("counters/parse");
    parse.bench_function("halfopen_three", |b| {
        b.iter(|| {
            black_box(ours_three(
                black_box(SNMP),
                black_box(SNMP6),
                black_box(DEV),
            ))
        })
    });
    parse.bench_function("procfs_three", |b| {
        b.iter(|| {
            black_box((
                procfs::net::Snmp::from_read(black_box(SNMP).as_bytes()).unwrap(),
                procfs::net::Snmp6::from_read(black_box(SNMP6).as_bytes()).unwrap(),
                procfs::net::InterfaceDeviceStatus::from_read(black_box(DEV).as_bytes()).unwrap(),
            ))
        })
    });
    parse.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = bench
}
criterion_main!(benches);
