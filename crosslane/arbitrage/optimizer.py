"""The size that maximises a concave profit over whole lots.

Profit of an arbitrage is concave in size (sell proceeds concave, buy costs convex, every
other cost fixed or linear), up to a base unit of rounding. A ternary search over lot
counts brackets the maximum in O(log n) evaluations, and a scan of the last few lots
around it absorbs rounding plateaus. A V3 leg's gas grows by steps as the swap crosses
initialized ticks (25k gas each): a small dent in an otherwise concave profit, which the
search may settle on either side of.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

_SCAN = 4  # lots either side of the bracket's best, scanned at the end


@dataclass(frozen=True, slots=True)
class Optimum:
    size: int
    value: int
    evaluations: int


def maximise(profit: Callable[[int], int], low: int, high: int, lot: int) -> Optimum:
    """The size in ``[low, high]``, a multiple of ``lot``, where ``profit`` is highest
    (the smallest such size on a tie). ValueError when no multiple of ``lot`` is in range."""
    if lot <= 0:
        raise ValueError(f"lot must be positive, not {lot}")
    first, last = -(-low // lot), high // lot
    if first > last:
        raise ValueError(f"no multiple of {lot} within [{low}, {high}]")
    seen: dict[int, int] = {}

    def at(k: int) -> int:
        if k not in seen:
            seen[k] = profit(k * lot)
        return seen[k]

    lo, hi = first, last
    while hi - lo > 2 * _SCAN:
        third = (hi - lo) // 3
        m1, m2 = lo + third, hi - third
        if at(m1) < at(m2):
            lo = m1 + 1
        elif at(m1) > at(m2):
            hi = m2 - 1
        else:
            lo, hi = m1, m2
    best = max(range(lo, hi + 1), key=lambda k: (at(k), -k))
    # the bracket can end on a rounding plateau: look a few lots beyond it
    for k in range(max(first, best - _SCAN), min(last, best + _SCAN) + 1):
        if at(k) > at(best) or (at(k) == at(best) and k < best):
            best = k
    return Optimum(best * lot, at(best), len(seen))
