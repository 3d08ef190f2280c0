//! Real TCP sockets inside namespaces: listeners, an accept loop, clients,
//! and the spoofed source space.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use halfopen::procnet::Family;

use crate::netns::Netns;

/// A TCP listener bound to `addr` inside `ns` with a listen backlog of
/// `backlog` (the kernel caps it at the namespace's `net.core.somaxconn`).
/// An IPv6 wildcard (`[::]:port`) also accepts IPv4 clients, which the
/// `tcp6` table shows as `::ffff:a.b.c.d`; see [`listen_v6only`].
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{Family, TcpState};
/// if !halfopen_tests::require_root("doc_listen") {
///     return;
/// }
/// let ns = halfopen_tests::Netns::new("l").unwrap();
/// let l = halfopen_tests::listen(&ns, "[::]:22".parse().unwrap(), 1024).unwrap();
/// assert_eq!(l.local_addr().unwrap().port(), 22);
/// assert_eq!(ns.count(Family::V6, TcpState::Listen).unwrap(), 1);
/// ```
pub fn listen(ns: &Netns, addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    ns.run(|| listen_here(addr, backlog, false))
}

/// Like [`listen`], but an IPv6 listener takes IPv6 clients only
/// (`IPV6_V6ONLY`), so `0.0.0.0:port` and `[::]:port` can both listen.
///
/// # Examples
///
/// ```
/// if !halfopen_tests::require_root("doc_listen_v6only") {
///     return;
/// }
/// let ns = halfopen_tests::Netns::new("l").unwrap();
/// let _a = halfopen_tests::listen(&ns, "0.0.0.0:80".parse().unwrap(), 16).unwrap();
/// let _b = halfopen_tests::listen_v6only(&ns, "[::]:80".parse().unwrap(), 16).unwrap();
/// ```
pub fn listen_v6only(ns: &Netns, addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    ns.run(|| listen_here(addr, backlog, true))
}

