"""Fan-out of engine events to websocket connections, in order.

Each connection owns an :class:`Outbox`: handlers and event listeners enqueue frames
synchronously and one writer task sends them, so a subscription's ack always precedes
the first update it causes and updates never overtake each other.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable

from aiohttp import web

from devnet.cex.engine import Event

Listener = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, events: list[Event]) -> None:
        for event in events:
            for listener in list(self._listeners):
                listener(event)


class Subscriptions:
    """The streams the venue's websockets are subscribed to right now, by key (a Binance stream
    name, ``user:<account>``, an OKX ``<channel>:<instId|account>``), with how many sockets hold each.

    Reported by the admin state, so a test waits until its subscription is registered (after
    which every event reaches it, see :class:`Outbox`) instead of sleeping.
    """

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def add(self, key: str) -> None:
        self._counts[key] += 1

    def remove(self, key: str) -> None:
        self._counts[key] -= 1
        if self._counts[key] <= 0:
            del self._counts[key]

    def snapshot(self) -> dict[str, int]:
        return dict(sorted(self._counts.items()))


class Outbox:
    """Ordered, non-blocking sends on one websocket; closes it if the peer falls far behind."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, max_backlog: int = 50_000) -> None:
        self.ws = ws
        self.request = request
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._max_backlog = max_backlog
        self._task = asyncio.create_task(self._run())

    def send(self, frame: str) -> None:
        if self._queue.qsize() >= self._max_backlog:
            self.abort()
            return
        self._queue.put_nowait(frame)

    async def _run(self) -> None:
        while (frame := await self._queue.get()) is not None:
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (what a network failure looks like)."""
        if self.request.transport is not None:
            self.request.transport.abort()
        self._queue.put_nowait(None)

    async def close(self) -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, 1.0)
