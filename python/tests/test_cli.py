"""The command line, run as a subprocess the way an operator runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import halfopen
import tables

SCRIPT = shutil.which("halfopen", path=str(Path(sys.executable).parent))


def run(*args: str, cwd: Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m halfopen ARGS`` outside the source tree."""
    out = subprocess.run(
        [sys.executable, "-m", "halfopen", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    if check:
        assert out.returncode == 0, out.stderr
    return out


def user_error(out: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """A one-line error naming every fragment, exit status 1, no traceback."""
    assert out.returncode == 1, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("halfopen: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_version(tmp_path: Path) -> None:
    out = run("--version", cwd=tmp_path, check=True)
    assert out.stdout.strip() == f"halfopen {halfopen.__version__}"


def test_the_installed_script_is_the_same_command(tmp_path: Path) -> None:
    assert SCRIPT is not None, "the wheel installs a halfopen script beside python"
    out = subprocess.run([SCRIPT, "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == f"halfopen {halfopen.__version__}"


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    out = run(cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr


def test_scan_json_is_the_report_json(tcp_file: Path, tcp6_file: Path, tmp_path: Path) -> None:
    out = run("scan", "--tcp", str(tcp_file), "--tcp6", str(tcp6_file), "--json", cwd=tmp_path, check=True)
    expected = halfopen.Report.from_files(tcp_file, tcp6_file).to_json()
    assert out.stdout == expected + "\n"


def test_scan_text_shows_listeners_prefixes_and_verdicts(tcp_file: Path, tcp6_file: Path, tmp_path: Path) -> None:
    out = run("scan", "--tcp", str(tcp_file), "--tcp6", str(tcp6_file), cwd=tmp_path, check=True)
    report = halfopen.Report.from_files(tcp_file, tcp6_file)
    assert out.stdout.startswith(f"{report.half_open} half-open (IPv4 200, IPv6 150) read via file")
    assert "198.19.0.1:80" in out.stdout and "[2001:db8:ffff::1]:443" in out.stdout
    for p in report.prefixes:
        (line,) = [x for x in out.stdout.splitlines() if x.strip().startswith(str(p.prefix) + " ")]
        assert p.verdict in line and ",".join(p.signs) in line and str(p.half_open) in line


def test_scan_settings_change_the_report(tcp_file: Path, tmp_path: Path) -> None:
    out = run("scan", "--tcp", str(tcp_file), "--json", "--allow", "198.18.0.0/16", "--levels-v4", "32,16", cwd=tmp_path, check=True)
    verdicts = {p["prefix"]: p["verdict"] for p in json.loads(out.stdout)["prefixes"]}
    assert verdicts == {"198.18.0.0/16": "allow"}


def test_scan_live(tmp_path: Path) -> None:
    out = run("scan", "--json", cwd=tmp_path, check=True)
    assert "half_open" in json.loads(out.stdout)
    out = run("scan", "--pid", str(os.getpid()), cwd=tmp_path, check=True)
    assert "half-open" in out.stdout.splitlines()[0]


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    user_error(run("scan", "--tcp", str(tmp_path / "missing"), cwd=tmp_path), "missing", "no such file")
    bad = tmp_path / "bad"
    bad.write_text(tables.Row("10.0.0.1", 80, "198.18.0.1", 1024, "SYN_RECV").line(0).replace(" 03 ", " QQ ") + "\n")
    user_error(run("scan", "--tcp", str(bad), cwd=tmp_path), str(bad), "line 1", "field st")
    user_error(run("scan", "--allow", "198.18.0.0/99", cwd=tmp_path), "198.18.0.0/99")
    user_error(run("scan", "--levels-v4", "40", cwd=tmp_path), "/40")
    user_error(run("scan", "--pid", "2147483646", cwd=tmp_path), "2147483646")
    user_error(run("scan", "--tcp", str(bad), "--pid", "1", cwd=tmp_path), "not both")
    user_error(run("scan", "--tcp", str(bad), "--netns", "x", cwd=tmp_path), "not both")
    user_error(run("scan", "--netns", str(tmp_path / "no-such-ns"), cwd=tmp_path), "no-such-ns")
    both = run("scan", "--pid", "1", "--netns", "x", cwd=tmp_path)
    assert both.returncode == 2 and "not allowed with" in both.stderr
    usage = run("watch", "--ttl", "soon", cwd=tmp_path)
    assert usage.returncode == 2 and "not a duration" in usage.stderr


def saved_state(tmp_path: Path) -> Path:
    """A state file with an IPv4 and an IPv6 block, saved by the library."""
    blocks = halfopen.BlockSet(ttl=600)
    blocks.add("198.18.7.0/24", "syn flood", ttl=600)
    blocks.add("2001:db8:7::/48", "syn flood", ttl=300)
    path = tmp_path / "blocks.state"
    blocks.save(path)
    return path


def test_blocks_lists_the_state(tmp_path: Path) -> None:
    state = saved_state(tmp_path)
    out = run("blocks", "--state", str(state), cwd=tmp_path, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "2 active blocks"
    assert any(line.split()[:1] == ["198.18.7.0/24"] and "syn flood" in line for line in lines)
    rows = [json.loads(x) for x in run("blocks", "--state", str(state), "--json", cwd=tmp_path, check=True).stdout.splitlines()]
    assert [r["prefix"] for r in rows] == ["198.18.7.0/24", "2001:db8:7::/48"]
    assert 590 < rows[0]["remaining"] <= 600 and 290 < rows[1]["remaining"] <= 300


def test_release_one_and_all(tmp_path: Path) -> None:
    state = saved_state(tmp_path)
    out = run("release", "198.18.7.0/24", "--state", str(state), cwd=tmp_path, check=True)
    assert out.stdout.strip() == "released 198.18.7.0/24"
    assert [str(b.prefix) for b in halfopen.BlockSet.load(state)] == ["2001:db8:7::/48"]
    user_error(run("release", "2001:db8:7:1::/64", "--state", str(state), cwd=tmp_path), "not blocked", "inside the blocked 2001:db8:7::/48")
    user_error(run("release", "bogus", "--state", str(state), cwd=tmp_path), "bogus")
    user_error(run("release", "--state", str(state), cwd=tmp_path), "PREFIX or --all")
    run("release", "--all", "--state", str(state), cwd=tmp_path, check=True)
    assert len(halfopen.BlockSet.load(state)) == 0


def test_export_renders_the_state(tmp_path: Path) -> None:
    state = saved_state(tmp_path)
    nft = run("export", "--format", "nft", "--state", str(state), cwd=tmp_path, check=True).stdout
    assert nft.startswith("add table inet halfopen\n")
    assert "198.18.7.0/24 timeout" in nft and "2001:db8:7::/48 timeout" in nft
    ipset = run("export", "--format", "ipset", "--state", str(state), cwd=tmp_path, check=True).stdout
    assert "add halfopen4-new 198.18.7.0/24 timeout" in ipset
    firewalld = run("export", "--format", "firewalld", "--state", str(state), cwd=tmp_path, check=True).stdout
    assert firewalld.splitlines()[0].startswith("firewall-cmd ")
    assert "--add-entry=2001:db8:7::/48" in firewalld


def test_state_problems_are_one_line(tmp_path: Path) -> None:
    user_error(run("blocks", "--state", str(tmp_path / "none"), cwd=tmp_path), "no such state file")
    state = saved_state(tmp_path)
    state.write_text(state.read_text().replace("syn%20flood", "syn%20fluud", 1))
    user_error(run("blocks", "--state", str(state), cwd=tmp_path), "checksum")
    state.write_text("hello\n")
    user_error(run("export", "--format", "nft", "--state", str(state), cwd=tmp_path), "not a halfopen block set state file")


def test_watch_prints_json_lines_without_a_terminal(tcp_file: Path, tmp_path: Path) -> None:
    state = tmp_path / "state" / "blocks.state"
    out = run("watch", "--interval", "0.1", "--ticks", "3", "--state", str(state), "--ttl", "2m", cwd=tmp_path, check=True)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x["tick"] for x in lines] == [1, 2, 3]
    assert all(x["applied"] is None for x in lines)
    assert "half_open" in lines[0]["report"]
    # The second tick has counter rates.
    assert lines[1]["report"]["rates"] is not None
    assert state.exists()


def test_changing_the_firewall_needs_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In process, as a user without root sees it (whoever runs the tests).
    from halfopen import cli

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    state = str(tmp_path / "s")
    assert cli.main(["watch", "--apply", "nft", "--state", state]) == 1
    assert capsys.readouterr().err == "halfopen: error: watch --apply nft needs root (changing the firewall does)\n"
    halfopen.BlockSet().save(state)
    assert cli.main(["release", "--all", "--apply", "ipset", "--state", state]) == 1
    assert "release --apply ipset needs root" in capsys.readouterr().err
    # A state directory it may not write is one line too.
    locked = tmp_path / "locked"
    locked.mkdir()
    real_makedirs = os.makedirs

    def refuse(path: str, *args: object, **kwargs: object) -> None:
        if str(path).startswith(str(locked)):
            raise PermissionError(13, "Permission denied", str(path))
        real_makedirs(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "makedirs", refuse)
    assert cli.main(["watch", "--state", str(locked / "d" / "s")]) == 1
    assert "permission denied (run as root, or give --state FILE)" in capsys.readouterr().err


def test_watch_draws_on_a_terminal(tcp_file: Path, tmp_path: Path) -> None:
    import pty

    controller, terminal = pty.openpty()
    try:
        child = subprocess.run(
            [sys.executable, "-m", "halfopen", "watch", "--interval", "0.1", "--ticks", "2", "--state", str(tmp_path / "s")],
            stdout=terminal,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        os.close(terminal)
        screen = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
    finally:
        os.close(controller)
    assert child.returncode == 0, child.stderr
    text = screen.decode()
    assert text.count("\x1b[H\x1b[2J") == 2
    for heading in ("halfopen watch  tick 2", "Top prefixes", "Half-open by listener", "Kernel counters", "Active blocks (0)"):
        assert heading in text
    assert "TcpExt" not in text and "SYN cookies sent" in text


def test_a_release_reaches_a_running_watch(tmp_path: Path) -> None:
    state = saved_state(tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-m", "halfopen", "watch", "--interval", "0.2", "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert child.stdout is not None
        first = json.loads(child.stdout.readline())
        assert [b["prefix"] for b in first["blocks"]] == ["198.18.7.0/24", "2001:db8:7::/48"]
        run("release", "198.18.7.0/24", "--state", str(state), cwd=tmp_path, check=True)
        for _ in range(50):
            tick = json.loads(child.stdout.readline())
            if [b["prefix"] for b in tick["blocks"]] == ["2001:db8:7::/48"]:
                break
        else:
            raise AssertionError("watch kept the released block")
    finally:
        child.terminate()
        _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert [str(b.prefix) for b in halfopen.BlockSet.load(state)] == ["2001:db8:7::/48"]
