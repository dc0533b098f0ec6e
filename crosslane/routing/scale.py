"""How one symbol's prices and quantities are held as integers.

Books and routing work in *units*: a price is ``int(price * 10**price_decimals)`` and a
quantity ``int(qty * 10**qty_decimals)``, so comparisons and sums are exact integer operations
with no ``Decimal`` in the hot loops. The decimals are per symbol, fine enough for every
venue's tick and step (see :meth:`SymbolScale.covering`); ``Decimal`` appears only at the
edges, through :mod:`crosslane.money`. A notional (price x quantity) is in units of
``10**-(price_decimals + qty_decimals)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from crosslane.errors import InvalidRequest
from crosslane.money import from_base_units, from_base_units_compact, parse_base_units, to_base_units


def decimals_of(value: Decimal) -> int:
    """Decimal places ``value`` needs: 2 for 0.01, 1 for 0.5, 0 for 5 or 10."""
    exponent = value.normalize().as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite number: {value}")
    return max(0, -exponent)


@dataclass(frozen=True, slots=True)
class SymbolScale:
    symbol: str
    price_decimals: int
    qty_decimals: int

    def __post_init__(self) -> None:
        if not (0 <= self.price_decimals <= 18 and 0 <= self.qty_decimals <= 18):
            raise ValueError(f"{self.symbol}: decimals must be within 0..18")

    @classmethod
    def covering(cls, symbol: str, ticks: Iterable[Decimal], steps: Iterable[Decimal]) -> SymbolScale:
        """The coarsest scale that represents every venue's tick and step exactly."""
        return cls(symbol, max(map(decimals_of, ticks), default=0), max(map(decimals_of, steps), default=0))

    @property
    def notional_decimals(self) -> int:
        return self.price_decimals + self.qty_decimals

    def price_units(self, price: Decimal | str) -> int:
        """ValueError if ``price`` is finer than this scale."""
        return to_base_units(price, self.price_decimals)

    def qty_units(self, qty: Decimal | str) -> int:
        """ValueError if ``qty`` is finer than this scale."""
        return to_base_units(qty, self.qty_decimals)

    def parse_price(self, text: str) -> int:
        """Price units from a feed's decimal string (fast path); ValueError if finer than this scale."""
        return parse_base_units(text, self.price_decimals)

    def parse_qty(self, text: str) -> int:
        """Quantity units from a feed's decimal string (fast path); ValueError if finer than this scale."""
        return parse_base_units(text, self.qty_decimals)

    def price(self, units: int) -> Decimal:
        """Price units as a Decimal, trailing zeros dropped."""
        return from_base_units_compact(units, self.price_decimals)

    def qty(self, units: int) -> Decimal:
        """Quantity units as a Decimal, trailing zeros dropped."""
        return from_base_units_compact(units, self.qty_decimals)

    def request_qty(self, qty: Decimal | str | int) -> int:
        """Units of a caller's order size.

        InvalidRequest for a float, a non-number, a non-positive size, or one finer than the
        symbol's finest step (no venue could trade it).
        """
        return self._request_units(qty, "quantity", "step", self.qty_decimals)

    def request_price(self, price: Decimal | str | int) -> int:
        """Units of a caller's limit price; InvalidRequest like :meth:`request_qty`."""
        return self._request_units(price, "limit price", "tick", self.price_decimals)

    def _request_units(self, amount: object, what: str, increment: str, decimals: int) -> int:
        if isinstance(amount, bool) or not isinstance(amount, Decimal | str | int):
            raise InvalidRequest(f"{what} must be a Decimal, str or int (never float), not {type(amount).__name__}")
        try:
            units = to_base_units(amount if isinstance(amount, Decimal | str) else Decimal(amount), decimals)
        except ValueError:
            raise InvalidRequest(
                f"{what} {amount!s} is not a number with at most {decimals} decimals "
                f"(the finest {increment} any venue trades {self.symbol} in is {from_base_units(1, decimals)})"
            ) from None
        if units <= 0:
            raise InvalidRequest(f"{what} must be positive, got {amount!s}")
        return units
