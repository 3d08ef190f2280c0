"""The operator's command line: ``halfopen`` (also ``python -m halfopen``).

Commands:

- ``scan``: one snapshot (live, or captured tables) and its report;
- ``watch``: every few seconds, snapshot, decide, keep the block set with its
  TTLs, apply the changes to the firewall and save the state;
- ``blocks``, ``release``, ``export``: look at, shorten or render the saved
  block set.

Every decision is core's; this module parses arguments, runs the firewall
tools and prints. User errors (a bad file, a bad prefix, missing privileges)
print one line to stderr and exit with status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Callable, NoReturn, Optional, Sequence

import halfopen
from halfopen import firewall, view
from halfopen.cli_errors import UserError, state_lock

#: Exit status for a user error (bad input, missing privileges).
EXIT_ERROR = 1
#: Exit status for a bad command line (argparse's own).
EXIT_USAGE = 2
#: Exit status after Ctrl-C outside ``watch``.
EXIT_INTERRUPTED = 130

#: Where ``watch`` keeps the block set unless ``--state`` says otherwise.
DEFAULT_STATE = "/var/lib/halfopen/blocks.state"

FORMATS = ("nft", "ipset", "firewalld")


def fail(message: str) -> NoReturn:
    """Stops the command with ``message`` as a user error."""
    raise UserError(message)


_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def duration(text: str) -> float:
    """Seconds in ``text``: ``90``, ``90s``, ``10m``, ``1h``, ``2d`` or ``1h30m``."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([smhd]?)", text.strip().lower())
    rebuilt = "".join(n + u for n, u in parts)
    if not parts or rebuilt != re.sub(r"\s+", "", text.strip().lower()):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 90s, 10m, 1h)")
    seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"duration must be more than 0: {text!r}")
    return seconds


def interval(text: str) -> float:
    """A positive number of seconds (a duration such as ``5`` or ``2s``)."""
    return duration(text)


def levels(text: str) -> list[int]:
    """Prefix lengths: ``32,24,16``."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of prefix lengths: {text!r}") from None


def positive_int(text: str) -> int:
    """A whole number above 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def add_source_options(p: argparse.ArgumentParser) -> None:
    """``--pid``, ``--netns`` and ``--source``: whose live tables, read how."""
    whose = p.add_mutually_exclusive_group()
    whose.add_argument("--pid", type=positive_int, help="read the network namespace of this process")
    whose.add_argument(
        "--netns",
        metavar="NAME",
        help="read this network namespace: a name made by 'ip netns add', or a namespace file",
    )
    p.add_argument(
        "--source",
        choices=("auto", "netlink", "proc"),
        default="auto",
        help="how to read live tables (default: netlink, falling back to /proc)",
    )


def add_config_options(p: argparse.ArgumentParser) -> None:
    """The report settings an operator may change."""
    g = p.add_argument_group("report settings")
    g.add_argument("--levels-v4", type=levels, metavar="LENS", help="IPv4 prefix lengths (default 32,24,16)")
    g.add_argument("--levels-v6", type=levels, metavar="LENS", help="IPv6 prefix lengths (default 128,64,48,32)")
    g.add_argument("--min-entries", type=positive_int, metavar="N", help="least half-open entries of a reported prefix (default 50)")
    g.add_argument("--min-share", type=float, metavar="F", help="least share of all half-open entries (default 0.01)")
    g.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="PREFIX",
        help="never block this prefix (repeatable; the host's own addresses always are)",
    )


def add_state_option(p: argparse.ArgumentParser) -> None:
    """``--state FILE``."""
    p.add_argument(
        "--state",
        default=DEFAULT_STATE,
        metavar="FILE",
        help=f"the saved block set (default {DEFAULT_STATE})",
    )


