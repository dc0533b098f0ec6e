"""OKX error replies: ``{"code", "msg", "data"}`` envelopes with the codes ccxt maps.

Business failures come back as HTTP 200 with a non-zero ``code``; order endpoints put the
per-order reason in ``data[i].sCode``/``sMsg`` under ``code: "1"``. Authentication
failures are HTTP 401 (``{"msg", "code"}`` only); an endpoint OKX does not offer is HTTP 410
with code 50005 and a wrong method HTTP 400 with 50115, both in the envelope.
"""

from __future__ import annotations

from devnet.cex.engine import Reject


class OkxError(Exception):
    def __init__(self, code: str, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status


def parameter(name: str) -> OkxError:
    return OkxError("51000", f"Parameter {name} error")


def instrument_missing() -> OkxError:
    return OkxError("51001", "Instrument ID does not exist.")


def order_missing() -> OkxError:
    return OkxError("51603", "Order does not exist.")


KEY_EMPTY = OkxError("50103", "Request header OK-ACCESS-KEY can not be empty.", 401)
PASSPHRASE_EMPTY = OkxError("50104", "Request header OK-ACCESS-PASSPHRASE can not be empty.", 401)
PASSPHRASE_WRONG = OkxError("50105", "Request header OK-ACCESS-PASSPHRASE incorrect.", 401)
SIGN_EMPTY = OkxError("50106", "Request header OK-ACCESS-SIGN can not be empty.", 401)
TIMESTAMP_EMPTY = OkxError("50107", "Request header OK-ACCESS-TIMESTAMP can not be empty.", 401)
KEY_INVALID = OkxError("50111", "Invalid OK-ACCESS-KEY.", 401)
TIMESTAMP_INVALID = OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401)
SIGN_INVALID = OkxError("50113", "Invalid Sign.", 401)
TIMESTAMP_EXPIRED = OkxError("50102", "Timestamp request expired.", 401)

ENDPOINT_UNAVAILABLE = OkxError("50005", "API is offline or unavailable.", 410)
METHOD_INVALID = OkxError("50115", "Invalid request method.", 400)

CANCEL_MISSING = ("51400", "Order cancellation failed as the order has been filled, canceled or does not exist.")


def from_reject(reason: Reject, base: str, quote: str, buy: bool) -> tuple[str, str]:
    """(sCode, sMsg) of a refused order."""
    if reason is Reject.INSUFFICIENT_BALANCE:
        return "51008", f"Order failed. Insufficient {quote if buy else base} balance in account."
    return {
        Reject.UNKNOWN_SYMBOL: ("51001", "Instrument ID does not exist."),
        Reject.PRICE_FILTER: ("51000", "Parameter px error"),
        Reject.LOT_SIZE: ("51121", "Order quantity must be a multiple of the lot size."),
        Reject.MARKET_LOT_SIZE: ("51121", "Order quantity must be a multiple of the lot size."),
        Reject.NOTIONAL: ("51020", "Your order should meet or exceed the minimum order amount."),
        Reject.DUPLICATE_CLIENT_ORDER_ID: ("51016", "Duplicated clOrdId."),
        Reject.MISSING_PRICE: ("51000", "Parameter px error"),
        Reject.MISSING_QUANTITY: ("51000", "Parameter sz error"),
        Reject.WOULD_TAKE: ("51000", "Parameter ordType error"),
    }[reason]
