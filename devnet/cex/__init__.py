"""Exchange simulators that speak real dialects (Binance spot, OKX v5, Kraken spot), so unmodified ccxt talks to them.

Layers, bottom up:

- :mod:`devnet.cex.engine`: the matching engine (pure): books, orders, fees, balances;
- :mod:`devnet.cex.venue`: one venue's live state (engine, API keys, limits, faults, event bus);
- :mod:`devnet.cex.binance`, :mod:`devnet.cex.okx`, :mod:`devnet.cex.kraken`: the dialects (REST, websockets, errors);
- :mod:`devnet.cex.server`: the aiohttp server of a venue, with :mod:`~devnet.cex.admin` endpoints
  and the :mod:`~devnet.cex.market_maker` bot;
- ``python -m devnet.cex`` and :mod:`devnet.cex.launcher`: the devnet processes.

In-process (tests)::

    from devnet.cex import VenueServer, MarketMakerConfig, ccxt_client

    async with VenueServer("binance", market_maker=MarketMakerConfig()) as server:
        key = server.add_account("alice")                    # funded with DEFAULT_BALANCES
        ex = ccxt_client("binance", server.rest_url, server.ws_url,
                         api_key=key.api_key, secret=key.secret, pro=True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devnet.cex.clients import ccxt_client
    from devnet.cex.market_maker import MarketMakerConfig
    from devnet.cex.server import VenueServer

__all__ = ["MarketMakerConfig", "VenueServer", "ccxt_client"]

_LAZY = {
    "VenueServer": "devnet.cex.server",
    "MarketMakerConfig": "devnet.cex.market_maker",
    "ccxt_client": "devnet.cex.clients",
}


def __getattr__(name: str) -> Any:
    # Lazy, so `devnet.manager` (and the CLI behind it) does not pay for aiohttp and ccxt imports.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
