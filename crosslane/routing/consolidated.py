"""Every venue's book of one symbol, read as one book of fee-adjusted prices.

The consolidated book holds no merged copy: each venue's book stays the single source of
truth (updates touch only it), and a merged view is a lazy k-way merge of the venues' sorted
levels by effective price. Within a venue the fee is constant, so its levels are already in
effective-price order and the merge is exact.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from crosslane.errors import InvalidRequest
from crosslane.money import from_base_units_compact as compact
from crosslane.routing.book import VenueBook
from crosslane.routing.costs import RATE_DECIMALS, RATE_SCALE, ScaledMarket, VenueMarket
from crosslane.routing.scale import SymbolScale
from crosslane.routing.side import Side


@dataclass(frozen=True, slots=True)
class ConsolidatedLevel:
    """One venue's price level in the merged view."""

    venue: str
    price: Decimal  # as quoted on the venue
    effective_price: Decimal  # after the venue's taker fee: what a taker pays (buy) or receives (sell) per unit
    qty: Decimal


class ConsolidatedBook:
    """The books of one symbol on several venues, with each venue's costs and precision."""

    def __init__(self, scale: SymbolScale, markets: Iterable[VenueMarket] = ()) -> None:
        self.scale = scale
        self._books: dict[str, VenueBook] = {}
        self._markets: dict[str, ScaledMarket] = {}
        for market in markets:
            self.add_venue(market)

    @classmethod
    def covering(cls, symbol: str, markets: Iterable[VenueMarket]) -> ConsolidatedBook:
        """A book whose scale is the coarsest that represents every market's tick and step."""
        markets = list(markets)
        scale = SymbolScale.covering(
            symbol, (m.precision.tick for m in markets), (m.precision.step for m in markets)
        )
        return cls(scale, markets)

    @property
    def symbol(self) -> str:
        return self.scale.symbol

    @property
    def venues(self) -> tuple[str, ...]:
        return tuple(self._books)

    def add_venue(self, market: VenueMarket) -> VenueBook:
        """Add (or re-configure) a venue; its book starts empty. ValueError if its tick or step
        is finer than the symbol's scale."""
        scaled = ScaledMarket.build(market, self.scale)
        self._markets[market.venue] = scaled
        return self._books.setdefault(market.venue, VenueBook(market.venue, self.scale))

    def book(self, venue: str) -> VenueBook:
        """The venue's book (InvalidRequest for a venue this symbol is not configured on)."""
        try:
            return self._books[venue]
        except KeyError:
            known = ", ".join(self._books) or "none"
            raise InvalidRequest(f"venue {venue!r} does not trade {self.symbol} (known: {known})") from None

    def market(self, venue: str) -> ScaledMarket:
        self.book(venue)
        return self._markets[venue]

    def markets(self) -> Iterable[tuple[ScaledMarket, VenueBook]]:
        return ((self._markets[venue], book) for venue, book in self._books.items())

    def levels(self, side: Side, depth: int = 20, venues: Iterable[str] | None = None) -> list[ConsolidatedLevel]:
        """The ``depth`` best levels an order of ``side`` would take (asks for a buy, bids for a
        sell) across ``venues`` (default all), best fee-adjusted price first, venue attributed."""
        buy = side is Side.BUY
        chosen = self.venues if venues is None else tuple(venues)
        streams = []
        for venue in chosen:
            market, book = self.market(venue), self._books[venue]
            book_side = book.asks if buy else book.bids
            factor = RATE_SCALE + market.taker if buy else RATE_SCALE - market.taker
            # rank keys are ascending best-first on both sides, so rank x factor is too
            streams.append([(rank * factor, venue, rank * book_side.sign) for rank in book_side.ranks[:depth]])
        merged = []
        for key, venue, price in islice(heapq.merge(*streams), depth):
            book_side = self._books[venue].asks if buy else self._books[venue].bids
            merged.append(ConsolidatedLevel(
                venue=venue,
                price=self.scale.price(price),
                effective_price=compact(abs(key), self.scale.price_decimals + RATE_DECIMALS),
                qty=self.scale.qty(book_side.levels[price]),
            ))
        return merged

    def best(self, side: Side) -> ConsolidatedLevel | None:
        """The best fee-adjusted level an order of ``side`` would take, None if no venue has one."""
        top = self.levels(side, depth=1)
        return top[0] if top else None
