//! Runs one aggregation step many times and prints the CPU time this thread
//! spent per round (least, median, most), which, unlike criterion's
//! wall-clock times, leaves out waiting for a core on a shared machine.
//!
//! `cargo run --release -p halfopen-benches --example aggregate_cpu -- report 20 [input]`
//!
//! Inputs (1 M half-open entries each): `flood` (the default: the parsed
//! table of `halfopen_benches::flood_table`), `ipv4-spray`, `ipv6-flood`,
//! `ipv6-spray` (see the functions of those names in `halfopen_benches`).

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
    let input = args.next().unwrap_or_else(|| "flood".into());
    const ROWS: usize = 1_000_000;
    let text = halfopen_benches::flood_table(if input == "flood" { ROWS } else { 0 });
    let entries: Vec<TcpEntry<'_>> = match input.as_str() {
        "flood" => parse_table(text.as_bytes(), None)
            .collect::<Result<_, _>>()
            .unwrap(),
        "ipv4-spray" => halfopen_benches::ipv4_spray_entries(ROWS),
        "ipv6-flood" => halfopen_benches::ipv6_flood_entries(ROWS),
        "ipv6-spray" => halfopen_benches::ipv6_spray_entries(ROWS),
        other => panic!("unknown input {other}"),
    };
    let snapshot = Snapshot::from_entries(&entries);
    let config = Config::default();
    let mut cpu = Vec::new();
    for _ in 0..iters {
        let start = thread_cpu();
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
            "touch" => {
                let mut n = 0u64;
                for e in black_box(&entries) {
                    n += u64::from(e.state == TcpState::SynRecv) + u64::from(e.remote.port());
                }
                black_box(n);
            }
            "none" => {}
            other => panic!("unknown step {other}"),
        }
        cpu.push(thread_cpu() - start);
    }
    cpu.sort_unstable();
    if let (Some(least), Some(most)) = (cpu.first(), cpu.last()) {
        println!(
            "{what} {input}: CPU time per round over {iters} rounds: least {least:?}, median {:?}, most {most:?}",
            cpu[cpu.len() / 2]
        );
    }
}

/// CPU time this thread has used.
fn thread_cpu() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
