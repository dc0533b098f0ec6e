"""Refuse an order the venue would refuse, before it is sent, with a message that says why."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from connectors.cex.profiles import PrecisionMode
from crosslane.errors import InvalidRequest


@lru_cache(maxsize=4096, typed=True)  # a market's few filter values, parsed once (twice an order before)
def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _check_steps(symbol: str, market: dict[str, Any], amount: Decimal, price: Decimal | None) -> None:
    """TICK_SIZE: amount and price are multiples of their steps."""
    step = _dec(market["precision"].get("amount"))
    if step and amount % step != 0:
        raise InvalidRequest(f"{symbol}: amount {amount} is not a multiple of the step {step}")
    tick = _dec(market["precision"].get("price"))
    if price is not None and tick and price % tick != 0:
        raise InvalidRequest(f"{symbol}: price {price} is not a multiple of the tick {tick}")


def _check_digits(symbol: str, market: dict[str, Any], amount: Decimal, price: Decimal | None) -> None:
    """SIGNIFICANT_DIGITS (Bitfinex): the price has at most N significant digits, the amount at
    most M decimal places."""
    decimals = market["precision"].get("amount")
    if decimals is not None and -amount.normalize().as_tuple().exponent > int(decimals):
        raise InvalidRequest(f"{symbol}: amount {amount} has more than {int(decimals)} decimal places")
    digits = market["precision"].get("price")
    if price is not None and digits is not None:
        significant = len(price.normalize().as_tuple().digits)  # normalize() drops trailing zeros
        if significant > int(digits):
            raise InvalidRequest(f"{symbol}: price {price} has more than {int(digits)} significant digits")


def check_order(
    market: dict[str, Any],
    side: str,
    order_type: str,
    amount: Decimal,
    price: Decimal | None,
    *,
    precision_mode: PrecisionMode = PrecisionMode.TICK_SIZE,
    reference_price: Decimal | None = None,
) -> None:
    """``market`` is a ccxt market whose precision follows ``precision_mode``. A market order's
    notional is checked at ``reference_price`` (the book's price it is expected to fill at);
    without one its notional is not checked here."""
    symbol = market["symbol"]
    if side not in ("buy", "sell"):
        raise InvalidRequest(f"side must be buy or sell, not {side!r}")
    if amount <= 0:
        raise InvalidRequest(f"{symbol}: amount must be positive, got {amount}")
    if order_type == "market":
        if price is not None:
            raise InvalidRequest(f"{symbol}: a market order takes no price")
    elif price is None or price <= 0:
        raise InvalidRequest(f"{symbol}: a {order_type} order needs a positive price")
    if precision_mode is PrecisionMode.SIGNIFICANT_DIGITS:
        _check_digits(symbol, market, amount, price)
    else:
        _check_steps(symbol, market, amount, price)
    min_amount = _dec(market["limits"]["amount"].get("min"))
    if min_amount and amount < min_amount:
        raise InvalidRequest(f"{symbol}: amount {amount} is below the venue minimum {min_amount}")
    at = price if order_type != "market" else reference_price
    min_cost = _dec(market["limits"].get("cost", {}).get("min"))
    if at is not None and min_cost and amount * at < min_cost:
        raise InvalidRequest(f"{symbol}: notional {amount * at} is below the venue minimum {min_cost}")
