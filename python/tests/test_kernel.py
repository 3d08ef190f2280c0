"""Real floods in real network namespaces, read from Python (needs root).

The scenarios are the Rust integration tests' (tests/tests/sockdiag_kernel.rs
and aggregate_kernel.rs), in the same topology, so the verdicts must match.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest

import halfopen
import netns

why_not = netns.can_run()
pytestmark = pytest.mark.skipif(why_not is not None, reason=f"kernel test skipped: {why_not}")


@pytest.fixture
def lab() -> Iterator[netns.Lab]:
    """The three-namespace lab, deleted after the test whatever happens."""
    yield from netns.lab_fixture("k")


@pytest.mark.parametrize("source", ["netlink", "proc"])
def test_a_spoofed_flood_shows_every_source(lab: netns.Lab, source: str) -> None:
    netns.listen(lab.server, "0.0.0.0", 80)
    netns.listen(lab.server, "::", 443)
    sent4 = netns.spoofed_sources(4, 0, 300)
    sent6 = netns.spoofed_sources(6, 0, 200)
    assert netns.send_syns(lab.attacker, netns.SERVER_V4, 80, sent4) == 300
    assert netns.send_syns(lab.attacker, netns.SERVER_V6, 443, sent6) == 200

    def half_open() -> list[halfopen.TcpEntry]:
        entries = halfopen.read_live(netns=lab.server.name, source=source)
        return [e for e in entries if e.is_half_open]

    assert netns.wait_until(10, lambda: len(half_open()) == 500)
    seen = {(e.remote_address, e.remote_port, e.local_port) for e in half_open()}
    expected = {(ipaddress.ip_address(a), p, 80) for a, p in sent4}
    expected |= {(ipaddress.ip_address(a), p, 443) for a, p in sent6}
    assert seen == expected
    only = halfopen.read_live(netns=lab.server.name, source=source, states=["SYN_RECV"])
    assert {(e.remote_address, e.remote_port, e.local_port) for e in only} == expected


def test_the_host_namespace_does_not_see_the_lab(lab: netns.Lab) -> None:
    netns.listen(lab.server, "198.19.1.1", 8080)
    assert any(e.local_port == 8080 for e in halfopen.read_live(netns=lab.server.name))
    assert not any(
        e.local_address == ipaddress.ip_address("198.19.1.1") for e in halfopen.read_live()
    )


def flood(lab: netns.Lab) -> None:
    """300 spoofed IPv4 sources and 200 IPv6 ones, walking up from the range's start."""
    netns.listen(lab.server, "0.0.0.0", 80)
    netns.listen(lab.server, "::", 443)
    assert netns.send_syns(lab.attacker, netns.SERVER_V4, 80, netns.spoofed_sources(4, 0, 300)) == 300
    assert netns.send_syns(lab.attacker, netns.SERVER_V6, 443, netns.spoofed_sources(6, 0, 200)) == 200

    def settled() -> bool:
        entries = halfopen.read_live(netns=lab.server.name, states=["SYN_RECV"])
        return len(entries) == 500

    assert netns.wait_until(10, settled)


def test_the_flood_gets_the_rust_tests_verdicts(lab: netns.Lab) -> None:
    # The scenario of the Rust test netlink_and_proc_agree_during_a_flood
    # (tests/tests/sockdiag_kernel.rs): 3000 IPv4 sources from index 7, 2000
    # IPv6 ones from index 11, 4 and 3 real clients.
    netns.listen(lab.server, netns.SERVER_V4, 80, 8192)
    netns.listen(lab.server, netns.SERVER_V6, 443, 8192)
    n4, n6 = 3000, 2000
    assert netns.send_syns(lab.attacker, netns.SERVER_V4, 80, netns.spoofed_sources(4, 7, n4)) == n4
    assert netns.send_syns(lab.attacker, netns.SERVER_V6, 443, netns.spoofed_sources(6, 11, n6)) == n6
    netns.connect_clients(lab.client, netns.SERVER_V4, 80, 4)
    netns.connect_clients(lab.client, netns.SERVER_V6, 443, 3)
    assert netns.wait_until(
        10, lambda: len(halfopen.read_live(netns=lab.server.name, source="proc", states=["SYN_RECV"])) == n4 + n6
    )

    def verdicts(r: halfopen.Report) -> list[tuple[str, str, int]]:
        return [(str(p.prefix), p.verdict, p.half_open) for p in r.prefixes]

    def live(source: str) -> halfopen.Report:
        return halfopen.Report.live(netns=lab.server.name, source=source, allow_host=False)

    first, middle, last = live("netlink"), live("proc"), live("netlink")
    # As in the Rust test: both sources give the same verdicts (SYN-ACK
    # retransmits may change entries between reads), a block in each family.
    assert verdicts(middle) in (verdicts(first), verdicts(last))
    assert middle.half_open == n4 + n6
    for version in (4, 6):
        assert any(p.verdict == "block" and p.prefix.version == version for p in first.prefixes)
    assert (first.origin, middle.origin) == ("netlink", "proc")
    assert '"source":"proc"' in middle.to_json()
    # And exactly: the walk covers 198.18.0.7 to 198.18.11.190, every /24 of
    # it holds at least the threshold (50 of 5000 entries); the IPv6 walk
    # stays inside 2001:db8::/64.
    expected4 = Counter(
        str(ipaddress.ip_network(f"{a}/24", strict=False)) for a, _ in netns.spoofed_sources(4, 7, n4)
    )
    assert min(expected4.values()) >= middle.threshold == 50
    expected = {(p, "block", n) for p, n in expected4.items()} | {("2001:db8::/64", "block", n6)}
    assert set(verdicts(middle)) == expected
    assert middle.listeners == [
        (ipaddress.ip_address(netns.SERVER_V4), 80, n4),
        (ipaddress.ip_address(netns.SERVER_V6), 443, n6),
    ]
    assert middle.by_state["ESTABLISHED"] == 4 + 3


