"""Async clients of a venue's ``/__admin`` endpoints (see :mod:`devnet.cex.admin`).

For tests and tools driving a running simulator, in-process or a devnet process alike::

    await set_faults(venue.rest_url, lose_next_order_response=1)
    await set_faults(venue.rest_url, drop_ws=True)
    await credit(venue.rest_url, api_key=key, asset="USDT", amount="1000")
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp


async def _call(method: str, url: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None) -> Any:
    async with aiohttp.ClientSession() as session, session.request(method, url, json=body, params=params) as resp:
        data = await resp.json()
        if resp.status != 200:
            raise ValueError(f"{method} {url} refused: {data}")
        return data


async def state(rest_url: str) -> dict[str, Any]:
    result: dict[str, Any] = await _call("GET", rest_url + "/__admin/state")
    return result


async def wait_subscribed(rest_url: str, key: str, timeout_s: float = 10.0) -> None:
    """Until a websocket of the venue holds the subscription ``key`` (``user:<account>``, a
    Binance stream name, an OKX ``<channel>:<instId|account>``): from then on every event reaches it."""
    deadline = time.monotonic() + timeout_s
    while key not in (held := (await state(rest_url))["ws_subscriptions"]):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no websocket subscribed to {key!r} within {timeout_s}s; held: {sorted(held)}")
        await asyncio.sleep(0.02)


async def set_faults(rest_url: str, **changes: Any) -> dict[str, Any]:
    """Partial fault update; ``drop_ws=True`` aborts all websockets, ``reset=True`` clears."""
    result: dict[str, Any] = await _call("POST", rest_url + "/__admin/faults", changes)
    return result


async def set_rate_limits(rest_url: str, **changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = await _call("POST", rest_url + "/__admin/rate_limits", changes)
    return result


async def add_account(rest_url: str, account: str, **fields: Any) -> dict[str, Any]:
    """A new API key for ``account`` (fields: api_key, secret, passphrase, balances)."""
    result: dict[str, Any] = await _call("POST", rest_url + "/__admin/accounts", {"account": account, **fields})
    return result


async def credit(
    rest_url: str, asset: str, amount: str, *, account: str | None = None, api_key: str | None = None
) -> dict[str, Any]:
    """Add ``amount`` (negative: take it) to the account's free ``asset``; never below zero."""
    body = {"asset": asset, "amount": amount, "account": account, "api_key": api_key}
    result: dict[str, Any] = await _call("POST", rest_url + "/__admin/credit", body)
    return result


async def balances(rest_url: str, *, account: str | None = None, api_key: str | None = None) -> dict[str, Any]:
    params = {k: v for k, v in (("account", account), ("api_key", api_key)) if v}
    result: dict[str, Any] = await _call("GET", rest_url + "/__admin/balances", params=params)
    return result


async def book(rest_url: str, symbol: str, depth: int = 1000) -> dict[str, Any]:
    result: dict[str, Any] = await _call(
        "GET", rest_url + "/__admin/book", params={"symbol": symbol, "depth": str(depth)}
    )
    return result


async def market_maker(rest_url: str, **changes: Any) -> dict[str, Any]:
    """``running=False`` freezes the books, ``running=True`` resumes; ``interval_s`` sets the pace."""
    result: dict[str, Any] = await _call("POST", rest_url + "/__admin/market_maker", changes)
    return result


async def inject_gap(
    rest_url: str, symbol: str, bps: str | int, *, close_after_ms: int | None = None
) -> dict[str, Any]:
    """Shift the venue's ``symbol`` quotes by ``bps`` basis points (negative: cheaper, 0: close
    the gap); returns once the venue's book holds them, with its new top. ``close_after_ms``:
    the venue closes the gap itself that long after (its answer says when: ``closes_at_ms``)."""
    body: dict[str, Any] = {"symbol": symbol, "bps": str(bps)}
    if close_after_ms is not None:
        body["close_after_ms"] = close_after_ms
    result: dict[str, Any] = await _call("POST", rest_url + "/__admin/gap", body)
    return result


async def configure_funding(rest_url: str, config: dict[str, Any]) -> dict[str, Any]:
    """The venue's wallet: networks, confirmations, processing delay (see ``devnet.cex.funding``)."""
    result: dict[str, Any] = await _call("POST", rest_url + "/__admin/funding", config)
    return result


async def funding(rest_url: str) -> dict[str, Any]:
    """The venue's withdrawals and deposits as it sees them."""
    result: dict[str, Any] = await _call("GET", rest_url + "/__admin/funding")
    return result


async def whitelist(
    rest_url: str,
    addresses: list[str],
    *,
    account: str | None = None,
    api_key: str | None = None,
    keys: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``keys``: withdrawal key name → address, or {address, network} (Kraken's address book)."""
    body = {"addresses": addresses, "account": account, "api_key": api_key, "keys": keys or {}}
    result: dict[str, Any] = await _call("POST", rest_url + "/__admin/whitelist", body)
    return result
