"""A staked SushiSwap farm position and a YieldCompound request on the devnet, shared by the
YieldCompound e2e tests."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from connectors.dex.farm_calls import deposit_and_stake
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from crosslane.domain.yield_compound import CompoundRequest, FarmTarget, StakedTarget
from devnet.uniswap_artifacts import artifact
from tests.support.dex import approve, deal, send_tx, token, w3_for
from tests.support.stack import ETH, Stack

CHAIN = "devnet-a"
GWEI = 10**9
SIX_HOURS = 6 * 3600


def contract(w3: Web3, address: str, name: str) -> Any:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact(name)["abi"])


def compound_request(owner: str, request_id: str, position: FarmTarget | StakedTarget, **kw: Any) -> CompoundRequest:
    return CompoundRequest(
        request_id=request_id,
        chain=CHAIN,
        owner=owner,
        position=position,
        interval_seconds=SIX_HOURS,
        slippage_bps=50,
        fees=FeePolicy(max_fee_per_gas_cap=100 * GWEI),
        policy=ReplacementPolicy(poll_interval_ms=50),
        **kw,
    )


def advance(stack: Stack, seconds: int, blocks: int) -> None:
    stack.anvil(CHAIN, "evm_increaseTime", seconds)
    for _ in range(blocks):
        stack.anvil(CHAIN, "evm_mine")


def farm_owner(stack: Stack) -> tuple[LocalAccount, int]:
    """A fresh owner with WETH/USDC SushiSwap LP tokens staked in MasterChef farm 0."""
    owner = stack.fund_signer()
    w3 = w3_for(stack, CHAIN)
    sushi = stack.chains.get(CHAIN).dexes["sushiswap"]
    assert sushi.masterchef is not None and sushi.router is not None
    deal(stack, CHAIN, owner.address, "WETH", 10 * ETH)
    deal(stack, CHAIN, owner.address, "USDC", 30_000 * 10**6)
    approve(stack, CHAIN, owner, "WETH", sushi.router)
    approve(stack, CHAIN, owner, "USDC", sushi.router)
    router = contract(w3, sushi.router, "UniswapV2Router02")
    weth, usdc = token(stack, CHAIN, "WETH"), token(stack, CHAIN, "USDC")
    add = router.encode_abi("addLiquidity", [weth, usdc, 10 * ETH, 30_000 * 10**6, 0, 0, owner.address, 2**64])
    send_tx(w3, owner, {"to": router.address, "data": add})
    farm = sushi.masterchef.farms[0]
    lp = contract(w3, farm.lp_token, "UniswapV2Pair")
    staked = int(lp.functions.balanceOf(owner.address).call())
    chef = contract(w3, sushi.masterchef.address, "MasterChef")
    send_tx(w3, owner, {"to": lp.address, "data": lp.encode_abi("approve", [chef.address, staked])})
    send_tx(w3, owner, {"to": chef.address, "data": chef.encode_abi("deposit", [farm.pid, staked])})
    return owner, staked


def staked_v3_position(stack: Stack) -> tuple[LocalAccount, int]:
    """A fresh owner's WETH/USDC V3 position (±30 tick spacings around the price) in the
    staker's incentive pool, deposited and staked once the incentive has started."""
    owner = stack.fund_signer()
    w3 = w3_for(stack, CHAIN)
    v3 = stack.chains.get(CHAIN).dexes["uniswap_v3"]
    (incentive,) = v3.incentives
    assert v3.position_manager is not None and v3.staker is not None
    pool_info = next(p for p in v3.pools if p.address == incentive.pool)
    npm = contract(w3, v3.position_manager, "NonfungiblePositionManager")
    deal(stack, CHAIN, owner.address, "WETH", 5 * ETH)
    deal(stack, CHAIN, owner.address, "USDC", 15_000 * 10**6)
    approve(stack, CHAIN, owner, "WETH", npm.address)
    approve(stack, CHAIN, owner, "USDC", npm.address)
    tick = int(contract(w3, pool_info.address, "UniswapV3Pool").functions.slot0().call()[1])
    spacing = pool_info.tick_spacing or 10
    lower, upper = (tick // spacing - 30) * spacing, (tick // spacing + 30) * spacing
    weth = Web3.to_checksum_address(token(stack, CHAIN, "WETH"))
    amounts = (ETH, 3_000 * 10**6) if pool_info.token0 == weth else (3_000 * 10**6, ETH)
    mint = (pool_info.token0, pool_info.token1, pool_info.fee, lower, upper, *amounts, 0, 0, owner.address, 2**64)
    receipt = w3.eth.get_transaction_receipt(
        send_tx(w3, owner, {"to": npm.address, "data": npm.encode_abi("mint", [mint])})
    )
    (minted,) = [
        e for e in npm.events.Transfer().process_receipt(receipt, errors=DISCARD) if int(e["args"]["from"], 16) == 0
    ]
    token_id = int(minted["args"]["tokenId"])
    now = int(w3.eth.get_block("latest")["timestamp"])
    advance(stack, max(0, incentive.start_time - now + 1), 1)
    stake = deposit_and_stake(npm.address, owner.address, v3.staker, token_id, incentive)
    send_tx(w3, owner, {"to": stake.to, "data": stake.data, "gas": 500_000})
    return owner, token_id
