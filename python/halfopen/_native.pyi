"""Type stubs of the native module ``halfopen._native``."""

import os
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Final, Literal, Optional, Sequence, Union, final

__all__ = [
    "CounterError",
    "CounterSampler",
    "Error",
    "NetlinkError",
    "ParseError",
    "SourceError",
    "TCP_STATES",
    "TcpEntry",
    "__version__",
    "parse",
    "parse_file",
    "read_live",
]

__version__: Final[str]

TCP_STATES: Final[list[str]]
"""The names of every TCP state, in code order (``TCP_STATES[code - 1]``)."""

class Error(Exception):
    """The base of every error halfopen raises (operating-system errors aside, which are OSError)."""

class CounterError(Error):
    """The kernel's counters could not be sampled: a setting that is not a number, or a sample older than the previous one."""

class NetlinkError(Error):
    """The kernel's sock_diag answer could not be decoded (a kernel this version does not understand)."""

class SourceError(Error, ValueError):
    """A live source asked of something it cannot read, for example netlink
    asked to read a directory of captured tables.
    """

class ParseError(Error, ValueError):
    """A TCP table row that does not follow the kernel's format.

    ``line`` is the 1-based line number (the header counts), ``field`` the
    column's name as the table's header spells it (``None`` when the error is
    about the whole row) and ``path`` the file, when there was one.
    """

    line: Optional[int]
    field: Optional[str]
    path: Optional[str]

@final
class TcpEntry:
    """One row of a kernel TCP table (``/proc/net/tcp`` or ``/proc/net/tcp6``).

    Entries are immutable, compare equal field by field and can be hashed.
    Addresses are ``ipaddress.IPv4Address`` or ``ipaddress.IPv6Address``.
    """

    @property
    def slot(self) -> int:
        """The row's slot number (``sl``)."""
    @property
    def local_address(self) -> Union[IPv4Address, IPv6Address]:
        """The local address."""
    @property
    def local_port(self) -> int:
        """The local port."""
    @property
    def remote_address(self) -> Union[IPv4Address, IPv6Address]:
        """The remote address."""
    @property
    def remote_port(self) -> int:
        """The remote port."""
    @property
    def state(self) -> str:
        """The state's name as the kernel spells it, e.g. ``"SYN_RECV"``."""
    @property
    def state_code(self) -> int:
        """The state's numeric code (``st``), e.g. ``3`` for ``SYN_RECV``."""
    @property
    def tx_queue(self) -> int:
        """Bytes in the send queue."""
    @property
    def rx_queue(self) -> int:
        """Bytes in the receive queue (for a listener: the accept queue's length)."""
    @property
    def timer(self) -> int:
        """The pending timer's code (``tr``)."""
    @property
    def timer_expires(self) -> int:
        """Clock ticks until the timer fires (``tm->when``)."""
    @property
    def retransmits(self) -> int:
        """Retransmissions so far (for a half-open entry: SYN-ACKs resent)."""
    @property
    def uid(self) -> int:
        """The owning user id."""
    @property
    def timeout(self) -> int:
        """Unanswered probes (``timeout``)."""
    @property
    def inode(self) -> int:
        """The socket's inode; 0 for a connection request that has no socket yet."""
    @property
    def family(self) -> Literal[4, 6]:
        """The IP version of the table the row came from: 4 or 6."""
    @property
    def is_half_open(self) -> bool:
        """True for a half-open connection (``SYN_RECV`` or ``NEW_SYN_RECV``)."""
    @property
    def is_request(self) -> bool:
        """True for a connection request: half-open and without a socket yet."""
    def to_line(self) -> str:
        """The row in the kernel's own format, without the newline."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

def parse(data: bytes, family: Optional[Literal[4, 6]] = None) -> list[TcpEntry]:
    """Parses a TCP table held in memory.

    ``data`` is the content of ``/proc/net/tcp`` or ``/proc/net/tcp6`` (the
    header line is optional). ``family`` is ``4``, ``6`` or ``None`` to detect
    it from the first row. Raises ``halfopen.ParseError`` (with ``.line`` and
    ``.field``) at the first malformed row. The GIL is released while parsing.
    """

def parse_file(
    path: Union[str, "os.PathLike[str]"], family: Optional[Literal[4, 6]] = None
) -> list[TcpEntry]:
    """Reads and parses a TCP table file.

    Raises ``OSError`` (``FileNotFoundError``, ``PermissionError``, ...) when
    the file cannot be read and ``halfopen.ParseError`` at the first malformed
    row. The GIL is released while reading and parsing.
    """

def read_live(
    pid: Optional[int] = None,
    *,
    netns: Union[str, "os.PathLike[str]", None] = None,
    source: Literal["auto", "netlink", "proc"] = "auto",
    states: Optional[Sequence[str]] = None,
) -> list[TcpEntry]:
    """Reads the live TCP sockets (IPv4 and IPv6) of a network namespace.

    Without ``pid`` or ``netns`` it reads this process's namespace; with
    ``pid``, that process's; with ``netns``, the namespace of that name (as
    ``ip netns add`` made it) or namespace file (entering another namespace
    needs root), or a directory holding captured ``tcp`` and ``tcp6`` tables
    (read as ``/proc/net`` would be). ``source`` is ``"netlink"`` (sock_diag), ``"proc"``
    (``/proc/net/tcp{,6}``) or ``"auto"``: netlink, falling back to ``/proc``
    where netlink is unavailable. ``states`` keeps only the named states
    (e.g. ``["SYN_RECV"]``). The GIL is released while reading.
    """

@final
class CounterSampler:
    """Samples the kernel's counters (``/proc/net/netstat``, ``snmp``,
    ``snmp6``, ``dev``) of a network namespace and turns them into rates.

    ``pid`` picks the namespace of that process (default: this one's);
    ``net_dir`` reads a directory of captured files instead (as
    ``/proc/net`` would be). ``history`` is how many samples are kept for
    the baselines spike alerts compare against. Reading releases the GIL.
    """

    def __new__(
        cls,
        pid: Optional[int] = None,
        *,
        net_dir: Union[str, "os.PathLike[str]", None] = None,
        history: int = 60,
    ) -> "CounterSampler": ...
    def sample(self) -> Optional[dict[str, float]]:
        """Reads one sample; returns the rates per second since the previous
        sample (``{"TcpExt.SyncookiesSent": 12.5, ...}``), or ``None`` for the
        first sample.
        """
    @property
    def samples(self) -> int:
        """How many samples are kept."""
    def report(self) -> dict[str, Any]:
        """The counter report as a dict: the latest sample, its rates, the
        alerts (spikes, full queues), the settings (SYN cookies, backlogs) with
        notes, every listener's queue, and why the half-open table may
        undercount a flood.
        """
    def report_json(self) -> str:
        """The counter report as JSON text, as core writes it."""
