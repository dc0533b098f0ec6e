"""A venue-neutral spot matching engine (pure: no I/O). See :mod:`devnet.cex.engine.matching`."""

from devnet.cex.engine.balances import Balances, BalanceShortfall, Wallet
from devnet.cex.engine.book import OrderBook
from devnet.cex.engine.markets import FeeSchedule, MarketSpec
from devnet.cex.engine.matching import MatchingEngine, OrderRequest, PostOnlyCross, TickerStats
from devnet.cex.engine.types import (
    BalanceEvent,
    BookDelta,
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

__all__ = [
    "BalanceEvent",
    "Balances",
    "BookDelta",
    "CloseReason",
    "EngineResult",
    "Event",
    "ExecType",
    "FeeSchedule",
    "Fill",
    "BalanceShortfall",
    "MarketSpec",
    "MatchingEngine",
    "Order",
    "OrderBook",
    "OrderEvent",
    "OrderNotFound",
    "OrderNotOpen",
    "EngineRejection",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "PostOnlyCross",
    "Reject",
    "Side",
    "TickerStats",
    "TimeInForce",
    "Trade",
    "TradeEvent",
    "Wallet",
]
