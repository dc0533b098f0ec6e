"""The matching engine's vocabulary: orders, trades, the events it emits, its refusals.

Venue-neutral on purpose: a dialect turns these into Binance or OKX JSON and error codes,
so both venues share one engine and differ only at the wire.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from crosslane.routing.side import Side
from devnet.cex.numbers import ZERO


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"  # IOC/FOK/market remainder, never on the book
    EXPIRED_IN_MATCH = "expired_in_match"  # a resting order removed by self-trade prevention

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class CloseReason(StrEnum):
    """Why an order left the book without filling (OKX reports it as ``cancelSource``)."""

    USER = "user"
    UNFILLED_REMAINDER = "unfilled_remainder"  # IOC, FOK, market
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    SELF_TRADE = "self_trade"


class ExecType(StrEnum):
    """What happened to an order in one event (Binance ``executionReport.x``)."""

    NEW = "NEW"
    TRADE = "TRADE"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class Reject(StrEnum):
    """Why an order was refused before it existed; dialects map these to their codes."""

    UNKNOWN_SYMBOL = "unknown_symbol"
    PRICE_FILTER = "price_filter"
    LOT_SIZE = "lot_size"
    MARKET_LOT_SIZE = "market_lot_size"
    NOTIONAL = "notional"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    WOULD_TAKE = "would_take"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    MISSING_PRICE = "missing_price"
    MISSING_QUANTITY = "missing_quantity"


class EngineRejection(Exception):
    """The order was refused; nothing was booked and no balance moved."""

    def __init__(self, reason: Reject, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


class OrderNotFound(LookupError):
    """No order with that id (or client id) for this account and symbol."""


class OrderNotOpen(Exception):
    """The order exists but is already closed, so it cannot be canceled."""

    def __init__(self, order: Order) -> None:
        super().__init__(f"order {order.order_id} is {order.status.value}")
        self.order = order


@dataclass
class Order:
    """An order as the engine keeps it. Quantities in base units, ``quote_qty`` in quote units."""

    order_id: int
    client_order_id: str
    account: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    post_only: bool
    price: Decimal | None
    quantity: Decimal | None  # None only for a market buy by quote amount
    quote_quantity: Decimal | None
    created_ms: int
    updated_ms: int
    status: OrderStatus = OrderStatus.NEW
    filled: Decimal = ZERO
    filled_quote: Decimal = ZERO
    fee: Decimal = ZERO
    fee_asset: str = ""
    reserved: Decimal = ZERO  # still locked for this order, in the asset it spends
    close_reason: CloseReason | None = None
    last_trade_ms: int | None = None
    last_trade_id: int | None = None
    last_fill_price: Decimal | None = None
    last_fill_qty: Decimal | None = None

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled if self.quantity is not None else ZERO

    @property
    def average_price(self) -> Decimal | None:
        return self.filled_quote / self.filled if self.filled else None

    def snapshot(self) -> Order:
        return dataclasses.replace(self)


@dataclass(frozen=True)
class Trade:
    """One match. The buyer receives base, the seller quote; each pays its fee in what it receives."""

    trade_id: int  # per symbol, increasing
    symbol: str
    price: Decimal
    quantity: Decimal
    quote_quantity: Decimal
    time_ms: int
    taker_side: Side
    buy_order_id: int
    sell_order_id: int
    buyer: str
    seller: str
    buyer_fee: Decimal  # in base
    seller_fee: Decimal  # in quote
    base: str
    quote: str

    @property
    def buyer_is_maker(self) -> bool:
        return self.taker_side is Side.SELL


@dataclass(frozen=True)
class Fill:
    """One account's side of a trade (Binance ``myTrades`` row, OKX ``fills`` row)."""

    trade: Trade
    order_id: int
    client_order_id: str
    account: str
    side: Side
    is_maker: bool
    fee: Decimal
    fee_asset: str

    @property
    def is_buyer(self) -> bool:
        return self.side is Side.BUY


@dataclass(frozen=True)
class OrderEvent:
    order: Order  # a snapshot taken when the event happened
    exec_type: ExecType
    fill: Fill | None = None


@dataclass(frozen=True)
class TradeEvent:
    trade: Trade


@dataclass(frozen=True)
class BookDelta:
    """Levels whose aggregate size changed in one engine call; size 0 means the level is gone.

    ``sequence`` is the book's update id after the change and ``previous`` the one before,
    so a listener can check it saw every delta (Binance ``U``/``u``, OKX ``prevSeqId``/``seqId``).
    """

    symbol: str
    previous: int
    sequence: int
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    time_ms: int


@dataclass(frozen=True)
class BalanceEvent:
    """Free and locked amounts, after the change, of the assets an account just moved."""

    account: str
    assets: dict[str, tuple[Decimal, Decimal]]
    time_ms: int
    deposit: tuple[str, Decimal] | None = None  # (asset, delta) for an admin credit


Event = OrderEvent | TradeEvent | BookDelta | BalanceEvent


@dataclass
class EngineResult:
    """What one engine call did: the order it concerns (if any) and the events, in order."""

    order: Order | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def fills(self) -> list[Fill]:
        return [e.fill for e in self.events if isinstance(e, OrderEvent) and e.fill is not None]
