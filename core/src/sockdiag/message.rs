//! The sock_diag wire format: the dump request and the decoder of the
//! answer, both pure functions over bytes.
//!
//! Layouts follow `include/uapi/linux/netlink.h` (`struct nlmsghdr`) and
//! `include/uapi/linux/inet_diag.h` (`struct inet_diag_req_v2`,
//! `struct inet_diag_msg`). Header and counter fields are in host byte
//! order; ports and addresses in network byte order.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::error::{DecodeError, MsgField};
use crate::procnet::{Family, TcpEntry, TcpState, TimerKind};

/// Bytes of `struct nlmsghdr`.
pub const NLMSG_HDR_LEN: usize = 16;
/// Bytes of `struct inet_diag_msg`, the fixed part of one socket record.
pub const INET_DIAG_MSG_LEN: usize = 72;
/// Bytes of `struct inet_diag_req_v2`.
pub const INET_DIAG_REQ_V2_LEN: usize = 56;
/// Bytes of a whole dump request: header and `inet_diag_req_v2`.
pub const REQUEST_LEN: usize = NLMSG_HDR_LEN + INET_DIAG_REQ_V2_LEN;
/// Bytes of `struct inet_diag_req`, the request of the older interface.
pub const INET_DIAG_REQ_LEN: usize = 60;
/// Bytes of a whole request of both families: header and `inet_diag_req`.
pub const REQUEST_BOTH_LEN: usize = NLMSG_HDR_LEN + INET_DIAG_REQ_LEN;

/// The clock ticks per second `/proc/net/tcp` counts timers in (`USER_HZ`,
/// 100 on every Linux architecture halfopen runs on). sock_diag reports
/// milliseconds; [`TcpEntry::timer_expires`] holds ticks either way.
pub const USER_HZ: u64 = 100;

const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const TCPDIAG_GETSOCK: u16 = 18;
const NLM_F_REQUEST: u16 = 0x01;
const NLM_F_DUMP: u16 = 0x100 | 0x200;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
const IPPROTO_TCP: u8 = 6;

/// A set of TCP states, the kernel-side filter of a dump.
///
/// Asking for [`TcpState::SynRecv`] also asks for the kernel's
/// [`TcpState::NewSynRecv`] request sockets, which sock_diag (like `/proc`)
/// reports as `SYN_RECV`.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::TcpState;
/// use halfopen::sockdiag::StateSet;
///
/// let set = StateSet::HALF_OPEN.with(TcpState::Listen);
/// assert!(set.contains(TcpState::SynRecv));
/// assert!(set.contains(TcpState::Listen));
/// assert!(!set.contains(TcpState::Established));
/// assert_eq!(set.kernel_mask(), (1 << 3) | (1 << 10) | (1 << 12));
/// assert!(StateSet::ALL.contains(TcpState::TimeWait));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateSet(u32);

impl StateSet {
    /// No state.
    pub const EMPTY: StateSet = StateSet(0);
    /// Every state.
    pub const ALL: StateSet = StateSet(0x3ffe);
    /// The half-open states: `SYN_RECV` (request sockets included).
    pub const HALF_OPEN: StateSet = StateSet((1 << 3) | (1 << 12));

    /// The set holding `states`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TcpState;
    /// use halfopen::sockdiag::StateSet;
    /// let set = StateSet::of(&[TcpState::Established, TcpState::TimeWait]);
    /// assert_eq!(set.iter().collect::<Vec<_>>(), [TcpState::Established, TcpState::TimeWait]);
    /// ```
    pub fn of(states: &[TcpState]) -> StateSet {
        states.iter().fold(StateSet::EMPTY, |set, s| set.with(*s))
    }

    /// This set and `state`.
    pub const fn with(self, state: TcpState) -> StateSet {
        StateSet(self.0 | (1 << state.code()))
    }

    /// True when `state` is in the set.
    pub const fn contains(self, state: TcpState) -> bool {
        self.0 & (1 << state.code()) != 0
    }

