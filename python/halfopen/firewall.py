"""Applying rendered batches with the firewall's own tools.

``nft -f -`` and ``ipset restore`` read a whole batch on stdin (one
transaction for nft); firewalld batches are ``firewall-cmd`` argument lists
run one after another. Nothing goes through a shell.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Union

from halfopen.cli_errors import UserError

Batch = Union[str, list[list[str]]]

#: The program each format needs.
TOOLS = {"nft": "nft", "ipset": "ipset", "firewalld": "firewall-cmd"}


def require_root(what: str) -> None:
    """Stops with a user error unless running as root."""
    if os.geteuid() != 0:
        raise UserError(f"{what} needs root (changing the firewall does)")


def apply(fmt: str, batch: Batch) -> None:
    """Applies ``batch`` of format ``fmt``; an empty batch does nothing.

    Raises :class:`UserError` naming the tool and its message when the tool
    is missing or refuses the batch.
    """
    if not batch:
        return
    tool = TOOLS[fmt]
    if shutil.which(tool) is None:
        raise UserError(f"{tool} not found: install it or choose another --apply")
    if isinstance(batch, str):
        argv = [tool, "-f", "-"] if fmt == "nft" else [tool, "restore"]
        run(argv, batch)
    else:
        for argv in batch:
            run(argv, None)


def ensure_firewalld_setup() -> None:
    """Runs halfopen's one-time firewalld setup unless its ipsets exist."""
    import halfopen

    setup = halfopen.firewalld_setup()
    wanted = [a.split("=", 1)[1] for argv in setup for a in argv if a.startswith("--new-ipset=")]
    if shutil.which("firewall-cmd") is None:
        raise UserError("firewall-cmd not found: install firewalld or choose another --apply")
    done = subprocess.run(
        ["firewall-cmd", "--permanent", "--get-ipsets"], capture_output=True, text=True, timeout=60
    )
    if done.returncode != 0:
        raise UserError(f"firewall-cmd --get-ipsets failed: {(done.stderr or done.stdout).strip()}")
    if all(name in done.stdout.split() for name in wanted):
        return
    for argv in setup:
        run(argv, None)


def run(argv: list[str], stdin: Union[str, None]) -> None:
    """Runs one firewall command; a failure is a :class:`UserError`."""
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        first = message[0] if message else f"exit status {done.returncode}"
        raise UserError(f"{' '.join(argv[:2])} failed: {first}")
