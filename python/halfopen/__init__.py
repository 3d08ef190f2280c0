"""See SYN floods, spoofed sources and reflection in the kernel's TCP tables.

halfopen reads the kernel's TCP tables (``/proc/net/tcp`` and
``/proc/net/tcp6``), counts half-open (``SYN_RECV``) connections per source
prefix, gives each prefix a verdict (block, watch or allow) and keeps a block
set with time limits, rendered for nftables, ipset or firewalld.

The work is done by the native module ``halfopen._native`` (Rust); this
package re-exports it. Parse a table::

    >>> import halfopen
    >>> entries = halfopen.read_live()            # this namespace's tables
    >>> half_open = [e for e in entries if e.is_half_open]

Errors derive from :class:`halfopen.Error`; bad input also derives from
``ValueError`` (for example :class:`halfopen.ParseError`, which carries
``.line`` and ``.field``); files that cannot be read raise the usual
``OSError`` subclasses (``FileNotFoundError``, ``PermissionError``).
"""

from halfopen._native import (
    TCP_STATES,
    AllowlistError,
    Block,
    BlockError,
    BlockSet,
    Config,
    ConfigError,
    CounterError,
    CounterSampler,
    Error,
    NetlinkError,
    ParseError,
    PrefixError,
    PrefixReport,
    Report,
    SourceError,
    StateError,
    SyncDiff,
    TcpEntry,
    __version__,
    firewalld_setup,
    monotonic_ms,
    parse,
    parse_file,
    read_live,
)

__all__ = [
    "TCP_STATES",
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
    "TcpEntry",
    "__version__",
    "firewalld_setup",
    "monotonic_ms",
    "parse",
    "parse_file",
    "read_live",
]
