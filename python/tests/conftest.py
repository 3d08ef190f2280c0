"""Shared fixtures: captured tables written to temporary files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import tables  # noqa: E402


@pytest.fixture
def tcp_file(tmp_path: Path) -> Path:
    """A captured IPv4 table: a listener on port 80 and a flood from 198.18.7.0/24."""
    path = tmp_path / "tcp"
    path.write_bytes(tables.table(tables.flood4(200)))
    return path


@pytest.fixture
def tcp6_file(tmp_path: Path) -> Path:
    """A captured IPv6 table: a listener on port 443 and a flood from 2001:db8:7::/48."""
    path = tmp_path / "tcp6"
    path.write_bytes(tables.table(tables.flood6(150), version=6))
    return path
