//! The block set at a million prefixes, against plain std maps in the same
//! run.
//!
//! - `insert/*`: 1 M new prefixes into an empty set (`halfopen`) and into a
//!   `HashMap<IpNet, Block>` and a `BTreeMap<IpNet, Block>` (`hashmap`,
//!   `btreemap`: storage alone, with no expiry index, absorption or
//!   allowlist check);
//! - `lookup/*`: 1 M address lookups (half inside a block) with
//!   `BlockSet::lookup`, against exact-key `HashMap::get` of the host route;
//! - `expire_half/*`: ending 500 k of 1 M blocks in one `expire` call;
//! - `expire_1000/*`: ending 1 000 blocks in a set of 1 000 and in a set of
//!   1 M (the other 999 000 stay): the cost should not grow with the set.
//!   `scan_1m` is the baseline of a plain `BTreeMap` scanned with `retain`
//!   for the 1 000 that end.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use halfopen::blockset::{Block, BlockConfig, BlockSet, Millis};
use ipnet::{IpNet, Ipv6Net};

const MILLION: u32 = 1_000_000;

/// The `i`-th /64 of 2001:db8::/32.
fn prefix(i: u32) -> IpNet {
    let addr = Ipv6Addr::from((0x2001_0db8_u128 << 96) | (u128::from(i) << 64));
    IpNet::V6(Ipv6Net::new_assert(addr, 64))
}

/// A host address inside prefix `i` (or in the gap after the last one).
fn address(i: u32) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(
        (0x2001_0db8_u128 << 96) | (u128::from(i) << 64) | 0x1234,
    ))
}

/// Room for `capacity` blocks; no escalation, so re-added blocks keep
/// their TTL.
fn config(capacity: usize) -> BlockConfig {
    BlockConfig {
        capacity: capacity.max(1_000),
        memory_capacity: capacity.max(1_000),
        escalation_factor: 1,
        ..BlockConfig::default()
    }
}

/// Longer than any benchmark runs.
const LONG: Duration = Duration::from_secs(6 * 86_400);

/// A set of `n` blocks (room for 1 000 more); the first `short` end at
/// 1 s, the rest after six days.
fn filled(n: u32, short: u32) -> BlockSet {
    let mut set = BlockSet::new(config(n as usize + 1_000));
    for i in 0..n {
        let ttl = if i < short {
            Duration::from_secs(1)
        } else {
            LONG
        };
        set.add(prefix(i), "bench", ttl, Millis(0)).unwrap();
    }
    set
}

fn block(i: u32) -> Block {
    Block {
        prefix: prefix(i),
        expires: Millis(u64::MAX),
        reason: "bench".to_owned(),
        first_seen: Millis(0),
        last_seen: Millis(0),
        strikes: 1,
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("blockset/insert_1m");
    g.sample_size(10);
    g.bench_function("halfopen", |b| {
        b.iter(|| black_box(filled(MILLION, 0).len()))
    });
    g.bench_function("hashmap", |b| {
        b.iter(|| {
            let mut m = HashMap::new();
            for i in 0..MILLION {
                m.insert(prefix(i), block(i));
            }
            black_box(m.len())
        })
    });
    g.bench_function("btreemap", |b| {
        b.iter(|| {
            let mut m = BTreeMap::new();
            for i in 0..MILLION {
                m.insert(prefix(i), block(i));
            }
            black_box(m.len())
        })
    });
    g.finish();

    // Blocks on the even prefixes; lookups of every prefix's address hit half.
    let mut set = BlockSet::new(config(MILLION as usize));
    let mut map = HashMap::new();
    for i in (0..2 * MILLION).step_by(2) {
        set.add(prefix(i), "bench", LONG, Millis(0)).unwrap();
        map.insert(prefix(i), block(i));
    }
    let mut g = c.benchmark_group("blockset/lookup_1m");
    g.sample_size(10);
    g.bench_function("halfopen", |b| {
        b.iter(|| {
            let hits = (0..MILLION)
                .filter(|&i| set.lookup(address(i)).is_some())
                .count();
            assert_eq!(hits, MILLION as usize / 2);
            black_box(hits)
        })
    });
    g.bench_function("hashmap_exact", |b| {
        b.iter(|| {
            let hits = (0..MILLION)
                .filter(|&i| map.contains_key(&prefix(i)))
                .count();
            assert_eq!(hits, MILLION as usize / 2);
            black_box(hits)
        })
    });
    g.finish();
    drop((set, map));

    let mut g = c.benchmark_group("blockset/expire_half_1m");
    g.sample_size(10);
    let half = filled(MILLION, MILLION / 2);
    g.bench_function("halfopen", |b| {
        b.iter_batched(
            || half.clone(),
            |mut set| {
                let ended = set.expire(Millis(1_000));
                assert_eq!(ended.len(), MILLION as usize / 2);
                (set, ended)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
    drop(half);

    // 1 000 blocks end at each measured `expire`; the others stay. Each
    // iteration re-adds the 1 000 (untimed) at a later instant.
    let mut g = c.benchmark_group("blockset/expire_1000");
    for (name, n) in [("in_1000", 1_000u32), ("in_1m", MILLION)] {
        let long = n - 1_000;
        let mut set = filled(long, 0);
        let mut now = 0u64;
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    now += 2_000;
                    for i in long..n {
                        let ttl = Duration::from_secs(1);
                        set.add(prefix(i), "bench", ttl, Millis(now)).unwrap();
                    }
                    assert_eq!(set.len(), n as usize);
                    let start = Instant::now();
                    let ended = set.expire(Millis(now + 1_000));
                    total += start.elapsed();
                    assert_eq!(ended.len(), 1_000);
                    black_box(ended);
                }
                total
            })
        });
    }
    // Baseline: expiry by scanning a plain map of 1 M for the 1 000 that end
    // (what a set without an expiry index pays on every tick).
    let mut scan: BTreeMap<IpNet, Block> = (0..MILLION).map(|i| (prefix(i), block(i))).collect();
    let mut now = 0u64;
    g.bench_function("scan_1m", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                now += 2_000;
                for i in MILLION - 1_000..MILLION {
                    let mut b = block(i);
                    b.expires = Millis(now);
                    scan.insert(prefix(i), b);
                }
                let start = Instant::now();
                let mut ended = Vec::new();
                scan.retain(|_, b| {
                    let keep = b.expires > Millis(now);
                    if !keep {
                        ended.push(b.prefix);
                    }
                    keep
                });
                total += start.elapsed();
                assert_eq!(ended.len(), 1_000);
                black_box(ended);
            }
            total
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
