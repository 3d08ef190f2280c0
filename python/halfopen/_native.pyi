"""Type stubs of the native module ``halfopen._native``."""

import os
from datetime import timedelta
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any, Final, Iterable, Iterator, Literal, Optional, Sequence, Union, final, overload

__all__ = [
    "_bench_report_from_bytes",
    "AllowlistError",
    "Block",
    "BlockError",
    "BlockSet",
    "Config",
    "ConfigError",
    "CounterError",
    "CounterSampler",
    "Error",
    "NetlinkError",
    "ParseError",
    "PrefixError",
    "PrefixReport",
    "Report",
    "SourceError",
    "StateError",
    "SyncDiff",
    "TCP_STATES",
    "TcpEntry",
    "__version__",
    "firewalld_setup",
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

class StateError(Error):
    """A saved block set that cannot be restored: truncated, altered, of another format or version, or with overlapping blocks."""

class ConfigError(Error, ValueError):
    """Report settings that do not fit together: a prefix level longer than an
    address, a share outside 0..1, a minimum block length too long.
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
    ``netns`` a namespace by name (as ``ip netns add`` made it) or namespace
    file, entered on a helper thread for every read (needs
    ``CAP_SYS_ADMIN``); ``net_dir`` reads a directory of captured files
    instead (as ``/proc/net`` would be). ``history`` is how many samples are
    kept for the baselines spike alerts compare against. Reading releases
    the GIL.
    """

    def __new__(
        cls,
        pid: Optional[int] = None,
        *,
        netns: Union[str, "os.PathLike[str]", None] = None,
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

def firewalld_setup() -> list[list[str]]:
    """The one-time permanent firewalld setup, as ``firewall-cmd`` argument
    lists: the two ipsets, their binding to the ``drop`` zone, and a reload.
    Run it once before the first firewalld render is applied.
    """

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
    @classmethod
    def load(
        cls,
        path: Union[str, "os.PathLike[str]"],
        *,
        ttl: Optional[_Seconds] = None,
        escalation: int = 2,
        max_ttl: Optional[_Seconds] = None,
        strike_memory: Optional[_Seconds] = None,
        capacity: int = 65536,
        allowlist: Optional[Iterable[_PrefixLike]] = None,
        now: Optional[int] = None,
        resume: Literal["same_clock", "keep_remaining"] = "same_clock",
    ) -> "BlockSet":
        """Restores a block set saved by :meth:`save`, strike counts included.
        The settings are the constructor's (they are not saved). Raises
        ``halfopen.StateError`` for a damaged file and ``FileNotFoundError``
        for a missing one; saved blocks the settings refuse are dropped and
        listed in :attr:`refused`.

        ``resume`` places the saved times: ``"same_clock"`` (default) when
        ``now`` runs on the clock the save used (the monotonic clock): the
        time since the save counts and blocks keep their expiry; after a
        reboot it acts as ``"keep_remaining"``: every block keeps the time it
        had left at the save.
        """
    def save(self, path: Union[str, "os.PathLike[str]"], *, now: Optional[int] = None) -> None:
        """Saves the set to ``path`` atomically, with each block's time left as of ``now``."""
    @property
    def refused(self) -> list[str]:
        """Why :meth:`load` dropped saved blocks (empty for a set made fresh)."""
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
    def add_report(
        self, report: Report, ttl: Optional[_Seconds] = None, *, now: Optional[int] = None
    ) -> list[Block]:
        """Blocks every prefix ``report`` gives the verdict ``"block"``, for
        ``ttl`` (default: the set's, escalated for repeat offences), with the
        report's reason. Returns the blocks now holding them; prefixes the set
        refuses (allowlisted, or the set is full) are skipped and counted in
        :attr:`stats`.
        """
    @property
    def stats(self) -> dict[str, int]:
        """What the set refused or forgot: ``{"refused_full": n,
        "refused_allowlisted": n, "memories_evicted": n}``.
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
    @overload
    def render(
        self,
        format: str,
        diff: Optional[SyncDiff] = None,
        *,
        now: Optional[int] = None,
    ) -> Union[str, list[list[str]]]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Block]: ...
    def __contains__(self, key: object, /) -> bool: ...

@final
class Config:
    """How prefixes are counted and judged. Every argument is keyword-only and
    optional; the defaults are core's.

    ``levels_v4`` / ``levels_v6`` are the prefix lengths counted (default
    ``[32, 24, 16]`` and ``[128, 64, 48, 32]``); a prefix is reported when its
    entries reach ``min_entries`` and ``min_share`` of all half-open entries;
    no prefix shorter than ``min_block_len_v4`` / ``_v6`` is blocked;
    ``allowlist`` (strings or ``ipaddress`` objects) is never blocked, in
    addition to loopback and link-local; prefixes with established
    connections are only watched when ``protect_established``; ``block_thin``
    blocks thin prefixes too; ``top_sources`` is how many busiest sources the
    report lists; ``node_cap`` bounds each prefix tree.
    """

    def __new__(
        cls,
        *,
        levels_v4: Optional[Sequence[int]] = None,
        levels_v6: Optional[Sequence[int]] = None,
        min_entries: Optional[int] = None,
        min_share: Optional[float] = None,
        min_block_len_v4: Optional[int] = None,
        min_block_len_v6: Optional[int] = None,
        allowlist: Optional[Iterable[_PrefixLike]] = None,
        protect_established: Optional[bool] = None,
        block_thin: Optional[bool] = None,
        top_sources: Optional[int] = None,
        node_cap: Optional[int] = None,
    ) -> "Config": ...
    @property
    def levels_v4(self) -> list[int]:
        """IPv4 prefix lengths counted and reported."""
    @property
    def levels_v6(self) -> list[int]:
        """IPv6 prefix lengths counted and reported."""
    @property
    def min_entries(self) -> int:
        """Least entries a reported prefix explains."""
    @property
    def min_share(self) -> float:
        """Least share of all half-open entries a reported prefix explains."""
    @property
    def min_block_len_v4(self) -> int:
        """No IPv4 prefix shorter than this is blocked."""
    @property
    def min_block_len_v6(self) -> int:
        """No IPv6 prefix shorter than this is blocked."""
    @property
    def allowlist(self) -> list[_Network]:
        """Prefixes never blocked (loopback and link-local included)."""
    @property
    def protect_established(self) -> bool:
        """Whether prefixes with established connections are only watched."""
    @property
    def block_thin(self) -> bool:
        """Whether thin prefixes are blocked too."""
    @property
    def top_sources(self) -> int:
        """How many of the busiest sources a report lists."""
    @property
    def node_cap(self) -> int:
        """Most nodes per family's prefix tree."""
    def threshold(self, total: int) -> int:
        """The entries a prefix needs to be reported when ``total`` entries are half-open."""

@final
class PrefixReport:
    """One reported prefix: what it explains, its spoof signs and its verdict."""

    @property
    def prefix(self) -> _Network:
        """The prefix (``IPv4Network`` or ``IPv6Network``)."""
    @property
    def half_open(self) -> int:
        """Half-open entries the prefix is reported for (its own minus those of
        reported prefixes inside it).
        """
    @property
    def sources(self) -> int:
        """Distinct source addresses among them."""
    @property
    def total_half_open(self) -> int:
        """All half-open entries inside the prefix."""
    @property
    def established(self) -> int:
        """ESTABLISHED connections from inside the prefix."""
    @property
    def signs(self) -> list[str]:
        """The spoof and reflection signs, e.g. ``["sequential_walk", "unanswered"]``."""
    @property
    def evidence(self) -> dict[str, Any]:
        """The counts the signs were judged on."""
    @property
    def verdict(self) -> Literal["block", "watch", "allow"]:
        """What to do: ``"block"``, ``"watch"`` or ``"allow"``."""
    @property
    def reason(self) -> str:
        """Why, for people."""
    def to_json(self) -> str:
        """The prefix as core's JSON object."""
    def to_dict(self) -> dict[str, Any]:
        """The prefix as a dict (``json.loads(self.to_json())``)."""

@final
class Report:
    """What a snapshot of the TCP tables shows: half-open entries by family,
    state, listener and source, and the prefixes that explain them with their
    signs and verdicts.

    Build one with :meth:`live`, :meth:`from_bytes`, :meth:`from_files` or
    :meth:`from_entries`; settings are a :class:`Config` or its keyword
    arguments. :meth:`to_json` is core's JSON, byte for byte.
    """

    @classmethod
    def live(
        cls,
        pid: Optional[int] = None,
        *,
        netns: Union[str, "os.PathLike[str]", None] = None,
        source: Literal["auto", "netlink", "proc"] = "auto",
        allow_host: bool = True,
        config: Optional[Config] = None,
        **settings: Any,
    ) -> "Report":
        """Reads the live tables of a namespace (as :func:`read_live` does) and
        reports on them. With ``allow_host`` (default) the namespace's own
        addresses join the allowlist. The GIL is released throughout.
        """
    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        family: Optional[Literal[4, 6]] = None,
        *,
        config: Optional[Config] = None,
        **settings: Any,
    ) -> "Report":
        """Parses a table held in memory and reports on it. The GIL is released throughout."""
    @classmethod
    def from_files(
        cls,
        tcp: Union[str, "os.PathLike[str]", None] = None,
        tcp6: Union[str, "os.PathLike[str]", None] = None,
        *,
        config: Optional[Config] = None,
        **settings: Any,
    ) -> "Report":
        """Reads captured tables (``tcp`` for IPv4, ``tcp6`` for IPv6, either or
        both) and reports on them together. The GIL is released throughout.
        """
    @classmethod
    def from_entries(
        cls, entries: Iterable[TcpEntry], *, config: Optional[Config] = None, **settings: Any
    ) -> "Report":
        """Reports on entries already read (a list of :class:`TcpEntry`)."""
    @classmethod
    def from_json(cls, json: str) -> "Report":
        """A report from its JSON (as :meth:`to_json` wrote it)."""
    def with_counters(self, sampler: CounterSampler) -> "Report":
        """This report with the kernel's counters from ``sampler`` added (its
        latest sample and rates, alerts, settings with notes, and why the table
        may undercount). Reading the settings releases the GIL.
        """
    @property
    def rates(self) -> Optional[dict[str, float]]:
        """Rates per second of the kernel's counters, or ``None`` without
        counters or before a second sample.
        """
    @property
    def alerts(self) -> Optional[list[dict[str, Any]]]:
        """The counter alerts (spikes, full queues) as dicts, or ``None`` without counters."""
    @property
    def undercount(self) -> Optional[list[Any]]:
        """Why the half-open table may undercount a flood (SYN cookies, full
        queues), or ``None`` without counters.
        """
    @property
    def half_open(self) -> int:
        """All half-open entries (both families)."""
    @property
    def half_open_by_family(self) -> dict[str, int]:
        """Half-open entries per family of the source: ``{"ipv4": n, "ipv6": m}``."""
    @property
    def by_state(self) -> dict[str, int]:
        """Entries per state name (``{"SYN_RECV": 4812, ...}``), states with none left out."""
    @property
    def listeners(self) -> list[tuple[Union[IPv4Address, IPv6Address], int, int]]:
        """Half-open entries per listener, most first: ``(address, port, half_open)``."""
    @property
    def distinct_sources(self) -> int:
        """Distinct source addresses among the half-open entries."""
    @property
    def top_sources(self) -> list[tuple[Union[IPv4Address, IPv6Address], int]]:
        """The busiest sources, most first: ``(address, half_open)``."""
    @property
    def threshold(self) -> int:
        """The entries a prefix needed to be reported."""
    @property
    def prefixes(self) -> list[PrefixReport]:
        """The reported prefixes, most half-open entries first."""
    @property
    def origin(self) -> Optional[str]:
        """Which source a live report was read through (``"netlink"``,
        ``"proc"``, ``"file"``), ``None`` when built from memory.
        """
    def blocks(self) -> list[PrefixReport]:
        """The reported prefixes with verdict ``"block"``."""
    def to_json(self) -> str:
        """The report as core's JSON, byte for byte."""
    def to_json_pretty(self) -> str:
        """The report as indented JSON."""
    def to_dict(self) -> dict[str, Any]:
        """The report as a dict (``json.loads(self.to_json())``)."""

def _bench_report_from_bytes(data: bytes) -> tuple[int, int]:
    """For ``benches/python_vs_rust.py``: the work of ``Report.from_bytes(data)``
    done in Rust alone, returning the thread CPU nanoseconds it took and the
    number of prefixes reported. Not part of the API.
    """
