"""Decimal parsing and the two wire spellings of a number.

Binance pads every decimal to its asset precision (``"0.10000000"``); OKX writes the
shortest exact form (``"0.1"``). Both come from the same ``Decimal``: never ``float``.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

ZERO = Decimal(0)


class BadNumber(ValueError):
    """A wire value that is not a finite decimal number."""


def parse_decimal(text: str | int | Decimal) -> Decimal:
    """``Decimal`` from a wire string; raises :class:`BadNumber` for NaN, inf and junk."""
    if isinstance(text, Decimal):
        value = text
    else:
        try:
            value = Decimal(str(text).strip())
        except InvalidOperation:
            raise BadNumber(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise BadNumber(f"not a finite number: {text!r}")
    return value


def fixed(value: Decimal, places: int = 8) -> str:
    """Binance style: exactly ``places`` decimals, truncated (``Decimal('1.5')`` → ``"1.50000000"``)."""
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_DOWN):f}"


def plain(value: Decimal) -> str:
    """OKX style: shortest exact form without exponent (``Decimal('1.50')`` → ``"1.5"``)."""
    if value == 0:
        return "0"
    text = f"{value.normalize():f}"
    return text


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of ``step`` not above ``value`` (``value`` ≥ 0)."""
    return (value // step) * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return value % step == 0
