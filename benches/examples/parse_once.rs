//! Parses a generated 100k-row table once with the named method, for
//! instruction counts under `valgrind --tool=callgrind` (deterministic where
//! wall-clock benchmarks on a busy machine are not).
//!
//! `cargo run --release -p halfopen-benches --example parse_once -- <tcp|tcp6> <none|halfopen|stream>`

use halfopen::procnet::{parse_table, Family, TableReader};
use halfopen_benches::syn_recv_table;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let family = if args.get(1).map(String::as_str) == Some("tcp6") {
        Family::V6
    } else {
        Family::V4
    };
    let table = syn_recv_table(family, 100_000);
    let rows = match args.get(2).map(String::as_str) {
        Some("halfopen") => parse_table(std::hint::black_box(&table), Some(family))
            .map(|e| e.unwrap().inode as usize + 1)
            .sum::<usize>(),
        Some("stream") => {
            let mut reader = TableReader::new(&table[..]).family(family);
            reader
                .for_each(|e| {
                    std::hint::black_box(e);
                })
                .unwrap() as usize
        }
        _ => 0,
    };
    println!("{} bytes, {rows} rows", table.len());
}
