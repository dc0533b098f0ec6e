"""crosslane.money: the one place amounts change representation, exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crosslane.money import (
    BPS,
    GWEI,
    UINT256_MAX,
    bump,
    format_amount,
    format_gwei,
    from_base_units,
    gwei,
    parse_amount,
    parse_decimal,
    to_base_units,
)


@pytest.mark.parametrize(
    ("amount", "decimals", "base"),
    [
        ("1", 18, 10**18),
        ("1.5", 6, 1_500_000),
        ("0.000001", 6, 1),
        ("123456789.12345678", 8, 12_345_678_912_345_678),
        ("0", 18, 0),
        ("1e3", 6, 1_000_000_000),
        ("1.000000", 6, 1_000_000),  # trailing zeros are not extra precision
        (Decimal("0.1"), 18, 10**17),
        # more significant digits than Decimal's default 28-digit context: 10 billion tokens
        # of an 18-decimal token; must not be rounded
        ("12345678901.123456789012345678", 18, 12_345_678_901_123_456_789_012_345_678),
        ("115792089237316195423570985008687907853269984665640564039457.584007913129639935", 18, UINT256_MAX),
    ],
)
def test_to_base_units_is_exact(amount: Decimal | str, decimals: int, base: int) -> None:
    assert to_base_units(amount, decimals) == base
    assert isinstance(to_base_units(amount, decimals), int)


@pytest.mark.parametrize(
    ("amount", "decimals"),
    [
        ("0.0000001", 6),
        ("1.123456789", 8),
        ("0.1", 0),
        ("1e-19", 18),
        ("12345678901.1234567890123456789", 18),  # the 19th decimal hides past 28 digits
    ],
)
def test_to_base_units_refuses_extra_precision(amount: str, decimals: int) -> None:
    with pytest.raises(ValueError, match=f"more than {decimals} decimal places"):
        to_base_units(amount, decimals)


@pytest.mark.parametrize("junk", ["", "abc", "1,5", "0x10", "1.2.3"])
def test_to_base_units_refuses_non_numbers(junk: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        to_base_units(junk, 6)


@pytest.mark.parametrize("special", ["NaN", "sNaN", "Infinity", "-Infinity", "inf"])
def test_to_base_units_refuses_non_finite_amounts(special: str) -> None:
    """A CLI option typed ``Decimal`` accepts "inf" and "nan"; they must fail as bad input."""
    with pytest.raises(ValueError):
        to_base_units(special, 6)


def test_from_base_units_is_exact_and_round_trips() -> None:
    assert from_base_units(1_500_000, 6) == Decimal("1.5")
    assert from_base_units(1, 18) == Decimal("1e-18")
    assert from_base_units(UINT256_MAX, 18) == Decimal(
        "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
    )
    for base, decimals in [(1, 18), (10**18 + 1, 18), (UINT256_MAX, 6), (0, 8), (123, 0)]:
        assert to_base_units(from_base_units(base, decimals), decimals) == base


def test_gwei_conversions() -> None:
    assert gwei(1) == GWEI
    assert gwei("1.5") == 1_500_000_000
    assert gwei(Decimal("0.000000001")) == 1
    with pytest.raises(ValueError):
        gwei("0.0000000001")  # below one wei
    assert format_gwei(1_500_000_000) == "1.5 gwei"
    assert format_gwei(100 * GWEI) == "100 gwei"
    assert format_gwei(1) == "0.000000001 gwei"
    assert format_gwei(0) == "0 gwei"


@pytest.mark.parametrize(
    ("wei", "bps", "expected"),
    [
        (100, 1250, 113),  # 112.5 rounds up
        (8, 1250, 9),  # 9.0 exactly
        (7, 1250, 8),  # 7.875 rounds up
        (1, 1250, 2),
        (0, 1250, 0),
        (100, 0, 100),
        (100, BPS, 200),
        (10 * GWEI, 1000, 11 * GWEI),
        (UINT256_MAX, 1250, -(-UINT256_MAX * (BPS + 1250) // BPS)),  # exact at any size
    ],
)
def test_bump_rounds_up(wei: int, bps: int, expected: int) -> None:
    assert bump(wei, bps) == expected
    # nodes accept a replacement when new >= old * (1 + bump): the result must pass that check
    assert bump(wei, bps) * BPS >= wei * (BPS + bps)
    assert (bump(wei, bps) - 1) * BPS < wei * (BPS + bps) or wei == 0


@pytest.mark.parametrize(
    ("amount", "decimals", "symbol", "text"),
    [
        (249_975_000, 6, "USDC", "249.975 USDC"),
        (1_000_000_000, 6, "Wormhole:devnet-a:USDC", "1000 Wormhole:devnet-a:USDC"),
        (10**16, 18, "ETH", "0.01 ETH"),
        (1, 18, "ETH", "0.000000000000000001 ETH"),  # never 1E-18
        (0, 6, "USDC", "0 USDC"),
        (UINT256_MAX, 18, "X", "115792089237316195423570985008687907853269984665640564039457.584007913129639935 X"),
    ],
)
def test_format_amount_is_exact_with_the_symbol(amount: int, decimals: int, symbol: str, text: str) -> None:
    assert format_amount(amount, decimals, symbol) == text


@pytest.mark.parametrize(
    ("text", "decimals", "unit", "base_unit", "message"),
    [
        ("0.0000000001", 9, "gwei", "wei", "0.0000000001 gwei is below 1 wei (gwei has 9 decimals)"),
        ("1.0000000001", 9, "gwei", "wei", "1.0000000001 gwei is finer than 1 wei (gwei has 9 decimals)"),
        ("-1", 6, "USDC", "base unit", "must be positive, got -1"),
        ("0", 6, "USDC", "base unit", "must be positive, got 0"),
        ("abc", 6, "USDC", "base unit", "'abc' is not a number"),
        ("NaN", 6, "USDC", "base unit", "'NaN' is not a finite number"),
        ("1.5", 0, "wei", "wei", "1.5 is not a whole number of wei"),
    ],
)
def test_parse_amount_refuses_in_words_that_follow_the_field(
    text: str, decimals: int, unit: str, base_unit: str, message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        parse_amount(text, decimals, unit, base_unit)
    assert str(refused.value) == message


def test_parse_amount_is_exact() -> None:
    assert parse_amount("0.001", 18, "ETH") == 10**15
    assert parse_amount(" 1e3 ", 6, "USDC") == 10**9
    assert parse_amount("0", 18, "ETH", allow_zero=True) == 0
    assert parse_amount("12345678901.123456789012345678", 18, "ETH") == 12_345_678_901_123_456_789_012_345_678
    with pytest.raises(ValueError, match="must be zero or more, got -5"):
        parse_amount("-5", 18, "ETH", allow_zero=True)
    assert parse_decimal("0.5") == Decimal("0.5")


@pytest.mark.parametrize(
    ("amount", "decimals"),
    [
        ("1", 18),
        ("1.5", 6),
        ("1e3", 6),
        ("-2.25", 2),
        ("12345678901.123456789012345678", 18),
        ("115792089237316195423570985008687907853269984665640564039457.584007913129639935", 18),
        ("0.0000001", 6),
        ("12345678901.1234567890123456789", 18),  # the 19th decimal hides past 28 digits
        ("NaN", 6),
        ("Infinity", 6),
    ],
)
def test_a_decimal_converts_as_its_text_does(amount: str, decimals: int) -> None:
    """A Decimal takes a shorter route than text (no local context): same units, same refusals."""
    try:
        expected: int | str = to_base_units(amount, decimals)
    except ValueError as exc:
        expected = type(exc).__name__
    try:
        got: int | str = to_base_units(Decimal(amount), decimals)
    except ValueError as exc:
        got = type(exc).__name__
    assert got == expected
