//! Spoofed packets through raw sockets opened inside a namespace.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::netns::Netns;
use crate::packet::{echo_packet, syn_packet};

/// Sends hand-built packets with any source address from inside a namespace
/// (normally [`crate::Lab::attacker`]): TCP SYNs for floods, SYNs to closed
/// ports, ICMP/ICMPv6 echo requests.
///
/// It uses two raw sockets opened in that namespace: `AF_INET` and
/// `AF_INET6` with protocol `IPPROTO_RAW`, which on Linux take the whole
/// packet, IP header included. Sending is paced at [`SynSender::rate`]
/// packets per second when set, and stops at [`SynSender::max_time`].
///
/// # Examples
///
/// ```
/// use halfopen_tests::{Lab, LabConfig, SynSender, spoofed_sources};
/// use halfopen::procnet::{Family, TcpState};
/// if !halfopen_tests::require_root("doc_syn_sender") {
///     return;
/// }
/// let lab = Lab::new("docsyn", &LabConfig::default()).unwrap();
/// let _l = halfopen_tests::listen(&lab.server, Lab::server_addr_v4(80), 128).unwrap();
/// let mut syn = SynSender::new(&lab.attacker).unwrap().rate(5_000);
/// assert_eq!(syn.send(spoofed_sources(Family::V4, 0, 10), Lab::server_addr_v4(80)).unwrap(), 10);
/// assert!(halfopen_tests::wait_until(std::time::Duration::from_secs(5), || {
///     lab.server.count(Family::V4, TcpState::SynRecv).unwrap() == 10
/// }));
/// ```
#[derive(Debug)]
pub struct SynSender {
    v4: OwnedFd,
    v6: OwnedFd,
    rate: Option<u32>,
    max_time: Option<Duration>,
    seq: u32,
}

impl SynSender {
    /// Opens the raw sockets inside `ns`; unpaced, unbounded in time.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_syn_new") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("raw").unwrap();
    /// assert!(halfopen_tests::SynSender::new(&ns).is_ok());
    /// ```
    pub fn new(ns: &Netns) -> io::Result<SynSender> {
        ns.run(|| {
            Ok(SynSender {
                v4: raw_socket(libc::AF_INET)?,
                v6: raw_socket(libc::AF_INET6)?,
                rate: None,
                max_time: None,
                seq: 0x1000_0000,
            })
        })
    }

    /// Paces sending at `packets_per_second` (0 means unpaced).
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_syn_rate") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("raw").unwrap();
    /// let _s = halfopen_tests::SynSender::new(&ns).unwrap().rate(20_000);
    /// ```
    pub fn rate(mut self, packets_per_second: u32) -> SynSender {
        self.rate = (packets_per_second > 0).then_some(packets_per_second);
        self
    }

    /// Stops each `send`/`ping` call after `limit` even if packets remain.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_syn_max_time") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("raw").unwrap();
    /// let _s = halfopen_tests::SynSender::new(&ns)
    ///     .unwrap()
    ///     .max_time(std::time::Duration::from_secs(2));
    /// ```
    pub fn max_time(mut self, limit: Duration) -> SynSender {
        self.max_time = Some(limit);
        self
    }

