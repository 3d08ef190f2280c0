use super::*;
use proptest::prelude::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

const S: Duration = Duration::from_secs(1);

#[test]
fn escalation_within_memory_and_reset_after_it() {
    let config = BlockConfig {
        escalation_factor: 3,
        max_ttl: Duration::from_secs(100),
        strike_memory: Duration::from_secs(50),
        ..BlockConfig::default()
    };
    let mut set = BlockSet::new(config);
    let p = net("198.18.0.0/24");
    let ttl = Duration::from_secs(10);
    set.add(p, "a", ttl, Millis(0)).unwrap();
    assert_eq!(set.expire(Millis(10_000)).len(), 1);
    // Second strike: 30 s.
    let r = set.add(p, "a", ttl, Millis(20_000)).unwrap();
    assert_eq!(
        r,
        Added::New {
            expires: Millis(50_000),
            strikes: 2,
            absorbed: vec![]
        }
    );
    // Seen while blocked: extended by the escalated TTL from now.
    set.add(p, "a", ttl, Millis(40_000)).unwrap();
    assert_eq!(set.get(&p).unwrap().expires, Millis(70_000));
    assert_eq!(set.get(&p).unwrap().strikes, 2);
    // Released explicitly: memory counts from the release.
    set.release(&p, Millis(45_000)).unwrap();
    let r = set.add(p, "a", ttl, Millis(94_999)).unwrap();
    // Third strike: 90 s, under the 100 s maximum.
    assert!(matches!(
        r,
        Added::New {
            strikes: 3,
            expires: Millis(184_999),
            ..
        }
    ));
    assert_eq!(set.expire(Millis(184_999)).len(), 1);
    // Fourth strike would be 270 s: capped at 100 s.
    set.add(p, "a", ttl, Millis(185_000)).unwrap();
    assert_eq!(set.get(&p).unwrap().expires, Millis(285_000));
    set.expire(Millis(285_000));
    // After the memory window the count starts again.
    let r = set.add(p, "a", ttl, Millis(335_000)).unwrap();
    assert!(matches!(r, Added::New { strikes: 1, .. }));
}

#[test]
fn cover_absorbs_and_release_leaves_no_orphan() {
    let mut set = BlockSet::new(BlockConfig::default());
    set.add(net("198.18.1.0/24"), "a", 100 * S, Millis(0))
        .unwrap();
    set.add(net("198.18.2.0/24"), "b", 10 * S, Millis(0))
        .unwrap();
    set.add(net("198.19.2.0/24"), "c", 10 * S, Millis(0))
        .unwrap();
    let r = set
        .add(net("198.18.0.0/16"), "d", 20 * S, Millis(5))
        .unwrap();
    let Added::New {
        absorbed, expires, ..
    } = r
    else {
        panic!("{r:?}")
    };
    let absorbed: Vec<String> = absorbed.iter().map(|b| b.prefix.to_string()).collect();
    assert_eq!(absorbed, ["198.18.1.0/24", "198.18.2.0/24"]);
    // Never shortened by absorbing.
    assert_eq!(expires, Millis(100_000));
    assert_eq!(set.len(), 2);
    assert_eq!(
        set.get(&net("198.18.0.0/16")).unwrap().first_seen,
        Millis(0)
    );
    set.release(&net("198.18.0.0/16"), Millis(10)).unwrap();
    assert!(set.lookup("198.18.1.1".parse().unwrap()).is_none());
    assert!(set.lookup("198.18.2.1".parse().unwrap()).is_none());
    assert_eq!(set.len(), 1);
    // Absorbed prefixes keep their strikes.
    assert_eq!(set.strikes(&net("198.18.1.0/24"), Millis(11)), 1);
}

