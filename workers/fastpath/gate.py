"""Keeping websocket pushes and the collector off the order path.

While a placement is awaited, a frame from the book feed or the user stream that lands on the
loop before the venue's REST answer would be handled first (ccxt.pro's parse, the book copy, a
confirmation's filter: ~0.1-0.2 ms a frame), between the answer's arrival and the client's
acknowledgement. :class:`PushGate` holds such pushes and hands them on, in arrival order,
once the answer is written (or earlier, see the bounds below); the book then follows the
venue a little later, which nothing routes on meanwhile: an order's legs are chosen from the
book before anything is sent. A push held while the order is placed also reaches the user
stream's confirmation filter once the engine knows the order open, so it is dropped there
instead of being parsed by ccxt.pro.

Rules (what the gate promises):

- pushes reach ccxt.pro in the order they arrived, per process (one queue for every gated
  ccxt.pro instance, so never reordered within a connection);
- a push is held only while at least one parent is being placed (:meth:`PushGate.hold` ..
  :meth:`PushGate.release`), or behind pushes already held (order);
- bounds: held pushes are handed on at the latest ``max_hold_s`` after the first of them
  arrived (a timer), or at once when ``max_held`` are held, whether or not placements are
  still awaited; so a slow venue cannot hold another's book back longer than that;
- on release of the last placement the held pushes are handed on on the loop's next turn (the
  answer is written first, in the step that releases); then :func:`collect_when_idle` runs.

The collector: after :func:`settle_heap` (``gen0_threshold``), the youngest generation is
collected automatically only every ``AUTO_GEN0_THRESHOLD`` net allocations; between orders
(:func:`collect_when_idle`, run when the last placement is released), the generation CPython
would collect is collected once ``IDLE_GEN0_THRESHOLD`` allocations are pending. A process
that never falls idle still collects (the automatic threshold), so memory stays bounded.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

MAX_HOLD_S = 0.005  # the longest a push waits behind placements
MAX_HELD = 256  # pushes held before they are handed on regardless
IDLE_GEN0_THRESHOLD = 2_000  # allocations pending before an idle moment collects the youngest generation
AUTO_GEN0_THRESHOLD = 50_000  # the automatic bound, reached only without idle moments (settle_heap)

Handler = Callable[[Any, Any], Any]


def collect_when_idle() -> int:
    """Once ``IDLE_GEN0_THRESHOLD`` allocations are pending, the generation CPython's automatic
    trigger would pick (the oldest whose count exceeds its threshold; without its ratio test
    for a full collection, so generation 2's garbage is bounded too); the generation
    collected, -1 for none."""
    counts = gc.get_count()
    if counts[0] < IDLE_GEN0_THRESHOLD:
        return -1
    thresholds = gc.get_threshold()
    generation = next((g for g in (2, 1) if counts[g] > thresholds[g]), 0)
    gc.collect(generation)
    return generation


class PushGate:
    """Holds gated pushes while parents are placed (see the module docstring for the rules)."""

    def __init__(
        self,
        max_hold_s: float = MAX_HOLD_S,
        max_held: int = MAX_HELD,
        idle: Callable[[], object] | None = collect_when_idle,
    ) -> None:
        self.max_hold_s = max_hold_s
        self.max_held = max_held
        self._idle = idle
        self._placing = 0
        self._held: list[tuple[Handler, Any, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self.held_total = 0  # pushes ever held (a count for tests and metrics)
        self._pros: list[Any] = []  # gated ccxt.pro instances: their connections pause reading while placing
        self._paused: list[Any] = []  # the websocket protocols paused now
        self._bound: asyncio.TimerHandle | None = None  # resumes them at the latest max_hold_s on

    @property
    def placing(self) -> int:
        return self._placing

    def install(self, pro: Any) -> None:
        """Gate ``pro``'s pushes. Installed before its first subscription (ccxt.pro binds
        ``handle_message`` per connection) and after any other ``handle_message`` wrapper, so
        that a held push meets that wrapper only when handed on."""
        handle: Handler = pro.handle_message

        def gated(client: Any, message: Any) -> Any:
            if not self._placing and not self._held:
                return handle(client, message)
            self._hold(handle, client, message)
            return None

        pro.handle_message = gated
        self._pros.append(pro)

    def _hold(self, handle: Handler, client: Any, message: Any) -> None:
        self._held.append((handle, client, message))
        self.held_total += 1
        if len(self._held) >= self.max_held:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.max_hold_s, self.flush)

    def hold(self) -> None:
        """A placement starts: pushes arriving from now on are held, and the gated websockets
        stop reading (their frames wait in the kernel, not parsed before the REST answer)."""
        self._placing += 1
        if self._placing == 1:
            self._pause()

    def _pause(self) -> None:
        for pro in self._pros:
            for client in (getattr(pro, "clients", None) or {}).values():
                conn = getattr(getattr(client, "connection", None), "_conn", None)
                protocol = getattr(conn, "protocol", None)
                if protocol is not None and not getattr(protocol, "_reading_paused", True):
                    protocol.pause_reading()
                    self._paused.append(protocol)
        if self._paused:
            self._bound = asyncio.get_running_loop().call_later(self.max_hold_s, self._resume)

    def _resume(self) -> None:
        if self._bound is not None:
            self._bound.cancel()
            self._bound = None
        paused, self._paused = self._paused, []
        for protocol in paused:
            if protocol.transport is not None and not protocol.transport.is_closing():
                protocol.resume_reading()

    def release(self) -> None:
        """A placement's answer is in: once the last one is, held pushes are handed on on the
        loop's next turn, then the idle hook runs."""
        self._placing -= 1
        if not self._placing:
            asyncio.get_running_loop().call_soon(self._after_orders)

    def _after_orders(self) -> None:
        if self._placing:
            return  # another placement began meanwhile: its release hands them on
        self._resume()
        self.flush()
        if self._idle is not None:
            self._idle()

    def flush(self) -> None:
        """Hands every held push on, in arrival order (pushes a handler causes to arrive are
        held behind them and handed on in the same call)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        held, i = self._held, 0
        while i < len(held):
            handle, client, message = held[i]
            i += 1
            try:
                handle(client, message)
            except Exception:  # noqa: BLE001 - as ccxt.pro's receive loop: one bad push must not drop the rest
                log.exception("handling a held push failed")
        held.clear()
