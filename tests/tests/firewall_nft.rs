//! The nftables renderer against the real `nft` and kernel: batches are
//! applied inside a lab's server namespace, spoofed SYNs are sent from
//! blocked and unblocked prefixes, and the kernel's own counters, set
//! contents and TCP table show what was dropped.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use halfopen::blockset::{BlockConfig, BlockSet, Millis};
use halfopen::firewall::nft::{Nft, NftHook};
use halfopen::procnet::{Family, TcpState};
use halfopen_tests::{
    listen, require_root, spoofed_sources, wait_until, Lab, LabConfig, Netns, SynSender,
};
use ipnet::IpNet;
use serde_json::Value;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// The caller's monotonic clock for the block set.
struct Clock(Instant);

impl Clock {
    fn now(&self) -> Millis {
        Millis(u64::try_from(self.0.elapsed().as_millis()).unwrap())
    }
}

/// halfopen's table inside one namespace, read and written with the real nft.
struct Kernel<'a> {
    ns: &'a Netns,
    nft: Nft,
}

impl Kernel<'_> {
    /// Applies `batch` as one `nft -f` transaction; panics with nft's
    /// message and the batch if the kernel refuses it.
    fn apply(&self, batch: &str) {
        if batch.is_empty() {
            return;
        }
        let path =
            std::env::temp_dir().join(format!("{}-{}.nft", self.ns.name(), std::process::id()));
        std::fs::write(&path, batch).unwrap();
        let out = self.ns.exec(&["nft", "-f", path.to_str().unwrap()]);
        let _ = std::fs::remove_file(&path);
        if let Err(e) = out {
            panic!("nft refused the batch: {e}\n--- batch ---\n{batch}");
        }
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["nft", "-j", "list"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ns.exec(&all).unwrap()).unwrap()
    }

    /// The set's elements as the kernel holds them: prefix -> seconds left.
    fn elements(&self, v6: bool) -> BTreeMap<IpNet, u64> {
        let set = self.nft.set_name(v6);
        let v = self.json(&["set", "inet", self.nft.table(), set]);
        let mut out = BTreeMap::new();
        for item in v["nftables"].as_array().unwrap() {
            let Some(elems) = item["set"]["elem"].as_array() else {
                continue;
            };
            for e in elems {
                let e = &e["elem"];
                let val = &e["val"];
                let prefix = match val {
                    Value::String(addr) => IpNet::from(addr.parse::<IpAddr>().unwrap()),
                    _ => {
                        let p = &val["prefix"];
                        let s = format!("{}/{}", p["addr"].as_str().unwrap(), p["len"]);
                        s.parse().unwrap_or_else(|_| panic!("element {val}"))
                    }
                };
                out.insert(prefix, e["expires"].as_u64().unwrap_or(0));
            }
        }
        out
    }

    /// The packets counted by the chain's drop rules, in rule order.
    fn counters(&self) -> Vec<u64> {
        let v = self.json(&["chain", "inet", self.nft.table(), self.nft.chain()]);
        let mut out = Vec::new();
        for item in v["nftables"].as_array().unwrap() {
            if let Some(exprs) = item["rule"]["expr"].as_array() {
                for x in exprs {
                    if let Some(p) = x["counter"]["packets"].as_u64() {
                        out.push(p);
                    }
                }
            }
        }
        out
    }

    /// Asserts the kernel's sets hold exactly the block set's elements, each
    /// with its remaining time (the kernel counts whole seconds, and a
    /// little time passes between the two reads).
    fn assert_matches(&self, set: &BlockSet, now: Millis) {
        let mut want: BTreeMap<IpNet, u64> = BTreeMap::new();
        for e in set.elements(now) {
            want.insert(e.prefix, e.timeout.as_secs());
        }
        let mut got = self.elements(false);
        got.extend(self.elements(true));
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "kernel set differs from the block set"
        );
        for (p, secs) in &want {
            let k = got[p];
            assert!(
                k.abs_diff(*secs) <= 2,
                "{p}: kernel {k}s left, block set {secs}s"
            );
        }
    }
}

