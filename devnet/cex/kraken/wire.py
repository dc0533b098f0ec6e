"""Engine objects as Kraken JSON: REST ``result`` bodies and websocket v2 messages.

REST numbers are strings at fixed decimals (prices at the pair's ``pair_decimals``, volumes
at ``lot_decimals``, costs and fees at ``cost_decimals``), times are float Unix seconds and
ids are Kraken's ``OXXXXX-XXXXX-XXXXXX`` txids. Websocket v2 writes numbers as JSON numbers,
unified symbols (``BTC/USD``) and RFC 3339 timestamps.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from devnet.cex.engine import (
    CloseReason,
    ExecType,
    Fill,
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
from devnet.cex.kraken.profile import ALTNAMES, ASSET_DECIMALS, ASSET_IDS, PAIR_BY_SYMBOL, PAIRS, Pair
from devnet.cex.numbers import ZERO, fixed

Json = dict[str, Any]
CHECKSUM_DEPTH = 10

# --- ids ------------------------------------------------------------------------------

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_MODULUS = 32**16
_SCRAMBLE = 0x9E3779B97F4A7C15  # odd, so multiplying by it is a bijection modulo 2**80
_UNSCRAMBLE = pow(_SCRAMBLE, -1, _MODULUS)


def txid(number: int, prefix: str = "O") -> str:
    """A Kraken-looking id (``OQCLML-BW3P3-BUCMWZ``) that :func:`txid_number` turns back into ``number``."""
    value = number * _SCRAMBLE % _MODULUS
    chars = []
    for _ in range(16):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    body = "".join(chars)
    return f"{prefix}{body[:5]}-{body[5:10]}-{body[10:]}"


def txid_number(text: str, prefix: str = "O") -> int | None:
    body = text.replace("-", "")
    if len(body) != 17 or not body.startswith(prefix) or any(c not in _ALPHABET for c in body[1:]):
        return None
    value = 0
    for char in reversed(body[1:]):
        value = value * 32 + _ALPHABET.index(char)
    return value * _UNSCRAMBLE % _MODULUS


def trade_txid(trade: Trade) -> str:
    """Trade ids are per symbol in the engine; the pair's index makes them venue-wide."""
    index = next(i for i, p in enumerate(PAIRS) if p.symbol == trade.symbol)
    return txid(trade.trade_id * 64 + index, "T")


def seconds(ms: int) -> float:
    return round(ms / 1000, 4)


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


# --- numbers --------------------------------------------------------------------------


def cost_decimals(pair: Pair) -> int:
    return {"USD": 5, "BTC": 10}.get(pair.spec.quote, 6)


def price_text(pair: Pair, value: Decimal) -> str:
    return fixed(value, pair.pair_decimals)


def volume_text(pair: Pair, value: Decimal) -> str:
    return fixed(value, pair.lot_decimals)


def cost_text(pair: Pair, value: Decimal) -> str:
    return fixed(value, cost_decimals(pair))


def asset_text(asset: str, value: Decimal) -> str:
    return fixed(value, ASSET_DECIMALS.get(asset, 8))


# --- public ---------------------------------------------------------------------------


def asset_info(asset: str) -> Json:
    return {
        "aclass": "currency",
        "altname": ALTNAMES[asset],
        "decimals": ASSET_DECIMALS[asset],
        "display_decimals": min(ASSET_DECIMALS[asset], 5),
        "collateral_value": 1.0,
        "status": "enabled",
    }


def asset_pair(pair: Pair, maker: Decimal, taker: Decimal) -> Json:
    spec = pair.spec
    return {
        "altname": pair.altname,
        "wsname": pair.wsname,
        "aclass_base": "currency",
        "base": ASSET_IDS[spec.base],
        "aclass_quote": "currency",
        "quote": ASSET_IDS[spec.quote],
        "lot": "unit",
        "cost_decimals": cost_decimals(pair),
        "pair_decimals": pair.pair_decimals,
        "lot_decimals": pair.lot_decimals,
        "lot_multiplier": 1,
        "leverage_buy": [],
        "leverage_sell": [],
        "fees": [[0, float(taker * 100)]],
        "fees_maker": [[0, float(maker * 100)]],
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "ordermin": f"{spec.min_qty.normalize():f}",
        "costmin": f"{spec.min_notional.normalize():f}",
        "tick_size": f"{spec.tick_size.normalize():f}",
        "status": "online",
    }


def depth(pair: Pair, book: OrderBook, count: int, time_s: int) -> Json:
    def rows(levels: list[tuple[Decimal, Decimal]]) -> list[list[Any]]:
        return [[price_text(pair, p), volume_text(pair, q), time_s] for p, q in levels]

    return {"asks": rows(book.asks.levels(count)), "bids": rows(book.bids.levels(count))}