def nft_elements(ns: netns.Netns, set_name: str) -> dict[str, tuple[int, int]]:
    """The prefixes in ``inet halfopen SET`` of a namespace: prefix -> (timeout, expires) in seconds."""
    out = ns.exec("nft", "-j", "list", "set", "inet", "halfopen", set_name)
    found: dict[str, tuple[int, int]] = {}
    for item in json.loads(out)["nftables"]:
        for elem in item.get("set", {}).get("elem", []):
            e = elem["elem"]
            val = e["val"]
            prefix = f"{val['prefix']['addr']}/{val['prefix']['len']}" if isinstance(val, dict) else f"{val}/32"
            found[prefix] = (e["timeout"], e["expires"])
    return found


def watch(lab: netns.Lab, state: Path, *args: str) -> subprocess.Popen[str]:
    """``halfopen watch`` inside the server namespace, printing JSON lines."""
    script = shutil.which("halfopen", path=str(Path(sys.executable).parent))
    assert script is not None
    return subprocess.Popen(
        ["ip", "netns", "exec", lab.server.name, script, "watch", "--state", str(state), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=state.parent,
    )


def watch_ticks(lab: netns.Lab, state: Path, *args: str) -> list[dict[str, Any]]:
    """Runs ``halfopen watch`` to its end; its ticks, one JSON object each."""
    child = watch(lab, state, *args)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


needs_nft = pytest.mark.skipif(shutil.which("nft") is None, reason="kernel test skipped: needs nft")


@needs_nft
def test_watch_blocks_the_flood_in_nftables(lab: netns.Lab, tmp_path: Path) -> None:
    flood(lab)
    state = tmp_path / "blocks.state"
    ticks = watch_ticks(lab, state, "--interval", "0.5", "--ticks", "3", "--apply", "nft", "--ttl", "10m")
    assert [t["applied"] for t in ticks] == ["full", "diff", "diff"]
    assert ticks[0]["blocked"] == ["198.18.0.0/24", "2001:db8::/64"]
    four, six = nft_elements(lab.server, "blocked4"), nft_elements(lab.server, "blocked6")
    assert set(four) == {"198.18.0.0/24"} and set(six) == {"2001:db8::/64"}
    timeout, expires = four["198.18.0.0/24"]
    assert 590 <= timeout <= 600 and 580 <= expires <= 600
    saved = {str(b.prefix): b for b in halfopen.BlockSet.load(state)}
    assert set(saved) == {"198.18.0.0/24", "2001:db8::/64"}
    assert 580 <= saved["198.18.0.0/24"].remaining() <= 600
    # The drop rule is there and counts the dropped SYNs.
    netns.send_syns(lab.attacker, netns.SERVER_V4, 80, netns.spoofed_sources(4, 5, 20))
    rules = lab.server.exec("nft", "list", "chain", "inet", "halfopen", "prerouting")
    assert "ip saddr @blocked4 counter packets" in rules
    assert "counter packets 0 " not in rules.split("ip saddr @blocked4")[1].splitlines()[0]


@needs_nft
def test_a_restart_keeps_blocks_and_their_time(lab: netns.Lab, tmp_path: Path) -> None:
    state = tmp_path / "blocks.state"
    # An earlier run blocked two prefixes for 5 minutes and saved them.
    blocks = halfopen.BlockSet(ttl=300)
    blocks.add("198.18.5.0/24", "syn flood")
    blocks.add("2001:db8:5::/48", "syn flood")
    blocks.save(state)
    time.sleep(2)
    ticks = watch_ticks(lab, state, "--interval", "0.2", "--ticks", "2", "--apply", "nft", "--ttl", "10m")
    # The restart keeps both blocks and their expiry (the 2 s it was down
    # count), not a fresh TTL of 10 minutes.
    last = ticks[-1]
    left = {b["prefix"]: b["remaining"] for b in last["blocks"]}
    assert set(left) == {"198.18.5.0/24", "2001:db8:5::/48"}
    assert all(285 <= t <= 298.2 for t in left.values()), left
    timeout, _ = nft_elements(lab.server, "blocked4")["198.18.5.0/24"]
    timeout6, _ = nft_elements(lab.server, "blocked6")["2001:db8:5::/48"]
    assert 285 <= timeout <= 298 and 285 <= timeout6 <= 298
    assert [b.strikes for b in halfopen.BlockSet.load(state)] == [1, 1]


@needs_nft
def test_ctrl_c_saves_and_exits_cleanly(lab: netns.Lab, tmp_path: Path) -> None:
    flood(lab)
    state = tmp_path / "blocks.state"
    child = watch(lab, state, "--interval", "0.3", "--apply", "nft")
    assert child.stdout is not None
    first = json.loads(child.stdout.readline())
    assert first["blocked"]
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert "Traceback" not in err
    assert {str(b.prefix) for b in halfopen.BlockSet.load(state)} == {"198.18.0.0/24", "2001:db8::/64"}


@pytest.mark.skipif(shutil.which("ipset") is None, reason="kernel test skipped: needs ipset")
def test_watch_fills_ipsets(lab: netns.Lab, tmp_path: Path) -> None:
    flood(lab)
    state = tmp_path / "blocks.state"
    ticks = watch_ticks(lab, state, "--interval", "0.3", "--ticks", "2", "--apply", "ipset", "--ttl", "5m")
    assert [t["applied"] for t in ticks] == ["full", "diff"]
    for name, prefix in (("halfopen4", "198.18.0.0/24"), ("halfopen6", "2001:db8::/64")):
        listing = lab.server.exec("ipset", "list", name)
        members = listing.split("Members:")[1].split()
        assert members[0] == prefix, listing
        assert members[1] == "timeout" and 280 <= int(members[2]) <= 300


class Lcg:
    """The Rust test's generator (tests/tests/aggregate_kernel.rs), step for step."""

    def __init__(self, seed: int) -> None:
        self.state = seed

    def next(self) -> int:
        self.state = (self.state * 6_364_136_223_846_793_005 + 1_442_695_040_888_963_407) % 2**64
        return self.state >> 29


PORTS = (22, 80, 443)
HEAVY = (10, 11, 12)
HEAVY_PER_24, REFLECT, REFLECT_N, SPRAY_N, V6_N = 400, 20, 300, 2000, 500


def aggregate_scenario() -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """The SYNs of the Rust test real_flood_gets_blocks_watches_and_signs:
    ``((source, port), (destination, port))``, every 4-tuple distinct."""
    rng = Lcg(0x5EED)
    seen: set[tuple[tuple[str, int], tuple[str, int]]] = set()
    out: list[tuple[tuple[str, int], tuple[str, int]]] = []

    def push(src: tuple[str, int], dst: tuple[str, int]) -> bool:
        if (src, dst) in seen:
            return False
        seen.add((src, dst))
        out.append((src, dst))
        return True

    for net in HEAVY:
        n = 0
        while n < HEAVY_PER_24:
            src = (f"198.18.{net}.{rng.next() % 254 + 1}", 1024 + rng.next() % 60_000)
            dst = (netns.SERVER_V4, PORTS[rng.next() % 3])
            n += push(src, dst)
    for i in range(REFLECT_N):
        push((f"198.18.{REFLECT}.{i % 200 + 1}", 80 if i < 200 else 443), (netns.SERVER_V4, 80))
    n = 0
    while n < SPRAY_N:
        src = (f"198.18.{rng.next() % 256}.{rng.next() % 256}", 1024 + rng.next() % 60_000)
        dst = (netns.SERVER_V4, PORTS[rng.next() % 3])
        n += push(src, dst)
    n = 0
    while n < V6_N:
        host = ((rng.next() << 32) ^ rng.next()) & (2**64 - 1)
        address = str(ipaddress.IPv6Address((0x20010DB800000005 << 64) | host))
        n += push((address, 1024 + rng.next() % 60_000), (netns.SERVER_V6, 443))
    return out


@pytest.fixture
def lab_without_cookies() -> Iterator[netns.Lab]:
    """The lab with SYN cookies off, as the Rust aggregation test builds it."""
    lab = netns.Lab("g", syncookies=False)
    try:
        yield lab
    finally:
        lab.close()


def test_the_aggregation_scenario_gets_the_rust_tests_verdicts(lab_without_cookies: netns.Lab) -> None:
    lab = lab_without_cookies
    for port in PORTS:
        netns.listen(lab.server, "0.0.0.0", port, 65535)
        netns.listen(lab.server, "::", port, 65535, v6only=True)
    netns.connect_clients(lab.client, netns.SERVER_V4, 22, 24)
    netns.connect_clients(lab.client, netns.SERVER_V6, 443, 12)
    syns = aggregate_scenario()
    for dst in sorted({d for _, d in syns}):
        sources = [s for s, d in syns if d == dst]
        assert netns.send_syns(lab.attacker, dst[0], dst[1], sources, rate=5000) == len(sources)
    want6 = sum(1 for s, _ in syns if ":" in s[0])
    want4 = len(syns) - want6

    def half_open() -> list[halfopen.TcpEntry]:
        return halfopen.read_live(netns=lab.server.name, source="proc", states=["SYN_RECV"])

    assert netns.wait_until(15, lambda: len(half_open()) >= want4 + want6)
    # As the Rust test does: wait for the SYN-ACK retransmissions.
    assert netns.wait_until(
        10, lambda: sum(e.retransmits > 0 for e in half_open() if e.family == 4) * 10 >= want4 * 9
    )

    report = halfopen.Report.live(netns=lab.server.name, source="proc")
    text = report.to_json_pretty()
    found = {str(p.prefix): p for p in report.prefixes}
    for h in HEAVY:
        p = found[f"198.18.{h}.0/24"]
        assert p.verdict == "block", text
        assert "unanswered" in p.signs and "no_completed_handshake" in p.signs, text
    v6 = found["2001:db8:0:5::/64"]
    assert (v6.verdict, v6.half_open) == ("block", V6_N) and "single_port" in v6.signs
    reflect = found[f"198.18.{REFLECT}.0/24"]
    assert {"well_known_source_port", "sequential_walk", "single_port"} <= set(reflect.signs)
    assert reflect.evidence["well_known_port"] >= REFLECT_N
    assert "well_known_source_port" not in found["198.18.10.0/24"].signs
    spray = found["198.18.0.0/16"]
    assert spray.verdict == "watch" and "thinly" in spray.reason
    blocked4 = {str(p.prefix) for p in report.blocks() if p.prefix.version == 4}
    assert blocked4 == {f"198.18.{h}.0/24" for h in (*HEAVY, REFLECT)}, text
    clients = [ipaddress.ip_address(netns.CLIENT_V4), ipaddress.ip_address(netns.CLIENT_V6)]
    assert not any(c in p.prefix for p in report.blocks() for c in clients if c.version == p.prefix.version)
    assert report.to_dict()["host"]["established"] == 36
    # The same blocks read through netlink, as in the Rust test.
    again = halfopen.Report.live(netns=lab.server.name, source="netlink")
    assert {str(p.prefix) for p in again.blocks()} == {str(p.prefix) for p in report.blocks()}


def test_scan_and_watch_read_a_namespace_by_name(lab: netns.Lab, tmp_path: Path) -> None:
    # Run from this (the host's) namespace: --netns names the server's, for
    # the tables, the counters and the settings alike.
    flood(lab)
    lab.server.sysctl("net.core.somaxconn", "93")
    script = shutil.which("halfopen", path=str(Path(sys.executable).parent))
    assert script is not None
    scan = subprocess.run(
        [script, "scan", "--netns", lab.server.name, "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(scan.stdout)["half_open"] == 500
    watched = subprocess.run(
        [script, "watch", "--netns", lab.server.name, "--state", str(tmp_path / "blocks.state"),
         "--interval", "0.2", "--ticks", "2", "--json"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    first, last = (json.loads(line) for line in watched.stdout.splitlines())
    assert first["blocked"] == ["198.18.0.0/24", "2001:db8::/64"]
    report = last["report"]
    assert report["half_open"] == 500
    assert report["settings"]["somaxconn"] == 93
    assert report["rates"]["interval_secs"] > 0
    # The sampler alone, by name and by file: the server's listeners with
    # their backlogs (from sock_diag, inside the namespace).
    for where in (lab.server.name, f"/run/netns/{lab.server.name}"):
        sampler = halfopen.CounterSampler(netns=where)
        assert sampler.sample() is None
        counters = sampler.report()
        assert counters["settings"]["somaxconn"] == 93
        backlogs = {q["local"] for q in counters["listeners"] if q.get("backlog")}
        assert backlogs >= {"0.0.0.0:80", "[::]:443"}, counters["listeners"]
    with pytest.raises(OSError):
        halfopen.CounterSampler(netns="/proc/self/status").sample()
    with pytest.raises(ValueError, match="not more"):
        halfopen.CounterSampler(1, netns=lab.server.name)
