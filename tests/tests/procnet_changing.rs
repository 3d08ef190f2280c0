//! Tables that change while they are read: the kernel keeps its place by
//! position and hands out whole rows, so a reader sees each row of *some*
//! version of the table. Nothing may be lost or corrupted at a read
//! boundary, whatever the reader's buffer size.

mod oracle;

use std::collections::HashSet;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use halfopen::procnet::{
    header, parse_line, Family, TableReader, TcpEntry, TcpState, TimerKind, DEFAULT_BUFFER,
    MIN_BUFFER,
};
use halfopen_tests::{
    connect_clients, listen, listen_v6only, require_root, spoofed_sources, wait_until, Acceptor,
    Lab, LabConfig, SynSender,
};

/// A small deterministic generator (xorshift64*), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Row number `id` of a synthetic table, printed as the kernel prints it.
fn row(family: Family, id: u32, slot: u32) -> String {
    let [_, _, hi, lo] = id.to_be_bytes();
    let (local, remote) = match family {
        Family::V4 => (
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 19, 1, 1)), 80),
            SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(198, 18, hi, lo)),
                1024 + (id % 60_000) as u16,
            ),
        ),
        Family::V6 => (
            SocketAddr::new(
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 1, 0, 0, 0, 1)),
                443,
            ),
            SocketAddr::new(
                IpAddr::V6(Ipv6Addr::new(
                    0x2001,
                    0xdb8,
                    (id >> 16) as u16,
                    0,
                    0,
                    0,
                    0,
                    id as u16,
                )),
                1024 + (id % 60_000) as u16,
            ),
        ),
    };
    let state = TcpState::ALL[(id % 11) as usize];
    let entry = TcpEntry {
        slot,
        local,
        remote,
        state,
        tx_queue: id % 7,
        rx_queue: id % 5,
        timer: TimerKind::from_code((id % 5) as u8),
        timer_expires: u64::from(id) * 3,
        retransmits: id % 4,
        uid: id % 1000,
        timeout: 0,
        inode: u64::from(id) + 10_000,
        trailing: if id & 1 == 0 {
            "1 0000000000000000 100 0 0 10 0"
        } else {
            ""
        },
    };
    oracle::rendered(&entry)
}

/// A table source that behaves like the kernel's `seq_file`: each `read`
/// returns whole rows from its current position, at most `page` bytes (a
/// row that does not fit in the caller's buffer is handed out in pieces,
/// the rest on the next read), and the table changes between reads (rows
/// inserted, removed, rewritten). It logs every row it hands out.
struct ChangingTable {
    family: Family,
    rows: Vec<String>,
    pos: usize,
    pending: Vec<u8>,
    page: usize,
    /// Hand out arbitrary byte counts instead of whole rows.
    ragged: bool,
    rng: Rng,
    next_id: u32,
    served: Vec<String>,
    ever: HashSet<String>,
}

impl ChangingTable {
    fn new(family: Family, rows: u32, page: usize, ragged: bool, seed: u64) -> ChangingTable {
        let mut t = ChangingTable {
            family,
            rows: Vec::new(),
            pos: 0,
            pending: header(family).into_bytes(),
            page,
            ragged,
            rng: Rng(seed),
            next_id: 0,
            served: Vec::new(),
            ever: HashSet::new(),
        };
        for _ in 0..rows {
            t.insert(t.rows.len());
        }
        t
    }

    fn insert(&mut self, at: usize) {
        let line = row(self.family, self.next_id, at as u32);
        self.next_id += 1;
        self.ever.insert(line.clone());
        self.rows.insert(at, line);
    }

    /// One change between reads.
    fn mutate(&mut self) {
        for _ in 0..1 + self.rng.below(3) {
            match self.rng.below(3) {
                0 => {
                    let at = self.rng.below(self.rows.len() + 1);
                    self.insert(at);
                }
                1 if !self.rows.is_empty() => {
                    let at = self.rng.below(self.rows.len());
                    self.rows.remove(at);
                }
                _ if !self.rows.is_empty() => {
                    let at = self.rng.below(self.rows.len());
                    let line = row(self.family, self.next_id, at as u32);
                    self.next_id += 1;
                    self.ever.insert(line.clone());
                    self.rows[at] = line;
                }
                _ => {}
            }
        }
    }

    fn copy_pending(&mut self, buf: &mut [u8]) -> usize {
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        n
    }
}

