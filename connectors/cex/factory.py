"""Builds ccxt exchange objects from a VenueConfig: unmodified ccxt classes, with only their
hosts swapped when the venue is a simulator."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from connectors.cex.config import VenueConfig
from connectors.cex.credentials import ApiCredentials
from connectors.cex.profiles import profile_for
from crosslane.errors import InvalidRequest

_ORIGIN = re.compile(r"^(https?|wss?)://[^/]+")
NONCE_RETRIES = 3  # a private call refused for its nonce, signed again with a fresh one
_last_nonce: dict[str, int] = {}  # API key -> the last nonce any of this process's instances used
_nonce_lock = threading.Lock()


def rehost(urls: Any, rest: str | None, ws: str | None) -> Any:
    """Every URL in ccxt's (nested) ``urls['api']`` with its origin replaced."""
    if isinstance(urls, dict):
        return {k: rehost(v, rest, ws) for k, v in urls.items()}
    if isinstance(urls, list):
        return [rehost(v, rest, ws) for v in urls]
    if isinstance(urls, str):
        match = _ORIGIN.match(urls)
        if match is None:
            return urls
        target = ws if match.group(1).startswith("ws") else rest
        return target.rstrip("/") + urls[match.end():] if target else urls
    return urls


def build_exchange(config: VenueConfig, credentials: ApiCredentials | None, *, pro: bool = False) -> Any:
    module = ccxt_pro if pro else ccxt_async
    cls = getattr(module, config.exchange, None)
    if cls is None:
        raise InvalidRequest(f"ccxt{'.pro' if pro else ''} has no exchange {config.exchange!r}")
    params: dict[str, Any] = {
        "enableRateLimit": config.enable_rate_limit,
        "timeout": config.timeout_ms,
        "options": dict(profile_for(config.exchange).options if config.options is None else config.options),
    }
    if credentials is not None:
        params.update(credentials.ccxt_params())
    exchange = cls(params)
    if not pro:
        # Orders, fills and balances parsed as decimal strings, never through float (ccxt's
        # precise mode); books stay floats for ccxt.pro's delta handling.
        exchange.number = str
    if config.rest_url or config.ws_url:
        exchange.urls["api"] = rehost(exchange.urls["api"], config.rest_url, config.ws_url)
    if credentials is not None and profile_for(config.exchange).nonce_per_key:
        share_nonce(exchange, credentials.api_key)
    return exchange


def share_nonce(exchange: Any, api_key: str) -> None:
    """A venue that wants each private call's nonce above the key's last (Kraken) sees several
    instances of one key here (REST, the book feed, the user stream's token): each nonce is the
    instance's own (its unit) or one above the last any of them used, and a call refused for its
    nonce (two calls in flight reach the venue out of order; the venue did nothing) is signed
    again and sent, up to ``NONCE_RETRIES`` times."""
    own: Callable[[], Any] = exchange.nonce

    def rising() -> int:
        with _nonce_lock:
            value = max(int(own()), _last_nonce.get(api_key, 0) + 1)
            _last_nonce[api_key] = value
            return value

    fetch2 = exchange.fetch2

    async def fetch2_resigned(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(NONCE_RETRIES):
            try:
                return await fetch2(*args, **kwargs)
            except ccxt.InvalidNonce:
                if attempt == NONCE_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    exchange.nonce = rising
    exchange.fetch2 = fetch2_resigned
