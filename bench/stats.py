"""Latency summaries shared by the benchmarks (medians: these machines are noisy)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def phase_medians(runs: list[dict[str, float]]) -> list[tuple[str, float, int]]:
    """Per milestone label (e.g. "activity started"): its median over the runs that reached
    it and how many did, ordered by that median, so the rows read as one run's timeline."""
    labels: dict[str, list[float]] = {}
    for run in runs:
        for label, ms in run.items():
            labels.setdefault(label, []).append(ms)
    rows = [(label, median(values), len(values)) for label, values in labels.items()]
    return sorted(rows, key=lambda row: row[1])


@dataclass(frozen=True)
class Run:
    name: str
    count: int
    wall_s: float
    latencies_s: list[float]

    @property
    def per_second(self) -> float:
        return self.count / self.wall_s

    @property
    def p50_ms(self) -> float:
        return median(self.latencies_s) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_s, 99) * 1000

    def row(self) -> str:
        return (
            f"{self.name:<34} {self.count:>5} {self.wall_s:>8.2f} s {self.per_second:>9.1f}/s "
            f"p50 {self.p50_ms:>8.1f} ms  p99 {self.p99_ms:>8.1f} ms"
        )
