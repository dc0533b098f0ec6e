"""The scanner's live books: the fast path's own feed (``follow_book``: ccxt.pro
``watch_order_book``, crossed books and reconnects marked stale) for each venue and symbol
the scanned markets need, with each venue's fee and lot rules as the fast path reads them.
Public data only: no credentials are loaded."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from connectors.cex.config import VenueConfig
from connectors.cex.factory import build_exchange
from connectors.cex.health import HealthRecord
from connectors.cex.venue import CexVenue
from crosslane.routing import ConsolidatedBook, VenueBook, VenueMarket
from workers.fastpath.engine import venue_market
from workers.fastpath.feeds import follow_book

log = logging.getLogger(__name__)


class BookFeed:
    def __init__(self, venues: list[VenueConfig]) -> None:
        self.venues = {v.name: CexVenue(v, None) for v in venues}
        self._books: dict[tuple[str, str], ConsolidatedBook] = {}
        self._markets: dict[tuple[str, str], VenueMarket] = {}
        self._tasks: dict[str, list[asyncio.Task[None]]] = {}
        self._pro: dict[str, Any] = {}

    async def load(self) -> dict[str, set[str]]:
        """Each venue's markets (venue -> symbols); a venue that cannot be reached lists none."""
        results = await asyncio.gather(*(v.start() for v in self.venues.values()), return_exceptions=True)
        listed: dict[str, set[str]] = {}
        for venue, result in zip(self.venues.values(), results, strict=True):
            if isinstance(result, BaseException):
                log.warning("%s: markets not loaded (%s); its books are left out", venue.name, result)
            listed[venue.name] = set(venue.markets)
        return listed

    def follow(self, venue: str, symbol: str) -> None:
        """Start following ``symbol`` on ``venue`` (once)."""
        if (venue, symbol) in self._books:
            return
        cex = self.venues[venue]
        market = venue_market(cex, symbol)
        self._markets[(venue, symbol)] = market
        self._books[(venue, symbol)] = book = ConsolidatedBook.covering(symbol, [market])
        pro = self._pro.get(venue)
        if pro is None:
            pro = self._pro[venue] = build_exchange(cex.config, None, pro=True)
        task = asyncio.create_task(follow_book(pro, symbol, book, venue, cex.health), name=f"book-{venue}-{symbol}")
        self._tasks.setdefault(venue, []).append(task)

    def book(self, venue: str, symbol: str) -> VenueBook | None:
        found = self._books.get((venue, symbol))
        return None if found is None else found.book(venue)

    def market(self, venue: str, symbol: str) -> VenueMarket:
        return self._markets[(venue, symbol)]

    def health(self, venue: str) -> HealthRecord:
        return self.venues[venue].health

    async def stop_venue(self, venue: str) -> None:
        """Stop following every book of ``venue``: its books keep their last state and age."""
        for task in self._tasks.pop(venue, []):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        pro = self._pro.pop(venue, None)
        if pro is not None:
            with contextlib.suppress(Exception):
                await pro.close()

    async def close(self) -> None:
        for venue in list(self._tasks):
            await self.stop_venue(venue)
        for pro in self._pro.values():
            with contextlib.suppress(Exception):
                await pro.close()
        await asyncio.gather(*(v.close() for v in self.venues.values()), return_exceptions=True)
