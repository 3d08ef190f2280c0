"""The operator's command line: ``halfopen`` (also ``python -m halfopen``).

Every command reads the kernel's tables (or captured copies of them) through
the native module; nothing here decides anything core does not decide. User
errors (a bad file, a bad prefix, missing privileges) print one line to
stderr and exit with a non-zero status, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, NoReturn, Optional, Sequence

import halfopen

#: Exit status for a user error (bad input, missing privileges).
EXIT_ERROR = 1
#: Exit status for a bad command line (argparse's own).
EXIT_USAGE = 2
#: Exit status after Ctrl-C outside ``watch``.
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """A mistake of the operator's, reported as one line without a traceback."""


def fail(message: str) -> NoReturn:
    """Stops the command with ``message`` as a user error."""
    raise UserError(message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="halfopen",
        description="See SYN floods and spoofed sources in the kernel's TCP tables, "
        "and block the prefixes they come from for a limited time.",
    )
    parser.add_argument("--version", action="version", version=f"halfopen {halfopen.__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    return parser


Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as e:
        return report_error(str(e))
    except BrokenPipeError:
        return EXIT_ERROR
    except FileNotFoundError as e:
        return report_error(f"{e.filename}: no such file")
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
