"""Venue websocket depth messages from the wire straight into a :class:`VenueBook`.

``VenueBook.apply_text`` takes levels a JSON library already decoded and converts each string
with :func:`~crosslane.money.parse_base_units`; at ~150k messages a second on one core, that
parsing is most of the cost (the integer book alone takes ~1M a second). Here msgspec decodes
the frame into typed structs holding only what the book needs, and the level strings become
integer units without ``Decimal``, by one of two exact routes:

- plain frames (Binance writes every price and size as digits with 8 decimals, OKX in
  shortest form): one regular expression checks, in C, that every level string of the frame
  has at most 15 digits and no non-zero digit past the symbol's scale; then msgspec decodes
  each level as a :class:`ScaledLevel` of two floats (OKX's further fields skipped) and the
  book takes ``round(x * 10.0**decimals)`` (``VenueBook.apply_scaled``), which is exact: the
  scaled value N is below 10**15, the float parsed from the text is within N * 2**-53 of it,
  and the product's rounding adds as much again, far from 0.5;
- anything else (a frame the expression refuses, or msgspec will not read): the strings, with
  :class:`LevelParser`: a price string's units are remembered in a bounded dict (the same few
  hundred levels change over and over), a quantity is ``int`` of its digits without the dot,
  shifted to the scale; what is not plain digits, or is finer than the scale, is
  ``parse_base_units``'s to decide (same value, same ``ValueError``).

The result is exactly ``apply_text``'s: the same book, the same refusals (a property test
checks it against ``apply_text`` on random message streams).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import msgspec

from crosslane.money import parse_base_units
from crosslane.routing.book import Level, VenueBook
from crosslane.routing.scale import SymbolScale

_POW10 = tuple(10**n for n in range(40))


class LevelParser:
    """``[price, qty, ...]`` strings to ``(price units, qty units)`` of one scale, exactly as
    ``parse_base_units`` converts them (``ValueError`` for text finer than the scale)."""

    __slots__ = ("_price_decimals", "_qty_decimals", "_prices", "_qtys", "_cache_size")

    def __init__(self, scale: SymbolScale, cache_size: int = 1 << 16) -> None:
        self._price_decimals = scale.price_decimals
        self._qty_decimals = scale.qty_decimals
        self._prices: dict[str, int] = {}
        self._qtys: dict[str, int] = {}
        self._cache_size = cache_size

    def _price(self, text: str) -> int:
        units = parse_base_units(text, self._price_decimals)  # raises before anything is remembered
        prices = self._prices
        if len(prices) >= self._cache_size:
            prices.clear()  # a feed that wandered far: start over rather than grow
        prices[text] = units
        return units

    def _qty(self, text: str) -> int:
        """Plain digits: ``int`` of the digits without the dot, shifted to the scale; anything
        else, or a remainder (finer than the scale), is ``parse_base_units``'s to decide."""
        decimals = self._qty_decimals
        dot = text.find(".")
        places = len(text) - dot - 1 if dot >= 0 else 0
        digits = text.replace(".", "", 1)
        units = -1
        if digits.isdigit() and places < 40:
            try:
                n = int(digits)
            except ValueError:  # a Unicode digit int() refuses
                pass
            else:
                if places <= decimals:
                    units = n * _POW10[decimals - places]
                else:
                    units, rest = divmod(n, _POW10[places - decimals])
                    if rest:
                        units = -1
        if units < 0:
            units = parse_base_units(text, decimals)
        qtys = self._qtys
        if len(qtys) >= self._cache_size:
            qtys.clear()
        qtys[text] = units
        return units

    def levels(self, rows: Sequence[Sequence[str]]) -> list[Level]:
        # a cached value of 0 (an emptied level) misses the ``or`` and is recomputed: still exact
        price_of, qty_of = self._prices.get, self._qtys.get
        price_miss, qty_miss = self._price, self._qty
        return [(price_of(row[0]) or price_miss(row[0]), qty_of(row[1]) or qty_miss(row[1])) for row in rows]


# -- Binance spot: <symbol>@depth diffs --------------------------------------------------------


