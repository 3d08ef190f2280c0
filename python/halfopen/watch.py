"""``halfopen watch``: snapshot, decide, block, release, every few seconds.

Each tick reads the live tables and the kernel's counters, builds the
report, adds the prefixes it blocks to the block set (with their TTLs),
ends the blocks whose time is up, applies the change to the firewall (one
batch, a full render when the incremental one fails) and saves the state,
so a restart loses nothing. On a terminal it draws a live view; otherwise
it prints one JSON line per tick. Ctrl-C (or SIGTERM) ends it cleanly,
after saving.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from types import FrameType
from typing import Any, Optional

import halfopen
from halfopen import firewall, view
from halfopen.cli_errors import UserError, state_lock


def _interrupt(signum: int, frame: Optional[FrameType]) -> None:
    """SIGTERM ends watch as Ctrl-C does."""
    raise KeyboardInterrupt


class Watch:
    """One run of ``halfopen watch``."""

    def __init__(self, args: argparse.Namespace, config: halfopen.Config) -> None:
        self.args = args
        self.config = config
        self.fmt: Optional[str] = None if args.apply == "none" else args.apply
        self.tty = sys.stdout.isatty() and not args.json
        self.blocks: Optional[halfopen.BlockSet] = None
        self.state_mtime: Optional[int] = None
        self.synced = False
        self.sampler: Optional[halfopen.CounterSampler] = None
        self.notes: list[str] = []

    def run(self) -> int:
        """Runs until Ctrl-C, SIGTERM or ``--ticks``; returns the exit status."""
        if self.fmt is not None:
            firewall.require_root(f"watch --apply {self.fmt}")
        state_dir = os.path.dirname(os.path.abspath(self.args.state))
        try:
            os.makedirs(state_dir, exist_ok=True)
            with state_lock(self.args.state):
                self.blocks = self.load()
        except PermissionError:
            raise UserError(
                f"cannot write {self.args.state}: permission denied (run as root, or give --state FILE)"
            ) from None
        try:
            self.sampler = halfopen.CounterSampler(self.args.pid, netns=self.args.netns)
        except (halfopen.Error, OSError) as e:
            self.notes.append(f"no kernel counters: {e}")
        previous = signal.signal(signal.SIGTERM, _interrupt)
        tick = 0
        try:
            while True:
                started = time.monotonic()
                self.tick(tick)
                tick += 1
                if self.args.ticks is not None and tick >= self.args.ticks:
                    break
                time.sleep(max(0.0, self.args.interval - (time.monotonic() - started)))
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            with state_lock(self.args.state):
                if not self.changed_outside():
                    self.save()
        if self.tty:
            print()
        return 0

    def load(self) -> halfopen.BlockSet:
        """The saved block set, or an empty one on the first run."""
        path = self.args.state
        if os.path.exists(path):
            blocks = halfopen.BlockSet.load(path, ttl=self.args.ttl)
            self.state_mtime = os.stat(path).st_mtime_ns
        else:
            blocks = halfopen.BlockSet(ttl=self.args.ttl)
            self.state_mtime = None
        self.synced = False
        return blocks

    def save(self) -> None:
        """Saves the block set (atomically, by core)."""
        if self.blocks is None:
            return
        self.blocks.save(self.args.state)
        self.state_mtime = os.stat(self.args.state).st_mtime_ns

    def changed_outside(self) -> bool:
        """True when someone else (``halfopen release``) rewrote the state file."""
        try:
            mtime: Optional[int] = os.stat(self.args.state).st_mtime_ns
        except FileNotFoundError:
            mtime = None
        return mtime != self.state_mtime

    def tick(self, n: int) -> None:
        """One snapshot, decision, firewall update and save."""
        with state_lock(self.args.state):
            self.locked_tick(n)

    def locked_tick(self, n: int) -> None:
        """:meth:`tick` with the state file locked."""
        if self.changed_outside():
            self.blocks = self.load()
        blocks = self.blocks
        assert blocks is not None
        now = halfopen.monotonic_ms()
        report = halfopen.Report.live(
            self.args.pid, netns=self.args.netns, source=self.args.source, config=self.config
        )
        if self.sampler is not None:
            try:
                self.sampler.sample()
                report = report.with_counters(self.sampler)
            except (halfopen.Error, OSError) as e:
                self.notes.append(f"kernel counters stopped: {e}")
                self.sampler = None
        held = blocks.add_report(report, ttl=self.args.ttl, now=now)
        expired = blocks.expire(now)
        applied = self.apply(blocks, now)
        self.save()
        if self.tty:
            self.draw(n, report, blocks, now)
        else:
            self.print_json(n, report, blocks, now, held, expired, applied)

    def apply(self, blocks: halfopen.BlockSet, now: int) -> Optional[str]:
        """Brings the firewall up to date; returns how (``"diff"``/``"full"``), or ``None``."""
        if self.fmt is None:
            return None
        if self.synced:
            diff = blocks.diff(now)
            if diff.is_empty():
                return "diff"
            try:
                firewall.apply(self.fmt, blocks.render(self.fmt, diff))
                return "diff"
            except UserError as e:
                self.notes.append(f"incremental update failed, applying in full: {e}")
        if self.fmt == "firewalld":
            firewall.ensure_firewalld_setup()
        firewall.apply(self.fmt, blocks.render(self.fmt, now=now))
        blocks.mark_synced(now)
        self.synced = True
        return "full"

    def draw(self, n: int, report: halfopen.Report, blocks: halfopen.BlockSet, now: int) -> None:
        """Redraws the terminal view."""
        size = shutil.get_terminal_size((100, 40))
        applying = f"applying to {self.fmt}" if self.fmt else "not applying (--apply none)"
        status = (
            f"tick {n + 1}, every {view.seconds(self.args.interval)}, {applying}, "
            f"state {self.args.state}; Ctrl-C to stop"
        )
        frame = view.watch_screen(report, blocks, now, status, size.lines)
        notes = "".join(f"\nnote: {note}" for note in self.notes[-3:])
        lines = [line[: size.columns] for line in (frame + notes).split("\n")]
        sys.stdout.write("\x1b[H\x1b[2J" + "\n".join(lines))
        sys.stdout.flush()

    def print_json(
        self,
        n: int,
        report: halfopen.Report,
        blocks: halfopen.BlockSet,
        now: int,
        held: list[halfopen.Block],
        expired: list[halfopen.Block],
        applied: Optional[str],
    ) -> None:
        """One JSON line for this tick."""
        line: dict[str, Any] = {
            "tick": n + 1,
            "unix_ms": int(time.time() * 1000),
            "monotonic_ms": now,
            "applied": applied,
            "format": self.fmt,
            "blocked": [str(b.prefix) for b in held],
            "expired": [str(b.prefix) for b in expired],
            "blocks": [{**b.to_dict(), "remaining": b.remaining(now)} for b in blocks],
            "notes": self.notes,
            "report": report.to_dict(),
        }
        self.notes = []
        print(json.dumps(line, separators=(",", ":")), flush=True)
