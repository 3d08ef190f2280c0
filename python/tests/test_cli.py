"""The command line, run as a subprocess the way an operator runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import halfopen


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m halfopen ARGS`` outside the source tree."""
    return subprocess.run(
        [sys.executable, "-m", "halfopen", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_version(tmp_path: Path) -> None:
    out = run("--version", cwd=tmp_path)
    assert out.returncode == 0
    assert out.stdout.strip() == f"halfopen {halfopen.__version__}"


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    out = run(cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
