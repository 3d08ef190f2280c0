//! Samples the kernel's counters every few seconds and prints the rates,
//! the alerts and what the settings mean, until interrupted.
//!
//! ```sh
//! cargo run -p halfopen --example counters -- [--pid PID] [--interval SECS] [--count N] [--json]
//! ```
//!
//! `--pid` samples the network namespace of that process (its settings and
//! listener backlogs need root); `--json` prints each report as JSON.

use std::time::Duration;

use halfopen::counters::Sampler;
use halfopen::procnet::NetNs;

fn main() {
    if let Err(e) = run() {
        eprintln!("counters: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut ns = NetNs::Current;
    let mut interval = 5.0f64;
    let mut count = u64::MAX;
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--pid" => ns = NetNs::Pid(value()?.parse()?),
            "--interval" => interval = value()?.parse()?,
            "--count" => count = value()?.parse()?,
            "--json" => json = true,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    let interval = Duration::try_from_secs_f64(interval)?;
    let mut sampler = Sampler::new(ns, 60);
    sampler.sample()?;
    for _ in 0..count {
        std::thread::sleep(interval);
        sampler.sample()?;
        let report = sampler.report()?;
        if json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            println!("{report}");
        }
    }
    Ok(())
}
