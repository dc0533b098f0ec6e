"""DexLiquidity end to end: real Temporal, worker, anvil and the real Uniswap contracts.

* V2: add then remove through Router02; amounts reconcile with the pair's Mint/Burn events
  and the owner's balances; the LP balance returns to 0.
* V3: a position minted in a range around the price; fees accrued by another account's
  swaps through SwapRouter (calldata built here with web3); the uncollected fees computed
  off-chain equal what collect pays, to the wei; decreased to zero, collected, burned;
  amounts reconcile with the manager's and the pool's events.
* A mint whose price moves past its slippage bound before it is mined reverts; the run fails
  non-retryably with the contract's reason, and nothing is lost.
* Bad input is refused with a clear message and no transaction.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from web3 import Web3
from web3.logs import DISCARD

from connectors.dex import build_dexes
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.dex.uniswap_v3.positions import UniswapV3Positions
from connectors.evm.client import EvmClient
from connectors.evm.erc20 import ERC20_ABI as ERC20_READ_WRITE_ABI
from crosslane.domain.dex_liquidity import LIQUIDITY_WORKFLOW, LiquidityRequest, LiquidityResult
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from crosslane.errors import describe_validation_error
from devnet.anvil import REPO_ROOT
from devnet.mining import manual_mining
from devnet.uniswap_artifacts import artifact
from tests.support.stack import ETH, Stack, crosslane_client, running_worker, unique_queue

pytestmark = pytest.mark.timeout(240)

GWEI = 10**9
USDC = 10**6
UINT256_MAX = 2**256 - 1
ERC20_ABI = [
    *ERC20_READ_WRITE_ABI,
    {
        "type": "function",
        "name": "mint",  # devnet TestToken: open mint
        "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [],
    },
    {"type": "function", "name": "deposit", "stateMutability": "payable", "inputs": [], "outputs": []},  # WETH9
]


class Wallet:
    """An account outside Crosslane (a trader, a faucet) that signs and sends with web3 directly."""

    def __init__(self, w3: Web3, account: LocalAccount) -> None:
        self.w3 = w3
        self.account = account
        self.address = account.address

    def send(self, to: str, data: str, value: int = 0) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(self.send_nowait(to, data, value))
        assert receipt["status"] == 1, f"{to} {data[:10]} reverted"
        return receipt

    def send_nowait(self, to: str, data: str, value: int = 0, tip: int = GWEI) -> Any:
        """Sign and send; the hash, without waiting for a block."""
        tx = {
            "chainId": self.w3.eth.chain_id,
            "nonce": self.w3.eth.get_transaction_count(self.address, "pending"),
            "to": to,
            "data": data,
            "value": value,
            "gas": 1_000_000,
            "maxFeePerGas": 100 * GWEI,
            "maxPriorityFeePerGas": tip,
        }
        return self.w3.eth.send_raw_transaction(self.account.sign_transaction(tx).raw_transaction)

    def token(self, address: str) -> Any:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=ERC20_ABI)

    def fund(self, to: str, token: str, amount: int, weth: str) -> None:
        """Give ``to`` ``amount`` of ``token``: open mint for test tokens, wrap ETH for WETH."""
        contract = self.token(token)
        if token == weth:
            self.send(weth, contract.encode_abi("deposit", []), value=amount)
            self.send(weth, contract.encode_abi("transfer", [to, amount]))
        else:
            self.send(token, contract.encode_abi("mint", [to, amount]))

    def approve(self, token: str, spender: str) -> None:
        self.send(token, self.token(token).encode_abi("approve", [spender, UINT256_MAX]))


def new_wallet(stack: Stack, chain: str) -> Wallet:
    account = Account.from_key("0x" + secrets.token_hex(32))
    stack.anvil(chain, "anvil_setBalance", account.address, hex(10_000 * ETH))
    return Wallet(Web3(Web3.HTTPProvider(stack.anvil_urls[chain])), account)


@dataclass
class Chain:
    name: str
    w3: Web3
    weth: str
    usdc: str
    tokens: dict[str, str]


def chain_of(stack: Stack, name: str) -> Chain:
    config = stack.chains.get(name)
    tokens = {symbol: t.address for symbol, t in config.tokens.items()}
    return Chain(name, Web3(Web3.HTTPProvider(stack.anvil_urls[name])), tokens["WETH"], tokens["USDC"], tokens)


def balance(chain: Chain, token: str, owner: str) -> int:
    return int(chain.w3.eth.contract(address=token, abi=ERC20_ABI).functions.balanceOf(owner).call())


def request(owner: str, rid: str, operation: dict[str, Any], chain: str = "devnet-a", **kw: Any) -> LiquidityRequest:
    return LiquidityRequest.model_validate(
        {
            "request_id": rid,
            "chain": chain,
            "owner": owner,
            "operation": operation,
            "fees": FeePolicy(max_fee_per_gas_cap=100 * GWEI),
            "policy": ReplacementPolicy(poll_interval_ms=50),
            **kw,
        }
    )


async def run_lp(
    client: Client,
    queue: str,
    req: LiquidityRequest,
    reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.REJECT_DUPLICATE,
) -> LiquidityResult:
    """Start (or join: the workflow id is the business key) and await the result."""
    started = time.monotonic()
    try:
        handle = await client.start_workflow(
            LIQUIDITY_WORKFLOW,
            req,
            id=req.workflow_id,
            task_queue=queue,
            result_type=LiquidityResult,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=reuse,
        )
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(req.workflow_id, result_type=LiquidityResult)
    result = await handle.result()
    print(f"{req.operation.action}: {time.monotonic() - started:.2f}s")
    return result


def receipt_events(chain: Chain, tx_hash: str, contract: Any, event: str) -> list[Any]:
    """``event``s that ``contract`` itself emitted in the transaction, decoded with its ABI."""
    receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
    own = {**receipt, "logs": [log for log in receipt["logs"] if log["address"] == contract.address]}
    return [e["args"] for e in contract.events[event]().process_receipt(own, errors=DISCARD)]


async def positions_cli(stack: Stack, owner: str, chain: str, *, as_json: bool = True) -> Any:
    """``positions`` through a Typer app that registers the command, as the dex CLI does:
    the rows of ``--json``, or the table as text."""
    script = (
        "import typer\nfrom crosslane.cli.dex_positions import register\n"
        "app = typer.Typer()\nregister(app)\n@app.callback()\ndef main() -> None: ...\napp()\n"
    )
    argv = [sys.executable, "-c", script, "positions", "--owner", owner, "--chain", chain]
    done = await asyncio.to_thread(
        subprocess.run,
        argv + (["--json"] if as_json else []),
        capture_output=True,
        text=True,
        env=stack.env(unique_queue(), COLUMNS="200"),
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["positions"] if as_json else done.stdout


def nonce(chain: Chain, address: str) -> int:
    return int(chain.w3.eth.get_transaction_count(address, "pending"))


# --- V2 --------------------------------------------------------------------------------


async def test_v2_add_then_remove_reconciles_with_the_pairs_events(stack: Stack) -> None:
    chain = chain_of(stack, "devnet-a")
    config = stack.chains.get(chain.name)
    owner = stack.fund_signer()
    faucet = new_wallet(stack, chain.name)
    faucet.fund(owner.address, chain.weth, 5 * ETH, chain.weth)
    faucet.fund(owner.address, chain.usdc, 20_000 * USDC, chain.weth)
    pair_info = next(p for p in config.dexes["uniswap_v2"].pools if p.label == "WETH/USDC 0.3%")
    pair = chain.w3.eth.contract(address=pair_info.address, abi=artifact("UniswapV2Pair")["abi"])
    weth_is_0 = pair_info.token0 == chain.weth

    def owner_balances() -> tuple[int, int]:
        weth, usdc = balance(chain, chain.weth, owner.address), balance(chain, chain.usdc, owner.address)
        return (weth, usdc) if weth_is_0 else (usdc, weth)

    queue = unique_queue("lp-v2")
    add = request(
        owner.address,
        unique_queue("v2-add"),
        {"action": "v2_add", "token_a": "WETH", "token_b": "USDC", "amount_a": 2 * ETH, "amount_b": 10_000 * USDC},
    )
    remove = request(
        owner.address, unique_queue("v2-remove"), {"action": "v2_remove", "token_a": "USDC", "token_b": "WETH"}
    )
    async with running_worker(stack, queue):
        client = (await crosslane_client(stack, queue)).temporal
        before = owner_balances()
        added = await run_lp(client, queue, add)
        assert await run_lp(client, queue, add) == added  # same business key: same run, nothing sent twice
        # Even a forced second run (reuse allowed) re-plans but sends nothing new: every step's
        # lifecycle is keyed by (workflow id, step) and finds its transaction in the ledger.
        rerun = await run_lp(client, queue, add, WorkflowIDReusePolicy.ALLOW_DUPLICATE)
        assert (rerun.tx_hash, rerun.amount0, rerun.amount1, rerun.liquidity) == (
            added.tx_hash,
            added.amount0,
            added.amount1,
            added.liquidity,
        )
        after_add = owner_balances()
        lp_after_add = pair.functions.balanceOf(owner.address).call()
        shown = [r for r in await positions_cli(stack, owner.address, chain.name) if r["kind"] == "v2_lp"]
        removed = await run_lp(client, queue, remove)
        after_remove = owner_balances()

    # Add: two approvals (exactly the desired amounts), then addLiquidity; 3 transactions in all.
    assert len(added.approval_tx_hashes) == 2 and nonce(chain, owner.address) == 5
    assert added.pool.address == pair_info.address
    (mint,) = receipt_events(chain, added.tx_hash, pair, "Mint")
    assert (mint["amount0"], mint["amount1"]) == (added.amount0, added.amount1)
    assert added.pool_event is not None and added.pool_event.event == "Mint"
    assert (added.pool_event.amount0, added.pool_event.amount1) == (added.amount0, added.amount1)
    minted = [t for t in receipt_events(chain, added.tx_hash, pair, "Transfer") if t["from"] == "0x" + "00" * 20]
    assert [t["value"] for t in minted if t["to"] == owner.address] == [added.liquidity]
    assert added.lp_balance == added.liquidity == lp_after_add
    assert (before[0] - after_add[0], before[1] - after_add[1]) == (added.amount0, added.amount1)
    # `dex positions` lists the LP tokens and what they would return (rounding down: <= paid in).
    assert [(r["pool"], r["lp_balance"]) for r in shown] == [(pair_info.address, added.liquidity)]
    assert shown[0]["amount0"] <= added.amount0 and shown[0]["amount1"] <= added.amount1
    assert (shown[0]["amount0"], shown[0]["amount1"]) == (removed.amount0, removed.amount1)
    weth_paid = added.amount0 if weth_is_0 else added.amount1
    assert weth_paid == 2 * ETH  # the binding side is deposited in full, the other at the pair's ratio
    # Nothing moved between plan and send: the plan's figures are exact, and its mins 0.5% under.
    expected = added.expected
    assert (expected.amount0, expected.amount1, expected.liquidity) == (added.amount0, added.amount1, added.liquidity)
    assert expected.amount0_min == added.amount0 * 9950 // 10_000

    # Remove (tokens given the other way round): one LP approval, removeLiquidity of everything.
    assert len(removed.approval_tx_hashes) == 1
    assert removed.liquidity == added.liquidity
    (burn,) = receipt_events(chain, removed.tx_hash, pair, "Burn")
    assert (burn["amount0"], burn["amount1"]) == (removed.amount0, removed.amount1)
    assert burn["to"] == owner.address
    moved = receipt_events(chain, removed.tx_hash, pair, "Transfer")
    assert [t["value"] for t in moved if t["from"] == owner.address and t["to"] == pair_info.address] == [
        added.liquidity
    ]
    assert removed.lp_balance == 0 and pair.functions.balanceOf(owner.address).call() == 0
    assert (after_remove[0] - after_add[0], after_remove[1] - after_add[1]) == (removed.amount0, removed.amount1)
    assert (removed.expected.amount0, removed.expected.amount1) == (removed.amount0, removed.amount1)
    # No trade in between: out equals in but for the pair's rounding down.
    for paid, returned in ((added.amount0, removed.amount0), (added.amount1, removed.amount1)):
        assert paid - paid // 10_000 <= returned <= paid


# --- V3 --------------------------------------------------------------------------------


def swap_calldata(router: Any, token_in: str, token_out: str, amount_in: int, recipient: str) -> str:
    params = (token_in, token_out, 3000, recipient, 2**40, amount_in, 0, 0)
    return str(router.encode_abi("exactInputSingle", [params]))


async def test_v3_position_earns_fees_from_other_traders_collect_decrease_burn(stack: Stack) -> None:
    chain = chain_of(stack, "devnet-a")
    config = stack.chains.get(chain.name)
    deployment = config.dexes["uniswap_v3"]
    owner = stack.fund_signer()
    trader = new_wallet(stack, chain.name)
    trader.fund(owner.address, chain.weth, 10 * ETH, chain.weth)
    trader.fund(owner.address, chain.usdc, 40_000 * USDC, chain.weth)
    trader.fund(trader.address, chain.weth, 100 * ETH, chain.weth)
    trader.fund(trader.address, chain.usdc, 400_000 * USDC, chain.weth)
    assert deployment.router is not None and deployment.position_manager is not None
    for token in (chain.weth, chain.usdc):
        trader.approve(token, deployment.router)
    router = chain.w3.eth.contract(address=deployment.router, abi=artifact("SwapRouter")["abi"])
    manager = chain.w3.eth.contract(
        address=deployment.position_manager, abi=artifact("NonfungiblePositionManager")["abi"]
    )

    client = EvmClient(config)
    dex = build_dexes(client)["uniswap_v3"]
    assert isinstance(dex, UniswapV3)
    reader = UniswapV3Positions(dex)
    pool_ref = dex.pool_for(chain.weth, chain.usdc, 3000)
    pool = chain.w3.eth.contract(address=pool_ref.address, abi=artifact("UniswapV3Pool")["abi"])
    tick = int(pool.functions.slot0().call()[1])
    lower, upper = tick // 60 * 60 - 300, tick // 60 * 60 + 360
    weth_is_0 = pool_ref.token0 == chain.weth

    def owner_balances() -> tuple[int, int]:
        weth, usdc = balance(chain, chain.weth, owner.address), balance(chain, chain.usdc, owner.address)
        return (weth, usdc) if weth_is_0 else (usdc, weth)

    def lp(rid: str, operation: dict[str, Any]) -> LiquidityRequest:
        return request(owner.address, unique_queue(rid), operation)

    queue = unique_queue("lp-v3")
    try:
        async with running_worker(stack, queue):
            temporal = (await crosslane_client(stack, queue)).temporal
            before = owner_balances()
            minted = await run_lp(
                temporal,
                queue,
                lp(
                    "v3-mint",
                    {
                        "action": "v3_mint",
                        "token_a": "WETH",
                        "token_b": "USDC",
                        "fee": 3000,
                        "tick_lower": lower,
                        "tick_upper": upper,
                        "amount_a": 2 * ETH,
                        "amount_b": 8_000 * USDC,
                    },
                ),
            )
            after_mint = owner_balances()
            token_id = minted.token_id
            assert token_id is not None
            more = (ETH, 4_000 * USDC) if weth_is_0 else (4_000 * USDC, ETH)
            increase_op = {"action": "v3_increase", "token_id": token_id, "amount0": more[0], "amount1": more[1]}
            increased = await run_lp(temporal, queue, lp("v3-increase", increase_op))
            after_increase = owner_balances()
            total = minted.liquidity + increased.liquidity

            # Other traders swap through the range both ways: the position earns both tokens.
            for _ in range(3):
                trader.send(router.address, swap_calldata(router, chain.weth, chain.usdc, 3 * ETH, trader.address))
                trader.send(router.address, swap_calldata(router, chain.usdc, chain.weth, 9_000 * USDC, trader.address))
            earning = await reader.position(token_id)
            assert earning.in_range and earning.uncollected0 > 0 and earning.uncollected1 > 0
            (shown,) = [
                r for r in await positions_cli(stack, owner.address, chain.name) if r.get("token_id") == token_id
            ]
            table = await positions_cli(stack, owner.address, chain.name, as_json=False)

            collected = await run_lp(temporal, queue, lp("v3-collect", {"action": "v3_collect", "token_id": token_id}))
            after_collect = owner_balances()
            principal = await reader.position(token_id)
            decreased = await run_lp(
                temporal, queue, lp("v3-decrease", {"action": "v3_decrease", "token_id": token_id})
            )
            after_decrease = owner_balances()
            owed = await reader.position(token_id)
            swept = await run_lp(temporal, queue, lp("v3-sweep", {"action": "v3_collect", "token_id": token_id}))
            after_sweep = owner_balances()
            burned = await run_lp(temporal, queue, lp("v3-burn", {"action": "v3_burn", "token_id": token_id}))
            remaining = await reader.owned_token_ids(owner.address)
    finally:
        await client.close()

    # Mint: the manager's IncreaseLiquidity, the pool's Mint and the owner's balances agree.
    assert len(minted.approval_tx_hashes) == 2
    assert minted.liquidity > 0 and minted.position_liquidity == minted.liquidity
    (increase,) = receipt_events(chain, minted.tx_hash, manager, "IncreaseLiquidity")
    assert (increase["tokenId"], increase["liquidity"]) == (token_id, minted.liquidity)
    assert (increase["amount0"], increase["amount1"]) == (minted.amount0, minted.amount1)
    (pool_mint,) = receipt_events(chain, minted.tx_hash, pool, "Mint")
    assert (pool_mint["tickLower"], pool_mint["tickUpper"]) == (lower, upper)
    assert (pool_mint["amount"], pool_mint["amount0"], pool_mint["amount1"]) == (
        minted.liquidity,
        minted.amount0,
        minted.amount1,
    )
    assert (before[0] - after_mint[0], before[1] - after_mint[1]) == (minted.amount0, minted.amount1)
    assert (minted.expected.amount0, minted.expected.amount1, minted.expected.liquidity) == (
        minted.amount0,
        minted.amount1,
        minted.liquidity,
    )

    # Increase: the same reconciliation; the position holds both liquidity additions.
    assert increased.token_id == token_id and increased.liquidity > 0 and increased.position_liquidity == total
    (added_more,) = receipt_events(chain, increased.tx_hash, manager, "IncreaseLiquidity")
    (pool_mint_more,) = receipt_events(chain, increased.tx_hash, pool, "Mint")
    assert (added_more["liquidity"], added_more["amount0"], added_more["amount1"]) == (
        pool_mint_more["amount"],
        pool_mint_more["amount0"],
        pool_mint_more["amount1"],
    )
    assert (added_more["liquidity"], added_more["amount0"], added_more["amount1"]) == (
        increased.liquidity,
        increased.amount0,
        increased.amount1,
    )
    assert (after_mint[0] - after_increase[0], after_mint[1] - after_increase[1]) == (
        increased.amount0,
        increased.amount1,
    )

    # The CLI shows what the connector computed, at the same block.
    assert (shown["liquidity"], shown["amount0"], shown["amount1"]) == (
        earning.liquidity,
        earning.amount0,
        earning.amount1,
    )
    assert (shown["uncollected0"], shown["uncollected1"]) == (earning.uncollected0, earning.uncollected1)
    assert "V3 positions" in table and "WETH/USDC 0.3%" in table and "in range" in table

    # Collect: exactly the fees computed off-chain from feeGrowthInside, to the wei.
    assert (collected.amount0, collected.amount1) == (earning.uncollected0, earning.uncollected1)
    (npm_collect,) = receipt_events(chain, collected.tx_hash, manager, "Collect")
    (pool_collect,) = receipt_events(chain, collected.tx_hash, pool, "Collect")
    assert (npm_collect["amount0"], npm_collect["amount1"]) == (collected.amount0, collected.amount1)
    assert (pool_collect["amount0"], pool_collect["amount1"]) == (collected.amount0, collected.amount1)
    assert npm_collect["recipient"] == pool_collect["recipient"] == owner.address
    assert (after_collect[0] - after_increase[0], after_collect[1] - after_increase[1]) == (
        collected.amount0,
        collected.amount1,
    )
    assert collected.position_liquidity == total

    # Decrease to zero: releases exactly the principal computed off-chain; tokens stay owed.
    assert (principal.uncollected0, principal.uncollected1) == (0, 0)
    assert decreased.liquidity == total and decreased.position_liquidity == 0
    assert (decreased.amount0, decreased.amount1) == (principal.amount0, principal.amount1)
    (decrease,) = receipt_events(chain, decreased.tx_hash, manager, "DecreaseLiquidity")
    assert (decrease["liquidity"], decrease["amount0"], decrease["amount1"]) == (
        total,
        decreased.amount0,
        decreased.amount1,
    )
    pool_burns = [b for b in receipt_events(chain, decreased.tx_hash, pool, "Burn") if b["amount"] > 0]
    assert [(b["amount"], b["amount0"], b["amount1"]) for b in pool_burns] == [
        (total, decreased.amount0, decreased.amount1)
    ]
    assert after_decrease == after_collect
    assert (owed.liquidity, owed.uncollected0, owed.uncollected1) == (0, decreased.amount0, decreased.amount1)

    # The second collect sweeps the released principal; then the NFT burns.
    assert (swept.amount0, swept.amount1) == (decreased.amount0, decreased.amount1)
    (sweep_collect,) = receipt_events(chain, swept.tx_hash, pool, "Collect")
    assert (sweep_collect["amount0"], sweep_collect["amount1"]) == (swept.amount0, swept.amount1)
    assert (after_sweep[0] - after_decrease[0], after_sweep[1] - after_decrease[1]) == (swept.amount0, swept.amount1)
    transfers = receipt_events(chain, burned.tx_hash, manager, "Transfer")
    assert [(t["from"], t["to"], t["tokenId"]) for t in transfers] == [(owner.address, "0x" + "00" * 20, token_id)]
    assert remaining == []
    # In all: paid in at mint and increase, paid out fees + principal (the fees came from the
    # trader's swaps): every wei of the owner's balances is accounted for by the results.
    assert (after_sweep[0] - before[0], after_sweep[1] - before[1]) == (
        collected.amount0 + swept.amount0 - minted.amount0 - increased.amount0,
        collected.amount1 + swept.amount1 - minted.amount1 - increased.amount1,
    )


async def test_price_moved_past_the_slippage_bound_reverts_non_retryably_and_nothing_is_lost(stack: Stack) -> None:
    """A mint sent with a 0.1% bound; another trader's swap lands first in the same block and
    moves the price 1%+: the mint reverts ('Price slippage check'), the run fails with
    TransactionReverted naming it, and the owner keeps every token (gas aside)."""
    chain = chain_of(stack, "devnet-b")
    config = stack.chains.get(chain.name)
    url = stack.anvil_urls[chain.name]
    owner = stack.fund_signer()
    trader = new_wallet(stack, chain.name)
    trader.fund(owner.address, chain.weth, 10 * ETH, chain.weth)
    trader.fund(owner.address, chain.usdc, 40_000 * USDC, chain.weth)
    trader.fund(trader.address, chain.weth, 100 * ETH, chain.weth)
    router_address = config.dexes["uniswap_v3"].router
    assert router_address is not None
    trader.approve(chain.weth, router_address)
    router = chain.w3.eth.contract(address=router_address, abi=artifact("SwapRouter")["abi"])
    info = next(p for p in config.dexes["uniswap_v3"].pools if p.label == "WETH/USDC 0.3%")
    pool = chain.w3.eth.contract(address=info.address, abi=artifact("UniswapV3Pool")["abi"])
    base = int(pool.functions.slot0().call()[1]) // 60 * 60
    mint = request(
        owner.address,
        unique_queue("v3-slipped"),
        {
            "action": "v3_mint",
            "token_a": "WETH",
            "token_b": "USDC",
            "fee": 3000,
            "tick_lower": base - 600,
            "tick_upper": base + 600,
            "amount_a": ETH,
            "amount_b": 3_000 * USDC,
        },
        chain=chain.name,
        slippage_bps=10,
    )
    before = (balance(chain, chain.weth, owner.address), balance(chain, chain.usdc, owner.address))
    queue = unique_queue("lp-slip")
    async with running_worker(stack, queue):
        temporal = (await crosslane_client(stack, queue)).temporal
        with manual_mining(url) as mine_block:
            task = asyncio.ensure_future(run_lp(temporal, queue, mint))
            # Mine the two approvals as they arrive; stop once the mint itself (nonce 2) waits.
            while True:
                pending = {int(n) for n in _pool_of(stack, chain.name, owner.address)}
                if 2 in pending:
                    break
                if pending:
                    mine_block()
                await asyncio.sleep(0.05)
            trader.send_nowait(
                router.address, swap_calldata(router, chain.weth, chain.usdc, 20 * ETH, trader.address), tip=50 * GWEI
            )
            mine_block()
            with pytest.raises(WorkflowFailureError) as failure:
                await asyncio.wait_for(task, 60)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "TransactionReverted", cause
    assert "Price slippage check" in cause.message and cause.non_retryable
    after = (balance(chain, chain.weth, owner.address), balance(chain, chain.usdc, owner.address))
    assert after == before
    manager = chain.w3.eth.contract(
        address=config.dexes["uniswap_v3"].position_manager, abi=artifact("NonfungiblePositionManager")["abi"]
    )
    assert manager.functions.balanceOf(owner.address).call() == 0
    mined = chain.w3.eth.get_transaction_receipt(
        stack.ledger().get_attempt(stack.ledger().get_operation(f"tx-{mint.workflow_id}.v3_mint", "tx").id, 0).tx_hash
    )
    assert mined["status"] == 0


def _pool_of(stack: Stack, chain: str, address: str) -> dict[str, Any]:
    """txpool_content's pending transactions of ``address``, by nonce."""
    content: Any = stack.anvil(chain, "txpool_content")
    for sender, txs in (content.get("pending") or {}).items():
        if sender.lower() == address.lower():
            return dict(txs)
    return {}


