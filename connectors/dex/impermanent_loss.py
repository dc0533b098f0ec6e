"""Impermanent loss: a liquidity position's value after a price move against simply holding
the tokens it started with. Pure functions; fees earned are not included.

Prices are token1 per token0 (any consistent unit: whole tokens or base units, since only
ratios matter). Values are relative to the position's value at entry (1 = what was put
in), both measured in token1 at the exit price. ``loss`` is ``value_lp / value_hold - 1``:
0 when the price has not moved, negative otherwise.

Decimal arithmetic at 50 significant digits (never ``float``): V2 and a full-range V3
position give the same figures to the last digit but rounding, ~1e-48.

    v2_impermanent_loss(Decimal(2)).loss                    # price doubled: -5.72%
    v3_impermanent_loss(Decimal(2700), Decimal(3300), Decimal(3000), Decimal("1.1")).loss
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from crosslane.errors import InvalidRequest

PRECISION = 50
TICK_BASE = Decimal("1.0001")

Number = Decimal | int | str


def _decimal(value: Number, what: str) -> Decimal:
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise InvalidRequest(f"{what} must be a Decimal, int or decimal string (never float), got {value!r}")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise InvalidRequest(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise InvalidRequest(f"{what} must be finite, got {value!r}")
    return number


@dataclass(frozen=True)
class ImpermanentLoss:
    """After the price moved by ``price_ratio`` (exit / entry):

    ``value_lp``: the position's value, per 1 of value at entry;
    ``value_hold``: the entry amounts' value, held instead, per 1 of value at entry;
    ``loss``: ``value_lp / value_hold - 1`` (<= 0).
    """

    price_ratio: Decimal
    value_lp: Decimal
    value_hold: Decimal
    loss: Decimal


def v2_impermanent_loss(price_ratio: Number) -> ImpermanentLoss:
    """A constant-product (50/50) position: ``loss = 2 * sqrt(r) / (1 + r) - 1``."""
    r = _decimal(price_ratio, "price_ratio")
    if r <= 0:
        raise InvalidRequest(f"price_ratio must be positive, got {r}")
    with localcontext() as ctx:
        ctx.prec = PRECISION
        value_hold = (1 + r) / 2  # half in each token at entry, token0 revalued by r
        value_lp = r.sqrt()  # k constant: both reserves scale by sqrt(r) in value
        return ImpermanentLoss(r, +value_lp, +value_hold, value_lp / value_hold - 1)


def _amounts(price: Decimal, lower: Decimal, upper: Decimal | None) -> tuple[Decimal, Decimal]:
    """(token0, token1) per unit of liquidity at ``price`` for the range [lower, upper]."""
    clamped = max(price, lower)
    if upper is not None:
        clamped = min(clamped, upper)
    sqrt_p = clamped.sqrt()
    amount0 = 1 / sqrt_p - (0 if upper is None else 1 / upper.sqrt())
    amount1 = sqrt_p - lower.sqrt()
    return amount0, amount1


def v3_impermanent_loss(
    price_lower: Number, price_upper: Number | None, price_entry: Number, price_ratio: Number
) -> ImpermanentLoss:
    """A concentrated position over [price_lower, price_upper] entered at ``price_entry``,
    after the price moves to ``price_entry * price_ratio``.

    ``price_lower = 0`` and ``price_upper = None`` is the full range (equal to V2). Out of
    range the position is all token0 (below) or all token1 (above), so the loss stops
    growing past the far bound on the way up and keeps the token0 exposure on the way down.
    """
    lower = _decimal(price_lower, "price_lower")
    upper = None if price_upper is None else _decimal(price_upper, "price_upper")
    entry = _decimal(price_entry, "price_entry")
    r = _decimal(price_ratio, "price_ratio")
    if lower < 0 or entry <= 0 or r <= 0:
        raise InvalidRequest("prices and the price ratio must be positive (price_lower may be 0)")
    if upper is not None and upper <= lower:
        raise InvalidRequest(f"price_upper {upper} must be above price_lower {lower}")
    with localcontext() as ctx:
        ctx.prec = PRECISION
        exit_price = entry * r
        x0, y0 = _amounts(entry, lower, upper)
        x1, y1 = _amounts(exit_price, lower, upper)
        value_entry = x0 * entry + y0
        value_lp = (x1 * exit_price + y1) / value_entry
        value_hold = (x0 * exit_price + y0) / value_entry
        return ImpermanentLoss(r, value_lp, value_hold, value_lp / value_hold - 1)


def tick_price(tick: int) -> Decimal:
    """1.0001^tick: the raw price (token1 base units per token0 base unit) at a V3 tick."""
    if isinstance(tick, bool) or not isinstance(tick, int):
        raise InvalidRequest(f"tick must be an int, got {tick!r}")
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return TICK_BASE**tick


def v3_impermanent_loss_ticks(
    tick_lower: int, tick_upper: int, tick_entry: int, price_ratio: Number
) -> ImpermanentLoss:
    """:func:`v3_impermanent_loss` for a range given in ticks, entered at ``tick_entry``."""
    return v3_impermanent_loss(tick_price(tick_lower), tick_price(tick_upper), tick_price(tick_entry), price_ratio)