#[test]
fn refusals_are_errors_and_counted() {
    let config = BlockConfig {
        capacity: 2,
        allowlist: vec![net("2001:db8:ffff::/48")],
        ..BlockConfig::default()
    };
    let mut set = BlockSet::new(config);
    let err = set
        .add(net("2001:db8::/32"), "x", S, Millis(0))
        .unwrap_err();
    assert_eq!(
        err,
        BlockError::Allowlisted {
            prefix: net("2001:db8::/32"),
            allowed: net("2001:db8:ffff::/48")
        }
    );
    assert!(set
        .add(net("2001:db8:ffff:1::/64"), "x", S, Millis(0))
        .is_err());
    set.add(net("198.18.1.0/24"), "x", S, Millis(0)).unwrap();
    set.add(net("198.18.2.0/24"), "x", S, Millis(0)).unwrap();
    let err = set
        .add(net("198.18.3.0/24"), "x", S, Millis(0))
        .unwrap_err();
    assert!(matches!(err, BlockError::Full { capacity: 2, .. }));
    // Extending and absorbing do not raise the count: accepted when full.
    set.add(net("198.18.1.0/24"), "x", 2 * S, Millis(0))
        .unwrap();
    set.add(net("198.18.0.0/22"), "x", S, Millis(0)).unwrap();
    assert_eq!(set.len(), 1);
    let err = set.add(net("198.18.5.0/24"), "x", Duration::ZERO, Millis(0));
    assert!(matches!(err, Err(BlockError::ZeroTtl { .. })));
    assert_eq!(
        set.stats(),
        Stats {
            refused_full: 1,
            refused_allowlisted: 2,
            memories_evicted: 0
        }
    );
}

#[test]
fn memory_is_bounded() {
    let config = BlockConfig {
        memory_capacity: 3,
        ..BlockConfig::default()
    };
    let mut set = BlockSet::new(config);
    for i in 0..10u32 {
        let p = IpNet::V4(Ipv4Net::new_assert((0xC612_0000 | (i << 8)).into(), 24));
        set.add(p, "x", S, Millis(u64::from(i))).unwrap();
        set.release(&p, Millis(u64::from(i)));
    }
    assert_eq!(set.memory.len(), 3);
    assert_eq!(set.memory_by_forget.len(), 3);
    assert_eq!(set.stats().memories_evicted, 7);
    // The newest memories stay.
    assert_eq!(set.strikes(&net("198.18.9.0/24"), Millis(10)), 1);
    assert_eq!(set.strikes(&net("198.18.0.0/24"), Millis(10)), 0);
}

#[test]
fn reason_is_cut_at_a_char_boundary() {
    let mut set = BlockSet::new(BlockConfig::default());
    let long = "é".repeat(MAX_REASON);
    set.add(net("198.18.0.0/24"), &long, S, Millis(0)).unwrap();
    let r = &set.get(&net("198.18.0.0/24")).unwrap().reason;
    assert!(r.len() <= MAX_REASON && r.len() >= MAX_REASON - 1);
    assert!(long.starts_with(r.as_str()));
}

#[test]
fn dirty_tracking_is_bounded_without_syncs() {
    let mut set = BlockSet::new(BlockConfig::default());
    for i in 0..1000u32 {
        let p = IpNet::V4(Ipv4Net::new_assert((0xC612_0000 | (i << 8)).into(), 24));
        set.add(p, "x", S, Millis(0)).unwrap();
        set.release(&p, Millis(0));
    }
    assert!(set.dirty.is_empty());
    assert!(set.left.is_empty());
}

// ---- oracle: a brute-force model over random operation sequences ----

#[derive(Debug, Clone)]
enum Op {
    Add(usize, u64),
    Release(usize),
    ReleaseAll,
    Expire,
    Sync,
    Allow(usize),
}

/// A pool of overlapping prefixes in both families.
fn pool() -> Vec<IpNet> {
    let mut v = Vec::new();
    for s in [
        "198.18.0.0/15",
        "198.18.0.0/16",
        "198.19.0.0/16",
        "198.18.0.0/20",
        "198.18.16.0/20",
        "198.18.1.0/24",
        "198.18.2.0/24",
        "198.18.17.0/24",
        "198.19.5.0/24",
        "198.18.1.128/25",
        "2001:db8::/32",
        "2001:db8::/40",
        "2001:db8:100::/40",
        "2001:db8:1::/48",
        "2001:db8:101::/48",
        "2001:db8:1:1::/64",
    ] {
        v.push(net(s));
    }
    v
}

fn op() -> impl Strategy<Value = (Op, u64)> {
    let n = pool().len();
    let op = prop_oneof![
        6 => (0..n, 1u64..20).prop_map(|(i, t)| Op::Add(i, t)),
        2 => (0..n).prop_map(Op::Release),
        1 => Just(Op::ReleaseAll),
        3 => Just(Op::Expire),
        3 => Just(Op::Sync),
        1 => (0..n).prop_map(Op::Allow),
    ];
    (op, 0u64..8)
}

#[derive(Debug, Default)]
struct Model {
    blocks: Vec<Block>,
    memory: Vec<(IpNet, u32, Millis)>,
    allow: Vec<IpNet>,
    stats: Stats,
}

