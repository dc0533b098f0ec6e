"""Is a position one YieldCompound can work on? Read from the chain before anything is sent
or scheduled: the DEX deployment, the farm (MasterChef pid) or incentive, and that the
owner's LP tokens are staked in the farm, or that the owner deposited the NFT in the staker
and staked it in the incentive. Each refusal says what is wrong."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from connectors.dex import Dex
from connectors.dex.factories import build_dex
from connectors.dex.farms import FarmPosition, masterchef_positions, staker_rewards
from connectors.dex.reads import Read, read_batch
from connectors.dex.uniswap_v2 import UniswapV2
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.dex.uniswap_v3.positions import UniswapV3Positions, V3Position
from connectors.evm.client import EvmClient
from crosslane.domain.chains import ChainConfig, DexDeployment, LiquidityFarm, MasterChefInfo, V3Incentive
from crosslane.domain.yield_compound import FarmTarget, StakedTarget
from crosslane.errors import InvalidRequest


@dataclass(frozen=True)
class CheckedFarm:
    dex: UniswapV2
    chef: MasterChefInfo
    farm: LiquidityFarm
    stake: FarmPosition


@dataclass(frozen=True)
class CheckedStake:
    staker: str
    incentive: V3Incentive
    position: V3Position
    reward: int  # accrued in the incentive, claimable once unstaked
    chain_time: int


def deployment_of(chain: ChainConfig, name: str) -> DexDeployment:
    deployment = chain.dexes.get(name)
    if deployment is None:
        known = ", ".join(sorted(chain.dexes)) or "none"
        raise InvalidRequest(f"no DEX deployment {name!r} on {chain.name}; known: {known}")
    return deployment


async def check_farm(
    client: EvmClient, deployment: DexDeployment, dex: Dex, target: FarmTarget, owner: str
) -> CheckedFarm:
    chef = deployment.masterchef
    if chef is None or not isinstance(dex, UniswapV2):
        raise InvalidRequest(f"{target.dex} on {client.chain.name} has no MasterChef farms")
    farm = next((f for f in chef.farms if f.pid == target.pid), None)
    if farm is None:
        known = ", ".join(f"{f.pid} ({f.label})" for f in chef.farms) or "none"
        raise InvalidRequest(f"unknown farm pid {target.pid} in {target.dex}'s MasterChef; farms: {known}")
    stake = next(p for p in await masterchef_positions(client, chef, owner) if p.pid == target.pid)
    if stake.staked == 0:
        raise InvalidRequest(f"{owner} has no LP tokens staked in farm {target.pid} ({farm.label})")
    return CheckedFarm(dex=dex, chef=chef, farm=farm, stake=stake)


async def check_staked(
    client: EvmClient, deployment: DexDeployment, dex: Dex, target: StakedTarget, owner: str
) -> CheckedStake:
    if deployment.staker is None or not isinstance(dex, UniswapV3):
        raise InvalidRequest(f"{target.dex} on {client.chain.name} has no UniswapV3Staker")
    if target.incentive >= len(deployment.incentives):
        raise InvalidRequest(
            f"unknown incentive {target.incentive} of {target.dex}'s staker; it has {len(deployment.incentives)}"
        )
    incentive = deployment.incentives[target.incentive]
    staker, owner = to_checksum_address(deployment.staker), to_checksum_address(owner)
    (position,), chain_time = await UniswapV3Positions(dex).read([target.token_id])
    deposit = await read_batch(
        client, [Read.of(staker, "deposits(uint256)", ("address", "uint48", "int24", "int24"), target.token_id)]
    )
    depositor = to_checksum_address(deposit.results[0][0]) if deposit.results[0] else None
    if position.owner != staker or depositor != owner:
        holder = depositor if position.owner == staker else position.owner
        raise InvalidRequest(
            f"position {target.token_id} is not {owner}'s in the staker (it is held by {holder});"
            " deposit and stake it first"
        )
    if to_checksum_address(position.pool.address) != to_checksum_address(incentive.pool):
        raise InvalidRequest(f"position {target.token_id} is not in incentive {target.incentive}'s pool")
    (staked,) = await staker_rewards(client, staker, incentive, [target.token_id])
    if staked.reward is None:
        raise InvalidRequest(f"position {target.token_id} is deposited but not staked in incentive {target.incentive}")
    return CheckedStake(
        staker=staker, incentive=incentive, position=position, reward=staked.reward, chain_time=chain_time
    )


async def check_position(client: EvmClient, target: FarmTarget | StakedTarget, owner: str) -> str:
    """Refuse a position a compound run could not work on; else say what it is."""
    deployment = deployment_of(client.chain, target.dex)
    dex = build_dex(client, target.dex, deployment)
    if isinstance(target, FarmTarget):
        farm = await check_farm(client, deployment, dex, target, owner)
        return f"{farm.stake.staked} LP tokens staked in {target.dex} farm {target.pid} ({farm.farm.label})"
    await check_staked(client, deployment, dex, target, owner)
    return f"position {target.token_id} staked in incentive {target.incentive} of {target.dex}'s staker"