fn nft_installed() -> bool {
    let ok = std::process::Command::new("nft")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "nft is not installed (scripts/setup installs it)");
    ok
}

/// Remote addresses of the server's half-open entries of `family`.
fn half_open_from(lab: &Lab, family: Family) -> Vec<IpAddr> {
    lab.server
        .entries(family)
        .unwrap()
        .iter()
        .filter(|e| e.state == TcpState::SynRecv)
        .map(|e| e.remote.ip())
        .collect()
}

/// `n` spoofed sources inside `prefix` (a /24 of the lab's IPv4 space or a
/// /48 of its IPv6 space), numbered as `spoofed_sources` numbers them.
fn sources_in(prefix: &str, n: u64) -> Vec<(IpAddr, u16)> {
    let p = net(prefix);
    let (family, start) = match p {
        IpNet::V4(v4) => (Family::V4, u64::from(v4.network().octets()[2]) << 8),
        IpNet::V6(v6) => (Family::V6, u64::from(v6.network().segments()[2]) << 16),
    };
    let out: Vec<_> = spoofed_sources(family, start, n).collect();
    assert!(out.iter().all(|(ip, _)| p.contains(ip)));
    out
}

#[test]
fn blocked_prefixes_are_dropped_before_the_listener() {
    if !require_root("blocked_prefixes_are_dropped_before_the_listener") || !nft_installed() {
        return;
    }
    drops_blocked_syns("nftdrop", Nft::default());
}

#[test]
fn ingress_and_input_hooks_drop_the_same() {
    if !require_root("ingress_and_input_hooks_drop_the_same") || !nft_installed() {
        return;
    }
    drops_blocked_syns(
        "nfting",
        Nft {
            hook: NftHook::ingress("att0").unwrap(),
            priority: -500,
            ..Nft::default()
        },
    );
    drops_blocked_syns(
        "nftinput",
        Nft {
            hook: NftHook::Input,
            priority: 0,
            ..Nft::default()
        },
    );
}

/// Blocks a /24 and a /48 with `nft`, floods the listener from them and from
/// unblocked neighbours, and checks the kernel's counters and TCP table.
fn drops_blocked_syns(tag: &str, nft: Nft) {
    let lab = Lab::new(tag, &LabConfig::default()).unwrap();
    let kernel = Kernel {
        ns: &lab.server,
        nft,
    };
    let _l4 = listen(&lab.server, Lab::server_addr_v4(80), 4096).unwrap();
    let _l6 = listen(&lab.server, Lab::server_addr_v6(80), 4096).unwrap();

    let clock = Clock(Instant::now());
    let mut set = BlockSet::new(BlockConfig::default());
    let ttl = Duration::from_secs(120);
    for p in ["198.18.4.0/24", "2001:db8:4::/48", "198.18.200.0/22"] {
        set.add(net(p), "syn flood", ttl, clock.now()).unwrap();
    }
    kernel.apply(&kernel.nft.render_full(&set.elements(clock.now())));
    set.mark_synced(clock.now());
    kernel.assert_matches(&set, clock.now());
    assert_eq!(kernel.counters(), [0, 0]);

    let n = 150;
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(20_000);
    for (blocked, open, dst) in [
        ("198.18.4.0/24", "198.18.5.0/24", Lab::server_addr_v4(80)),
        (
            "2001:db8:4::/48",
            "2001:db8:5::/48",
            Lab::server_addr_v6(80),
        ),
    ] {
        syn.send(sources_in(blocked, n as u64), dst).unwrap();
        syn.send(sources_in(open, n as u64), dst).unwrap();
    }
    for family in [Family::V4, Family::V6] {
        assert!(
            wait_until(Duration::from_secs(10), || half_open_from(&lab, family)
                .len()
                >= n),
            "{family:?}: the unblocked SYNs never all reached the listener"
        );
    }
    // Let any stragglers of the blocked prefix arrive (they must not).
    std::thread::sleep(Duration::from_millis(300));
    for (family, open, blocked) in [
        (Family::V4, "198.18.5.0/24", "198.18.4.0/24"),
        (Family::V6, "2001:db8:5::/48", "2001:db8:4::/48"),
    ] {
        let from = half_open_from(&lab, family);
        assert_eq!(from.len(), n, "{family:?}: half-open entries");
        assert!(
            from.iter().all(|ip| net(open).contains(ip)),
            "{family:?}: {from:?}"
        );
        assert!(!from.iter().any(|ip| net(blocked).contains(ip)));
        assert!(from.iter().all(|ip| set.lookup(*ip).is_none()));
    }
    // The kernel's drop rules counted exactly the blocked SYNs, per family.
    assert_eq!(kernel.counters(), [n as u64, n as u64]);
}

