"""UniswapV3Staker calldata and reads: where a staked position is, and the calls that take
it out (unstake from each incentive, claim, withdraw) or put it back (one safeTransferFrom
whose data names the incentive: deposit and stake in one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from connectors.dex.reads import Read, read_batch, selector
from connectors.evm.client import EvmClient
from crosslane.domain.chains import V3Incentive

INCENTIVE_KEY = "(address,address,uint256,uint256,address)"
_UNSTAKE = selector(f"unstakeToken({INCENTIVE_KEY},uint256)")
_CLAIM = selector("claimReward(address,address,uint256)")
_WITHDRAW = selector("withdrawToken(uint256,address,bytes)")
_MULTICALL = selector("multicall(bytes[])")
_SAFE_TRANSFER = selector("safeTransferFrom(address,address,uint256,bytes)")


def incentive_key(incentive: V3Incentive) -> tuple[str, str, int, int, str]:
    return (incentive.reward_token, incentive.pool, incentive.start_time, incentive.end_time, incentive.refundee)


def incentive_id(incentive: V3Incentive) -> bytes:
    """keccak256(abi.encode(key)): the staker's id of an incentive (``stakes(tokenId, id)``)."""
    return keccak(abi_encode([INCENTIVE_KEY], [incentive_key(incentive)]))


@dataclass(frozen=True)
class StakerDeposit:
    """A position NFT held by the staker: whose it is and the incentives it is staked in."""

    token_id: int
    owner: str | None  # None: not deposited
    number_of_stakes: int
    staked_in: tuple[V3Incentive, ...]
    block_number: int


async def read_deposit(client: EvmClient, staker: str, token_id: int, incentives: list[V3Incentive]) -> StakerDeposit:
    """``deposits(tokenId)`` and ``stakes(tokenId, incentiveId)`` for each known incentive."""
    reads = [Read.of(staker, "deposits(uint256)", ("address", "uint48", "int24", "int24"), token_id)]
    reads += [
        Read.of(staker, "stakes(uint256,bytes32)", ("uint160", "uint128"), token_id, incentive_id(i))
        for i in incentives
    ]
    batch = await read_batch(client, reads)
    deposit = batch.results[0]
    owner = to_checksum_address(deposit[0]) if deposit and int(deposit[0], 16) != 0 else None
    staked = tuple(
        i for i, stake in zip(incentives, batch.results[1:], strict=True) if stake is not None and int(stake[1]) > 0
    )
    return StakerDeposit(token_id, owner, int(deposit[1]) if deposit else 0, staked, batch.block_number)


def exit_calldata(token_id: int, owner: str, staked_in: tuple[V3Incentive, ...]) -> bytes:
    """multicall: unstake from every incentive, claim each reward token to ``owner``, and
    withdraw the NFT to ``owner``. All or nothing."""
    calls = [_UNSTAKE + abi_encode([INCENTIVE_KEY, "uint256"], [incentive_key(i), token_id]) for i in staked_in]
    for reward_token in sorted({i.reward_token for i in staked_in}):
        calls.append(_CLAIM + abi_encode(["address", "address", "uint256"], [reward_token, owner, 0]))
    calls.append(_WITHDRAW + abi_encode(["uint256", "address", "bytes"], [token_id, owner, b""]))
    return _MULTICALL + abi_encode(["bytes[]"], [calls])


def deposit_and_stake_calldata(owner: str, staker: str, token_id: int, incentive: V3Incentive) -> bytes:
    """For the position manager: ``safeTransferFrom(owner, staker, tokenId, abi.encode(key))``;
    the staker's onERC721Received records the deposit and stakes it in ``incentive``."""
    data = abi_encode([INCENTIVE_KEY], [incentive_key(incentive)])
    return _SAFE_TRANSFER + abi_encode(["address", "address", "uint256", "bytes"], [owner, staker, token_id, data])
