//! One tick of "count half-open entries per subnet, block what stands out,
//! release what expired": reads this namespace's live TCP tables, blocks
//! the report's verdict-block prefixes in a block set kept in a state file,
//! and prints the nftables batch that brings halfopen's table up to date.
//! halfopen runs nothing itself: pipe the batch into `nft -f -`.
//!
//! ```sh
//! cargo run -p halfopen --example block -- --state /var/lib/halfopen/blocks.state | nft -f -
//! ```
//!
//! Options: `--state FILE` (required), `--ttl SECONDS` (first-offence TTL,
//! default 600), `--full` (print the whole table, for the first run or
//! after nft lost it). Meant to run every few seconds or from cron: the
//! clock is wall-clock milliseconds, so the time between runs counts.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use halfopen::blockset::state_file::{Resume, StateError};
use halfopen::blockset::{BlockConfig, BlockSet, Millis};
use halfopen::firewall::nft::Nft;
use halfopen::report::Report;
use halfopen::snapshot::Snapshot;
use halfopen::verdict::Config;

struct Args {
    state: std::path::PathBuf,
    ttl: Duration,
    full: bool,
}

fn args() -> Result<Args, String> {
    let mut state = None;
    let mut ttl = Duration::from_secs(600);
    let mut full = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--state" => state = it.next().map(Into::into),
            "--ttl" => {
                let v = it.next().unwrap_or_default();
                let secs: u64 = v
                    .parse()
                    .map_err(|_| format!("--ttl takes seconds, not {v:?}"))?;
                ttl = Duration::from_secs(secs);
            }
            "--full" => full = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let state = state.ok_or("--state FILE is required")?;
    Ok(Args { state, ttl, full })
}

fn run() -> Result<String, Box<dyn std::error::Error>> {
    let args = args()?;
    let now = Millis(u64::try_from(
        SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis(),
    )?);
    let config = BlockConfig {
        default_ttl: args.ttl,
        ..BlockConfig::default()
    };
    let mut fresh = args.full;
    let mut set = match BlockSet::load_with(&args.state, config.clone(), now, Resume::SameClock) {
        Ok(restored) => {
            for refused in &restored.refused {
                eprintln!("block: not restored: {refused}");
            }
            restored.set
        }
        Err(StateError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            fresh = true;
            BlockSet::new(config)
        }
        Err(e) => return Err(e.into()),
    };
    for ended in set.expire(now) {
        eprintln!("block: released {} ({})", ended.prefix, ended.reason);
    }
    let (snapshot, _) = Snapshot::read(&halfopen::live::Options::new())?;
    let report = Report::build(&snapshot, &Config::default())?;
    let outcome = set.apply_report(&report, None, now);
    for (prefix, added) in &outcome.added {
        eprintln!("block: {prefix}: {added:?}");
    }
    for refused in &outcome.refused {
        eprintln!("block: refused: {refused}");
    }
    let nft = Nft::default();
    // The state file keeps what nft was told, so each run sends only the
    // changes; the first run (no state file) or --full sends the table.
    let batch = if fresh {
        let b = nft.render_full(&set.elements(now));
        set.mark_synced(now);
        b
    } else {
        let diff = set.sync_diff(now);
        nft.render_sync(&diff, &set)
    };
    set.save(&args.state, now)?;
    Ok(batch)
}

fn main() -> ExitCode {
    match run() {
        Ok(batch) => {
            print!("{batch}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("block: {e}");
            ExitCode::FAILURE
        }
    }
}