impl Model {
    fn remember(&mut self, c: &BlockConfig, p: IpNet, strikes: u32, at: Millis) {
        if c.memory_capacity == 0 {
            return;
        }
        self.memory.retain(|m| m.0 != p);
        if self.memory.len() >= c.memory_capacity {
            let (i, _) = self
                .memory
                .iter()
                .enumerate()
                .min_by_key(|(_, m)| (m.2, m.0))
                .unwrap();
            self.memory.remove(i);
            self.stats.memories_evicted += 1;
        }
        self.memory.push((p, strikes, at));
    }

    fn add(&mut self, c: &BlockConfig, p: IpNet, ttl: Duration, now: Millis) -> Result<(), ()> {
        if let Some(_a) = self.allow.iter().find(|a| a.contains(&p) || p.contains(*a)) {
            self.stats.refused_allowlisted += 1;
            return Err(());
        }
        if let Some(b) = self.blocks.iter_mut().find(|b| b.prefix.contains(&p)) {
            b.last_seen = b.last_seen.max(now);
            b.expires = b.expires.max(now + c.ttl_for_strike(ttl, b.strikes));
            return Ok(());
        }
        let inside = self.blocks.iter().filter(|b| p.contains(&b.prefix)).count();
        if self.blocks.len() - inside >= c.capacity {
            self.stats.refused_full += 1;
            return Err(());
        }
        let strikes = match self.memory.iter().position(|m| m.0 == p) {
            Some(i) => {
                let m = self.memory.remove(i);
                if m.2 > now {
                    m.1 + 1
                } else {
                    1
                }
            }
            None => 1,
        };
        let mut block = Block {
            prefix: p,
            expires: now + c.ttl_for_strike(ttl, strikes),
            reason: "r".into(),
            first_seen: now,
            last_seen: now,
            strikes,
        };
        let mut absorbed: Vec<Block> = self
            .blocks
            .iter()
            .filter(|b| p.contains(&b.prefix))
            .cloned()
            .collect();
        absorbed.sort_by_key(|b| b.prefix);
        self.blocks.retain(|b| !p.contains(&b.prefix));
        for a in &absorbed {
            block.expires = block.expires.max(a.expires);
            block.first_seen = block.first_seen.min(a.first_seen);
            block.last_seen = block.last_seen.max(a.last_seen);
        }
        for a in &absorbed {
            self.remember(c, a.prefix, a.strikes, block.expires + c.strike_memory);
        }
        self.blocks.push(block);
        Ok(())
    }

    fn release(&mut self, c: &BlockConfig, p: IpNet, now: Millis) -> Option<Block> {
        let i = self.blocks.iter().position(|b| b.prefix == p)?;
        let b = self.blocks.remove(i);
        self.remember(c, p, b.strikes, now + c.strike_memory);
        Some(b)
    }

