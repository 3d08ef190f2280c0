"""Text views of reports and block sets, for people at a terminal."""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

import halfopen

#: Kernel counters the watch view shows, with a short label.
COUNTERS = (
    ("TcpExt.SyncookiesSent", "SYN cookies sent"),
    ("TcpExt.SyncookiesFailed", "SYN cookies failed"),
    ("TcpExt.ListenOverflows", "listen overflows"),
    ("TcpExt.ListenDrops", "listen drops"),
    ("TcpExt.TCPReqQFullDrop", "SYN queue full drops"),
    ("Tcp.PassiveOpens", "passive opens"),
    ("Tcp.InSegs", "TCP segments in"),
    ("Tcp.OutRsts", "RSTs out"),
    ("Icmp.InEchos", "ICMP echo requests"),
)


def seconds(value: float) -> str:
    """A duration as people read it: ``45s``, ``9m30s``, ``2h05m``, ``3d04h``."""
    s = int(value + 0.5)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def bar(value: int, largest: int, width: int) -> str:
    """A bar of ``width`` cells at most, proportional to ``value``."""
    if largest <= 0 or width <= 0:
        return ""
    cells = max(1, round(width * value / largest)) if value > 0 else 0
    return "#" * cells


def table(rows: Sequence[Sequence[str]], align: str) -> list[str]:
    """Columns padded to their widest cell; ``align`` has ``<`` or ``>`` per column."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [
            c.ljust(w) if a == "<" else c.rjust(w) for c, w, a in zip(r, widths, align)
        ]
        out.append("  ".join(cells).rstrip())
    return out


def headline(report: halfopen.Report) -> str:
    """``4812 half-open (IPv4 4312, IPv6 500) read via netlink; threshold 50``."""
    fam = report.half_open_by_family
    via = f" read via {report.origin}" if report.origin else ""
    return (
        f"{report.half_open} half-open (IPv4 {fam['ipv4']}, IPv6 {fam['ipv6']}){via}; "
        f"{report.distinct_sources} sources; a prefix needs {report.threshold}"
    )


def listener_lines(report: halfopen.Report, limit: int, width: int = 30) -> list[str]:
    """Half-open entries per listener, with bars."""
    shown = report.listeners[:limit]
    if not shown:
        return ["  (no half-open connections)"]
    largest = shown[0][2]
    rows = [
        (f"{'[' + str(a) + ']' if a.version == 6 else a}:{p}", str(n), bar(n, largest, width))
        for a, p, n in shown
    ]
    lines = ["  " + line for line in table(rows, "<><")]
    if len(report.listeners) > limit:
        lines.append(f"  ... {len(report.listeners) - limit} more")
    return lines


def prefix_lines(
    prefixes: Sequence[halfopen.PrefixReport], limit: int, bars: bool, width: int = 20
) -> list[str]:
    """The reported prefixes: entries, sources, verdict, signs and reason."""
    if not prefixes:
        return ["  (no prefix reached the threshold)"]
    shown = prefixes[:limit]
    largest = max(p.half_open for p in shown)
    header = ("PREFIX", "HALF-OPEN", "SOURCES", "VERDICT", "SIGNS", "REASON")
    rows = [header] + [
        (
            str(p.prefix),
            str(p.half_open),
            str(p.sources),
            p.verdict,
            ",".join(p.signs) or "-",
            p.reason,
        )
        for p in shown
    ]
    lines = table(rows, "<>><<<")
    if bars:
        lines = [lines[0]] + [
            f"{line}\n    {bar(p.half_open, largest, width)}" for line, p in zip(lines[1:], shown)
        ]
    out = ["  " + line.replace("\n", "\n  ") for line in lines]
    if len(prefixes) > limit:
        out.append(f"  ... {len(prefixes) - limit} more")
    return out


def scan_text(report: halfopen.Report) -> str:
    """What ``halfopen scan`` prints."""
    lines = [headline(report), "", "Half-open by listener"]
    lines += listener_lines(report, limit=20)
    lines += ["", "Reported prefixes"]
    lines += prefix_lines(report.prefixes, limit=50, bars=False)
    return "\n".join(lines)


def block_lines(blocks: Iterable[halfopen.Block], now: int, limit: Optional[int] = None) -> list[str]:
    """Active blocks with the time they have left."""
    all_blocks = list(blocks)
    shown = all_blocks if limit is None else all_blocks[:limit]
    if not shown:
        return ["  (no active blocks)"]
    rows = [("PREFIX", "LEFT", "STRIKES", "REASON")] + [
        (str(b.prefix), seconds(b.remaining(now)), str(b.strikes), b.reason or "-") for b in shown
    ]
    out = ["  " + line for line in table(rows, "<>><")]
    if len(all_blocks) > len(shown):
        out.append(f"  ... {len(all_blocks) - len(shown)} more")
    return out


def blocks_text(blocks: halfopen.BlockSet, now: int) -> str:
    """What ``halfopen blocks`` prints."""
    return "\n".join([f"{len(blocks)} active blocks"] + block_lines(blocks, now))


def counter_lines(report: halfopen.Report) -> list[str]:
    """Kernel counters and their rates per second, and the counter alerts."""
    rates = report.rates
    if rates is None:
        return ["  (rates after the second snapshot)"]
    counters = report.to_dict().get("counters") or {}
    values = counters.get("counters", {}) if isinstance(counters, dict) else {}
    rows = [("COUNTER", "TOTAL", "PER SECOND")]
    for key, label in COUNTERS:
        if key in rates:
            rows.append((label, str(values.get(key, "-")), f"{rates[key]:.1f}"))
    lines = ["  " + line for line in table(rows, "<>>")]
    for alert in report.alerts or []:
        lines.append(f"  ALERT {alert.get('message', alert)}")
    for reason in report.undercount or []:
        text = reason.get("message", reason) if isinstance(reason, dict) else reason
        lines.append(f"  note: {text}")
    return lines


def watch_screen(
    report: halfopen.Report,
    blocks: halfopen.BlockSet,
    now: int,
    status: str,
    rows: int,
) -> str:
    """One frame of the live terminal view, at most ``rows`` lines tall."""
    lines = [f"halfopen watch  {status}", headline(report), "", "Top prefixes"]
    lines += prefix_lines(report.prefixes, limit=8, bars=True)
    lines += ["", "Half-open by listener"]
    lines += listener_lines(report, limit=5)
    lines += ["", "Kernel counters"]
    lines += counter_lines(report)
    lines += ["", f"Active blocks ({len(blocks)})"]
    lines += block_lines(blocks, now, limit=10)
    text = "\n".join(lines).split("\n")
    return "\n".join(text[: max(rows - 1, 10)])