#[test]
fn two_second_ttl_leaves_the_kernel_set_empty() {
    if !require_root("two_second_ttl_leaves_the_kernel_set_empty") || !nft_installed() {
        return;
    }
    let lab = Lab::new("nftttl", &LabConfig::default()).unwrap();
    let kernel = Kernel {
        ns: &lab.server,
        nft: Nft::default(),
    };
    let _l4 = listen(&lab.server, Lab::server_addr_v4(443), 1024).unwrap();
    let clock = Clock(Instant::now());
    let mut set = BlockSet::new(BlockConfig::default());
    let ttl = Duration::from_secs(2);
    set.add(net("198.18.9.0/24"), "flood", ttl, clock.now())
        .unwrap();
    set.add(net("2001:db8:9::/48"), "flood", ttl, clock.now())
        .unwrap();
    kernel.apply(&kernel.nft.render_full(&set.elements(clock.now())));
    set.mark_synced(clock.now());
    assert_eq!(kernel.elements(false).len(), 1);
    assert_eq!(kernel.elements(true).len(), 1);

    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(10_000);
    syn.send(sources_in("198.18.9.0/24", 20), Lab::server_addr_v4(443))
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(half_open_from(&lab, Family::V4).is_empty());

    // Nobody deletes anything: the kernel's own timeouts empty the sets.
    assert!(
        wait_until(Duration::from_secs(5), || {
            kernel.elements(false).is_empty() && kernel.elements(true).is_empty()
        }),
        "kernel sets not empty after the TTL"
    );
    assert!(clock.now() >= Millis(2_000));
    let ended: Vec<String> = set
        .expire(clock.now())
        .iter()
        .map(|b| b.prefix.to_string())
        .collect();
    assert_eq!(ended, ["198.18.9.0/24", "2001:db8:9::/48"]);
    // The next sync has nothing the kernel would refuse, and SYNs pass again.
    kernel.apply(&kernel.nft.render_sync(&set.sync_diff(clock.now()), &set));
    kernel.assert_matches(&set, clock.now());
    syn.send(sources_in("198.18.9.0/24", 20), Lab::server_addr_v4(443))
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || half_open_from(
        &lab,
        Family::V4
    )
    .len()
        == 20));
    assert_eq!(kernel.counters(), [20, 0]);
}

