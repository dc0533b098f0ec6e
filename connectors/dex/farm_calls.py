"""Calldata of the liquidity-mining transactions compounding and migration send: MasterChef
harvest, deposit and withdraw, UniswapV3Staker unstake/claim/withdraw, and the NFT transfer
that deposits and stakes a position in one call (the staker's ``onERC721Received`` with an
incentive key)."""

from __future__ import annotations

from eth_abi.abi import encode as abi_encode

from connectors.dex.reads import selector
from connectors.evm.calls import ContractCall
from crosslane.domain.chains import V3Incentive

INCENTIVE_KEY = "(address,address,uint256,uint256,address)"


def incentive_key(incentive: V3Incentive) -> tuple[str, str, int, int, str]:
    return (incentive.reward_token, incentive.pool, incentive.start_time, incentive.end_time, incentive.refundee)


def _call(to: str, signature: str, types: list[str], args: list[object]) -> ContractCall:
    return ContractCall.encoded(to, selector(signature) + abi_encode(types, args))


def masterchef_deposit(chef: str, pid: int, amount: int) -> ContractCall:
    """``deposit(pid, amount)``; with 0 it only harvests the pending reward."""
    return _call(chef, "deposit(uint256,uint256)", ["uint256", "uint256"], [pid, amount])


def masterchef_withdraw(chef: str, pid: int, amount: int) -> ContractCall:
    """``withdraw(pid, amount)``: the LP tokens back to the caller, the pending reward paid too."""
    return _call(chef, "withdraw(uint256,uint256)", ["uint256", "uint256"], [pid, amount])


def staker_unstake(staker: str, incentive: V3Incentive, token_id: int) -> ContractCall:
    """``unstakeToken``: credits the position's reward to its owner in the staker."""
    return _call(
        staker,
        f"unstakeToken({INCENTIVE_KEY},uint256)",
        [INCENTIVE_KEY, "uint256"],
        [incentive_key(incentive), token_id],
    )


def staker_claim(staker: str, reward_token: str, to: str) -> ContractCall:
    """``claimReward(token, to, 0)``: 0 claims everything credited."""
    return _call(
        staker, "claimReward(address,address,uint256)", ["address", "address", "uint256"], [reward_token, to, 0]
    )


def staker_withdraw(staker: str, token_id: int, to: str) -> ContractCall:
    """``withdrawToken``: the (unstaked) NFT back to ``to``."""
    return _call(staker, "withdrawToken(uint256,address,bytes)", ["uint256", "address", "bytes"], [token_id, to, b""])


def deposit_and_stake(manager: str, owner: str, staker: str, token_id: int, incentive: V3Incentive) -> ContractCall:
    """``safeTransferFrom(owner, staker, id, abi.encode(key))``: deposit and stake at once."""
    data = abi_encode([INCENTIVE_KEY], [incentive_key(incentive)])
    return _call(
        manager,
        "safeTransferFrom(address,address,uint256,bytes)",
        ["address", "address", "uint256", "bytes"],
        [owner, staker, token_id, data],
    )


# Gas units of each part of one compound, for the profit gate: from the devnet's receipts
# (a SushiSwap farm run: harvest 117k, add 133k, LP approve 46k, stake 135k; the V3 parts are
# estimates, not measured yet), rounded up. A swap's own estimate comes from
# its route.
COMPOUND_GAS: dict[str, int] = {
    "masterchef_harvest": 120_000,  # deposit(pid, 0)
    "masterchef_restake": 47_000 + 140_000,  # approve LP + deposit(pid, amount)
    "v2_add": 2 * 47_000 + 140_000,  # approve both tokens + addLiquidity
    "v3_harvest": 100_000 + 60_000 + 70_000,  # unstakeToken + claimReward + withdrawToken
    "v3_increase": 2 * 47_000 + 160_000,  # approve both tokens + increaseLiquidity
    "v3_restake": 230_000,  # safeTransferFrom into the staker, staking in the incentive
    "approve": 47_000,  # the swap's input approval
    "swap": 150_000,  # when no route quote is at hand
}
