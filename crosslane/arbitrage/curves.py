"""A leg of an arbitrage as an exact execution curve: what trading ``size`` of the asset
pays or receives, in integer base units, on the real book or pool (not its top).

Sizes are base units of the traded asset (every leg of one opportunity uses the same
decimals); amounts of the quote asset are its base units. A SELL leg answers the quote it
receives for ``size`` (exact in), a BUY leg the quote it pays to receive exactly ``size``
(exact out). Each fill itemises itself against the pre-trade best price so that an
opportunity's profit is the exact sum of its parts:

    sell: quote = at_best - fee - impact        buy: quote = at_best + fee + impact

Here: :class:`BookCurve`, a walk of one venue's book with its taker fee, lot size and
minimums; :class:`CallableCurve`, any exact quote function (the DEX pools' exact math,
built in ``connectors/dex/arbitrage_curves.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from crosslane.routing.book import VenueBook
from crosslane.routing.costs import RATE_SCALE, ScaledMarket, VenueMarket
from crosslane.routing.scale import SymbolScale
from crosslane.routing.side import Side


@dataclass(frozen=True, slots=True)
class LegFill:
    """One leg's expected execution of ``size``; every amount in quote base units but
    ``size`` and ``gas_units``. ``impact`` is what walking the book or the pool's curve
    costs beyond the best price and the fee (it can be a unit negative from rounding)."""

    side: Side
    size: int
    quote: int  # received (sell) or paid (buy), every fee included
    at_best: int  # the same size at the pre-trade best price, no fee
    fee: int  # taker fee (CEX) or LP fee (DEX)
    gas_units: int = 0  # of the one transaction this leg sends (0 off chain)

    @property
    def impact(self) -> int:
        if self.side is Side.SELL:
            return self.at_best - self.fee - self.quote
        return self.quote - self.at_best - self.fee


class LegCurve(Protocol):
    """An exact execution curve for one side of one market.

    ``fill`` answers for any size in ``[min_size, capacity]`` that is a multiple of ``lot``
    (ValueError otherwise). Proceeds of a SELL curve are concave in size, costs of a BUY
    curve convex, up to one base unit of rounding.
    """

    @property
    def side(self) -> Side: ...

    @property
    def lot(self) -> int: ...

    @property
    def best_price(self) -> Fraction:
        """Pre-trade price, fee excluded: quote base units per asset base unit."""
        ...

    @property
    def min_size(self) -> int: ...

    @property
    def capacity(self) -> int: ...

    def fill(self, size: int) -> LegFill: ...


def _floor_div(a: int, b: int) -> int:
    return a // b


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def check_size(curve: LegCurve, size: int) -> None:
    """ValueError unless ``size`` is a whole number of lots within the curve's range."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValueError(f"size must be an int of base units, not {type(size).__name__}")
    if size % curve.lot or not curve.min_size <= size <= curve.capacity:
        raise ValueError(f"size {size} is not a multiple of {curve.lot} within [{curve.min_size}, {curve.capacity}]")


