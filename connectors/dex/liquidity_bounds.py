"""The bounds every liquidity transaction carries: minimum amounts from a slippage bound, and
a deadline, both checked before anything is sent."""

from __future__ import annotations

import time

from crosslane.domain.deadlines import check_deadline_horizon
from crosslane.errors import InvalidRequest

BPS = 10_000
MAX_SLIPPAGE_BPS = 5_000  # 50%: beyond that a "bound" protects nothing


def require_slippage(slippage_bps: int) -> None:
    if isinstance(slippage_bps, bool) or not isinstance(slippage_bps, int):
        raise InvalidRequest(f"slippage_bps must be an int number of basis points, got {slippage_bps!r}")
    if not 0 <= slippage_bps <= MAX_SLIPPAGE_BPS:
        raise InvalidRequest(f"slippage {slippage_bps} bps is outside 0-{MAX_SLIPPAGE_BPS} bps (0-50%)")


def amount_min(expected: int, slippage_bps: int) -> int:
    """The least of ``expected`` (base units) to accept: ``expected * (1 - slippage)``, rounded down."""
    require_slippage(slippage_bps)
    return expected * (BPS - slippage_bps) // BPS


def require_deadline(deadline: int, chain_time: int) -> None:
    """Routers and the position manager revert once ``block.timestamp > deadline``; refuse a
    deadline the chain's latest block has already passed."""
    if deadline <= chain_time:
        raise InvalidRequest(
            f"deadline {deadline} has expired: the chain's latest block is at {chain_time} "
            f"({chain_time - deadline} s past it)"
        )
    check_deadline_horizon(deadline, chain_time)


def next_block_time(latest_block_time: int) -> int:
    """The earliest timestamp the next block can carry: the later of the latest block's and
    the wall clock's. On a quiet chain (automine, or a lull) the latest block can be minutes
    old while the next one is stamped ~now, so a deadline counted from it is already past."""
    return max(latest_block_time, int(time.time()))


def resolve_deadline(deadline: int | None, ttl_seconds: int, chain_time: int) -> int:
    """The deadline to send (unix seconds): the one given, checked against the chain's
    latest block time, or ``ttl_seconds`` after the next block's earliest time."""
    if deadline is None:
        if ttl_seconds <= 0:
            raise InvalidRequest(f"deadline ttl must be positive seconds, got {ttl_seconds}")
        return next_block_time(chain_time) + ttl_seconds
    require_deadline(deadline, chain_time)
    return deadline
