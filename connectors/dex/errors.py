"""DEX failures, as Crosslane errors (activities translate them; connectors never import Temporal)."""

from __future__ import annotations

from crosslane.errors import CrosslaneError, InvalidRequest


class PoolNotFound(InvalidRequest):
    """No pool exists for the tokens (and fee tier) at its CREATE2 address."""


class InsufficientLiquidity(CrosslaneError):
    """The pool cannot fill the whole size: the reserve or every tick range runs dry first."""


class QuoteFailed(CrosslaneError):
    """An on-chain quoter or router reverted for a reason other than missing liquidity."""
