//! Listener backlogs through netlink sock_diag.
//!
//! `/proc/net/tcp` prints a listener's accept queue length (`rx_queue`) but
//! not its backlog (its `tx_queue` is the unacknowledged byte count, 0 for
//! a listener). sock_diag does: `idiag_wqueue` of a listener is its backlog,
//! `min(listen() backlog, somaxconn)`. This module asks for listeners only,
//! so the dump is small however many half-open entries there are.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

use crate::procnet::{Family, NetNs, TcpState};
use crate::sockdiag::{decode_socket, SockDiag, StateSet, INET_DIAG_MSG_LEN, NLMSG_HDR_LEN};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// Where `idiag_wqueue` sits in an `inet_diag_msg`.
const WQUEUE_AT: usize = 60;

/// The backlog of every listener of namespace `ns`, by local address,
/// through netlink sock_diag (entered on a thread for [`NetNs::Pid`]).
/// A [`NetNs::Dir`] capture has none.
///
/// # Examples
///
/// ```
/// use halfopen::counters::listener_backlogs;
/// use halfopen::procnet::NetNs;
/// # if std::path::Path::new("/proc/net/tcp").exists() {
/// match listener_backlogs(&NetNs::Current) {
///     Ok(backlogs) => backlogs.values().for_each(|b| assert!(*b <= 1 << 31)),
///     Err(e) => println!("sock_diag unavailable: {e}"),
/// }
/// # }
/// ```
pub fn listener_backlogs(ns: &NetNs) -> io::Result<HashMap<SocketAddr, u32>> {
    let dump_both = || -> io::Result<HashMap<SocketAddr, u32>> {
        let mut out = HashMap::new();
        for family in Family::BOTH {
            dump(family, &mut out)?;
        }
        Ok(out)
    };
    match ns {
        NetNs::Current => dump_both(),
        NetNs::Pid(pid) => crate::netns::run_in(crate::netns::of_pid(*pid), dump_both)
            .map_err(|e| io::Error::new(e.io_error().kind(), e.to_string()))?,
        NetNs::Dir(_) => Ok(HashMap::new()),
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("sock_diag: {what}"))
}

fn dump(family: Family, out: &mut HashMap<SocketAddr, u32>) -> io::Result<()> {
    let mut walked = Ok(false);
    SockDiag::open()
        .and_then(|mut diag| {
            diag.dump_raw(family, StateSet::of(&[TcpState::Listen]), |datagram| {
                if walked.is_ok() {
                    walked = walk(datagram, out);
                }
            })
        })
        .map_err(io::Error::other)?;
    walked.map(|_| ())
}

/// Walks one datagram's messages into `out`; true at the end of the dump.
fn walk(datagram: &[u8], out: &mut HashMap<SocketAddr, u32>) -> io::Result<bool> {
    let mut pos = 0;
    while datagram.len() - pos >= NLMSG_HDR_LEN {
        let word = |at: usize| u32::from_ne_bytes(datagram[at..at + 4].try_into().unwrap());
        let len = word(pos) as usize;
        let kind = u16::from_ne_bytes([datagram[pos + 4], datagram[pos + 5]]);
        if len < NLMSG_HDR_LEN || len > datagram.len() - pos {
            return Err(bad("message length out of bounds"));
        }
        let payload = &datagram[pos + NLMSG_HDR_LEN..pos + len];
        match kind {
            SOCK_DIAG_BY_FAMILY => {
                if payload.len() < INET_DIAG_MSG_LEN {
                    return Err(bad("short inet_diag_msg"));
                }
                let entry =
                    decode_socket(payload, pos + NLMSG_HDR_LEN).map_err(|e| bad(&e.to_string()))?;
                let wq = &payload[WQUEUE_AT..WQUEUE_AT + 4];
                out.insert(entry.local, u32::from_ne_bytes(wq.try_into().unwrap()));
            }
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let errno = payload
                    .get(..4)
                    .map(|b| i32::from_ne_bytes(b.try_into().unwrap()))
                    .ok_or_else(|| bad("short error message"))?;
                return Err(io::Error::from_raw_os_error(errno.saturating_neg()));
            }
            _ => {}
        }
        pos += (len + 3) & !3;
        if pos >= datagram.len() {
            break;
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDR_LEN + payload.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(payload);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    #[test]
    fn walks_listeners_and_the_end() {
        let mut msg = [0u8; 72];
        msg[0] = 2; // AF_INET
        msg[1] = 10; // LISTEN
        msg[4..6].copy_from_slice(&80u16.to_be_bytes());
        msg[8..12].copy_from_slice(&[198, 19, 1, 1]);
        msg[60..64].copy_from_slice(&256u32.to_ne_bytes());
        let mut d = message(SOCK_DIAG_BY_FAMILY, &msg);
        let mut out = HashMap::new();
        assert!(!walk(&d, &mut out).unwrap());
        assert_eq!(out[&"198.19.1.1:80".parse().unwrap()], 256);
        d.extend(message(NLMSG_DONE, &0i32.to_ne_bytes()));
        assert!(walk(&d, &mut out).unwrap());
        let err = walk(&message(NLMSG_ERROR, &(-13i32).to_ne_bytes()), &mut out).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(13));
        assert!(walk(&d[..d.len() - 1], &mut out).is_err());
        assert!(walk(&message(SOCK_DIAG_BY_FAMILY, &msg[..40]), &mut out).is_err());
    }
}
