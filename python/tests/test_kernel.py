"""A real flood in real network namespaces, read from Python (needs root)."""

from __future__ import annotations

import ipaddress
from typing import Iterator

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
