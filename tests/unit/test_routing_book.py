"""crosslane.routing books: incremental updates, snapshots, crossed and stale checks, and the
fast text parser the feeds go through."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crosslane.money import from_base_units, from_base_units_compact, parse_base_units, to_base_units
from crosslane.routing import SymbolScale, VenueBook

SCALE = SymbolScale("BTC/USDT", price_decimals=2, qty_decimals=5)


def test_levels_are_kept_best_first_and_zero_removes() -> None:
    book = VenueBook("binance", SCALE)
    book.replace_text([["99.98", "2"], ["99.99", "1"]], [["100.01", "2"], ["100.00", "1"]], update_id=10, ts_ms=1)
    assert book.best_bid() == Decimal("99.99") and book.best_ask() == Decimal("100.00")
    assert book.depth(is_bid=True, levels=5) == [(Decimal("99.99"), Decimal(1)), (Decimal("99.98"), Decimal(2))]

    assert book.apply_text([["99.99", "0"], ["99.97", "3.5"]], [["100.00", "0.25"]], update_id=11, ts_ms=2)
    assert book.depth(is_bid=True, levels=5) == [(Decimal("99.98"), Decimal(2)), (Decimal("99.97"), Decimal("3.5"))]
    assert book.depth(is_bid=False, levels=1) == [(Decimal("100.00"), Decimal("0.25"))]
    assert (book.update_id, book.ts_ms) == (11, 2)

    # removing a level that is not there is a no-op, not an error (venues send those)
    assert book.apply_text([["50.00", "0"]], [], update_id=12, ts_ms=3)
    assert len(book.bids) == 2


def test_updates_not_newer_than_the_book_are_refused() -> None:
    book = VenueBook("binance", SCALE)
    book.replace_text([["99.99", "1"]], [["100.00", "1"]], update_id=10, ts_ms=1)
    assert not book.apply_text([["99.99", "0"]], [], update_id=10, ts_ms=2)
    assert not book.apply_text([["99.99", "0"]], [], update_id=9, ts_ms=2)
    assert book.best_bid() == Decimal("99.99") and book.ts_ms == 1


def test_crossed_book_is_detected() -> None:
    book = VenueBook("okx", SCALE)
    book.replace_text([["100.00", "1"]], [["100.01", "1"]], update_id=1, ts_ms=1)
    assert not book.is_crossed()
    book.apply_text([["100.01", "1"]], [], update_id=2, ts_ms=2)  # bid at the ask: locked, treated as crossed
    assert book.is_crossed()
    book.apply_text([["100.01", "0"], ["100.00", "0"]], [], update_id=3, ts_ms=3)
    assert not book.is_crossed()  # an empty side is never crossed


def test_stale_book_is_detected() -> None:
    book = VenueBook("okx", SCALE)
    assert book.is_stale(now_ms=0, max_age_ms=1_000)  # never filled
    book.replace_text([["100.00", "1"]], [["100.01", "1"]], update_id=1, ts_ms=10_000)
    assert not book.is_stale(now_ms=11_000, max_age_ms=1_000)
    assert book.is_stale(now_ms=11_001, max_age_ms=1_000)
    assert book.age_ms(11_001) == 1_001


def test_levels_finer_than_the_scale_or_negative_are_refused() -> None:
    book = VenueBook("okx", SCALE)
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        book.replace_text([["100.001", "1"]], [], update_id=1, ts_ms=1)
    with pytest.raises(ValueError, match="invalid level"):
        book.replace([(10_000, -1)], [], update_id=1, ts_ms=1)
    with pytest.raises(ValueError, match="invalid level"):
        book.apply([(0, 1)], [], update_id=2, ts_ms=1)


def test_exchange_level_formats_are_accepted() -> None:
    book = VenueBook("binance", SCALE)
    book.replace_text([["65000.12000000", "0.12345000"]], [], update_id=1, ts_ms=1)  # Binance pads to 8
    book.apply_text([], [["65001.5", "2", "0", "3"]], update_id=2, ts_ms=2)  # OKX: price, size, 0, orders
    assert book.bids.levels == {6_500_012: 12_345}
    assert book.asks.levels == {6_500_150: 200_000}


# -- incremental updates against a plain model ----------------------------------------------

prices = st.integers(min_value=1, max_value=400)
quantities = st.integers(min_value=0, max_value=50)  # 0 removes
changes = st.lists(st.tuples(st.booleans(), prices, quantities), max_size=300)


@given(snapshot=st.lists(st.tuples(st.booleans(), prices, quantities), max_size=40), updates=changes)
def test_incremental_updates_match_a_model(snapshot: list[tuple[bool, int, int]], updates: list) -> None:
    book = VenueBook("v", SCALE)
    model: dict[bool, dict[int, int]] = {True: {}, False: {}}
    for is_bid, price, qty in snapshot:
        model[is_bid][price] = qty
    book.replace([(p, q) for p, q in model[True].items()], [(p, q) for p, q in model[False].items()], 1, 0)
    model = {side: {p: q for p, q in levels.items() if q} for side, levels in model.items()}

    for update_id, (is_bid, price, qty) in enumerate(updates, start=2):
        change = [(price, qty)]
        book.apply(change if is_bid else [], [] if is_bid else change, update_id, update_id)
        if qty:
            model[is_bid][price] = qty
        else:
            model[is_bid].pop(price, None)

    assert book.bids.top(10_000) == sorted(model[True].items(), reverse=True)
    assert book.asks.top(10_000) == sorted(model[False].items())
    assert book.bids.best() == max(model[True], default=None)
    assert book.asks.best() == min(model[False], default=None)
    assert len(book.bids.ranks) == len(model[True]) and len(book.asks.ranks) == len(model[False])


# -- the feed parser is to_base_units, only faster ---------------------------------------

@given(
    value=st.decimals(min_value=0, max_value=10**12, places=8, allow_nan=False, allow_infinity=False),
    decimals=st.integers(min_value=0, max_value=10),
    pad=st.integers(min_value=0, max_value=4),
)
def test_parse_base_units_agrees_with_to_base_units(value: Decimal, decimals: int, pad: int) -> None:
    text = f"{value:f}"
    if pad:
        text += ("" if "." in text else ".") + "0" * pad
    try:
        expected: int | type[ValueError] = to_base_units(text, decimals)
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            parse_base_units(text, decimals)
    else:
        assert parse_base_units(text, decimals) == expected


@pytest.mark.parametrize("text", ["1e3", "-1.5", " 1.5", "1.5 ", ".5", "1.", "+2"])
def test_parse_base_units_falls_back_for_unusual_text(text: str) -> None:
    assert parse_base_units(text, 4) == to_base_units(text, 4)


@pytest.mark.parametrize("text", ["", ".", "-", "1.2.3", "abc", "1.-5", "nan", "inf"])
def test_parse_base_units_refuses_non_numbers(text: str) -> None:
    with pytest.raises(ValueError):
        parse_base_units(text, 4)


@pytest.mark.parametrize(
    ("units", "decimals", "expected"),
    [(6_500_012_000_000, 8, "65000.12"), (100, 0, "100"), (100, 2, "1"), (1_500, 3, "1.5"), (0, 8, "0"),
     (-1_500, 3, "-1.5"), (10**30, 28, "100"), (150_005 * 10**18, 24, "0.150005")],
)
def test_compact_decimals_drop_trailing_zeros_only(units: int, decimals: int, expected: str) -> None:
    value = from_base_units_compact(units, decimals)
    assert str(value) == expected and value == from_base_units(units, decimals)


def test_symbol_scale_covers_every_tick_and_step() -> None:
    scale = SymbolScale.covering("X/Y", [Decimal("0.01"), Decimal("0.5"), Decimal(10)], [Decimal("0.001"), Decimal(1)])
    assert (scale.price_decimals, scale.qty_decimals) == (2, 3)
