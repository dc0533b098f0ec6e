"""How far ahead a request's deadline may be.

A deadline bounds how stale a signed swap or deposit may get before it executes: one
years ahead is no bound at all (a stuck swap could still execute at a price long gone),
and is far more likely a typo (milliseconds for seconds) than a wish.
"""

from __future__ import annotations

from crosslane.errors import InvalidRequest

MAX_DEADLINE_AHEAD_S = 86_400  # one day; the LP request's deadline_ttl has the same bound


def check_deadline_horizon(deadline: int | None, chain_time: int) -> None:
    """InvalidRequest when ``deadline`` (unix seconds) is more than MAX_DEADLINE_AHEAD_S
    after ``chain_time``; None (the default deadline) passes."""
    if deadline is not None and deadline - chain_time > MAX_DEADLINE_AHEAD_S:
        ahead = deadline - chain_time
        raise InvalidRequest(
            f"deadline {deadline} is {ahead} s ({ahead / 86_400:.1f} days) after chain time {chain_time}; "
            f"at most {MAX_DEADLINE_AHEAD_S} s (1 day) ahead is accepted (unix seconds, not milliseconds)"
        )
