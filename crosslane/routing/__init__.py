"""Consolidated CEX books and smart order routing: pure, synchronous code (no I/O).

Prices and quantities are ``Decimal`` at this package's edges and integer units of a
:class:`SymbolScale` inside it (see :mod:`crosslane.routing.scale`).

    book = ConsolidatedBook.covering("BTC/USDT", [VenueMarket("binance", costs, precision), ...])
    book.book("binance").replace_text(bids, asks, update_id=1, ts_ms=now_ms)   # feed handler
    plan = Router([book]).route("buy", Decimal("2.5"), "BTC/USDT")            # -> RoutePlan
"""

from crosslane.routing.book import BookSide, VenueBook
from crosslane.routing.consolidated import ConsolidatedBook, ConsolidatedLevel
from crosslane.routing.costs import Liquidity, VenueCosts, VenueMarket, VenuePrecision
from crosslane.routing.health import HealthPolicy, VenueHealth, VenueStatus
from crosslane.routing.quote import ChildPlan, ExcludedVenue, Quote, RoutePlan, VenueQuote
from crosslane.routing.router import Router
from crosslane.routing.scale import SymbolScale
from crosslane.routing.side import Side

__all__ = [
    "BookSide",
    "ChildPlan",
    "ConsolidatedBook",
    "ConsolidatedLevel",
    "ExcludedVenue",
    "HealthPolicy",
    "Liquidity",
    "Quote",
    "RoutePlan",
    "Router",
    "Side",
    "SymbolScale",
    "VenueBook",
    "VenueCosts",
    "VenueHealth",
    "VenueMarket",
    "VenuePrecision",
    "VenueQuote",
    "VenueStatus",
]