fn listen_here(addr: SocketAddr, backlog: u32, v6only: bool) -> io::Result<TcpListener> {
    let domain = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket(2) call; the result is checked before use.
    let fd = unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    set_int_opt(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    if addr.is_ipv6() {
        set_int_opt(
            &fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            i32::from(v6only),
        )?;
    }
    let rc = match addr {
        SocketAddr::V4(a) => {
            let sa = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: the address is valid for the length given.
            unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of_val(&sa) as libc::socklen_t,
                )
            }
        }
        SocketAddr::V6(a) => {
            let sa = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: the address is valid for the length given.
            unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    (&sa as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of_val(&sa) as libc::socklen_t,
                )
            }
        }
    };
    if rc != 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(e.kind(), format!("bind {addr}: {e}")));
    }
    let backlog = libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX);
    // SAFETY: fd is an open, bound socket.
    if unsafe { libc::listen(fd.as_raw_fd(), backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(TcpListener::from(fd))
}

fn set_int_opt(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: i32) -> io::Result<()> {
    // SAFETY: the option value is a valid c_int for the length given.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `n` real connections from namespace `ns` to `server`, each ESTABLISHED
/// (the handshake completes in the kernel even before the server accepts,
/// as long as its accept queue has room). Fails on the first connection
/// that does not complete within 5 seconds.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{Family, TcpState};
/// if !halfopen_tests::require_root("doc_connect") {
///     return;
/// }
/// let ns = halfopen_tests::Netns::new("cc").unwrap();
/// let _l = halfopen_tests::listen(&ns, "127.0.0.1:80".parse().unwrap(), 64).unwrap();
/// let c = halfopen_tests::connect_clients(&ns, "127.0.0.1:80".parse().unwrap(), 3).unwrap();
/// assert_eq!(c.len(), 3);
/// // Both ends of each connection live in this namespace; the server's
/// // end is ESTABLISHED once the final ACK has been processed.
/// assert!(halfopen_tests::wait_until(std::time::Duration::from_secs(5), || {
///     ns.count(Family::V4, TcpState::Established).unwrap() == 6
/// }));
/// ```
pub fn connect_clients(ns: &Netns, server: SocketAddr, n: usize) -> io::Result<Vec<TcpStream>> {
    ns.run(|| {
        (0..n)
            .map(|_| {
                TcpStream::connect_timeout(&server, Duration::from_secs(5))
                    .map_err(|e| io::Error::new(e.kind(), format!("connect {server}: {e}")))
            })
            .collect()
    })
}

/// Accepts connections on a listener in a background thread and keeps them
/// open until dropped (or [`Acceptor::close_accepted`]).
///
/// # Examples
///
/// ```
/// if !halfopen_tests::require_root("doc_acceptor") {
///     return;
/// }
/// let ns = halfopen_tests::Netns::new("ac").unwrap();
/// let l = halfopen_tests::listen(&ns, "127.0.0.1:443".parse().unwrap(), 64).unwrap();
/// let acceptor = halfopen_tests::Acceptor::spawn(l).unwrap();
/// let _c = halfopen_tests::connect_clients(&ns, "127.0.0.1:443".parse().unwrap(), 4).unwrap();
/// assert!(halfopen_tests::wait_until(std::time::Duration::from_secs(5), || acceptor.count() == 4));
/// ```
#[derive(Debug)]
pub struct Acceptor {
    stop: Arc<AtomicBool>,
    accepted: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    /// Starts accepting on `listener` (switched to non-blocking mode).
    ///
    /// # Examples
    ///
    /// See [`Acceptor`].
    pub fn spawn(listener: TcpListener) -> io::Result<Acceptor> {
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, accepted) = (stop.clone(), accepted.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => accepted.lock().unwrap().push(stream),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(2))
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            eprintln!("acceptor: {e}");
                            std::thread::sleep(Duration::from_millis(10))
                        }
                    }
                }
            })
        };
        Ok(Acceptor {
            stop,
            accepted,
            thread: Some(thread),
        })
    }

    /// How many connections are open on the server side.
    ///
    /// # Examples
    ///
    /// See [`Acceptor`].
    pub fn count(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }

    /// Closes every accepted connection (the server side sends FIN; its
    /// sockets go through FIN_WAIT to TIME_WAIT).
    ///
    /// # Examples
    ///
    /// ```
    /// if !halfopen_tests::require_root("doc_close_accepted") {
    ///     return;
    /// }
    /// let ns = halfopen_tests::Netns::new("ac").unwrap();
    /// let l = halfopen_tests::listen(&ns, "127.0.0.1:22".parse().unwrap(), 64).unwrap();
    /// let acceptor = halfopen_tests::Acceptor::spawn(l).unwrap();
    /// let _c = halfopen_tests::connect_clients(&ns, "127.0.0.1:22".parse().unwrap(), 1).unwrap();
    /// halfopen_tests::wait_until(std::time::Duration::from_secs(5), || acceptor.count() == 1);
    /// acceptor.close_accepted();
    /// assert_eq!(acceptor.count(), 0);
    /// ```
    pub fn close_accepted(&self) {
        self.accepted.lock().unwrap().clear();
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The spoofed IPv4 source space of the lab: `198.18.0.0/16`.
pub const SPOOF_V4: &str = "198.18.0.0/16";
/// The spoofed IPv6 source space of the lab: `2001:db8::/33`.
pub const SPOOF_V6: &str = "2001:db8::/33";

/// `n` distinct spoofed `(address, port)` sources of `family`, numbered
/// from `start` (so separate calls with disjoint ranges never repeat).
/// IPv4 addresses cycle through `198.18.0.0/16` (index `i` gets
/// `198.18.(i>>8 & 255).(i & 255)`); IPv6 ones lie in `2001:db8::/33`
/// (`2001:db8:(i>>16 & 0x7fff)::(i & 0xffff)`). Ports are in 1024..65536.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::Family;
/// let v4: Vec<_> = halfopen_tests::spoofed_sources(Family::V4, 0, 3).collect();
/// assert_eq!(v4[1].0.to_string(), "198.18.0.1");
/// let v6: Vec<_> = halfopen_tests::spoofed_sources(Family::V6, 0x10005, 1).collect();
/// assert_eq!(v6[0].0.to_string(), "2001:db8:1::5");
/// ```
pub fn spoofed_sources(family: Family, start: u64, n: u64) -> impl Iterator<Item = (IpAddr, u16)> {
    (start..start.saturating_add(n)).map(move |i| match family {
        Family::V4 => {
            let a = (i % 65536) as u16;
            let round = i / 65536;
            let port = 1024 + ((u64::from(a) + round) % 64512) as u16;
            let [hi, lo] = a.to_be_bytes();
            (IpAddr::V4(Ipv4Addr::new(198, 18, hi, lo)), port)
        }
        Family::V6 => {
            let a = i % (1 << 31);
            let round = i >> 31;
            let port = 1024 + ((a + round) % 64512) as u16;
            let ip = Ipv6Addr::new(
                0x2001,
                0xdb8,
                (a >> 16) as u16,
                0,
                0,
                0,
                0,
                (a & 0xffff) as u16,
            );
            (IpAddr::V6(ip), port)
        }
    })
}