# --- bad input -------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def refusing(stack: Stack) -> AsyncIterator[tuple[Client, str, LocalAccount]]:
    """One worker and one owner for every refusal: the owner must never send a transaction."""
    owner = stack.fund_signer()
    queue = unique_queue("lp-bad")
    async with running_worker(stack, queue):
        yield (await crosslane_client(stack, queue)).temporal, queue, owner


def _mint(**kw: Any) -> dict[str, Any]:
    return {
        "action": "v3_mint",
        "token_a": "WETH",
        "token_b": "USDC",
        "fee": 3000,
        "tick_lower": -600,
        "tick_upper": 600,
        "amount_a": ETH,
        "amount_b": 3_000 * USDC,
        **kw,
    }


def _add(**kw: Any) -> dict[str, Any]:
    return {"action": "v2_add", "token_a": "WETH", "token_b": "USDC", "amount_a": ETH, "amount_b": 3_000 * USDC, **kw}


# (case, operation, request fields, error type, message): refused by the plan, against the chain.
REFUSED_BY_PLAN: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    (
        "ticks not aligned",
        _mint(tick_lower=-170, tick_upper=190),
        {},
        "InvalidRequest",
        "tick range [-170, 190) is not aligned to the pool's tick spacing 60: -170 (nearest -180 or -120), "
        "190 (nearest 180 or 240)",
    ),
    ("expired deadline v3", _mint(), {"deadline": 1_000_000_000}, "InvalidRequest", "deadline 1000000000 has expired"),
    ("expired deadline v2", _add(), {"deadline": 1_000_000_000}, "InvalidRequest", "deadline 1000000000 has expired"),
    ("no v2 pair", _add(token_a="WBTC", token_b="DAI"), {}, "PoolNotFound", "uniswap_v2: no pair for"),
    ("no v3 pool", _mint(fee=10_000, tick_lower=-600, tick_upper=600), {}, "PoolNotFound", "no initialized pool"),
    ("unknown fee tier", _mint(fee=2500), {}, "PoolNotFound", "uniswap_v3 has no fee tier 2500"),
    ("unknown token", _add(token_a="FOO"), {}, "InvalidRequest", "unknown token 'FOO' on devnet-a"),
    (
        "unknown position",
        {"action": "v3_decrease", "token_id": 999_999},
        {},
        "InvalidRequest",
        "no position with token id 999999",
    ),
    ("not the owner", {"action": "v3_burn", "token_id": 1}, {}, "InvalidRequest", "position 1 is owned by"),
    ("unknown dex", _add(), {"dex": "pancakeswap"}, "InvalidRequest", "no DEX deployment 'pancakeswap' on devnet-a"),
]

