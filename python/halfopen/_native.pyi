"""Type stubs of the native module ``halfopen._native``."""

import os
from datetime import timedelta
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any, Final, Iterable, Iterator, Literal, Optional, Sequence, Union, final, overload

__all__ = [
    "AllowlistError",
    "Block",
    "BlockError",
    "BlockSet",
    "CounterError",
    "CounterSampler",
    "Error",
    "NetlinkError",
    "ParseError",
    "PrefixError",
    "SourceError",
    "SyncDiff",
    "TCP_STATES",
    "TcpEntry",
    "__version__",
    "monotonic_ms",
    "parse",
    "parse_file",
    "read_live",
]

__version__: Final[str]

_Network = Union[IPv4Network, IPv6Network]
_PrefixLike = Union[str, IPv4Network, IPv6Network, IPv4Address, IPv6Address]
_Seconds = Union[int, float, timedelta]

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

class BlockError(Error):
    """The block set refused a block: it is full, or the TTL is zero."""

class AllowlistError(BlockError):
    """A prefix that overlaps the allowlist cannot be blocked; ``.prefix`` and ``.allowed`` name both."""

    prefix: _Network
    allowed: _Network

class PrefixError(Error, ValueError):
    """Text that is neither an IP prefix (``198.18.0.0/15``) nor an address; ``.text`` holds it."""

    text: Optional[str]

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

def monotonic_ms() -> int:
    """The monotonic clock the block set runs on, in milliseconds
    (``time.monotonic_ns() // 10**6``).
    """

@final
class Block:
    """One blocked prefix, as of when it was read from the set.

    Instants (``expires``, ``first_seen``, ``last_seen``) are milliseconds of
    the monotonic clock the set runs on.
    """

    @property
    def prefix(self) -> _Network:
        """The blocked prefix (``IPv4Network`` or ``IPv6Network``)."""
    @property
    def expires(self) -> int:
        """When the block ends (monotonic milliseconds)."""
    @property
    def reason(self) -> str:
        """Why the prefix is blocked."""
    @property
    def first_seen(self) -> int:
        """When the prefix was first seen in this block (monotonic milliseconds)."""
    @property
    def last_seen(self) -> int:
        """When the prefix was last seen (monotonic milliseconds)."""
    @property
    def strikes(self) -> int:
        """Which offence this is (1 for the first; repeat offences last longer)."""
    def remaining(self, now: Optional[int] = None) -> float:
        """_Seconds left at ``now`` (default: the monotonic clock), never negative."""
    def to_dict(self) -> dict[str, Any]:
        """The block as a dict of plain values (the prefix as a string)."""
    def __eq__(self, value: object, /) -> bool: ...

@final
class SyncDiff:
    """What changed in a block set since the firewall was last told: prefixes
    to add, timeouts to refresh and prefixes to remove. Render it with
    :meth:`BlockSet.render`.
    """

    @property
    def now(self) -> int:
        """The instant the diff was taken (monotonic milliseconds)."""
    @property
    def add(self) -> list[tuple[_Network, float]]:
        """New prefixes, each with its timeout in seconds."""
    @property
    def refresh(self) -> list[tuple[_Network, float]]:
        """Prefixes whose block was extended, each with its new timeout in seconds."""
    @property
    def remove(self) -> list[tuple[_Network, str]]:
        """Prefixes to remove, each with why: ``"expired"``, ``"released"`` or
        ``"absorbed"`` (a wider block now covers it).
        """
    def is_empty(self) -> bool:
        """True when nothing changed."""
    def __len__(self) -> int: ...

@final
class BlockSet:
    """The prefixes currently blocked, each until its TTL runs out.

    Blocks are disjoint: adding a prefix inside a blocked one extends the
    covering block; adding one that covers blocks absorbs them. A prefix
    blocked again soon after its block ended gets a longer TTL (``ttl``
    times ``escalation`` per repeat, at most ``max_ttl``). Prefixes that
    overlap the ``allowlist`` are never blocked (``halfopen.AllowlistError``).

    Durations are seconds or ``datetime.timedelta``; instants (``now``) are
    monotonic milliseconds, the monotonic clock when omitted. ``len(set)`` is
    the number of blocks, iterating yields :class:`Block` objects (IPv4
    first, in address order), and ``x in set`` is true for a prefix or
    address inside a block.
    """

    def __new__(
        cls,
        *,
        ttl: Optional[_Seconds] = None,
        escalation: int = 2,
        max_ttl: Optional[_Seconds] = None,
        strike_memory: Optional[_Seconds] = None,
        capacity: int = 65536,
        allowlist: Optional[Iterable[_PrefixLike]] = None,
    ) -> "BlockSet": ...
    @property
    def ttl(self) -> float:
        """The TTL of a first offence, in seconds."""
    @property
    def allowlist(self) -> list[_Network]:
        """The allowlisted prefixes."""
    def add(
        self,
        prefix: _PrefixLike,
        reason: str = "",
        ttl: Optional[_Seconds] = None,
        *,
        now: Optional[int] = None,
    ) -> Block:
        """Blocks ``prefix`` for ``ttl`` (default: the set's; escalated for
        repeat offences) and returns the block now holding it. Raises
        ``halfopen.AllowlistError`` for a prefix that overlaps the allowlist
        and ``halfopen.BlockError`` when the set is full.
        """
    def expire(self, now: Optional[int] = None) -> list[Block]:
        """Ends the blocks whose time is up at ``now`` and returns them."""
    def release(self, prefix: _PrefixLike, *, now: Optional[int] = None) -> Optional[Block]:
        """Ends the block of exactly ``prefix`` now; returns it, or ``None``."""
    def release_all(self, *, now: Optional[int] = None) -> list[Block]:
        """Ends every block now and returns them."""
    def allow(self, prefix: _PrefixLike, *, now: Optional[int] = None) -> list[Block]:
        """Adds ``prefix`` to the allowlist and releases the blocks that overlap it."""
    def get(self, prefix: _PrefixLike) -> Optional[Block]:
        """The block of exactly ``prefix``, or ``None``."""
    def covering(self, prefix: _PrefixLike) -> Optional[Block]:
        """The block covering ``prefix`` (or address), or ``None``."""
    def blocks(self) -> list[Block]:
        """The blocks, IPv4 first, in address order."""
    def elements(self, now: Optional[int] = None) -> list[tuple[_Network, float]]:
        """The prefixes a firewall should hold at ``now``, each with its
        remaining timeout in seconds.
        """
    def diff(self, now: Optional[int] = None) -> SyncDiff:
        """The changes since the firewall was last told, as of ``now``;
        afterwards the set counts the firewall as up to date.
        """
    def mark_synced(self, now: Optional[int] = None) -> None:
        """Counts the firewall as holding exactly the set's elements at ``now``."""
    @overload
    def render(
        self,
        format: Literal["nft", "ipset"] = "nft",
        diff: Optional[SyncDiff] = None,
        *,
        now: Optional[int] = None,
    ) -> str:
        """Renders for a firewall: ``"nft"`` (an ``nft -f -`` batch),
        ``"ipset"`` (an ``ipset restore`` batch) or ``"firewalld"``
        (``firewall-cmd`` argument lists). Without ``diff``, the full state at
        ``now``; with one, the incremental batch for it.
        """
    @overload
    def render(
        self,
        format: Literal["firewalld"],
        diff: Optional[SyncDiff] = None,
        *,
        now: Optional[int] = None,
    ) -> list[list[str]]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Block]: ...
    def __contains__(self, key: object, /) -> bool: ...
