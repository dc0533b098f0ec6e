"""User-data streams: one ccxt.pro task per venue following the venue's private stream of our
orders (the profile's ``user_stream``: Binance ``executionReport``, OKX ``orders``, Kraken
``executions``), so a resting child's fills reach the order engine as they happen instead of
on the next status, cancel or restart.

The stream is at-most-once: after every (re)subscription, once it has had ``settle_s`` to take
effect, each open child on the venue is looked up by REST once, which covers whatever happened
while it was down. Figures are cumulative, so the same fill seen both ways counts once.

Every placement makes the venue push "new, nothing filled" (Kraken twice: ``pending_new``, then
``new``) just after the REST answer said as much; such a push about a child the engine already
knows open is dropped before ccxt.pro parses it (:func:`skip_confirmations`), as are Binance's
balance pushes on this connection, which nothing here watches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
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
    """A pushed ccxt order with the profile's ``info`` fields in place of lossy parses, and
    without a fee that is not the venue's charge (Kraken's push values it in USD: booked as
    such, a fee charged in ETH would be counted in the quote currency)."""
    if not stream.info_fields and stream.fees_pushed:
        return order
    info = order.get("info") or {}
    patched = dict(order)
    for key, field in stream.info_fields.items():
        if info.get(field) is not None:
            patched[key] = info[field]
    if not stream.fees_pushed:
        patched["fee"] = None
    return patched


NewOrders = list[tuple[str, str]]


def _zero(value: Any) -> bool:
    try:
        return float(value or 0) == 0
    except (TypeError, ValueError):
        return False


def _binance_event(message: dict[str, Any]) -> dict[str, Any]:
    """The event a Binance push carries: bare (listen key stream), or under ``data`` (combined
    stream) or ``event`` (WebSocket API subscription)."""
    for wrapper in ("data", "event"):
        inner = message.get(wrapper)
        if isinstance(inner, dict):
            message = inner
    return message


def _binance_new(message: dict[str, Any]) -> NewOrders | None:
    message = _binance_event(message)
    if message.get("e") != "executionReport" or message.get("x") != "NEW" or message.get("X") != "NEW":
        return None
    return [(str(message.get("c") or ""), str(message.get("i")))] if _zero(message.get("z")) else None


def _okx_new(message: dict[str, Any]) -> NewOrders | None:
    rows = message.get("data")
    if (message.get("arg") or {}).get("channel") != "orders" or "event" in message or not rows:
        return None
    if not all(r.get("state") == "live" and _zero(r.get("accFillSz")) for r in rows):
        return None
    return [(str(r.get("clOrdId") or ""), str(r.get("ordId"))) for r in rows]


def _kraken_new(message: dict[str, Any]) -> NewOrders | None:
    rows = message.get("data")
    if message.get("channel") != "executions" or message.get("type") != "update" or not rows:
        return None
    if not all(r.get("exec_type") in ("pending_new", "new") and _zero(r.get("cum_qty")) for r in rows):
        return None
    return [(str(r.get("cl_ord_id") or ""), str(r.get("order_id"))) for r in rows]


# Per ccxt exchange id: the new-order acknowledgements a raw push is made of (None: it is something else).
NEW_ORDER_PUSHES: dict[str, Callable[[dict[str, Any]], NewOrders | None]] = {
    "binance": _binance_new,
    "okx": _okx_new,
    "kraken": _kraken_new,
}
# Balance pushes: watch_orders ignores them.
_UNWATCHED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "binance": lambda m: _binance_event(m).get("e") in ("outboundAccountPosition", "balanceUpdate"),
}


def skip_confirmations(pro: Any, venue: str, engine: OrderEngine) -> None:
    """Drops, before ccxt.pro's parse, a push that only acknowledges orders the engine already
    knows open under the same venue order id with nothing filled (applying it would change
    nothing), and the balance pushes nobody watches on this connection. Any other push, and an
    acknowledgement that arrives before the placement's answer, goes to ccxt.pro as before.
    Installed before the first subscription: ccxt.pro binds ``handle_message`` per connection."""
    recognise = NEW_ORDER_PUSHES.get(pro.id)
    unwatched = _UNWATCHED.get(pro.id)
    handle = pro.handle_message

    def lean(client: Any, message: Any) -> Any:
        if isinstance(message, dict):
            if unwatched is not None and unwatched(message):
                return None
            new = recognise(message) if recognise is not None else None
            if new is not None and all(engine.knows_open(venue, cid, oid) for cid, oid in new):
                return None
        return handle(client, message)

    pro.handle_message = lean


async def follow_user_stream(pro: Any, venue: CexVenue, engine: OrderEngine) -> None:
    """Runs until cancelled; never raises (a lost stream is a health fact, not a crash)."""
    skip_confirmations(pro, venue.name, engine)
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
                pushed = [unified(o, stream) for o in orders]
                engine.apply_pushed(venue.name, pushed)
                watch = asyncio.ensure_future(watch_call(params=dict(stream.params)))
                if not stream.fees_pushed:
                    await engine.read_fees(venue.name, pushed)
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
