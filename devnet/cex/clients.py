"""Unmodified ccxt clients for a simulator: only ``urls['api']`` origins and spot options changed."""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from connectors.cex.config import SPOT_ONLY_OPTIONS
from connectors.cex.factory import rehost


def ccxt_client(
    exchange: str,
    rest_url: str,
    ws_url: str,
    *,
    api_key: str | None = None,
    secret: str | None = None,
    password: str | None = None,
    pro: bool = False,
    **config: Any,
) -> Any:
    """``ccxt.async_support.<exchange>`` (or ``ccxt.pro``) pointed at a simulator.

    The configuration that works for both venues: ``enableRateLimit=False`` (tests; the
    simulator enforces its own limits), options ``{'fetchMarkets': {'types': ['spot']},
    'fetchCurrencies': False, 'fetchMargins': False}``, and every API URL's origin replaced.
    """
    module = ccxt_pro if pro else ccxt_async
    params: dict[str, Any] = {"enableRateLimit": False, "options": dict(SPOT_ONLY_OPTIONS), **config}
    if api_key is not None:
        params.update(apiKey=api_key, secret=secret)
        if password is not None:
            params["password"] = password
    client = getattr(module, exchange)(params)
    client.urls["api"] = rehost(client.urls["api"], rest_url, ws_url)
    return client
