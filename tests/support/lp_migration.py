"""Helpers for LPMigration tests: positions set up directly with web3 (the owner's own
transactions, outside Crosslane), chain reads to check the outcome, and requests."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from connectors.dex.uniswap_v3.staker import INCENTIVE_KEY, incentive_key
from connectors.dex.uniswap_v3.staker import incentive_id as incentive_id_of
from connectors.evm.erc20 import ERC20_ABI
from crosslane.domain.lp_migration import LPMigrationRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from devnet.uniswap_artifacts import artifact
from tests.support.dex import deal, send_tx, token, w3_for
from tests.support.stack import Stack

CHAIN = "devnet-a"
GWEI = 10**9
USDC = 10**6
ETH = 10**18
UINT256_MAX = 2**256 - 1


@dataclass
class Devnet:
    """The devnet-a contracts a migration touches, as web3 contracts."""

    chain: str
    w3: Web3
    weth: str
    usdc: str
    t0: str
    t1: str
    npm: Any
    staker: Any
    incentive: Any
    v2_pair: Any
    pools: dict[int, Any]  # fee -> UniswapV3Pool


def devnet(stack: Stack, chain: str = CHAIN) -> Devnet:
    w3 = w3_for(stack, chain)
    config = stack.chains.get(chain)
    v3, v2 = config.dexes["uniswap_v3"], config.dexes["uniswap_v2"]
    weth, usdc = token(stack, chain, "WETH"), token(stack, chain, "USDC")
    pools = {
        p.fee: w3.eth.contract(address=p.address, abi=artifact("UniswapV3Pool")["abi"])
        for p in v3.pools
        if {p.token0, p.token1} == {weth, usdc}
    }
    pair = next(p for p in v2.pools if {p.token0, p.token1} == {weth, usdc})
    assert v3.position_manager
    return Devnet(
        chain=chain,
        w3=w3,
        weth=weth,
        usdc=usdc,
        t0=min(weth, usdc, key=lambda a: int(a, 16)),
        t1=max(weth, usdc, key=lambda a: int(a, 16)),
        npm=w3.eth.contract(address=v3.position_manager, abi=artifact("NonfungiblePositionManager")["abi"]),
        staker=w3.eth.contract(address=v3.staker, abi=artifact("UniswapV3Staker")["abi"]) if v3.staker else None,
        incentive=v3.incentives[0] if v3.incentives else None,
        v2_pair=w3.eth.contract(address=pair.address, abi=artifact("UniswapV2Pair")["abi"]),
        pools=pools,
    )


def erc20(net: Devnet, address: str) -> Any:
    return net.w3.eth.contract(address=Web3.to_checksum_address(address), abi=ERC20_ABI)


def wallet(net: Devnet, owner: str) -> tuple[int, int]:
    """The owner's (token0, token1) of the WETH/USDC pools."""
    t0, t1 = sorted([net.weth, net.usdc], key=lambda a: int(a, 16))
    return (
        int(erc20(net, t0).functions.balanceOf(owner).call()),
        int(erc20(net, t1).functions.balanceOf(owner).call()),
    )


def spot_tick(net: Devnet, fee: int) -> int:
    return int(net.pools[fee].functions.slot0().call()[1])


def around(net: Devnet, fee: int, below: int, above: int) -> tuple[int, int]:
    spacing = int(net.pools[fee].functions.tickSpacing().call())
    base = spot_tick(net, fee) // spacing * spacing
    return base - below * spacing, base + above * spacing


def _send(net: Devnet, owner: LocalAccount, to: str, data: str, gas: int = 1_000_000) -> Any:
    tx_hash = send_tx(net.w3, owner, {"to": to, "data": data, "gas": gas})
    return net.w3.eth.get_transaction_receipt(tx_hash)


def mint_position(stack: Stack, net: Devnet, owner: LocalAccount, fee: int, lower: int, upper: int) -> int:
    """A V3 position of the owner's own, 1 WETH and 3,000 USDC at most; its token id."""
    deal(stack, net.chain, owner.address, "WETH", 2 * ETH)
    deal(stack, net.chain, owner.address, "USDC", 6_000 * USDC)
    for t in (net.weth, net.usdc):
        _send(net, owner, t, erc20(net, t).encode_abi("approve", [net.npm.address, UINT256_MAX]), 100_000)
    t0, t1 = sorted([net.weth, net.usdc], key=lambda a: int(a, 16))
    amounts = (ETH, 3_000 * USDC) if t0 == net.weth else (3_000 * USDC, ETH)
    params = (t0, t1, fee, lower, upper, *amounts, 0, 0, owner.address, UINT256_MAX)
    receipt = _send(net, owner, net.npm.address, net.npm.encode_abi("mint", [params]))
    (minted,) = [
        e for e in net.npm.events.Transfer().process_receipt(receipt, errors=DISCARD) if int(e.args["from"], 16) == 0
    ]
    for t in (net.weth, net.usdc):  # leave no allowance behind: the migration's own are checked
        _send(net, owner, t, erc20(net, t).encode_abi("approve", [net.npm.address, 0]), 100_000)
    return int(minted.args["tokenId"])


