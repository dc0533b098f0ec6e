"""Live books: one ccxt.pro subscription per (venue, symbol), copied into the router's
consolidated book. ccxt.pro checks update ids (Kraken: checksums) and resyncs from a REST
snapshot on a gap; on top of that a crossed book or a reconnect marks the venue's book stale
until a clean update arrives, and every reconnect is counted in the venue's health.

``watch_order_book`` is called once per (re)subscription, not once per update: each update
ccxt.pro accepts is copied as ccxt.pro resolves it, in its message handler (:func:`_tap`), so
an update costs no future, no task wake-up and no watch call (~30-40 us of CPU an update on
this machine). A rejection on the connection (a gap, a checksum mismatch, the connection
lost) makes the loop watch again, which resubscribes or raises what ccxt.pro rejected.
Without a watch per update ccxt.pro no longer trims its own book to the watched depth between
updates (its Kraken handler trims it itself): every level it holds is still exactly what the
venue's diffs said, and the router's copy keeps the top ``DEPTH`` of them.

The router's book holds the top ``DEPTH`` levels of each side, and a diff changes one or two
of them: once a copy is in, each update applies only the levels whose (price, amount) differ
from the last copy's top levels, and removes those that left the top (:func:`_changes`), which
leaves the book exactly as a full copy of the top levels would (a level not exactly in the
book's units, a stale book or a refused change: a full copy, as before)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

import ccxt
from ccxt.async_support.base.ws.order_book import OrderBook

from connectors.cex.health import HealthRecord
from connectors.cex.profiles import profile_for
from crosslane.routing import ConsolidatedBook
from crosslane.routing.book import Level, VenueBook

log = logging.getLogger(__name__)
DEPTH = 20


_MAX_UNITS = 10**15  # below 2**53 with room: a float times the scale rounds to the exact integer


def _text(levels: list[list[Any]]) -> list[tuple[str, str]]:
    # ccxt.pro hands floats; repr() gives back the exchange's shortest decimal text.
    return [(repr(float(p)), repr(float(q))) for p, q, *_ in levels[:DEPTH]]


def _units(levels: list[list[Any]], price_scale: float, qty_scale: float) -> list[Level] | None:
    """ccxt.pro's float levels as the book's integer units, without going through text: a
    float ``x`` is the decimal ``u / scale`` exactly when ``round(x * scale) / scale == x``
    (``u`` below 10**15: the product and the division are then correctly rounded). None when a
    level is finer than the scale or too large: the caller takes the text route, which refuses it."""
    return _exact_units(levels[:DEPTH], price_scale, qty_scale)


def _exact_units(levels: Iterable[Sequence[float]], price_scale: float, qty_scale: float) -> list[Level] | None:
    """:func:`_units` of every level given."""
    out = []
    for p, q, *_ in levels:
        pu = round(p * price_scale)
        qu = round(q * qty_scale)
        if pu / price_scale != p or qu / qty_scale != q or not (0 < pu < _MAX_UNITS and 0 <= qu < _MAX_UNITS):
            return None
        out.append((pu, qu))
    return out


Top = list[tuple[float, float]]


def _top(levels: list[list[Any]]) -> Top:
    """The top ``DEPTH`` levels' (price, amount) by value: ccxt.pro updates a level's amount in
    place, so its level lists cannot be kept to compare with."""
    return [(lv[0], lv[1]) for lv in levels[:DEPTH]]


def _changes(held: Top, top: Top) -> list[tuple[float, float]]:
    """What turns a side holding exactly ``held`` into one holding exactly ``top``: the levels
    new or changed, and each level that left (amount 0: removed)."""
    before = dict(held)
    changed = [(p, q) for p, q in top if before.get(p) != q]
    if len(before) != len(top) or changed:
        now = dict(top)
        changed += [(p, 0.0) for p in before if p not in now]
    return changed


def _patch(target: VenueBook, held: tuple[Top, Top], top: tuple[Top, Top], scales: tuple[float, float]) -> bool:
    """Applies to ``target`` (holding exactly ``held``) the changes that make it ``top``; False,
    with nothing changed, when a change is not exactly in the book's units."""
    bids = _exact_units(_changes(held[0], top[0]), *scales)
    asks = _exact_units(_changes(held[1], top[1]), *scales)
    if bids is None or asks is None:
        return False
    target.bids.apply(bids)
    target.asks.apply(asks)
    return True


