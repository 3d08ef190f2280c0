"""Real network namespaces for kernel tests, from Python.

The topology is the one the Rust harness builds (tests/src/lab.rs), so the
same flood gives the same tables and the same verdicts::

    attacker [srv0] 198.19.1.2/24 --- 198.19.1.1/24 [att0] server [cli0] 198.19.2.1/24 --- 198.19.2.2/24 [srv0] client
                    2001:db8:ffff:1::2/64  2001:db8:ffff:1::1/64      2001:db8:ffff:2::1/64  2001:db8:ffff:2::2/64

The server routes the spoofed space (198.18.0.0/16, 2001:db8::/33) to the
attacker, which blackholes it: SYN-ACKs to spoofed sources die there and
nothing leaves the lab. Spoofed SYNs are sent from the attacker namespace by
a child process with raw sockets (IPv4 with its own header, IPv6 through
IPPROTO_RAW). Namespaces are named ``ho-py<tag>-<pid>-<n>`` and deleted
when the fixture ends, also when the test fails.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

SPOOF_V4 = "198.18.0.0/16"
SPOOF_V6 = "2001:db8::/33"

SERVER_V4 = "198.19.1.1"
SERVER_V6 = "2001:db8:ffff:1::1"
CLIENT_V4 = "198.19.2.2"
CLIENT_V6 = "2001:db8:ffff:2::2"

_ids = itertools.count()


def can_run() -> Optional[str]:
    """Why kernel tests cannot run here, or ``None`` when they can."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, raw sockets)"
    if shutil.which("ip") is None:
        return "needs the ip command (iproute2)"
    return None


