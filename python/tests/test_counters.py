"""The counter binding: CounterSampler over live and captured counters."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

import halfopen

FILES = ("netstat", "snmp", "snmp6", "dev")


@pytest.fixture
def net_dir(tmp_path: Path) -> Path:
    """A copy of this namespace's counter files (and an empty TCP table)."""
    for name in FILES:
        shutil.copy(f"/proc/net/{name}", tmp_path / name)
    return tmp_path


def bump(path: Path, section: str, name: str, by: int) -> int:
    """Adds ``by`` to counter ``section.name`` in a netstat/snmp file; returns the new value."""
    lines = path.read_text().splitlines()
    for i in range(0, len(lines) - 1):
        names, values = lines[i].split(), lines[i + 1].split()
        if names[0] == f"{section}:" and values[0] == f"{section}:" and name in names:
            at = names.index(name)
            values[at] = str(int(values[at]) + by)
            lines[i + 1] = " ".join(values)
            path.write_text("\n".join(lines) + "\n")
            return int(values[at])
    raise KeyError(f"{section}.{name}")


def test_rates_are_deltas_over_time(net_dir: Path) -> None:
    sampler = halfopen.CounterSampler(net_dir=net_dir)
    t0 = time.monotonic()
    assert sampler.sample() is None
    t1 = time.monotonic()
    time.sleep(0.2)
    bump(net_dir / "netstat", "TcpExt", "SyncookiesSent", 1000)
    bump(net_dir / "snmp", "Tcp", "InSegs", 500)
    t2 = time.monotonic()
    rates = sampler.sample()
    t3 = time.monotonic()
    assert rates is not None
    assert 1000 / (t3 - t0) <= rates["TcpExt.SyncookiesSent"] <= 1000 / (t2 - t1)
    assert 500 / (t3 - t0) <= rates["Tcp.InSegs"] <= 500 / (t2 - t1)
    assert rates["TcpExt.ListenOverflows"] == 0
    assert sampler.samples == 2


def test_report_is_core_json(net_dir: Path) -> None:
    sampler = halfopen.CounterSampler(net_dir=net_dir)
    sampler.sample()
    value = bump(net_dir / "netstat", "TcpExt", "SyncookiesSent", 7)
    sampler.sample()
    report = sampler.report()
    assert report == json.loads(sampler.report_json())
    assert report["counters"]["counters"]["TcpExt.SyncookiesSent"] == value
    assert "TcpExt.SyncookiesSent" in report["rates"]["counters"]


def test_live_counters_move() -> None:
    sampler = halfopen.CounterSampler(history=5)
    assert sampler.sample() is None
    time.sleep(0.05)
    rates = sampler.sample()
    assert rates is not None
    assert all(rate >= 0 for rate in rates.values())
    assert repr(sampler) == "CounterSampler(samples=2)"


def test_malformed_counters_are_parse_errors(net_dir: Path) -> None:
    text = (net_dir / "netstat").read_text().splitlines()
    text[1] = text[1].replace(" 0", " x", 1)
    (net_dir / "netstat").write_text("\n".join(text) + "\n")
    with pytest.raises(halfopen.ParseError) as info:
        halfopen.CounterSampler(net_dir=net_dir).sample()
    assert info.value.line == 2
    assert info.value.path == str(net_dir / "netstat")


def test_missing_counters_are_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        halfopen.CounterSampler(net_dir=tmp_path).sample()


def test_arguments_are_checked(tmp_path: Path) -> None:
    for both in ({"net_dir": tmp_path}, {"netns": "x"}):
        with pytest.raises(ValueError, match="one of pid, netns and net_dir"):
            halfopen.CounterSampler(1, **both)
    with pytest.raises(ValueError, match="one of pid, netns and net_dir"):
        halfopen.CounterSampler(netns="x", net_dir=tmp_path)
    with pytest.raises(ValueError, match="at least 2"):
        halfopen.CounterSampler(history=1)
