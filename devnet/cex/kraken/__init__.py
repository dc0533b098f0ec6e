"""The Kraken spot dialect: REST ``/0/public`` and ``/0/private``, websocket v2."""

from devnet.cex.kraken.profile import PROFILE
from devnet.cex.kraken.rest import KrakenDialect

__all__ = ["PROFILE", "KrakenDialect"]
