"""One venue's L2 order book for one symbol, held in integer units for cheap updates.

Data structure (chosen for the fast path's thousands of diffs a second): each side is a
``dict`` from price units to quantity units, plus a ``list`` of *rank keys* kept sorted with
``bisect``. A rank key is the price for asks and minus the price for bids, so ``ranks[0]`` is
the best level on both sides and a walk reads the list front to back.

- changing the quantity of an existing level (most diffs) is one dict store, O(1);
- a new level is a ``bisect.insort`` into a list of machine-word ints (a memmove, which for
  the few hundred levels a venue publishes is cheaper than any tree in Python);
- removing a level (quantity 0) is a dict pop plus a bisect and ``del``;
- the best price is ``ranks[0]``; the top N levels are a slice.

Prices and quantities are ``int`` units of the symbol's :class:`SymbolScale`; the text and
``Decimal`` entry points convert at the edge.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

from crosslane.money import parse_base_units
from crosslane.routing.scale import SymbolScale

Level = tuple[int, int]  # (price units, quantity units)
TextLevel = tuple[str, str] | list[str]  # ["65000.10", "0.25", ...] as a feed sends it


class FloatLevel(Protocol):
    """A level read as floats (``crosslane.routing.depth.ScaledLevel``): what ``apply_scaled`` takes."""

    price: float
    qty: float


class BookSide:
    """The bids or the asks of one book (see the module docstring for the layout)."""

    __slots__ = ("levels", "ranks", "sign")

    def __init__(self, is_bid: bool) -> None:
        self.levels: dict[int, int] = {}
        self.ranks: list[int] = []
        self.sign = -1 if is_bid else 1

    def __len__(self) -> int:
        return len(self.ranks)

    def best(self) -> int | None:
        """Best price in units (highest bid, lowest ask), None when the side is empty."""
        return self.ranks[0] * self.sign if self.ranks else None

    def price_at(self, index: int) -> int:
        """Price units of the ``index``-th best level."""
        return self.ranks[index] * self.sign

    def top(self, depth: int) -> list[Level]:
        """The ``depth`` best levels, best first."""
        sign, levels = self.sign, self.levels
        return [(rank * sign, levels[rank * sign]) for rank in self.ranks[:depth]]

    def set(self, price: int, qty: int) -> None:
        """Set a level's quantity; 0 removes it. ValueError on a non-positive price or negative qty."""
        self.apply(((price, qty),))

    def apply(self, changes: Iterable[Level]) -> None:
        """Apply level changes ``(price units, qty units)``; qty 0 removes the level.

        ValueError on a non-positive price or a negative quantity, with the changes before it
        applied: the feed is corrupt, resync the book from a snapshot.
        """
        levels, ranks, sign = self.levels, self.ranks, self.sign
        for price, qty in changes:
            if price <= 0 or qty < 0:
                raise ValueError(f"invalid level: price units {price}, qty units {qty}")
            if qty:
                if price not in levels:
                    insort(ranks, price * sign)
                levels[price] = qty
            elif levels.pop(price, None) is not None:
                del ranks[bisect_left(ranks, price * sign)]

    def apply_scaled(self, changes: Iterable[FloatLevel], price_scale: float, qty_scale: float) -> None:
        """:meth:`apply` for levels read as floats whose units are exactly ``round(x * scale)``
        (the caller's guarantee: :mod:`crosslane.routing.depth` checks the text first). The loop
        is :meth:`apply`'s with the conversion inlined: no list of tuples in between. The scales
        are floats (``10.0 ** decimals``, exact): a float times a float is the interpreter's
        specialised multiply, the same product as times the ``int``, at half the cost. The
        rounding is ``float.__round__`` called as a method: what ``round(x)`` calls, without the
        builtin's special-method lookup (about half the cost per level)."""
        levels, ranks, sign = self.levels, self.ranks, self.sign
        for level in changes:
            price, qty = (level.price * price_scale).__round__(), (level.qty * qty_scale).__round__()
            if price <= 0 or qty < 0:
                raise ValueError(f"invalid level: price units {price}, qty units {qty}")
            if qty:
                if price not in levels:
                    insort(ranks, price * sign)
                levels[price] = qty
            elif levels.pop(price, None) is not None:
                del ranks[bisect_left(ranks, price * sign)]

    def replace(self, levels: Iterable[Level]) -> None:
        """Replace the whole side (a snapshot); zero quantities are skipped."""
        snapshot = {price: qty for price, qty in levels if qty}
        if any(price <= 0 or qty < 0 for price, qty in snapshot.items()):
            raise ValueError("invalid level in snapshot: non-positive price or negative quantity")
        self.levels = snapshot
        self.ranks = sorted(price * self.sign for price in snapshot)