def stake(stack: Stack, net: Devnet, owner: LocalAccount, token_id: int) -> None:
    """Deposit and stake in the seeded incentive (advancing chain time to its start if needed)."""
    now = int(net.w3.eth.get_block("latest")["timestamp"])
    if now < net.incentive.start_time:
        stack.anvil(CHAIN, "evm_increaseTime", net.incentive.start_time - now + 1)
        stack.anvil(CHAIN, "evm_mine")
    data = net.w3.codec.encode([INCENTIVE_KEY], [incentive_key(net.incentive)])
    call = net.npm.encode_abi("safeTransferFrom", [owner.address, net.staker.address, token_id, data])
    _send(net, owner, net.npm.address, call)
    assert net.staker.functions.stakes(token_id, incentive_id(net)).call()[1] > 0


def incentive_id(net: Devnet) -> bytes:
    return incentive_id_of(net.incentive)


def position_gone(net: Devnet, token_id: int) -> bool:
    try:
        net.npm.functions.ownerOf(token_id).call()
    except Exception:  # noqa: BLE001 - ERC721: ownerOf of a burned token reverts
        return True
    return False


def position_amounts(net: Devnet, token_id: int, holder: str) -> tuple[int, int]:
    """What removing all of it would release now, plus what it owes: a static call as ``holder``."""
    liquidity = int(net.npm.functions.positions(token_id).call()[7])
    if liquidity == 0:
        return 0, 0
    return tuple(  # type: ignore[return-value]
        net.npm.functions.decreaseLiquidity((token_id, liquidity, 0, 0, UINT256_MAX)).call({"from": holder})
    )


def usdc_per_token(net: Devnet) -> tuple[Decimal, Decimal]:
    """USDC base units per base unit of (token0, token1), from the 0.05% pool's price."""
    sqrt_price = int(net.pools[500].functions.slot0().call()[0])
    one_per_zero = Decimal(sqrt_price) ** 2 / Decimal(2**192)
    t0, _ = sorted([net.weth, net.usdc], key=lambda a: int(a, 16))
    return (one_per_zero, Decimal(1)) if t0 == net.weth else (Decimal(1), 1 / one_per_zero)


def migration_request(
    owner: str, rid: str, source: dict[str, Any], target: dict[str, Any], **kw: Any
) -> LPMigrationRequest:
    return LPMigrationRequest.model_validate(
        {
            "request_id": rid,
            "chain": kw.pop("chain", CHAIN),
            "owner": owner,
            "source": source,
            "target": target,
            "fees": FeePolicy(max_fee_per_gas_cap=100 * GWEI),
            "policy": ReplacementPolicy(poll_interval_ms=50),
            **kw,
        }
    )


@dataclass
class Farm:
    """The owner's SushiSwap WETH/USDC LP: ``staked`` in MasterChef farm ``pid``, ``held`` in the wallet."""

    chef: Any
    pair: Any
    reward: Any
    pid: int
    staked: int
    held: int


def farm_lp(stack: Stack, net: Devnet, owner: LocalAccount, stake_share: Fraction = Fraction(1)) -> Farm:
    """SushiSwap WETH/USDC LP tokens for ``owner`` (0.5 WETH and the USDC the reserves ask
    for, sent to the pair, then ``mint``), ``stake_share`` of them staked in MasterChef."""
    chef_info = stack.chains.get(net.chain).dexes["sushiswap"].masterchef
    assert chef_info is not None
    farm = next(f for f in chef_info.farms if _is_pair_of(net, f.lp_token))
    pair = net.w3.eth.contract(address=Web3.to_checksum_address(farm.lp_token), abi=artifact("UniswapV2Pair")["abi"])
    chef = net.w3.eth.contract(address=Web3.to_checksum_address(chef_info.address), abi=artifact("MasterChef")["abi"])
    reserve0, reserve1, _ = pair.functions.getReserves().call()
    weth_is_0 = pair.functions.token0().call() == net.weth
    weth_reserve, usdc_reserve = (reserve0, reserve1) if weth_is_0 else (reserve1, reserve0)
    weth, usdc = ETH // 2, ETH // 2 * usdc_reserve // weth_reserve
    deal(stack, net.chain, owner.address, "WETH", weth)
    deal(stack, net.chain, owner.address, "USDC", usdc)
    for t, amount in ((net.weth, weth), (net.usdc, usdc)):
        _send(net, owner, t, erc20(net, t).encode_abi("transfer", [pair.address, amount]), 100_000)
    _send(net, owner, pair.address, pair.encode_abi("mint", [owner.address]))
    lp = int(pair.functions.balanceOf(owner.address).call())
    staked = int(lp * stake_share)
    _send(net, owner, pair.address, pair.encode_abi("approve", [chef.address, staked]), 100_000)
    _send(net, owner, chef.address, chef.encode_abi("deposit", [farm.pid, staked]), 300_000)
    return Farm(chef, pair, erc20(net, chef_info.reward_token), farm.pid, staked, lp - staked)


def _is_pair_of(net: Devnet, lp_token: str) -> bool:
    pair = net.w3.eth.contract(address=Web3.to_checksum_address(lp_token), abi=artifact("UniswapV2Pair")["abi"])
    return {pair.functions.token0().call(), pair.functions.token1().call()} == {net.weth, net.usdc}