class BinanceDepthUpdate(msgspec.Struct):
    """A ``depthUpdate`` event (``s``, ``e`` and ``U`` are not needed by the book)."""

    E: int  # event time, ms
    u: int  # final update id in the event
    b: list[list[str]]
    a: list[list[str]]


class ScaledLevel(msgspec.Struct, array_like=True, gc=False):
    """A level's price and size read as floats (only after the frame's pattern matched), for
    ``VenueBook.apply_scaled``. ``array_like``: decoded from the ``[price, size, ...]`` array
    itself, its further fields (OKX's ``"0"`` and order count) skipped rather than kept as
    strings; ``gc=False``: two floats cannot form a cycle, so the collector never scans them."""

    price: float
    qty: float


class _BinanceDepthNumbers(msgspec.Struct, gc=False):
    """The same event with its level strings read as numbers (only after :func:`_levels_pattern`;
    ``gc=False``: decoded values, no cycle, nothing for the collector to scan)."""

    E: int
    u: int
    b: list[ScaledLevel]
    a: list[ScaledLevel]


def _number_pattern(decimals: int) -> str:
    """A decimal string of at most 15 digits with nothing but zeros past ``decimals`` places
    (possessive: a refusal never backtracks)."""
    whole = f"[0-9]{{1,{15 - decimals}}}+"
    if decimals == 0:
        return whole + r"(?:\.0++)?+"
    return whole + rf"(?:\.[0-9]{{1,{decimals}}}+0*+)?+"


def _side_pattern(scale: SymbolScale, extra: str = "") -> str | None:
    """A JSON array of levels whose price and size all take the float route exactly
    (``extra``: the level's further fields, as a pattern)."""
    if scale.price_decimals > 14 or scale.qty_decimals > 14:
        return None
    level = f'\\["{_number_pattern(scale.price_decimals)}","{_number_pattern(scale.qty_decimals)}"{extra}\\]'
    return f"\\[(?:{level}(?:,{level})*+)?+\\]"


def _levels_pattern(scale: SymbolScale) -> re.Pattern[bytes] | None:
    """The end of a ``depthUpdate`` frame whose every level takes the float route exactly."""
    side = _side_pattern(scale)
    return None if side is None else re.compile(f'"b":{side},"a":{side}}}$'.encode())


# -- OKX v5: the books channel -----------------------------------------------------------------


class OkxBooksData(msgspec.Struct):
    asks: list[list[str]]  # [price, size, "0", order count]
    bids: list[list[str]]
    ts: str
    seqId: int  # noqa: N815 (OKX's field name)


class OkxBooksMessage(msgspec.Struct):
    action: str  # "snapshot" or "update"
    data: list[OkxBooksData]


class _OkxBooksDataNumbers(msgspec.Struct, gc=False):
    asks: list[ScaledLevel]
    bids: list[ScaledLevel]
    ts: int  # the digit string, read as a number (not strict); a leading zero is refused: string route
    seqId: int  # noqa: N815


class _OkxBooksNumbers(msgspec.Struct, gc=False):
    """The same push with its prices and sizes read as numbers (only after :func:`_okx_pattern`).
    Another action, or not exactly one data entry, is a ``ValidationError``: the string route."""

    action: Literal["snapshot", "update"]
    data: tuple[_OkxBooksDataNumbers]


def _okx_pattern(scale: SymbolScale) -> re.Pattern[bytes] | None:
    """The end of a compact ``books`` push of one data entry, fields in OKX's order, whose every
    level takes the float route exactly. A level's third field is OKX's deprecated one, always
    ``"0"``: matched as that literal (a little cheaper); any other value takes the string route."""
    side = _side_pattern(scale, ',"0","[0-9]++"')
    if side is None:
        return None
    tail = '"ts":"[0-9]++","checksum":-?[0-9]++,"prevSeqId":-?[0-9]++,"seqId":[0-9]++'
    return re.compile(f'"data":\\[\\{{"asks":{side},"bids":{side},{tail}\\}}\\]\\}}$'.encode())


