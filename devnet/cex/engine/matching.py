"""The matching engine: price-time priority, fees, reservations. Pure: no I/O, no clock of its own.

One call (:meth:`MatchingEngine.submit`, :meth:`cancel`, :meth:`credit`) is atomic and
returns the events it caused in order: order updates, trades, one book delta per touched
book, balance changes. Ids are deterministic (counters), so a replayed call sequence
yields the same ids, trades and balances.

Rules, chosen to match Binance spot (OKX differs only where a dialect says so):
- takers trade at the resting order's price; a limit buy that trades below its price gets
  the surplus reservation back;
- fees are charged in the asset received (buyer pays in base, seller in quote) and paid to
  :attr:`MatchingEngine.FEE_ACCOUNT`, so every asset's total over all accounts is conserved;
- self-trade prevention is EXPIRE_MAKER: an account's own resting order is removed rather
  than traded against;
- filters (tick, step, min/max quantity, min notional) are checked on entry.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from devnet.cex.engine.balances import Balances, Wallet
from devnet.cex.engine.book import OrderBook
from devnet.cex.engine.markets import FeeSchedule, MarketSpec
from devnet.cex.engine.types import (
    BalanceEvent,
    CloseReason,
    EngineRejection,
    EngineResult,
    Event,
    ExecType,
    Fill,
    Order,
    OrderEvent,
    OrderNotFound,
    OrderNotOpen,
    OrderStatus,
    OrderType,
    Reject,
    Side,
    TimeInForce,
    Trade,
    TradeEvent,
)
from devnet.cex.numbers import ZERO, floor_to_step, is_multiple


class PostOnlyCross(StrEnum):
    """What a post-only order that would trade becomes."""

    REJECT = "reject"  # Binance LIMIT_MAKER: refused, no order exists
    CANCEL = "cancel"  # OKX post_only: accepted, then canceled at once


@dataclass(frozen=True)
class OrderRequest:
    """A new order. ``quantity`` in base units; ``quote_quantity`` only for a market order by cost
    (a buy spends that much quote, a sell sells base until it has received that much quote)."""

    account: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal | None = None
    price: Decimal | None = None
    quote_quantity: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    client_order_id: str = ""


@dataclass(frozen=True)
class TickerStats:
    """Rolling 24 h statistics of one symbol's public trades."""

    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    last: Decimal | None
    last_qty: Decimal | None
    volume: Decimal
    quote_volume: Decimal
    count: int
    first_id: int | None
    last_id: int | None
    open_ms: int
    close_ms: int


def _system_clock() -> int:
    return time.time_ns() // 1_000_000


