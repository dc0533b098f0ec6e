"""The Binance spot dialect: REST ``/api/v3``, market and user streams, WebSocket API."""

from devnet.cex.binance.profile import PROFILE
from devnet.cex.binance.rest import BinanceDialect

__all__ = ["PROFILE", "BinanceDialect"]
