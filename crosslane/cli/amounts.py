"""Amounts a person types on the command line, read exactly (Decimal, never float) into base
units; a bad one exits 2 with one line naming the field.

Commands taking an amount as an argument accept ``-1`` as that argument (``NUMBER_ARGS``)
rather than as an unknown option, so a negative amount is refused for what it is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crosslane.cli.errors import fail
from crosslane.money import ETH_DECIMALS, GWEI_DECIMALS, parse_amount, parse_decimal

# click's documented way to let "-1" through to an argument (and any unknown option with it:
# the amount's own check then names what it got).
NUMBER_ARGS: dict[str, Any] = {"ignore_unknown_options": True}


def amount_arg(text: str, decimals: int, what: str, unit: str, *, allow_zero: bool = False) -> int:
    """``text`` whole ``unit`` in base units; exit 2 with ``<what> <problem>`` if it is not one."""
    base_unit = "wei" if unit in ("ETH", "gwei") else "base unit"
    try:
        return parse_amount(text, decimals, unit, base_unit, allow_zero=allow_zero)
    except ValueError as exc:
        raise fail(f"{what} {exc}", 2) from None


def quantity_arg(text: str, what: str) -> Decimal:
    """A positive CEX quantity or price, exactly."""
    try:
        return parse_decimal(text)
    except ValueError as exc:
        raise fail(f"{what} {exc}", 2) from None


def gwei_arg(text: str, what: str) -> int:
    """A fee per gas typed in gwei, as wei."""
    return amount_arg(text, GWEI_DECIMALS, what, "gwei")


def eth_value(value: str | None, value_wei: str | None) -> int:
    """``--value`` (ETH) or ``--value-wei``, as wei; 0 if neither."""
    if value is not None and value_wei is not None:
        raise fail("give --value (ETH) or --value-wei, not both", 2)
    if value_wei is not None:
        return amount_arg(value_wei, 0, "--value-wei", "wei", allow_zero=True)
    return amount_arg(value or "0", ETH_DECIMALS, "value", "ETH", allow_zero=True)