class VenueBook:
    """L2 book of one symbol on one venue.

    ``update_id`` is the venue's sequence number of the last applied update and ``ts_ms`` when
    the book was last known true, in the clock the router checks staleness with (the fast path
    passes local receive time, not exchange time, so clock skew cannot hide a dead feed).
    Gap detection is the feed handler's job (each venue numbers diffs differently); the book
    only refuses updates that are not newer than what it holds.
    """

    __slots__ = ("venue", "scale", "bids", "asks", "update_id", "ts_ms")

    def __init__(self, venue: str, scale: SymbolScale) -> None:
        self.venue = venue
        self.scale = scale
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)
        self.update_id = -1
        self.ts_ms = 0

    @property
    def symbol(self) -> str:
        return self.scale.symbol

    # -- ingestion: integer units (hot path) -------------------------------------------------

    def replace(self, bids: Iterable[Level], asks: Iterable[Level], update_id: int, ts_ms: int) -> None:
        """Install a full snapshot, whatever the previous update id."""
        self.bids.replace(bids)
        self.asks.replace(asks)
        self.update_id = update_id
        self.ts_ms = ts_ms

    def touch(self, update_id: int, ts_ms: int) -> None:
        """The venue's book moved to ``update_id`` without changing the levels held here."""
        self.update_id = update_id
        self.ts_ms = ts_ms

    def apply(self, bids: Iterable[Level], asks: Iterable[Level], update_id: int, ts_ms: int) -> bool:
        """Apply a diff; False (and nothing changes) if ``update_id`` is not newer than the book's."""
        if update_id <= self.update_id:
            return False
        self.bids.apply(bids)
        self.asks.apply(asks)
        self.update_id = update_id
        self.ts_ms = ts_ms
        return True

    def apply_scaled(
        self,
        bids: Iterable[FloatLevel],
        asks: Iterable[FloatLevel],
        update_id: int,
        ts_ms: int,
        price_scale: float,
        qty_scale: float,
    ) -> bool:
        """:meth:`apply` for float levels exactly ``round(x * scale)`` units (see :meth:`BookSide.apply_scaled`)."""
        if update_id <= self.update_id:
            return False
        self.bids.apply_scaled(bids, price_scale, qty_scale)
        self.asks.apply_scaled(asks, price_scale, qty_scale)
        self.update_id = update_id
        self.ts_ms = ts_ms
        return True

    # -- ingestion: decimal strings as feeds send them -----------------------------------------

    def replace_text(self, bids: Iterable[TextLevel], asks: Iterable[TextLevel], update_id: int, ts_ms: int) -> None:
        """:meth:`replace` from ``[price, qty]`` strings; ValueError if finer than the symbol's scale."""
        self.replace(self._parse(bids), self._parse(asks), update_id, ts_ms)

    def apply_text(self, bids: Iterable[TextLevel], asks: Iterable[TextLevel], update_id: int, ts_ms: int) -> bool:
        """:meth:`apply` from ``[price, qty]`` strings; ValueError if finer than the symbol's scale
        (the book is then partly updated: resync it from a snapshot)."""
        if update_id <= self.update_id:
            return False
        return self.apply(self._parse(bids), self._parse(asks), update_id, ts_ms)

    def _parse(self, levels: Iterable[TextLevel]) -> list[Level]:
        # the scale's parse_price/parse_qty, inlined: this runs for every level of every diff
        price_decimals, qty_decimals = self.scale.price_decimals, self.scale.qty_decimals
        # level[0], level[1] rather than unpacking: OKX sends [price, qty, "0", order count]
        return [
            (parse_base_units(level[0], price_decimals), parse_base_units(level[1], qty_decimals)) for level in levels
        ]

    # -- reading ---------------------------------------------------------------------------

    def best_bid(self) -> Decimal | None:
        best = self.bids.best()
        return None if best is None else self.scale.price(best)

    def best_ask(self) -> Decimal | None:
        best = self.asks.best()
        return None if best is None else self.scale.price(best)

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask: the book is corrupt (missed
        diffs); resync it. An empty side is never crossed."""
        bids, asks = self.bids.ranks, self.asks.ranks
        return bool(bids and asks) and -bids[0] >= asks[0]

    def age_ms(self, now_ms: int) -> int:
        return now_ms - self.ts_ms

    def is_stale(self, now_ms: int, max_age_ms: int) -> bool:
        """True when the last update is older than ``max_age_ms`` or the book was never filled."""
        return self.update_id < 0 or now_ms - self.ts_ms > max_age_ms

    def depth(self, is_bid: bool, levels: int) -> list[tuple[Decimal, Decimal]]:
        """The best ``levels`` (price, quantity) of one side as Decimals, best first."""
        side = self.bids if is_bid else self.asks
        return [(self.scale.price(price), self.scale.qty(qty)) for price, qty in side.top(levels)]
