"""The fast path's order engine: quotes and routes over live books, sends child orders
concurrently, journals every parent and child, and reconciles after a restart."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import Any

import msgspec

from connectors.cex.client_order_id import client_order_id
from connectors.cex.venue import CexVenue
from crosslane.errors import CrosslaneError, InvalidRequest
from crosslane.fastpath.protocol import (
    BookLevel,
    BookRequest,
    BookView,
    ChildOrder,
    OrderKind,
    ParentOrder,
    QuoteRequest,
    QuoteView,
    RouteRequest,
    VenueHealthView,
    VenueQuoteView,
)
from crosslane.routing import ConsolidatedBook, Router, Side, VenueCosts, VenueMarket, VenuePrecision
from crosslane.routing.scale import decimals_of
from workers.fastpath.journal import Journal

log = logging.getLogger(__name__)
_OPEN = {"pending", "open", "partially_filled", "unknown"}
_CCXT_STATE = {
    "open": "open",
    "closed": "filled",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "rejected": "rejected",
    "expired": "cancelled",
}


def venue_market(venue: CexVenue, symbol: str) -> VenueMarket:
    """The router's view of one ccxt market: fees in bps and TICK_SIZE precision."""
    market = venue.market(symbol)
    maker, taker = venue.fees(symbol)
    limits = market["limits"]
    return VenueMarket(
        venue=venue.name,
        costs=VenueCosts(taker_bps=(taker * 10_000).normalize(), maker_bps=(maker * 10_000).normalize()),
        precision=VenuePrecision(
            tick=Decimal(str(market["precision"]["price"])),
            step=Decimal(str(market["precision"]["amount"])),
            min_qty=Decimal(str(limits["amount"].get("min") or 0)),
            min_notional=Decimal(str((limits.get("cost") or {}).get("min") or 0)),
        ),
    )


def apply_ccxt_order(child: ChildOrder, order: dict[str, Any], notional_quantum: Decimal) -> ChildOrder:
    """A child updated from what the venue says about it (ccxt unified order). ``cost`` is
    rounded to the market's notional precision (tick x step), which is exact: ccxt may
    derive it by division and carry digits the trade never had."""
    status = _CCXT_STATE.get(order.get("status") or "", "open")
    filled = Decimal(str(order.get("filled") or 0))
    if status == "open" and filled > 0:
        status = "partially_filled"
    if status == "cancelled" and filled >= child.qty:
        status = "filled"
    fee = order.get("fee") or {}
    return ChildOrder(
        venue=child.venue,
        client_order_id=child.client_order_id,
        symbol=child.symbol,
        side=child.side,
        qty=child.qty,
        limit_price=child.limit_price,
        expected_price=child.expected_price,
        state=status,
        venue_order_id=str(order.get("id") or "") or None,
        filled=filled,
        cost=Decimal(str(order.get("cost") or 0)).quantize(notional_quantum),
        avg_price=None if order.get("average") is None else Decimal(str(order["average"])),
        fee=Decimal(str(fee.get("cost") or 0)),
        fee_currency=fee.get("currency"),
    )


