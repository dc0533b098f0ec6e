"""The one place where amounts change representation.

On-chain amounts are ``int`` base units (wei for gas); CEX amounts are ``Decimal``.
``float`` never carries money.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation, localcontext

GWEI = 10**9
GWEI_DECIMALS = 9
ETH_DECIMALS = 18
UINT256_MAX = 2**256 - 1
BPS = 10_000
_PRECISION = 100  # digits: uint256 has 78, so no amount is ever rounded
_EXACT = Context(prec=_PRECISION)
_POWERS_OF_TEN = tuple(10**n for n in range(_PRECISION + 1))


def to_base_units(amount: Decimal | str, decimals: int) -> int:
    """Exact conversion of a human amount to base units; refuses sub-unit precision."""
    if type(amount) is Decimal and amount.is_finite():  # the common case, without a localcontext (~4x faster)
        scaled = amount.scaleb(decimals, _EXACT)
        if scaled == scaled.to_integral_value(context=_EXACT):
            return int(scaled)
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
    return to_base_units(Decimal(amount), GWEI_DECIMALS)


def format_gwei(wei: int) -> str:
    return format_amount(wei, GWEI_DECIMALS, "gwei")


def bump(wei: int, bps: int) -> int:
    """``wei`` raised by ``bps`` basis points, rounded up (nodes compare with >=)."""
    return -(-wei * (BPS + bps) // BPS)


def parse_base_units(text: str, decimals: int) -> int:
    """``to_base_units`` for the plain decimal strings exchanges send (``"65000.10"``), fast.

    Market-data feeds deliver thousands of price levels a second; building a ``Decimal`` for
    each one dominates their cost. Plain ``digits[.digits]`` text is converted with string
    and ``int`` operations only (trailing zeros past ``decimals`` are accepted, as exchanges
    pad to a fixed width); anything else (exponents, signs, spaces) goes through
    :func:`to_base_units`. Same result and the same ``ValueError`` as :func:`to_base_units`.
    """
    whole, _, frac = text.partition(".")
    if len(frac) > decimals:
        frac = frac.rstrip("0")
    if len(frac) <= decimals and whole.isdigit() and (not frac or frac.isdigit()):
        try:
            return int(whole + frac + "0" * (decimals - len(frac)))
        except ValueError:  # a Unicode digit int() refuses; let Decimal decide
            pass
    return to_base_units(text, decimals)


def from_base_units_compact(amount: int, decimals: int) -> Decimal:
    """:func:`from_base_units` without trailing fractional zeros (``0.5``, not ``0.50000000``),
    for amounts held at a finer scale than their value needs (routing's prices, fees, averages).

    Exact, and built with a shared context rather than ``localcontext`` because the fast path
    converts a dozen amounts per order.
    """
    whole, fraction = divmod(amount, _POWERS_OF_TEN[decimals])
    if not fraction:
        return Decimal(whole)  # normalize() would write 100 as 1E+2
    return Decimal(amount).scaleb(-decimals, _EXACT).normalize(_EXACT)


def compact(value: Decimal) -> Decimal:
    """``value`` without trailing fractional zeros (``100``, not ``100.00000000`` or ``1E+2``)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def format_amount(amount: int, decimals: int, symbol: str) -> str:
    """``amount`` base units as exact whole tokens with their symbol: ``249.975 USDC``, ``0.01 ETH``."""
    return f"{from_base_units_compact(amount, decimals):f} {symbol}"



def parse_decimal(text: str, *, allow_zero: bool = False) -> Decimal:
    """A typed number (a CEX quantity, a price), exactly; ValueError worded to follow the
    field's name if it is not a finite number or is negative (or zero unless ``allow_zero``)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"must be {'zero or more' if allow_zero else 'positive'}, got {text}")
    return value


def parse_amount(text: str, decimals: int, unit: str, base_unit: str = "base unit", *, allow_zero: bool = False) -> int:
    """A typed amount of whole ``unit`` (``"0.25"`` ETH, ``"1.5"`` gwei) in base units, exactly.

    ValueError as :func:`parse_decimal`'s, or if finer than one ``base_unit``
    (``0.0000000001 gwei is below 1 wei (gwei has 9 decimals)``).
    """
    scaled = parse_decimal(text, allow_zero=allow_zero).scaleb(decimals, _EXACT)
    if scaled == scaled.to_integral_value():
        return int(scaled)
    if decimals == 0:
        raise ValueError(f"{text} is not a whole number of {unit}")
    finer = "is below" if scaled < 1 else "is finer than"
    raise ValueError(f"{text} {unit} {finer} 1 {base_unit} ({unit} has {decimals} decimals)")
