"""A scanned source as one side of an opportunity (:class:`~crosslane.arbitrage.ArbLeg`),
with what ``evaluate`` needs to judge its freshness: a book's last-known-true time and
its feed's health; a pool curve's block, the chain's head and whether the chain answers.
"""

from __future__ import annotations

from fractions import Fraction

from crosslane.arbitrage import ArbLeg, ArbMarket, BookCurve, ChainGas, LegCurve, LegFill
from crosslane.routing import VenueBook, VenueMarket
from crosslane.routing.side import Side
from workers.scanner.markets import PoolSource, VenueSource
from workers.scanner.pools import PoolView


class MemoCurve:
    """A curve that remembers every fill it answered: a pool's curve serves every pair and
    pass until the next block, a book's until the book changes, and ``evaluate`` on the same
    inputs then probes the same sizes (exact: the wrapped curve's own answers)."""

    __slots__ = ("curve", "_fills")

    def __init__(self, curve: LegCurve) -> None:
        self.curve = curve
        self._fills: dict[int, LegFill] = {}

    @property
    def side(self) -> Side:
        return self.curve.side

    @property
    def lot(self) -> int:
        return self.curve.lot

    @property
    def best_price(self) -> Fraction:
        return self.curve.best_price

    @property
    def min_size(self) -> int:
        return self.curve.min_size

    @property
    def capacity(self) -> int:
        return self.curve.capacity

    def fill(self, size: int) -> LegFill:
        found = self._fills.get(size)
        if found is None:
            found = self._fills[size] = self.curve.fill(size)
        return found


def book_leg(
    source: VenueSource,
    side: Side,
    book: VenueBook | None,
    rules: VenueMarket | None,
    market: ArbMarket,
    *,
    stale_feed: bool = False,
) -> ArbLeg:
    """The venue's book walked on ``side`` (asks to buy, bids to sell), as fresh as its
    feed's last update; a feed marked stale (crossed book, reconnect) is unhealthy."""
    health = {"healthy": not stale_feed, "health_detail": "book feed stale (crossed or reconnecting)"}
    if book is None or rules is None or book.ts_ms == 0:
        return ArbLeg(source.venue, source.symbol, None, unavailable="no book received yet", **health)  # type: ignore[arg-type]
    walked = book.asks if side is Side.BUY else book.bids
    if not len(walked):
        return ArbLeg(
            source.venue,
            source.symbol,
            None,
            book_ts_ms=book.ts_ms,
            unavailable=f"no {'asks' if side is Side.BUY else 'bids'}",
            **health,  # type: ignore[arg-type]
        )
    curve = BookCurve.from_book(
        book, side, rules, asset_decimals=market.asset_decimals, quote_decimals=market.quote_decimals
    )
    return ArbLeg(source.venue, source.symbol, curve, book_ts_ms=book.ts_ms, **health)  # type: ignore[arg-type]


def pool_leg_of(
    source: PoolSource,
    side: Side,
    view: PoolView | None,
    *,
    head_block: int | None,
    gas: ChainGas | None,
    chain_error: str = "",
) -> ArbLeg:
    """The pool's curve on ``side`` at the block it was read at, against the chain's head."""
    health = {"healthy": not chain_error, "health_detail": f"{source.chain} unreachable: {chain_error}"}
    if view is None:
        return ArbLeg(
            source.venue, source.label, None, chain=source.chain, unavailable="pool state not read yet", **health
        )  # type: ignore[arg-type]
    leg = view.buy if side is Side.BUY else view.sell
    return ArbLeg(
        source.venue,
        source.label,
        None if leg is None else leg.curve,
        chain=source.chain,
        block_number=view.block_number,
        head_block=head_block,
        gas=gas,
        unavailable=view.detail or "the pool cannot fill this side",
        **health,  # type: ignore[arg-type]
    )
