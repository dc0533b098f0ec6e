"""Builds ccxt exchange objects from a VenueConfig: unmodified ccxt classes, with only their
hosts swapped when the venue is a simulator."""

from __future__ import annotations

import re
from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from connectors.cex.config import VenueConfig
from connectors.cex.credentials import ApiCredentials
from connectors.cex.profiles import profile_for
from crosslane.errors import InvalidRequest

_ORIGIN = re.compile(r"^(https?|wss?)://[^/]+")


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
    return exchange
