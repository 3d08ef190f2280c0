"""The report binding: Config, Report and PrefixReport."""

from __future__ import annotations

import ipaddress
import json
import threading
from collections import Counter
from pathlib import Path

import pytest

import halfopen
import tables


def flood_table() -> tuple[bytes, list[tables.Row]]:
    """A listener, a walk of 200 spoofed sources through 198.18.7.0/24 and a few clients."""
    rows = tables.flood4(200)
    rows += [
        tables.Row("198.19.0.1", 22, f"198.51.100.{i}", 40000 + i, "ESTABLISHED", inode=100 + i)
        for i in range(1, 4)
    ]
    rows += [tables.Row("198.19.0.1", 443, "203.0.113.9", 50000, "SYN_RECV")]
    return tables.table(rows), rows


def test_counts_match_the_rows() -> None:
    data, rows = flood_table()
    report = halfopen.Report.from_bytes(data)
    half_open = [r for r in rows if r.state == "SYN_RECV"]
    assert report.half_open == len(half_open)
    assert report.half_open_by_family == {"ipv4": len(half_open), "ipv6": 0}
    assert report.by_state == dict(Counter(r.state for r in rows))
    per_listener = Counter((ipaddress.ip_address(r.local), r.local_port) for r in half_open)
    assert report.listeners == [(a, p, n) for (a, p), n in per_listener.most_common()]
    assert report.distinct_sources == len({r.remote for r in half_open})
    assert report.origin is None


def test_a_walk_is_blocked_with_its_signs() -> None:
    report = halfopen.Report.from_bytes(flood_table()[0])
    (top, *_) = report.prefixes
    assert top.prefix == ipaddress.IPv4Network("198.18.7.0/24")
    assert (top.half_open, top.sources, top.verdict) == (200, 200, "block")
    assert "sequential_walk" in top.signs
    assert top.reason
    assert top.evidence["entries"] == 200
    assert [p.prefix for p in report.blocks()] == [top.prefix]
    assert top.to_dict() == json.loads(top.to_json())
    assert "198.18.7.0/24" in repr(top)


def test_json_is_core_json() -> None:
    report = halfopen.Report.from_bytes(flood_table()[0])
    text = report.to_json()
    assert report.to_dict() == json.loads(text)
    assert json.loads(report.to_json_pretty()) == json.loads(text)
    assert text.startswith('{"half_open":201,')
    again = halfopen.Report.from_json(text)
    assert again.to_json() == text
    with pytest.raises(ValueError, match="not a report"):
        halfopen.Report.from_json("{}")


def test_every_way_in_gives_the_same_report(tmp_path: Path) -> None:
    data, _ = flood_table()
    six = tables.table(tables.flood6(120), version=6)
    (tmp_path / "tcp").write_bytes(data)
    (tmp_path / "tcp6").write_bytes(six)
    from_files = halfopen.Report.from_files(tmp_path / "tcp", str(tmp_path / "tcp6"))
    entries = halfopen.parse(data) + halfopen.parse(six)
    from_entries = halfopen.Report.from_entries(entries)
    from_dir = halfopen.Report.live(netns=tmp_path, source="proc", allow_host=False)
    assert from_files.to_json() == from_dir.to_json()
    assert from_files.origin == "file" and from_dir.origin == "file"
    assert from_entries.origin is None and "source" not in from_entries.to_dict()
    assert from_entries.to_dict() == {k: v for k, v in from_files.to_dict().items() if k != "source"}
    assert from_files.half_open_by_family == {"ipv4": 201, "ipv6": 120}
    blocked = {str(p.prefix) for p in from_files.blocks()}
    assert "198.18.7.0/24" in blocked
    assert any(p.startswith("2001:db8:7:") or p.startswith("2001:db8:7::") for p in blocked)


def test_settings_as_keywords_or_config() -> None:
    data, _ = flood_table()
    config = halfopen.Config(levels_v4=[32, 16], min_entries=10, allowlist=["198.18.0.0/16"])
    assert config.levels_v4 == [32, 16]
    assert ipaddress.IPv4Network("198.18.0.0/16") in config.allowlist
    assert ipaddress.IPv4Network("127.0.0.0/8") in config.allowlist
    with_config = halfopen.Report.from_bytes(data, config=config)
    with_keywords = halfopen.Report.from_bytes(
        data, levels_v4=[32, 16], min_entries=10, allowlist=[ipaddress.ip_network("198.18.0.0/16")]
    )
    assert with_config.to_json() == with_keywords.to_json()
    (top, *_) = with_config.prefixes
    assert top.prefix == ipaddress.IPv4Network("198.18.0.0/16")
    assert top.verdict == "allow"
    with pytest.raises(ValueError, match="not both"):
        halfopen.Report.from_bytes(data, config=config, min_entries=3)


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(halfopen.ConfigError, match="longer than an IPv4 address"):
        halfopen.Config(levels_v4=[33])
    with pytest.raises(halfopen.ConfigError):
        halfopen.Config(min_share=1.5)
    with pytest.raises(ValueError):
        halfopen.Config(min_block_len_v6=129)
    with pytest.raises(halfopen.PrefixError):
        halfopen.Config(allowlist=["198.18.0.0/40"])
    with pytest.raises(TypeError):
        halfopen.Config(levels=[24])  # type: ignore[call-arg]


def test_threshold_follows_the_config() -> None:
    config = halfopen.Config(min_entries=50, min_share=0.01)
    assert config.threshold(100) == 50
    assert config.threshold(1_000_000) == 10_000


def test_the_block_set_takes_a_report() -> None:
    report = halfopen.Report.from_bytes(flood_table()[0])
    blocks = halfopen.BlockSet(ttl=120)
    held = blocks.add_report(report, now=0)
    assert [b.prefix for b in held] == [ipaddress.IPv4Network("198.18.7.0/24")]
    assert held[0].reason == report.prefixes[0].reason
    assert held[0].expires == 120_000
    allowing = halfopen.BlockSet(allowlist=["198.18.7.128/25"])
    assert allowing.add_report(report, now=0) == []
    assert allowing.stats["refused_allowlisted"] == 1


def test_live_report_of_this_namespace() -> None:
    report = halfopen.Report.live()
    assert report.origin in ("netlink", "proc")
    assert report.half_open == sum(report.half_open_by_family.values())
    # The host's own addresses never get a block verdict.
    assert all(p.verdict != "block" or not p.prefix.is_loopback for p in report.prefixes)


def test_two_threads_report_at_once() -> None:
    data = tables.table(tables.flood4(30000))
    expected = halfopen.Report.from_bytes(data).to_json()
    results: list[str] = []

    def work() -> None:
        for _ in range(3):
            results.append(halfopen.Report.from_bytes(data).to_json())

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 6


def test_counters_join_the_report() -> None:
    import time

    report = halfopen.Report.from_bytes(flood_table()[0])
    assert report.rates is None and report.alerts is None and report.undercount is None
    sampler = halfopen.CounterSampler()
    sampler.sample()
    time.sleep(0.02)
    sampler.sample()
    joined = report.with_counters(sampler)
    assert joined.rates is not None and "TcpExt.SyncookiesSent" in joined.rates
    assert isinstance(joined.alerts, list)
    assert joined.to_dict()["rates"]["counters"] == joined.rates
    assert joined.to_dict()["prefixes"] == report.to_dict()["prefixes"]
