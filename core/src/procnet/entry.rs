//! One row of a kernel TCP table, decoded.
//!
//! The field meanings follow the kernel's printers: `get_tcp4_sock`,
//! `get_openreq4` and `get_timewait4_sock` in `net/ipv4/tcp_ipv4.c`, and their
//! `tcp6` twins in `net/ipv6/tcp_ipv6.c`.

use std::fmt;
use std::net::SocketAddr;

/// A TCP state as the kernel numbers it (`include/net/tcp_states.h`).
///
/// `/proc/net/tcp` prints the code as two hex digits in the `st` column.
/// Request sockets (half-open connections) are printed as [`TcpState::SynRecv`]
/// even though the kernel keeps them as `TCP_NEW_SYN_RECV`; the netlink
/// sock_diag interface reports them the same way.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::TcpState;
///
/// assert_eq!(TcpState::from_code(0x03), Some(TcpState::SynRecv));
/// assert_eq!(TcpState::SynRecv.name(), "SYN_RECV");
/// assert_eq!(TcpState::from_code(0x42), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TcpState {
    /// `TCP_ESTABLISHED` (0x01): the handshake completed.
    Established = 1,
    /// `TCP_SYN_SENT` (0x02): we sent a SYN and wait for the SYN-ACK.
    SynSent = 2,
    /// `TCP_SYN_RECV` (0x03): a SYN arrived, we answered SYN-ACK, the final ACK
    /// has not come. The state a SYN flood fills the table with.
    SynRecv = 3,
    /// `TCP_FIN_WAIT1` (0x04).
    FinWait1 = 4,
    /// `TCP_FIN_WAIT2` (0x05).
    FinWait2 = 5,
    /// `TCP_TIME_WAIT` (0x06).
    TimeWait = 6,
    /// `TCP_CLOSE` (0x07).
    Close = 7,
    /// `TCP_CLOSE_WAIT` (0x08).
    CloseWait = 8,
    /// `TCP_LAST_ACK` (0x09).
    LastAck = 9,
    /// `TCP_LISTEN` (0x0A).
    Listen = 10,
    /// `TCP_CLOSING` (0x0B).
    Closing = 11,
    /// `TCP_NEW_SYN_RECV` (0x0C): the kernel's internal state of a request
    /// socket. `/proc` prints such sockets as `SYN_RECV`; it can appear in
    /// other sources.
    NewSynRecv = 12,
    /// `TCP_BOUND_INACTIVE` (0x0D, Linux 6.7+): bound, not listening, not
    /// connected.
    BoundInactive = 13,
}

impl TcpState {
    /// Every state, in code order.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TcpState;
    /// assert_eq!(TcpState::ALL.len(), 13);
    /// assert!(TcpState::ALL.iter().all(|s| TcpState::from_code(s.code()) == Some(*s)));
    /// ```
    pub const ALL: [TcpState; 13] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
        TcpState::NewSynRecv,
        TcpState::BoundInactive,
    ];

    /// The state for a kernel state code, or `None` for a code the kernel
    /// does not define.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TcpState;
    /// assert_eq!(TcpState::from_code(0x0A), Some(TcpState::Listen));
    /// assert_eq!(TcpState::from_code(0), None);
    /// ```
    pub const fn from_code(code: u8) -> Option<TcpState> {
        Some(match code {
            1 => TcpState::Established,
            2 => TcpState::SynSent,
            3 => TcpState::SynRecv,
            4 => TcpState::FinWait1,
            5 => TcpState::FinWait2,
            6 => TcpState::TimeWait,
            7 => TcpState::Close,
            8 => TcpState::CloseWait,
            9 => TcpState::LastAck,
            10 => TcpState::Listen,
            11 => TcpState::Closing,
            12 => TcpState::NewSynRecv,
            13 => TcpState::BoundInactive,
            _ => return None,
        })
    }

    /// The kernel's code for this state.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TcpState;
    /// assert_eq!(TcpState::SynRecv.code(), 3);
    /// ```
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The conventional upper-case name (`"SYN_RECV"`), as `ss` and
    /// `netstat` print it and as reports spell it.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TcpState;
    /// assert_eq!(TcpState::TimeWait.name(), "TIME_WAIT");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
            TcpState::NewSynRecv => "NEW_SYN_RECV",
            TcpState::BoundInactive => "BOUND_INACTIVE",
        }
    }

    /// The state named `name` (as [`TcpState::name`] spells it).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TcpState;
    /// assert_eq!(TcpState::from_name("SYN_RECV"), Some(TcpState::SynRecv));
    /// assert_eq!(TcpState::from_name("syn_recv"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<TcpState> {
        TcpState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// True for the half-open states: a SYN was answered and the handshake
    /// has not completed (`SYN_RECV`, `NEW_SYN_RECV`).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TcpState;
    /// assert!(TcpState::SynRecv.is_half_open());
    /// assert!(!TcpState::Established.is_half_open());
    /// ```
    pub const fn is_half_open(self) -> bool {
        matches!(self, TcpState::SynRecv | TcpState::NewSynRecv)
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The timer column (`tr`): which timer of the socket is pending.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::TimerKind;
/// assert_eq!(TimerKind::from_code(1), TimerKind::Retransmit);
/// assert_eq!(TimerKind::from_code(9), TimerKind::Other(9));
/// assert_eq!(TimerKind::Other(9).code(), 9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// 0: no timer pending.
    None,
    /// 1: retransmit timer (also loss probe and reordering timers). Request
    /// sockets always print 1: their SYN-ACK retransmit timer.
    Retransmit,
    /// 2: keepalive timer (`sk_timer`).
    Keepalive,
    /// 3: TIME_WAIT timer.
    TimeWait,
    /// 4: zero-window probe timer.
    ZeroWindowProbe,
    /// A code this version does not know; kept as printed.
    Other(u8),
}

