"""Helpers for tests driving ccxt.pro against the CEX simulators."""

from __future__ import annotations

import asyncio
import time
from typing import Any


async def pushed_order(ex: Any, order_id: str, status: str, timeout_s: float = 5.0) -> dict[str, Any]:
    """The order once an update with ``status`` reached ccxt.pro over the websocket.

    ccxt.pro keeps every pushed order update in ``ex.orders`` whether or not a ``watch_orders``
    call is pending, so waiting on that cache cannot miss an update that arrives before a
    watch would have been registered (what a ``sleep`` before the action used to paper over).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for order in reversed(list(ex.orders or [])):
            if order["id"] == order_id and order["status"] == status:
                return dict(order)
        await asyncio.sleep(0.01)
    seen = [(o["id"], o["status"]) for o in ex.orders or [] if o["id"] == order_id]
    raise AssertionError(f"no {status!r} update of order {order_id} pushed within {timeout_s}s; seen: {seen}")
