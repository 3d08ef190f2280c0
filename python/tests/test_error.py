"""The exception hierarchy and the mapping from core's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

import halfopen
import tables

GOOD = tables.Row("10.0.0.1", 80, "198.18.0.1", 1024, "SYN_RECV").line(0)


def test_hierarchy() -> None:
    assert issubclass(halfopen.Error, Exception)
    assert issubclass(halfopen.ParseError, halfopen.Error)
    assert issubclass(halfopen.ParseError, ValueError)
    assert not issubclass(halfopen.Error, ValueError)
    assert issubclass(halfopen.SourceError, halfopen.Error)
    assert issubclass(halfopen.SourceError, ValueError)
    assert issubclass(halfopen.NetlinkError, halfopen.Error)
    assert halfopen.ParseError.__module__ == "halfopen"
    assert halfopen.Error.__module__ == "halfopen"


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        (GOOD.replace(":0400", ":04ZZ", 1), "rem_port", 'field rem_port: not hexadecimal: "04ZZ"'),
        (GOOD.replace(" 03 ", " 0F ", 1), "st", "unknown TCP state code 0x0f"),
        (GOOD.replace("0100000A:", "0100000A00:", 1), "local_address", "address has 10 hex digits, an IPv4 table needs 8"),
        ("   0: 0100000A:0050", None, "expected at least 10 columns, found 2"),
    ],
)
def test_parse_error_names_line_and_field(line: str, field: str | None, message: str) -> None:
    data = (tables.HEADER4 + "\n" + GOOD + "\n" + line + "\n").encode()
    with pytest.raises(halfopen.ParseError, match=message) as info:
        halfopen.parse(data)
    assert info.value.line == 3
    assert info.value.field == field
    assert info.value.path is None
    assert str(info.value).startswith("line 3: ")


def test_truncated_input_is_a_parse_error() -> None:
    with pytest.raises(halfopen.ParseError, match="cut short") as info:
        halfopen.parse((GOOD + "\n" + GOOD[:30]).encode())
    assert (info.value.line, info.value.field) == (2, None)


def test_parse_error_from_a_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tcp"
    path.write_text(GOOD + "\n" + GOOD.replace(" 03 ", " XY ", 1) + "\n")
    with pytest.raises(halfopen.ParseError) as info:
        halfopen.parse_file(path)
    assert info.value.path == str(path)
    assert (info.value.line, info.value.field) == (2, "st")
    assert str(info.value).startswith(f"{path}: line 2: ")


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError) as info:
        halfopen.parse_file(missing)
    assert info.value.filename == str(missing)
    assert info.value.errno == 2


def test_a_directory_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        halfopen.parse_file(tmp_path)


def test_unknown_family_in_the_first_row() -> None:
    with pytest.raises(halfopen.ParseError, match=r"neither 8 \(IPv4\) nor 32 \(IPv6\)") as info:
        halfopen.parse(GOOD.replace("0100000A:", "0100000A00:", 1).encode() + b"\n")
    assert (info.value.line, info.value.field) == (1, "local_address")


def test_netlink_cannot_read_a_directory_of_captures(tmp_path: Path) -> None:
    (tmp_path / "tcp").write_text(GOOD + "\n")
    # /proc reads the captures (tcp6 may be missing, as on a kernel without IPv6).
    (entry,) = halfopen.read_live(netns=str(tmp_path), source="proc")
    assert entry.remote_port == 1024
    assert halfopen.read_live(netns=tmp_path) == [entry]
    with pytest.raises(halfopen.SourceError, match="cannot be read through netlink"):
        halfopen.read_live(netns=tmp_path, source="netlink")