# Refused by the request model itself (in the SDK, and in the worker for raw JSON).
REFUSED_BY_MODEL: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("slippage above 50%", _add(), {"slippage_bps": 6000}, "slippage 6000 bps is outside 0-5000 bps (0-50%)"),
    ("negative slippage", _add(), {"slippage_bps": -1}, "slippage -1 bps is outside 0-5000 bps (0-50%)"),
    ("lower >= upper", _mint(tick_lower=600, tick_upper=600), {}, "tick_lower 600 must be below tick_upper 600"),
    ("zero amount", _add(amount_a=0), {}, "operation.v2_add.amount_a: Input should be greater than 0"),
    ("zero amounts", _mint(amount_a=0, amount_b=0), {}, "amount_a and amount_b are both zero"),
    (
        "zero liquidity",
        {"action": "v3_decrease", "token_id": 1, "liquidity": 0},
        {},
        "operation.v3_decrease.liquidity: Input should be greater than 0",
    ),
    ("negative amount", _mint(amount_b=-5), {}, "-5 is negative"),
]


def assert_nothing_sent(stack: Stack, owner: str, workflow_id: str, action: str) -> None:
    for chain in ("devnet-a", "devnet-b"):
        assert nonce(chain_of(stack, chain), owner) == 0
    ledger = stack.ledger()
    for step in ("approve-token0", "approve-token1", "approve-lp", action):
        assert ledger.get_operation(f"tx-{workflow_id}.{step}", "tx") is None


