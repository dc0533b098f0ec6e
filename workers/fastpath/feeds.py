"""Live books: one ccxt.pro ``watch_order_book`` loop per (venue, symbol), copied into the
router's consolidated book. ccxt.pro checks update ids and resyncs from a REST snapshot on a
gap; on top of that a crossed book or a reconnect marks the venue's book stale until a clean
update arrives, and every reconnect is counted in the venue's health."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import Any

import ccxt

from connectors.cex.health import HealthRecord
from connectors.cex.profiles import profile_for
from crosslane.routing import ConsolidatedBook

log = logging.getLogger(__name__)
DEPTH = 20


_MAX_UNITS = 10**15  # below 2**53 with room: a float times the scale rounds to the exact integer


def _text(levels: list[list[Any]]) -> list[tuple[str, str]]:
    # ccxt.pro hands floats; repr() gives back the exchange's shortest decimal text.
    return [(repr(float(p)), repr(float(q))) for p, q, *_ in levels[:DEPTH]]


def _units(levels: list[list[Any]], price_scale: float, qty_scale: float) -> list[tuple[int, int]] | None:
    """ccxt.pro's float levels as the book's integer units, without going through text: a
    float ``x`` is the decimal ``u / scale`` exactly when ``round(x * scale) / scale == x``
    (``u`` below 10**15: the product and the division are then correctly rounded). None when a
    level is finer than the scale or too large: the caller takes the text route, which refuses it."""
    out = []
    for p, q, *_ in levels[:DEPTH]:
        pu = round(p * price_scale)
        qu = round(q * qty_scale)
        if pu / price_scale != p or qu / qty_scale != q or not (0 < pu < _MAX_UNITS and 0 <= qu < _MAX_UNITS):
            return None
        out.append((pu, qu))
    return out


def _crossed(health: HealthRecord, venue: str, symbol: str, ob: Any) -> None:
    health.book_stale = True
    best_bid, best_ask = ob["bids"][0][0], ob["asks"][0][0]
    log.warning("%s %s crossed book (%s >= %s): stale until resync", venue, symbol, best_bid, best_ask)


async def follow_book(pro: Any, symbol: str, book: ConsolidatedBook, venue: str, health: HealthRecord) -> None:
    """Runs until cancelled; never raises (a failing feed is a health fact, not a crash)."""
    backoff = 0.1
    depth = profile_for(pro.id).book_depth(DEPTH)  # Kraken offers 10 or 25, not 20: ask 25, keep 20
    target = book.book(venue)
    price_scale, qty_scale = 10.0**target.scale.price_decimals, 10.0**target.scale.qty_decimals
    while True:
        try:
            ob = await pro.watch_order_book(symbol, depth)
            update_id, now_ms = int(ob.get("nonce") or 0), int(time.time() * 1000)
            bid_units, ask_units = (
                _units(ob["bids"], price_scale, qty_scale),
                _units(ob["asks"], price_scale, qty_scale),
            )
            if bid_units is not None and ask_units is not None:
                if bid_units and ask_units and bid_units[0][0] >= ask_units[0][0]:
                    _crossed(health, venue, symbol, ob)
                    continue
                target.replace(bid_units, ask_units, update_id=update_id, ts_ms=now_ms)
            else:
                bids, asks = _text(ob["bids"]), _text(ob["asks"])
                if bids and asks and Decimal(bids[0][0]) >= Decimal(asks[0][0]):
                    _crossed(health, venue, symbol, ob)
                    continue
                target.replace_text(bids, asks, update_id=update_id, ts_ms=now_ms)
            health.record_book_update()
            backoff = 0.1
        except asyncio.CancelledError:
            raise
        except (ccxt.NetworkError, ccxt.ExchangeError, OSError) as exc:
            health.ws_reconnects += 1
            health.book_stale = True
            log.warning("%s %s book feed dropped (%s); reconnecting in %.1fs", venue, symbol, exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
