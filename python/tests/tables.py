"""Kernel-format TCP table rows, written independently of halfopen.

The format follows the kernel's printers (``get_openreq4``/``get_tcp4_sock``
in net/ipv4/tcp_ipv4.c and their tcp6 twins): addresses are printed as
host-order 32-bit words in upper-case hex, ports as four hex digits.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Union

HEADER4 = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
    "retrnsmt   uid  timeout inode"
)
HEADER6 = (
    "  sl  local_address                         remote_address                        "
    "st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
)

STATES = {"ESTABLISHED": 1, "SYN_RECV": 3, "TIME_WAIT": 6, "LISTEN": 10}

Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


def hex_address(address: Address) -> str:
    """The address as the kernel prints it: native-order 32-bit words."""
    packed = address.packed
    words = struct.unpack(f"={len(packed) // 4}I", packed)
    return "".join(f"{w:08X}" for w in words)


@dataclass(frozen=True)
class Row:
    """One row's values, as a test chooses them."""

    local: str
    local_port: int
    remote: str
    remote_port: int
    state: str
    inode: int = 0
    rx_queue: int = 0
    retransmits: int = 0
    uid: int = 0

    def line(self, slot: int) -> str:
        """The row as the kernel prints it, without the newline."""
        local = ipaddress.ip_address(self.local)
        remote = ipaddress.ip_address(self.remote)
        timer = "01:00000064" if STATES[self.state] == 3 else "00:00000000"
        return (
            f"{slot:4}: {hex_address(local)}:{self.local_port:04X} "
            f"{hex_address(remote)}:{self.remote_port:04X} {STATES[self.state]:02X} "
            f"00000000:{self.rx_queue:08X} {timer} {self.retransmits:08X} "
            f"{self.uid:5} {0:8} {self.inode} 1 0000000000000000 100 0 0 10 0"
        )


def table(rows: list[Row], version: int = 4, header: bool = True) -> bytes:
    """A whole table of ``rows``, header first, every line ending in a newline."""
    lines = [HEADER4 if version == 4 else HEADER6] if header else []
    lines += [row.line(i) for i, row in enumerate(rows)]
    return "".join(line + "\n" for line in lines).encode()


def flood4(count: int, base: str = "198.18.7.0", listener: str = "198.19.0.1") -> list[Row]:
    """A listener on port 80 and ``count`` half-open requests from consecutive sources."""
    first = int(ipaddress.IPv4Address(base))
    rows = [Row("0.0.0.0", 80, "0.0.0.0", 0, "LISTEN", inode=4242)]
    rows += [
        Row(listener, 80, str(ipaddress.IPv4Address(first + i)), 1024 + i, "SYN_RECV")
        for i in range(count)
    ]
    return rows


def flood6(count: int, base: str = "2001:db8:7::", listener: str = "2001:db8:ffff::1") -> list[Row]:
    """The IPv6 twin of :func:`flood4`."""
    first = int(ipaddress.IPv6Address(base))
    rows = [Row("::", 443, "::", 0, "LISTEN", inode=4343)]
    rows += [
        Row(listener, 443, str(ipaddress.IPv6Address(first + i)), 80, "SYN_RECV")
        for i in range(count)
    ]
    return rows
