"""``python -m halfopen``: the command line, as the ``halfopen`` script runs it."""

from halfopen.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
