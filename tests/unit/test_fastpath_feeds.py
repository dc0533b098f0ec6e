"""The book feed reads ccxt.pro's float levels straight into integer units; whatever it takes
that way is exactly what the text route (shortest decimal text, then parsing) gives, and what
the text route refuses (finer than the symbol's scale) it hands to the text route."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosslane.routing import SymbolScale
from crosslane.routing.book import VenueBook
from workers.fastpath.feeds import _text, _units

PRICE_DECIMALS, QTY_DECIMALS = 2, 8
SCALES = (10.0**PRICE_DECIMALS, 10.0**QTY_DECIMALS)


def text_route(levels: list[list[float]]) -> list[tuple[int, int]]:
    book = VenueBook("v", SymbolScale("BTC/USDT", PRICE_DECIMALS, QTY_DECIMALS))
    book.replace_text(_text(levels), [], update_id=1, ts_ms=1)
    return sorted(book.bids.levels.items())


def units_route(units: list[tuple[int, int]]) -> list[tuple[int, int]]:
    book = VenueBook("v", SymbolScale("BTC/USDT", PRICE_DECIMALS, QTY_DECIMALS))
    book.replace(units, [], update_id=1, ts_ms=1)
    return sorted(book.bids.levels.items())


decimal_text = st.builds(
    lambda units, decimals: str(Decimal(units).scaleb(-decimals)),
    st.integers(min_value=0, max_value=10**13),
    st.integers(min_value=0, max_value=12),
)


@given(st.lists(st.tuples(decimal_text, decimal_text), min_size=1, max_size=25))
def test_float_levels_give_the_text_routes_units_or_go_the_text_route(levels: list[tuple[str, str]]) -> None:
    floats = [[float(p), float(q)] for p, q in levels]
    units = _units(floats, *SCALES)
    try:
        expected = text_route(floats)
    except ValueError:  # finer than the scale: refused by the text route
        assert units is None
        return
    if units is not None:
        assert units_route(units) == expected


@pytest.mark.parametrize(
    ("level", "taken"),
    [
        ([65000.12, 0.5], True),
        ([65000.125, 0.5], False),  # a price finer than the tick
        ([65000.12, 0.000000001], False),  # a size finer than the step
        ([0.1 + 0.2, 1.0], False),  # 0.30000000000000004: not a two-decimal number
        ([1e14, 1.0], False),  # too many units to be sure of the float arithmetic
        ([65000.12, 0.5, "0", 3], True),  # OKX's extra fields are ignored
    ],
)
def test_what_is_taken_directly(level: list[float], taken: bool) -> None:
    units = _units([level], *SCALES)
    assert (units is not None) is taken
    if taken:
        assert units_route(units) == text_route([level[:2]])