def add_apply_option(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--apply {nft,ipset,firewalld,none}``, default none."""
    p.add_argument("--apply", choices=(*FORMATS, "none"), default="none", help=help_text)


def config_from(args: argparse.Namespace) -> halfopen.Config:
    """The report settings from the command line."""
    return halfopen.Config(
        levels_v4=args.levels_v4,
        levels_v6=args.levels_v6,
        min_entries=args.min_entries,
        min_share=args.min_share,
        allowlist=args.allow or None,
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="halfopen",
        description="See SYN floods and spoofed sources in the kernel's TCP tables, "
        "and block the prefixes they come from for a limited time.",
    )
    parser.add_argument("--version", action="version", version=f"halfopen {halfopen.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    scan = sub.add_parser("scan", help="one snapshot: half-open by listener, prefixes and verdicts")
    scan.add_argument("--tcp", metavar="FILE", help="a captured /proc/net/tcp instead of the live tables")
    scan.add_argument("--tcp6", metavar="FILE", help="a captured /proc/net/tcp6 instead of the live tables")
    add_source_options(scan)
    scan.add_argument("--json", action="store_true", help="print the report's JSON exactly")
    add_config_options(scan)

    watch = sub.add_parser("watch", help="snapshot, decide and block every few seconds")
    watch.add_argument("--interval", type=interval, default=5.0, metavar="SECONDS", help="seconds between snapshots (default 5)")
    add_state_option(watch)
    add_apply_option(watch, "apply the block set to this firewall (default none: decide and show only)")
    watch.add_argument("--ttl", type=duration, default=600.0, metavar="TIME", help="how long a first block lasts (default 10m; repeat offences last longer)")
    watch.add_argument("--ticks", type=positive_int, metavar="N", help="stop after N snapshots")
    watch.add_argument("--json", action="store_true", help="print one JSON line per tick even on a terminal")
    add_source_options(watch)
    add_config_options(watch)

    blocks = sub.add_parser("blocks", help="list the saved block set")
    add_state_option(blocks)
    blocks.add_argument("--json", action="store_true", help="one JSON object per block")

    release = sub.add_parser("release", help="end blocks before their time")
    release.add_argument("prefix", nargs="?", metavar="PREFIX", help="the blocked prefix to release")
    release.add_argument("--all", action="store_true", help="release every block")
    add_state_option(release)
    add_apply_option(release, "also remove the released prefixes from this firewall now")

    export = sub.add_parser("export", help="render the saved block set for a firewall")
    export.add_argument("--format", choices=FORMATS, required=True, help="the firewall's format")
    add_state_option(export)
    return parser


Command = Callable[[argparse.Namespace], int]


def cmd_scan(args: argparse.Namespace) -> int:
    """``halfopen scan``."""
    config = config_from(args)
    if args.tcp or args.tcp6:
        if args.pid is not None or args.netns is not None:
            fail("give --tcp/--tcp6 or --pid/--netns, not both")
        report = halfopen.Report.from_files(args.tcp, args.tcp6, config=config)
    else:
        report = halfopen.Report.live(args.pid, netns=args.netns, source=args.source, config=config)
    if args.json:
        print(report.to_json())
    else:
        print(view.scan_text(report))
    return 0


def load_blocks(path: str, ttl: Optional[float] = None, missing_ok: bool = False) -> halfopen.BlockSet:
    """The block set saved at ``path`` (an empty one if it does not exist and ``missing_ok``)."""
    if not os.path.exists(path):
        if missing_ok:
            return halfopen.BlockSet(ttl=ttl)
        fail(f"{path}: no such state file (watch creates it)")
    return halfopen.BlockSet.load(path, ttl=ttl)


def cmd_blocks(args: argparse.Namespace) -> int:
    """``halfopen blocks``."""
    blocks = load_blocks(args.state)
    now = halfopen.monotonic_ms()
    if args.json:
        import json

        for block in blocks:
            print(json.dumps({**block.to_dict(), "remaining": block.remaining(now)}))
    else:
        print(view.blocks_text(blocks, now))
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    """``halfopen release``."""
    if args.all == (args.prefix is not None):
        fail("give a PREFIX or --all")
    if args.apply != "none":
        firewall.require_root(f"release --apply {args.apply}")
    if not os.path.exists(args.state):
        fail(f"{args.state}: no such state file (watch creates it)")
    with state_lock(args.state):
        return locked_release(args)


def locked_release(args: argparse.Namespace) -> int:
    """:func:`cmd_release` with the state file locked."""
    blocks = load_blocks(args.state)
    now = halfopen.monotonic_ms()
    # The firewall holds what the state says; release, then remove the rest.
    blocks.mark_synced(now)
    if args.all:
        released = blocks.release_all(now=now)
    else:
        block = blocks.release(args.prefix, now=now)
        if block is None:
            held = blocks.covering(args.prefix)
            hint = f" (it is inside the blocked {held.prefix})" if held is not None else ""
            fail(f"{args.prefix} is not blocked{hint}")
        released = [block]
    blocks.save(args.state, now=now)
    if args.apply != "none":
        firewall.apply(args.apply, blocks.render(args.apply, blocks.diff(now)))
    for block in released:
        print(f"released {block.prefix}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``halfopen export``."""
    blocks = load_blocks(args.state)
    rendered = blocks.render(args.format)
    if isinstance(rendered, str):
        sys.stdout.write(rendered)
    else:
        import shlex

        for argv in rendered:
            print(shlex.join(argv))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """``halfopen watch``."""
    from halfopen.watch import Watch

    return Watch(args, config_from(args)).run()


COMMANDS: dict[str, Command] = {
    "scan": cmd_scan,
    "watch": cmd_watch,
    "blocks": cmd_blocks,
    "release": cmd_release,
    "export": cmd_export,
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as e:
        return report_error(str(e))
    except BrokenPipeError:
        # The reader went away (``halfopen scan | head``); nothing to say.
        sys.stderr.close()
        return EXIT_ERROR
    except FileNotFoundError as e:
        return report_error(f"{e.filename or e}: no such file or directory")
    except PermissionError as e:
        where = f"{e.filename}: " if e.filename else ""
        return report_error(f"{where}permission denied (run as root?)")
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        return report_error(f"{where}{e.strerror or e}")
    except (halfopen.Error, ValueError) as e:
        return report_error(str(e))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def report_error(message: str) -> int:
    """Prints ``halfopen: error: MESSAGE`` to stderr; returns the exit status."""
    print(f"halfopen: error: {message}", file=sys.stderr)
    return EXIT_ERROR
