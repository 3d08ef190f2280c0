//! The Rust side of `benches/python_vs_rust.py`: parses a table and builds
//! its report (`parse_table`, `Snapshot::push`, `Report::build`, the same
//! calls `halfopen.Report.from_bytes` makes), `N` times, and prints the
//! median and minimum time per call in nanoseconds: the thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`, which other processes on a busy machine do
//! not inflate) and the wall-clock time.
//!
//! `cargo run --release -p halfopen-benches --example report_table -- write <tcp|tcp6> ROWS FILE`
//! writes the benchmark table; `... -- time FILE N` times the call on it.

use std::time::Instant;

/// This thread's CPU time in nanoseconds.
fn thread_cpu_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

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
            let mut cpu = Vec::with_capacity(n);
            let mut wall = Vec::with_capacity(n);
            let mut prefixes = 0;
            for _ in 0..n.max(1) {
                let (c, w) = (thread_cpu_ns(), Instant::now());
                let r = report(std::hint::black_box(&table), &config);
                wall.push(w.elapsed().as_nanos());
                cpu.push(thread_cpu_ns() - c);
                prefixes = r.prefixes.len();
            }
            cpu.sort_unstable();
            wall.sort_unstable();
            println!(
                "{{\"cpu_median_ns\": {}, \"cpu_min_ns\": {}, \"wall_median_ns\": {}, \"wall_min_ns\": {}, \"prefixes\": {prefixes}}}",
                cpu[cpu.len() / 2],
                cpu[0],
                wall[wall.len() / 2],
                wall[0]
            );
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