class MatchingEngine:
    FEE_ACCOUNT = "__fees__"

    def __init__(
        self,
        markets: Iterable[MarketSpec],
        fees: FeeSchedule,
        *,
        clock: Callable[[], int] = _system_clock,
        post_only_cross: PostOnlyCross = PostOnlyCross.REJECT,
        first_order_id: int = 1,
        closed_orders_kept: int = 20_000,
        trades_kept: int = 20_000,
    ) -> None:
        self.markets: dict[str, MarketSpec] = {m.symbol: m for m in markets}
        self.fees = fees
        self.clock = clock
        self.post_only_cross = post_only_cross
        self.balances = Balances()
        self.books: dict[str, OrderBook] = {s: OrderBook(s) for s in self.markets}
        self._fee_overrides: dict[str, FeeSchedule] = {}
        self._orders: dict[int, Order] = {}
        self._open: dict[str, dict[int, Order]] = {}  # account → its open orders, by id
        self._by_client_id: dict[tuple[str, str], list[int]] = {}
        self._closed: deque[int] = deque()
        self._closed_kept = closed_orders_kept
        self._next_order_id = first_order_id
        self._next_trade_id: dict[str, int] = dict.fromkeys(self.markets, 1)
        self._fills: dict[str, deque[Fill]] = {}
        self._trades: dict[str, deque[Trade]] = {s: deque(maxlen=trades_kept) for s in self.markets}
        self._trades_kept = trades_kept

    # --- configuration -------------------------------------------------------------

    def market(self, symbol: str) -> MarketSpec:
        spec = self.markets.get(symbol)
        if spec is None:
            raise EngineRejection(Reject.UNKNOWN_SYMBOL, symbol)
        return spec

    def set_fees(self, account: str, fees: FeeSchedule) -> None:
        """Per-account rates (e.g. a zero-fee market maker); others pay the venue schedule."""
        self._fee_overrides[account] = fees

    def fees_for(self, account: str) -> FeeSchedule:
        return self._fee_overrides.get(account, self.fees)

    # --- commands -------------------------------------------------------------------

    def credit(self, account: str, asset: str, amount: Decimal) -> EngineResult:
        """Deposit (or with a negative amount withdraw) free funds."""
        now = self.clock()
        self.balances.credit(account, asset, amount)
        events: list[Event] = []
        touched = self.balances.take_touched()
        for acct, assets in touched.items():
            snapshot = {a: self._wallet_tuple(acct, a) for a in sorted(assets)}
            events.append(BalanceEvent(acct, snapshot, now, (asset, amount) if acct == account else None))
        return EngineResult(None, events)

    def submit(self, request: OrderRequest) -> EngineResult:
        """Validate, reserve, match and (for GTC limits) rest an order.

        Raises :class:`EngineRejection` (nothing changed) for unknown symbols, filter
        failures, duplicate client ids, insufficient balance and crossing post-only orders
        (under :attr:`PostOnlyCross.REJECT`).
        """
        spec = self.market(request.symbol)
        book = self.books[request.symbol]
        self._validate(spec, book, request)
        crosses = request.type is OrderType.LIMIT and self._crosses(book, request.side, request.price)
        if request.post_only and crosses and self.post_only_cross is PostOnlyCross.REJECT:
            raise EngineRejection(Reject.WOULD_TAKE, "post-only order would trade immediately")
        asset, amount = self._reservation(spec, book, request)
        if amount > self.balances.wallet(request.account, asset).free:
            raise EngineRejection(
                Reject.INSUFFICIENT_BALANCE,
                f"needs {amount} {asset}, has {self.balances.wallet(request.account, asset).free} free",
            )
        now = self.clock()
        order = Order(
            order_id=self._next_order_id,
            client_order_id=request.client_order_id,
            account=request.account,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            time_in_force=request.time_in_force,
            post_only=request.post_only,
            price=request.price,
            quantity=request.quantity,
            quote_quantity=request.quote_quantity,
            created_ms=now,
            updated_ms=now,
            fee_asset=spec.base if request.side is Side.BUY else spec.quote,
        )
        self._next_order_id += 1
        self._orders[order.order_id] = order
        self._open.setdefault(order.account, {})[order.order_id] = order
        if order.client_order_id:
            self._by_client_id.setdefault((order.account, order.client_order_id), []).append(order.order_id)
        self.balances.reserve(order.account, asset, amount)
        order.reserved = amount
        events: list[Event] = [OrderEvent(order.snapshot(), ExecType.NEW)]
        if request.post_only and crosses:
            self._close(order, OrderStatus.CANCELED, CloseReason.POST_ONLY_WOULD_TAKE, events, now)
        elif request.time_in_force is TimeInForce.FOK and self._fillable(book, order) < (order.quantity or ZERO):
            self._close(order, OrderStatus.EXPIRED, CloseReason.UNFILLED_REMAINDER, events, now)
        else:
            self._match(order, spec, book, events, now)
            if order.status.is_open:
                if order.type is OrderType.LIMIT and order.time_in_force is TimeInForce.GTC:
                    self._rest(order, spec, book)
                elif order.quote_quantity is not None and order.filled and self._liquidity_left(book, order):
                    self._complete_by_cost(order, events)
                else:
                    self._close(order, OrderStatus.EXPIRED, CloseReason.UNFILLED_REMAINDER, events, now)
        self._finish(book, events, now)
        return EngineResult(order.snapshot(), events)

    def cancel(
        self, account: str, symbol: str, order_id: int | None = None, client_order_id: str | None = None
    ) -> EngineResult:
        """Cancel an open order. Raises :class:`OrderNotFound` or :class:`OrderNotOpen`."""
        order = self.order(account, symbol, order_id, client_order_id)
        if not order.status.is_open:
            raise OrderNotOpen(order)
        now = self.clock()
        book = self.books[symbol]
        book.remove(order)
        events: list[Event] = []
        self._close(order, OrderStatus.CANCELED, CloseReason.USER, events, now)
        self._finish(book, events, now)
        return EngineResult(order.snapshot(), events)

    def cancel_all(self, account: str, symbol: str) -> EngineResult:
        """Cancel every open order of ``account`` on ``symbol`` in one call (one book delta)."""
        now = self.clock()
        book = self.books[self.market(symbol).symbol]
        events: list[Event] = []
        for order in self.open_orders(account, symbol):
            book.remove(order)
            self._close(order, OrderStatus.CANCELED, CloseReason.USER, events, now)
        self._finish(book, events, now)
        return EngineResult(None, events)

    # --- queries --------------------------------------------------------------------

    def order(
        self, account: str, symbol: str, order_id: int | None = None, client_order_id: str | None = None
    ) -> Order:
        """By venue id, else the latest with that client id. Raises :class:`OrderNotFound`."""
        found: Order | None = None
        if order_id is not None:
            found = self._orders.get(order_id)
        elif client_order_id:
            ids = self._by_client_id.get((account, client_order_id))
            found = self._orders.get(ids[-1]) if ids else None
        if found is None or found.account != account or found.symbol != symbol:
            raise OrderNotFound(f"no order {order_id or client_order_id!r} on {symbol}")
        return found

    def open_orders(self, account: str, symbol: str | None = None) -> list[Order]:
        """Oldest first."""
        return [o for o in self._open.get(account, {}).values() if symbol is None or o.symbol == symbol]

    def orders(self, account: str, symbol: str | None = None) -> list[Order]:
        """Open and (recently) closed orders, oldest first."""
        return [o for o in self._orders.values() if o.account == account and (symbol is None or o.symbol == symbol)]

    def fills(self, account: str, symbol: str | None = None) -> list[Fill]:
        return [f for f in self._fills.get(account, ()) if symbol is None or f.trade.symbol == symbol]

    def trades(self, symbol: str, limit: int | None = None) -> list[Trade]:
        """Public trades, oldest first."""
        trades = list(self._trades[self.market(symbol).symbol])
        return trades[-limit:] if limit else trades

    def wallets(self, account: str) -> dict[str, Wallet]:
        return self.balances.of(account)

    def ticker(self, symbol: str, window_ms: int = 86_400_000) -> TickerStats:
        now = self.clock()
        since = now - window_ms
        trades = [t for t in self._trades[self.market(symbol).symbol] if t.time_ms >= since]
        if not trades:
            return TickerStats(None, None, None, None, None, ZERO, ZERO, 0, None, None, since, now)
        prices = [t.price for t in trades]
        return TickerStats(
            open=trades[0].price,
            high=max(prices),
            low=min(prices),
            last=trades[-1].price,
            last_qty=trades[-1].quantity,
            volume=sum((t.quantity for t in trades), ZERO),
            quote_volume=sum((t.quote_quantity for t in trades), ZERO),
            count=len(trades),
            first_id=trades[0].trade_id,
            last_id=trades[-1].trade_id,
            open_ms=since,
            close_ms=now,
        )

    # --- validation and reservation -------------------------------------------------------

    def _validate(self, spec: MarketSpec, book: OrderBook, req: OrderRequest) -> None:
        if req.type is OrderType.LIMIT:
            if req.price is None:
                raise EngineRejection(Reject.MISSING_PRICE, "a limit order needs a price")
            if req.quantity is None:
                raise EngineRejection(Reject.MISSING_QUANTITY, "a limit order needs a quantity")
            self._check_price(spec, req.price)
            self._check_quantity(spec, req.quantity, Reject.LOT_SIZE)
            notional = req.price * req.quantity
            if notional < spec.min_notional or notional > spec.max_notional:
                raise EngineRejection(
                    Reject.NOTIONAL, f"notional {notional} outside [{spec.min_notional}, {spec.max_notional}]"
                )
        elif req.quantity is not None:
            self._check_quantity(spec, req.quantity, Reject.MARKET_LOT_SIZE)
            reference = book.side(req.side.opposite).best()
            if reference is not None and req.quantity * reference < spec.min_notional:
                raise EngineRejection(Reject.NOTIONAL, f"notional {req.quantity * reference} below {spec.min_notional}")
        elif req.quote_quantity is not None:
            if req.quote_quantity <= 0 or req.quote_quantity < spec.min_notional:
                raise EngineRejection(Reject.NOTIONAL, f"quote amount {req.quote_quantity} below {spec.min_notional}")
        else:
            raise EngineRejection(Reject.MISSING_QUANTITY, "a market order needs a quantity or a quote amount")
        if req.client_order_id:
            ids = self._by_client_id.get((req.account, req.client_order_id), [])
            if any(self._orders[i].status.is_open for i in ids if i in self._orders):
                raise EngineRejection(Reject.DUPLICATE_CLIENT_ORDER_ID, req.client_order_id)

    @staticmethod
    def _check_price(spec: MarketSpec, price: Decimal) -> None:
        if price <= 0 or price < spec.min_price or price > spec.max_price or not is_multiple(price, spec.tick_size):
            raise EngineRejection(
                Reject.PRICE_FILTER, f"price {price}: tick {spec.tick_size}, range [{spec.min_price}, {spec.max_price}]"
            )

    @staticmethod
    def _check_quantity(spec: MarketSpec, quantity: Decimal, reason: Reject) -> None:
        if (
            quantity <= 0
            or quantity < spec.min_qty
            or quantity > spec.max_qty
            or not is_multiple(quantity, spec.step_size)
        ):
            raise EngineRejection(
                reason, f"quantity {quantity}: step {spec.step_size}, range [{spec.min_qty}, {spec.max_qty}]"
            )

    @staticmethod
    def _crosses(book: OrderBook, side: Side, price: Decimal | None) -> bool:
        best = book.side(side.opposite).best()
        if best is None or price is None:
            return False
        return best <= price if side is Side.BUY else best >= price

    def _reservation(self, spec: MarketSpec, book: OrderBook, req: OrderRequest) -> tuple[str, Decimal]:
        """The asset and amount an order locks up front."""
        if req.side is Side.SELL:
            if req.quantity is not None:
                return spec.base, req.quantity
            assert req.quote_quantity is not None
            return spec.base, self._base_for_quote(spec, book, req)
        if req.type is OrderType.LIMIT:
            assert req.price is not None and req.quantity is not None
            return spec.quote, req.price * req.quantity
        if req.quote_quantity is not None:
            return spec.quote, req.quote_quantity
        # Market buy by base quantity: the exact cost of walking the book (own orders skipped).
        cost = ZERO
        wanted = req.quantity or ZERO
        for price in book.asks.prices():
            for maker in book.asks.orders_at(price):
                if maker.account == req.account:
                    continue
                take = min(wanted, maker.remaining)
                cost += take * price
                wanted -= take
                if wanted == 0:
                    return spec.quote, cost
        return spec.quote, cost

    @staticmethod
    def _base_for_quote(spec: MarketSpec, book: OrderBook, req: OrderRequest) -> Decimal:
        """A market sell by cost: the base it sells walking the bids (own orders skipped) until
        it has received ``quote_quantity``, whole steps only, as matching will sell it."""
        assert req.quote_quantity is not None
        wanted, base = req.quote_quantity, ZERO
        for price in book.bids.prices():
            for maker in book.bids.orders_at(price):
                if maker.account == req.account:
                    continue
                take = min(maker.remaining, floor_to_step(wanted / price, spec.step_size))
                if take <= 0:
                    return base
                base += take
                wanted -= take * price
        return base

    def _fillable(self, book: OrderBook, order: Order) -> Decimal:
        """How much of ``order`` could trade now (for FOK), own orders excluded."""
        opposite = book.side(order.side.opposite)
        total = ZERO
        for price in opposite.prices():
            if order.price is not None and (price > order.price if order.side is Side.BUY else price < order.price):
                break
            total += sum((m.remaining for m in opposite.orders_at(price) if m.account != order.account), ZERO)
        return total

    def _liquidity_left(self, book: OrderBook, order: Order) -> bool:
        return any(
            m.account != order.account
            for price in book.side(order.side.opposite).prices()
            for m in book.side(order.side.opposite).orders_at(price)
        )

    # --- matching ---------------------------------------------------------------------

    def _capacity(self, order: Order, price: Decimal, spec: MarketSpec) -> Decimal:
        if order.quantity is not None:
            return order.remaining
        assert order.quote_quantity is not None
        return floor_to_step((order.quote_quantity - order.filled_quote) / price, spec.step_size)

    def _match(self, order: Order, spec: MarketSpec, book: OrderBook, events: list[Event], now: int) -> None:
        opposite = book.side(order.side.opposite)
        while True:
            best = opposite.best()
            if best is None:
                return
            if order.type is OrderType.LIMIT and not self._crosses(book, order.side, order.price):
                return
            maker = opposite.orders_at(best)[0]
            if maker.account == order.account:
                book.remove(maker)
                self._close(maker, OrderStatus.EXPIRED_IN_MATCH, CloseReason.SELF_TRADE, events, now)
                continue
            quantity = min(maker.remaining, self._capacity(order, best, spec))
            if quantity <= 0:
                return
            self._execute(order, maker, best, quantity, spec, book, events, now)
            if not order.status.is_open:
                return

    def _execute(
        self,
        taker: Order,
        maker: Order,
        price: Decimal,
        quantity: Decimal,
        spec: MarketSpec,
        book: OrderBook,
        events: list[Event],
        now: int,
    ) -> None:
        buy, sell = (taker, maker) if taker.side is Side.BUY else (maker, taker)
        cost = price * quantity
        buyer_fee = self._fee(quantity, self._rate(buy, maker), spec.base_precision)
        seller_fee = self._fee(cost, self._rate(sell, maker), spec.quote_precision)
        self.balances.transfer_locked(sell.account, buy.account, spec.base, quantity, buyer_fee, self.FEE_ACCOUNT)
        self.balances.transfer_locked(buy.account, sell.account, spec.quote, cost, seller_fee, self.FEE_ACCOUNT)
        sell.reserved -= quantity
        buy.reserved -= cost
        book.side(maker.side).reduce(price, quantity)
        book.touch(maker.side, price)
        trade = Trade(
            trade_id=self._next_trade_id[spec.symbol],
            symbol=spec.symbol,
            price=price,
            quantity=quantity,
            quote_quantity=cost,
            time_ms=now,
            taker_side=taker.side,
            buy_order_id=buy.order_id,
            sell_order_id=sell.order_id,
            buyer=buy.account,
            seller=sell.account,
            buyer_fee=buyer_fee,
            seller_fee=seller_fee,
            base=spec.base,
            quote=spec.quote,
        )
        self._next_trade_id[spec.symbol] += 1
        self._trades[spec.symbol].append(trade)
        events.append(TradeEvent(trade))
        for order in (maker, taker):
            fee = buyer_fee if order is buy else seller_fee
            order.filled += quantity
            order.filled_quote += cost
            order.fee += fee
            order.updated_ms = order.last_trade_ms = now
            order.last_trade_id, order.last_fill_price, order.last_fill_qty = trade.trade_id, price, quantity
            done = order.quantity is not None and order.remaining == 0
            order.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
            if done and order is maker:
                book.side(maker.side).remove(maker)
            if done:
                self._release(order)
                self._closed_order(order)
            fill = Fill(
                trade,
                order.order_id,
                order.client_order_id,
                order.account,
                order.side,
                order is maker,
                fee,
                order.fee_asset,
            )
            self._fills.setdefault(order.account, deque(maxlen=self._trades_kept)).append(fill)
            events.append(OrderEvent(order.snapshot(), ExecType.TRADE, fill))

    def _rate(self, order: Order, maker: Order) -> Decimal:
        schedule = self.fees_for(order.account)
        return schedule.maker if order is maker else schedule.taker

    @staticmethod
    def _fee(amount: Decimal, rate: Decimal, places: int) -> Decimal:
        return (amount * rate).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)

    def _rest(self, order: Order, spec: MarketSpec, book: OrderBook) -> None:
        """Put the remainder on the book, giving back what the fills at better prices saved."""
        if order.side is Side.BUY:
            assert order.price is not None
            surplus = order.reserved - order.price * order.remaining
            if surplus > 0:
                self.balances.release(order.account, spec.quote, surplus)
                order.reserved -= surplus
        book.add(order)

    def _release(self, order: Order) -> None:
        if order.reserved:
            spec = self.markets[order.symbol]
            asset = spec.quote if order.side is Side.BUY else spec.base
            self.balances.release(order.account, asset, order.reserved)
            order.reserved = ZERO

    def _close(
        self, order: Order, status: OrderStatus, reason: CloseReason | None, events: list[Event], now: int
    ) -> None:
        self._release(order)
        order.status = status
        order.close_reason = reason
        order.updated_ms = now
        self._closed_order(order)
        exec_type = ExecType.CANCELED if status is OrderStatus.CANCELED else ExecType.EXPIRED
        events.append(OrderEvent(order.snapshot(), exec_type))

    def _complete_by_cost(self, order: Order, events: list[Event]) -> None:
        """A market order by cost that cannot trade one more step for its amount is filled, not expired."""
        self._release(order)
        order.status = OrderStatus.FILLED
        self._closed_order(order)
        for i in range(len(events) - 1, -1, -1):
            event = events[i]
            if isinstance(event, OrderEvent) and event.order.order_id == order.order_id:
                events[i] = OrderEvent(order.snapshot(), event.exec_type, event.fill)
                break

    def _closed_order(self, order: Order) -> None:
        """Remember closing order; forget the oldest closed ones beyond the retention."""
        self._open.get(order.account, {}).pop(order.order_id, None)
        self._closed.append(order.order_id)
        while len(self._closed) > self._closed_kept:
            old = self._orders.pop(self._closed.popleft(), None)
            if old is not None and old.client_order_id:
                ids = self._by_client_id.get((old.account, old.client_order_id))
                if ids:
                    ids.remove(old.order_id)
                    if not ids:
                        del self._by_client_id[(old.account, old.client_order_id)]

    def _finish(self, book: OrderBook, events: list[Event], now: int) -> None:
        delta = book.take_delta(now)
        if delta is not None:
            events.append(delta)
        for account, assets in self.balances.take_touched().items():
            if account == self.FEE_ACCOUNT:
                continue
            events.append(BalanceEvent(account, {a: self._wallet_tuple(account, a) for a in sorted(assets)}, now))

    def _wallet_tuple(self, account: str, asset: str) -> tuple[Decimal, Decimal]:
        wallet = self.balances.wallet(account, asset)
        return wallet.free, wallet.locked