class BookCurve:
    """Walking one side of a CEX book: the bids for a SELL, the asks for a BUY.

    ``levels`` are ``(price units, qty units)`` best first, in the decimals of ``scale``;
    the asset's base units must be at least as fine as the quantity units. ``market`` is the
    venue's fees and precision: its taker fee is charged on the notional, rounded against us
    (a sell receives the floor, a buy pays the ceiling); sizes are whole ``step``s of at
    least ``min_qty`` and ``min_notional`` (quote currency).
    """

    __slots__ = ("side", "_levels", "_scale", "_quote_decimals", "_per_qty", "_taker", "lot", "min_size", "capacity")

    def __init__(
        self,
        side: Side,
        levels: Sequence[tuple[int, int]],
        scale: SymbolScale,
        market: VenueMarket,
        *,
        asset_decimals: int,
        quote_decimals: int,
    ) -> None:
        if asset_decimals < scale.qty_decimals:
            raise ValueError(f"asset decimals {asset_decimals} are coarser than the book's {scale.qty_decimals}")
        rules = ScaledMarket.build(market, scale)
        self.side = side
        self._levels = [(p, q - q % rules.step) for p, q in levels if p > 0 and q >= rules.step]
        self._scale = scale
        self._quote_decimals = quote_decimals
        self._per_qty = 10 ** (asset_decimals - scale.qty_decimals)  # asset base units per qty unit
        self._taker = rules.taker
        self.lot = rules.step * self._per_qty
        self.capacity = sum(q for _, q in self._levels) * self._per_qty
        self.min_size = self._smallest(rules.min_qty + (-rules.min_qty) % rules.step, rules.min_notional)

    @classmethod
    def from_book(
        cls, book: VenueBook, side: Side, market: VenueMarket, *, asset_decimals: int, quote_decimals: int
    ) -> BookCurve:
        """The curve of a venue's book as it stands: its asks to buy, its bids to sell, with
        the venue's taker fee and lot rules (``market``; the fee schedule can come from the
        registry's ``venues.<name>.taker_bps``)."""
        walked = book.asks if side is Side.BUY else book.bids
        return cls(
            side,
            walked.top(len(walked)),
            book.scale,
            market,
            asset_decimals=asset_decimals,
            quote_decimals=quote_decimals,
        )

    @property
    def best_price(self) -> Fraction:
        """The best level's price in quote base units per asset base unit (0: an empty side)."""
        if not self._levels:
            return Fraction(0)
        return Fraction(
            self._levels[0][0] * 10**self._quote_decimals, 10**self._scale.notional_decimals * self._per_qty
        )

    def _smallest(self, qty: int, min_notional: int) -> int:
        """The smallest size of at least ``qty`` units whose notional reaches ``min_notional``
        (notional units); past the capacity when none does (then the curve takes no size)."""
        size = qty * self._per_qty
        if min_notional and self._levels:
            steps = _ceil_div(_ceil_div(min_notional, self._levels[0][0]), self.lot // self._per_qty)
            size = max(size, steps * self.lot)
            while size <= self.capacity and self._notional(size // self._per_qty) < min_notional:
                size += self.lot
        return size

    def _notional(self, qty: int) -> int:
        """Sum of price x qty over the levels ``qty`` units take (notional units)."""
        notional = 0
        for price, available in self._levels:
            take = min(qty, available)
            notional += price * take
            qty -= take
            if not qty:
                return notional
        raise ValueError(f"the book holds only {self.capacity} base units")

    def fill(self, size: int) -> LegFill:
        check_size(self, size)
        qty = size // self._per_qty
        notional = self._notional(qty)
        # notional units -> quote base units: x 10**quote_decimals / 10**(price + qty decimals)
        num, den = 10**self._quote_decimals, 10**self._scale.notional_decimals
        best = self._levels[0][0] * qty
        if self.side is Side.SELL:
            gross = _floor_div(notional * num, den)
            quote = _floor_div(notional * (RATE_SCALE - self._taker) * num, den * RATE_SCALE)
            return LegFill(self.side, size, quote, _floor_div(best * num, den), gross - quote)
        gross = _ceil_div(notional * num, den)
        quote = _ceil_div(notional * (RATE_SCALE + self._taker) * num, den * RATE_SCALE)
        return LegFill(self.side, size, quote, _ceil_div(best * num, den), quote - gross)


class CallableCurve:
    """A curve from an exact quote function: ``amount(size)`` is the quote received (SELL)
    or paid (BUY) for ``size``, every fee included, as the venue's own math computes it.

    ``best_price`` is the pre-trade marginal price (quote base units per asset base unit,
    fee excluded) and ``fee_kept`` the share a trade keeps after the proportional fee
    (``1 - fee``); together they split the amount into best-price value, fee and impact.
    ``gas_units`` is the leg's transaction gas, fixed or per size.
    """

    __slots__ = ("side", "_amount", "best_price", "fee_kept", "_gas", "lot", "min_size", "capacity")

    def __init__(
        self,
        side: Side,
        amount: Callable[[int], int],
        *,
        best_price: Fraction,
        fee_kept: Fraction,
        capacity: int,
        gas_units: int | Callable[[int], int] = 0,
        lot: int = 1,
        min_size: int | None = None,
    ) -> None:
        if not 0 < fee_kept <= 1 or best_price <= 0:
            raise ValueError("best_price must be positive and fee_kept within (0, 1]")
        self.side = side
        self._amount = amount
        self.best_price = best_price
        self.fee_kept = fee_kept
        self._gas = gas_units
        self.lot = lot
        self.min_size = lot if min_size is None else min_size
        self.capacity = capacity - capacity % lot

    def fill(self, size: int) -> LegFill:
        check_size(self, size)
        amount = self._amount(size)
        gas = self._gas(size) if callable(self._gas) else self._gas
        price = self.best_price
        if self.side is Side.SELL:
            at_best = _floor_div(size * price.numerator, price.denominator)
            after_fee = _floor_div(
                size * price.numerator * self.fee_kept.numerator, price.denominator * self.fee_kept.denominator
            )
            return LegFill(self.side, size, amount, at_best, at_best - after_fee, gas)
        at_best = _ceil_div(size * price.numerator, price.denominator)
        with_fee = _ceil_div(
            size * price.numerator * self.fee_kept.denominator, price.denominator * self.fee_kept.numerator
        )
        return LegFill(self.side, size, amount, at_best, with_fee - at_best, gas)
