"""Venue health as the router weighs it: exclude what cannot be trusted, penalise what is slow.

A venue that is down, whose book is stale or crossed, or whose latency is beyond the limit
takes no part in a route. A degraded or slow venue still does, but its prices are made worse
by a penalty in basis points while ranking levels, so it wins only when it is clearly better.
The penalty ranks; it is never reported as a cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from crosslane.routing.book import VenueBook
from crosslane.routing.costs import rate_units


class VenueStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # e.g. errors or reconnects recently: still usable, at a penalty
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class VenueHealth:
    """What the connector knows about a venue. ``p50_latency_ms`` is its order API's median
    round trip; ``book_stale`` is the feed handler's own verdict (a gap it is resyncing)."""

    status: VenueStatus = VenueStatus.HEALTHY
    p50_latency_ms: float = 0.0
    book_stale: bool = False


HEALTHY = VenueHealth()


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """How health turns into exclusion or a penalty (basis points, ``Decimal``).

    penalty = ``degraded_penalty_bps`` if degraded
            + ``latency_penalty_bps_per_ms`` x (p50 latency - ``latency_free_ms``), if positive.
    """

    max_book_age_ms: int = 5_000
    degraded_penalty_bps: Decimal = Decimal(5)
    latency_free_ms: float = 5.0
    latency_penalty_bps_per_ms: Decimal = Decimal("0.2")
    max_latency_ms: float | None = None  # a venue slower than this is excluded
    _degraded_rate: int = field(init=False, repr=False, compare=False)
    _latency_rate: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.degraded_penalty_bps < 0 or self.latency_penalty_bps_per_ms < 0:
            raise ValueError("HealthPolicy penalties must not be negative")
        # converted once: assess() runs for every venue on every route decision
        object.__setattr__(self, "_degraded_rate", rate_units(self.degraded_penalty_bps))
        object.__setattr__(self, "_latency_rate", rate_units(self.latency_penalty_bps_per_ms))

    def assess(self, health: VenueHealth, book: VenueBook, now_ms: int) -> tuple[int, str | None]:
        """``(penalty in rate units over RATE_SCALE, None)`` for a usable venue, or
        ``(0, reason)`` for one the router must leave out."""
        if health.status is VenueStatus.DOWN:
            return 0, "venue down"
        if health.book_stale:
            return 0, "book stale (feed resyncing)"
        if book.update_id < 0:
            return 0, "no book yet"
        if book.is_stale(now_ms, self.max_book_age_ms):
            return 0, f"book stale ({book.age_ms(now_ms)} ms old, limit {self.max_book_age_ms} ms)"
        if book.is_crossed():
            return 0, "book crossed (missed updates)"
        latency = health.p50_latency_ms
        if self.max_latency_ms is not None and latency > self.max_latency_ms:
            return 0, f"p50 latency {latency:g} ms above {self.max_latency_ms:g} ms"
        penalty = self._degraded_rate if health.status is VenueStatus.DEGRADED else 0
        if latency > self.latency_free_ms:
            # latency is a measurement, not money: a float is fine; the result is whole rate units
            penalty += round(self._latency_rate * (latency - self.latency_free_ms))
        return penalty, None