class _Copier:
    """Copies ccxt.pro's book of one symbol into the router's (top ``DEPTH`` levels)."""

    def __init__(self, target: VenueBook, venue: str, symbol: str, health: HealthRecord) -> None:
        self.target, self.venue, self.symbol, self.health = target, venue, symbol, health
        self.scales = (10.0**target.scale.price_decimals, 10.0**target.scale.qty_decimals)
        self.held: tuple[Top, Top] | None = None  # the top levels the book holds exactly, once copied
        self.lost = asyncio.Event()  # ccxt.pro rejected on the book's connection: watch again
        self.dropped = False  # ... because the connection itself went

    def copy(self, ob: Any) -> None:
        target, health = self.target, self.health
        update_id, now_ms = int(ob.get("nonce") or 0), int(time.time() * 1000)
        top = (_top(ob["bids"]), _top(ob["asks"]))
        if top[0] and top[1] and top[0][0][0] >= top[1][0][0]:  # floats compare as their decimal text
            self.held = None
            health.book_stale = True
            best_bid, best_ask = top[0][0][0], top[1][0][0]
            log.warning(
                "%s %s crossed book (%s >= %s): stale until resync", self.venue, self.symbol, best_bid, best_ask
            )
            return
        if self.held is not None and not health.book_stale and _patch(target, self.held, top, self.scales):
            target.touch(update_id, now_ms)
        else:
            self.held = None  # until the copy is in
            bid_units, ask_units = _units(ob["bids"], *self.scales), _units(ob["asks"], *self.scales)
            if bid_units is not None and ask_units is not None:
                target.replace(bid_units, ask_units, update_id=update_id, ts_ms=now_ms)
            else:
                target.replace_text(_text(ob["bids"]), _text(ob["asks"]), update_id=update_id, ts_ms=now_ms)
        self.held = top
        health.record_book_update()


def _tap(pro: Any, copier: _Copier) -> None:
    """Every ccxt.pro connection of ``pro`` hands the followed book to ``copier`` as it resolves
    it (after its own update-id or checksum checks), in the message's handler: no watch call
    per update. A rejection on a connection (a gap, a checksum, the connection lost) sets
    ``copier.lost`` so the loop watches again, which resubscribes or raises the rejection."""
    for client in (pro.clients or {}).values():
        taps: dict[str, _Copier] | None = getattr(client, "crosslane_taps", None)
        (taps if taps is not None else _tap_client(client))[copier.symbol] = copier


def _tap_client(client: Any) -> dict[str, _Copier]:
    """Wraps one ccxt.pro connection's ``resolve`` and ``reject``; the copiers by symbol."""
    taps: dict[str, _Copier] = {}
    client.crosslane_taps = taps
    resolve, reject = client.resolve, client.reject

    def tapped_resolve(result: Any, message_hash: Any) -> Any:
        if isinstance(result, OrderBook):
            tap = taps.get(result.get("symbol"))
            if tap is not None:
                try:
                    tap.copy(result)
                except ValueError as exc:  # a level finer than the scale: a corrupt feed
                    log.warning("%s %s book refused (%s): stale until resync", tap.venue, tap.symbol, exc)
                    tap.health.book_stale = True
                    tap.held = None
        return resolve(result, message_hash)

    def tapped_reject(result: Any, message_hash: Any = None) -> Any:
        for tap in taps.values():
            if message_hash is None:  # the connection: nothing may be waiting to hear it
                tap.health.book_stale = tap.dropped = True
            tap.lost.set()
        return reject(result, message_hash)

    client.resolve, client.reject = tapped_resolve, tapped_reject
    return taps


async def follow_book(pro: Any, symbol: str, book: ConsolidatedBook, venue: str, health: HealthRecord) -> None:
    """Runs until cancelled; never raises (a failing feed is a health fact, not a crash). Watches
    once per (re)subscription; updates then reach the book through :func:`_tap`."""
    backoff = 0.1
    depth = profile_for(pro.id).book_depth(DEPTH)  # Kraken offers 10 or 25, not 20: ask 25, keep 20
    copier = _Copier(book.book(venue), venue, symbol, health)
    while True:
        try:
            copier.lost.clear()
            copier.dropped = False
            copier.copy(await pro.watch_order_book(symbol, depth))
            _tap(pro, copier)
            backoff = 0.1
            await copier.lost.wait()
            if copier.dropped:  # the connection was lost with no watch waiting: a reconnect
                health.ws_reconnects += 1
                log.warning("%s %s book feed dropped; watching again", venue, symbol)
        except asyncio.CancelledError:
            raise
        except (ccxt.NetworkError, ccxt.ExchangeError, OSError) as exc:
            health.ws_reconnects += 1
            health.book_stale = True
            log.warning("%s %s book feed dropped (%s); reconnecting in %.1fs", venue, symbol, exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