impl Read for ChangingTable {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut limit = buf.len().min(self.page);
        if self.ragged {
            limit = 1 + self.rng.below(limit);
        }
        let buf = &mut buf[..limit];
        if !self.pending.is_empty() {
            return Ok(self.copy_pending(buf));
        }
        let mut n = 0;
        while self.pos < self.rows.len() {
            let line = &self.rows[self.pos];
            if n + line.len() > buf.len() && (n > 0 || !self.ragged && line.len() <= buf.len()) {
                break;
            }
            self.served.push(line.clone());
            self.pos += 1;
            if n + line.len() > buf.len() {
                // A row larger than what is left: hand out a piece now.
                self.pending = self.served.last().unwrap().clone().into_bytes();
                n += self.copy_pending(&mut buf[n..]);
                break;
            }
            buf[n..n + line.len()].copy_from_slice(line.as_bytes());
            n += line.len();
        }
        self.mutate();
        Ok(n)
    }
}

fn check_changing(family: Family, page: usize, ragged: bool, capacity: usize, seed: u64) {
    let mut table = ChangingTable::new(family, 300, page, ragged, seed);
    let mut got = Vec::new();
    {
        let mut reader = TableReader::with_capacity(&mut table, capacity).family(family);
        while let Some(entry) = reader.next_entry() {
            let entry = entry.unwrap_or_else(|e| panic!("page {page}, buffer {capacity}: {e}"));
            got.push(oracle::rendered(&entry));
        }
    }
    assert!(table.served.len() > 100, "the source served too little");
    assert_eq!(
        got.len(),
        table.served.len(),
        "page {page}, buffer {capacity}: rows lost or invented"
    );
    for (i, (g, s)) in got.iter().zip(&table.served).enumerate() {
        assert_eq!(g, s, "row {i} differs from what was served");
        assert!(table.ever.contains(g), "row {i} was never in any version");
    }
}

#[test]
fn rows_of_a_changing_table_are_neither_lost_nor_corrupted() {
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    for family in Family::BOTH {
        for page in [200, 512, 1000, 4096, 65_536] {
            for capacity in [MIN_BUFFER, 700, 4096, DEFAULT_BUFFER] {
                for ragged in [false, true] {
                    seed += 1;
                    check_changing(family, page, ragged, capacity, seed);
                }
            }
        }
    }
}

/// Reads the live table with `read` calls of at most `chunk` bytes.
fn read_in_chunks(path: &std::path::Path, chunk: usize) -> Vec<u8> {
    let mut file = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0; chunk];
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Sets its flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What a row of the churning server may look like.
fn plausible(e: &TcpEntry<'_>, stable_ports: &[u16], churn_ports: &[u16]) -> Result<(), String> {
    let port = e.local.port();
    let client: IpAddr = match e.family() {
        Family::V4 => Lab::CLIENT_V4.into(),
        Family::V6 => Lab::CLIENT_V6.into(),
    };
    let ok = match e.state {
        TcpState::Listen => {
            e.remote.ip().is_unspecified()
                && e.remote.port() == 0
                && (stable_ports.contains(&port) || churn_ports.contains(&port))
        }
        // Request sockets of spoofed SYNs, or, for an instant, the full
        // socket of a real client whose final ACK just arrived.
        TcpState::SynRecv => {
            (oracle::is_spoofed(&e.remote) || e.remote.ip() == client)
                && churn_ports.contains(&port)
                && e.inode == 0
        }
        _ => e.remote.ip() == client && churn_ports.contains(&port),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("implausible row {e:?}"))
    }
}

