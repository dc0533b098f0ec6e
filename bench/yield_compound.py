"""A YieldCompound run end to end vs the same transactions sent directly with web3, same run.

    .venv/bin/python -m bench.yield_compound [--runs 8]

Two owners stake WETH/USDC SushiSwap LP tokens in MasterChef farm 0 on a devnet chain. Each
round advances the chain six hours, then compounds both, one after the other:

* direct (the chain time): plain web3, one transaction at a time, receipts polled every
  50 ms: harvest (``deposit(pid, 0)``), approve the SUSHI, swap half to WETH and half to
  USDC on the SushiSwap router with a 0.5 % floor from ``getAmountsOut``, ``addLiquidity``,
  approve the LP tokens, ``deposit`` them. What the chain and its RPC take for the run.
* Crosslane: a ``YieldCompound`` workflow on a worker in its own process, receipts polled
  every 50 ms (plan and profit gate, harvest, child DexSwaps with route search, child
  DexLiquidity, restake, ledger row with the position's APY).

Per round it prints both times and their difference, the workflow overhead; at the end p50
and p99 of each and the ratio. The transaction counts of both paths are printed too: the
workflow approves per swap, the direct path once.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from temporalio.client import WorkflowFailureError
from web3 import HTTPProvider, Web3

from bench.stats import Run
from connectors.evm.erc20 import ERC20_ABI
from crosslane.client import CrosslaneClient, connect_temporal
from crosslane.domain.chains import ChainConfig, ChainRegistry
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from crosslane.domain.yield_compound import CompoundOutcome, CompoundRequest, FarmTarget
from crosslane.ledger import Ledger
from crosslane.registry import load_registry
from devnet.anvil import rpc_call
from devnet.sandbox import WorkerProcess, sandbox
from devnet.uniswap_artifacts import artifact

CHAIN = "devnet-a"
GWEI = 10**9
ETH = 10**18
POLL_S = 0.05
SIX_HOURS = 6 * 3600
PID = 0
DEADLINE = 2**64


class Farmer:
    """One owner's direct web3 view of the farm: contracts, and send-and-wait."""

    def __init__(self, w3: Web3, chain: ChainConfig, account: LocalAccount) -> None:
        sushi = chain.dexes["sushiswap"]
        assert sushi.masterchef is not None and sushi.router is not None
        self.w3, self.account = w3, account
        self.weth = Web3.to_checksum_address(chain.tokens["WETH"].address)
        self.usdc = Web3.to_checksum_address(chain.tokens["USDC"].address)
        self.router = self._contract(sushi.router, artifact("UniswapV2Router02")["abi"])
        self.chef = self._contract(sushi.masterchef.address, artifact("MasterChef")["abi"])
        self.reward = self._contract(sushi.masterchef.reward_token, ERC20_ABI)
        self.lp = self._contract(sushi.masterchef.farms[PID].lp_token, ERC20_ABI)
        self.sent = 0

    def _contract(self, address: str, abi: list[dict[str, Any]]) -> Any:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)

    def send(self, call: Any) -> None:
        owner = self.account.address
        tx = call.build_transaction({"from": owner, "nonce": self.w3.eth.get_transaction_count(owner)})
        # Headroom: SushiToken writes a new vote checkpoint when mined in a later block than
        # the estimate's, which costs more gas than the estimate saw.
        tx["gas"] = int(tx["gas"]) * 13 // 10
        tx_hash = self.w3.eth.send_raw_transaction(self.account.sign_transaction(tx).raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=POLL_S)
        assert receipt["status"] == 1, receipt
        self.sent += 1

    def erc20(self, address: str) -> Any:
        return self._contract(address, ERC20_ABI)

    def stake_liquidity(self, url: str) -> None:
        owner = self.account.address
        for symbol, amount in (("WETH", 10 * ETH), ("USDC", 30_000 * 10**6)):
            token = self.weth if symbol == "WETH" else self.usdc
            rpc_call(url, "anvil_dealERC20", [owner, token, hex(amount)])
            self.send(self.erc20(token).functions.approve(self.router.address, 2**256 - 1))
        self.send(
            self.router.functions.addLiquidity(self.weth, self.usdc, 10 * ETH, 30_000 * 10**6, 0, 0, owner, DEADLINE)
        )
        staked = int(self.lp.functions.balanceOf(owner).call())
        self.send(self.lp.functions.approve(self.chef.address, staked))
        self.send(self.chef.functions.deposit(PID, staked))

    def staked(self) -> int:
        return int(self.chef.functions.userInfo(PID, self.account.address).call()[0])

    def _swap(self, amount: int, path: list[str]) -> int:
        owner = self.account.address
        out = int(self.router.functions.getAmountsOut(amount, path).call()[-1])
        target = self.erc20(path[-1])
        before = int(target.functions.balanceOf(owner).call())
        self.send(self.router.functions.swapExactTokensForTokens(amount, out * 995 // 1000, path, owner, DEADLINE))
        return int(target.functions.balanceOf(owner).call()) - before

    def compound(self) -> None:
        """Harvest, swap half and half, add, stake: the workflow's transactions, by hand."""
        owner, reward = self.account.address, self.reward
        before = int(reward.functions.balanceOf(owner).call())
        self.send(self.chef.functions.deposit(PID, 0))
        harvested = int(reward.functions.balanceOf(owner).call()) - before
        assert harvested > 0, "nothing harvested"
        self.send(reward.functions.approve(self.router.address, harvested))
        half = harvested // 2
        got_weth = self._swap(half, [reward.address, self.weth])
        got_usdc = self._swap(harvested - half, [reward.address, self.weth, self.usdc])
        lp_before = int(self.lp.functions.balanceOf(owner).call())
        self.send(self.router.functions.addLiquidity(self.weth, self.usdc, got_weth, got_usdc, 0, 0, owner, DEADLINE))
        added = int(self.lp.functions.balanceOf(owner).call()) - lp_before
        self.send(self.lp.functions.approve(self.chef.address, added))
        self.send(self.chef.functions.deposit(PID, added))


def advance(url: str, seconds: int, blocks: int) -> None:
    rpc_call(url, "evm_increaseTime", [seconds])
    for _ in range(blocks):
        rpc_call(url, "evm_mine", [])


def funded(url: str) -> LocalAccount:
    account = Account.from_key("0x" + secrets.token_hex(32))
    rpc_call(url, "anvil_setBalance", [account.address, hex(1000 * ETH)])
    return account


async def step_seconds(handle: Any) -> dict[str, float]:
    """Seconds from scheduling to completion of each activity and child workflow of one run,
    by step (activity name; child workflow id's last part: harvest, swap0, add, stake...)."""
    started: dict[int, tuple[str, float]] = {}
    steps: dict[str, float] = {}
    async for event in handle.fetch_history_events():
        at = event.event_time.ToDatetime().timestamp()
        kind = event.WhichOneof("attributes")
        if kind == "activity_task_scheduled_event_attributes":
            started[event.event_id] = (event.activity_task_scheduled_event_attributes.activity_type.name, at)
        elif kind == "start_child_workflow_execution_initiated_event_attributes":
            child_id = event.start_child_workflow_execution_initiated_event_attributes.workflow_id
            started[event.event_id] = (child_id.rsplit(".", 1)[-1], at)
        elif kind == "activity_task_completed_event_attributes":
            name, t0 = started[event.activity_task_completed_event_attributes.scheduled_event_id]
            steps[name] = steps.get(name, 0.0) + at - t0
        elif kind == "child_workflow_execution_completed_event_attributes":
            name, t0 = started[event.child_workflow_execution_completed_event_attributes.initiated_event_id]
            steps[name] = steps.get(name, 0.0) + at - t0
    return steps


def summary(name: str, samples: list[float]) -> Run:
    return Run(name, len(samples), sum(samples), samples)


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp)) as sb:
            Ledger(sb.db_url).migrate()
            url = sb.devnet.anvil_url(CHAIN)
            chain = ChainRegistry.from_registry(load_registry(sb.registry_path)).get(CHAIN)
            w3 = Web3(HTTPProvider(url))
            direct, durable = Farmer(w3, chain, funded(url)), Farmer(w3, chain, funded(url))
            direct.stake_liquidity(url)
            durable.stake_liquidity(url)
            queue = f"bench-compound-{secrets.token_hex(3)}"
            worker = WorkerProcess(
                sb.env(queue, CROSSLANE_SIGNER_KEYS=durable.account.key.hex()), sb.home / f"worker-{queue}.log"
            )
            direct_s: list[float] = []
            workflow_s: list[float] = []
            steps: list[dict[str, float]] = []
            try:
                await worker.wait_polling()
                client = CrosslaneClient(await connect_temporal(sb.settings(queue)), queue)
                for r in range(runs):
                    advance(url, SIX_HOURS, 5)
                    sent = direct.sent
                    started = time.perf_counter()
                    direct.compound()
                    direct_s.append(time.perf_counter() - started)
                    direct_txs = direct.sent - sent

                    stake_before = durable.staked()
                    request = CompoundRequest(
                        request_id=f"{queue}-{r}",
                        chain=CHAIN,
                        owner=durable.account.address,
                        position=FarmTarget(pid=PID),
                        interval_seconds=SIX_HOURS,
                        slippage_bps=50,
                        fees=FeePolicy(max_fee_per_gas_cap=100 * GWEI),
                        policy=ReplacementPolicy(poll_interval_ms=int(POLL_S * 1000)),
                    )
                    started = time.perf_counter()
                    try:
                        result = await (await client.start_compound(request)).result()
                    except WorkflowFailureError as exc:
                        raise SystemExit(f"round {r + 1}: the compound run failed: {exc.cause}") from None
                    workflow_s.append(time.perf_counter() - started)
                    steps.append(await step_seconds(client.temporal.get_workflow_handle(request.workflow_id)))
                    assert result.outcome is CompoundOutcome.COMPOUNDED, result.reason
                    assert durable.staked() == stake_before + result.liquidity
                    print(
                        f"round {r + 1}/{runs}: direct {direct_s[-1]:.2f} s ({direct_txs} txs), "
                        f"YieldCompound {workflow_s[-1]:.2f} s ({len(result.tx_hashes)} txs), "
                        f"overhead {workflow_s[-1] - direct_s[-1]:.2f} s",
                        flush=True,
                    )
            finally:
                worker.stop()
    chain_run, workflow_run = summary("direct web3 (chain time)", direct_s), summary("YieldCompound", workflow_s)
    overhead = summary("workflow overhead", [w - d for w, d in zip(workflow_s, direct_s, strict=True)])
    print(f"{runs} compound runs each:")
    for run in (chain_run, workflow_run, overhead):
        print(f"  {run.name:<26} p50 {run.p50_ms / 1000:6.2f} s  p99 {run.p99_ms / 1000:6.2f} s")
    print(
        f"  ratio (YieldCompound / direct): p50 {workflow_run.p50_ms / chain_run.p50_ms:.2f}x, "
        f"p99 {workflow_run.p99_ms / chain_run.p99_ms:.2f}x; overhead share of p50 "
        f"{1 - chain_run.p50_ms / workflow_run.p50_ms:.0%}"
    )
    print("  YieldCompound steps, p50 s (scheduled to completed, from the workflow's history):")
    names = sorted({name for run in steps for name in run}, key=lambda n: -median(r.get(n, 0.0) for r in steps))
    for name in names:
        print(f"    {name:<28} {median(r.get(name, 0.0) for r in steps):6.2f}")
    in_steps = [sum(r.values()) for r in steps]
    print(f"    {'(sum of steps)':<28} {median(in_steps):6.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.runs))
