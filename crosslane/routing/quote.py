"""What a route decision hands back: the expected execution and the child orders to send."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crosslane.routing.side import Side


@dataclass(frozen=True, slots=True)
class VenueQuote:
    """One venue's share of a route. Amounts in quote currency unless named otherwise."""

    venue: str
    qty: Decimal  # base currency, a multiple of the venue's step
    avg_price: Decimal  # fee-exclusive, volume-weighted
    worst_price: Decimal  # the last level taken: the child order's limit price
    notional: Decimal  # sum of price x qty over the levels taken
    fee: Decimal  # taker fee on the notional plus the venue's fixed cost
    levels: int  # price levels taken
    penalty_bps: Decimal  # health/latency penalty used to rank this venue (a weight, not a cost)


@dataclass(frozen=True, slots=True)
class ExcludedVenue:
    venue: str
    reason: str


@dataclass(frozen=True, slots=True)
class Quote:
    """Expected execution of a taker order across venues.

    ``filled + unfilled == requested``; ``filled`` is the exact sum of the venues' ``qty``.
    Average prices are rounded half-even to 6 decimals beyond the symbol's finest tick and are
    None when nothing fills. A buy's ``avg_price_with_fees`` is ``(notional + fees) / filled``,
    a sell's ``(notional - fees) / filled``.
    """

    symbol: str
    side: Side
    requested: Decimal
    filled: Decimal
    unfilled: Decimal
    avg_price: Decimal | None
    avg_price_with_fees: Decimal | None
    notional: Decimal
    fees: Decimal
    venues: tuple[VenueQuote, ...]
    excluded: tuple[ExcludedVenue, ...]
    limit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ChildPlan:
    """A limit order for one venue, at the worst level the route expects to take there, so it
    can never trade through the book it was routed on (send it IOC)."""

    venue: str
    symbol: str
    side: Side
    qty: Decimal
    limit_price: Decimal


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """A quote and the child orders that execute it (one per venue, quantities summing to
    ``quote.filled`` exactly)."""

    quote: Quote
    children: tuple[ChildPlan, ...]
