"""The fast path's order engine: quotes and routes over live books, sends child orders
concurrently, journals every parent and child, applies what each venue's user-data stream
pushes about them, and reconciles after a restart or a lost stream.

Every source (placement answer, pushed update, REST lookup) gives cumulative figures, and
:func:`advance` only lets a child move forward, so one fill seen several ways counts once."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import Any

import msgspec

from connectors.cex.client_order_id import client_order_id
from connectors.cex.venue import CexVenue
from crosslane.crashpoints import crash_point
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
    VenueBalanceView,
    VenueHealthView,
    VenueQuoteView,
)
from crosslane.routing import ConsolidatedBook, Router, Side, VenueCosts, VenueMarket, VenuePrecision
from crosslane.routing.scale import decimals_of
from workers.fastpath.journal import Journal
from workers.fastpath.metrics import ORDER_TO_ACK

log = logging.getLogger(__name__)
_OPEN = {"pending", "open", "partially_filled", "unknown"}
# How far along a child is: a state only ever gives way to a later one (at equal filled qty).
_RANK = {"pending": 0, "unknown": 1, "open": 2, "partially_filled": 3, "filled": 4, "cancelled": 4, "rejected": 4}
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


def advance(current: ChildOrder, update: ChildOrder) -> ChildOrder:
    """``current`` moved forward by ``update``; ``current`` itself when the update is stale or
    a repeat. Figures are cumulative, so a fill reported twice (pushed, then by a REST lookup or
    a restart's reconciliation) is counted once: a smaller filled quantity never replaces a
    larger one, and at equal quantity only a later state (open -> cancelled) or a fuller account
    of the fees is taken. The fee never shrinks (a push may carry only the fees seen since the
    stream began; Binance's REST order lookup carries none)."""
    if update.filled < current.filled:
        return current
    same_currency = None in (current.fee_currency, update.fee_currency) or current.fee_currency == update.fee_currency
    more_fees = same_currency and update.fee > current.fee  # the same progress, told more fully
    if update.filled == current.filled and _RANK[update.state] <= _RANK[current.state] and not more_fees:
        if current.venue_order_id is None and update.venue_order_id is not None:
            return msgspec.structs.replace(current, venue_order_id=update.venue_order_id)
        return current
    fee, fee_currency = update.fee, update.fee_currency
    if same_currency and current.fee > fee:
        fee, fee_currency = current.fee, current.fee_currency or fee_currency
    state = update.state if _RANK[update.state] >= _RANK[current.state] else current.state  # never backwards
    return msgspec.structs.replace(
        update,
        state=state,
        venue_order_id=update.venue_order_id or current.venue_order_id,
        fee=fee,
        fee_currency=fee_currency,
    )


def _child(parent: ParentOrder, client_order_id: str) -> ChildOrder:
    return next(c for c in parent.children if c.client_order_id == client_order_id)


async def recent_orders(exchange: Any, symbol: str, since_ms: int | None = None) -> list[dict[str, Any]]:
    """A ccxt exchange's open orders on ``symbol`` and those closed (since ``since_ms``),
    filled or cancelled: ccxt's "closed" is filled only on Binance and OKX, so cancelled ones
    are asked for too where the venue lists them apart (Kraken's closed list holds both)."""
    has = exchange.has
    orders: list[dict[str, Any]] = await exchange.fetch_open_orders(symbol)
    if has.get("fetchCanceledAndClosedOrders"):
        return orders + await exchange.fetch_canceled_and_closed_orders(symbol, since_ms)
    orders += await exchange.fetch_closed_orders(symbol, since_ms)
    if has.get("fetchCanceledOrders"):
        orders += await exchange.fetch_canceled_orders(symbol, since_ms)
    return orders


class OrderEngine:
    def __init__(self, venues: dict[str, CexVenue], symbols: list[str], journal: Journal, router: Router) -> None:
        self.venues = venues
        self.symbols = symbols
        self.journal = journal
        self.router = router
        self.parents: dict[str, ParentOrder] = {}
        self._health_at = float("-inf")
        self._locks: dict[str, asyncio.Lock] = {}
        self._placing: set[tuple[str, str]] = set()  # (venue, client id) whose placement is awaited
        # (venue, venue's client id or order id) -> (parent id, our client order id)
        self._children: dict[tuple[str, str], tuple[str, str]] = {}
        # (venue, venue's client id) -> the venue's order: ours by id prefix, no journaled child (see find_strays)
        self.strays: dict[tuple[str, str], dict[str, Any]] = {}
        self._quanta: dict[tuple[Any, Any], Decimal] = {}  # see notional_quantum
        self._makers: dict[str, str] = {}  # symbol -> the venue a remainder rests on (see _maker)
        self._acks = {name: ORDER_TO_ACK.labels(name) for name in venues}  # labels() looks up under a lock

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
        """tick x step's decimal places as a quantum, remembered per (tick, step): every placement,
        push and lookup asks for it (~4 us to work out, ~0.1 us remembered)."""
        precision = self.venues[venue].market(symbol)["precision"]
        key = (precision["price"], precision["amount"])
        quantum = self._quanta.get(key)
        if quantum is None:
            exponent = decimals_of(Decimal(str(key[0]))) + decimals_of(Decimal(str(key[1])))
            quantum = self._quanta[key] = Decimal(1).scaleb(-exponent)
        return quantum

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
                    user_stream=h.user_stream,
                    user_stream_drops=h.user_stream_drops,
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
            step=Decimal(1).scaleb(-self.router.book(request.symbol).scale.qty_decimals),
        )

    async def balances(self, currencies: list[str]) -> list[VenueBalanceView]:
        """Each venue's free ``currencies``, read from every venue at once; a venue that fails
        answers its error (the caller decides: unknown inventory is not inventory)."""

        async def one(name: str, venue: CexVenue) -> VenueBalanceView:
            try:
                held = await venue.balances()
            except Exception as exc:  # noqa: BLE001 - one venue down must not hide the others
                return VenueBalanceView(venue=name, free={}, error=f"{type(exc).__name__}: {exc}")
            free = held.get("free") or {}
            return VenueBalanceView(venue=name, free={c: Decimal(str(free.get(c) or 0)) for c in currencies})

        return list(await asyncio.gather(*(one(n, v) for n, v in sorted(self.venues.items()))))

    async def route(self, request: RouteRequest) -> ParentOrder:
        """Idempotent per ``parent_id``: a repeat returns the recorded parent (or, after a power
        loss dropped it from the journal, the one adopted from its orders on the venues) and
        sends nothing. The answer means "acknowledged by the venues and written to the
        journal"; it does not wait for the journal's fdatasync."""
        lock = self._locks.setdefault(request.parent_id, asyncio.Lock())
        async with lock:
            known = self.parents.get(request.parent_id)
            if known is None and self.strays:  # only a restart leaves orders to adopt
                known = await self._adopt(request)
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
            # In the page cache before any child leaves (a process crash keeps it); its fdatasync
            # is a group commit in a thread that the answer does not wait for. A power loss may
            # drop it: the orders are then found on the venues and adopted when the client
            # retries this parent id (find_strays, _adopt; the contract: workers/fastpath/journal.py).
            self.journal.record_parent(parent)
            self._remember(parent)
            sends = [self._send(parent, child, leg[3]) for child, leg in zip(children, legs, strict=True)]
            try:
                if len(sends) == 1:
                    # Awaited in this task: no task to schedule and no gather to wake, so nothing
                    # queued on the loop (websocket pushes) runs between the acknowledgement and the answer.
                    await sends[0]
                else:
                    await asyncio.gather(*sends)
                crash_point("fastpath.after_send", parent.parent_id)
            finally:
                # The flush starts on the loop's next turn: once the server, resuming in this
                # same step, has written the answer, so waking the flusher thread does not compete
                # with it; one fdatasync covers the parent and its children's first updates.
                asyncio.get_running_loop().call_soon(self.journal.sync_soon)
            return parent

    def _legs(self, request: RouteRequest) -> list[tuple[str, Decimal, Decimal, bool]]:
        """(venue, qty, limit price, rests) per child: what is marketable now goes where the
        router says; a limit order's remainder rests at its limit on the venue with the lowest
        maker fee (the router plans takers only; ``rests`` marks that leg). Every leg is checked
        against its venue's filters here, before anything is journaled or sent."""
        legs = self._resting_legs(request) or self._routed_legs(request)
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

    def _resting_legs(self, request: RouteRequest) -> list[tuple[str, Decimal, Decimal, bool]] | None:
        """A limit order with no level within its limit on any eligible venue: the one resting
        leg :meth:`_routed_legs` would give (the quote plans no taker leg), without building the
        quote (see Router.resting_qty); None for any other order (route it)."""
        if request.kind is not OrderKind.LIMIT or request.limit_price is None:
            return None
        resting = self.router.resting_qty(request.side, request.qty, request.symbol, limit_price=request.limit_price)
        if resting is None:
            return None
        return [(self._maker(request.symbol), resting, request.limit_price, True)]

    def _maker(self, symbol: str) -> str:
        """The venue a limit order's remainder rests on: the lowest maker fee among the venues
        listing ``symbol`` (fees and markets are loaded once, at start: worked out once a symbol)."""
        maker = self._makers.get(symbol)
        if maker is None:
            venues = [v for v in self.venues.values() if symbol in v.markets]
            maker = self._makers[symbol] = min(venues, key=lambda v: v.fees(symbol)[0]).name
        return maker

    def _routed_legs(self, request: RouteRequest) -> list[tuple[str, Decimal, Decimal, bool]]:
        """:meth:`_legs` as the router's quote plans them, before the venues' checks."""
        quote = self.router.quote(request.side, request.qty, request.symbol, limit_price=request.limit_price)
        # An IOC child goes out at the parent's limit, not at the worst level the router saw:
        # that level may be gone by the time the child arrives (a market maker requotes, the
        # book is up to the health policy's age old, another parent took it), and an IOC at a
        # price no longer quoted fills nothing though the book still holds fills inside the limit.
        # The venue matches at its book's prices, so the limit only bounds the fill.
        ioc_limit = request.limit_price if request.kind is OrderKind.IOC else None
        legs = [(v.venue, v.qty, ioc_limit or v.worst_price, False) for v in quote.venues]
        if request.kind is OrderKind.LIMIT and quote.unfilled > 0:
            assert request.limit_price is not None
            legs.append((self._maker(request.symbol), quote.unfilled, request.limit_price, True))
        if not legs:
            reasons = "; ".join(f"{e.venue}: {e.reason}" for e in quote.excluded)
            raise InvalidRequest(
                f"nothing routable for {request.side} {request.qty} {request.symbol}"
                + (f" within limit {request.limit_price}" if request.limit_price is not None else "")
                + (f" ({reasons})" if reasons else "")
            )
        return legs

    def _remember(self, parent: ParentOrder) -> None:
        """Known by id, and each child findable by what a venue's push names it by."""
        self.parents[parent.parent_id] = parent
        for child in parent.children:
            self._index(parent.parent_id, child)

    def _index(self, parent_id: str, child: ChildOrder) -> None:
        venue = self.venues[child.venue]
        ref = (parent_id, child.client_order_id)
        self._children[(child.venue, venue.profile.client_id(child.client_order_id))] = ref
        if child.venue_order_id:
            self._children[(child.venue, "#" + child.venue_order_id)] = ref

    def _update(self, parent: ParentOrder, update: ChildOrder) -> ChildOrder:
        """Moves the parent's child forward by ``update`` (see :func:`advance`), journaling a change."""
        for i, current in enumerate(parent.children):
            if current.client_order_id == update.client_order_id:
                merged = advance(current, update)
                if merged is not current:
                    parent.children[i] = merged
                    self._index(parent.parent_id, merged)
                    self.journal.record_child(parent.parent_id, merged)
                return merged
        raise KeyError(update.client_order_id)

    def apply_pushed(self, venue: str, orders: list[dict[str, Any]]) -> int:
        """Orders pushed by ``venue``'s user-data stream (ccxt unified, cumulative figures),
        applied to the children they are; the count that changed one. Orders that are not the
        fast path's are ignored."""
        changed = 0
        for order in orders:
            client_id = str(order.get("clientOrderId") or "")
            ref = self._children.get((venue, client_id)) or self._children.get((venue, "#" + str(order.get("id"))))
            if ref is None:
                if (venue, client_id) in self.strays:
                    self.strays[(venue, client_id)] = order
                continue
            parent = self.parents[ref[0]]
            child = _child(parent, ref[1])
            before = child
            after = self._update(parent, apply_ccxt_order(child, order, self.notional_quantum(venue, child.symbol)))
            changed += after is not before
        return changed

    async def read_fees(self, venue: str, pushed: list[dict[str, Any]]) -> int:
        """The venue's fee, read by REST, for each child ``pushed`` left done with a fill and no
        fee (a venue whose push carries none in the asset charged). A child whose placement is
        still awaited is left to :meth:`_send`, which looks once it has the answer. The count read."""
        read = 0
        for order in pushed:
            ref = self._children.get((venue, str(order.get("clientOrderId") or "")))
            if ref is not None and (venue, ref[1]) not in self._placing:
                read += await self._read_fee(self.parents[ref[0]], ref[1])
        return read

    async def _read_fee(self, parent: ParentOrder, client_order_id: str) -> bool:
        child = _child(parent, client_order_id)
        if child.state in _OPEN or not child.filled or child.fee_currency is not None:
            return False
        return await self._look_up(parent, child, "reading the fee of") is not None

    def knows_open(self, venue: str, client_id: str, order_id: str) -> bool:
        """True when ``venue``'s order ``order_id`` under its client id ``client_id`` is a child
        already known open with that id and nothing filled: a push saying "new, nothing filled"
        about it changes nothing (:func:`advance` would keep the child as it is)."""
        ref = self._children.get((venue, client_id))
        if ref is None:
            return False
        child = _child(self.parents[ref[0]], ref[1])
        return child.state == "open" and child.filled == 0 and child.venue_order_id == order_id

    async def reconcile_venue(self, venue: str) -> int:
        """Every child on ``venue`` not known to be final, looked up by client id: what its user
        stream may have missed while it was down. The count that changed."""
        changed = 0
        for parent in list(self.parents.values()):
            for child in list(parent.children):
                if child.venue != venue or child.state not in _OPEN or child.state == "pending":
                    continue
                merged = await self._look_up(parent, child, "catching up on")
                changed += merged is not None and merged is not child
        return changed

    async def _look_up(self, parent: ParentOrder, child: ChildOrder, purpose: str) -> ChildOrder | None:
        """``child`` as its venue has it, by client id, applied (:func:`advance`); None when the
        venue has no such order or could not answer (logged with ``purpose``)."""
        try:
            found = await self.venues[child.venue].find_order(child.symbol, child.client_order_id)
        except CrosslaneError as exc:
            log.warning("%s: %s %s failed: %s", child.venue, purpose, child.client_order_id, exc)
            return None
        if found is None:
            return None
        return self._update(parent, apply_ccxt_order(child, found, self.notional_quantum(child.venue, child.symbol)))

    async def _send(self, parent: ParentOrder, child: ChildOrder, rests: bool = False) -> ChildOrder:
        """Place one child. A leg that rests by construction (no marketable price within its
        limit when routed) takes an ids-only acknowledgement (OKX) as its state, as it takes
        Binance's NEW one: reading it back would cost a second round trip to learn "open"."""
        venue = self.venues[child.venue]
        order_type = "market" if parent.kind is OrderKind.MARKET else "limit"
        tif = "IOC" if parent.kind is OrderKind.IOC else None
        sent = time.perf_counter()
        placing = (child.venue, child.client_order_id)
        self._placing.add(placing)
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
        finally:
            self._placing.discard(placing)
        self._acks[child.venue].observe(time.perf_counter() - sent)
        # A push may already have moved the child on (a fill before the placement's answer).
        merged = self._update(parent, updated)
        if merged.fee_currency is None and merged.filled and not venue.profile.user_stream.fees_pushed:
            await self._read_fee(parent, merged.client_order_id)  # the push said done; the answer said open
            merged = _child(parent, merged.client_order_id)
        return merged

    async def cancel(self, parent_id: str) -> ParentOrder:
        parent = self._parent(parent_id)
        for child in list(parent.children):
            if child.state in _OPEN:
                try:
                    cancelled = await self.venues[child.venue].cancel(child.symbol, child.client_order_id)
                    self._update(
                        parent, apply_ccxt_order(child, cancelled, self.notional_quantum(child.venue, child.symbol))
                    )
                except CrosslaneError as exc:
                    self._replace(parent, child.client_order_id, error=str(exc))
        return parent

    def _replace(self, parent: ParentOrder, client_order_id: str, **changes: Any) -> None:
        """Sets fields of the child as it is now (a push may have moved it during an await)."""
        for i, current in enumerate(parent.children):
            if current.client_order_id == client_order_id:
                parent.children[i] = msgspec.structs.replace(current, **changes)
                self.journal.record_child(parent.parent_id, parent.children[i])

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
        it was never placed). What the user streams pushed meanwhile is kept (see :func:`advance`)."""
        for parent in parents.values():
            if parent.parent_id not in self.parents:
                self._remember(parent)
        reconciled = []
        for parent in parents.values():
            parent = self.parents[parent.parent_id]
            if not parent.open:
                continue
            for child in list(parent.children):
                if child.state in _OPEN:
                    found = await self.venues[child.venue].find_order(child.symbol, child.client_order_id)
                    if found:
                        self._update(
                            parent, apply_ccxt_order(child, found, self.notional_quantum(child.venue, child.symbol))
                        )
                    else:
                        self._replace(parent, child.client_order_id, state="cancelled", error="never reached the venue")
            reconciled.append(parent)
        return reconciled

    async def find_strays(self, since_ms: int) -> int:
        """After a restart: orders on the venues under a client id no journaled child has. A
        power loss drops the journal's unsynced tail, and with it parents whose children were already sent (their
        sync runs while they travel); those orders are kept here, by venue client id, until the
        client retries their parent (see :meth:`_adopt`). Each venue's open orders and its
        closed ones since ``since_ms`` (the last journaled parent's time, less a margin), one
        page of each per symbol: Binance lists up to 500 from ``since_ms`` on, OKX its newest
        100. The count found; each is logged.

        Limits: a stray beyond that page is not seen (a retry of its parent would send again,
        and a venue that refuses a repeated client id refuses it); strays are kept in memory
        only, so one not claimed before the next restart is looked for again only if it is
        newer than that restart's last journaled parent (less the margin)."""
        for name, venue in self.venues.items():
            for symbol in self.symbols:
                if symbol not in venue.markets:
                    continue
                # A venue that cannot answer stops the start (as recover does): serving without
                # knowing its strays could send a retried parent's children a second time.
                for order in await recent_orders(venue.exchange, symbol, since_ms):
                    client_id = str(order.get("clientOrderId") or "")
                    if client_id and (name, client_id) not in self._children:
                        self.strays[(name, client_id)] = order
        for (name, client_id), order in self.strays.items():
            log.warning(
                "%s: order %s (client id %s, %s) is not in the journal: adopted when its parent is retried",
                name,
                order.get("id"),
                client_id,
                order.get("status"),
            )
        return len(self.strays)

    async def _adopt(self, request: RouteRequest) -> ParentOrder | None:
        """The parent ``request`` retries, rebuilt from its orders found on the venues
        (:meth:`find_strays`) under its deterministic child ids, journaled and brought up to
        date, sending nothing; None when no venue has any of them (a new parent)."""
        if not self.strays:
            return None
        children, placed_ms = [], []
        for i in range(len(self.venues) + 1):  # a child per routed venue, and a resting remainder
            cid = client_order_id(f"{request.parent_id}/{i}")
            for name, venue in self.venues.items():
                order = self.strays.pop((name, venue.profile.client_id(cid)), None)
                if order is None:
                    continue
                price = order.get("price")
                child = ChildOrder(
                    venue=name,
                    client_order_id=cid,
                    symbol=str(order.get("symbol") or request.symbol),
                    side=request.side,
                    qty=Decimal(str(order.get("amount") or 0)),
                    limit_price=None if request.kind is OrderKind.MARKET or price is None else Decimal(str(price)),
                )
                children.append(apply_ccxt_order(child, order, self.notional_quantum(name, child.symbol)))
                if order.get("timestamp"):
                    placed_ms.append(int(order["timestamp"]))
        if not children:
            return None
        parent = ParentOrder(
            parent_id=request.parent_id,
            symbol=request.symbol,
            side=request.side,
            qty=request.qty,
            kind=request.kind,
            limit_price=request.limit_price,
            children=children,
            created_ns=min(placed_ms) * 1_000_000 if placed_ms else time.time_ns(),  # when it was sent
        )
        log.warning(
            "adopted %s from the venues: %s", parent.parent_id, [(c.venue, c.client_order_id) for c in children]
        )
        self.journal.record_parent(parent)
        self._remember(parent)
        await self.journal.sync()
        for venue in {c.venue for c in children}:
            await self.reconcile_venue(venue)  # what happened to them since they were listed
        return parent