@pytest.mark.parametrize(("case", "operation", "fields", "error_type", "message"), REFUSED_BY_PLAN)
async def test_refused_by_the_plan_before_any_transaction(
    stack: Stack,
    refusing: tuple[Client, str, LocalAccount],
    case: str,
    operation: dict[str, Any],
    fields: dict[str, Any],
    error_type: str,
    message: str,
) -> None:
    client, queue, owner = refusing
    req = request(owner.address, unique_queue("bad"), operation, **fields)
    with pytest.raises(WorkflowFailureError) as failure:
        await run_lp(client, queue, req)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError), case
    assert cause.type == error_type, cause.message
    assert message in cause.message
    assert_nothing_sent(stack, owner.address, req.workflow_id, operation["action"])


@pytest.mark.parametrize(("case", "operation", "fields", "message"), REFUSED_BY_MODEL)
async def test_refused_by_the_request_model(
    stack: Stack,
    refusing: tuple[Client, str, LocalAccount],
    case: str,
    operation: dict[str, Any],
    fields: dict[str, Any],
    message: str,
) -> None:
    client, queue, owner = refusing
    raw = {
        "request_id": unique_queue("raw"),
        "chain": "devnet-a",
        "owner": owner.address,
        "operation": operation,
        "fees": {"max_fee_per_gas_cap": 100 * GWEI},
        **fields,
    }
    with pytest.raises(ValueError, match="validation error") as refused:
        LiquidityRequest.model_validate(raw)
    assert message in str(refused.value) or message in describe_validation_error(refused.value)
    # The same JSON sent as is (as `temporal workflow start` would) fails the run, not the worker.
    handle = await client.start_workflow(LIQUIDITY_WORKFLOW, raw, id=f"lp-{raw['request_id']}", task_queue=queue)
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest", case
    assert message in cause.message
    assert_nothing_sent(stack, owner.address, f"lp-{raw['request_id']}", operation["action"])


