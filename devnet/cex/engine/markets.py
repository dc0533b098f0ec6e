"""What a venue trades and what it charges: symbol filters and fee rates.

Each dialect declares its own specs (Binance and OKX list the same pair with different
tick sizes, lot sizes and minimums), so an order that one venue accepts the other may
refuse, as in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class MarketSpec:
    """One spot market. Prices in quote units, quantities in base units, all ``Decimal``."""

    symbol: str  # unified "BASE/QUOTE"
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_price: Decimal
    max_price: Decimal
    min_notional: Decimal = Decimal(0)  # 0: the venue has no notional floor (OKX)
    max_notional: Decimal = Decimal("9000000")
    base_precision: int = 8  # decimals the venue keeps for balances and fees
    quote_precision: int = 8

    @property
    def assets(self) -> tuple[str, str]:
        return self.base, self.quote


@dataclass(frozen=True)
class FeeSchedule:
    """Rates as fractions of the traded amount (``Decimal('0.001')`` is 0.1 %)."""

    maker: Decimal
    taker: Decimal
