"""Kraken error replies: ``{"error": ["<Severity><Category>:<Message>"], "result": ...}``.

Kraken answers HTTP 200 for business and authentication failures alike and puts the reason
in the ``error`` array as a string such as ``EOrder:Insufficient funds``; ccxt maps the
strings (exactly, then broadly) to its exceptions. A signature made with the wrong secret
is reported like an unknown key: ``EAPI:Invalid key``.
"""

from __future__ import annotations

from devnet.cex.engine import Reject


class KrakenError(Exception):
    def __init__(self, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


INVALID_KEY = "EAPI:Invalid key"
INVALID_NONCE = "EAPI:Invalid nonce"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ASSET = "EQuery:Unknown asset"
UNKNOWN_ORDER = "EOrder:Unknown order"
INVALID_ORDER = "EOrder:Invalid order"
INSUFFICIENT_FUNDS = "EOrder:Insufficient funds"
ORDER_MINIMUM = "EOrder:Order minimum not met"
COST_MINIMUM = "EOrder:Cost minimum not met"
API_RATE_LIMIT = "EAPI:Rate limit exceeded"
ORDER_RATE_LIMIT = "EOrder:Rate limit exceeded"
UNAVAILABLE = "EService:Unavailable"
DUPLICATE_CL_ORD_ID = "EOrder:Duplicate cl_ord_id"


def argument(name: str) -> KrakenError:
    """``EGeneral:Invalid arguments:<name>`` (ccxt: BadRequest, or InvalidOrder for volume)."""
    return KrakenError(f"{INVALID_ARGUMENTS}:{name}")


def price_decimals(altname: str, decimals: int) -> KrakenError:
    return KrakenError(f"EOrder:Invalid price:{altname} price can only be specified up to {decimals} decimals.")


def from_reject(reason: Reject, altname: str, pair_decimals: int) -> KrakenError:
    """The error string of an order the engine refused."""
    if reason is Reject.PRICE_FILTER:
        return price_decimals(altname, pair_decimals)
    return KrakenError(
        {
            Reject.UNKNOWN_SYMBOL: UNKNOWN_PAIR,
            Reject.LOT_SIZE: ORDER_MINIMUM,
            Reject.MARKET_LOT_SIZE: ORDER_MINIMUM,
            Reject.NOTIONAL: COST_MINIMUM,
            Reject.INSUFFICIENT_BALANCE: INSUFFICIENT_FUNDS,
            Reject.DUPLICATE_CLIENT_ORDER_ID: DUPLICATE_CL_ORD_ID,
            Reject.MISSING_PRICE: f"{INVALID_ARGUMENTS}:price",
            Reject.MISSING_QUANTITY: f"{INVALID_ARGUMENTS}:volume",
            Reject.WOULD_TAKE: "EOrder:Post only order",
        }[reason]
    )