    fn expire(&mut self, c: &BlockConfig, now: Millis) -> Vec<Block> {
        let mut ended: Vec<Block> = self
            .blocks
            .iter()
            .filter(|b| b.expires <= now)
            .cloned()
            .collect();
        ended.sort_by_key(|b| (b.expires, b.prefix));
        self.blocks.retain(|b| b.expires > now);
        for b in &ended {
            self.remember(c, b.prefix, b.strikes, b.expires + c.strike_memory);
        }
        self.memory.retain(|m| m.2 > now);
        ended
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn behaves_like_the_brute_force_model(
        ops in proptest::collection::vec(op(), 1..80),
        capacity in 1usize..6,
        memory_capacity in 0usize..5,
        factor in 1u32..4,
    ) {
        let config = BlockConfig {
            escalation_factor: factor,
            max_ttl: Duration::from_secs(40),
            strike_memory: Duration::from_secs(15),
            capacity,
            memory_capacity,
            ..BlockConfig::default()
        };
        let pool = pool();
        let mut set = BlockSet::new(config.clone());
        let mut model = Model::default();
        // The firewall as the diffs leave it: prefix -> expiry.
        let mut kernel: HashMap<IpNet, Millis> = HashMap::new();
        let mut now = Millis(0);
        for (op, dt) in ops {
            now = now + Duration::from_secs(dt);
            match op {
                Op::Add(i, t) => {
                    let got = set.add(pool[i], "r", Duration::from_secs(t), now);
                    let want = model.add(&config, pool[i], Duration::from_secs(t), now);
                    prop_assert_eq!(got.is_ok(), want.is_ok(), "{:?}", got);
                }
                Op::Release(i) => {
                    let got = set.release(&pool[i], now);
                    let want = model.release(&config, pool[i], now);
                    prop_assert_eq!(got.map(|b| b.prefix), want.map(|b| b.prefix));
                }
                Op::ReleaseAll => {
                    let got: Vec<IpNet> = set.release_all(now).iter().map(|b| b.prefix).collect();
                    let mut want: Vec<IpNet> = model.blocks.iter().map(|b| b.prefix).collect();
                    want.sort();
                    for p in &want {
                        model.release(&config, *p, now);
                    }
                    prop_assert_eq!(got, want);
                }
                Op::Expire => {
                    let got: Vec<(IpNet, Millis)> =
                        set.expire(now).iter().map(|b| (b.prefix, b.expires)).collect();
                    let want: Vec<(IpNet, Millis)> =
                        model.expire(&config, now).iter().map(|b| (b.prefix, b.expires)).collect();
                    prop_assert_eq!(got, want);
                }
                Op::Sync => {
                    let diff = set.sync_diff(now);
                    // The kernel drops elements whose timeout passed; the
                    // diff says which it may have dropped.
                    kernel.retain(|_, e| *e > now);
                    for r in &diff.remove {
                        let held = kernel.remove(&r.prefix).is_some();
                        prop_assert!(held || r.lapsed(), "removed {} not held", r.prefix);
                    }
                    for r in &diff.refresh {
                        let held = kernel.insert(r.prefix, now + r.timeout).is_some();
                        prop_assert!(held || r.firewall_remaining.is_zero());
                    }
                    for a in &diff.add {
                        prop_assert!(!a.timeout.is_zero());
                        prop_assert!(
                            kernel.keys().all(|k| !(k.contains(&a.prefix) || a.prefix.contains(k))),
                            "{} overlaps", a.prefix
                        );
                        kernel.insert(a.prefix, now + a.timeout);
                    }
                    let want: HashMap<IpNet, Millis> = set
                        .elements(now)
                        .iter()
                        .map(|e| (e.prefix, now + e.timeout))
                        .collect();
                    prop_assert_eq!(&kernel, &want);
                }
                Op::Allow(i) => {
                    let got: Vec<IpNet> = set.allow(pool[i], now).iter().map(|b| b.prefix).collect();
                    let mut want: Vec<IpNet> = model
                        .blocks
                        .iter()
                        .filter(|b| b.prefix.contains(&pool[i]) || pool[i].contains(&b.prefix))
                        .map(|b| b.prefix)
                        .collect();
                    want.sort();
                    for p in &want {
                        model.release(&config, *p, now);
                    }
                    if !model.allow.contains(&pool[i]) {
                        model.allow.push(pool[i]);
                    }
                    let mut got = got;
                    got.sort();
                    prop_assert_eq!(got, want);
                }
            }
            // Same blocks, same fields.
            let got: Vec<Block> = set.iter().cloned().collect();
            let mut want = model.blocks.clone();
            want.sort_by_key(|b| b.prefix);
            prop_assert_eq!(&got, &want);
            prop_assert_eq!(set.stats(), model.stats);
            prop_assert!(set.len() <= capacity);
            prop_assert_eq!(set.by_expiry.len(), set.len());
            // Disjoint.
            for (i, a) in got.iter().enumerate() {
                for b in &got[i + 1..] {
                    prop_assert!(!a.prefix.contains(&b.prefix) && !b.prefix.contains(&a.prefix));
                }
            }
            // Strikes and lookups agree.
            for p in &pool {
                let want_strikes = model
                    .blocks
                    .iter()
                    .find(|b| b.prefix == *p)
                    .map(|b| b.strikes)
                    .or_else(|| model.memory.iter().find(|m| m.0 == *p && m.2 > now).map(|m| m.1))
                    .unwrap_or(0);
                prop_assert_eq!(set.strikes(p, now), want_strikes, "strikes of {}", p);
                for addr in [p.network(), p.broadcast()] {
                    let got = set.lookup(addr).map(|b| b.prefix);
                    let want = model.blocks.iter().find(|b| b.prefix.contains(&addr)).map(|b| b.prefix);
                    prop_assert_eq!(got, want, "lookup {}", addr);
                }
            }
            prop_assert!(set.memory.len() <= memory_capacity);
            prop_assert_eq!(set.memory.len(), set.memory_by_forget.len());
        }
    }
}