def ticker(pair: Pair, book: OrderBook, stats: TickerStats) -> Json:
    bid = book.bids.levels(1)
    ask = book.asks.levels(1)

    def top(levels: list[tuple[Decimal, Decimal]]) -> list[str]:
        if not levels:
            return ["0.00000", "0", "0.000"]
        price, qty = levels[0]
        whole = int(qty) if qty >= 1 else 1
        return [price_text(pair, price), str(whole), fixed(qty, 3)]

    last = stats.last if stats.last is not None else ZERO
    vwap = stats.quote_volume / stats.volume if stats.volume else ZERO
    low = stats.low if stats.low is not None else ZERO
    high = stats.high if stats.high is not None else ZERO
    volume = volume_text(pair, stats.volume)
    return {
        "a": top(ask),
        "b": top(bid),
        "c": [price_text(pair, last), volume_text(pair, stats.last_qty or ZERO)],
        "v": [volume, volume],
        "p": [fixed(vwap, 5), fixed(vwap, 5)],
        "t": [stats.count, stats.count],
        "l": [price_text(pair, low), price_text(pair, low)],
        "h": [price_text(pair, high), price_text(pair, high)],
        "o": price_text(pair, stats.open if stats.open is not None else last),
    }


def public_trade(pair: Pair, trade: Trade) -> list[Any]:
    return [
        price_text(pair, trade.price),
        volume_text(pair, trade.quantity),
        seconds(trade.time_ms),
        "b" if trade.taker_side is Side.BUY else "s",
        "l",  # the taker's order type is not kept; a devnet taker is almost always a limit
        "",
        trade.trade_id,
    ]


# --- private --------------------------------------------------------------------------

_STATUS = {
    OrderStatus.NEW: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.FILLED: "closed",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED_IN_MATCH: "canceled",
}
_REASON = {
    CloseReason.USER: "User requested",
    CloseReason.POST_ONLY_WOULD_TAKE: "Post only order",
    CloseReason.SELF_TRADE: "Self trade prevention",
    CloseReason.UNFILLED_REMAINDER: "Insufficient liquidity",
}


def order_status(order: Order) -> str:
    if order.status is OrderStatus.EXPIRED:
        return "closed" if order.filled else "canceled"
    return _STATUS[order.status]


def oflags(order: Order) -> str:
    flags = ["fcib" if order.side is Side.BUY else "fciq"]  # the engine charges in the asset received
    if order.post_only:
        flags.insert(0, "post")
    if order.quantity is None:
        flags.append("viqc")
    return ",".join(flags)


def description(pair: Pair, order: Order) -> str:
    """``buy 0.00100000 XBTUSDT @ limit 30000.0`` (by cost: the quote amount in place of the volume)."""
    amount = (
        volume_text(pair, order.quantity)
        if order.quantity is not None
        else cost_text(pair, order.quote_quantity or ZERO)
    )
    if order.type is OrderType.MARKET:
        return f"{order.side.value} {amount} {pair.altname} @ market"
    return f"{order.side.value} {amount} {pair.altname} @ limit {price_text(pair, order.price or ZERO)}"


def order_info(order: Order, userref: int, trades: list[str] | None = None, *, queried: bool = True) -> Json:
    """An order as ``QueryOrders``/``ClosedOrders`` give it (``OpenOrders``, ``queried=False``, has no ``reason``)."""
    pair = PAIR_BY_SYMBOL[order.symbol]
    status = order_status(order)
    info: Json = {
        "refid": None,
        "userref": userref,
    }
    if order.client_order_id:
        info["cl_ord_id"] = order.client_order_id
    info.update(
        {
            "status": status,
            "opentm": seconds(order.created_ms),
            "starttm": 0,
            "expiretm": 0,
            "descr": {
                "pair": pair.altname,
                "type": order.side.value,
                "ordertype": order.type.value,
                "price": price_text(pair, order.price) if order.price is not None else "0",
                "price2": "0",
                "leverage": "none",
                "order": description(pair, order),
                "close": "",
            },
            "vol": volume_text(pair, order.quantity or order.filled),
            "vol_exec": volume_text(pair, order.filled),
            "cost": cost_text(pair, order.filled_quote),
            "fee": asset_text(order.fee_asset, order.fee) if order.fee_asset else "0.00000",
            "price": cost_text(pair, order.average_price or ZERO),
            "stopprice": cost_text(pair, ZERO),
            "limitprice": cost_text(pair, ZERO),
            "misc": "",
            "oflags": oflags(order),
        }
    )
    if trades:
        info["trades"] = trades
    if status != "open":
        info["reason"] = _REASON.get(order.close_reason) if order.close_reason else None
        info["closetm"] = seconds(order.updated_ms)
    elif queried:
        info["reason"] = None
    return info


def add_order_result(order: Order) -> Json:
    pair = PAIR_BY_SYMBOL[order.symbol]
    return {"txid": [txid(order.order_id)], "descr": {"order": description(pair, order)}}


