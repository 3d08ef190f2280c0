//! The ipset renderer against the real `ipset` and kernel: full and
//! incremental `ipset restore` batches applied inside a namespace leave the
//! kernel's sets equal to the block set, and the kernel's own timeouts
//! empty them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use halfopen::blockset::{BlockConfig, BlockSet, Millis};
use halfopen::firewall::ipset::Ipset;
use halfopen_tests::{require_root, wait_until, Netns};
use ipnet::IpNet;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

struct Kernel<'a> {
    ns: &'a Netns,
    ipset: Ipset,
}

impl Kernel<'_> {
    fn apply(&self, batch: &str) {
        if batch.is_empty() {
            return;
        }
        let path =
            std::env::temp_dir().join(format!("{}-{}.ipset", self.ns.name(), std::process::id()));
        std::fs::write(&path, batch).unwrap();
        let cmd = format!("ipset restore < {}", path.display());
        let out = self.ns.exec(&["sh", "-c", &cmd]);
        let _ = std::fs::remove_file(&path);
        if let Err(e) = out {
            panic!("ipset refused the batch: {e}\n--- batch ---\n{batch}");
        }
    }

    /// prefix -> seconds left, from `ipset save` of both sets.
    fn elements(&self) -> BTreeMap<IpNet, u64> {
        let mut out = BTreeMap::new();
        for v6 in [false, true] {
            let name = self.ipset.set_name(v6);
            let text = self.ns.exec(&["ipset", "save", name]).unwrap();
            for line in text.lines() {
                let w: Vec<&str> = line.split_whitespace().collect();
                if w.first() == Some(&"add") {
                    let mut p: IpNet = w[2]
                        .parse()
                        .unwrap_or_else(|_| IpNet::from(w[2].parse::<std::net::IpAddr>().unwrap()));
                    p = p.trunc();
                    let t = w
                        .iter()
                        .position(|x| *x == "timeout")
                        .map(|i| w[i + 1].parse().unwrap());
                    out.insert(p, t.unwrap_or(0));
                }
            }
        }
        out
    }

    fn assert_matches(&self, set: &BlockSet, now: Millis) {
        let want: BTreeMap<IpNet, u64> = set
            .elements(now)
            .iter()
            .map(|e| (e.prefix, e.timeout.as_secs()))
            .collect();
        let got = self.elements();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        for (p, s) in &want {
            assert!(
                got[p].abs_diff(*s) <= 2,
                "{p}: kernel {}s, block set {s}s",
                got[p]
            );
        }
    }
}

#[test]
fn ipset_batches_keep_the_kernel_equal_to_the_block_set() {
    if !require_root("ipset_batches_keep_the_kernel_equal_to_the_block_set") {
        return;
    }
    if std::process::Command::new("ipset")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("skipped: ipset_batches_keep_the_kernel_equal_to_the_block_set needs ipset (scripts/setup installs it)");
        return;
    }
    let ns = Netns::new("ipset").unwrap();
    let kernel = Kernel {
        ns: &ns,
        ipset: Ipset::default(),
    };
    let start = Instant::now();
    let now = || Millis(u64::try_from(start.elapsed().as_millis()).unwrap());
    let s = Duration::from_secs(1);
    let mut set = BlockSet::new(BlockConfig::default());
    set.add(net("198.18.1.0/24"), "a", 60 * s, now()).unwrap();
    set.add(net("2001:db8:1::/48"), "b", 60 * s, now()).unwrap();
    set.add(net("198.18.2.0/24"), "c", 2 * s, now()).unwrap();
    kernel.apply(&kernel.ipset.render_full(&set.elements(now())));
    set.mark_synced(now());
    kernel.assert_matches(&set, now());
    // A second full render swaps in fresh sets.
    kernel.apply(&kernel.ipset.render_full(&set.elements(now())));
    kernel.assert_matches(&set, now());

    // Incremental: new, extended, absorbed, released.
    set.add(net("198.18.1.0/24"), "a", 600 * s, now()).unwrap();
    set.add(net("2001:db8::/40"), "d", 30 * s, now()).unwrap();
    set.add(net("198.19.0.0/16"), "e", 30 * s, now()).unwrap();
    set.release(&net("198.19.0.0/16"), now());
    set.add(net("198.19.7.0/24"), "f", 30 * s, now()).unwrap();
    let diff = set.sync_diff(now());
    kernel.apply(&kernel.ipset.render_sync(&diff));
    kernel.assert_matches(&set, now());

    // The kernel's own timeout removes the 2 s block; the later diff's
    // removal of it is no error.
    assert!(wait_until(Duration::from_secs(5), || {
        !kernel.elements().contains_key(&net("198.18.2.0/24"))
    }));
    set.expire(now());
    kernel.apply(&kernel.ipset.render_sync(&set.sync_diff(now())));
    kernel.assert_matches(&set, now());

    set.release_all(now());
    kernel.apply(&kernel.ipset.render_sync(&set.sync_diff(now())));
    assert!(kernel.elements().is_empty());
}
