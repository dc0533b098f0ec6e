"""One symbol's order book: price levels in price-time priority, with change tracking.

Every level keeps its orders in arrival order (a deque) and its aggregate size. The book
records which levels changed since the last :meth:`OrderBook.take_delta`, so the engine can
publish one diff per call with gap-free sequence numbers.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from decimal import Decimal

from devnet.cex.engine.types import BookDelta, Order, Side
from devnet.cex.numbers import ZERO


class RestingSide:
    """Bids (best = highest) or asks (best = lowest)."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self._prices: list[Decimal] = []  # ascending
        self._orders: dict[Decimal, deque[Order]] = {}
        self._size: dict[Decimal, Decimal] = {}

    def __len__(self) -> int:
        return len(self._prices)

    def best(self) -> Decimal | None:
        if not self._prices:
            return None
        return self._prices[-1] if self.side is Side.BUY else self._prices[0]

    def prices(self) -> Iterator[Decimal]:
        """Best first."""
        return reversed(self._prices) if self.side is Side.BUY else iter(self._prices)

    def size_at(self, price: Decimal) -> Decimal:
        return self._size.get(price, ZERO)

    def orders_at(self, price: Decimal) -> deque[Order]:
        return self._orders[price]

    def levels(self, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """(price, aggregate size), best first."""
        out = []
        for price in self.prices():
            if depth is not None and len(out) >= depth:
                break
            out.append((price, self._size[price]))
        return out

    def add(self, order: Order) -> None:
        assert order.price is not None
        price = order.price
        level = self._orders.get(price)
        if level is None:
            bisect.insort(self._prices, price)
            level = self._orders[price] = deque()
            self._size[price] = ZERO
        level.append(order)
        self._size[price] += order.remaining

    def reduce(self, price: Decimal, quantity: Decimal) -> None:
        """A resting order at ``price`` traded ``quantity``."""
        self._size[price] -= quantity

    def remove(self, order: Order) -> None:
        """Take an order off its level (fully filled, canceled or expired)."""
        assert order.price is not None
        price = order.price
        level = self._orders[price]
        level.remove(order)
        self._size[price] -= order.remaining
        if not level:
            del self._orders[price]
            del self._size[price]
            self._prices.pop(bisect.bisect_left(self._prices, price))


class OrderBook:
    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids = RestingSide(Side.BUY)
        self.asks = RestingSide(Side.SELL)
        self.sequence = 0
        self._dirty: dict[Side, set[Decimal]] = {Side.BUY: set(), Side.SELL: set()}

    def side(self, side: Side) -> RestingSide:
        return self.bids if side is Side.BUY else self.asks

    def touch(self, side: Side, price: Decimal) -> None:
        self._dirty[side].add(price)

    def add(self, order: Order) -> None:
        self.side(order.side).add(order)
        self.touch(order.side, order.price)  # type: ignore[arg-type]

    def remove(self, order: Order) -> None:
        self.side(order.side).remove(order)
        self.touch(order.side, order.price)  # type: ignore[arg-type]

    def take_delta(self, time_ms: int) -> BookDelta | None:
        """The levels changed since the last call, or None; advances the sequence by one."""
        if not self._dirty[Side.BUY] and not self._dirty[Side.SELL]:
            return None
        bids = tuple((p, self.bids.size_at(p)) for p in sorted(self._dirty[Side.BUY], reverse=True))
        asks = tuple((p, self.asks.size_at(p)) for p in sorted(self._dirty[Side.SELL]))
        self._dirty = {Side.BUY: set(), Side.SELL: set()}
        previous = self.sequence
        self.sequence += 1
        return BookDelta(self.symbol, previous, self.sequence, bids, asks, time_ms)

    def best_bid(self) -> Decimal | None:
        return self.bids.best()

    def best_ask(self) -> Decimal | None:
        return self.asks.best()

    def mid(self) -> Decimal | None:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return bid if ask is None else ask
        return (bid + ask) / 2