def own_trade(fill: Fill) -> Json:
    trade = fill.trade
    pair = PAIR_BY_SYMBOL[trade.symbol]
    return {
        "ordertxid": txid(fill.order_id),
        "postxid": txid(trade.trade_id, "P"),
        "pair": pair.key,
        "aclass": "forex",
        "time": seconds(trade.time_ms),
        "type": fill.side.value,
        "ordertype": "limit",
        "price": price_text(pair, trade.price),
        "cost": cost_text(pair, trade.quote_quantity),
        "fee": asset_text(fill.fee_asset, fill.fee),
        "vol": volume_text(pair, trade.quantity),
        "margin": cost_text(pair, ZERO),
        "leverage": "0",
        "misc": "",
        "trade_id": trade.trade_id,
        "maker": fill.is_maker,
    }


def balance_ex(wallets: dict[str, Wallet], assets: list[str]) -> Json:
    out: Json = {}
    for asset in sorted(set(assets) | set(wallets)):
        wallet = wallets.get(asset, Wallet())
        out[ASSET_IDS.get(asset, asset)] = {
            "balance": asset_text(asset, wallet.total),
            "credit": "0.0000",
            "credit_used": "0.0000",
            "hold_trade": asset_text(asset, wallet.locked),
        }
    return out


# --- websocket v2 ---------------------------------------------------------------------


def _checksum_part(value: Decimal, places: int) -> str:
    return fixed(value, places).replace(".", "").lstrip("0")


def checksum(pair: Pair, book: OrderBook) -> int:
    """Kraken v2's book checksum: CRC32 (unsigned) of the top 10 asks (ascending) then the top 10
    bids (descending), each level its price and quantity written at the pair's decimals with the
    point and the leading zeros removed."""
    parts = [
        _checksum_part(price, pair.pair_decimals) + _checksum_part(qty, pair.lot_decimals)
        for levels in (book.asks.levels(CHECKSUM_DEPTH), book.bids.levels(CHECKSUM_DEPTH))
        for price, qty in levels
    ]
    return zlib.crc32("".join(parts).encode())


def levels(pairs: list[tuple[Decimal, Decimal]]) -> list[Json]:
    return [{"price": price, "qty": qty} for price, qty in pairs]


def fee_usd_equiv(order: Order) -> Decimal:
    """The order's fees so far valued in USD, as executions report them: quote units stand in
    for dollars (every pair here but ETH/BTC quotes a dollar), a base fee at the average price."""
    if not order.fee or order.fee_asset == PAIR_BY_SYMBOL[order.symbol].spec.quote:
        return order.fee
    return order.fee * (order.average_price or ZERO)


def execution(event: OrderEvent, userref: int, exec_type: str | None = None) -> Json:
    """One ``executions`` row: the order's news (``new``, ``trade``, ``canceled``, ``expired``, or
    ``exec_type`` as given: ``filled``)."""
    order = event.order
    fill = event.fill
    status = "new" if order.status is OrderStatus.NEW else order_status(order)
    if exec_type == "pending_new":
        status = "pending_new"
    if order.status is OrderStatus.PARTIALLY_FILLED:
        status = "partially_filled"
    elif order.status is OrderStatus.FILLED:
        status = "filled"
    exec_type = (
        exec_type
        or {
            ExecType.NEW: "new",
            ExecType.TRADE: "trade",
            ExecType.CANCELED: "canceled",
            ExecType.EXPIRED: "expired",
        }[event.exec_type]
    )
    row: Json = {
        "order_id": txid(order.order_id),
        "symbol": order.symbol,
        "exec_type": exec_type,
        "order_status": status,
        "side": order.side.value,
        "order_type": order.type.value,
        "order_userref": userref,
        "time_in_force": order.time_in_force.value,
        "cum_qty": order.filled,
        "cum_cost": order.filled_quote,
        "fee_ccy_pref": "fcib" if order.side is Side.BUY else "fciq",
        "fee_usd_equiv": fee_usd_equiv(order),
        "timestamp": rfc3339(order.updated_ms),
    }
    if order.client_order_id:
        row["cl_ord_id"] = order.client_order_id
    if order.quantity is not None:
        row["order_qty"] = order.quantity
    if order.price is not None:
        row["limit_price"] = order.price
        row["limit_price_type"] = "static"
    if order.average_price is not None:
        row["avg_price"] = order.average_price
    if fill is not None:
        trade = fill.trade
        row.update(
            {
                "exec_id": trade_txid(trade),
                "trade_id": trade.trade_id,
                "last_qty": trade.quantity,
                "last_price": trade.price,
                "cost": trade.quote_quantity,
                "liquidity_ind": "m" if fill.is_maker else "t",
                "fees": [{"asset": fill.fee_asset, "qty": fill.fee}],
                "timestamp": rfc3339(trade.time_ms),
            }
        )
    if exec_type in ("canceled", "expired") and order.close_reason is not None:
        row["reason"] = _REASON[order.close_reason]
    return row