#[test]
fn incremental_diffs_keep_the_kernel_equal_to_the_block_set() {
    if !require_root("incremental_diffs_keep_the_kernel_equal_to_the_block_set") || !nft_installed()
    {
        return;
    }
    let ns = Netns::new("nftsync").unwrap();
    let kernel = Kernel {
        ns: &ns,
        nft: Nft::default(),
    };
    let clock = Clock(Instant::now());
    let mut set = BlockSet::new(BlockConfig::default());
    let s = Duration::from_secs(1);
    let sync = |set: &mut BlockSet| {
        let now = clock.now();
        let diff = set.sync_diff(now);
        kernel.apply(&kernel.nft.render_sync(&diff, set));
        kernel.assert_matches(set, now);
        diff
    };
    // Start from a full render.
    set.add(net("198.18.1.0/24"), "a", 60 * s, clock.now())
        .unwrap();
    set.add(net("198.18.2.0/24"), "b", 3 * s, clock.now())
        .unwrap();
    set.add(net("2001:db8:1::/48"), "c", 60 * s, clock.now())
        .unwrap();
    kernel.apply(&kernel.nft.render_full(&set.elements(clock.now())));
    set.mark_synced(clock.now());
    kernel.assert_matches(&set, clock.now());

    // New prefixes, an extension well before expiry, a release.
    set.add(net("198.18.3.0/24"), "d", 60 * s, clock.now())
        .unwrap();
    set.add(net("2001:db8:2::/48"), "e", 60 * s, clock.now())
        .unwrap();
    set.add(net("198.18.1.0/24"), "a", 600 * s, clock.now())
        .unwrap();
    set.release(&net("2001:db8:1::/48"), clock.now()).unwrap();
    let d = sync(&mut set);
    assert_eq!((d.add.len(), d.refresh.len(), d.remove.len()), (2, 1, 1));

    // A cover absorbs live blocks: delete them, add it, one transaction.
    set.add(net("198.18.0.0/22"), "f", 30 * s, clock.now())
        .unwrap();
    let d = sync(&mut set);
    assert_eq!(d.remove.len(), 3);
    assert_eq!(d.add.len(), 1);

    // An extension inside the margin of the kernel's timeout: add, delete,
    // re-add with the new timeout.
    set.add(net("2001:db8:3::/48"), "g", 3 * s, clock.now())
        .unwrap();
    sync(&mut set);
    std::thread::sleep(Duration::from_millis(1_500));
    set.add(net("2001:db8:3::/48"), "g", 20 * s, clock.now())
        .unwrap();
    let d = sync(&mut set);
    assert_eq!(d.refresh.len(), 1);
    assert!(d.refresh[0].firewall_remaining < kernel.nft.margin);

    // A release of a block the kernel may already have timed out.
    set.add(net("198.18.8.0/24"), "h", 2 * s, clock.now())
        .unwrap();
    set.add(net("198.18.9.0/24"), "i", 2 * s, clock.now())
        .unwrap();
    sync(&mut set);
    std::thread::sleep(Duration::from_millis(2_100));
    set.release(&net("198.18.8.0/24"), clock.now()).unwrap();
    set.expire(clock.now());
    sync(&mut set);

    // A cover over a block whose kernel timeout has run out: the IPv4 set
    // is flushed and refilled in the same transaction.
    set.add(net("198.18.16.0/24"), "j", 2 * s, clock.now())
        .unwrap();
    sync(&mut set);
    std::thread::sleep(Duration::from_millis(2_100));
    set.add(net("198.18.16.0/20"), "k", 30 * s, clock.now())
        .unwrap();
    let d = sync(&mut set);
    assert!(d.remove[0].lapsed());

    // Release everything.
    set.release_all(clock.now());
    sync(&mut set);
    assert!(kernel.elements(false).is_empty() && kernel.elements(true).is_empty());
}

#[test]
fn syns_from_well_known_source_ports_are_dropped_when_asked() {
    if !require_root("syns_from_well_known_source_ports_are_dropped_when_asked") || !nft_installed()
    {
        return;
    }
    let lab = Lab::new("nftsport", &LabConfig::default()).unwrap();
    let kernel = Kernel {
        ns: &lab.server,
        nft: Nft {
            drop_privileged_source_syn: true,
            ..Nft::default()
        },
    };
    let _l4 = listen(&lab.server, Lab::server_addr_v4(25), 1024).unwrap();
    kernel.apply(&kernel.nft.render_full(&[]));
    let mut syn = SynSender::new(&lab.attacker).unwrap().rate(10_000);
    let low: Vec<(IpAddr, u16)> = sources_in("198.18.30.0/24", 40)
        .into_iter()
        .map(|(ip, _)| (ip, 80))
        .collect();
    let high = sources_in("198.18.31.0/24", 40);
    syn.send(low, Lab::server_addr_v4(25)).unwrap();
    syn.send(high, Lab::server_addr_v4(25)).unwrap();
    assert!(wait_until(Duration::from_secs(5), || half_open_from(
        &lab,
        Family::V4
    )
    .len()
        == 40));
    std::thread::sleep(Duration::from_millis(200));
    let from = half_open_from(&lab, Family::V4);
    assert_eq!(from.len(), 40);
    assert!(from.iter().all(|ip| net("198.18.31.0/24").contains(ip)));
    assert_eq!(kernel.counters(), [0, 0, 40]);
}

