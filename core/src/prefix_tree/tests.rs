use super::counts::MAX_ENTRIES;
use super::*;
use ipnet::{IpNet, Ipv4Net};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Brute-force counts of one prefix: entries, sources, well-known
/// ports, retransmitted.
type Oracle = (u64, HashSet<u32>, u64, u64);

fn sample(port: u16) -> Sample {
    Sample {
        remote_port: port,
        local_port: 80,
        retransmitted: port % 2 == 0,
    }
}

proptest! {
    /// Every node's counts equal a brute-force count over the inputs, fed
    /// in any order or in address order (the hash-free path), or in
    /// address order up to a point.
    #[test]
    fn counts_match_brute_force(
        mut addrs in proptest::collection::vec((0u32..4, 0u32..6, 0u32..20, any::<u16>()), 0..400),
        order in 0u8..3,
        cut in any::<proptest::sample::Index>(),
    ) {
        match order {
            0 => {}
            1 => addrs.sort_unstable_by_key(|&(x, y, z, _)| (x, y, z)),
            _ => {
                let at = cut.index(addrs.len() + 1);
                addrs[..at].sort_unstable_by_key(|&(x, y, z, _)| (x, y, z));
            }
        }
        let mut b = TreeBuilder::new(Family::V4, &[32, 24, 16], usize::MAX).unwrap();
        let mut per: HashMap<(u8, u32), Oracle> = HashMap::new();
        for &(x, y, z, port) in &addrs {
            let a = (198u32 << 24) | (x << 16) | (y << 8) | z;
            b.insert(IpAddr::V4(Ipv4Addr::from(a)), sample(port));
            for len in [32u8, 24, 16] {
                let p = a & (u32::MAX << (32 - len)) ;
                let e = per.entry((len, p)).or_default();
                e.0 += 1;
                e.1.insert(a);
                e.2 += u64::from(port < 1024);
                e.3 += u64::from(port % 2 == 0);
            }
        }
        let t = b.build();
        prop_assert_eq!(t.len(), per.len());
        prop_assert_eq!(t.half_open(), addrs.len() as u64);
        for ((len, p), (n, srcs, wk, rt)) in &per {
            let net = IpNet::V4(Ipv4Net::new(Ipv4Addr::from(*p), *len).unwrap());
            let id = t.get(net).unwrap();
            let c = t.counts(id);
            prop_assert_eq!(c.half_open, *n);
            prop_assert_eq!(c.sources, srcs.len() as u64);
            prop_assert_eq!(c.well_known_port, *wk);
            prop_assert_eq!(c.retransmitted, *rt);
            let adj = srcs.iter().filter(|a| srcs.contains(&(*a + 1))).count() as u64;
            // Adjacency counted at the lower address: equal when no pair
            // crosses the prefix's upper edge.
            if *len != 32 {
                prop_assert_eq!(c.adjacent_sources, adj);
            }
        }
    }

    /// Heavy hitters against a brute-force discounted selection.
    #[test]
    fn heavy_hitters_match_brute_force(
        addrs in proptest::collection::vec((0u32..3, 0u32..4, 0u32..8), 0..600),
        threshold in 1u64..80,
    ) {
        let mut b = TreeBuilder::new(Family::V4, &[32, 24, 16], usize::MAX).unwrap();
        let mut c32: HashMap<u32, u64> = HashMap::new();
        for &(x, y, z) in &addrs {
            let a = (10u32 << 24) | (x << 16) | (y << 8) | z;
            b.insert(IpAddr::V4(Ipv4Addr::from(a)), sample(9999));
            *c32.entry(a).or_default() += 1;
        }
        let t = b.build();
        // Oracle: per level, residual = count minus counts of selected
        // descendants (the most specific ones covering each address).
        let mut selected: Vec<(u8, u32, u64)> = Vec::new();
        let mut covered: HashMap<u32, bool> = HashMap::new();
        for len in [32u8, 24, 16] {
            let m = u32::MAX << (32 - len);
            let mut res: HashMap<u32, u64> = HashMap::new();
            for (&a, &n) in &c32 {
                if !covered.get(&a).copied().unwrap_or(false) {
                    *res.entry(a & m).or_default() += n;
                }
            }
            let chosen: HashSet<u32> = res.iter().filter(|(_, &n)| n >= threshold).map(|(&p, _)| p).collect();
            for (&p, &n) in &res {
                if chosen.contains(&p) { selected.push((len, p, n)); }
            }
            for &a in c32.keys() {
                if chosen.contains(&(a & m)) { covered.insert(a, true); }
            }
        }
        let mut got: Vec<(u8, u32, u64)> = t.heavy_hitters(threshold).iter().map(|h| {
            let IpNet::V4(n) = t.prefix(h.node) else { unreachable!() };
            (n.prefix_len(), u32::from(n.network()), h.residual.half_open)
        }).collect();
        got.sort_unstable();
        selected.sort_unstable();
        prop_assert_eq!(got, selected);
    }
}