impl TimerKind {
    /// The timer for a `tr` code.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TimerKind;
    /// assert_eq!(TimerKind::from_code(3), TimerKind::TimeWait);
    /// ```
    pub const fn from_code(code: u8) -> TimerKind {
        match code {
            0 => TimerKind::None,
            1 => TimerKind::Retransmit,
            2 => TimerKind::Keepalive,
            3 => TimerKind::TimeWait,
            4 => TimerKind::ZeroWindowProbe,
            other => TimerKind::Other(other),
        }
    }

    /// The `tr` code of this timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::TimerKind;
    /// assert_eq!(TimerKind::Keepalive.code(), 2);
    /// ```
    pub const fn code(self) -> u8 {
        match self {
            TimerKind::None => 0,
            TimerKind::Retransmit => 1,
            TimerKind::Keepalive => 2,
            TimerKind::TimeWait => 3,
            TimerKind::ZeroWindowProbe => 4,
            TimerKind::Other(code) => code,
        }
    }
}

/// Which address family a table holds: `/proc/net/tcp` is IPv4,
/// `/proc/net/tcp6` is IPv6 (IPv4-mapped addresses included).
///
/// # Examples
///
/// ```
/// use halfopen::procnet::Family;
/// assert_eq!(Family::V6.file_name(), "tcp6");
/// assert_eq!(Family::V4.address_hex_digits(), 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4, `/proc/net/tcp`.
    V4,
    /// IPv6, `/proc/net/tcp6`.
    V6,
}

impl Family {
    /// Both families, IPv4 first.
    pub const BOTH: [Family; 2] = [Family::V4, Family::V6];

