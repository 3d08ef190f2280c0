//! A ready three-namespace topology: a server, an attacker that floods it
//! with spoofed SYNs, and real clients.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::netns::{veth, Netns};

/// Settings of a [`Lab`]'s server namespace. `None` keeps the kernel's
/// default for a new namespace.
///
/// # Examples
///
/// ```
/// let cfg = halfopen_tests::LabConfig { syncookies: Some(false), ..Default::default() };
/// assert!(cfg.deep_queue);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabConfig {
    /// `net.ipv4.tcp_syncookies` (`Some(true)` = 1, `Some(false)` = 0);
    /// the kernel's default is 1: cookies once a listen queue is full.
    pub syncookies: Option<bool>,
    /// `net.core.somaxconn`, the cap of every listen backlog. Default 65535.
    pub somaxconn: Option<u32>,
    /// `net.ipv4.tcp_max_syn_backlog`; without SYN cookies the kernel keeps
    /// at most about 3/4 of it as half-open entries. Default 65536.
    pub max_syn_backlog: Option<u32>,
    /// `net.ipv4.tcp_synack_retries`: how long half-open entries live
    /// (5 retries, the kernel's default, is about a minute).
    pub synack_retries: Option<u8>,
    /// Deep FIFO queues (`pfifo limit 500000`) on both ends of the attack
    /// link. Default true.
    pub deep_queue: bool,
    /// Every veth end on the NAPI path ([`Netns::veth_napi`]): packets
    /// between the lab's namespaces bypass the CPU's shared backlog, so
    /// floods elsewhere on the machine do not drop them. Default true.
    pub veth_napi: bool,
}

impl Default for LabConfig {
    fn default() -> LabConfig {
        LabConfig {
            syncookies: None,
            somaxconn: Some(65535),
            max_syn_backlog: Some(65536),
            synack_retries: None,
            deep_queue: true,
            veth_napi: true,
        }
    }
}

/// Three namespaces wired as a server under attack:
///
/// ```text
///  attacker [srv0] 198.19.1.2/24 ------- 198.19.1.1/24 [att0] server [cli0] 198.19.2.1/24 ------- 198.19.2.2/24 [srv0] client
///                  2001:db8:ffff:1::2/64   2001:db8:ffff:1::1/64          2001:db8:ffff:2::1/64   2001:db8:ffff:2::2/64
/// ```
///
/// The server routes the spoofed source space ([`crate::SPOOF_V4`],
/// [`crate::SPOOF_V6`]) via the attacker, which has forwarding off and
/// blackhole routes for it: SYN-ACKs to spoofed sources are dropped there
/// silently (no ICMP error comes back to kill the half-open entry), and
/// nothing leaves the lab. Reverse-path filtering is off in the server.
/// The client routes everything via the server, so it reaches
/// [`Lab::SERVER_V4`] / [`Lab::SERVER_V6`] too.
///
/// All three namespaces are deleted when the lab drops.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{Family, TcpState};
/// use halfopen_tests::{connect_clients, listen, Lab, LabConfig};
/// if !halfopen_tests::require_root("doc_lab") {
///     return;
/// }
/// let lab = Lab::new("doclab", &LabConfig::default()).unwrap();
/// let _l = listen(&lab.server, Lab::server_addr_v6(443), 128).unwrap();
/// let _c = connect_clients(&lab.client, Lab::server_addr_v6(443), 2).unwrap();
/// // The server's side becomes ESTABLISHED when the client's final ACK is in.
/// assert!(halfopen_tests::wait_until(std::time::Duration::from_secs(5), || {
///     lab.server.count(Family::V6, TcpState::Established).unwrap() == 2
/// }));
/// ```
#[derive(Debug)]
pub struct Lab {
    /// The namespace under attack; listeners go here.
    pub server: Netns,
    /// The namespace spoofed SYNs come from ([`crate::SynSender`]).
    pub attacker: Netns,
    /// The namespace real clients connect from ([`crate::connect_clients`]).
    pub client: Netns,
}

/// Connects from `ns` to the closed port `to`: the SYN and the RST that
/// answers it leave both ends' neighbour entries resolved.
fn prime_neighbours(ns: &Netns, to: SocketAddr) -> io::Result<()> {
    ns.run(
        || match TcpStream::connect_timeout(&to, Duration::from_secs(5)) {
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("priming neighbours towards {to}: {e}"),
            )),
            Ok(_) => Err(io::Error::other(format!(
                "port {} unexpectedly open on {}",
                to.port(),
                to.ip()
            ))),
        },
    )
}