proptest! {
    /// Under any cap and feeding order, every node counts exactly the
    /// entries inside its prefix (a node's subtree covers them all), its
    /// sources are the full-address nodes below it and its overflow the
    /// entries without one; the rest is dropped.
    #[test]
    fn capped_counts_match_brute_force(
        mut addrs in proptest::collection::vec((0u32..3, 0u32..5, 0u32..12), 0..300),
        cap in 0usize..40,
        sorted in any::<bool>(),
    ) {
        if sorted {
            addrs.sort_unstable();
        }
        let key = |&(x, y, z): &(u32, u32, u32)| (198u32 << 24) | (x << 16) | (y << 8) | z;
        let mut b = TreeBuilder::new(Family::V4, &[32, 24, 16], cap).unwrap();
        for a in &addrs {
            b.insert(IpAddr::V4(Ipv4Addr::from(key(a))), sample(80));
        }
        let t = b.build();
        prop_assert!(t.len() <= cap);
        let host = |a: u32| t.get(IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), 32).unwrap()));
        let mut counted = 0;
        for id in t.nodes() {
            let net = t.prefix(id);
            let inside: Vec<u32> = addrs
                .iter()
                .map(key)
                .filter(|&a| net.contains(&IpAddr::V4(Ipv4Addr::from(a))))
                .collect();
            let c = t.counts(id);
            prop_assert_eq!(c.half_open, inside.len() as u64);
            let with_node: HashSet<u32> = inside.iter().copied().filter(|&a| host(a).is_some()).collect();
            prop_assert_eq!(c.sources, with_node.len() as u64);
            let without = inside.iter().filter(|&&a| host(a).is_none()).count();
            prop_assert_eq!(c.overflow, without as u64);
            if t.parent(id).is_none() {
                counted += inside.len() as u64;
            }
        }
        prop_assert_eq!(t.dropped(), addrs.len() as u64 - counted);
    }
}

proptest! {
    /// A sorted feed with a plan spends the cap coarsest level first:
    /// every level whose prefixes fit, with those above it, is complete;
    /// counts stay exact as in any capped tree.
    #[test]
    fn planned_feed_keeps_coarse_levels_complete(
        mut addrs in proptest::collection::vec((0u32..6, 0u32..8, 0u32..16), 1..300),
        cap in 0usize..60,
        heavy in 1u64..40,
    ) {
        addrs.sort_unstable();
        let key = |&(x, y, z): &(u32, u32, u32)| (198u32 << 24) | (x << 16) | (y << 8) | z;
        let keys: Vec<u128> = addrs.iter().map(|a| u128::from(key(a))).collect();
        let mut distinct_keys = keys.clone();
        distinct_keys.dedup();
        let mut b = TreeBuilder::new(Family::V4, &[32, 24, 16], cap).unwrap();
        b.plan_sorted(keys.iter().copied(), heavy);
        for run in keys.chunk_by(|a, b| a == b) {
            let mut source = SourceCounts::default();
            for _ in run {
                source.add(false, false);
                b.count_source_port(80);
            }
            b.add_source(run[0], source);
        }
        let t = b.build();
        prop_assert!(t.len() <= cap);
        // Per level (coarsest first): every prefix, and those with at least
        // `heavy` entries.
        let per_level: Vec<(u8, Vec<u32>, Vec<u32>)> = [16u8, 24, 32]
            .into_iter()
            .map(|len| {
                let all: Vec<u32> = addrs.iter().map(|a| key(a) & (u32::MAX << (32 - len))).collect();
                let runs: Vec<&[u32]> = all.chunk_by(|a, b| a == b).collect();
                let every = runs.iter().map(|r| r[0]).collect();
                let heavy_ones = runs.iter().filter(|r| r.len() as u64 >= heavy).map(|r| r[0]).collect();
                (len, every, heavy_ones)
            })
            .collect();
        let exists = |p: u32, len: u8| t.get(IpNet::V4(Ipv4Net::new(Ipv4Addr::from(p), len).unwrap())).is_some();
        // Every heavy prefix has its node when they all fit.
        let heavy_total: usize = per_level.iter().map(|l| l.2.len()).sum();
        if heavy_total <= cap {
            for (len, _, heavy_ones) in &per_level {
                for &p in heavy_ones {
                    prop_assert!(exists(p, *len), "heavy {}/{} missing under cap {}", Ipv4Addr::from(p), len, cap);
                }
            }
        }
        // A level is complete when it fits with every prefix above it and
        // the heavy ones below.
        for i in 0..per_level.len() {
            let above: usize = per_level[..=i].iter().map(|l| l.1.len()).sum();
            let below: usize = per_level[i + 1..].iter().map(|l| l.2.len()).sum();
            if above + below <= cap {
                let (len, every, _) = &per_level[i];
                for &p in every {
                    prop_assert!(exists(p, *len), "{}/{} missing under cap {}", Ipv4Addr::from(p), len, cap);
                }
            }
        }
        let mut counted = 0;
        for id in t.nodes() {
            let net = t.prefix(id);
            let inside: Vec<u32> = addrs.iter().map(key).filter(|&a| net.contains(&IpAddr::V4(Ipv4Addr::from(a)))).collect();
            let c = t.counts(id);
            prop_assert_eq!(c.half_open, inside.len() as u64);
            // A sorted feed counts every source and its adjacency, with a
            // node of its own or not.
            let sources: HashSet<u32> = inside.iter().copied().collect();
            prop_assert_eq!(c.sources, sources.len() as u64);
            let adjacent = sources.iter().filter(|&&a| distinct_keys.contains(&u128::from(a + 1))).count();
            // Counted where the lower address is, also when its successor
            // is in the next prefix.
            prop_assert_eq!(c.adjacent_sources, adjacent as u64);
            let inside = inside.len();
            if t.parent(id).is_none() {
                counted += inside as u64;
            }
        }
        prop_assert_eq!(t.dropped(), addrs.len() as u64 - counted);
    }
}

