"""Swap failures, as Crosslane errors (their class names are the types Temporal shows)."""

from __future__ import annotations

from crosslane.errors import CrosslaneError, InvalidRequest


class SlippageExceeded(CrosslaneError):
    """The price moved past the swap's limit (amountOutMin / amountInMax) before it was
    mined, so the router reverted it: nothing was swapped, only gas was spent."""


class DeadlineExpired(CrosslaneError):
    """The swap was mined after its deadline and reverted: nothing was swapped."""


class SwapReverted(CrosslaneError):
    """The swap reverted for a reason other than its limit or deadline."""


class SandwichRisk(InvalidRequest):
    """The swap's limit leaves more to a sandwich than the request's bound allows."""


