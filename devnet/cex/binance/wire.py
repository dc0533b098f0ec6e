"""Engine objects as Binance spot JSON: key order, value types and 8-decimal padding as Binance sends them.

Numbers that Binance sends as JSON integers (ids, times, commission in basis points) stay
integers; every price, quantity and amount is a string with exactly 8 decimals.
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Any

from devnet.cex.binance.profile import market_id
from devnet.cex.engine import (
    BookDelta,
    ExecType,
    FeeSchedule,
    Fill,
    MarketSpec,
    Order,
    OrderBook,
    OrderEvent,
    OrderStatus,
    OrderType,
    Side,
    TickerStats,
    Trade,
    Wallet,
)
from devnet.cex.numbers import ZERO, fixed
from devnet.cex.ratelimit import RateLimits

STP_MODE = "EXPIRE_MAKER"
Json = dict[str, Any]

_STATUS = {
    OrderStatus.NEW: "NEW",
    OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
    OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELED: "CANCELED",
    OrderStatus.EXPIRED: "EXPIRED",
    OrderStatus.EXPIRED_IN_MATCH: "EXPIRED_IN_MATCH",
}


def side(value: Side) -> str:
    return value.value.upper()


def order_type(order: Order) -> str:
    if order.type is OrderType.MARKET:
        return "MARKET"
    return "LIMIT_MAKER" if order.post_only else "LIMIT"


def time_in_force(order: Order) -> str:
    return "GTC" if order.type is OrderType.MARKET or order.post_only else order.time_in_force.value


def status(order: Order) -> str:
    return _STATUS[order.status]


def uid(account: str) -> int:
    """A stable numeric user id per account."""
    return 100_000_000 + zlib.crc32(account.encode()) % 900_000_000


def _orig_qty(order: Order) -> Decimal:
    return order.quantity if order.quantity is not None else order.filled


def _order_core(order: Order) -> Json:
    return {
        "price": fixed(order.price or ZERO),
        "origQty": fixed(_orig_qty(order)),
        "executedQty": fixed(order.filled),
    }


def new_order(
    order: Order, fills: list[Fill], resp_type: str, transact_ms: int, iceberg: Decimal | None = None
) -> Json:
    """POST /api/v3/order reply for ``newOrderRespType`` ACK, RESULT or FULL (``icebergQty`` only if sent)."""
    out: Json = {
        "symbol": market_id(order.symbol),
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": transact_ms,
    }
    if resp_type == "ACK":
        return out
    out.update(_order_core(order))
    out["origQuoteOrderQty"] = fixed(order.quote_quantity or ZERO)
    out["cummulativeQuoteQty"] = fixed(order.filled_quote)
    out["status"] = status(order)
    out["timeInForce"] = time_in_force(order)
    out["type"] = order_type(order)
    out["side"] = side(order.side)
    out["workingTime"] = order.created_ms
    if iceberg is not None:
        out["icebergQty"] = fixed(iceberg)
    if resp_type == "FULL":
        out["fills"] = [
            {
                "price": fixed(f.trade.price),
                "qty": fixed(f.trade.quantity),
                "commission": fixed(f.fee),
                "commissionAsset": f.fee_asset,
                "tradeId": f.trade.trade_id,
            }
            for f in fills
        ]
    out["selfTradePreventionMode"] = STP_MODE
    return out


def query_order(order: Order, iceberg: Decimal | None = None) -> Json:
    """GET /api/v3/order, openOrders and allOrders rows."""
    return {
        "symbol": market_id(order.symbol),
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        **_order_core(order),
        "cummulativeQuoteQty": fixed(order.filled_quote),
        "status": status(order),
        "timeInForce": time_in_force(order),
        "type": order_type(order),
        "side": side(order.side),
        "stopPrice": fixed(ZERO),
        "icebergQty": fixed(iceberg or ZERO),
        "time": order.created_ms,
        "updateTime": order.updated_ms,
        "isWorking": True,
        "workingTime": order.created_ms,
        "origQuoteOrderQty": fixed(order.quote_quantity or ZERO),
        "selfTradePreventionMode": STP_MODE,
    }


def canceled_order(order: Order, cancel_client_id: str, transact_ms: int) -> Json:
    """DELETE /api/v3/order reply (and each row of DELETE /api/v3/openOrders)."""
    return {
        "symbol": market_id(order.symbol),
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_client_id,
        "transactTime": transact_ms,
        **_order_core(order),
        "cummulativeQuoteQty": fixed(order.filled_quote),
        "status": status(order),
        "timeInForce": time_in_force(order),
        "type": order_type(order),
        "side": side(order.side),
        "selfTradePreventionMode": STP_MODE,
    }


def my_trade(fill: Fill) -> Json:
    trade = fill.trade
    return {
        "symbol": market_id(trade.symbol),
        "id": trade.trade_id,
        "orderId": fill.order_id,
        "orderListId": -1,
        "price": fixed(trade.price),
        "qty": fixed(trade.quantity),
        "quoteQty": fixed(trade.quote_quantity),
        "commission": fixed(fill.fee),
        "commissionAsset": fill.fee_asset,
        "time": trade.time_ms,
        "isBuyer": fill.is_buyer,
        "isMaker": fill.is_maker,
        "isBestMatch": True,
    }


def account(
    account_id: str, fees: FeeSchedule, wallets: dict[str, Wallet], assets: list[str], now_ms: int, omit_zero: bool
) -> Json:
    balances = []
    for asset in sorted(set(assets) | set(wallets)):
        wallet = wallets.get(asset, Wallet())
        if omit_zero and wallet.total == 0:
            continue
        balances.append({"asset": asset, "free": fixed(wallet.free), "locked": fixed(wallet.locked)})
    return {
        "makerCommission": int(fees.maker * 10_000),
        "takerCommission": int(fees.taker * 10_000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": fixed(fees.maker),
            "taker": fixed(fees.taker),
            "buyer": fixed(ZERO),
            "seller": fixed(ZERO),
        },
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now_ms,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": uid(account_id),
    }


def _rate_limits(limits: RateLimits) -> list[Json]:
    def window(seconds: float) -> tuple[str, int]:
        if seconds >= 60 and seconds % 60 == 0:
            return "MINUTE", int(seconds // 60)
        return "SECOND", max(1, int(seconds))

    weight_interval, weight_num = window(limits.weight_window_s)
    order_interval, order_num = window(limits.orders_window_s)
    return [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": weight_interval,
            "intervalNum": weight_num,
            "limit": limits.request_weight,
        },
        {"rateLimitType": "ORDERS", "interval": order_interval, "intervalNum": order_num, "limit": limits.orders},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ]


def symbol_info(spec: MarketSpec) -> Json:
    return {
        "symbol": market_id(spec.symbol),
        "status": "TRADING",
        "baseAsset": spec.base,
        "baseAssetPrecision": spec.base_precision,
        "quoteAsset": spec.quote,
        "quotePrecision": spec.quote_precision,
        "quoteAssetPrecision": spec.quote_precision,
        "baseCommissionPrecision": spec.base_precision,
        "quoteCommissionPrecision": spec.quote_precision,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": True,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "amendAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fixed(spec.min_price),
                "maxPrice": fixed(spec.max_price),
                "tickSize": fixed(spec.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fixed(spec.min_qty),
                "maxQty": fixed(spec.max_qty),
                "stepSize": fixed(spec.step_size),
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fixed(spec.min_qty),
                "maxQty": fixed(spec.max_qty),
                "stepSize": fixed(spec.step_size),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fixed(spec.min_notional),
                "applyMinToMarket": True,
                "maxNotional": fixed(spec.max_notional),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": STP_MODE,
        "allowedSelfTradePreventionModes": [STP_MODE],
    }


def exchange_info(specs: list[MarketSpec], limits: RateLimits, now_ms: int) -> Json:
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "rateLimits": _rate_limits(limits),
        "exchangeFilters": [],
        "symbols": [symbol_info(s) for s in specs],
    }


def levels(pairs: list[tuple[Decimal, Decimal]] | tuple[tuple[Decimal, Decimal], ...]) -> list[list[str]]:
    return [[fixed(price), fixed(size)] for price, size in pairs]


def depth(book: OrderBook, limit: int) -> Json:
    return {
        "lastUpdateId": book.sequence,
        "bids": levels(book.bids.levels(limit)),
        "asks": levels(book.asks.levels(limit)),
    }


def ticker_24hr(spec: MarketSpec, book: OrderBook, stats: TickerStats) -> Json:
    last = stats.last or ZERO
    opened = stats.open or ZERO
    change = last - opened
    percent = (change / opened * 100) if opened else ZERO
    weighted = stats.quote_volume / stats.volume if stats.volume else ZERO
    bid = book.bids.levels(1)
    ask = book.asks.levels(1)
    return {
        "symbol": market_id(spec.symbol),
        "priceChange": fixed(change),
        "priceChangePercent": fixed(percent, 3),
        "weightedAvgPrice": fixed(weighted),
        "prevClosePrice": fixed(opened),
        "lastPrice": fixed(last),
        "lastQty": fixed(stats.last_qty or ZERO),
        "bidPrice": fixed(bid[0][0] if bid else ZERO),
        "bidQty": fixed(bid[0][1] if bid else ZERO),
        "askPrice": fixed(ask[0][0] if ask else ZERO),
        "askQty": fixed(ask[0][1] if ask else ZERO),
        "openPrice": fixed(opened),
        "highPrice": fixed(stats.high or ZERO),
        "lowPrice": fixed(stats.low or ZERO),
        "volume": fixed(stats.volume),
        "quoteVolume": fixed(stats.quote_volume),
        "openTime": stats.open_ms,
        "closeTime": stats.close_ms,
        "firstId": stats.first_id if stats.first_id is not None else -1,
        "lastId": stats.last_id if stats.last_id is not None else -1,
        "count": stats.count,
    }


def book_ticker(spec: MarketSpec, book: OrderBook) -> Json:
    bid = book.bids.levels(1)
    ask = book.asks.levels(1)
    return {
        "symbol": market_id(spec.symbol),
        "bidPrice": fixed(bid[0][0] if bid else ZERO),
        "bidQty": fixed(bid[0][1] if bid else ZERO),
        "askPrice": fixed(ask[0][0] if ask else ZERO),
        "askQty": fixed(ask[0][1] if ask else ZERO),
    }


def public_trade(trade: Trade) -> Json:
    return {
        "id": trade.trade_id,
        "price": fixed(trade.price),
        "qty": fixed(trade.quantity),
        "quoteQty": fixed(trade.quote_quantity),
        "time": trade.time_ms,
        "isBuyerMaker": trade.buyer_is_maker,
        "isBestMatch": True,
    }


def agg_trade(trade: Trade) -> Json:
    return {
        "a": trade.trade_id,
        "p": fixed(trade.price),
        "q": fixed(trade.quantity),
        "f": trade.trade_id,
        "l": trade.trade_id,
        "T": trade.time_ms,
        "m": trade.buyer_is_maker,
        "M": True,
    }


# --- websocket payloads -------------------------------------------------------------


def depth_update(delta: BookDelta) -> Json:
    return {
        "e": "depthUpdate",
        "E": delta.time_ms,
        "s": market_id(delta.symbol),
        "U": delta.previous + 1,
        "u": delta.sequence,
        "b": levels(delta.bids),
        "a": levels(delta.asks),
    }


def partial_depth(book: OrderBook, limit: int) -> Json:
    return depth(book, limit)


def trade_event(trade: Trade, event_ms: int) -> Json:
    return {
        "e": "trade",
        "E": event_ms,
        "s": market_id(trade.symbol),
        "t": trade.trade_id,
        "p": fixed(trade.price),
        "q": fixed(trade.quantity),
        "T": trade.time_ms,
        "m": trade.buyer_is_maker,
        "M": True,
    }


def agg_trade_event(trade: Trade, event_ms: int) -> Json:
    return {"e": "aggTrade", "E": event_ms, "s": market_id(trade.symbol), **agg_trade(trade)}


def book_ticker_event(spec: MarketSpec, book: OrderBook) -> Json:
    return {"u": book.sequence, "s": market_id(spec.symbol), **_short_top(book)}


def _short_top(book: OrderBook) -> Json:
    bid = book.bids.levels(1)
    ask = book.asks.levels(1)
    return {
        "b": fixed(bid[0][0] if bid else ZERO),
        "B": fixed(bid[0][1] if bid else ZERO),
        "a": fixed(ask[0][0] if ask else ZERO),
        "A": fixed(ask[0][1] if ask else ZERO),
    }


_EXEC = {ExecType.NEW: "NEW", ExecType.TRADE: "TRADE", ExecType.CANCELED: "CANCELED", ExecType.EXPIRED: "EXPIRED"}


def execution_report(event: OrderEvent, event_ms: int) -> Json:
    order = event.order
    fill = event.fill
    canceled = event.exec_type is ExecType.CANCELED
    return {
        "e": "executionReport",
        "E": event_ms,
        "s": market_id(order.symbol),
        "c": order.client_order_id,
        "S": side(order.side),
        "o": order_type(order),
        "f": time_in_force(order),
        "q": fixed(_orig_qty(order)),
        "p": fixed(order.price or ZERO),
        "P": fixed(ZERO),
        "F": fixed(ZERO),
        "g": -1,
        "C": order.client_order_id if canceled else "",
        "x": _EXEC[event.exec_type],
        "X": status(order),
        "r": "NONE",
        "i": order.order_id,
        "l": fixed(fill.trade.quantity if fill else ZERO),
        "z": fixed(order.filled),
        "L": fixed(fill.trade.price if fill else ZERO),
        "n": fixed(fill.fee) if fill else "0",
        "N": fill.fee_asset if fill else None,
        "T": fill.trade.time_ms if fill else order.updated_ms,
        "t": fill.trade.trade_id if fill else -1,
        "I": order.order_id * 2 + (fill.trade.trade_id if fill else 0),
        "w": order.status.is_open,
        "m": fill.is_maker if fill else False,
        "M": False,
        "O": order.created_ms,
        "Z": fixed(order.filled_quote),
        "Y": fixed(fill.trade.quote_quantity if fill else ZERO),
        "Q": fixed(order.quote_quantity or ZERO),
        "W": order.created_ms,
        "V": STP_MODE,
    }


def account_position(assets: dict[str, tuple[Decimal, Decimal]], event_ms: int) -> Json:
    return {
        "e": "outboundAccountPosition",
        "E": event_ms,
        "u": event_ms,
        "B": [{"a": asset, "f": fixed(free), "l": fixed(locked)} for asset, (free, locked) in assets.items()],
    }


def balance_update(asset: str, delta: Decimal, event_ms: int) -> Json:
    return {"e": "balanceUpdate", "E": event_ms, "a": asset, "d": fixed(delta), "T": event_ms}
