"""What distinguishes one simulated venue from another below the wire: markets, fees, rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from devnet.cex.engine import FeeSchedule, MarketSpec, PostOnlyCross
from devnet.cex.ratelimit import RateLimits

REFERENCE_PRICES: dict[str, Decimal] = {
    "BTC/USDT": Decimal(60000),
    "ETH/USDT": Decimal(3000),
    "SOL/USDT": Decimal(150),
    "ETH/BTC": Decimal("0.05"),
    "ETH/USDC": Decimal(3000),  # the devnet's pools are seeded at ETH = 3000 USDC too
}
"""Every simulator's market-maker start mids: the venues share one price path."""


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
