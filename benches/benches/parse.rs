//! Parsing a 100k-row SYN_RECV table: halfopen against the procfs crate and
//! a plain `split_whitespace` + `from_str_radix` parse, every field decoded.

use std::hint::black_box;
use std::io::BufReader;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use halfopen::procnet::{parse_table, Family, TableReader, TcpEntry};
use halfopen_benches::syn_recv_table;
use procfs::FromBufReadSI;

const ROWS: usize = 100_000;

/// Folds every decoded field into one number so nothing is optimised away.
fn fold(e: &TcpEntry<'_>) -> u64 {
    let ip = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => u32::from(v4) as u64,
        IpAddr::V6(v6) => u128::from(v6) as u64,
    };
    e.slot as u64
        ^ ip(e.local.ip())
        ^ ip(e.remote.ip()).rotate_left(7)
        ^ (e.local.port() as u64) << 16
        ^ e.remote.port() as u64
        ^ e.state.code() as u64
        ^ e.tx_queue as u64
        ^ e.rx_queue as u64
        ^ e.timer.code() as u64
        ^ e.timer_expires
        ^ e.retransmits as u64
        ^ e.uid as u64
        ^ e.timeout as u64
        ^ e.inode
        ^ e.trailing.len() as u64
}

/// The plain way: split on whitespace, `from_str_radix` each column.
fn plain(text: &str) -> u64 {
    let mut acc = 0u64;
    for line in text.lines().skip(1) {
        let mut cols = line.split_whitespace();
        let slot: u32 = cols.next().unwrap().trim_end_matches(':').parse().unwrap();
        let addr = |s: &str| -> (u64, u16) {
            let (a, p) = s.split_once(':').unwrap();
            let ip = if a.len() == 8 {
                u32::from(Ipv4Addr::from(
                    u32::from_str_radix(a, 16).unwrap().to_ne_bytes(),
                )) as u64
            } else {
                let mut o = [0u8; 16];
                for (i, c) in o.chunks_exact_mut(4).enumerate() {
                    c.copy_from_slice(
                        &u32::from_str_radix(&a[i * 8..i * 8 + 8], 16)
                            .unwrap()
                            .to_ne_bytes(),
                    );
                }
                u128::from(Ipv6Addr::from(o)) as u64
            };
            (ip, u16::from_str_radix(p, 16).unwrap())
        };
        let (lip, lport) = addr(cols.next().unwrap());
        let (rip, rport) = addr(cols.next().unwrap());
        let st = u8::from_str_radix(cols.next().unwrap(), 16).unwrap();
        let (tx, rx) = cols.next().unwrap().split_once(':').unwrap();
        let (tx, rx) = (
            u32::from_str_radix(tx, 16).unwrap(),
            u32::from_str_radix(rx, 16).unwrap(),
        );
        let (tr, when) = cols.next().unwrap().split_once(':').unwrap();
        let (tr, when) = (
            u8::from_str_radix(tr, 16).unwrap(),
            u64::from_str_radix(when, 16).unwrap(),
        );
        let retr = u32::from_str_radix(cols.next().unwrap(), 16).unwrap();
        let uid: u32 = cols.next().unwrap().parse().unwrap();
        let timeout: i32 = cols.next().unwrap().parse().unwrap();
        let inode: u64 = cols.next().unwrap().parse().unwrap();
        let trailing = cols.map(str::len).sum::<usize>();
        acc ^= slot as u64
            ^ lip
            ^ rip.rotate_left(7)
            ^ (lport as u64) << 16
            ^ rport as u64
            ^ st as u64
            ^ tx as u64
            ^ rx as u64
            ^ tr as u64
            ^ when
            ^ retr as u64
            ^ uid as u64
            ^ timeout as u64
            ^ inode
            ^ trailing as u64;
    }
    acc
}

fn parse(c: &mut Criterion) {
    let info = procfs::ExplicitSystemInfo {
        boot_time_secs: 0,
        ticks_per_second: 100,
        page_size: 4096,
        is_little_endian: cfg!(target_endian = "little"),
    };
    for family in Family::BOTH {
        let table = syn_recv_table(family, ROWS);
        let text = std::str::from_utf8(&table).unwrap();
        let mut group = c.benchmark_group(format!("parse_{}_100k", family.file_name()));
        group.throughput(Throughput::Bytes(table.len() as u64));
        group.bench_function("halfopen", |b| {
            b.iter(|| {
                let mut acc = 0u64;
                for e in parse_table(black_box(&table), Some(family)) {
                    acc ^= fold(&e.unwrap());
                }
                acc
            })
        });
        group.bench_function("halfopen_stream_64k", |b| {
            b.iter(|| {
                let mut acc = 0u64;
                let mut reader = TableReader::new(black_box(&table[..])).family(family);
                reader.for_each(|e| acc ^= fold(&e)).unwrap();
                acc
            })
        });
        group.bench_function("split_whitespace", |b| b.iter(|| plain(black_box(text))));
        group.bench_function("procfs", |b| {
            b.iter(|| {
                procfs::net::TcpNetEntries::from_buf_read(
                    BufReader::new(black_box(&table[..])),
                    &info,
                )
                .unwrap()
                .0
                .len()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
