use super::*;
use crate::blockset::{BlockConfig, Millis};

fn time(d: Duration) -> String {
    let mut s = String::new();
    push_time(&mut s, d);
    s
}

#[test]
fn times_split_into_units() {
    assert_eq!(time(Duration::from_millis(1)), "1ms");
    assert_eq!(time(Duration::ZERO), "1ms");
    assert_eq!(time(Duration::from_millis(1_500)), "1s500ms");
    assert_eq!(time(Duration::from_secs(3_600)), "1h");
    assert_eq!(time(Duration::from_millis(90_061_001)), "1d1h1m1s1ms");
    assert_eq!(time(Duration::from_secs(u64::MAX)), "10000d");
}

#[test]
fn extension_near_expiry_adds_before_deleting() {
    let mut set = BlockSet::new(BlockConfig::default());
    let p = "198.18.1.0/24".parse().unwrap();
    let ttl = Duration::from_secs(10);
    set.add(p, "x", ttl, Millis(0)).unwrap();
    set.sync_diff(Millis(0));
    set.add(p, "x", ttl, Millis(9_000)).unwrap();
    let batch = Nft::default().render_sync(&set.sync_diff(Millis(9_000)), &set);
    assert_eq!(
        batch,
        "add element inet halfopen blocked4 { 198.18.1.0/24 timeout 1s }\n\
         delete element inet halfopen blocked4 { 198.18.1.0/24 }\n\
         add element inet halfopen blocked4 { 198.18.1.0/24 timeout 10s }\n"
    );
}

#[test]
fn cover_over_lapsed_block_refills_that_family_only() {
    let mut set = BlockSet::new(BlockConfig::default());
    let ttl = Duration::from_secs(10);
    set.add("198.18.1.0/24".parse().unwrap(), "x", ttl, Millis(0))
        .unwrap();
    set.add("198.19.1.0/24".parse().unwrap(), "x", ttl * 10, Millis(0))
        .unwrap();
    set.add("2001:db8::/48".parse().unwrap(), "x", ttl, Millis(0))
        .unwrap();
    set.sync_diff(Millis(0));
    // The /24 has lapsed in the kernel when the /16 absorbs it.
    set.add("198.18.0.0/16".parse().unwrap(), "x", ttl, Millis(10_000))
        .unwrap();
    set.add("2001:db8:1::/48".parse().unwrap(), "x", ttl, Millis(10_000))
        .unwrap();
    let batch = Nft::default().render_sync(&set.sync_diff(Millis(10_000)), &set);
    assert_eq!(
        batch,
        "flush set inet halfopen blocked4\n\
         add element inet halfopen blocked4 { 198.18.0.0/16 timeout 10s }\n\
         add element inet halfopen blocked4 { 198.19.1.0/24 timeout 1m30s }\n\
         add element inet halfopen blocked6 { 2001:db8:1::/48 timeout 10s }\n"
    );
}

#[test]
fn cover_over_live_block_deletes_then_adds() {
    let mut set = BlockSet::new(BlockConfig::default());
    let ttl = Duration::from_secs(10);
    set.add("198.18.1.0/24".parse().unwrap(), "x", ttl, Millis(0))
        .unwrap();
    set.sync_diff(Millis(0));
    set.add("198.18.0.0/16".parse().unwrap(), "x", ttl, Millis(1_000))
        .unwrap();
    let batch = Nft::default().render_sync(&set.sync_diff(Millis(1_000)), &set);
    assert_eq!(
        batch,
        "delete element inet halfopen blocked4 { 198.18.1.0/24 }\n\
         add element inet halfopen blocked4 { 198.18.0.0/16 timeout 10s }\n"
    );
}

#[test]
fn full_render_resolves_overlaps_and_adds_optional_rule() {
    let e = |p: &str, s| Element {
        prefix: p.parse().unwrap(),
        timeout: Duration::from_secs(s),
    };
    let nft = Nft {
        drop_privileged_source_syn: true,
        ..Nft::default()
    };
    let batch = nft.render_full(&[
        e("198.18.1.0/24", 100),
        e("198.18.0.0/16", 10),
        e("2001:db8::/32", 5),
    ]);
    assert!(batch.contains("elements = { 198.18.0.0/16 timeout 1m40s }"));
    assert!(batch.contains("elements = { 2001:db8::/32 timeout 5s }"));
    assert!(batch.contains("tcp flags & (syn | ack) == syn tcp sport < 1024 counter drop"));
    assert!(!batch.contains("auto-merge"));
}

/// nft's own parser accepts the full batch (check mode, nothing applied).
#[test]
fn nft_check_mode_accepts_full_render() {
    // SAFETY-free check: geteuid via /proc is enough here.
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    let Ok(out) = std::process::Command::new("nft").arg("--version").output() else {
        eprintln!("skipped: nft not installed");
        return;
    };
    if !out.status.success() || !root {
        eprintln!("skipped: nft check mode needs root");
        return;
    }
    let e = |p: &str, ms| Element {
        prefix: p.parse().unwrap(),
        timeout: Duration::from_millis(ms),
    };
    let nft = Nft {
        drop_privileged_source_syn: true,
        ..Nft::with_names("ho_check", "b4", "b6", "pre").unwrap()
    };
    let batch = nft.render_full(&[
        e("198.18.1.0/24", 100_000),
        e("198.19.0.0/16", 1),
        e("2001:db8::/32", 7 * 86_400_000 + 1),
    ]);
    let path = std::env::temp_dir().join(format!("ho-nft-check-{}.nft", std::process::id()));
    std::fs::write(&path, &batch).unwrap();
    let out = std::process::Command::new("nft")
        .arg("-c")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "nft -c rejected:\n{batch}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
