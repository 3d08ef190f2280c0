//! The netlink socket a dump runs over.
//!
//! This is one of the two places halfopen calls the operating system
//! directly (the other is entering a network namespace): the standard
//! library has no `AF_NETLINK` sockets. Each `unsafe` block is one libc call
//! on a descriptor this module owns and a buffer it borrows for the call.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::error::Error;
use super::message::{request, request_both, Messages, Record, StateSet};
use crate::procnet::{Family, TcpEntry};

/// Bytes of the receive buffer. The kernel fills dump datagrams up to the
/// reader's buffer size, capped at about 32 KiB.
const RECV_BUFFER: usize = 64 * 1024;

/// A `NETLINK_SOCK_DIAG` socket, bound to the network namespace of the
/// thread that opened it for its whole life.
///
/// # Examples
///
/// ```no_run
/// use halfopen::procnet::{Family, TcpState};
/// use halfopen::sockdiag::{SockDiag, StateSet};
///
/// let mut diag = SockDiag::open()?;
/// let mut half_open = 0;
/// diag.dump(Family::V4, StateSet::HALF_OPEN, |e| half_open += (e.state == TcpState::SynRecv) as u64)?;
/// println!("{half_open} half-open IPv4 connections");
/// # Ok::<(), halfopen::sockdiag::Error>(())
/// ```
#[derive(Debug)]
pub struct SockDiag {
    fd: OwnedFd,
    buf: Vec<u8>,
    seq: u32,
}