    /// The states in the set, in code order.
    pub fn iter(self) -> impl Iterator<Item = TcpState> {
        TcpState::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The set as a bit mask (bit n for state code n).
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The set from a bit mask; bits of codes no state has are dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::sockdiag::StateSet;
    /// assert_eq!(StateSet::from_bits(u32::MAX), StateSet::ALL);
    /// ```
    pub const fn from_bits(bits: u32) -> StateSet {
        StateSet(bits & StateSet::ALL.0)
    }

    /// The mask to send the kernel (`idiag_states`): the set, with
    /// `NEW_SYN_RECV` added when `SYN_RECV` is in it.
    pub const fn kernel_mask(self) -> u32 {
        if self.contains(TcpState::SynRecv) {
            self.0 | (1 << TcpState::NewSynRecv.code())
        } else {
            self.0
        }
    }

    /// True when an entry of state `state` passes this filter, the way the
    /// kernel filters a dump (so `/proc` rows can be filtered alike).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TcpState;
    /// use halfopen::sockdiag::StateSet;
    /// assert!(StateSet::HALF_OPEN.admits(TcpState::SynRecv));
    /// assert!(!StateSet::HALF_OPEN.admits(TcpState::Listen));
    /// ```
    pub const fn admits(self, state: TcpState) -> bool {
        self.kernel_mask() & (1 << state.code()) != 0
    }
}

impl Default for StateSet {
    fn default() -> Self {
        StateSet::ALL
    }
}

/// The dump request for every TCP socket of `family` whose state is in
/// `states`: an `nlmsghdr` (`SOCK_DIAG_BY_FAMILY`, `NLM_F_REQUEST |
/// NLM_F_DUMP`, sequence number `seq`) and an `inet_diag_req_v2` asking for
/// no extensions.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::Family;
/// use halfopen::sockdiag::{request, StateSet, REQUEST_LEN};
///
/// let req = request(Family::V6, StateSet::HALF_OPEN, 7);
/// assert_eq!(req.len(), REQUEST_LEN);
/// assert_eq!(u32::from_ne_bytes(req[0..4].try_into().unwrap()), 72);
/// assert_eq!(req[16], 10); // AF_INET6
/// assert_eq!(req[17], 6); // IPPROTO_TCP
/// ```
pub fn request(family: Family, states: StateSet, seq: u32) -> [u8; REQUEST_LEN] {
    let mut req = [0u8; REQUEST_LEN];
    req[0..4].copy_from_slice(&(REQUEST_LEN as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&seq.to_ne_bytes());
    // nlmsg_pid 0: the kernel.
    req[16] = match family {
        Family::V4 => AF_INET,
        Family::V6 => AF_INET6,
    };
    req[17] = IPPROTO_TCP;
    // idiag_ext 0, pad 0.
    req[20..24].copy_from_slice(&states.kernel_mask().to_ne_bytes());
    // inet_diag_sockid all zero: no address filter, no cookie.
    req
}

/// The dump request for every TCP socket of both families whose state is
/// in `states`, in one walk of the kernel's socket hash: the older
/// `TCPDIAG_GETSOCK` request (`struct inet_diag_req`), which the kernel
/// serves as an `inet_diag_req_v2` dump of family `AF_UNSPEC`. Its answer
/// holds the same `inet_diag_msg` records (message type `TCPDIAG_GETSOCK`).
///
/// Two [`request`]s (IPv4, then IPv6) walk the whole hash twice, each
/// skipping the other family's sockets; this one walks it once.
///
/// # Examples
///
/// ```
/// use halfopen::sockdiag::{request_both, StateSet, REQUEST_BOTH_LEN};
/// let req = request_both(StateSet::HALF_OPEN, 1);
/// assert_eq!(req.len(), REQUEST_BOTH_LEN);
/// assert_eq!(u16::from_ne_bytes([req[4], req[5]]), 18); // TCPDIAG_GETSOCK
/// assert_eq!(u32::from_ne_bytes(req[68..72].try_into().unwrap()), (1 << 3) | (1 << 12));
/// ```
pub fn request_both(states: StateSet, seq: u32) -> [u8; REQUEST_BOTH_LEN] {
    let mut req = [0u8; REQUEST_BOTH_LEN];
    req[0..4].copy_from_slice(&(REQUEST_BOTH_LEN as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&TCPDIAG_GETSOCK.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&seq.to_ne_bytes());
    // idiag_family (ignored: the kernel dumps AF_UNSPEC), src_len,
    // dst_len, idiag_ext 0, inet_diag_sockid zero.
    req[16] = AF_INET;
    let states_at = NLMSG_HDR_LEN + 4 + 48;
    req[states_at..states_at + 4].copy_from_slice(&states.kernel_mask().to_ne_bytes());
    // idiag_dbs 0.
    req
}

/// One message of a dump's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A socket, decoded like a `/proc` row; `slot` is 0 (readers number
    /// the records) and `trailing` is empty.
    Socket(TcpEntry<'static>),
    /// `NLMSG_DONE`: the dump is complete. Holds the kernel's status, 0 or
    /// a negative error number when the dump failed part way.
    Done(i32),
    /// `NLMSG_ERROR`: the kernel refused the request; holds the negative
    /// error number (0 would be an acknowledgement).
    Error(i32),
}

/// The messages of one received datagram, decoded in order.
///
/// After an error the iterator ends: lengths that follow a malformed
/// message cannot be trusted. `NLMSG_NOOP` messages are skipped.
///
/// # Examples
///
/// ```
/// use halfopen::sockdiag::{Messages, Record};
///
/// // An NLMSG_DONE message with status 0.
/// let mut done = [0u8; 20];
/// done[0] = 20; // nlmsg_len
/// done[4] = 3; // NLMSG_DONE
/// let records: Vec<_> = Messages::new(&done).collect::<Result<_, _>>().unwrap();
/// assert_eq!(records, [Record::Done(0)]);
/// ```
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Messages<'a> {
    /// The messages of `datagram`.
    pub fn new(datagram: &'a [u8]) -> Self {
        Messages {
            buf: datagram,
            pos: 0,
            failed: false,
        }
    }

    fn next_record(&mut self) -> Result<Option<Record>, DecodeError> {
        loop {
            let offset = self.pos;
            let rest = &self.buf[offset..];
            if rest.is_empty() {
                return Ok(None);
            }
            let header = take(rest, 0, NLMSG_HDR_LEN, offset, MsgField::NlmsgHdr)?;
            let len = u32::from_ne_bytes(array(&header[0..4]));
            let kind = u16::from_ne_bytes(array(&header[4..6]));
            if (len as usize) < NLMSG_HDR_LEN || len as usize > rest.len() {
                return Err(DecodeError::BadLength {
                    offset,
                    len,
                    available: rest.len(),
                });
            }
            let len = len as usize;
            let payload = &rest[NLMSG_HDR_LEN..len];
            let payload_offset = offset + NLMSG_HDR_LEN;
            // Messages are padded to 4 bytes; the last may end unpadded.
            self.pos = (offset + ((len + 3) & !3)).min(self.buf.len());
            return Ok(Some(match kind {
                SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK => {
                    Record::Socket(decode_socket(payload, payload_offset)?)
                }
                NLMSG_DONE => Record::Done(errno(payload, payload_offset)?),
                NLMSG_ERROR => Record::Error(errno(payload, payload_offset)?),
                NLMSG_NOOP => continue,
                NLMSG_OVERRUN => return Err(DecodeError::Overrun { offset }),
                other => {
                    return Err(DecodeError::UnexpectedType {
                        offset,
                        kind: other,
                    })
                }
            }));
        }
    }
}

impl Iterator for Messages<'_> {
    type Item = Result<Record, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_record() {
            Ok(record) => record.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Decodes one `inet_diag_msg` (the payload of a `SOCK_DIAG_BY_FAMILY`
/// message; attributes after the fixed part are ignored). `offset` is the
/// payload's position in the datagram, for errors.
///
/// The fields map to a `/proc` row as the kernel fills both
/// (`inet_sk_diag_fill`, `inet_req_diag_fill` and `inet_twsk_diag_fill` in
/// `net/ipv4/inet_diag.c`):
///
/// - `idiag_expires` is in milliseconds, converted to [`USER_HZ`] ticks;
/// - `idiag_retrans` is the retransmit count when the retransmit timer is
///   pending, and the unanswered probe count when the keepalive or
///   zero-window timer is: the latter goes to [`TcpEntry::timeout`], as
///   `/proc` shows it, and [`TcpEntry::retransmits`] is then 0. For request
///   sockets it counts SYN-ACKs resent (`num_retrans`), where `/proc` counts
///   timer expiries (`num_timeout`); the two differ only when a resend failed;
/// - `idiag_uid` is 0 for request sockets (the kernel does not report it),
///   where `/proc` shows the listener's owner;
/// - `idiag_wqueue` of a listener is its accept backlog limit, which `/proc`
///   does not print (its `tx_queue` is the unacknowledged byte count, 0 for
///   a listener): it is dropped, so both sources give the same entry.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{TcpState, TimerKind};
/// use halfopen::sockdiag::decode_socket;
///
/// let mut msg = [0u8; 72];
/// msg[0] = 2; // AF_INET
/// msg[1] = 3; // SYN_RECV
/// msg[2] = 1; // retransmit timer
/// msg[3] = 2; // two SYN-ACKs resent
/// msg[4..6].copy_from_slice(&80u16.to_be_bytes());
/// msg[6..8].copy_from_slice(&443u16.to_be_bytes());
/// msg[8..12].copy_from_slice(&[10, 0, 0, 1]);
/// msg[24..28].copy_from_slice(&[198, 18, 0, 9]);
/// msg[52..56].copy_from_slice(&2990u32.to_ne_bytes()); // ms
/// let e = decode_socket(&msg, 0).unwrap();
/// assert_eq!(e.local.to_string(), "10.0.0.1:80");
/// assert_eq!(e.remote.to_string(), "198.18.0.9:443");
/// assert_eq!(e.state, TcpState::SynRecv);
/// assert_eq!(e.timer, TimerKind::Retransmit);
/// assert_eq!(e.timer_expires, 299); // ticks of 10 ms
/// assert_eq!(e.retransmits, 2);
/// ```
pub fn decode_socket(payload: &[u8], offset: usize) -> Result<TcpEntry<'static>, DecodeError> {
    let m = take(payload, 0, INET_DIAG_MSG_LEN, offset, MsgField::InetDiagMsg)?;
    let (family, state, timer, retrans) = (m[0], m[1], m[2], m[3]);
    let state = TcpState::from_code(state).ok_or(DecodeError::UnknownState {
        offset: offset + 1,
        code: state,
    })?;
    let sport = u16::from_be_bytes([m[4], m[5]]);
    let dport = u16::from_be_bytes([m[6], m[7]]);
    let (local, remote): (IpAddr, IpAddr) = match family {
        AF_INET => (
            Ipv4Addr::from(array::<4>(&m[8..12])).into(),
            Ipv4Addr::from(array::<4>(&m[24..28])).into(),
        ),
        AF_INET6 => (
            Ipv6Addr::from(array::<16>(&m[8..24])).into(),
            Ipv6Addr::from(array::<16>(&m[24..40])).into(),
        ),
        other => {
            return Err(DecodeError::UnknownFamily {
                offset,
                family: other,
            })
        }
    };
    let word = |at: usize| u32::from_ne_bytes(array(&m[at..at + 4]));
    let timer = TimerKind::from_code(timer);
    let (retransmits, timeout) = match timer {
        TimerKind::Keepalive | TimerKind::ZeroWindowProbe => (0, i32::from(retrans)),
        _ => (u32::from(retrans), 0),
    };
    Ok(TcpEntry {
        slot: 0,
        local: SocketAddr::new(local, sport),
        remote: SocketAddr::new(remote, dport),
        state,
        tx_queue: if state == TcpState::Listen {
            0
        } else {
            word(60)
        },
        rx_queue: word(56),
        timer,
        timer_expires: ms_to_ticks(word(52)),
        retransmits,
        uid: word(64),
        timeout,
        inode: u64::from(word(68)),
        trailing: "",
    })
}

/// Milliseconds to [`USER_HZ`] clock ticks, rounded down like the kernel's
/// `jiffies_to_clock_t`.
///
/// # Examples
///
/// ```
/// use halfopen::sockdiag::ms_to_ticks;
/// assert_eq!(ms_to_ticks(1000), 100);
/// assert_eq!(ms_to_ticks(19), 1);
/// ```
pub const fn ms_to_ticks(ms: u32) -> u64 {
    ms as u64 * USER_HZ / 1000
}

/// The error number of an `NLMSG_ERROR` or `NLMSG_DONE` payload.
fn errno(payload: &[u8], offset: usize) -> Result<i32, DecodeError> {
    let bytes = take(payload, 0, 4, offset, MsgField::Errno)?;
    Ok(i32::from_ne_bytes(array(bytes)))
}

/// `bytes[at..at + need]`, or the error naming the field.
fn take(
    bytes: &[u8],
    at: usize,
    need: usize,
    offset: usize,
    field: MsgField,
) -> Result<&[u8], DecodeError> {
    bytes.get(at..at + need).ok_or(DecodeError::Truncated {
        offset: offset + at,
        field,
        need,
        have: bytes.len().saturating_sub(at),
    })
}

/// A fixed-size copy of a slice whose length the caller checked.
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Encodes `entry` as the kernel would (the inverse of
    /// [`decode_socket`] for the fields both carry).
    pub(crate) fn encode(entry: &TcpEntry<'_>, seq: u32) -> Vec<u8> {
        let mut m = vec![0u8; NLMSG_HDR_LEN + INET_DIAG_MSG_LEN];
        let total = m.len() as u32;
        m[0..4].copy_from_slice(&total.to_ne_bytes());
        m[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        m[8..12].copy_from_slice(&seq.to_ne_bytes());
        let p = &mut m[NLMSG_HDR_LEN..];
        p[1] = entry.state.code();
        p[2] = entry.timer.code();
        p[3] = match entry.timer {
            TimerKind::Keepalive | TimerKind::ZeroWindowProbe => entry.timeout as u8,
            _ => entry.retransmits as u8,
        };
        p[4..6].copy_from_slice(&entry.local.port().to_be_bytes());
        p[6..8].copy_from_slice(&entry.remote.port().to_be_bytes());
        match (entry.local.ip(), entry.remote.ip()) {
            (IpAddr::V4(l), IpAddr::V4(r)) => {
                p[0] = AF_INET;
                p[8..12].copy_from_slice(&l.octets());
                p[24..28].copy_from_slice(&r.octets());
            }
            (IpAddr::V6(l), IpAddr::V6(r)) => {
                p[0] = AF_INET6;
                p[8..24].copy_from_slice(&l.octets());
                p[24..40].copy_from_slice(&r.octets());
            }
            _ => panic!("mixed families"),
        }
        let ms = (entry.timer_expires * 1000 / USER_HZ) as u32;
        p[52..56].copy_from_slice(&ms.to_ne_bytes());
        p[56..60].copy_from_slice(&entry.rx_queue.to_ne_bytes());
        p[60..64].copy_from_slice(&entry.tx_queue.to_ne_bytes());
        p[64..68].copy_from_slice(&entry.uid.to_ne_bytes());
        p[68..72].copy_from_slice(&(entry.inode as u32).to_ne_bytes());
        m
    }

    fn done(status: i32) -> Vec<u8> {
        let mut m = vec![0u8; 20];
        m[0..4].copy_from_slice(&20u32.to_ne_bytes());
        m[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
        m[16..20].copy_from_slice(&status.to_ne_bytes());
        m
    }

    fn proc_entry(line: &str, family: Family) -> TcpEntry<'static> {
        crate::procnet::parse_line(line.as_bytes(), family)
            .unwrap()
            .detach()
    }

    #[test]
    fn decodes_what_proc_prints() {
        // Rows as the kernel prints them, one of each kind of socket.
        let rows = [
            ("   0: 0100000A:0050 090012C6:D431 03 00000000:00000000 01:00000064 00000002     0        0 0 0 0000000000000000", Family::V4),
            ("   1: 00000000:0016 00000000:0000 0A 00000000:00000003 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0", Family::V4),
            ("   2: 0100000A:0016 0200000A:C350 01 00000010:00000020 02:0000012C 00000000  1000        0 777 1 0000000000000000 20 4 30 10 -1", Family::V4),
            ("   3: 0100000A:0016 0200000A:C351 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000", Family::V4),
            ("   0: B80D0120000000000000000001000000:01BB B80D0120000000000000000009000000:0050 03 00000000:00000000 01:000000C8 00000001     0        0 0 0 0000000000000000", Family::V6),
        ];
        let mut datagram = Vec::new();
        let mut expected = Vec::new();
        for (line, family) in rows {
            let mut e = proc_entry(line, family);
            e.slot = 0;
            e.trailing = "";
            datagram.extend(encode(&e, 1));
            expected.push(Record::Socket(e));
        }
        datagram.extend(done(0));
        expected.push(Record::Done(0));
        let got: Vec<_> = Messages::new(&datagram).collect::<Result<_, _>>().unwrap();
        assert_eq!(got, expected);
        let Record::Socket(v6) = got[4] else { panic!() };
        assert_eq!(v6.remote.to_string(), "[2001:db8::9]:80");
    }

    #[test]
    fn probe_counts_go_to_timeout() {
        let mut e = proc_entry("   2: 0100000A:0016 0200000A:C350 01 00000010:00000020 04:0000012C 00000000  1000        3 777 1 0", Family::V4);
        e.slot = 0;
        e.trailing = "";
        let m = encode(&e, 1);
        let d = decode_socket(&m[16..], 16).unwrap();
        assert_eq!((d.retransmits, d.timeout), (0, 3));
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let e = proc_entry("   0: 0100000A:0050 090012C6:D431 03 00000000:00000000 01:00000064 00000002     0        0 0 0 0", Family::V4);
        let whole = encode(&e, 1);
        for cut in 0..whole.len() {
            let items: Vec<_> = Messages::new(&whole[..cut]).collect();
            if cut == 0 {
                assert!(items.is_empty());
                continue;
            }
            assert_eq!(items.len(), 1, "cut {cut}");
            let err = items[0].clone().unwrap_err();
            match err {
                DecodeError::Truncated {
                    offset: 0,
                    field: MsgField::NlmsgHdr,
                    need: 16,
                    have,
                } => assert_eq!(have, cut),
                DecodeError::BadLength {
                    offset: 0,
                    len: 88,
                    available,
                } => assert_eq!(available, cut),
                other => panic!("cut {cut}: {other}"),
            }
        }
        // A header claiming a short payload: the record is cut.
        let mut short = whole.clone();
        short[0..4].copy_from_slice(&40u32.to_ne_bytes());
        let err = Messages::new(&short).next().unwrap().unwrap_err();
        assert_eq!(
            err,
            DecodeError::Truncated {
                offset: 16,
                field: MsgField::InetDiagMsg,
                need: 72,
                have: 24
            }
        );
    }

    #[test]
    fn bad_fields_name_their_offset() {
        let e = proc_entry("   0: 0100000A:0050 090012C6:D431 03 00000000:00000000 01:00000064 00000002     0        0 0 0 0", Family::V4);
        let mut two = encode(&e, 1);
        let mut second = encode(&e, 1);
        second[17] = 0x42;
        two.extend(&second);
        let items: Vec<_> = Messages::new(&two).collect();
        assert!(items[0].is_ok());
        assert_eq!(
            items[1],
            Err(DecodeError::UnknownState {
                offset: 88 + 17,
                code: 0x42
            })
        );
        assert_eq!(items.len(), 2);

        let mut fam = encode(&e, 1);
        fam[16] = 7;
        assert_eq!(
            Messages::new(&fam).next(),
            Some(Err(DecodeError::UnknownFamily {
                offset: 16,
                family: 7
            }))
        );

        let mut kind = encode(&e, 1);
        kind[4..6].copy_from_slice(&99u16.to_ne_bytes());
        assert_eq!(
            Messages::new(&kind).next(),
            Some(Err(DecodeError::UnexpectedType {
                offset: 0,
                kind: 99
            }))
        );

        let mut len = encode(&e, 1);
        len[0..4].copy_from_slice(&8u32.to_ne_bytes());
        assert_eq!(
            Messages::new(&len).next(),
            Some(Err(DecodeError::BadLength {
                offset: 0,
                len: 8,
                available: 88
            }))
        );
    }

    #[test]
    fn errors_noops_and_padding() {
        let mut m = Vec::new();
        // NOOP with 4 payload bytes.
        let mut noop = vec![0u8; 20];
        noop[0..4].copy_from_slice(&20u32.to_ne_bytes());
        noop[4..6].copy_from_slice(&NLMSG_NOOP.to_ne_bytes());
        m.extend(&noop);
        // NLMSG_ERROR, unpadded length 17 + 3 bytes padding... then its errno.
        let mut err = vec![0u8; 36];
        err[0..4].copy_from_slice(&36u32.to_ne_bytes());
        err[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        err[16..20].copy_from_slice(&(-libc::ENOENT).to_ne_bytes());
        m.extend(&err);
        m.extend(done(-4));
        let got: Vec<_> = Messages::new(&m).collect::<Result<_, _>>().unwrap();
        assert_eq!(got, [Record::Error(-libc::ENOENT), Record::Done(-4)]);

        let mut short_done = done(0);
        short_done[0..4].copy_from_slice(&18u32.to_ne_bytes());
        assert_eq!(
            Messages::new(&short_done).next(),
            Some(Err(DecodeError::Truncated {
                offset: 16,
                field: MsgField::Errno,
                need: 4,
                have: 2
            }))
        );
    }

    #[test]
    fn both_families_answer_with_the_old_type() {
        let e = proc_entry("   0: 0100000A:0050 090012C6:D431 03 00000000:00000000 01:00000064 00000002     0        0 0 0 0", Family::V4);
        let mut m = encode(&e, 1);
        m[4..6].copy_from_slice(&TCPDIAG_GETSOCK.to_ne_bytes());
        let Some(Ok(Record::Socket(d))) = Messages::new(&m).next() else {
            panic!("not decoded")
        };
        assert_eq!((d.local, d.remote), (e.local, e.remote));
        let r = request_both(StateSet::ALL, 9);
        assert_eq!(
            u32::from_ne_bytes([r[0], r[1], r[2], r[3]]) as usize,
            REQUEST_BOTH_LEN
        );
        assert_eq!(u16::from_ne_bytes([r[6], r[7]]), 0x301);
        assert_eq!(u32::from_ne_bytes([r[8], r[9], r[10], r[11]]), 9);
        assert_eq!(
            u32::from_ne_bytes([r[68], r[69], r[70], r[71]]),
            StateSet::ALL.kernel_mask()
        );
    }

    #[test]
    fn request_layout() {
        let r = request(Family::V4, StateSet::HALF_OPEN, 0x01020304);
        assert_eq!(u16::from_ne_bytes([r[4], r[5]]), 20);
        assert_eq!(u16::from_ne_bytes([r[6], r[7]]), 0x301);
        assert_eq!(u32::from_ne_bytes([r[8], r[9], r[10], r[11]]), 0x01020304);
        assert_eq!(r[16], 2);
        assert_eq!(
            u32::from_ne_bytes([r[20], r[21], r[22], r[23]]),
            (1 << 3) | (1 << 12)
        );
        assert!(r[24..].iter().all(|b| *b == 0));
    }

    #[test]
    fn state_sets() {
        assert_eq!(StateSet::ALL.iter().count(), 13);
        assert_eq!(StateSet::default(), StateSet::ALL);
        assert!(StateSet::HALF_OPEN.admits(TcpState::NewSynRecv));
        assert!(!StateSet::of(&[TcpState::Listen]).admits(TcpState::NewSynRecv));
        assert_eq!(StateSet::from_bits(1), StateSet::EMPTY);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let mut n = 0;
            for item in Messages::new(&bytes) {
                n += 1;
                if let Err(e) = item {
                    proptest::prop_assert!(e.offset() <= bytes.len());
                }
            }
            proptest::prop_assert!(n <= bytes.len() / 16 + 1);
        }
    }
}
