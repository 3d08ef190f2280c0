//! Test harness for halfopen's kernel-backed integration tests.
//!
//! Everything runs against the real kernel, inside network namespaces the
//! test creates and deletes again (also when it panics):
//!
//! - [`require_root`] skips a test, with a printed reason, when it cannot
//!   create namespaces;
//! - [`Netns`] is one named namespace: run code in it ([`Netns::run`]),
//!   commands ([`Netns::exec`], [`Netns::ip`]), set sysctls, read its real
//!   `/proc/<pid>/net/tcp{,6}` ([`Netns::read_table`], [`Netns::entries`],
//!   [`Netns::net_ns`] for `halfopen::procnet`);
//! - [`veth`] links two namespaces; [`Lab`] is a ready server / attacker /
//!   client topology configured by [`LabConfig`];
//! - [`listen`], [`Acceptor`] and [`connect_clients`] make real sockets;
//! - [`SynSender`] sends spoofed SYNs (and ICMP echo requests) from raw
//!   sockets, with sources from [`spoofed_sources`];
//! - [`without_netlink`] and [`as_user`] run code with less than the
//!   test has (no netlink sockets, no privileges);
//! - [`wait_until`] polls a condition.
//!
//! Addresses: the namespaces' own links use `198.19.0.0/16` and
//! `2001:db8:ffff::/48`; spoofed sources come from [`SPOOF_V4`] and
//! [`SPOOF_V6`]. Packets never leave the namespaces a test created.
//!
//! # Examples
//!
//! ```
//! use halfopen::procnet::{Family, TcpState};
//! use halfopen_tests::*;
//! if !require_root("doc_crate") {
//!     return;
//! }
//! let lab = Lab::new("doc", &LabConfig::default()).unwrap();
//! let _l = listen(&lab.server, Lab::server_addr_v4(80), 1024).unwrap();
//! let mut syn = SynSender::new(&lab.attacker).unwrap().rate(10_000);
//! syn.send(spoofed_sources(Family::V4, 0, 100), Lab::server_addr_v4(80)).unwrap();
//! assert!(wait_until(std::time::Duration::from_secs(5), || {
//!     lab.server.count(Family::V4, TcpState::SynRecv).unwrap() == 100
//! }));
//! ```

mod lab;
mod netns;
mod packet;
mod raw;
mod sandbox;
mod sockets;

use std::time::{Duration, Instant};

pub use lab::{Lab, LabConfig};
pub use netns::{require_root, run_cmd, veth, Netns};
pub use packet::{echo_packet, internet_checksum, syn_packet};
pub use raw::SynSender;
pub use sandbox::{as_user, without_netlink};
pub use sockets::{
    connect_clients, listen, listen_v6only, spoofed_sources, Acceptor, SPOOF_V4, SPOOF_V6,
};

/// Polls `cond` every 10 ms until it holds (returns true) or `timeout`
/// passes (returns false). `cond` runs at least once.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let mut n = 0;
/// assert!(halfopen_tests::wait_until(Duration::from_secs(1), || { n += 1; n == 3 }));
/// assert!(!halfopen_tests::wait_until(Duration::from_millis(30), || false));
/// ```
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
