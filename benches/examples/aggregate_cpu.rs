//! Runs one aggregation step many times so `perf stat -e task-clock` can
//! give its CPU time on a shared machine, where criterion's wall-clock
//! times include waiting for a core.
//!
//! `cargo run --release -p halfopen-benches --example aggregate_cpu -- report 20`

use std::hint::black_box;

use halfopen::procnet::{parse_table, TcpEntry, TcpState};
use halfopen::report::Report;
use halfopen::snapshot::Snapshot;
use halfopen::verdict::Config;
use std::collections::HashMap;
use std::net::IpAddr;

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "report".into());
    let iters: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let text = halfopen_benches::flood_table(1_000_000);
    let entries: Vec<TcpEntry<'_>> = parse_table(text.as_bytes(), None)
        .collect::<Result<_, _>>()
        .unwrap();
    let snapshot = Snapshot::from_entries(&entries);
    let config = Config::default();
    let start = std::time::Instant::now();
    for _ in 0..iters {
        match what.as_str() {
            "report" => {
                black_box(Report::build(black_box(&snapshot), &config).unwrap());
            }
            "entries" => {
                black_box(Report::from_entries(black_box(&entries), &config).unwrap());
            }
            "snapshot" => {
                black_box(Snapshot::from_entries(black_box(&entries)));
            }
            "hashmap24" => {
                let mut per24: HashMap<u32, u64> = HashMap::new();
                for e in black_box(&entries) {
                    if e.state == TcpState::SynRecv {
                        if let IpAddr::V4(a) = e.remote.ip() {
                            *per24.entry(u32::from(a) >> 8).or_default() += 1;
                        }
                    }
                }
                black_box(per24.len());
            }
            "none" => {}
            other => panic!("unknown step {other}"),
        }
    }
    eprintln!(
        "{what}: {:?} wall per iteration",
        start.elapsed() / iters.max(1)
    );
}
