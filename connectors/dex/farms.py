"""What a liquidity-mining position has earned: MasterChef farms and UniswapV3Staker incentives.

Reads only, one Multicall3 round trip each, pinned to one block: what compounding decides
on (harvest now or later) before it plans a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import encode as abi_encode

from connectors.dex.farm_calls import INCENTIVE_KEY, incentive_key
from connectors.dex.reads import Read, read_batch, selector
from connectors.evm.client import EvmClient
from crosslane.domain.chains import MasterChefInfo, V3Incentive


@dataclass(frozen=True)
class FarmPosition:
    """An owner's stake in one MasterChef farm at ``block_number``."""

    pid: int
    lp_token: str
    staked: int  # LP base units deposited
    pending_reward: int  # reward token base units a harvest (deposit(pid, 0)) would pay now
    block_number: int


@dataclass(frozen=True)
class StakedReward:
    """A staked V3 position's reward in one incentive at ``block_number`` (None: not staked)."""

    token_id: int
    reward: int | None
    seconds_inside_x128: int | None
    block_number: int


async def masterchef_positions(client: EvmClient, chef: MasterChefInfo, owner: str) -> list[FarmPosition]:
    """The owner's stake and pending reward in every farm the registry lists."""
    reads: list[Read] = []
    for farm in chef.farms:
        reads.append(Read.of(chef.address, "userInfo(uint256,address)", ("uint256", "uint256"), farm.pid, owner))
        reads.append(Read.of(chef.address, "pendingSushi(uint256,address)", ("uint256",), farm.pid, owner))
    batch = await read_batch(client, reads)
    positions = []
    for i, farm in enumerate(chef.farms):
        user, pending = batch.results[2 * i], batch.results[2 * i + 1]
        positions.append(
            FarmPosition(
                pid=farm.pid,
                lp_token=farm.lp_token,
                staked=int(user[0]) if user else 0,
                pending_reward=int(pending[0]) if pending else 0,
                block_number=batch.block_number,
            )
        )
    return positions


async def staker_rewards(
    client: EvmClient, staker: str, incentive: V3Incentive, token_ids: list[int]
) -> list[StakedReward]:
    """``getRewardInfo`` of each position in ``incentive`` (it reverts for an unstaked one)."""
    signature = selector(f"getRewardInfo({INCENTIVE_KEY},uint256)")
    key = incentive_key(incentive)
    reads = [
        Read(staker, signature + abi_encode([INCENTIVE_KEY, "uint256"], [key, token_id]), ("uint256", "uint160"))
        for token_id in token_ids
    ]
    batch = await read_batch(client, reads)
    return [
        StakedReward(
            token_id=token_id,
            reward=int(result[0]) if result else None,
            seconds_inside_x128=int(result[1]) if result else None,
            block_number=batch.block_number,
        )
        for token_id, result in zip(token_ids, batch.results, strict=True)
    ]


async def staker_claimable(client: EvmClient, staker: str, reward_token: str, owner: str) -> int:
    """Rewards the staker holds for ``owner`` (unstaked positions' accruals), claimable now."""
    batch = await read_batch(client, [Read.of(staker, "rewards(address,address)", ("uint256",), reward_token, owner)])
    (result,) = batch.results
    return int(result[0]) if result else 0
