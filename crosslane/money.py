"""The one place where amounts change representation.

On-chain amounts are ``int`` base units (wei for gas); CEX amounts are ``Decimal``.
``float`` never carries money.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation, localcontext

GWEI = 10**9
UINT256_MAX = 2**256 - 1
BPS = 10_000
_PRECISION = 100  # digits: uint256 has 78, so no amount is ever rounded


def to_base_units(amount: Decimal | str, decimals: int) -> int:
    """Exact conversion of a human amount to base units; refuses sub-unit precision."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise ValueError(f"not a number: {amount!r}") from None
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {amount!r}")
        scaled = value.scaleb(decimals)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{amount} has more than {decimals} decimal places")
        return int(scaled)


def from_base_units(amount: int, decimals: int) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return Decimal(amount).scaleb(-decimals)


def gwei(amount: Decimal | str | int) -> int:
    """Gwei to wei, exactly."""
    return to_base_units(Decimal(amount), 9)


def format_gwei(wei: int) -> str:
    return f"{from_base_units(wei, 9).normalize():f} gwei"


def bump(wei: int, bps: int) -> int:
    """``wei`` raised by ``bps`` basis points, rounded up (nodes compare with >=)."""
    return -(-wei * (BPS + bps) // BPS)
