"""The block set binding: BlockSet, Block, SyncDiff and the renderers."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import pytest

import halfopen

MIN = 60_000  # one minute in milliseconds


def test_add_and_look_up() -> None:
    blocks = halfopen.BlockSet(ttl=60)
    block = blocks.add("198.18.7.0/24", "flood", now=0)
    assert block.prefix == ipaddress.IPv4Network("198.18.7.0/24")
    assert (block.expires, block.strikes, block.reason) == (MIN, 1, "flood")
    assert block.remaining(now=15_000) == 45.0
    assert len(blocks) == 1
    assert "198.18.7.9" in blocks
    assert ipaddress.ip_address("198.18.7.200") in blocks
    assert ipaddress.ip_network("198.18.7.128/25") in blocks
    assert "198.18.8.1" not in blocks
    assert [b.prefix for b in blocks] == [ipaddress.IPv4Network("198.18.7.0/24")]
    assert blocks.get("198.18.7.0/24") == block
    assert blocks.get("198.18.7.0/25") is None
    assert blocks.covering("198.18.7.0/25") == block


def test_host_bits_are_cleared_and_addresses_are_host_prefixes() -> None:
    blocks = halfopen.BlockSet()
    assert blocks.add("198.18.7.99/24", now=0).prefix == ipaddress.IPv4Network("198.18.7.0/24")
    six = blocks.add(ipaddress.IPv6Address("2001:db8::5"), now=0)
    assert six.prefix == ipaddress.IPv6Network("2001:db8::5/128")
    assert blocks.ttl == 600.0


def test_expire_release_and_escalation() -> None:
    blocks = halfopen.BlockSet(ttl=timedelta(minutes=1), escalation=3)
    blocks.add("2001:db8:7::/48", now=0)
    blocks.add("198.18.1.0/24", ttl=10, now=0)
    assert [b.prefix.version for b in blocks] == [4, 6]
    ended = blocks.expire(now=10_000)
    assert [str(b.prefix) for b in ended] == ["198.18.1.0/24"]
    assert blocks.expire(now=10_000) == []
    # Back within the strike memory: the second offence lasts 3 times longer.
    again = blocks.add("198.18.1.0/24", now=20_000)
    assert again.strikes == 2
    assert again.expires == 20_000 + 3 * MIN
    released = blocks.release("198.18.1.0/24", now=30_000)
    assert released is not None and released.strikes == 2
    assert blocks.release("198.18.1.0/24", now=30_000) is None
    assert [str(b.prefix) for b in blocks.release_all(now=31_000)] == ["2001:db8:7::/48"]
    assert len(blocks) == 0


def test_a_wider_block_absorbs_narrower_ones() -> None:
    blocks = halfopen.BlockSet(ttl=60)
    blocks.add("198.18.1.0/24", now=0)
    blocks.add("198.18.2.0/24", now=0)
    wide = blocks.add("198.18.0.0/16", now=1_000)
    assert len(blocks) == 1
    assert blocks.add("198.18.3.0/24", now=2_000) == blocks.get("198.18.0.0/16")
    assert wide.prefix == ipaddress.IPv4Network("198.18.0.0/16")


def test_allowlist_is_never_blocked() -> None:
    blocks = halfopen.BlockSet(allowlist=["198.18.5.0/24", ipaddress.ip_network("2001:db8:1::/48")])
    assert blocks.allowlist == [
        ipaddress.IPv4Network("198.18.5.0/24"),
        ipaddress.IPv6Network("2001:db8:1::/48"),
    ]
    with pytest.raises(halfopen.AllowlistError) as info:
        blocks.add("198.18.0.0/16", now=0)
    assert info.value.prefix == ipaddress.IPv4Network("198.18.0.0/16")
    assert info.value.allowed == ipaddress.IPv4Network("198.18.5.0/24")
    assert isinstance(info.value, halfopen.BlockError)
    blocks.add("198.18.6.0/24", now=0)
    assert [str(b.prefix) for b in blocks.allow("198.18.6.128/25", now=1)] == ["198.18.6.0/24"]
    assert len(blocks) == 0


def test_capacity() -> None:
    blocks = halfopen.BlockSet(capacity=1)
    blocks.add("198.18.1.0/24", now=0)
    with pytest.raises(halfopen.BlockError, match="full"):
        blocks.add("198.18.2.0/24", now=0)


@pytest.mark.parametrize("bad", ["198.18.0.0/33", "not a prefix", "", "1.2.3"])
def test_bad_prefixes_are_prefix_errors(bad: str) -> None:
    blocks = halfopen.BlockSet()
    with pytest.raises(halfopen.PrefixError) as info:
        blocks.add(bad)
    assert info.value.text == bad
    assert isinstance(info.value, ValueError)


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="ttl must be"):
        halfopen.BlockSet(ttl=0)
    with pytest.raises(ValueError, match="at least 0"):
        halfopen.BlockSet(ttl=-1)
    with pytest.raises(TypeError, match="seconds or a timedelta"):
        halfopen.BlockSet(ttl="10m")  # type: ignore[arg-type]


def test_diff_tracks_what_the_firewall_holds() -> None:
    blocks = halfopen.BlockSet(ttl=60)
    blocks.add("198.18.1.0/24", now=0)
    first = blocks.diff(now=0)
    assert [(str(p), t) for p, t in first.add] == [("198.18.1.0/24", 60.0)]
    assert len(first) == 1 and not first.is_empty()
    assert blocks.diff(now=0).is_empty()
    blocks.add("198.18.1.0/24", now=30_000)
    refreshed = blocks.diff(now=30_000)
    assert [(str(p), t) for p, t in refreshed.refresh] == [("198.18.1.0/24", 60.0)]
    blocks.expire(now=90_000)
    gone = blocks.diff(now=90_000)
    assert [(str(p), why) for p, why in gone.remove] == [("198.18.1.0/24", "expired")]


def test_render_nft() -> None:
    blocks = halfopen.BlockSet(ttl=90)
    blocks.add("198.18.0.0/16", now=0)
    full = blocks.render("nft", now=0)
    assert full.startswith("add table inet halfopen\ndelete table inet halfopen\n")
    assert "198.18.0.0/16 timeout 1m30s" in full
    blocks.mark_synced(now=0)
    blocks.add("2001:db8::/48", ttl=60, now=1_000)
    diff = blocks.diff(now=1_000)
    assert blocks.render("nft", diff) == (
        "add element inet halfopen blocked6 { 2001:db8::/48 timeout 1m }\n"
    )


def test_render_ipset_and_firewalld() -> None:
    blocks = halfopen.BlockSet(ttl=30)
    blocks.add("2001:db8::/32", now=0)
    assert "add halfopen6-new 2001:db8::/32 timeout 30" in blocks.render("ipset", now=0)
    commands = blocks.render("firewalld", now=0)
    assert commands[0][0] == "firewall-cmd"
    assert "--add-entry=2001:db8::/32" in commands[0]
    with pytest.raises(ValueError, match="format must be"):
        blocks.render("pf")  # type: ignore[call-overload]


def test_elements_and_to_dict() -> None:
    blocks = halfopen.BlockSet(ttl=5)
    block = blocks.add("198.18.1.0/24", "why", now=0)
    assert blocks.elements(now=1_000) == [(ipaddress.IPv4Network("198.18.1.0/24"), 4.0)]
    assert blocks.elements(now=5_000) == []
    assert block.to_dict() == {
        "prefix": "198.18.1.0/24",
        "expires": 5_000,
        "reason": "why",
        "first_seen": 0,
        "last_seen": 0,
        "strikes": 1,
    }
    assert "198.18.1.0/24" in repr(block)


def test_default_clock_is_monotonic_ms() -> None:
    blocks = halfopen.BlockSet(ttl=60)
    before = halfopen.monotonic_ms()
    block = blocks.add("198.18.9.0/24")
    after = halfopen.monotonic_ms()
    assert before + MIN <= block.expires <= after + MIN
    assert 59.0 <= block.remaining() <= 60.0


def test_firewalld_setup_creates_the_ipsets_it_renders_into() -> None:
    setup = halfopen.firewalld_setup()
    assert all(argv[0] == "firewall-cmd" for argv in setup)
    assert setup[-1] == ["firewall-cmd", "--reload"]
    created = {a.split("=", 1)[1] for argv in setup for a in argv if a.startswith("--new-ipset=")}
    blocks = halfopen.BlockSet()
    blocks.add("198.18.0.0/16", now=0)
    blocks.add("2001:db8::/32", now=0)
    used = {a.split("=", 1)[1] for argv in blocks.render("firewalld", now=0) for a in argv if a.startswith("--ipset=")}
    assert used == created == {"halfopen4", "halfopen6"}


def test_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / "blocks.state"
    blocks = halfopen.BlockSet(ttl=60)
    blocks.add("198.18.1.0/24", "syn flood", now=1_000_000)
    blocks.add("2001:db8::/48", now=1_000_000, ttl=30)
    blocks.save(path, now=1_010_000)
    # On the same clock, 20 s after the save: the time since counts.
    same = halfopen.BlockSet.load(path, now=1_030_000)
    assert [(str(b.prefix), b.expires, b.reason) for b in same] == [
        ("198.18.1.0/24", 1_060_000, "syn flood"),
        ("2001:db8::/48", 1_030_000, ""),
    ]
    assert [str(b.prefix) for b in same.expire(now=1_030_000)] == ["2001:db8::/48"]
    # After a reboot (a clock that started again), each keeps what it had left.
    kept = halfopen.BlockSet.load(path, now=5_000, resume="keep_remaining")
    assert [b.remaining(now=5_000) for b in kept] == [50.0, 20.0]
    assert halfopen.BlockSet.load(path, now=5_000).get("198.18.1.0/24").expires == 55_000  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="resume must be"):
        halfopen.BlockSet.load(path, resume="later")  # type: ignore[arg-type]


def test_a_damaged_state_file_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "blocks.state"
    blocks = halfopen.BlockSet()
    blocks.add("198.18.1.0/24", "x", now=0)
    blocks.save(path, now=0)
    path.write_text(path.read_text()[:-10])
    with pytest.raises(halfopen.StateError):
        halfopen.BlockSet.load(path, now=0)
    with pytest.raises(FileNotFoundError):
        halfopen.BlockSet.load(tmp_path / "missing")


def test_a_restore_drops_what_the_settings_refuse(tmp_path: Path) -> None:
    path = tmp_path / "blocks.state"
    blocks = halfopen.BlockSet()
    blocks.add("198.18.1.0/24", now=0)
    blocks.add("198.18.2.0/24", now=0)
    blocks.save(path, now=0)
    restored = halfopen.BlockSet.load(path, now=0, allowlist=["198.18.2.0/25"])
    assert [str(b.prefix) for b in restored] == ["198.18.1.0/24"]
    assert len(restored.refused) == 1 and "198.18.2.0/24" in restored.refused[0]
