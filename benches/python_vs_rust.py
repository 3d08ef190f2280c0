"""The cost of the Python binding: ``halfopen.Report.from_bytes`` against the
same work done in Rust alone, on the same tables, in the same run.

    python benches/python_vs_rust.py [--rows 20000,100000] [--n 40] [--separate]

Two measurements, both in thread CPU time (which other processes on a busy
machine do not inflate the way they inflate wall-clock time):

- interleaved (the limit applies to it): in one process, each round calls
  the Rust-only path (``halfopen._native._bench_report_from_bytes``: parse,
  snapshot, report, timed inside Rust) and then the Python call
  ``Report.from_bytes`` (timed from Python, call overhead, argument
  conversion and result object included), so both see the same allocator,
  caches and machine load;
- ``--separate`` also runs ``benches/examples/report_table.rs``, a plain
  Rust program making the same calls, in its own process (noisier).

Needs the halfopen wheel installed in the running Python (and cargo for
``--separate``). Prints Markdown tables and exits 1 if the Python call costs
more than 1.2 times the Rust call for any table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import halfopen
from halfopen import _native

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1.2


def cargo_example(*args: str) -> str:
    """Runs the Rust program, built in release mode."""
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "halfopen-benches", "--example", "report_table", "--", *args]
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def interleaved(data: bytes, n: int) -> tuple[float, float, int]:
    """Median thread CPU ns of the Rust-only work and of the Python call, alternated."""
    rust, python = [], []
    prefixes = -1
    for _ in range(n):
        took, prefixes = _native._bench_report_from_bytes(data)
        rust.append(took)
        start = time.thread_time_ns()
        report = halfopen.Report.from_bytes(data)
        python.append(time.thread_time_ns() - start)
        assert len(report.prefixes) == prefixes, "both paths report the same prefixes"
    return statistics.median(rust), statistics.median(python), prefixes


def separate(path: Path, data: bytes, n: int) -> tuple[float, float]:
    """Median thread CPU ns of the Rust program and of the Python call, each in its own process."""
    rust_runs, python = [], []
    for _ in range(3):
        rust_runs.append(json.loads(cargo_example("time", str(path), str(n)))["cpu_median_ns"])
        for _ in range(n):
            start = time.thread_time_ns()
            halfopen.Report.from_bytes(data)
            python.append(time.thread_time_ns() - start)
    return statistics.median(rust_runs), statistics.median(python)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", default="20000,100000", help="table sizes (rows), comma-separated")
    parser.add_argument("--n", type=int, default=40, help="calls timed per table and side")
    parser.add_argument("--separate", action="store_true", help="also time the Rust program in its own process")
    args = parser.parse_args()
    cargo_example("write", "tcp", "10", "/dev/null")
    worst = 0.0
    rows_out = []
    separate_out = []
    with tempfile.TemporaryDirectory() as tmp:
        for family in ("tcp", "tcp6"):
            for rows in [int(r) for r in args.rows.split(",")]:
                path = Path(tmp) / f"{family}-{rows}"
                cargo_example("write", family, str(rows), str(path))
                data = path.read_bytes()
                halfopen.Report.from_bytes(data)  # warm up
                rust, python, prefixes = interleaved(data, args.n)
                worst = max(worst, python / rust)
                rows_out.append(
                    f"| {family} | {rows} | {prefixes} | {rust / 1e6:.2f} ms | {python / 1e6:.2f} ms | {python / rust:.3f} |"
                )
                if args.separate:
                    r, p = separate(path, data, args.n)
                    separate_out.append(f"| {family} | {rows} | {r / 1e6:.2f} ms | {p / 1e6:.2f} ms | {p / r:.3f} |")
    print("Interleaved in one process (thread CPU time, median):\n")
    print("| table | rows | prefixes | Rust | Python | ratio |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows_out))
    if separate_out:
        print("\nSeparate processes (thread CPU time, median):\n")
        print("| table | rows | Rust program | Python | ratio |")
        print("|---|---|---|---|---|")
        print("\n".join(separate_out))
    print(f"\nworst interleaved ratio, Python over Rust: {worst:.3f} (limit {LIMIT})")
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
