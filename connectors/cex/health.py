"""Venue health as the router sees it: is it up, how fast does it answer, is its book fresh."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from statistics import median


class HealthState(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # answering, but its book is stale
    DOWN = "down"  # the last call failed


@dataclass
class VenueHealth:
    venue: str
    started_at: float = field(default_factory=time.monotonic)
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=512))
    failures: int = 0
    calls: int = 0
    ws_reconnects: int = 0
    last_book_update: float | None = None
    down_since: float | None = None

    def record_call(self, seconds: float, ok: bool) -> None:
        self.calls += 1
        if ok:
            self.latencies_s.append(seconds)
            self.down_since = None
        else:
            self.failures += 1
            self.down_since = self.down_since or time.monotonic()

    def record_book_update(self) -> None:
        self.last_book_update = time.monotonic()

    def book_age_s(self) -> float | None:
        return None if self.last_book_update is None else time.monotonic() - self.last_book_update

    def latency_ms(self, q: float) -> float | None:
        if not self.latencies_s:
            return None
        ordered = sorted(self.latencies_s)
        if q == 50:
            return median(ordered) * 1000
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000

    def state(self, stale_after_s: float = 5.0) -> HealthState:
        if self.down_since is not None:
            return HealthState.DOWN
        age = self.book_age_s()
        if age is not None and age > stale_after_s:
            return HealthState.DEGRADED
        return HealthState.HEALTHY
