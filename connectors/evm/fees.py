"""EIP-1559 fee suggestions from ``eth_feeHistory``."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from connectors.evm.client import EvmClient
from crosslane.money import BPS, GWEI


@dataclass(frozen=True)
class FeeSuggestion:
    """Wei per gas. ``base_fee`` is the next block's."""

    base_fee: int
    max_priority_fee_per_gas: int
    max_fee_per_gas: int


@dataclass(frozen=True)
class FeeOracleConfig:
    blocks: int = 10
    reward_percentile: int = 50
    base_fee_headroom_bps: int = 2 * BPS  # max fee = 2x next base fee + tip survives 6 full blocks
    min_priority_fee: int = GWEI // 10


async def suggest_fees(client: EvmClient, config: FeeOracleConfig = FeeOracleConfig()) -> FeeSuggestion:
    history = await client.shared(
        ("eth_feeHistory", config.blocks, config.reward_percentile),
        lambda w3: w3.eth.fee_history(config.blocks, "latest", [config.reward_percentile]),
        "eth_feeHistory",
    )
    next_base_fee = int(history["baseFeePerGas"][-1])
    rewards = [int(r[0]) for r in history.get("reward", []) if r and int(r[0]) > 0]
    tip = max(int(median(rewards)) if rewards else 0, config.min_priority_fee)
    max_fee = next_base_fee * config.base_fee_headroom_bps // BPS + tip
    return FeeSuggestion(base_fee=next_base_fee, max_priority_fee_per_gas=tip, max_fee_per_gas=max_fee)