#[test]
fn live_table_read_while_connections_churn() {
    if !require_root("live_table_read_while_connections_churn") {
        return;
    }
    let config = LabConfig {
        synack_retries: Some(1),
        ..LabConfig::default()
    };
    let lab = Lab::new("pch", &config).unwrap();
    let stable = [22u16, 8022];
    let churn = [80u16, 443];
    let mut keep = Vec::new();
    for port in stable {
        keep.push(
            listen(
                &lab.server,
                SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port),
                128,
            )
            .unwrap(),
        );
        keep.push(
            listen_v6only(
                &lab.server,
                SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port),
                128,
            )
            .unwrap(),
        );
    }
    let acceptors: Vec<Acceptor> = churn
        .iter()
        .flat_map(|&port| {
            [
                listen(&lab.server, Lab::server_addr_v4(port), 4096).unwrap(),
                listen(&lab.server, Lab::server_addr_v6(port), 4096).unwrap(),
            ]
        })
        .map(|l| Acceptor::spawn(l).unwrap())
        .collect();

    let stop = AtomicBool::new(false);
    let connections = AtomicU64::new(0);
    let syns = AtomicU64::new(0);
    let mut passes = 0u64;
    let mut seen_states = HashSet::new();
    let mut syn_recv_counts = HashSet::new();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                for dst in [Lab::server_addr_v4(80), Lab::server_addr_v6(443)] {
                    let clients = connect_clients(&lab.client, dst, 8).unwrap();
                    connections.fetch_add(clients.len() as u64, Ordering::Relaxed);
                    drop(clients);
                }
                for a in &acceptors {
                    a.close_accepted();
                }
            }
        });
        scope.spawn(|| {
            let mut syn = SynSender::new(&lab.attacker).unwrap().rate(8_000);
            let mut start = 0;
            while !stop.load(Ordering::Relaxed) {
                for (family, dst) in [
                    (Family::V4, Lab::server_addr_v4(80)),
                    (Family::V6, Lab::server_addr_v6(443)),
                ] {
                    // Count before sending so the bound below always holds.
                    syns.fetch_add(200, Ordering::Relaxed);
                    syn.send(spoofed_sources(family, start, 200), dst).unwrap();
                }
                start += 200;
            }
        });

        // Stops the churn threads however the reading below ends (a failed
        // assertion included), so the scope can join them.
        let _stop = StopOnDrop(&stop);
        let started = Instant::now();
        let capacities = [MIN_BUFFER, 1000, 4096, DEFAULT_BUFFER];
        // At least 6 seconds and 10 passes (a loaded machine reads slowly).
        while started.elapsed() < Duration::from_secs(6) || passes < 10 {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "only {passes} passes in 2 minutes"
            );
            for family in Family::BOTH {
                let path = lab.server.net_ns().table_path(family);
                let capacity = capacities[passes as usize % capacities.len()];

                // Our streaming reader on the live file.
                let file = std::fs::File::open(&path).unwrap();
                let mut reader = TableReader::with_capacity(file, capacity).family(family);
                let (mut listen_rows, mut syn_recv, mut other) = (0usize, 0u64, 0u64);
                while let Some(entry) = reader.next_entry() {
                    let entry = entry.unwrap_or_else(|e| panic!("buffer {capacity}: {e}"));
                    plausible(&entry, &stable, &churn).unwrap();
                    let back = oracle::rendered(&entry);
                    assert_eq!(parse_line(back.as_bytes(), family).unwrap(), entry);
                    seen_states.insert(entry.state);
                    match entry.state {
                        TcpState::Listen => listen_rows += 1,
                        TcpState::SynRecv => syn_recv += 1,
                        _ => other += 1,
                    }
                }
                // Listeners never change: every pass sees each exactly once.
                assert_eq!(
                    listen_rows,
                    stable.len() + churn.len(),
                    "listeners in a {family:?} pass"
                );
                assert!(syn_recv <= syns.load(Ordering::Relaxed));
                assert!(other <= connections.load(Ordering::Relaxed) + 64);
                syn_recv_counts.insert(syn_recv);

                // Raw kernel output read in small pieces: every line whole,
                // and the whole table agrees with procfs field by field.
                let chunk = [150, 512, 4096][passes as usize % 3];
                let bytes = read_in_chunks(&path, chunk);
                for line in oracle::data_lines(&bytes) {
                    plausible(&oracle::check_line(line, family), &stable, &churn).unwrap();
                }
                oracle::check_table(&bytes, family);
            }
            passes += 1;
        }
        stop.store(true, Ordering::Relaxed);
    });
    drop(keep);
    println!(
        "{passes} passes, {} connections, {} spoofed SYNs, half-open counts seen: {}, states: {seen_states:?}",
        connections.load(Ordering::Relaxed),
        syns.load(Ordering::Relaxed),
        syn_recv_counts.len()
    );

    assert!(passes >= 10, "only {passes} passes");
    assert!(
        connections.load(Ordering::Relaxed) > 100,
        "too little churn"
    );
    assert!(
        syn_recv_counts.len() > 3,
        "the half-open count never changed: {syn_recv_counts:?}"
    );
    for state in [TcpState::Listen, TcpState::SynRecv] {
        assert!(
            seen_states.contains(&state),
            "never saw {state}: {seen_states:?}"
        );
    }
    assert!(
        seen_states.len() >= 4,
        "too few states seen: {seen_states:?}"
    );
    // The half-open entries expire on their own (one SYN-ACK retry).
    assert!(wait_until(Duration::from_secs(15), || {
        lab.server.count(Family::V4, TcpState::SynRecv).unwrap() == 0
    }));
}
