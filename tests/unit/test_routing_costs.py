"""crosslane.routing costs and health policy: fee-adjusted prices, validation, penalties."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crosslane.routing import (
    HealthPolicy,
    Liquidity,
    Side,
    SymbolScale,
    VenueBook,
    VenueCosts,
    VenueHealth,
    VenueStatus,
)
from crosslane.routing.costs import RATE_SCALE, rate_units

D = Decimal


def test_effective_prices_include_the_fee_exactly() -> None:
    costs = VenueCosts(taker_bps=D("7.5"), maker_bps=D("-1"))
    assert costs.effective_price(Side.BUY, D("65000.12")) == D("65048.87009")
    assert costs.effective_price(Side.SELL, D("65000.12")) == D("64951.36991")
    assert costs.effective_price(Side.BUY, D("100"), Liquidity.MAKER) == D("99.99")  # a rebate
    assert costs.fee(D("1000")) == D("0.75")
    assert rate_units(D("7.5")) == 75_000 and rate_units(D(10_000)) == RATE_SCALE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"taker_bps": D("0.00001")}, "more than 4 decimal places"),
        ({"taker_bps": D(10_000)}, "within"),
        ({"taker_bps": D(1), "fixed_cost": D(-1)}, "must not be negative"),
        ({"taker_bps": 1.0}, "finite Decimal"),
    ],
)
def test_bad_costs_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VenueCosts(**kwargs)


def test_health_policy_penalties() -> None:
    policy = HealthPolicy(max_book_age_ms=1_000, degraded_penalty_bps=D(5), latency_free_ms=5,
                          latency_penalty_bps_per_ms=D("0.5"), max_latency_ms=100)
    book = VenueBook("v", SymbolScale("X/Y", 2, 2))
    assert policy.assess(VenueHealth(), book, 0) == (0, "no book yet")
    book.replace([(100, 1)], [(101, 1)], update_id=1, ts_ms=10_000)
    assert policy.assess(VenueHealth(), book, 10_500) == (0, None)
    assert policy.assess(VenueHealth(VenueStatus.DEGRADED), book, 10_500) == (rate_units(D(5)), None)
    assert policy.assess(VenueHealth(VenueStatus.DEGRADED, p50_latency_ms=9), book, 10_500) == (rate_units(D(7)), None)
    assert policy.assess(VenueHealth(p50_latency_ms=101), book, 10_500)[1] == "p50 latency 101 ms above 100 ms"
    assert policy.assess(VenueHealth(), book, 11_001)[1] == "book stale (1001 ms old, limit 1000 ms)"
    assert policy.assess(VenueHealth(VenueStatus.DOWN), book, 10_500)[1] == "venue down"
    with pytest.raises(ValueError, match="must not be negative"):
        HealthPolicy(degraded_penalty_bps=D(-1))