def _no_match(raw: bytes) -> None:
    """The pattern of a scale too fine for floats: every frame takes the string route."""


class DepthFeed:
    """One venue's depth messages for one :class:`VenueBook`: ``apply_binance`` /
    ``apply_okx`` decode a raw frame and apply it, returning what ``apply_text`` returns (False
    for an update not newer than the book). ``ts_ms`` is the caller's receive time when given
    (what the router checks staleness with), else the venue's event time."""

    __slots__ = (
        "book",
        "parser",
        "_exact_floats",
        "_okx_exact",
        "_okx_decode",
        "_scales",
        "_binance",
        "_binance_numbers",
        "_okx",
    )

    def __init__(self, book: VenueBook) -> None:
        self.book = book
        self.parser = LevelParser(book.scale)
        self._exact_floats = _levels_pattern(book.scale)
        # 10**d as a float is exact for the d <= 14 the patterns allow (float * int would multiply
        # by this very double, only slower)
        self._scales = (float(_POW10[book.scale.price_decimals]), float(_POW10[book.scale.qty_decimals]))
        self._binance = msgspec.json.Decoder(BinanceDepthUpdate)
        self._binance_numbers = msgspec.json.Decoder(_BinanceDepthNumbers, strict=False)
        self._okx = msgspec.json.Decoder(OkxBooksMessage)
        okx_pattern = _okx_pattern(book.scale)
        # bound once: the hot path makes two calls a message, no attribute look-ups beyond these
        self._okx_exact = _no_match if okx_pattern is None else okx_pattern.search
        self._okx_decode = msgspec.json.Decoder(_OkxBooksNumbers, strict=False).decode

    def apply_binance(self, raw: bytes, ts_ms: int | None = None) -> bool:
        book = self.book
        if self._exact_floats is not None and self._exact_floats.search(raw):
            try:
                numbers = self._binance_numbers.decode(raw)
            except msgspec.ValidationError:
                pass  # a number msgspec will not read as one: the string route decides
            else:  # apply_scaled refuses an update not newer than the book
                price_scale, qty_scale = self._scales
                when = numbers.E if ts_ms is None else ts_ms
                return book.apply_scaled(numbers.b, numbers.a, numbers.u, when, price_scale, qty_scale)
        message = self._binance.decode(raw)
        if message.u <= book.update_id:
            return False
        levels = self.parser.levels
        return book.apply(levels(message.b), levels(message.a), message.u, message.E if ts_ms is None else ts_ms)

    def apply_okx(self, raw: bytes, ts_ms: int | None = None) -> bool:
        """A ``books`` push: a snapshot replaces the book, an update is applied (sequence gaps
        and checksums are the feed handler's to check, as for ``apply_text``)."""
        book = self.book
        if self._okx_exact(raw):
            try:
                numbers = self._okx_decode(raw)
            except msgspec.ValidationError:
                pass  # the string route decides
            else:  # the pattern's data entry (msgspec keeps the last of repeated keys, as it does)
                price_scale, qty_scale = self._scales
                data = numbers.data[0]
                when = data.ts if ts_ms is None else ts_ms
                if numbers.action == "update":  # apply_scaled refuses an update not newer than the book
                    return book.apply_scaled(data.bids, data.asks, data.seqId, when, price_scale, qty_scale)
                book.replace(
                    [((lv.price * price_scale).__round__(), (lv.qty * qty_scale).__round__()) for lv in data.bids],
                    [((lv.price * price_scale).__round__(), (lv.qty * qty_scale).__round__()) for lv in data.asks],
                    data.seqId,
                    when,
                )
                return True
        message = self._okx.decode(raw)
        levels = self.parser.levels
        applied = False
        for data in message.data:
            when = int(data.ts) if ts_ms is None else ts_ms
            if message.action == "snapshot":
                book.replace(levels(data.bids), levels(data.asks), data.seqId, when)
                applied = True
            elif data.seqId > book.update_id:
                applied = book.apply(levels(data.bids), levels(data.asks), data.seqId, when) or applied
        return applied
