"""Smart order routing: best execution for a size across the venues of a consolidated book.

A decision, in integer units throughout (Decimal only for the request and the answer):

1. keep the venues the :class:`HealthPolicy` trusts, each with a ranking factor
   ``RATE_SCALE ± (taker fee + health penalty)``;
2. walk their levels in fee-and-penalty-adjusted price order (a k-way heap merge of the
   venues' sorted books, stopping as soon as the size is filled), taking from each level what
   the venue's step allows: a venue whose step cannot take the rest drops out of the walk;
3. a venue whose share is under its minimum quantity or notional is left out and the size is
   walked again without it (its share moves to the others); should that fill less, the best
   subset of venues whose shares all meet their minimums is searched for instead. A venue with
   a fixed cost is left out when the others fill the same size for less, costs and penalties
   included;
4. one child order per venue for its exact share, limit price = the worst level it takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from heapq import heapify, heappop, heapreplace
from itertools import combinations

from crosslane.errors import InvalidRequest
from crosslane.money import from_base_units_compact as compact
from crosslane.routing.consolidated import ConsolidatedBook
from crosslane.routing.costs import RATE_DECIMALS, RATE_SCALE, ScaledMarket
from crosslane.routing.health import HEALTHY, HealthPolicy, VenueHealth
from crosslane.routing.quote import ChildPlan, ExcludedVenue, Quote, RoutePlan, VenueQuote
from crosslane.routing.side import Side

AVG_EXTRA_DECIMALS = 6  # average prices carry this many decimals beyond the symbol's finest tick
_AVG_SCALE = 10**AVG_EXTRA_DECIMALS
_BPS_DECIMALS = RATE_DECIMALS - 4  # rate units -> bps
_MAX_SEARCH_VENUES = 8  # the exhaustive minimum-respecting search walks at most 2**8 - 2 subsets


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True, eq=False)  # compared by identity
class _Venue:
    """A venue taking part in one decision."""

    market: ScaledMarket
    ranks: list[int]  # the side being taken, best first (see BookSide)
    levels: dict[int, int]
    factor: int  # RATE_SCALE ± (taker + penalty): ranks this venue's effective prices
    penalty: int
    step: int


@dataclass(slots=True)
class _Fill:
    """The outcome of walking the book: per venue (same index as ``venues``) units taken."""

    venues: list[_Venue]
    took: list[int]
    notional: list[int]
    worst: list[int]
    touched: list[int]
    remaining: int

    @property
    def filled_units(self) -> int:
        return sum(self.took)

    def used(self) -> list[_Venue]:
        return [venue for venue, took in zip(self.venues, self.took, strict=True) if took]

    def score(self, buy: bool) -> int:
        """Penalised all-in cost (buy) or minus proceeds (sell), in notional units x RATE_SCALE:
        lower is better."""
        total = 0
        for venue, took, notional in zip(self.venues, self.took, self.notional, strict=True):
            if took:
                total += (notional * venue.factor if buy else -notional * venue.factor)
                total += venue.market.fixed_cost * RATE_SCALE
        return total


def _walk(venues: list[_Venue], buy: bool, qty: int, limit: int | None) -> _Fill:
    """Take ``qty`` units from ``venues``' levels, best effective price first.

    The heap holds each venue's next level as ``(effective key, venue index, level index)``.
    (Letting the leading venue take several levels before touching the heap was measured
    slower: on close books the lead changes venue almost every level.)
    """
    count = len(venues)
    took, notional, worst, touched = [0] * count, [0] * count, [0] * count, [0] * count
    heap = [(v.ranks[0] * v.factor, i, 0) for i, v in enumerate(venues) if v.ranks]
    heapify(heap)
    remaining = qty
    while remaining and heap:
        _, i, pos = heap[0]
        venue = venues[i]
        ranks = venue.ranks
        price = ranks[pos] if buy else -ranks[pos]
        if limit is not None and (price > limit if buy else price < limit):
            heappop(heap)  # every further level of this venue is worse still
            continue
        available = venue.levels[price]
        step = venue.step
        if available < remaining:
            take = available - available % step
            pos += 1
            if pos < len(ranks):
                heapreplace(heap, (ranks[pos] * venue.factor, i, pos))
            else:
                heappop(heap)
        else:
            take = remaining - remaining % step
            heappop(heap)  # what remains after this is below the venue's step
        if take:
            took[i] += take
            notional[i] += take * price
            worst[i] = price
            touched[i] += 1
            remaining -= take
    return _Fill(venues, took, notional, worst, touched, remaining)


def _short_shares(fill: _Fill) -> list[int]:
    """Indices of venues whose share is under their minimum quantity or notional."""
    return [
        i for i, venue in enumerate(fill.venues)
        if fill.took[i] and (fill.took[i] < venue.market.min_qty or fill.notional[i] < venue.market.min_notional)
    ]


def _walk_within_minimums(venues: list[_Venue], buy: bool, qty: int, limit: int | None) -> _Fill:
    """:func:`_walk`, leaving out venues whose share is under their minimums (the smallest
    share first, one at a time: its quantity moves to the others) until every share is sendable."""
    while True:
        fill = _walk(venues, buy, qty, limit)
        short = _short_shares(fill)
        if not short:
            return fill
        smallest = min(short, key=fill.notional.__getitem__)
        venues = venues[:smallest] + venues[smallest + 1:]


def _best_subset(venues: list[_Venue], buy: bool, qty: int, limit: int | None, incumbent: _Fill) -> _Fill:
    """The subset of ``venues`` whose walk meets every minimum and fills the most, then costs the
    least (exhaustive: only for the rare case where dropping short shares lost fill)."""
    best, best_key = incumbent, (incumbent.filled_units, -incumbent.score(buy))
    for size in range(len(venues) - 1, 0, -1):
        for subset in combinations(venues, size):
            fill = _walk(list(subset), buy, qty, limit)
            if not _short_shares(fill):
                key = (fill.filled_units, -fill.score(buy))
                if key > best_key:
                    best, best_key = fill, key
    return best


def _allocate(venues: list[_Venue], buy: bool, qty: int, limit: int | None, excluded: list[ExcludedVenue]) -> _Fill:
    """Steps 2 and 3 of the module docstring; venues left out are appended to ``excluded``."""
    first = _walk(venues, buy, qty, limit)
    fill = first
    if _short_shares(first):
        fill = _walk_within_minimums(venues, buy, qty, limit)
        if fill.filled_units < first.filled_units and len(venues) <= _MAX_SEARCH_VENUES:
            fill = _best_subset([v for v in venues if v.ranks], buy, qty, limit, fill)
        used = fill.used()
        for venue in first.used():
            if venue not in used:
                precision = venue.market.market.precision
                excluded.append(ExcludedVenue(venue.market.venue, (
                    f"its share would be under the venue minimum (qty {max(precision.min_qty, precision.step)}, "
                    f"notional {precision.min_notional})"
                )))
    if any(venue.market.fixed_cost for venue in fill.used()):
        fill = _drop_costly_fixed(fill, buy, qty, limit, excluded)
    return fill


def _drop_costly_fixed(fill: _Fill, buy: bool, qty: int, limit: int | None, excluded: list[ExcludedVenue]) -> _Fill:
    """Leave out venues whose fixed cost outweighs their better prices (same fill, lower
    penalised all-in cost), the most expensive first, until no exclusion helps."""
    while True:
        filled, score = fill.filled_units, fill.score(buy)
        with_fixed = sorted((v for v in fill.used() if v.market.fixed_cost), key=lambda v: -v.market.fixed_cost)
        for venue in with_fixed:
            trial = _walk_within_minimums([v for v in fill.venues if v is not venue], buy, qty, limit)
            if trial.filled_units == filled and trial.score(buy) < score:
                excluded.append(ExcludedVenue(venue.market.venue, "its fixed cost outweighs its better prices"))
                fill = trial
                break
        else:
            return fill


class Router:
    """Routes taker orders over consolidated books, one per symbol.

    Books are updated in place by their owner (the fast path's feed handlers); venue health is
    pushed with :meth:`set_health` (a venue without a report counts as healthy). ``clock_ms``
    must be the clock the books' ``ts_ms`` come from. Not thread-safe: one event loop owns it.
    """

    def __init__(
        self,
        books: Iterable[ConsolidatedBook] = (),
        *,
        policy: HealthPolicy | None = None,
        clock_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.policy = policy or HealthPolicy()
        self._clock_ms = clock_ms
        self._books: dict[str, ConsolidatedBook] = {}
        self._health: dict[str, VenueHealth] = {}
        for book in books:
            self.add_book(book)

    def add_book(self, book: ConsolidatedBook) -> None:
        self._books[book.symbol] = book

    def book(self, symbol: str) -> ConsolidatedBook:
        """The symbol's consolidated book; InvalidRequest for a symbol no venue is configured for."""
        try:
            return self._books[symbol]
        except KeyError:
            known = ", ".join(sorted(self._books)) or "none"
            raise InvalidRequest(f"unknown symbol {symbol!r} (known: {known})") from None

    def set_health(self, venue: str, health: VenueHealth) -> None:
        self._health[venue] = health

    def health(self, venue: str) -> VenueHealth:
        return self._health.get(venue, HEALTHY)

    def quote(
        self, side: Side | str, qty: Decimal | str | int, symbol: str, *, limit_price: Decimal | str | None = None
    ) -> Quote:
        """Expected execution of a taker order for ``qty`` (base currency, Decimal) of ``symbol``.

        ``limit_price`` (optional) bounds the levels taken. Raises InvalidRequest for a bad side,
        a non-positive or float size, a size or price finer than any venue trades, an unknown
        symbol, no usable venue, no liquidity (no eligible venue has a book on that side), or a
        size below every venue's minimum. A quote may fill less than asked: see ``unfilled``.
        """
        side = Side.parse(side)
        book = self.book(symbol)
        qty_units = book.scale.request_qty(qty)
        limit = None if limit_price is None else book.scale.request_price(limit_price)
        fill, excluded = self._decide(book, side, qty_units, limit)
        return self._quote(book, side, qty_units, limit, fill, excluded)

    def route(
        self, side: Side | str, qty: Decimal | str | int, symbol: str, *, limit_price: Decimal | str | None = None
    ) -> RoutePlan:
        """:meth:`quote` plus one IOC-able child order per venue; the children's quantities sum
        to ``quote.filled`` exactly. Also InvalidRequest when nothing at all can be routed (e.g.
        ``limit_price`` better than every book)."""
        quote = self.quote(side, qty, symbol, limit_price=limit_price)
        if not quote.venues:
            reasons = "; ".join(f"{e.venue}: {e.reason}" for e in quote.excluded)
            raise InvalidRequest(
                f"nothing routable for {quote.side} {quote.requested} {symbol}"
                + (f" within limit {quote.limit_price}" if quote.limit_price is not None else "")
                + (f" ({reasons})" if reasons else "")
            )
        children = tuple(
            ChildPlan(venue=v.venue, symbol=symbol, side=quote.side, qty=v.qty, limit_price=v.worst_price)
            for v in quote.venues
        )
        return RoutePlan(quote=quote, children=children)

    # -- the decision ----------------------------------------------------------------------

    def resting_qty(
        self, side: Side | str, qty: Decimal | str | int, symbol: str, *, limit_price: Decimal | str
    ) -> Decimal | None:
        """What :meth:`quote` would leave unfilled (all of ``qty``) when no eligible venue's best
        level is within ``limit_price``; None when one is (quote it). A resting limit order far
        from the market skips the walk and the quote's building (~10 us of ~18 an order, idle machine).

        Exact by construction: the walk compares each level's own price (not its fee-adjusted
        one) with the limit, best level first, and only eligible venues take part; with none of
        their best levels within the limit it takes nothing. The same InvalidRequest as
        :meth:`quote` (its checks run, in its order)."""
        side = Side.parse(side)
        book = self.book(symbol)
        qty_units = book.scale.request_qty(qty)
        limit = book.scale.request_price(limit_price)
        venues, _ = self._eligible(book, side, qty_units)
        if side is Side.BUY:
            marketable = any(v.ranks and v.ranks[0] <= limit for v in venues)
        else:
            marketable = any(v.ranks and -v.ranks[0] >= limit for v in venues)
        return None if marketable else book.scale.qty(qty_units)

    def _decide(
        self, book: ConsolidatedBook, side: Side, qty: int, limit: int | None
    ) -> tuple[_Fill, list[ExcludedVenue]]:
        venues, excluded = self._eligible(book, side, qty)
        return _allocate(venues, side is Side.BUY, qty, limit, excluded), excluded

    def _eligible(self, book: ConsolidatedBook, side: Side, qty: int) -> tuple[list[_Venue], list[ExcludedVenue]]:
        """Step 1 of the module docstring: the venues taking part, fastest first, and those left
        out; InvalidRequest when none can trade, none has the side, or ``qty`` is under every minimum."""
        buy = side is Side.BUY
        now = self._clock_ms()
        assess = self.policy.assess
        excluded: list[ExcludedVenue] = []
        usable: list[tuple[float, _Venue]] = []
        for market, venue_book in book.markets():
            health = self._health.get(market.venue, HEALTHY)
            penalty, reason = assess(health, venue_book, now)
            if reason is not None:
                excluded.append(ExcludedVenue(market.venue, reason))
                continue
            book_side = venue_book.asks if buy else venue_book.bids
            factor = RATE_SCALE + market.taker + penalty if buy else RATE_SCALE - market.taker - penalty
            if factor <= 0:
                excluded.append(ExcludedVenue(market.venue, "fees and penalty take the whole sale"))
                continue
            venue = _Venue(market, book_side.ranks, book_side.levels, factor, penalty, market.step)
            usable.append((health.p50_latency_ms, venue))
        usable.sort(key=lambda pair: pair[0])  # equal effective prices go to the faster venue
        venues = [venue for _, venue in usable]

        if not venues:
            reasons = "; ".join(f"{e.venue}: {e.reason}" for e in excluded) or "no venue configured"
            raise InvalidRequest(f"no venue can trade {book.symbol} now ({reasons})")
        if not any(venue.ranks for venue in venues):
            raise InvalidRequest(
                f"no liquidity: no eligible venue has {'asks' if buy else 'bids'} for {book.symbol}"
                + "".join(f"; {e.venue}: {e.reason}" for e in excluded)
            )
        self._check_minimums(book, venues, buy, qty)
        return venues, excluded

    @staticmethod
    def _check_minimums(book: ConsolidatedBook, venues: list[_Venue], buy: bool, qty: int) -> None:
        for venue in venues:
            if venue.ranks:
                best = venue.ranks[0] if buy else -venue.ranks[0]
                if qty >= venue.market.min_qty and qty * best >= venue.market.min_notional:
                    return
        minimums = "; ".join(
            f"{v.market.venue}: qty {max(v.market.market.precision.min_qty, v.market.market.precision.step)}, "
            f"notional {v.market.market.precision.min_notional}"
            for v in venues if v.ranks
        )
        raise InvalidRequest(
            f"quantity {book.scale.qty(qty).normalize():f} {book.symbol} is below every venue's minimum ({minimums})"
        )

    # -- the answer ------------------------------------------------------------------------

    @staticmethod
    def _quote(
        book: ConsolidatedBook, side: Side, qty: int, limit: int | None, fill: _Fill, excluded: list[ExcludedVenue]
    ) -> Quote:
        scale = book.scale
        price_decimals, qty_decimals = scale.price_decimals, scale.qty_decimals
        fee_decimals = scale.notional_decimals + RATE_DECIMALS  # fees are notional units x RATE_SCALE
        avg_decimals = price_decimals + AVG_EXTRA_DECIMALS
        buy = side is Side.BUY
        venue_quotes = []
        total_notional = total_fee = filled = 0
        for i, venue in enumerate(fill.venues):
            took = fill.took[i]
            if not took:
                continue
            notional = fill.notional[i]
            fee = notional * venue.market.taker + venue.market.fixed_cost * RATE_SCALE
            venue_quotes.append(VenueQuote(
                venue=venue.market.venue,
                qty=compact(took, qty_decimals),
                avg_price=compact(_divide(notional * _AVG_SCALE, took), avg_decimals),
                worst_price=compact(fill.worst[i], price_decimals),
                notional=compact(notional, scale.notional_decimals),
                fee=compact(fee, fee_decimals),
                levels=fill.touched[i],
                penalty_bps=compact(venue.penalty, _BPS_DECIMALS),
            ))
            total_notional += notional
            total_fee += fee
            filled += took
        if filled:
            with_fees = total_notional * RATE_SCALE + (total_fee if buy else -total_fee)
            avg_price = compact(_divide(total_notional * _AVG_SCALE, filled), avg_decimals)
            avg_with_fees = compact(_divide(with_fees * _AVG_SCALE, filled * RATE_SCALE), avg_decimals)
        else:
            avg_price = avg_with_fees = None
        return Quote(
            symbol=book.symbol,
            side=side,
            requested=compact(qty, qty_decimals),
            filled=compact(filled, qty_decimals),
            unfilled=compact(qty - filled, qty_decimals),
            avg_price=avg_price,
            avg_price_with_fees=avg_with_fees,
            notional=compact(total_notional, scale.notional_decimals),
            fees=compact(total_fee, fee_decimals),
            venues=tuple(venue_quotes),
            excluded=tuple(excluded),
            limit_price=None if limit is None else compact(limit, price_decimals),
        )


def _divide(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-even (``denominator`` positive)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient
