"""Amounts on Solana: int base units (lamports, token base units) on chain."""

from __future__ import annotations

from decimal import Decimal

from crosslane.errors import InvalidRequest
from crosslane.money import to_base_units

LAMPORTS_PER_SOL = 10**9
SOL_DECIMALS = 9
U64_MAX = 2**64 - 1


def positive_base_units(amount: int, field: str = "amount") -> int:
    """A positive u64 of base units (what SPL Token and the System program carry)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidRequest(f"{field}: expected an int of base units, got {type(amount).__name__}")
    if amount <= 0:
        raise InvalidRequest(f"{field}: must be positive, got {amount}")
    if amount > U64_MAX:
        raise InvalidRequest(f"{field}: {amount} does not fit in a u64")
    return amount


def token_units(amount: Decimal | str, decimals: int, field: str = "amount") -> int:
    """A human amount (``"12.5"``) as base units of a mint with ``decimals``; refuses more
    decimal places than the mint has, zero and negative amounts."""
    try:
        units = to_base_units(amount, decimals)
    except ValueError as exc:
        raise InvalidRequest(f"{field}: {exc} (the mint has {decimals} decimals)") from None
    return positive_base_units(units, field)