    /// The file name under `/proc/net`: `"tcp"` or `"tcp6"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::Family;
    /// assert_eq!(Family::V4.file_name(), "tcp");
    /// ```
    pub const fn file_name(self) -> &'static str {
        match self {
            Family::V4 => "tcp",
            Family::V6 => "tcp6",
        }
    }

    /// How many hex digits an address of this family has in the table.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::Family;
    /// assert_eq!(Family::V6.address_hex_digits(), 32);
    /// ```
    pub const fn address_hex_digits(self) -> usize {
        match self {
            Family::V4 => 8,
            Family::V6 => 32,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
}

/// One socket of a TCP table, every column decoded.
///
/// Addresses are decoded as the kernel prints them: each 32-bit word in the
/// byte order of the host that wrote the table (the examples assume a
/// little-endian host, as x86 and most ARM are).
///
/// The fixed columns are decoded; the kernel's trailing columns (reference
/// count, socket pointer, RTO, ATO, quick-ack flags, congestion window,
/// slow-start threshold), which differ between full, request and TIME_WAIT
/// sockets, are kept as text in [`TcpEntry::trailing`], borrowed from the
/// input.
///
/// # Examples
///
/// ```
/// use halfopen::procnet::{parse_line, Family, TcpState, TimerKind};
///
/// let line = b"   7: 0100007F:0050 0212C6C6:01BB 03 00000000:00000000 01:00000064 00000002     0        0 0 0 0000000000000000\n";
/// let entry = parse_line(line, Family::V4).unwrap();
/// assert_eq!(entry.local.to_string(), "127.0.0.1:80");
/// assert_eq!(entry.remote.to_string(), "198.198.18.2:443");
/// assert_eq!(entry.state, TcpState::SynRecv);
/// assert_eq!(entry.timer, TimerKind::Retransmit);
/// assert_eq!(entry.retransmits, 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpEntry<'a> {
    /// `sl`: the row's position in the kernel's walk (decimal). Not stable
    /// between reads.
    pub slot: u32,
    /// `local_address`: our address and port.
    pub local: SocketAddr,
    /// `rem_address`: the peer's address and port (the claimed source of a SYN).
    pub remote: SocketAddr,
    /// `st`: the TCP state.
    pub state: TcpState,
    /// `tx_queue`: bytes sent and not yet acknowledged (`write_seq -
    /// snd_una`); 0 for listeners, request and TIME_WAIT sockets. A
    /// listener's backlog limit is not in `/proc`; sock_diag reports it.
    pub tx_queue: u32,
    /// `rx_queue`: bytes received and not yet read; for a listener, the
    /// current accept queue length (`sk_ack_backlog`).
    pub rx_queue: u32,
    /// `tr`: which timer is pending.
    pub timer: TimerKind,
    /// `tm->when`: clock ticks (USER_HZ, normally 100 per second) until the
    /// timer fires; 0 when none is pending.
    pub timer_expires: u64,
    /// `retrnsmt`: unrecovered retransmits; for a request socket, how many
    /// times its SYN-ACK was sent again (`num_timeout`).
    pub retransmits: u32,
    /// `uid`: owner's user id (of the listener, for a request socket).
    pub uid: u32,
    /// `timeout`: zero-window or keepalive probes sent unanswered
    /// (`icsk_probes_out`); 0 for request and TIME_WAIT sockets.
    pub timeout: i32,
    /// `inode`: the socket inode; 0 for request and TIME_WAIT sockets.
    pub inode: u64,
    /// The trailing columns after `inode`, separated by single spaces, with
    /// the kernel's padding removed; empty when absent.
    pub trailing: &'a str,
}

impl<'a> TcpEntry<'a> {
    /// The address family of this entry.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{parse_line, Family};
    /// let e = parse_line(b"0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n", Family::V4).unwrap();
    /// assert_eq!(e.family(), Family::V4);
    /// ```
    pub fn family(&self) -> Family {
        if self.local.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }

    /// True when the row is a request socket (a half-open connection the
    /// kernel keeps as a small `request_sock`: state SYN_RECV, no inode).
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{parse_line, Family};
    /// let e = parse_line(b"0: 0100007F:0050 0212C6C6:01BB 03 00000000:00000000 01:00000064 00000000 0 0 0 0 0000000000000000\n", Family::V4).unwrap();
    /// assert!(e.is_request());
    /// ```
    pub fn is_request(&self) -> bool {
        self.state.is_half_open() && self.inode == 0
    }

    /// The trailing columns, one by one.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{parse_line, Family};
    /// let e = parse_line(b"0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 99 1 0000000000000000 100 0 0 10 0\n", Family::V4).unwrap();
    /// assert_eq!(e.trailing_fields().collect::<Vec<_>>(), ["1", "0000000000000000", "100", "0", "0", "10", "0"]);
    /// ```
    pub fn trailing_fields(&self) -> impl Iterator<Item = &'a str> {
        self.trailing.split_ascii_whitespace()
    }

    /// This entry without its borrowed trailing columns, to keep beyond the
    /// input buffer's life.
    ///
    /// # Examples
    ///
    /// ```
    /// use halfopen::procnet::{parse_line, Family, TcpEntry};
    /// let kept: TcpEntry<'static> = {
    ///     let text = b"0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 99 1 0\n".to_vec();
    ///     parse_line(&text, Family::V4).unwrap().detach()
    /// };
    /// assert_eq!(kept.inode, 99);
    /// assert_eq!(kept.trailing, "");
    /// ```
    pub fn detach(&self) -> TcpEntry<'static> {
        TcpEntry {
            slot: self.slot,
            local: self.local,
            remote: self.remote,
            state: self.state,
            tx_queue: self.tx_queue,
            rx_queue: self.rx_queue,
            timer: self.timer,
            timer_expires: self.timer_expires,
            retransmits: self.retransmits,
            uid: self.uid,
            timeout: self.timeout,
            inode: self.inode,
            trailing: "",
        }
    }
}