impl SockDiag {
    /// Opens a socket in the calling thread's network namespace.
    ///
    /// Fails with [`Error::Open`] where netlink or sock_diag is missing or
    /// forbidden ([`Error::is_unavailable`] is then true).
    pub fn open() -> Result<SockDiag, Error> {
        // SAFETY: socket(2) takes no pointers; the result is checked below.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if fd < 0 {
            return Err(Error::Open {
                source: io::Error::last_os_error(),
            });
        }
        // SAFETY: `fd` is a fresh descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(SockDiag {
            fd,
            buf: vec![0; RECV_BUFFER],
            seq: 0,
        })
    }

    /// Dumps every TCP socket of `family` whose state is in `states`
    /// (an `inet_diag_req_v2` request), calling `f` with each (numbered
    /// from 0 in [`TcpEntry::slot`]). Returns the number of sockets.
    ///
    /// The kernel filters by state, so sockets outside `states` cost
    /// nothing. Nothing is delivered before the kernel accepts the request:
    /// a refusal ([`Error::Kernel`]) comes before any entry.
    pub fn dump(
        &mut self,
        family: Family,
        states: StateSet,
        f: impl FnMut(TcpEntry<'static>),
    ) -> Result<u64, Error> {
        self.seq = self.seq.wrapping_add(1);
        let req = request(family, states, self.seq);
        self.dump_with(&req, Some(family), f)
    }

    /// Dumps every TCP socket of both families whose state is in `states`
    /// in one walk of the kernel's socket hash (see [`request_both`]),
    /// calling `f` with each; returns the number of sockets. About a
    /// quarter cheaper for the kernel than [`SockDiag::dump`] of each
    /// family when the table is large.
    ///
    /// A kernel without the older request answers [`Error::Kernel`]
    /// before any entry; dump each family then.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use halfopen::sockdiag::{SockDiag, StateSet};
    /// let n = SockDiag::open()?.dump_both(StateSet::HALF_OPEN, |_| {})?;
    /// println!("{n} half-open connections");
    /// # Ok::<(), halfopen::sockdiag::Error>(())
    /// ```
    pub fn dump_both(
        &mut self,
        states: StateSet,
        f: impl FnMut(TcpEntry<'static>),
    ) -> Result<u64, Error> {
        self.seq = self.seq.wrapping_add(1);
        let req = request_both(states, self.seq);
        self.dump_with(&req, None, f)
    }

    /// Sends `req` and decodes the answer; `family` is the family asked
    /// for, `None` for both.
    fn dump_with(
        &mut self,
        req: &[u8],
        family: Option<Family>,
        mut f: impl FnMut(TcpEntry<'static>),
    ) -> Result<u64, Error> {
        let mut count: u64 = 0;
        self.exchange(req, family, |datagram, index| {
            for record in Messages::new(datagram) {
                let record = record.map_err(|source| Error::Decode {
                    family,
                    datagram: index,
                    source,
                })?;
                match record {
                    Record::Socket(mut entry) => {
                        if family.is_some_and(|f| f != entry.family()) {
                            return Err(Error::WrongFamily {
                                family,
                                found: entry.family(),
                            });
                        }
                        entry.slot = count as u32;
                        count += 1;
                        f(entry);
                    }
                    Record::Done(status) | Record::Error(status) => return end(family, status),
                }
            }
            Ok(false)
        })?;
        Ok(count)
    }

    /// Runs the same dump as [`SockDiag::dump`] but hands over the kernel's
    /// datagrams undecoded (for captures, test corpora and benchmarks).
    /// Stops after the datagram that ends the dump; returns how many there
    /// were. A refusal or a malformed datagram is still an error.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use halfopen::procnet::Family;
    /// use halfopen::sockdiag::{Messages, SockDiag, StateSet};
    ///
    /// let mut raw = Vec::new();
    /// SockDiag::open()?.dump_raw(Family::V4, StateSet::ALL, |d| raw.push(d.to_vec()))?;
    /// let records: usize = raw.iter().map(|d| Messages::new(d).count()).sum();
    /// # Ok::<(), halfopen::sockdiag::Error>(())
    /// ```
    pub fn dump_raw(
        &mut self,
        family: Family,
        states: StateSet,
        mut f: impl FnMut(&[u8]),
    ) -> Result<u64, Error> {
        let mut datagrams = 0;
        self.seq = self.seq.wrapping_add(1);
        let req = request(family, states, self.seq);
        let family = Some(family);
        self.exchange(&req, family, |datagram, index| {
            datagrams += 1;
            f(datagram);
            for record in Messages::new(datagram) {
                match record.map_err(|source| Error::Decode {
                    family,
                    datagram: index,
                    source,
                })? {
                    Record::Socket(_) => {}
                    Record::Done(status) | Record::Error(status) => return end(family, status),
                }
            }
            Ok(false)
        })?;
        Ok(datagrams)
    }

    /// Sends the dump request `req` and hands each datagram of the answer
    /// to `each` (with its index) until `each` says the dump ended.
    fn exchange(
        &mut self,
        req: &[u8],
        family: Option<Family>,
        mut each: impl FnMut(&[u8], u64) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        self.send(req).map_err(|source| Error::Io {
            family,
            op: "send",
            source,
        })?;
        let seq = u32::from_ne_bytes([req[8], req[9], req[10], req[11]]);
        let mut index: u64 = 0;
        loop {
            let (len, sender) = self.recv().map_err(|source| Error::Io {
                family,
                op: "recv",
                source,
            })?;
            // Only the kernel's answer to this request counts: another
            // process may send to this socket's port, and an abandoned
            // earlier dump may have left datagrams queued.
            let datagram_seq = self
                .buf
                .get(8..12)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
            if sender != 0 || datagram_seq.is_some_and(|s| s != seq) {
                continue;
            }
            if len > self.buf.len() {
                return Err(Error::DatagramTooLong {
                    family,
                    datagram: index,
                    len,
                    max: self.buf.len(),
                });
            }
            let buf = std::mem::take(&mut self.buf);
            let ended = each(&buf[..len], index);
            self.buf = buf;
            if ended? {
                return Ok(());
            }
            index += 1;
        }
    }

    fn send(&self, bytes: &[u8]) -> io::Result<()> {
        loop {
            // SAFETY: the pointer and length describe `bytes`, borrowed for
            // the call; an unconnected netlink socket sends to the kernel.
            let n =
                unsafe { libc::send(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
            if n >= 0 {
                return if n as usize == bytes.len() {
                    Ok(())
                } else {
                    Err(io::Error::new(io::ErrorKind::WriteZero, "short send"))
                };
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// Receives one datagram into the buffer and returns its full length,
    /// which exceeds the buffer when the datagram was cut (`MSG_TRUNC`),
    /// and the sender's port id (0: the kernel).
    fn recv(&mut self) -> io::Result<(usize, u32)> {
        loop {
            // SAFETY: a plain C struct, valid when zeroed.
            let mut from: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
            let mut from_len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
            // SAFETY: the pointers and lengths describe `self.buf` and
            // `from`, borrowed mutably for the call; the kernel writes at
            // most that many bytes to each.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    libc::MSG_TRUNC,
                    (&mut from as *mut libc::sockaddr_nl).cast(),
                    &mut from_len,
                )
            };
            if n >= 0 {
                return Ok((n as usize, from.nl_pid));
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

/// The end of a dump with the kernel's `status` (0 or a negative error
/// number).
fn end(family: Option<Family>, status: i32) -> Result<bool, Error> {
    if status == 0 {
        Ok(true)
    } else {
        Err(Error::Kernel {
            family,
            errno: status.saturating_neg(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procnet::TcpState;
    use std::net::TcpListener;

    #[test]
    fn ignores_datagrams_from_other_processes() {
        let Ok(mut diag) = SockDiag::open() else {
            eprintln!("skipped: sock_diag unavailable here");
            return;
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // Learn our port id, then have another socket send us a forged
        // answer (a lone NLMSG_DONE with the sequence number we will use)
        // before the real one arrives.
        diag.dump(Family::V4, StateSet::EMPTY, |_| {}).unwrap();
        // SAFETY: as in `SockDiag::recv`: a zeroed C struct and its size.
        let mut me: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        let rc = unsafe {
            libc::getsockname(
                diag.fd.as_raw_fd(),
                (&mut me as *mut libc::sockaddr_nl).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        let forger = SockDiag::open().unwrap();
        let mut done = [0u8; 20];
        done[0] = 20;
        done[4] = 3;
        done[8..12].copy_from_slice(&(diag.seq + 1).to_ne_bytes());
        // SAFETY: `done` and `me` are borrowed for the call.
        let sent = unsafe {
            libc::sendto(
                forger.fd.as_raw_fd(),
                done.as_ptr().cast(),
                done.len(),
                0,
                (&me as *const libc::sockaddr_nl).cast(),
                len,
            )
        };
        if sent < 0 {
            eprintln!(
                "skipped: cannot send between netlink sockets: {}",
                io::Error::last_os_error()
            );
            return;
        }
        let mut found = false;
        diag.dump(Family::V4, StateSet::of(&[TcpState::Listen]), |e| {
            found |= e.local == listener.local_addr().unwrap()
        })
        .unwrap();
        assert!(found, "the forged end of dump was taken for the kernel's");
    }

    #[test]
    fn sees_its_own_listener() {
        let diag = SockDiag::open();
        let mut diag = match diag {
            Ok(d) => d,
            Err(e) if e.is_unavailable() => {
                eprintln!("skipped: sock_diag unavailable here: {e}");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut found = Vec::new();
        let n = diag
            .dump(Family::V4, StateSet::of(&[TcpState::Listen]), |e| {
                assert_eq!(e.state, TcpState::Listen);
                if e.local == addr {
                    found.push(e);
                }
            })
            .unwrap();
        assert!(n >= 1);
        assert_eq!(found.len(), 1);
        // The inode is the one /proc/self/fd names for the listener.
        let link = std::fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&listener)
        ))
        .unwrap();
        assert_eq!(
            link.to_string_lossy(),
            format!("socket:[{}]", found[0].inode)
        );
        // The same socket under /proc, with the same fields.
        let mut proc_row = None;
        crate::procnet::read_live(&crate::procnet::NetNs::Current, |e| {
            if e.local == addr && e.state == TcpState::Listen {
                proc_row = Some(e.detach());
            }
        })
        .unwrap();
        let mut proc_row = proc_row.unwrap();
        proc_row.slot = found[0].slot;
        assert_eq!(proc_row, found[0]);

        // The raw datagrams decode to the same sockets.
        let mut raw = Vec::new();
        let datagrams = diag
            .dump_raw(Family::V4, StateSet::of(&[TcpState::Listen]), |d| {
                raw.push(d.to_vec())
            })
            .unwrap();
        assert_eq!(datagrams as usize, raw.len());
        let decoded: Vec<_> = raw
            .iter()
            .flat_map(|d| Messages::new(d))
            .filter_map(|r| match r.unwrap() {
                Record::Socket(e) => Some(e),
                _ => None,
            })
            .collect();
        assert!(decoded
            .iter()
            .any(|e| e.local == addr && e.inode == found[0].inode));
    }
}
