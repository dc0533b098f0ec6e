"""The fast path's metrics: order-to-acknowledgement latency per venue, and each venue's
health and book age read from the engine at every scrape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from crosslane.routing.health import VenueStatus
from crosslane.telemetry.names import BOOK_AGE_SECONDS, ORDER_TO_ACK_SECONDS, VENUE_UP

if TYPE_CHECKING:
    from workers.fastpath.engine import OrderEngine

ORDER_TO_ACK = Histogram(
    ORDER_TO_ACK_SECONDS,
    "one child order: sent to the venue until its acknowledgement (or refusal) came back",
    ["venue"],
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
)


class VenueHealthCollector(Collector):
    """Gauges per venue from the engine's health view, computed when scraped."""

    def __init__(self, engine: OrderEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(VENUE_UP, "1 when the router routes to the venue (healthy)", labels=["venue"])
        age = GaugeMetricFamily(BOOK_AGE_SECONDS, "seconds since the venue's book last changed", labels=["venue"])
        for view in self.engine.health():
            up.add_metric([view.venue], 1.0 if view.status == VenueStatus.HEALTHY else 0.0)
            if view.book_age_s is not None:
                age.add_metric([view.venue], view.book_age_s)
        yield up
        yield age


def register_engine(engine: OrderEngine) -> None:
    REGISTRY.register(VenueHealthCollector(engine))
