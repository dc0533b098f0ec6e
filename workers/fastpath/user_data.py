"""User-data streams: one ccxt.pro task per venue following the venue's private stream of our
orders (the profile's ``user_stream``: Binance ``executionReport``, OKX ``orders``, Kraken
``executions``), so a resting child's fills reach the order engine as they happen instead of
on the next status, cancel or restart.

The stream is at-most-once: after every (re)subscription, once it has had ``settle_s`` to take
effect, each open child on the venue is looked up by REST once, which covers whatever happened
while it was down. Figures are cumulative, so the same fill seen both ways counts once."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ccxt

from connectors.cex.credentials import ApiCredentials
from connectors.cex.factory import build_exchange
from connectors.cex.profiles import UserStream
from connectors.cex.venue import CexVenue
from workers.fastpath.engine import OrderEngine

log = logging.getLogger(__name__)
_LOST = (ccxt.NetworkError, ccxt.ExchangeError, OSError)


def user_stream_exchange(venue: CexVenue, credentials: ApiCredentials | None) -> Any | None:
    """The authenticated ccxt.pro instance for ``venue``'s user stream; None when the venue has
    none (profile) or the fast path has no credentials for it."""
    if venue.profile.user_stream.method is None or credentials is None:
        return None
    pro = build_exchange(venue.config, credentials, pro=True)
    if venue.profile.user_stream.fills_as_trades:
        _fills_update_orders(pro)
    return pro


def _fills_update_orders(pro: Any) -> None:
    """ccxt.pro hands a fill push that it reads as a trade (Kraken's ``trade`` execution, which
    also carries the order's cumulative figures) to ``watch_my_trades`` only; read it as the
    order update it also is, so ``watch_orders`` sees partial fills as they happen."""
    as_trades = pro.handle_my_trades

    def both(client: Any, message: dict[str, Any], subscription: Any = None) -> None:
        as_trades(client, message)
        pro.handle_orders(client, message)

    pro.handle_my_trades = both


def unified(order: dict[str, Any], stream: UserStream) -> dict[str, Any]:
    """A pushed ccxt order with the profile's ``info`` fields in place of lossy parses."""
    if not stream.info_fields:
        return order
    info = order.get("info") or {}
    patched = dict(order)
    for key, field in stream.info_fields.items():
        if info.get(field) is not None:
            patched[key] = info[field]
    return patched


async def follow_user_stream(pro: Any, venue: CexVenue, engine: OrderEngine) -> None:
    """Runs until cancelled; never raises (a lost stream is a health fact, not a crash)."""
    stream = venue.profile.user_stream
    assert stream.method is not None
    watch_call = getattr(pro, stream.method)
    health = venue.health
    backoff = 0.1
    while True:
        if health.user_stream == "off":
            health.user_stream = "connecting"  # after a loss it stays "down" until live again
        watch: asyncio.Future[Any] = asyncio.ensure_future(watch_call(params=dict(stream.params)))
        try:
            await asyncio.wait({watch}, timeout=stream.settle_s)
            if watch.done() and watch.exception() is not None:
                watch.result()  # the subscription failed: raise it
            caught_up = await engine.reconcile_venue(venue.name)
            if caught_up:
                log.info("%s: %d child order(s) caught up by REST after (re)subscribing", venue.name, caught_up)
            health.user_stream = "live"
            backoff = 0.1
            while True:
                orders = await watch
                engine.apply_pushed(venue.name, [unified(o, stream) for o in orders])
                watch = asyncio.ensure_future(watch_call(params=dict(stream.params)))
        except asyncio.CancelledError:
            watch.cancel()
            raise
        except _LOST as exc:
            health.user_stream_lost()
            log.warning("%s user stream lost (%s); resubscribing in %.1fs", venue.name, exc, backoff)
        except Exception:  # noqa: BLE001 - a push ccxt cannot parse must not end the stream for good
            health.user_stream_lost()
            log.exception("%s user stream failed; resubscribing in %.1fs", venue.name, backoff)
        watch.cancel()
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 5.0)
