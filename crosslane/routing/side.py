"""Which way an order trades."""

from __future__ import annotations

from enum import StrEnum

from crosslane.errors import InvalidRequest


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @classmethod
    def parse(cls, side: Side | str) -> Side:
        """``Side`` from a ``Side`` or its name in any case; InvalidRequest otherwise."""
        if isinstance(side, Side):
            return side
        try:
            return cls(str(side).lower())
        except ValueError:
            raise InvalidRequest(f"side must be 'buy' or 'sell', not {side!r}") from None
