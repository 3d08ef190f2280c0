"""The error the command line reports as one line, and the state file's lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
from typing import Iterator


class UserError(Exception):
    """A mistake of the operator's (or a refusal of a tool), reported as one line."""


@contextlib.contextmanager
def state_lock(path: str) -> Iterator[None]:
    """Holds ``PATH.lock`` exclusively, so ``watch`` and ``release`` never
    both rewrite the state file at once."""
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
