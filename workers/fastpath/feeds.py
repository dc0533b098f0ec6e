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


def _text(levels: list[list[Any]]) -> list[tuple[str, str]]:
    # ccxt.pro hands floats; repr() gives back the exchange's shortest decimal text.
    return [(repr(float(p)), repr(float(q))) for p, q, *_ in levels[:DEPTH]]


async def follow_book(pro: Any, symbol: str, book: ConsolidatedBook, venue: str, health: HealthRecord) -> None:
    """Runs until cancelled; never raises (a failing feed is a health fact, not a crash)."""
    backoff = 0.1
    depth = profile_for(pro.id).book_depth(DEPTH)  # Kraken offers 10 or 25, not 20: ask 25, keep 20
    while True:
        try:
            ob = await pro.watch_order_book(symbol, depth)
            bids, asks = _text(ob["bids"]), _text(ob["asks"])
            if bids and asks and Decimal(bids[0][0]) >= Decimal(asks[0][0]):
                health.book_stale = True
                log.warning("%s %s crossed book (%s >= %s): stale until resync", venue, symbol, bids[0][0], asks[0][0])
                continue
            now_ms = int(time.time() * 1000)
            book.book(venue).replace_text(bids, asks, update_id=int(ob.get("nonce") or 0), ts_ms=now_ms)
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
