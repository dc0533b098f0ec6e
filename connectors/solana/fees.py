"""Solana's fee model: 5000 lamports per signature plus a priority fee, the compute unit
price (micro-lamports per CU, bid with a ComputeBudget instruction) times the compute unit
limit. The price comes from ``getRecentPrioritizationFees`` through a policy with a cap."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from crosslane.money import bump

LAMPORTS_PER_SIGNATURE = 5_000
MICRO_LAMPORTS_PER_LAMPORT = 1_000_000


class PriorityFeePolicy(BaseModel):
    """How much to bid per compute unit: a percentile of what recent slots paid, between a
    floor and a cap; each re-sign after an expiry bids ``bump_bps`` more, still under the cap."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    percentile: int = Field(75, ge=0, le=100)
    floor_micro_lamports: int = Field(0, ge=0, description="per compute unit")
    cap_micro_lamports: int = Field(1_000_000, ge=0, description="per compute unit; never bid above")
    bump_bps: int = Field(2_500, ge=0, description="raise per re-sign, in basis points")

    def price(self, recent: Sequence[int]) -> int:
        """The compute unit price to bid, from recent slots' prioritization fees."""
        ranked = sorted(recent)
        observed = ranked[max(math.ceil(self.percentile / 100 * len(ranked)) - 1, 0)] if ranked else 0
        return min(max(observed, self.floor_micro_lamports), self.cap_micro_lamports)

    def bumped(self, price: int) -> int:
        """The price for the next attempt: higher by ``bump_bps`` (at least 1), capped."""
        return min(max(bump(price, self.bump_bps), price + 1), self.cap_micro_lamports)


def priority_fee_lamports(unit_price: int, unit_limit: int) -> int:
    """What a compute unit price costs at a compute unit limit (rounded up, as the runtime does)."""
    return -(-unit_price * unit_limit // MICRO_LAMPORTS_PER_LAMPORT)


def transaction_fee_lamports(signatures: int, unit_price: int, unit_limit: int) -> int:
    return LAMPORTS_PER_SIGNATURE * signatures + priority_fee_lamports(unit_price, unit_limit)
