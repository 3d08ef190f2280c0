//! The C example daemon (`examples/c/halfopen-watch`, linked against
//! libhalfopen) over the real tables of a namespace under a SYN flood: its
//! report is core's, byte for byte, and it blocks, expires and re-blocks the
//! flooded prefix with the nftables batches to match.
//!
//! The daemon's path comes from `HALFOPEN_C_WATCH` (scripts/test-c builds
//! it and sets it); without it, or without root, the test says why it was
//! skipped. With `HALFOPEN_SAVE_CAPTURE=DIR` the flood's tables are also
//! copied to DIR, to check a capture in.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use halfopen::live::{Namespace, Options};
use halfopen::procnet::{Family, TcpState};
use halfopen::report::Report;
use halfopen::snapshot::Snapshot;
use halfopen::verdict::{Config, Verdict};
use halfopen_tests::{
    listen, require_root, spoofed_sources, wait_until, Lab, LabConfig, SynSender,
};

fn daemon() -> Option<PathBuf> {
    match std::env::var_os("HALFOPEN_C_WATCH") {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            println!("c_example: skipped: HALFOPEN_C_WATCH is not set (scripts/test-c sets it)");
            None
        }
    }
}

/// A temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ho-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(daemon: &Path, args: &[&str], dir: &Path) -> String {
    let out = Command::new(daemon).args(args).arg(dir).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{daemon:?} {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn the_c_daemon_reports_and_blocks_a_real_flood_as_core_does() {
    let Some(daemon) = daemon() else { return };
    if !require_root("c_example") {
        return;
    }
    let lab = Lab::new("cex", &LabConfig::default()).unwrap();
    let _l4 = listen(&lab.server, Lab::server_addr_v4(80), 4096).unwrap();
    let _l6 = listen(&lab.server, Lab::server_addr_v6(443), 4096).unwrap();
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(20_000);
    // 250 sources in 198.18.7.0/24, a few scattered ones, 120 in one IPv6 /64.
    syn.send(
        spoofed_sources(Family::V4, 7 * 256, 250),
        Lab::server_addr_v4(80),
    )
    .unwrap();
    syn.send(
        spoofed_sources(Family::V4, 40 * 256, 3),
        Lab::server_addr_v4(80),
    )
    .unwrap();
    syn.send(
        spoofed_sources(Family::V6, 0x30000, 120),
        Lab::server_addr_v6(443),
    )
    .unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        lab.server.count(Family::V4, TcpState::SynRecv).unwrap() == 253
            && lab.server.count(Family::V6, TcpState::SynRecv).unwrap() == 120
    }));

    let capture = TempDir::new("cex-capture");
    for family in Family::BOTH {
        let text = lab.server.read_table(family).unwrap();
        std::fs::write(capture.0.join(family.file_name()), text).unwrap();
    }
    if let Some(save) = std::env::var_os("HALFOPEN_SAVE_CAPTURE") {
        std::fs::create_dir_all(&save).unwrap();
        for family in Family::BOTH {
            std::fs::copy(
                capture.0.join(family.file_name()),
                Path::new(&save).join(family.file_name()),
            )
            .unwrap();
        }
    }

    check_daemon(&daemon, &capture.0, 373);
}

/// Runs the daemon over the capture in `dir` and checks it against core's
/// report of the same tables.
fn check_daemon(daemon: &Path, dir: &Path, half_open: u64) {
    // Core's report of the same capture is the oracle.
    let opts = Options::new().namespace(Namespace::Dir(dir.to_path_buf()));
    let (snapshot, summary) = Snapshot::read(&opts).unwrap();
    let core = Report::build(&snapshot, &Config::default())
        .unwrap()
        .with_source(summary.origin);
    assert_eq!(core.half_open, half_open);
    assert!(core.blocks().count() > 0, "nothing to block in {dir:?}");

    // One round: the report's JSON line is core's; every blocked prefix is
    // printed with its verdict and lands in the nft batch.
    let out = run(daemon, &["-s", "-n", "1", "-j", "-k", "50"], dir);
    let json = out
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("a JSON line");
    assert_eq!(json, core.to_json());
    assert!(
        out.starts_with("== round 1 at 0 ms: 373 half-open"),
        "{out}"
    );
    for p in &core.prefixes {
        let line = format!(
            "  {:<24} half_open={:<6}",
            p.prefix.to_string(),
            p.half_open
        );
        assert!(out.contains(&line), "no line for {}:\n{out}", p.prefix);
        assert!(out.contains(&format!("verdict={:<5}", p.verdict.name())));
    }
    let n_blocks = core
        .prefixes
        .iter()
        .filter(|p| p.verdict == Verdict::Block)
        .count();
    assert!(
        out.contains(&format!(
            "== nft batch: {n_blocks} added, 0 refreshed, 0 removed"
        )),
        "{out}"
    );
    for p in core.blocks() {
        assert!(out.contains(&format!("{} timeout 10m", p.prefix)), "{out}");
    }

    // Two rounds 11 minutes apart with a 10-minute TTL: the blocks expire,
    // then come back as second strikes with twice the TTL.
    let out = run(daemon, &["-s", "-n", "2", "-i", "660", "-t", "600"], dir);
    let round2 = out.split("== round 2").nth(1).expect("a second round");
    assert!(
        round2.contains(&format!("{n_blocks} expired, {n_blocks} blocked")),
        "{out}"
    );
    for p in core.blocks() {
        assert!(
            round2.contains(&format!("{} timeout 20m", p.prefix)),
            "{out}"
        );
    }
}

#[test]
fn the_c_daemon_over_a_checked_in_flood_capture_agrees_with_core() {
    let Some(daemon) = daemon() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/flood");
    check_daemon(&daemon, &dir, 373);
}