async def test_amounts_that_buy_no_liquidity_are_refused(
    stack: Stack, refusing: tuple[Client, str, LocalAccount]
) -> None:
    """A range above the price holds token0 only: offering token1 alone buys nothing."""
    client, queue, owner = refusing
    chain = chain_of(stack, "devnet-a")
    info = next(p for p in stack.chains.get(chain.name).dexes["uniswap_v3"].pools if p.label == "WETH/USDC 0.3%")
    pool = chain.w3.eth.contract(address=info.address, abi=artifact("UniswapV3Pool")["abi"])
    base = int(pool.functions.slot0().call()[1]) // 60 * 60
    symbol0, symbol1 = ("WETH", "USDC") if info.token0 == chain.weth else ("USDC", "WETH")
    operation = _mint(token_a=symbol0, token_b=symbol1, tick_lower=base + 600, tick_upper=base + 1200)
    operation.update(amount_a=0, amount_b=10**9)
    req = request(owner.address, unique_queue("bad"), operation)
    with pytest.raises(WorkflowFailureError) as failure:
        await run_lp(client, queue, req)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidRequest"
    assert "buy zero liquidity" in cause.message
    assert "the range needs token0 only (the price is below the range)" in cause.message
    assert_nothing_sent(stack, owner.address, req.workflow_id, "v3_mint")
