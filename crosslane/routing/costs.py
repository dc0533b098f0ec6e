"""What trading on a venue costs, and the sizes it accepts.

Fees are basis points (``Decimal``, up to 4 decimals: 0.0001 bps). In the hot path a rate is
an ``int`` over :data:`RATE_SCALE` (1 bps = 10,000 rate units), so a fee-adjusted price is the
exact integer ``price_units * (RATE_SCALE ± rate)``: a buy pays ``price * (1 + taker)``, a sell
receives ``price * (1 - taker)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal
from enum import StrEnum

from crosslane.money import BPS, to_base_units
from crosslane.routing.scale import SymbolScale
from crosslane.routing.side import Side

RATE_DECIMALS = 8
RATE_SCALE = 10**RATE_DECIMALS
"""A fee rate ``r`` is held as ``int(r * RATE_SCALE)``; 1 bps = ``RATE_SCALE // BPS`` = 10,000.
Price units x ``(RATE_SCALE ± rate)`` are prices with ``RATE_DECIMALS`` more decimals."""

_BPS_DECIMALS = 4  # bps given to 0.0001: bps * 10**4 == rate * RATE_SCALE
_EXACT = Context(prec=60)  # prices x (1 ± fee): far more digits than any product here has


def rate_units(bps: Decimal) -> int:
    """Basis points as rate units over :data:`RATE_SCALE`; ValueError beyond 0.0001 bps."""
    return to_base_units(bps, _BPS_DECIMALS)


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


def _require_decimal(owner: str, **values: object) -> None:
    for name, value in values.items():
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"{owner}.{name} must be a finite Decimal, not {value!r}")


@dataclass(frozen=True, slots=True)
class VenueCosts:
    """Fees of one venue: ``taker_bps``/``maker_bps`` of the notional (a negative maker fee is
    a rebate) plus ``fixed_cost`` in quote currency per child order (0 on most venues)."""

    taker_bps: Decimal
    maker_bps: Decimal = Decimal(0)
    fixed_cost: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        _require_decimal("VenueCosts", taker_bps=self.taker_bps, maker_bps=self.maker_bps, fixed_cost=self.fixed_cost)
        for name, bps in (("taker_bps", self.taker_bps), ("maker_bps", self.maker_bps)):
            if not -BPS < bps < BPS:
                raise ValueError(f"VenueCosts.{name} must be within (-10000, 10000) bps, not {bps}")
            rate_units(bps)  # refuses more than 4 decimals
        if self.fixed_cost < 0:
            raise ValueError(f"VenueCosts.fixed_cost must not be negative, not {self.fixed_cost}")

    def fee_bps(self, liquidity: Liquidity = Liquidity.TAKER) -> Decimal:
        return self.taker_bps if liquidity is Liquidity.TAKER else self.maker_bps

    def effective_price(self, side: Side, price: Decimal, liquidity: Liquidity = Liquidity.TAKER) -> Decimal:
        """Price per unit after the fee, exactly: a buy pays ``price * (1 + fee)``, a sell
        receives ``price * (1 - fee)`` (fixed cost excluded: it depends on the order size)."""
        bps = self.fee_bps(liquidity)
        factor = BPS + bps if side is Side.BUY else BPS - bps
        return _EXACT.multiply(price, factor).scaleb(-4, _EXACT)

    def fee(self, notional: Decimal, liquidity: Liquidity = Liquidity.TAKER) -> Decimal:
        """Proportional fee on ``notional`` (quote currency), exactly; fixed cost excluded."""
        return _EXACT.multiply(notional, self.fee_bps(liquidity)).scaleb(-4, _EXACT)


@dataclass(frozen=True, slots=True)
class VenuePrecision:
    """Sizes one venue accepts for one symbol: prices on ``tick``, quantities on ``step``, at
    least ``min_qty`` and ``min_notional`` (quote currency) per order."""

    tick: Decimal
    step: Decimal
    min_qty: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        _require_decimal("VenuePrecision", tick=self.tick, step=self.step, min_qty=self.min_qty,
                         min_notional=self.min_notional)
        if self.tick <= 0 or self.step <= 0:
            raise ValueError(f"VenuePrecision tick and step must be positive, not {self.tick}, {self.step}")
        if self.min_qty < 0 or self.min_notional < 0:
            raise ValueError("VenuePrecision minimums must not be negative")


@dataclass(frozen=True, slots=True)
class VenueMarket:
    """One symbol as traded on one venue: its fees and its precision."""

    venue: str
    costs: VenueCosts
    precision: VenuePrecision


@dataclass(frozen=True, slots=True)
class ScaledMarket:
    """A :class:`VenueMarket` in its symbol's integer units, built once when the venue joins a
    consolidated book. Rates are over :data:`RATE_SCALE`; ``min_notional`` and ``fixed_cost``
    are notional units (``10**-(price_decimals + qty_decimals)``)."""

    market: VenueMarket
    taker: int
    maker: int
    fixed_cost: int
    tick: int
    step: int
    min_qty: int  # at least one step
    min_notional: int

    @property
    def venue(self) -> str:
        return self.market.venue

    @classmethod
    def build(cls, market: VenueMarket, scale: SymbolScale) -> ScaledMarket:
        """ValueError if the venue's tick, step or minimums are finer than ``scale``."""
        precision, costs = market.precision, market.costs

        def units(value: Decimal, decimals: int, what: str) -> int:
            try:
                return to_base_units(value, decimals)
            except ValueError:
                raise ValueError(
                    f"{market.venue} {scale.symbol}: {what} {value} is finer than the symbol's scale "
                    f"({decimals} decimals); widen the SymbolScale"
                ) from None

        step = units(precision.step, scale.qty_decimals, "step")
        return cls(
            market=market,
            taker=rate_units(costs.taker_bps),
            maker=rate_units(costs.maker_bps),
            fixed_cost=units(costs.fixed_cost, scale.notional_decimals, "fixed cost"),
            tick=units(precision.tick, scale.price_decimals, "tick"),
            step=step,
            min_qty=max(step, units(precision.min_qty, scale.qty_decimals, "min qty")),
            min_notional=units(precision.min_notional, scale.notional_decimals, "min notional"),
        )
