"""The parser binding: parse, parse_file, read_live and TcpEntry."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import threading
from pathlib import Path

import socket

import pytest

import halfopen
import tables


def test_parse_matches_the_rows_written() -> None:
    rows = tables.flood4(50)
    entries = halfopen.parse(tables.table(rows))
    assert len(entries) == len(rows)
    for slot, (row, entry) in enumerate(zip(rows, entries)):
        assert entry.slot == slot
        assert entry.local_address == ipaddress.ip_address(row.local)
        assert entry.local_port == row.local_port
        assert entry.remote_address == ipaddress.ip_address(row.remote)
        assert entry.remote_port == row.remote_port
        assert entry.state == row.state
        assert entry.state_code == tables.STATES[row.state]
        assert entry.inode == row.inode
        assert entry.family == 4
        assert entry.is_half_open == (row.state == "SYN_RECV")
        assert entry.is_request == (row.state == "SYN_RECV" and row.inode == 0)


def test_parse_ipv6_gives_ipv6_addresses() -> None:
    rows = tables.flood6(20)
    entries = halfopen.parse(tables.table(rows, version=6), family=6)
    assert [e.remote_address for e in entries] == [ipaddress.IPv6Address(r.remote) for r in rows]
    assert all(isinstance(e.local_address, ipaddress.IPv6Address) for e in entries)
    assert {e.family for e in entries} == {6}


def test_parse_counts_fields_other_than_addresses() -> None:
    row = tables.Row("10.0.0.1", 22, "198.18.0.9", 80, "SYN_RECV", rx_queue=7, retransmits=3, uid=1000)
    (entry,) = halfopen.parse(tables.table([row]))
    assert (entry.rx_queue, entry.retransmits, entry.uid, entry.timer) == (7, 3, 1000, 1)


def test_header_is_optional_and_empty_input_is_empty() -> None:
    rows = tables.flood4(3)
    assert halfopen.parse(tables.table(rows, header=False)) == halfopen.parse(tables.table(rows))
    assert halfopen.parse(b"") == []
    assert halfopen.parse(tables.HEADER4.encode() + b"\n") == []


def test_to_line_round_trips() -> None:
    entries = halfopen.parse(tables.table(tables.flood4(5)))
    again = halfopen.parse(("\n".join(e.to_line() for e in entries) + "\n").encode())
    assert again == entries


def test_entries_are_hashable_and_immutable() -> None:
    entries = halfopen.parse(tables.table(tables.flood4(4)))
    assert len(set(entries + entries)) == len(entries)
    with pytest.raises(AttributeError):
        entries[0].inode = 5  # type: ignore[misc]
    assert "SYN_RECV" in repr(entries[1])


def test_family_is_checked() -> None:
    data = tables.table(tables.flood4(2))
    with pytest.raises(halfopen.ParseError) as info:
        halfopen.parse(data, family=6)
    assert info.value.field == "local_address"
    with pytest.raises(ValueError, match="family must be 4, 6 or None"):
        halfopen.parse(data, family=5)  # type: ignore[arg-type]


def test_parse_file_reads_a_capture(tcp_file: Path, tcp6_file: Path) -> None:
    assert halfopen.parse_file(tcp_file) == halfopen.parse(tcp_file.read_bytes())
    assert halfopen.parse_file(str(tcp6_file), family=6) == halfopen.parse(tcp6_file.read_bytes())


def test_read_live_reads_this_namespace() -> None:
    # A listener of our own must show up, with the inode of its socket.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        mine = [e for e in halfopen.read_live() if e.local_port == port and e.state == "LISTEN"]
        assert len(mine) == 1
        assert mine[0].local_address == ipaddress.IPv4Address("127.0.0.1")
        assert mine[0].inode == os.stat(f"/proc/self/fd/{s.fileno()}").st_ino


def test_read_live_of_a_pid_is_that_namespace() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert any(e.local_port == port for e in halfopen.read_live(pid=os.getpid()))
        assert any(e.local_port == port for e in halfopen.read_live(netns=f"/proc/{os.getpid()}/ns/net"))
    with pytest.raises(FileNotFoundError):
        halfopen.read_live(pid=2**31 - 1)


@pytest.mark.parametrize("source", ["auto", "netlink", "proc"])
def test_every_source_sees_a_listener_and_its_connection(source: str) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            mine = [
                e
                for e in halfopen.read_live(source=source)
                if port in (e.local_port, e.remote_port) and e.local_address.is_loopback
            ]
            assert sorted(e.state for e in mine) == ["ESTABLISHED", "ESTABLISHED", "LISTEN"]
            client_port = client.getsockname()[1]
            assert {e.local_port for e in mine if e.state == "ESTABLISHED"} == {port, client_port}
            only = halfopen.read_live(source=source, states=["listen"])
            assert {e.state for e in only} == {"LISTEN"}
            assert any(e.local_port == port for e in only)


def test_read_live_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="source must be"):
        halfopen.read_live(source="carrier-pigeon")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown TCP state"):
        halfopen.read_live(states=["HALF_CLOSED"])
    with pytest.raises(ValueError, match="not both"):
        halfopen.read_live(1, netns="x")
    with pytest.raises(FileNotFoundError) as info:
        halfopen.read_live(netns="ho-no-such-namespace")
    assert info.value.filename == "/var/run/netns/ho-no-such-namespace"


def test_two_threads_parse_at_once() -> None:
    data = tables.table(tables.flood4(20000))
    expected = halfopen.parse(data)
    results: list[int] = []

    def work() -> None:
        for _ in range(5):
            results.append(len(halfopen.parse(data)))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [len(expected)] * 10


def test_the_gil_is_released_while_reading(tmp_path: Path) -> None:
    # parse_file blocks reading a FIFO that only another Python thread of the
    # same process fills: had parse_file kept the GIL, that thread could not
    # run and the child would hang until the timeout.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = tables.table(tables.flood4(100))
    child = f"""
import threading, halfopen
def feed():
    with open({str(fifo)!r}, "wb") as f:
        f.write({data!r})
t = threading.Thread(target=feed)
t.start()
print(len(halfopen.parse_file({str(fifo)!r})))
t.join()
"""
    out = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == 101
