"""What distinguishes one simulated venue from another below the wire: markets, fees, rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from devnet.cex.engine import FeeSchedule, MarketSpec, PostOnlyCross
from devnet.cex.ratelimit import RateLimits


@dataclass(frozen=True)
class SimulatorSetup:
    name: str
    markets: tuple[MarketSpec, ...]
    fees: FeeSchedule
    post_only_cross: PostOnlyCross
    first_order_id: int
    rate_limits: RateLimits = field(default_factory=RateLimits)
    reference_prices: dict[str, Decimal] = field(default_factory=dict)  # market maker start mids

    @property
    def assets(self) -> list[str]:
        return sorted({a for m in self.markets for a in m.assets})
