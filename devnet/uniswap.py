"""Deploy Uniswap V2 and V3 (real npm bytecode) onto a devnet chain and seed their pools.

V2: UniswapV2Factory, UniswapV2Router02 (with the chain's WETH9). V3: UniswapV3Factory (plus
the 0.01% tier), SwapRouter, QuoterV2, and the NonfungiblePositionManager with the real
NonfungibleTokenPositionDescriptor (its NFTDescriptor library linked in), so ``tokenURI``
works like on mainnet. Pools: see :mod:`devnet.uniswap_seed`.

SushiSwap is a V2 fork by configuration: its npm package ships sources and ABIs but no
factory/router bytecode, so the devnet deploys the Uniswap V2 factory and Router02 bytecode
again under a second factory (same pair code, so the same init-code hash; other pair
addresses). Liquidity mining: Uniswap's V3Migrator and UniswapV3Staker (npm bytecode) with
an incentive on WETH/USDC 0.05%, and SushiSwap's MasterChef (compiled from its npm source by
``contracts/build.py``) farming the SushiSwap pairs' LP tokens, all rewarding SushiToken.

Like :mod:`devnet.deploy`, every transaction is signed locally with an explicit nonce and
gas limit and sent back to back; contract and pool addresses are known in advance (CREATE
from the deployer's nonce, CREATE2 from the factory), and all receipts are awaited once.
The whole plan is ~75 transactions a chain.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.abi import function_signature_to_4byte_selector
from web3 import AsyncWeb3
from web3.types import Nonce
from web3.utils.address import get_create_address

from connectors.dex.create2 import sort_tokens, v2_pair_address, v3_pool_address
from connectors.evm.client import async_http_provider
from crosslane.domain.chains import (
    ChainConfig,
    DexDeployment,
    DexPoolInfo,
    LiquidityFarm,
    MasterChefInfo,
    V3Incentive,
)
from devnet.anvil import DEFAULT_MNEMONIC, DevnetError, dev_account
from devnet.deploy import PRIORITY_FEE_WEI, mined_receipts
from devnet.uniswap_artifacts import check_init_code_hashes, creation_code
from devnet.uniswap_seed import (
    FARMS,
    INCENTIVE_DURATION,
    INCENTIVE_POOL,
    INCENTIVE_REWARD,
    INCENTIVE_START_LEAD,
    MASTERCHEF_BONUS_BLOCKS,
    STAKER_MAX_DURATION,
    STAKER_MAX_START_LEAD,
    SUSHI_MARKET_SUSHI,
    SUSHI_MARKET_WETH,
    SUSHI_PER_BLOCK,
    SUSHISWAP_PAIRS,
    V2_PAIRS,
    V3_EXTRA_FEE_TIERS,
    V3_FEE_TIERS,
    V3_POOLS,
    V2PairSeed,
    fee_label,
    v3_pool_plan,
)

UINT256_MAX = 2**256 - 1
V2_FEE_PIPS = 3000

# Explicit gas limits, ~30% over what each uses on a fresh devnet (measured with anvil 1.7):
# anvil's estimates are not trusted (DESIGN.md) and estimating costs a round trip each.
DEPLOY_GAS = {
    "UniswapV2Factory": 4_000_000,  # 3.05M: it embeds the pair's creation code
    "UniswapV2Router02": 6_200_000,  # 4.76M
    "UniswapV3Factory": 7_100_000,  # 5.44M: it embeds the pool's creation code
    "SwapRouter": 3_500_000,  # 2.67M
    "QuoterV2": 2_400_000,  # 1.84M
    "NFTDescriptor": 7_000_000,  # 5.34M
    "NonfungibleTokenPositionDescriptor": 1_600_000,  # 1.20M
    "NonfungiblePositionManager": 7_200_000,  # 5.47M
    "V3Migrator": 2_300_000,  # 1.71M
    "UniswapV3Staker": 4_400_000,  # 3.35M
    "SushiSwapFactory": 4_000_000,  # the Uniswap V2 factory's code, 3.05M
    "SushiSwapRouter": 6_200_000,  # 4.76M
    "SushiToken": 2_200_000,  # 1.62M
    "MasterChef": 2_300_000,  # 1.75M
}
GAS = {
    "call": 150_000,  # token mint / approve, WETH deposit, enableFeeAmount: 34k-48k
    "v2_add_liquidity": 3_600_000,  # 2.72M: creates the pair on first liquidity
    "v3_create_pool": 6_000_000,  # 4.61M: deploys and initializes the pool
    "v3_mint": 800_000,  # 340k-610k: ticks, position, NFT
    "create_incentive": 150_000,  # 81k
    "masterchef_add": 200_000,  # 105k-139k: the first one grows the pool array
}


@dataclass
class _Plan:
    """Transactions from one sender, in nonce order; creations get their address up front."""

    sender: ChecksumAddress
    first_nonce: int
    txs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    created: dict[str, ChecksumAddress] = field(default_factory=dict)

    def create(self, label: str, code: bytes) -> ChecksumAddress:
        address = get_create_address(self.sender, Nonce(self.first_nonce + len(self.txs)))
        self.txs.append((label, {"data": "0x" + code.hex(), "gas": DEPLOY_GAS[label]}))
        self.created[label] = address
        return address

    def call(self, label: str, to: str, signature: str, args: list[Any], gas: int, value: int = 0) -> None:
        arg_types = signature[signature.index("(") + 1 : -1]
        data = function_signature_to_4byte_selector(signature) + (
            abi_encode(_split_types(arg_types), args) if args else b""
        )
        self.txs.append((label, {"to": to, "data": "0x" + data.hex(), "gas": gas, "value": value}))


def _split_types(arg_types: str) -> list[str]:
    """Top-level comma split of an ABI argument list (tuples keep their inner commas)."""
    parts, depth, current = [], 0, ""
    for ch in arg_types:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        current += ch
    return parts + ([current] if current else [])


async def deploy_uniswap(
    rpc_url: str, chain: ChainConfig, *, mnemonic: str = DEFAULT_MNEMONIC, receipt_timeout: float = 30.0
) -> ChainConfig:
    """Deploy and seed Uniswap V2/V3 on ``rpc_url``; ``chain`` (from ``deploy_chain``) plus
    the new contracts in ``contracts`` and both deployments in ``dexes``."""
    w3 = AsyncWeb3(async_http_provider(rpc_url))
    try:
        return await _deploy(w3, chain, mnemonic, receipt_timeout)
    finally:
        await w3.provider.disconnect()


async def _deploy(w3: AsyncWeb3[Any], chain: ChainConfig, mnemonic: str, receipt_timeout: float) -> ChainConfig:
    hashes = check_init_code_hashes()
    deployer, key = dev_account(0, mnemonic)
    nonce, block = await asyncio.gather(w3.eth.get_transaction_count(deployer, "pending"), w3.eth.get_block("latest"))
    base_fee = int(block.get("baseFeePerGas", 0) or 0)
    plan = _Plan(deployer, nonce)
    weth = chain.contracts["WETH9"]
    tokens = chain.tokens
    deadline = UINT256_MAX

    # Contracts.
    v2_factory = plan.create(
        "UniswapV2Factory", creation_code("UniswapV2Factory") + abi_encode(["address"], [deployer])
    )
    v2_router = plan.create(
        "UniswapV2Router02",
        creation_code("UniswapV2Router02") + abi_encode(["address", "address"], [v2_factory, weth]),
    )
    v3_factory = plan.create("UniswapV3Factory", creation_code("UniswapV3Factory"))
    for fee, spacing in V3_EXTRA_FEE_TIERS.items():
        plan.call(f"enableFeeAmount({fee})", v3_factory, "enableFeeAmount(uint24,int24)", [fee, spacing], GAS["call"])
    periphery_args = abi_encode(["address", "address"], [v3_factory, weth])
    swap_router = plan.create("SwapRouter", creation_code("SwapRouter") + periphery_args)
    quoter = plan.create("QuoterV2", creation_code("QuoterV2") + periphery_args)
    nft_descriptor = plan.create("NFTDescriptor", creation_code("NFTDescriptor"))
    descriptor = plan.create(
        "NonfungibleTokenPositionDescriptor",
        creation_code("NonfungibleTokenPositionDescriptor", {"NFTDescriptor": nft_descriptor})
        + abi_encode(["address", "bytes32"], [weth, b"ETH".ljust(32, b"\0")]),
    )
    position_manager = plan.create(
        "NonfungiblePositionManager",
        creation_code("NonfungiblePositionManager")
        + abi_encode(["address", "address", "address"], [v3_factory, weth, descriptor]),
    )

    # Token amounts the liquidity mints pull from the deployer, per spender.
    v3_plans = [v3_pool_plan(seed, tokens) for seed in V3_POOLS]
    # SushiSwap: a Uniswap V2 fork by configuration, the Uniswap V2 bytecode under its own factory.
    sushi_factory = plan.create(
        "SushiSwapFactory", creation_code("UniswapV2Factory") + abi_encode(["address"], [deployer])
    )
    sushi_router = plan.create(
        "SushiSwapRouter",
        creation_code("UniswapV2Router02") + abi_encode(["address", "address"], [sushi_factory, weth]),
    )
    v2_seeds: list[tuple[str, str, tuple[V2PairSeed, ...]]] = [
        (v2_factory, v2_router, V2_PAIRS),
        (sushi_factory, sushi_router, SUSHISWAP_PAIRS),
    ]
    pulls: dict[str, dict[str, int]] = {v2_router: {}, sushi_router: {}, position_manager: {}}
    for _factory, router, pairs in v2_seeds:
        for pair in pairs:
            for symbol, whole in ((pair.token_a, pair.amount_a), (pair.token_b, pair.amount_b)):
                address = tokens[symbol].address
                pulls[router][address] = pulls[router].get(address, 0) + whole * 10 ** tokens[symbol].decimals
    for pool_plan in v3_plans:
        for position in pool_plan.positions:
            for address, owed in ((position.token0, position.amount0_owed), (position.token1, position.amount1_owed)):
                pulls[position_manager][address] = pulls[position_manager].get(address, 0) + owed

    # Fund exactly that (test tokens minted, ETH wrapped), approve exactly that.
    totals: dict[str, int] = {}
    for per_token in pulls.values():
        for address, amount in per_token.items():
            totals[address] = totals.get(address, 0) + amount
    for address, amount in totals.items():
        if address == weth:
            plan.call("wrap ETH", weth, "deposit()", [], GAS["call"], value=amount)
        else:
            plan.call(f"mint {address}", address, "mint(address,uint256)", [deployer, amount], GAS["call"])
    for spender, per_token in pulls.items():
        for address, amount in per_token.items():
            plan.call(f"approve {address}", address, "approve(address,uint256)", [spender, amount], GAS["call"])

    # V2 pairs: Router02 creates each pair and adds the first liquidity.
    v2_pools: dict[str, list[DexPoolInfo]] = {}
    for factory, router, pairs in v2_seeds:
        for pair in pairs:
            a, b = tokens[pair.token_a], tokens[pair.token_b]
            amount_a, amount_b = pair.amount_a * 10**a.decimals, pair.amount_b * 10**b.decimals
            plan.call(
                f"addLiquidity {pair.token_a}/{pair.token_b} at {factory}",
                router,
                "addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256)",
                [a.address, b.address, amount_a, amount_b, amount_a, amount_b, deployer, deadline],
                GAS["v2_add_liquidity"],
            )
            address = v2_pair_address(factory, hashes["UniswapV2Pair"], a.address, b.address)
            label = f"{pair.token_a}/{pair.token_b}"
            v2_pools.setdefault(factory, []).append(_pool_info(address, a.address, b.address, label, V2_FEE_PIPS, None))

    # V3 pools: create at the seeded price, then mint every range.
    v3_pools = []
    for pool_plan in v3_plans:
        seed = pool_plan.seed
        plan.call(
            f"createAndInitializePoolIfNecessary {seed.token_a}/{seed.token_b} {seed.fee}",
            position_manager,
            "createAndInitializePoolIfNecessary(address,address,uint24,uint160)",
            [pool_plan.token0, pool_plan.token1, seed.fee, pool_plan.sqrt_price_x96],
            GAS["v3_create_pool"],
        )
        for position in pool_plan.positions:
            plan.call(
                f"mint {seed.token_a}/{seed.token_b} {seed.fee} [{position.tick_lower}, {position.tick_upper})",
                position_manager,
                "mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))",
                [
                    (
                        position.token0,
                        position.token1,
                        position.fee,
                        position.tick_lower,
                        position.tick_upper,
                        position.amount0_desired,
                        position.amount1_desired,
                        0,
                        0,
                        deployer,
                        deadline,
                    )
                ],
                GAS["v3_mint"],
            )
        address = v3_pool_address(v3_factory, hashes["UniswapV3Pool"], pool_plan.token0, pool_plan.token1, seed.fee)
        label = f"{seed.token_a}/{seed.token_b}"
        v3_pools.append(
            _pool_info(address, pool_plan.token0, pool_plan.token1, label, seed.fee, V3_FEE_TIERS[seed.fee])
        )

    incentive_pool = next(
        p
        for p, plan_ in zip(v3_pools, v3_plans, strict=True)
        if (plan_.seed.token_a, plan_.seed.token_b, plan_.seed.fee) == INCENTIVE_POOL
    )
    sushi_market = _SushiMarket(sushi_factory, sushi_router, hashes["UniswapV2Pair"], deadline)
    staker, incentive, masterchef = _plan_liquidity_mining(
        plan, block, weth, v3_factory, position_manager, incentive_pool, v2_pools[sushi_factory], sushi_market
    )

    await _send(w3, plan, key, await w3.eth.chain_id, base_fee, chain.name, receipt_timeout)

    contracts = dict(chain.contracts)
    contracts.update(plan.created)
    dexes = dict(chain.dexes)
    for name, factory, router in (("uniswap_v2", v2_factory, v2_router), ("sushiswap", sushi_factory, sushi_router)):
        dexes[name] = DexDeployment(
            protocol="uniswap_v2",
            factory=factory,
            init_code_hash=hashes["UniswapV2Pair"],
            router=router,
            fee_tiers={V2_FEE_PIPS: None},
            pools=v2_pools[factory],
            masterchef=masterchef if factory == sushi_factory else None,
        )
    dexes["uniswap_v3"] = DexDeployment(
        protocol="uniswap_v3",
        factory=v3_factory,
        init_code_hash=hashes["UniswapV3Pool"],
        router=swap_router,
        quoter=quoter,
        position_manager=position_manager,
        fee_tiers=dict(V3_FEE_TIERS),
        pools=v3_pools,
        migrator=plan.created["V3Migrator"],
        staker=staker,
        incentives=[incentive],
    )
    return chain.model_copy(update={"contracts": contracts, "dexes": dexes})


def _plan_liquidity_mining(
    plan: _Plan,
    block: Any,
    weth: str,
    v3_factory: str,
    position_manager: str,
    incentive_pool: DexPoolInfo,
    sushi_pools: list[DexPoolInfo],
    sushi_market: _SushiMarket,
) -> tuple[str, V3Incentive, MasterChefInfo]:
    """V2->V3 migration, a V3 staker incentive and MasterChef farms, all rewarding SUSHI (the
    deployer mints the incentive's, then hands the token to MasterChef): the staker, the
    incentive and MasterChef."""
    deployer = plan.sender
    plan.create(
        "V3Migrator", creation_code("V3Migrator") + abi_encode(["address"] * 3, [v3_factory, weth, position_manager])
    )
    staker = plan.create(
        "UniswapV3Staker",
        creation_code("UniswapV3Staker")
        + abi_encode(
            ["address", "address", "uint256", "uint256"],
            [v3_factory, position_manager, STAKER_MAX_START_LEAD, STAKER_MAX_DURATION],
        ),
    )
    sushi = plan.create("SushiToken", creation_code("SushiToken"))
    plan.call("mint SUSHI", sushi, "mint(address,uint256)", [deployer, INCENTIVE_REWARD], GAS["call"])
    plan.call("approve SUSHI", sushi, "approve(address,uint256)", [staker, INCENTIVE_REWARD], GAS["call"])
    sushi_pools.append(_plan_sushi_market(plan, sushi, weth, sushi_market))
    start = int(block["timestamp"]) + INCENTIVE_START_LEAD
    incentive = V3Incentive(
        reward_token=sushi,
        pool=incentive_pool.address,
        start_time=start,
        end_time=start + INCENTIVE_DURATION,
        refundee=deployer,
        reward=INCENTIVE_REWARD,
    )
    plan.call(
        f"createIncentive {incentive_pool.label}",
        staker,
        "createIncentive((address,address,uint256,uint256,address),uint256)",
        [
            (incentive.reward_token, incentive.pool, incentive.start_time, incentive.end_time, incentive.refundee),
            INCENTIVE_REWARD,
        ],
        GAS["create_incentive"],
    )
    bonus_end = int(block["number"]) + MASTERCHEF_BONUS_BLOCKS
    chef = plan.create(
        "MasterChef",
        creation_code("MasterChef")
        + abi_encode(
            ["address", "address", "uint256", "uint256", "uint256"], [sushi, deployer, SUSHI_PER_BLOCK, 0, bonus_end]
        ),
    )
    plan.call("SUSHI to MasterChef", sushi, "transferOwnership(address)", [chef], GAS["call"])
    farms = []
    for pid, farm in enumerate(FARMS):
        pool = sushi_pools[farm.pair]
        plan.call(
            f"MasterChef add {pool.label}",
            chef,
            "add(uint256,address,bool)",
            [farm.alloc_point, pool.address, False],
            GAS["masterchef_add"],
        )
        farms.append(LiquidityFarm(pid=pid, lp_token=pool.address, alloc_point=farm.alloc_point, label=pool.label))

    masterchef = MasterChefInfo(
        address=chef, reward_token=sushi, reward_per_block=SUSHI_PER_BLOCK, bonus_end_block=bonus_end, farms=farms
    )
    return staker, incentive, masterchef


@dataclass(frozen=True)
class _SushiMarket:
    factory: str
    router: str
    pair_hash: str
    deadline: int


def _plan_sushi_market(plan: _Plan, sushi: str, weth: str, market: _SushiMarket) -> DexPoolInfo:
    """SUSHI/WETH on SushiSwap (the deployer mints and wraps exactly what the pair takes):
    where rewards paid in SUSHI are sold."""
    deployer, router = plan.sender, market.router
    amount_sushi, amount_weth = SUSHI_MARKET_SUSHI * 10**18, SUSHI_MARKET_WETH * 10**18
    plan.call("mint SUSHI for its market", sushi, "mint(address,uint256)", [deployer, amount_sushi], GAS["call"])
    plan.call("wrap ETH for the SUSHI market", weth, "deposit()", [], GAS["call"], value=amount_weth)
    for token, amount in ((sushi, amount_sushi), (weth, amount_weth)):
        plan.call(f"approve {token} to SushiSwap", token, "approve(address,uint256)", [router, amount], GAS["call"])
    plan.call(
        "addLiquidity SUSHI/WETH at SushiSwap",
        router,
        "addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256)",
        [sushi, weth, amount_sushi, amount_weth, amount_sushi, amount_weth, deployer, market.deadline],
        GAS["v2_add_liquidity"],
    )
    address = v2_pair_address(market.factory, market.pair_hash, sushi, weth)
    return _pool_info(address, sushi, weth, "SUSHI/WETH", V2_FEE_PIPS, None)


def _pool_info(address: str, token_a: str, token_b: str, label: str, fee: int, spacing: int | None) -> DexPoolInfo:
    token0, token1 = sort_tokens(token_a, token_b)
    return DexPoolInfo(
        address=address, token0=token0, token1=token1, fee=fee, tick_spacing=spacing, label=f"{label} {fee_label(fee)}"
    )


async def _send(
    w3: AsyncWeb3[Any], plan: _Plan, key: str, chain_id: int, base_fee: int, chain_name: str, receipt_timeout: float
) -> None:
    fee_fields = {"maxPriorityFeePerGas": PRIORITY_FEE_WEI, "maxFeePerGas": 2 * base_fee + PRIORITY_FEE_WEI}
    hashes = []
    for i, (_label, tx) in enumerate(plan.txs):
        signed = Account.sign_transaction(
            {"chainId": chain_id, "nonce": plan.first_nonce + i, "value": 0, **tx, **fee_fields}, key
        )
        hashes.append(await w3.eth.send_raw_transaction(signed.raw_transaction))
    receipts = await mined_receipts(w3, hashes, receipt_timeout, chain_name)
    for (label, tx), receipt in zip(plan.txs, receipts, strict=True):
        if receipt["status"] != 1:
            raise DevnetError(
                f"{chain_name}: {label} reverted (tx {receipt['transactionHash'].hex()}, "
                f"gas used {receipt['gasUsed']} of {tx['gas']})"
            )
        expected = plan.created.get(label)
        if expected is not None and receipt["contractAddress"] != expected:
            raise DevnetError(f"{chain_name}: {label} deployed at {receipt['contractAddress']}, expected {expected}")
