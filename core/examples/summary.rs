//! Reads the live TCP tables of this network namespace (or of process
//! `--pid N`, or table files given as arguments) and prints the sockets by
//! state and the top half-open sources.
//!
//! `cargo run --release -p halfopen --example summary [-- --pid N | FILE...]`

use std::collections::HashMap;
use std::net::IpAddr;
use std::process::ExitCode;

use halfopen::procnet::{open_table, read_live, NetNs, ReadError, TcpEntry, TcpState};

#[derive(Default)]
struct Tally {
    rows: u64,
    by_state: HashMap<TcpState, u64>,
    half_open_by_source: HashMap<IpAddr, u64>,
}

impl Tally {
    fn add(&mut self, e: TcpEntry<'_>) {
        self.rows += 1;
        *self.by_state.entry(e.state).or_default() += 1;
        if e.state.is_half_open() {
            *self.half_open_by_source.entry(e.remote.ip()).or_default() += 1;
        }
    }
}

fn run(args: &[String]) -> Result<Tally, ReadError> {
    let mut tally = Tally::default();
    match args {
        [flag, pid] if flag == "--pid" => {
            let pid = pid.parse().unwrap_or_else(|_| {
                eprintln!("summary: --pid takes a process id, not {pid:?}");
                std::process::exit(2)
            });
            read_live(&NetNs::Pid(pid), |e| tally.add(e))?;
        }
        [] => {
            read_live(&NetNs::Current, |e| tally.add(e))?;
        }
        files => {
            for file in files {
                open_table(file)?.for_each(|e| tally.add(e))?;
            }
        }
    }
    Ok(tally)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tally = match run(&args) {
        Ok(tally) => tally,
        Err(e) => {
            eprintln!("summary: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{} sockets", tally.rows);
    for state in TcpState::ALL {
        if let Some(n) = tally.by_state.get(&state) {
            println!("  {:<14} {n:>8}", state.name());
        }
    }
    let half_open: u64 = tally.half_open_by_source.values().sum();
    let mut sources: Vec<_> = tally.half_open_by_source.into_iter().collect();
    sources.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!(
        "{half_open} half-open from {} sources; top sources:",
        sources.len()
    );
    for (ip, n) in sources.iter().take(10) {
        println!("  {ip:<40} {n:>8}");
    }
    ExitCode::SUCCESS
}
