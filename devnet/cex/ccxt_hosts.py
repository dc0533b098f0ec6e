"""Point an unmodified ccxt exchange at a simulator: replace the origin of every API URL.

Same rule as ``connectors.cex.factory``: ``https://api.binance.com/api/v3`` becomes
``<rest_url>/api/v3`` and ``wss://stream.binance.com:9443/ws`` becomes ``<ws_url>/ws``. With
a venue's ``ws_url`` (``ws://127.0.0.1:P/stream``) ccxt.pro's binance finds ``/stream`` in
its spot socket URL, as it requires.
"""

from __future__ import annotations

import re
from typing import Any

SPOT_ONLY_OPTIONS: dict[str, Any] = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
}

_ORIGIN = re.compile(r"^(https?|wss?)://[^/]+")


def rehost(urls: Any, rest_url: str, ws_url: str) -> Any:
    """A copy of ccxt's (nested) ``urls['api']`` with every origin replaced."""
    if isinstance(urls, dict):
        return {k: rehost(v, rest_url, ws_url) for k, v in urls.items()}
    if isinstance(urls, list):
        return [rehost(v, rest_url, ws_url) for v in urls]
    if isinstance(urls, str):
        match = _ORIGIN.match(urls)
        if match is None:
            return urls
        target = ws_url if match.group(1).startswith("ws") else rest_url
        return target.rstrip("/") + urls[match.end() :]
    return urls


def point_at(exchange: Any, rest_url: str, ws_url: str) -> Any:
    """Rehost ``exchange.urls['api']`` in place; returns the exchange."""
    exchange.urls["api"] = rehost(exchange.urls["api"], rest_url, ws_url)
    return exchange