def run(*args: str, stdin: Optional[bytes] = None) -> str:
    """Runs a command; a failure raises with its stderr."""
    out = subprocess.run(args, input=stdin, capture_output=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {out.stderr.decode(errors='replace').strip()}")
    return out.stdout.decode(errors="replace")


class Netns:
    """A named network namespace, deleted by :meth:`close`."""

    def __init__(self, tag: str) -> None:
        self.name = f"ho-py{tag}-{os.getpid()}-{next(_ids)}"
        run("ip", "netns", "add", self.name)
        self.children: list[subprocess.Popen[bytes]] = []
        self.ip("link", "set", "lo", "up")

    def ip(self, *args: str) -> str:
        """``ip -n NAME ARGS``."""
        return run("ip", "-n", self.name, *args)

    def exec(self, *args: str, stdin: Optional[bytes] = None) -> str:
        """``ip netns exec NAME ARGS``, waited for."""
        return run("ip", "netns", "exec", self.name, *args, stdin=stdin)

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        """``ip netns exec NAME ARGS`` in the background; killed by :meth:`close`."""
        child = subprocess.Popen(
            ["ip", "netns", "exec", self.name, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.children.append(child)
        return child

    def sysctl(self, key: str, value: str) -> None:
        """Sets a sysctl inside the namespace."""
        path = "/proc/sys/" + key.replace(".", "/")
        self.exec("sh", "-c", f"echo {value} > {path}")

    def close(self) -> None:
        """Kills the children and deletes the namespace."""
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait()
            for stream in (child.stdin, child.stdout, child.stderr):
                if stream is not None:
                    stream.close()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class Lab:
    """Three namespaces wired as a server under attack (see the module's doc)."""

    def __init__(self, tag: str, syncookies: Optional[bool] = None) -> None:
        self.namespaces: list[Netns] = []
        try:
            self.server = self._add(f"{tag}s")
            self.attacker = self._add(f"{tag}a")
            self.client = self._add(f"{tag}c")
            self._wire(syncookies)
        except BaseException:
            self.close()
            raise

    def _add(self, tag: str) -> Netns:
        ns = Netns(tag)
        self.namespaces.append(ns)
        return ns

    def _wire(self, syncookies: Optional[bool]) -> None:
        s, a, c = self.server, self.attacker, self.client
        self._veth(s, "att0", a, "srv0")
        self._veth(s, "cli0", c, "srv0")
        s.ip("addr", "add", "198.19.1.1/24", "dev", "att0")
        s.ip("addr", "add", "2001:db8:ffff:1::1/64", "dev", "att0", "nodad")
        s.ip("addr", "add", "198.19.2.1/24", "dev", "cli0")
        s.ip("addr", "add", "2001:db8:ffff:2::1/64", "dev", "cli0", "nodad")
        a.ip("addr", "add", "198.19.1.2/24", "dev", "srv0")
        a.ip("addr", "add", "2001:db8:ffff:1::2/64", "dev", "srv0", "nodad")
        c.ip("addr", "add", "198.19.2.2/24", "dev", "srv0")
        c.ip("addr", "add", "2001:db8:ffff:2::2/64", "dev", "srv0", "nodad")
        s.ip("route", "add", SPOOF_V4, "via", "198.19.1.2", "dev", "att0")
        s.ip("-6", "route", "add", SPOOF_V6, "via", "2001:db8:ffff:1::2", "dev", "att0")
        a.ip("route", "add", "blackhole", SPOOF_V4)
        a.ip("-6", "route", "add", "blackhole", SPOOF_V6)
        a.sysctl("net.ipv4.ip_forward", "0")
        a.sysctl("net.ipv6.conf.all.forwarding", "0")
        c.ip("route", "add", "default", "via", "198.19.2.1")
        c.ip("-6", "route", "add", "default", "via", "2001:db8:ffff:2::1")
        for dev in ("all", "default", "att0", "cli0"):
            s.sysctl(f"net.ipv4.conf.{dev}.rp_filter", "0")
        if syncookies is not None:
            s.sysctl("net.ipv4.tcp_syncookies", "1" if syncookies else "0")
        s.sysctl("net.core.somaxconn", "65535")
        s.sysctl("net.ipv4.tcp_max_syn_backlog", "65536")
        # The Rust lab puts the veth ends on the NAPI path (GRO on, TSO off),
        # so floods are not lost in the per-CPU backlog.
        for ns, dev in ((s, "att0"), (s, "cli0"), (a, "srv0"), (c, "srv0")):
            ns.exec(sys.executable, "-c", VETH_NAPI, dev)
        # Static neighbours on the attack link: the raw sender's burst must
        # not wait (and drop) while neighbour discovery resolves the server.
        self._neighbours(a, "srv0", s, "att0", ("198.19.1.1", "2001:db8:ffff:1::1"))
        self._neighbours(s, "att0", a, "srv0", ("198.19.1.2", "2001:db8:ffff:1::2"))
        # Deep FIFOs on the attack link, so a burst of SYNs is not dropped.
        run("tc", "-n", s.name, "qdisc", "replace", "dev", "att0", "root", "pfifo", "limit", "500000")
        run("tc", "-n", a.name, "qdisc", "replace", "dev", "srv0", "root", "pfifo", "limit", "500000")

    @staticmethod
    def _veth(a: Netns, a_dev: str, b: Netns, b_dev: str) -> None:
        """A veth pair with one end in each namespace, both up."""
        a.ip("link", "add", a_dev, "type", "veth", "peer", "name", b_dev, "netns", b.name)
        a.ip("link", "set", a_dev, "up")
        b.ip("link", "set", b_dev, "up")

    @staticmethod
    def _neighbours(here: Netns, dev: str, there: Netns, there_dev: str, addresses: tuple[str, ...]) -> None:
        """Permanent neighbour entries in ``here`` for ``there``'s addresses."""
        (link,) = json.loads(there.ip("-j", "link", "show", "dev", there_dev))
        for address in addresses:
            here.ip("neigh", "replace", address, "lladdr", link["address"], "dev", dev, "nud", "permanent")

    def close(self) -> None:
        """Deletes every namespace."""
        for ns in reversed(self.namespaces):
            ns.close()


VETH_NAPI = r"""
import ctypes, fcntl, socket, struct, sys
SIOCETHTOOL, ETHTOOL_SGRO, ETHTOOL_STSO = 0x8946, 0x2C, 0x1F
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    for cmd, value in ((ETHTOOL_SGRO, 1), (ETHTOOL_STSO, 0)):
        data = ctypes.create_string_buffer(struct.pack("II", cmd, value))
        ifreq = struct.pack("16sP16x", sys.argv[1].encode(), ctypes.addressof(data))
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifreq)
"""

LISTENER = r"""
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if family == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(sys.argv[4]))
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(int(sys.argv[3]))
print("ready", flush=True)
sys.stdin.read()
"""


def listen(
    ns: Netns, address: str, port: int, backlog: int = 4096, v6only: bool = False
) -> subprocess.Popen[bytes]:
    """A listener in ``ns`` until the namespace closes; returns once it listens.
    An IPv6 listener on ``::`` takes IPv4 too unless ``v6only``."""
    child = ns.spawn(sys.executable, "-c", LISTENER, address, str(port), str(backlog), str(int(v6only)))
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != b"ready":
        err = child.stderr.read().decode() if child.stderr else ""
        raise RuntimeError(f"listener {address}:{port} did not start: {err}")
    return child


CLIENTS = r"""
import socket, sys
held = [socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) for _ in range(int(sys.argv[3]))]
print("ready", flush=True)
sys.stdin.read()
"""


def connect_clients(ns: Netns, address: str, port: int, n: int) -> subprocess.Popen[bytes]:
    """``n`` real connections from ``ns`` to ``address:port``, held until the namespace closes."""
    child = ns.spawn(sys.executable, "-c", CLIENTS, address, str(port), str(n))
    assert child.stdout is not None
    if child.stdout.readline().strip() != b"ready":
        err = child.stderr.read().decode() if child.stderr else ""
        raise RuntimeError(f"clients of {address}:{port} did not connect: {err}")
    return child


SENDER = Path(__file__).with_name("synsend.py")


def send_syns(
    ns: Netns, dst: str, port: int, sources: Sequence[tuple[str, int]], rate: int = 0
) -> int:
    """Sends one spoofed SYN from each (address, port) in ``sources`` to
    ``dst:port``, at most ``rate`` per second (0: as fast as it can)."""
    for address, _ in sources:
        net = ipaddress.ip_network(SPOOF_V4 if ":" not in address else SPOOF_V6)
        if ipaddress.ip_address(address) not in net:
            raise ValueError(f"{address} is outside the spoofed test range {net}")
    lines = "".join(f"{a} {p}\n" for a, p in sources).encode()
    out = ns.exec(sys.executable, str(SENDER), dst, str(port), str(rate), stdin=lines)
    return int(out)


def spoofed_sources(version: int, start: int, count: int) -> list[tuple[str, int]]:
    """Consecutive spoofed sources as the Rust harness makes them (``spoofed_sources``)."""
    out = []
    for i in range(start, start + count):
        if version == 4:
            a = i % 65536
            port = 1024 + (a + i // 65536) % 64512
            out.append((str(ipaddress.IPv4Address((198 << 24) | (18 << 16) | a)), port))
        else:
            a = i % (1 << 31)
            port = 1024 + (a + (i >> 31)) % 64512
            address = (0x20010DB8 << 96) | ((a >> 16) << 80) | (a & 0xFFFF)
            out.append((str(ipaddress.IPv6Address(address)), port))
    return out


def wait_until(timeout: float, cond: Callable[[], bool]) -> bool:
    """Polls ``cond`` every 10 ms until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def lab_fixture(tag: str) -> Iterator[Lab]:
    """A lab for one test, always torn down."""
    lab = Lab(tag)
    try:
        yield lab
    finally:
        lab.close()
