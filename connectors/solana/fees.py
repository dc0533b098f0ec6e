"""Solana's fee model: 5000 lamports per signature plus a priority fee, the compute unit
price (micro-lamports per CU, bid with a ComputeBudget instruction) times the compute unit
limit. The price comes from ``getRecentPrioritizationFees`` through a policy with a cap."""

from __future__ import annotations

from crosslane.domain.solana import PriorityFeePolicy

__all__ = ["PriorityFeePolicy", "priority_fee_lamports", "transaction_fee_lamports"]

LAMPORTS_PER_SIGNATURE = 5_000
MICRO_LAMPORTS_PER_LAMPORT = 1_000_000


def priority_fee_lamports(unit_price: int, unit_limit: int) -> int:
    """What a compute unit price costs at a compute unit limit (rounded up, as the runtime does)."""
    return -(-unit_price * unit_limit // MICRO_LAMPORTS_PER_LAMPORT)


def transaction_fee_lamports(signatures: int, unit_price: int, unit_limit: int) -> int:
    return LAMPORTS_PER_SIGNATURE * signatures + priority_fee_lamports(unit_price, unit_limit)
