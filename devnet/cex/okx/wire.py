"""Engine objects as OKX v5 JSON: every number a string in its shortest exact form, ids as strings.

OKX reports fees as negative amounts (``"fee": "-0.0001"``), in the currency received;
absent values are empty strings, not nulls, except sizes: an order with no fill yet says
``"fillSz": "0"`` (as ccxt's recording of a live OKX order shows).
"""

from __future__ import annotations

import zlib
from decimal import Decimal
from typing import Any

from devnet.cex.engine import (
    BookDelta,
    CloseReason,
    ExecType,
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
from devnet.cex.numbers import ZERO, plain
from devnet.cex.okx.profile import inst_id

Json = dict[str, Any]
LIST_TIME = "1548133413000"

_STATE = {
    OrderStatus.NEW: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",
    OrderStatus.EXPIRED_IN_MATCH: "canceled",
}
# OKX cancelSource codes: why an order was canceled by the system rather than the user.
_CANCEL_SOURCE = {
    CloseReason.USER: "1",
    CloseReason.POST_ONLY_WOULD_TAKE: "31",
    CloseReason.SELF_TRADE: "32",
}


def envelope(data: list[Any], code: str = "0", msg: str = "") -> Json:
    return {"code": code, "msg": msg, "data": data}


def ord_type(order: Order) -> str:
    if order.type is OrderType.MARKET:
        return "market"
    if order.post_only:
        return "post_only"
    return {"GTC": "limit", "IOC": "ioc", "FOK": "fok"}[order.time_in_force.value]


def _cancel_source(order: Order) -> str:
    if order.close_reason is None:
        return ""
    if order.close_reason is CloseReason.UNFILLED_REMAINDER:
        return "13" if ord_type(order) == "fok" else "14"
    return _CANCEL_SOURCE[order.close_reason]


def instrument(spec: MarketSpec) -> Json:
    return {
        "alias": "",
        "auctionEndTime": "",
        "baseCcy": spec.base,
        "category": "1",
        "contTdSwTime": "",
        "ctMult": "",
        "ctType": "",
        "ctVal": "",
        "ctValCcy": "",
        "expTime": "",
        "futureSettlement": False,
        "instFamily": "",
        "instId": inst_id(spec.symbol),
        "instType": "SPOT",
        "lever": "",
        "listTime": LIST_TIME,
        "lotSz": plain(spec.step_size),
        "maxIcebergSz": plain(spec.max_qty),
        "maxLmtAmt": plain(spec.max_notional),
        "maxLmtSz": plain(spec.max_qty),
        "maxMktAmt": "1000000",
        "maxMktSz": "1000000",
        "maxStopSz": "1000000",
        "maxTriggerSz": plain(spec.max_qty),
        "maxTwapSz": plain(spec.max_qty),
        "minSz": plain(spec.min_qty),
        "openType": "",
        "optType": "",
        "quoteCcy": spec.quote,
        "ruleType": "normal",
        "settleCcy": "",
        "state": "live",
        "stk": "",
        "tickSz": plain(spec.tick_size),
        "tradeQuoteCcyList": [spec.quote],
        "uly": "",
    }


def book_levels(
    book: OrderBook, side: Side, pairs: list[tuple[Decimal, Decimal]] | tuple[tuple[Decimal, Decimal], ...]
) -> list[list[str]]:
    """``[price, size, "0", number of orders]`` rows (the third field is deprecated, always "0")."""
    book_side = book.side(side)
    out = []
    for price, size in pairs:
        count = len(book_side.orders_at(price)) if size else 0
        out.append([plain(price), plain(size), "0", str(count)])
    return out


def checksum(book: OrderBook) -> int:
    """OKX's book checksum: CRC32 of the first 25 bid and ask levels interleaved, as a signed int."""
    bids = book.bids.levels(25)
    asks = book.asks.levels(25)
    parts: list[str] = []
    for i in range(25):
        if i < len(bids):
            parts += [plain(bids[i][0]), plain(bids[i][1])]
        if i < len(asks):
            parts += [plain(asks[i][0]), plain(asks[i][1])]
    value = zlib.crc32(":".join(parts).encode())
    return value - (1 << 32) if value >= 1 << 31 else value


def books(book: OrderBook, depth: int, now_ms: int) -> Json:
    return {
        "asks": book_levels(book, Side.SELL, book.asks.levels(depth)),
        "bids": book_levels(book, Side.BUY, book.bids.levels(depth)),
        "ts": str(now_ms),
    }


def book_snapshot(book: OrderBook, depth: int, now_ms: int) -> Json:
    return {**books(book, depth, now_ms), "checksum": checksum(book), "prevSeqId": -1, "seqId": book.sequence}


def book_update(book: OrderBook, delta: BookDelta) -> Json:
    return {
        "asks": book_levels(book, Side.SELL, delta.asks),
        "bids": book_levels(book, Side.BUY, delta.bids),
        "ts": str(delta.time_ms),
        "checksum": checksum(book),
        "prevSeqId": delta.previous,
        "seqId": delta.sequence,
    }


def balance(wallets: dict[str, Wallet], assets: list[str], now_ms: int, only: set[str] | None = None) -> Json:
    details = []
    for asset in sorted(set(assets) | set(wallets)):
        if only is not None and asset not in only:
            continue
        wallet = wallets.get(asset, Wallet())
        total, free, locked = plain(wallet.total), plain(wallet.free), plain(wallet.locked)
        details.append(
            {
                "accAvgPx": "",
                "availBal": free,
                "availEq": free,
                "borrowFroz": "",
                "cashBal": total,
                "ccy": asset,
                "clSpotInUseAmt": "",
                "colBorrAutoConversion": "0",
                "collateralEnabled": False,
                "collateralRestrict": False,
                "crossLiab": "",
                "disEq": "0",
                "eq": total,
                "eqUsd": "0",
                "fixedBal": "0",
                "frozenBal": locked,
                "imr": "",
                "interest": "",
                "isoEq": "0",
                "isoLiab": "",
                "isoUpl": "",
                "liab": "",
                "maxLoan": "",
                "maxSpotInUse": "",
                "mgnRatio": "",
                "mmr": "",
                "notionalLever": "",
                "openAvgPx": "",
                "ordFrozen": locked,
                "rewardBal": "0",
                "smtSyncEq": "0",
                "spotBal": total,
                "spotCopyTradingEq": "0",
                "spotInUseAmt": "",
                "spotIsoBal": "0",
                "spotUpl": "",
                "spotUplRatio": "",
                "stgyEq": "0",
                "totalPnl": "",
                "totalPnlRatio": "",
                "twap": "0",
                "uTime": str(now_ms),
                "upl": "",
                "uplLiab": "",
            }
        )
    return {
        "adjEq": "",
        "availEq": "",
        "borrowFroz": "",
        "details": details,
        "imr": "",
        "isoEq": "0",
        "mgnRatio": "",
        "mmr": "",
        "notionalUsd": "",
        "notionalUsdForBorrow": "",
        "notionalUsdForFutures": "",
        "notionalUsdForOption": "",
        "notionalUsdForSwap": "",
        "ordFroz": "",
        "totalEq": "0",
        "uTime": str(now_ms),
        "upl": "",
    }


def order(o: Order, spec: MarketSpec, tag: str = "") -> Json:
    """GET /api/v5/trade/order, orders-pending, orders-history rows."""
    by_quote = o.quantity is None
    rebate_ccy = spec.quote if o.side is Side.BUY else spec.base
    return {
        "accFillSz": plain(o.filled),
        "algoClOrdId": "",
        "algoId": "",
        "attachAlgoClOrdId": "",
        "attachAlgoOrds": [],
        "avgPx": plain(o.average_price) if o.average_price is not None else "",
        "cTime": str(o.created_ms),
        "cancelSource": _cancel_source(o),
        "cancelSourceReason": "",
        "category": "normal",
        "ccy": "",
        "clOrdId": o.client_order_id,
        "fee": plain(-o.fee) if o.fee else "0",
        "feeCcy": o.fee_asset,
        "fillPx": plain(o.last_fill_price) if o.last_fill_price is not None else "",
        "fillSz": plain(o.last_fill_qty) if o.last_fill_qty is not None else "0",
        "fillTime": str(o.last_trade_ms) if o.last_trade_ms is not None else "",
        "instId": inst_id(o.symbol),
        "instType": "SPOT",
        "isTpLimit": "false",
        "lever": "",
        "linkedAlgoOrd": {"algoId": ""},
        "ordId": str(o.order_id),
        "ordType": ord_type(o),
        "pnl": "0",
        "posSide": "net",  # spot, and every account in net mode, say "net"
        "px": plain(o.price) if o.price is not None else "",
        "pxType": "",
        "pxUsd": "",
        "pxVol": "",
        "quickMgnType": "",
        "rebate": "0",
        "rebateCcy": rebate_ccy,
        "reduceOnly": "false",
        "side": o.side.value,
        "slOrdPx": "",
        "slTriggerPx": "",
        "slTriggerPxType": "",
        "source": "",
        "state": _STATE[o.status],
        "stpId": "",
        "stpMode": "cancel_maker",
        "sz": plain(o.quote_quantity if by_quote and o.quote_quantity is not None else (o.quantity or ZERO)),
        "tag": tag,
        "tdMode": "cash",
        "tgtCcy": "quote_ccy" if by_quote else ("base_ccy" if o.type is OrderType.MARKET else ""),
        "tpOrdPx": "",
        "tpTriggerPx": "",
        "tpTriggerPxType": "",
        "tradeId": str(o.last_trade_id) if o.last_trade_id is not None else "",
        "tradeQuoteCcy": spec.quote,
        "uTime": str(o.updated_ms),
    }


def order_push(event: OrderEvent, spec: MarketSpec, tag: str, now_ms: int) -> Json:
    """``orders`` channel row: the order plus what this event filled."""
    fill = event.fill
    row = order(event.order, spec, tag)
    row.update(
        {
            "amendResult": "",
            "amendSource": "",
            "code": "0",
            "execType": ("M" if fill.is_maker else "T") if fill else "",
            "fillFee": plain(-fill.fee) if fill else "0",
            "fillFeeCcy": fill.fee_asset if fill else "",
            "fillNotionalUsd": "",
            "fillPx": plain(fill.trade.price) if fill else "",
            "fillSz": plain(fill.trade.quantity) if fill else "0",
            "fillTime": str(fill.trade.time_ms) if fill else "",
            "msg": "",
            "notionalUsd": "",
            "reqId": "",
            "tradeId": str(fill.trade.trade_id) if fill else "",
        }
    )
    if event.exec_type is ExecType.NEW:
        row["state"] = "live"
    return dict(sorted(row.items()))


def fill_row(fill: Fill, tag: str = "") -> Json:
    trade = fill.trade
    rate = (fill.fee / (trade.quantity if fill.is_buyer else trade.quote_quantity)) if fill.fee else ZERO
    return {
        "billId": str(trade.trade_id * 2 + (1 if fill.is_buyer else 0)),
        "clOrdId": fill.client_order_id,
        "execType": "M" if fill.is_maker else "T",
        "fee": plain(-fill.fee) if fill.fee else "0",
        "feeCcy": fill.fee_asset,
        "feeRate": plain(-rate) if rate else "0",
        "fillFwdPx": "",
        "fillIdxPx": "",
        "fillMarkPx": "",
        "fillMarkVol": "",
        "fillPnl": "0",
        "fillPx": plain(trade.price),
        "fillPxUsd": "",
        "fillPxVol": "",
        "fillSz": plain(trade.quantity),
        "fillTime": str(trade.time_ms),
        "instId": inst_id(trade.symbol),
        "instType": "SPOT",
        "ordId": str(fill.order_id),
        "posSide": "net",
        "side": fill.side.value,
        "subType": "1" if fill.is_buyer else "2",
        "tag": tag,
        "tradeId": str(trade.trade_id),
        "ts": str(trade.time_ms),
    }


def public_trade(trade: Trade) -> Json:
    return {
        "instId": inst_id(trade.symbol),
        "side": trade.taker_side.value,
        "sz": plain(trade.quantity),
        "px": plain(trade.price),
        "source": "0",
        "tradeId": str(trade.trade_id),
        "ts": str(trade.time_ms),
    }


def ticker(spec: MarketSpec, book: OrderBook, stats: TickerStats, now_ms: int) -> Json:
    bid = book.bids.levels(1)
    ask = book.asks.levels(1)
    return {
        "instType": "SPOT",
        "instId": inst_id(spec.symbol),
        "last": plain(stats.last) if stats.last is not None else "",
        "lastSz": plain(stats.last_qty) if stats.last_qty is not None else "",
        "askPx": plain(ask[0][0]) if ask else "",
        "askSz": plain(ask[0][1]) if ask else "",
        "bidPx": plain(bid[0][0]) if bid else "",
        "bidSz": plain(bid[0][1]) if bid else "",
        "open24h": plain(stats.open) if stats.open is not None else "",
        "high24h": plain(stats.high) if stats.high is not None else "",
        "low24h": plain(stats.low) if stats.low is not None else "",
        "volCcy24h": plain(stats.quote_volume),
        "vol24h": plain(stats.volume),
        "ts": str(now_ms),
        "sodUtc0": plain(stats.open) if stats.open is not None else "",
        "sodUtc8": plain(stats.open) if stats.open is not None else "",
    }


_CHAINS = {"BTC": ("Bitcoin", "BTC-Bitcoin"), "ETH": ("Ethereum", "ETH-ERC20"), "SOL": ("Solana", "SOL-Solana")}


def currencies(assets: list[str]) -> list[Json]:
    out = []
    for asset in assets:
        name, chain = _CHAINS.get(asset, (asset, f"{asset}-ERC20"))
        out.append(
            {
                "burningFeeRate": "",
                "canDep": True,
                "canInternal": True,
                "canWd": True,
                "ccy": asset,
                "chain": chain,
                "ctAddr": "",
                "depEstOpenTime": "",
                "depQuotaFixed": "",
                "depQuoteDailyLayer2": "",
                "fee": "0",
                "logoLink": "",
                "mainNet": True,
                "maxFee": "0",
                "maxFeeForCtAddr": "",
                "maxWd": "10000000",
                "minDep": "0.00000001",
                "minDepArrivalConfirm": "1",
                "minFee": "0",
                "minFeeForCtAddr": "",
                "minInternal": "0.00000001",
                "minWd": "0.00000001",
                "minWdUnlockConfirm": "1",
                "name": name,
                "needTag": False,
                "usedDepQuotaFixed": "",
                "usedWdQuota": "0",
                "wdQuota": "10000000",
                "wdTickSz": "8",
            }
        )
    return out
