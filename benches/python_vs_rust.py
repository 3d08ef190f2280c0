"""The cost of the Python binding: ``halfopen.Report.from_bytes`` against the
same calls made from Rust (``benches/examples/report_table.rs``), on the same
tables, in the same run.

    python benches/python_vs_rust.py [--rows 20000,100000] [--n 30]

Needs the halfopen wheel installed in the running Python and cargo. Prints a
Markdown table and exits 1 if the Python call costs more than 1.2 times the
Rust call for any table.
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

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1.2


def cargo_example(*args: str) -> str:
    """Runs the Rust side, built in release mode."""
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "halfopen-benches", "--example", "report_table", "--", *args]
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def time_python(data: bytes, n: int) -> tuple[int, int, int]:
    """Median and minimum ns per ``Report.from_bytes`` call, and the prefixes reported."""
    times = []
    report = halfopen.Report.from_bytes(data)
    for _ in range(n):
        start = time.perf_counter_ns()
        report = halfopen.Report.from_bytes(data)
        times.append(time.perf_counter_ns() - start)
    return int(statistics.median(times)), min(times), len(report.prefixes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="20000,100000", help="table sizes (rows), comma-separated")
    parser.add_argument("--n", type=int, default=30, help="calls timed per table and side")
    args = parser.parse_args()
    cargo_example("write", "tcp", "10", "/dev/null")  # build once, outside the timing
    print("| table | rows | Rust median | Python median | ratio | Rust min | Python min | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for family in ("tcp", "tcp6"):
            for rows in [int(r) for r in args.rows.split(",")]:
                path = Path(tmp) / f"{family}-{rows}"
                cargo_example("write", family, str(rows), str(path))
                data = path.read_bytes()
                # Alternate the sides so a busy machine slows both alike.
                rust_runs, py_runs = [], []
                for _ in range(3):
                    rust_runs.append(json.loads(cargo_example("time", str(path), str(args.n))))
                    py_runs.append(time_python(data, args.n))
                rust_med = statistics.median(r["median_ns"] for r in rust_runs)
                py_med = statistics.median(p[0] for p in py_runs)
                rust_min = min(r["min_ns"] for r in rust_runs)
                py_min = min(p[1] for p in py_runs)
                assert rust_runs[0]["prefixes"] == py_runs[0][2], "both sides report the same prefixes"
                ratio_med, ratio_min = py_med / rust_med, py_min / rust_min
                worst = max(worst, ratio_min)
                print(
                    f"| {family} | {rows} | {rust_med / 1e6:.2f} ms | {py_med / 1e6:.2f} ms | {ratio_med:.3f} "
                    f"| {rust_min / 1e6:.2f} ms | {py_min / 1e6:.2f} ms | {ratio_min:.3f} |"
                )
    print(f"\nworst ratio of minimums: {worst:.3f} (limit {LIMIT})")
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