#[test]
fn cap_bounds_nodes_and_counts_what_it_cost() {
    let mut b = TreeBuilder::new(Family::V6, &[128, 64, 48, 32], 1000).unwrap();
    let mut x: u64 = 0x1234_5678;
    let n = 20_000u64;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let addr = (0x2001_0db8u128 << 96) | (u128::from(x) << 32) | u128::from(x >> 7);
        b.insert(IpAddr::V6(Ipv6Addr::from(addr)), sample(5000));
        assert!(b.len() <= 1000);
    }
    let t = b.build();
    assert!(t.len() <= 1000);
    assert_eq!(t.half_open() + t.dropped(), n);
    let root = t.get("2001:db8::/32".parse().unwrap()).unwrap();
    let c = t.counts(root);
    assert_eq!(c.half_open, n, "all entries share the /32, created first");
    assert_eq!(c.sources + c.overflow, n, "random /128s are distinct");
    assert!(c.overflow > 0);
    assert_eq!(t.overflow(), c.overflow);
}

#[test]
fn zero_cap_drops_everything_visibly() {
    let mut b = TreeBuilder::new(Family::V4, &[24], 0).unwrap();
    b.insert("198.18.0.1".parse().unwrap(), sample(1));
    b.insert("2001:db8::1".parse().unwrap(), sample(1));
    let t = b.build();
    assert_eq!(t.dropped(), 2);
    assert!(t.is_empty());
}

#[test]
fn edges_of_the_address_space() {
    let mut b = TreeBuilder::new(Family::V4, &[0, 32], 10).unwrap();
    b.insert("255.255.255.255".parse().unwrap(), sample(1));
    b.insert("0.0.0.0".parse().unwrap(), sample(1));
    let t = b.build();
    let all = t.get("0.0.0.0/0".parse().unwrap()).unwrap();
    assert_eq!(t.counts(all).half_open, 2);
    assert_eq!(t.counts(all).adjacent_sources, 0);
    let mut b = TreeBuilder::new(Family::V6, &[0], 10).unwrap();
    b.insert(IpAddr::V6(Ipv6Addr::from(u128::MAX)), sample(1));
    let t = b.build();
    assert_eq!(t.half_open(), 1);
    assert_eq!(t.levels(), [0, 128]);
}

#[test]
fn a_node_takes_88_bytes() {
    assert_eq!(std::mem::size_of::<Node>(), 88);
}

#[test]
fn entries_beyond_the_32_bit_bound_are_dropped_visibly() {
    let mut b = TreeBuilder::new(Family::V4, &[32, 24], 100).unwrap();
    let source = |half_open| SourceCounts {
        half_open,
        well_known_port: half_open,
        retransmitted: 0,
    };
    b.count_source_port(80);
    b.add_source(0xC612_0001, source(MAX_ENTRIES - 1));
    b.count_source_port(80);
    b.add_source(0xC612_0002, source(2));
    b.count_source_port(80);
    b.add_source(0xC612_0003, source(1));
    let t = b.build();
    assert_eq!(t.half_open(), MAX_ENTRIES);
    assert_eq!(t.dropped(), 2);
    let net = t.get("198.18.0.0/24".parse().unwrap()).unwrap();
    assert_eq!(t.counts(net).half_open, MAX_ENTRIES);
    assert_eq!(t.counts(net).well_known_port, MAX_ENTRIES);
    assert_eq!(t.counts(net).sources, 2);
    // One port count per admitted source here; the dropped one's is gone.
    assert_eq!(t.top_port(net), Some((80, 2)));
}