    /// Sends one SYN per `(source address, source port)` to `dst`; returns
    /// how many were sent (fewer only when [`SynSender::max_time`] ran
    /// out). Sources of the other family than `dst` are an error. A `dst`
    /// port nobody listens on makes the server answer with RSTs.
    ///
    /// # Examples
    ///
    /// See [`SynSender`].
    pub fn send(
        &mut self,
        sources: impl IntoIterator<Item = (IpAddr, u16)>,
        dst: SocketAddr,
    ) -> io::Result<u64> {
        let mut seq = self.seq;
        let packets = sources.into_iter().map(|(ip, port)| {
            seq = seq.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let src = SocketAddr::new(ip, port);
            if src.is_ipv4() != dst.is_ipv4() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("source {src} and destination {dst} are of different families"),
                ));
            }
            Ok(syn_packet(src, dst, seq))
        });
        let sent = self.paced(packets, dst.ip());
        self.seq = seq;
        sent
    }

    /// Sends `count` ICMP (or ICMPv6) echo requests from `src` to `dst`,
    /// paced like SYNs; returns how many were sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen_tests::{Lab, LabConfig, SynSender};
    /// if !halfopen_tests::require_root("doc_ping") {
    ///     return;
    /// }
    /// let lab = Lab::new("docping", &LabConfig::default()).unwrap();
    /// let mut s = SynSender::new(&lab.attacker).unwrap().rate(1000);
    /// let src = "198.18.7.7".parse().unwrap();
    /// assert_eq!(s.ping(src, Lab::SERVER_V4.into(), 5).unwrap(), 5);
    /// ```
    pub fn ping(&mut self, src: IpAddr, dst: IpAddr, count: u64) -> io::Result<u64> {
        if src.is_ipv4() != dst.is_ipv4() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("source {src} and destination {dst} are of different families"),
            ));
        }
        let id = std::process::id() as u16;
        let packets = (0..count).map(|i| Ok(echo_packet(src, dst, id, i as u16)));
        self.paced(packets, dst)
    }

    /// Sends one ready packet (IP header included) towards `dst`.
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_send_packet") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("raw").unwrap();
    /// let s = halfopen_tests::SynSender::new(&ns).unwrap();
    /// let src = "127.0.0.2:9".parse().unwrap();
    /// let dst = "127.0.0.1:9".parse().unwrap();
    /// s.send_packet(&halfopen_tests::syn_packet(src, dst, 1), dst.ip()).unwrap();
    /// ```
    pub fn send_packet(&self, packet: &[u8], dst: IpAddr) -> io::Result<()> {
        let mut retries = 0;
        loop {
            let rc = match dst {
                IpAddr::V4(ip) => {
                    let addr = libc::sockaddr_in {
                        sin_family: libc::AF_INET as libc::sa_family_t,
                        sin_port: 0,
                        sin_addr: libc::in_addr {
                            s_addr: u32::from_ne_bytes(ip.octets()),
                        },
                        sin_zero: [0; 8],
                    };
                    // SAFETY: the buffer and the address are valid for the
                    // lengths given; the descriptor is an open socket.
                    unsafe {
                        libc::sendto(
                            self.v4.as_raw_fd(),
                            packet.as_ptr().cast(),
                            packet.len(),
                            0,
                            (&addr as *const libc::sockaddr_in).cast(),
                            std::mem::size_of_val(&addr) as libc::socklen_t,
                        )
                    }
                }
                IpAddr::V6(ip) => {
                    let addr = libc::sockaddr_in6 {
                        sin6_family: libc::AF_INET6 as libc::sa_family_t,
                        sin6_port: 0,
                        sin6_flowinfo: 0,
                        sin6_addr: libc::in6_addr {
                            s6_addr: ip.octets(),
                        },
                        sin6_scope_id: 0,
                    };
                    // SAFETY: as above.
                    unsafe {
                        libc::sendto(
                            self.v6.as_raw_fd(),
                            packet.as_ptr().cast(),
                            packet.len(),
                            0,
                            (&addr as *const libc::sockaddr_in6).cast(),
                            std::mem::size_of_val(&addr) as libc::socklen_t,
                        )
                    }
                }
            };
            if rc >= 0 {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            let transient = matches!(err.raw_os_error(), Some(libc::ENOBUFS | libc::EAGAIN));
            if !transient || retries >= 1000 {
                return Err(io::Error::new(err.kind(), format!("sendto {dst}: {err}")));
            }
            retries += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn paced(
        &mut self,
        packets: impl Iterator<Item = io::Result<Vec<u8>>>,
        dst: IpAddr,
    ) -> io::Result<u64> {
        let start = Instant::now();
        let mut sent = 0u64;
        for packet in packets {
            let elapsed = start.elapsed();
            if self.max_time.is_some_and(|limit| elapsed >= limit) {
                break;
            }
            if let Some(rate) = self.rate {
                let due = Duration::from_secs_f64(sent as f64 / f64::from(rate));
                if due > elapsed + Duration::from_millis(1) {
                    std::thread::sleep(due - elapsed);
                }
            }
            self.send_packet(&packet?, dst)?;
            sent += 1;
        }
        Ok(sent)
    }
}

/// Opens a raw socket of `domain` that takes whole IP packets.
fn raw_socket(domain: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call; the result is checked before use.
    let fd = unsafe {
        libc::socket(
            domain,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_RAW,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
