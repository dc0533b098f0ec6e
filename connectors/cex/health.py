"""Venue health as the router sees it: is it up, how fast does it answer, is its book fresh,
is its private (user-data) stream delivering fills."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from statistics import median

from crosslane.routing import VenueHealth, VenueStatus


@dataclass
class HealthRecord:
    """A venue's running record (calls, latencies, failures, book updates, back-off) kept by its
    connector; :meth:`for_router` condenses it into the router's :class:`VenueHealth`."""

    venue: str
    started_at: float = field(default_factory=time.monotonic)
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=512))
    failures: int = 0
    calls: int = 0
    ws_reconnects: int = 0
    last_book_update: float | None = None
    book_stale: bool = False  # a crossed book or a dropped feed, until the next clean update
    down_since: float | None = None
    backoff_until: float = 0.0  # monotonic time before which no request may be sent (429/418)
    user_stream: str = "off"  # off (not followed) | connecting | live | down (lost, reconnecting)
    user_stream_drops: int = 0

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
        self.book_stale = False

    def user_stream_lost(self) -> None:
        self.user_stream = "down"
        self.user_stream_drops += 1

    def book_age_s(self) -> float | None:
        return None if self.last_book_update is None else time.monotonic() - self.last_book_update

    def latency_ms(self, q: float) -> float | None:
        if not self.latencies_s:
            return None
        ordered = sorted(self.latencies_s)
        if q == 50:
            return median(ordered) * 1000
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000

    def for_router(self) -> VenueHealth:
        """The router's view: down after a failed call, degraded after recent reconnects or while
        its user-data stream is lost (fills there are learned late)."""
        if self.down_since is not None or time.monotonic() < self.backoff_until:
            status = VenueStatus.DOWN
        elif (self.ws_reconnects and self.failures) or self.user_stream == "down":
            status = VenueStatus.DEGRADED
        else:
            status = VenueStatus.HEALTHY
        return VenueHealth(status=status, p50_latency_ms=self.latency_ms(50) or 0.0, book_stale=self.book_stale)
