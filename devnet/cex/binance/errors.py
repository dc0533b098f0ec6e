"""Binance error replies: ``{"code": -NNNN, "msg": "..."}`` with the codes and texts ccxt maps.

ccxt's binance class checks the exact message first (so "Account has insufficient balance
for requested action." becomes InsufficientFunds though its code -2010 alone means
InvalidOrder), then the code; bodies mentioning LOT_SIZE or PRICE_FILTER become InvalidOrder.
"""

from __future__ import annotations

from devnet.cex.engine import Reject


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status


def invalid_symbol() -> BinanceError:
    return BinanceError(-1121, "Invalid symbol.")


def mandatory(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def bad_value(name: str) -> BinanceError:
    return BinanceError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."
    )


def order_missing() -> BinanceError:
    return BinanceError(-2013, "Order does not exist.")


def cancel_rejected() -> BinanceError:
    return BinanceError(-2011, "Unknown order sent.")


API_KEY_FORMAT = BinanceError(-2014, "API-key format invalid.", 401)
API_KEY_INVALID = BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
BAD_SIGNATURE = BinanceError(-1022, "Signature for this request is not valid.")
OUTSIDE_RECV_WINDOW = BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
RECV_WINDOW_TOO_LARGE = BinanceError(-1131, "recvWindow must be less than 60000")

_REJECTS: dict[Reject, tuple[int, str]] = {
    Reject.UNKNOWN_SYMBOL: (-1121, "Invalid symbol."),
    Reject.PRICE_FILTER: (-1013, "Filter failure: PRICE_FILTER"),
    Reject.LOT_SIZE: (-1013, "Filter failure: LOT_SIZE"),
    Reject.MARKET_LOT_SIZE: (-1013, "Filter failure: MARKET_LOT_SIZE"),
    Reject.NOTIONAL: (-1013, "Filter failure: NOTIONAL"),
    Reject.INSUFFICIENT_BALANCE: (-2010, "Account has insufficient balance for requested action."),
    Reject.WOULD_TAKE: (-2010, "Order would immediately match and take."),
    Reject.DUPLICATE_CLIENT_ORDER_ID: (-2010, "Duplicate order sent."),
    Reject.MISSING_PRICE: (-1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
    Reject.MISSING_QUANTITY: (-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."),
}


def from_reject(reason: Reject) -> BinanceError:
    code, msg = _REJECTS[reason]
    return BinanceError(code, msg)
