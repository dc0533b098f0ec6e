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
    ChildOrder,
    OrderKind,
    ParentOrder,
    Quote,
    QuoteRequest,
    RouteRequest,
    VenueQuote,
)
from crosslane.routing import ConsolidatedBook, Router, VenueCosts, VenueMarket, VenuePrecision
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


def apply_ccxt_order(child: ChildOrder, order: dict[str, Any]) -> ChildOrder:
    """A child updated from what the venue says about it (ccxt unified order)."""
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
        state=status,
        venue_order_id=str(order.get("id") or "") or None,
        filled=filled,
        avg_price=None if order.get("average") is None else Decimal(str(order["average"])),
        fee=Decimal(str(fee.get("cost") or 0)),
        fee_currency=fee.get("currency"),
    )


class OrderEngine:
    def __init__(self, venues: dict[str, CexVenue], symbols: list[str], journal: Journal) -> None:
        self.venues = venues
        self.symbols = symbols
        self.journal = journal
        self.router = Router()
        self.parents: dict[str, ParentOrder] = {}
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

    def refresh_health(self) -> None:
        for name, venue in self.venues.items():
            self.router.set_health(name, venue.health.for_router())

    def quote(self, request: QuoteRequest) -> Quote:
        self.refresh_health()
        q = self.router.quote(request.side, request.qty, request.symbol)
        return Quote(
            symbol=q.symbol,
            side=q.side,
            qty=q.requested,
            filled_qty=q.filled,
            avg_price=q.avg_price,
            avg_price_with_fees=q.avg_price_with_fees,
            legs=[VenueQuote(venue=v.venue, qty=v.qty, avg_price=v.avg_price, fee=v.fee) for v in q.venues],
        )

    async def route(self, request: RouteRequest) -> ParentOrder:
        """Idempotent per ``parent_id``: a repeat returns the recorded parent, sends nothing."""
        lock = self._locks.setdefault(request.parent_id, asyncio.Lock())
        async with lock:
            known = self.parents.get(request.parent_id)
            if known is not None:
                return known
            self.refresh_health()
            plan = self.router.route(request.side, request.qty, request.symbol, limit_price=request.limit_price)
            children = [
                ChildOrder(
                    venue=c.venue,
                    client_order_id=client_order_id(f"{request.parent_id}/{i}"),
                    symbol=c.symbol,
                    side=c.side,
                    qty=c.qty,
                    limit_price=None if request.kind is OrderKind.MARKET else c.limit_price,
                )
                for i, c in enumerate(plan.children)
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
            parent.children = list(await asyncio.gather(*(self._send(parent, c) for c in children)))
            return parent

    async def _send(self, parent: ParentOrder, child: ChildOrder) -> ChildOrder:
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
            )
            updated = apply_ccxt_order(child, order)
        except CrosslaneError as exc:
            updated = msgspec.structs.replace(child, state="unknown" if exc.retryable else "rejected", error=str(exc))
        self.journal.record_child(parent.parent_id, updated)
        return updated

    async def cancel(self, parent_id: str) -> ParentOrder:
        parent = self._parent(parent_id)
        updated = []
        for child in parent.children:
            if child.state in _OPEN:
                try:
                    child = apply_ccxt_order(
                        child, await self.venues[child.venue].cancel(child.symbol, child.client_order_id)
                    )
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
                        apply_ccxt_order(child, found)
                        if found
                        else msgspec.structs.replace(child, state="cancelled", error="never reached the venue")
                    )
                    self.journal.record_child(parent.parent_id, child)
                children.append(child)
            parent.children = children
            reconciled.append(parent)
        return reconciled
