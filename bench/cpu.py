"""CPU seconds spent by named processes (and their children) over a benchmark's run.

Reads ``/proc/<pid>/stat`` (user + system time, plus the reaped children's) before and
after; Linux only. Where the time goes at a given load, per component.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system seconds of ``pid`` so far; 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after "(comm)": state is field 3 -> index 0
    return (int(fields[11]) + int(fields[12])) * _TICK_S  # utime, stime


@dataclass
class CpuMeter:
    """``start()`` then ``stop()``: CPU seconds per named group of pids in between."""

    groups: Mapping[str, list[int]]
    _before: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.groups.items()}

    def start(self) -> None:
        self._before = self._now()

    def stop(self) -> dict[str, float]:
        after = self._now()
        self.spent = {name: after[name] - self._before.get(name, 0.0) for name in self.groups}
        return self.spent

    def row(self, wall_s: float, count: int) -> str:
        """Per group: CPU seconds, share of one core over ``wall_s``, ms per operation."""
        parts = [
            f"{name} {s:.1f} s ({100 * s / wall_s:.0f}% core, {1000 * s / count:.1f} ms/op)"
            for name, s in self.spent.items()
        ]
        return "cpu: " + "; ".join(parts)


def thread_cpu_ns(pid: int) -> int:
    """CPU nanoseconds run so far by every live thread of ``pid`` (``/proc/<pid>/task/*/schedstat``:
    nanosecond resolution, where ``/proc/<pid>/stat`` counts 10 ms ticks); 0 if it is gone."""
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total
