"""CPU time of a process tree from /proc: the server's own cost, whatever its workers do.

A gunicorn master and its workers (and anything they start) are summed: user + system
time of each live process, plus what each has collected from children that already
exited (cutime + cstime), so a worker restarted mid-run is not lost. /proc/PID/stat
already totals every thread of a process, including finished ones.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def parse_stat(text: str) -> tuple[int, int, int]:
    """(pid, ppid, CPU ticks incl. reaped children) from one /proc/PID/stat line."""
    # The command name (field 2) may hold spaces and parentheses: split at the last ")".
    head, _, rest = text.rpartition(")")
    pid = int(head.split("(", 1)[0])
    fields = rest.split()
    # fields[0] is field 3 (state): ppid is field 4; utime, stime, cutime, cstime 14-17.
    ppid = int(fields[1])
    ticks = sum(int(value) for value in fields[11:15])
    return pid, ppid, ticks


def tree_ticks(stats: dict[int, tuple[int, int]], root: int) -> int:
    """Sum of ticks of `root` and all its descendants, from {pid: (ppid, ticks)}."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        total += stats[pid][1]
        todo.extend(children.get(pid, ()))
    return total


def read_stats(proc: Path = PROC) -> dict[int, tuple[int, int]]:
    stats = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            pid, ppid, ticks = parse_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue  # exited while we read, or not a process
        stats[pid] = (ppid, ticks)
    return stats


def tree_cpu_seconds(root: int, proc: Path = PROC) -> float:
    """CPU seconds used so far by `root` and its descendants."""
    return tree_ticks(read_stats(proc), root) / os.sysconf("SC_CLK_TCK")