/// A small deterministic generator for the random walk below.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn random_walk_of_diffs_keeps_the_kernel_equal_to_the_block_set() {
    if !require_root("random_walk_of_diffs_keeps_the_kernel_equal_to_the_block_set")
        || !nft_installed()
    {
        return;
    }
    let ns = Netns::new("nftwalk").unwrap();
    let kernel = Kernel {
        ns: &ns,
        nft: Nft::default(),
    };
    let pool: Vec<IpNet> = [
        "198.18.0.0/16",
        "198.18.0.0/20",
        "198.18.16.0/20",
        "198.18.1.0/24",
        "198.18.2.0/24",
        "198.18.17.0/24",
        "198.18.1.128/25",
        "198.18.1.7/32",
        "2001:db8::/32",
        "2001:db8::/40",
        "2001:db8:1::/48",
        "2001:db8:1:1::/64",
        "2001:db8:2::/48",
    ]
    .iter()
    .map(|p| net(p))
    .collect();
    let clock = Clock(Instant::now());
    let mut set = BlockSet::new(BlockConfig {
        capacity: 6,
        ..BlockConfig::default()
    });
    kernel.apply(&kernel.nft.render_full(&[]));
    set.mark_synced(clock.now());
    // HO_WALK_SEED replays another walk.
    let seed = std::env::var("HO_WALK_SEED")
        .ok()
        .and_then(|s| s.parse().ok());
    let mut rng = XorShift(seed.unwrap_or(0x9E37_79B9_7F4A_7C15));
    let mut batches = 0;
    for step in 0..60 {
        let now = clock.now();
        match rng.next(10) {
            0..=5 => {
                let p = pool[rng.next(pool.len() as u64) as usize];
                let ttl = Duration::from_millis(500 + rng.next(3_500));
                let _ = set.add(p, "walk", ttl, now);
            }
            6 => {
                let p = pool[rng.next(pool.len() as u64) as usize];
                set.release(&p, now);
            }
            7 => {
                set.release_all(now);
            }
            _ => {
                set.expire(now);
            }
        }
        let now = clock.now();
        let diff = set.sync_diff(now);
        let batch = kernel.nft.render_sync(&diff, &set);
        batches += usize::from(!batch.is_empty());
        kernel.apply(&batch);
        // What the kernel holds right after the batch: every block with
        // time left, and nothing else, except blocks within 300 ms of their
        // expiry (the kernel's clock and ours race there).
        let after = clock.now();
        let got: std::collections::BTreeSet<IpNet> = kernel
            .elements(false)
            .into_keys()
            .chain(kernel.elements(true).into_keys())
            .collect();
        let edge = |p: &IpNet| {
            set.get(p).is_some_and(|b| {
                let e = b.expires.0;
                e + 300 >= now.0 && e <= after.0 + 300
            })
        };
        for b in set.iter() {
            if b.expires.0 > after.0 + 300 {
                assert!(
                    got.contains(&b.prefix),
                    "step {step}: {} missing\n{batch}",
                    b.prefix
                );
            }
        }
        for p in &got {
            assert!(
                set.get(p).is_some_and(|b| b.expires > now) || edge(p),
                "step {step}: kernel holds {p} the set does not\n{batch}"
            );
        }
        std::thread::sleep(Duration::from_millis(rng.next(400)));
    }
    assert!(batches > 15, "only {batches} non-empty batches");
}