class OrderEngine:
    def __init__(self, venues: dict[str, CexVenue], symbols: list[str], journal: Journal, router: Router) -> None:
        self.venues = venues
        self.symbols = symbols
        self.journal = journal
        self.router = router
        self.parents: dict[str, ParentOrder] = {}
        self._health_at = float("-inf")
        self._locks: dict[str, asyncio.Lock] = {}

    def build_books(self) -> dict[str, ConsolidatedBook]:
        books = {}
        for symbol in self.symbols:
            markets = [venue_market(v, symbol) for v in self.venues.values() if symbol in v.markets]
            if not markets:
                raise InvalidRequest(f"no configured venue lists {symbol}")
            books[symbol] = ConsolidatedBook.covering(symbol, markets)
            self.router.add_book(books[symbol])
        return books

    def notional_quantum(self, venue: str, symbol: str) -> Decimal:
        precision = self.venues[venue].market(symbol)["precision"]
        exponent = decimals_of(Decimal(str(precision["price"]))) + decimals_of(Decimal(str(precision["amount"])))
        return Decimal(1).scaleb(-exponent)

    def refresh_health(self, max_age_s: float = 0.05) -> None:
        """Push venue health to the router, at most every ``max_age_s`` (latency percentiles
        sort hundreds of samples: not something to redo on every order)."""
        now = time.monotonic()
        if now - self._health_at < max_age_s:
            return
        self._health_at = now
        for name, venue in self.venues.items():
            self.router.set_health(name, venue.health.for_router())

    def book(self, request: BookRequest) -> BookView:
        self.refresh_health()
        book = self.router.book(request.symbol)

        def side(s: Side) -> list[BookLevel]:
            return [
                BookLevel(venue=lv.venue, price=lv.price, effective_price=lv.effective_price, qty=lv.qty)
                for lv in book.levels(s, request.depth)
            ]

        health = {v: str(self.router.health(v).status) for v in book.venues}
        return BookView(symbol=request.symbol, bids=side(Side.SELL), asks=side(Side.BUY), venues=health)

    def health(self) -> list[VenueHealthView]:
        self.refresh_health()
        views = []
        for name, venue in sorted(self.venues.items()):
            h = venue.health
            views.append(
                VenueHealthView(
                    venue=name,
                    status=str(self.router.health(name).status),
                    uptime_s=time.monotonic() - h.started_at,
                    calls=h.calls,
                    failures=h.failures,
                    p50_latency_ms=h.latency_ms(50),
                    p99_latency_ms=h.latency_ms(99),
                    ws_reconnects=h.ws_reconnects,
                    book_age_s=h.book_age_s(),
                    book_stale=h.book_stale,
                )
            )
        return views

    def quote(self, request: QuoteRequest) -> QuoteView:
        self.refresh_health()
        q = self.router.quote(request.side, request.qty, request.symbol)
        return QuoteView(
            symbol=q.symbol,
            side=q.side,
            qty=q.requested,
            filled_qty=q.filled,
            avg_price=q.avg_price,
            avg_price_with_fees=q.avg_price_with_fees,
            notional=q.notional,
            fees=q.fees,
            legs=[VenueQuoteView(venue=v.venue, qty=v.qty, avg_price=v.avg_price, fee=v.fee) for v in q.venues],
            excluded=[f"{e.venue}: {e.reason}" for e in q.excluded],
        )

    async def route(self, request: RouteRequest) -> ParentOrder:
        """Idempotent per ``parent_id``: a repeat returns the recorded parent, sends nothing."""
        lock = self._locks.setdefault(request.parent_id, asyncio.Lock())
        async with lock:
            known = self.parents.get(request.parent_id)
            if known is not None:
                return known
            self.refresh_health()
            if request.kind is OrderKind.LIMIT and request.limit_price is None:
                raise InvalidRequest("a limit order needs limit_price")
            legs = self._legs(request)
            children = [
                ChildOrder(
                    venue=venue,
                    client_order_id=client_order_id(f"{request.parent_id}/{i}"),
                    symbol=request.symbol,
                    side=request.side,
                    qty=qty,
                    limit_price=None if request.kind is OrderKind.MARKET else price,
                    expected_price=price if request.kind is OrderKind.MARKET else None,
                )
                for i, (venue, qty, price, _rests) in enumerate(legs)
            ]
            parent = ParentOrder(
                parent_id=request.parent_id,
                symbol=request.symbol,
                side=request.side,
                qty=request.qty,
                kind=request.kind,
                limit_price=request.limit_price,
                children=children,
                created_ns=time.time_ns(),
            )
            self.journal.record_parent(parent)  # durable before any child leaves
            self.parents[parent.parent_id] = parent
            sends = (self._send(parent, child, leg[3]) for child, leg in zip(children, legs, strict=True))
            parent.children = list(await asyncio.gather(*sends))
            return parent

    def _legs(self, request: RouteRequest) -> list[tuple[str, Decimal, Decimal, bool]]:
        """(venue, qty, limit price, rests) per child: what is marketable now goes where the
        router says; a limit order's remainder rests at its limit on the venue with the lowest
        maker fee (the router plans takers only; ``rests`` marks that leg). Every leg is checked
        against its venue's filters here, before anything is journaled or sent."""
        quote = self.router.quote(request.side, request.qty, request.symbol, limit_price=request.limit_price)
        legs = [(v.venue, v.qty, v.worst_price, False) for v in quote.venues]
        if request.kind is OrderKind.LIMIT and quote.unfilled > 0:
            assert request.limit_price is not None
            venues = [v for v in self.venues.values() if request.symbol in v.markets]
            maker = min(venues, key=lambda v: v.fees(request.symbol)[0])
            legs.append((maker.name, quote.unfilled, request.limit_price, True))
        if not legs:
            reasons = "; ".join(f"{e.venue}: {e.reason}" for e in quote.excluded)
            raise InvalidRequest(
                f"nothing routable for {request.side} {request.qty} {request.symbol}"
                + (f" within limit {request.limit_price}" if request.limit_price is not None else "")
                + (f" ({reasons})" if reasons else "")
            )
        order_type = "market" if request.kind is OrderKind.MARKET else "limit"
        for venue, qty, price, _rests in legs:
            self.venues[venue].check(
                request.symbol,
                request.side.value,
                order_type,
                qty,
                None if order_type == "market" else price,
                reference_price=price,
            )
        return legs

    async def _send(self, parent: ParentOrder, child: ChildOrder, rests: bool = False) -> ChildOrder:
        """Place one child. A leg that rests by construction (no marketable price within its
        limit when routed) takes an ids-only acknowledgement (OKX) as its state, as it takes
        Binance's NEW one: reading it back would cost a second round trip to learn "open"."""
        venue = self.venues[child.venue]
        order_type = "market" if parent.kind is OrderKind.MARKET else "limit"
        tif = "IOC" if parent.kind is OrderKind.IOC else None
        try:
            order = await venue.place(
                child.symbol,
                child.side.value,
                order_type,
                child.qty,
                child.limit_price,
                child.client_order_id,
                time_in_force=tif,
                reference_price=child.expected_price,
                read_back=not rests,
            )
            updated = apply_ccxt_order(child, order, self.notional_quantum(child.venue, child.symbol))
        except CrosslaneError as exc:
            self._health_at = float("-inf")  # the venue's health may have changed: re-read before routing
            updated = msgspec.structs.replace(child, state="unknown" if exc.retryable else "rejected", error=str(exc))
        self.journal.record_child(parent.parent_id, updated)
        return updated

    async def cancel(self, parent_id: str) -> ParentOrder:
        parent = self._parent(parent_id)
        updated = []
        for child in parent.children:
            if child.state in _OPEN:
                try:
                    cancelled = await self.venues[child.venue].cancel(child.symbol, child.client_order_id)
                    child = apply_ccxt_order(child, cancelled, self.notional_quantum(child.venue, child.symbol))
                except CrosslaneError as exc:
                    child = msgspec.structs.replace(child, error=str(exc))
                self.journal.record_child(parent_id, child)
            updated.append(child)
        parent.children = updated
        return parent

    def status(self, parent_id: str | None) -> list[ParentOrder]:
        if parent_id is not None:
            return [self._parent(parent_id)]
        return [p for p in self.parents.values() if p.open]

    def _parent(self, parent_id: str) -> ParentOrder:
        try:
            return self.parents[parent_id]
        except KeyError:
            raise InvalidRequest(f"no parent order {parent_id!r}") from None

    async def recover(self, parents: dict[str, ParentOrder]) -> list[ParentOrder]:
        """After a restart: every journaled parent is known again; each child not known to be
        final is looked up at its venue by client order id (``unknown`` if the venue has none:
        it was never placed)."""
        self.parents.update(parents)
        reconciled = []
        for parent in parents.values():
            if not parent.open:
                continue
            children = []
            for child in parent.children:
                if child.state in _OPEN:
                    found = await self.venues[child.venue].find_order(child.symbol, child.client_order_id)
                    child = (
                        apply_ccxt_order(child, found, self.notional_quantum(child.venue, child.symbol))
                        if found
                        else msgspec.structs.replace(child, state="cancelled", error="never reached the venue")
                    )
                    self.journal.record_child(parent.parent_id, child)
                children.append(child)
            parent.children = children
            reconciled.append(parent)
        return reconciled
