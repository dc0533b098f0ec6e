"""Orders before pushes: websocket messages (book diffs, user-data pushes) that reach the fast
path while a request is being handled wait until its answer is written, so ccxt.pro's parsing
and the book copy do not sit between a venue's acknowledgement and the client's answer.

Every order's placement makes the venue push a book diff and an order update, which arrive
with the REST acknowledgement; handled in arrival order they delayed the answer by their
parsing (``bench/README.md``, order_to_ack). Deferred messages keep their order (once one
waits, later ones queue behind it) and wait at most ``max_defer_s``, so a steady stream of
requests cannot starve the books: a book the router reads is never more than that behind
what has been received. Pings and pongs are not deferred (ccxt handles them below
``handle_message``)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class PushGate:
    def __init__(self, max_defer_s: float = 0.005) -> None:
        self.max_defer_s = max_defer_s
        self._busy = 0
        self._waiting: deque[tuple[Callable[[Any, Any], Any], Any, Any]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    def wrap(self, pro: Any) -> None:
        """Route ``pro``'s websocket messages through the gate (before its first ``watch_*``
        call: ccxt binds ``handle_message`` when it opens a connection)."""
        handle = pro.handle_message

        def gated(client: Any, message: Any) -> Any:
            if self._busy == 0 and not self._waiting:
                return handle(client, message)
            if not self._waiting:
                self._timer = asyncio.get_running_loop().call_later(self.max_defer_s, self.drain)
            self._waiting.append((handle, client, message))
            return None

        pro.handle_message = gated

    def hold(self) -> None:
        """A request is being handled: pushes wait."""
        self._busy += 1

    def release(self) -> None:
        """Its answer is written: what waits is handled on the loop's next turn."""
        self._busy -= 1
        if self._busy == 0 and self._waiting:
            asyncio.get_running_loop().call_soon(self.drain)

    def drain(self) -> None:
        """Hands every waiting message to ccxt, in arrival order."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting:
            handle, client, message = self._waiting.popleft()
            try:
                handle(client, message)
            except Exception:  # noqa: BLE001 - one bad message must not drop the ones behind it
                log.exception("websocket message from %s could not be handled", getattr(client, "url", "?"))

    def clear(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting.clear()
