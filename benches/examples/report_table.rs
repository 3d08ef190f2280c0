//! The Rust side of `benches/python_vs_rust.py`: parses a table and builds
//! its report (`parse_table`, `Snapshot::push`, `Report::build`, the same
//! calls `halfopen.Report.from_bytes` makes), `N` times, and prints the
//! median and minimum time per call in nanoseconds.
//!
//! `cargo run --release -p halfopen-benches --example report_table -- write <tcp|tcp6> ROWS FILE`
//! writes the benchmark table; `... -- time FILE N` times the call on it.

use std::time::Instant;

use halfopen::procnet::{parse_table, Family};
use halfopen::report::Report;
use halfopen::snapshot::Snapshot;
use halfopen::verdict::Config;
use halfopen_benches::syn_recv_table;

fn report(table: &[u8], config: &Config) -> Report {
    let mut snapshot = Snapshot::new();
    for row in parse_table(table, None) {
        snapshot.push(&row.expect("the benchmark table parses"));
    }
    Report::build(&snapshot, config).expect("the default config is valid")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: report_table write <tcp|tcp6> ROWS FILE | report_table time FILE N";
    match args.get(1).map(String::as_str) {
        Some("write") => {
            let family = if args.get(2).map(String::as_str) == Some("tcp6") {
                Family::V6
            } else {
                Family::V4
            };
            let rows: usize = args.get(3).and_then(|n| n.parse().ok()).expect(usage);
            let path = args.get(4).expect(usage);
            std::fs::write(path, syn_recv_table(family, rows)).expect("cannot write the table");
        }
        Some("time") => {
            let path = args.get(2).expect(usage);
            let n: usize = args.get(3).and_then(|n| n.parse().ok()).expect(usage);
            let table = std::fs::read(path).expect("cannot read the table");
            let config = Config::default();
            let mut times = Vec::with_capacity(n);
            let mut prefixes = 0;
            for _ in 0..n.max(1) {
                let start = Instant::now();
                let r = report(std::hint::black_box(&table), &config);
                times.push(start.elapsed().as_nanos());
                prefixes = r.prefixes.len();
            }
            times.sort_unstable();
            println!(
                "{{\"median_ns\": {}, \"min_ns\": {}, \"prefixes\": {prefixes}}}",
                times[times.len() / 2],
                times[0]
            );
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