impl Lab {
    /// The server's address on the attack link; target it from both sides.
    pub const SERVER_V4: Ipv4Addr = Ipv4Addr::new(198, 19, 1, 1);
    /// The server's IPv6 address on the attack link.
    pub const SERVER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 1, 0, 0, 0, 1);
    /// The attacker's own address.
    pub const ATTACKER_V4: Ipv4Addr = Ipv4Addr::new(198, 19, 1, 2);
    /// The attacker's own IPv6 address.
    pub const ATTACKER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 1, 0, 0, 0, 2);
    /// The server's address on the client link.
    pub const SERVER_CLIENT_SIDE_V4: Ipv4Addr = Ipv4Addr::new(198, 19, 2, 1);
    /// The server's IPv6 address on the client link.
    pub const SERVER_CLIENT_SIDE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 2, 0, 0, 0, 1);
    /// The client's address: real connections come from here.
    pub const CLIENT_V4: Ipv4Addr = Ipv4Addr::new(198, 19, 2, 2);
    /// The client's IPv6 address.
    pub const CLIENT_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 2, 0, 0, 0, 2);

    /// Builds the lab; namespaces are named `ho-<tag>{s,a,c}-<pid>-<n>`.
    ///
    /// # Examples
    ///
    /// See [`Lab`].
    pub fn new(tag: &str, config: &LabConfig) -> io::Result<Lab> {
        let lab = Lab {
            server: Netns::new(&format!("{tag}s"))?,
            attacker: Netns::new(&format!("{tag}a"))?,
            client: Netns::new(&format!("{tag}c"))?,
        };
        lab.wire(config)?;
        Ok(lab)
    }

    fn wire(&self, config: &LabConfig) -> io::Result<()> {
        let (s, a, c) = (&self.server, &self.attacker, &self.client);
        veth(s, "att0", a, "srv0")?;
        veth(s, "cli0", c, "srv0")?;
        s.add_addr("att0", "198.19.1.1/24")?;
        s.add_addr("att0", "2001:db8:ffff:1::1/64")?;
        s.add_addr("cli0", "198.19.2.1/24")?;
        s.add_addr("cli0", "2001:db8:ffff:2::1/64")?;
        a.add_addr("srv0", "198.19.1.2/24")?;
        a.add_addr("srv0", "2001:db8:ffff:1::2/64")?;
        c.add_addr("srv0", "198.19.2.2/24")?;
        c.add_addr("srv0", "2001:db8:ffff:2::2/64")?;

        s.add_route(&[crate::SPOOF_V4, "via", "198.19.1.2", "dev", "att0"])?;
        s.add_route(&[crate::SPOOF_V6, "via", "2001:db8:ffff:1::2", "dev", "att0"])?;
        a.add_route(&["blackhole", crate::SPOOF_V4])?;
        a.add_route(&["blackhole", crate::SPOOF_V6])?;
        a.sysctl("net.ipv4.ip_forward", "0")?;
        a.sysctl("net.ipv6.conf.all.forwarding", "0")?;
        c.add_route(&["default", "via", "198.19.2.1"])?;
        c.add_route(&["default", "via", "2001:db8:ffff:2::1"])?;

        for dev in ["all", "default", "att0", "cli0"] {
            s.sysctl(&format!("net.ipv4.conf.{dev}.rp_filter"), "0")?;
        }
        if let Some(on) = config.syncookies {
            s.sysctl("net.ipv4.tcp_syncookies", if on { "1" } else { "0" })?;
        }
        if let Some(n) = config.somaxconn {
            s.sysctl("net.core.somaxconn", &n.to_string())?;
        }
        if let Some(n) = config.max_syn_backlog {
            s.sysctl("net.ipv4.tcp_max_syn_backlog", &n.to_string())?;
        }
        if let Some(n) = config.synack_retries {
            s.sysctl("net.ipv4.tcp_synack_retries", &n.to_string())?;
        }
        if config.deep_queue {
            s.deep_queue("att0", 500_000)?;
            a.deep_queue("srv0", 500_000)?;
        }
        if config.veth_napi {
            for (ns, dev) in [(s, "att0"), (s, "cli0"), (a, "srv0"), (c, "srv0")] {
                ns.veth_napi(dev)?;
            }
        }
        // Resolve the link-layer neighbours both ways now: packets sent
        // while a neighbour is still unresolved wait in a short queue that
        // a flood overruns, and the first SYNs would be lost.
        for (ns, server) in [(a, Lab::SERVER_V4), (c, Lab::SERVER_CLIENT_SIDE_V4)] {
            prime_neighbours(ns, SocketAddr::new(server.into(), 9))?;
        }
        for (ns, server) in [(a, Lab::SERVER_V6), (c, Lab::SERVER_CLIENT_SIDE_V6)] {
            prime_neighbours(ns, SocketAddr::new(server.into(), 9))?;
        }
        Ok(())
    }

    /// `SERVER_V4:port`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(halfopen_tests::Lab::server_addr_v4(80).to_string(), "198.19.1.1:80");
    /// ```
    pub fn server_addr_v4(port: u16) -> SocketAddr {
        SocketAddr::new(Lab::SERVER_V4.into(), port)
    }

    /// `[SERVER_V6]:port`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(halfopen_tests::Lab::server_addr_v6(443).to_string(), "[2001:db8:ffff:1::1]:443");
    /// ```
    pub fn server_addr_v6(port: u16) -> SocketAddr {
        SocketAddr::new(Lab::SERVER_V6.into(), port)
    }
}
