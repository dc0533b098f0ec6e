"""Refuse an order the venue would refuse, before it is sent, with a message that says why."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crosslane.errors import InvalidRequest


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def check_order(market: dict[str, Any], side: str, order_type: str, amount: Decimal, price: Decimal | None) -> None:
    """``market`` is a ccxt market (TICK_SIZE precision: precision values are steps)."""
    symbol = market["symbol"]
    if side not in ("buy", "sell"):
        raise InvalidRequest(f"side must be buy or sell, not {side!r}")
    if amount <= 0:
        raise InvalidRequest(f"{symbol}: amount must be positive, got {amount}")
    step = _dec(market["precision"].get("amount"))
    if step and amount % step != 0:
        raise InvalidRequest(f"{symbol}: amount {amount} is not a multiple of the step {step}")
    min_amount = _dec(market["limits"]["amount"].get("min"))
    if min_amount and amount < min_amount:
        raise InvalidRequest(f"{symbol}: amount {amount} is below the venue minimum {min_amount}")
    if order_type == "market":
        if price is not None:
            raise InvalidRequest(f"{symbol}: a market order takes no price")
        return
    if price is None or price <= 0:
        raise InvalidRequest(f"{symbol}: a {order_type} order needs a positive price")
    tick = _dec(market["precision"].get("price"))
    if tick and price % tick != 0:
        raise InvalidRequest(f"{symbol}: price {price} is not a multiple of the tick {tick}")
    min_cost = _dec(market["limits"].get("cost", {}).get("min"))
    if min_cost and amount * price < min_cost:
        raise InvalidRequest(f"{symbol}: notional {amount * price} is below the venue minimum {min_cost}")
