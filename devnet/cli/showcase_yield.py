"""The showcase's yield step: a SushiSwap LP stake in MasterChef farm 0, then a Temporal
Schedule compounding it every 6 hours through YieldCompound, and one run triggered now
(harvest SUSHI → swap into WETH and USDC → add to the pair → stake again)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.console import Console

from connectors.dex.farm_calls import masterchef_deposit
from connectors.dex.uniswap_v2.liquidity import add_liquidity_calldata
from connectors.evm.erc20 import approve_calldata
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from crosslane.domain.yield_compound import CompoundRequest, CompoundResult, CompoundSchedule, FarmTarget
from crosslane.money import ETH_DECIMALS, format_amount
from crosslane.schedules import CompoundSchedules
from devnet.anvil import rpc_call
from devnet.state import DevnetState

CHAIN = "devnet-a"
CAP = 100 * 10**9
EVERY = 6 * 3600


def _send(url: str, sender: str, to: str, data: str, value: int = 0) -> None:
    """From an anvil dev account (unlocked): setup the owner would do in a wallet."""
    tx = {"from": sender, "to": to, "data": data, "value": hex(value), "gas": hex(500_000)}
    tx_hash = rpc_call(url, "eth_sendTransaction", [tx], timeout=10.0)
    deadline = time.monotonic() + 30
    while (receipt := rpc_call(url, "eth_getTransactionReceipt", [tx_hash], timeout=10.0)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{tx_hash} not mined within 30 s")
        time.sleep(0.05)
    if int(receipt["status"], 16) != 1:
        raise RuntimeError(f"setup transaction {tx_hash} reverted")


def _balance(url: str, token: str, owner: str) -> int:
    data = "0x70a08231" + owner[2:].lower().rjust(64, "0")
    return int(rpc_call(url, "eth_call", [{"to": token, "data": data}, "latest"], timeout=10.0), 16)


def _stake_lp(url: str, devnet: DevnetState, owner: str) -> int:
    """2 WETH and 6,000 USDC into the SushiSwap pair, its LP tokens staked in farm 0."""
    chain = devnet.registry().get(CHAIN)
    sushi = chain.dexes["sushiswap"]
    assert sushi.masterchef is not None and sushi.router is not None
    weth, usdc = chain.tokens["WETH"].address, chain.tokens["USDC"].address
    amount_weth, amount_usdc = 2 * 10**18, 6_000 * 10**6
    _send(url, owner, weth, "0xd0e30db0", value=amount_weth)  # WETH9.deposit()
    _send(url, owner, weth, approve_calldata(sushi.router, amount_weth))
    _send(url, owner, usdc, approve_calldata(sushi.router, amount_usdc))
    add = add_liquidity_calldata(weth, usdc, amount_weth, amount_usdc, 0, 0, owner, 2**64)
    _send(url, owner, sushi.router, "0x" + add.hex())
    farm = sushi.masterchef.farms[0]
    lp = _balance(url, farm.lp_token, owner)
    _send(url, owner, farm.lp_token, approve_calldata(sushi.masterchef.address, lp))
    deposit = masterchef_deposit(sushi.masterchef.address, farm.pid, lp)
    _send(url, owner, deposit.to, deposit.data)
    return lp


async def _scheduled_run(schedules: CompoundSchedules, schedule_id: str) -> str:
    for _ in range(600):
        recent = (await schedules.describe(schedule_id)).recent_runs
        if recent:
            return recent[-1]
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{schedule_id} did not start a run within 60 s")


async def yield_step(out: Console, client: CrosslaneClient, devnet: DevnetState, owner: str, run: str) -> None:
    out.rule("12. SUSHI farm rewards compounded on a Temporal Schedule through YieldCompound")
    sushi = devnet.registry().get(CHAIN).dexes.get("sushiswap")
    if sushi is None or sushi.masterchef is None:
        out.print("  [yellow]the devnet has no MasterChef: skipped[/]")
        return
    url = devnet.anvil_url(CHAIN)
    lp = _stake_lp(url, devnet, owner)
    rpc_call(url, "evm_increaseTime", [EVERY])
    for _ in range(3):
        rpc_call(url, "evm_mine")
    out.print(f"  {owner} staked {format_amount(lp, 18, 'LP')} of SushiSwap WETH/USDC in farm 0; 6 h later:")
    request = CompoundRequest(
        request_id=f"demo-{run}-farm0",
        chain=CHAIN,
        owner=owner,
        position=FarmTarget(pid=0),
        interval_seconds=EVERY,
        slippage_bps=50,
        fees=FeePolicy(max_fee_per_gas_cap=CAP),
        policy=ReplacementPolicy(poll_interval_ms=100),
    )
    schedule_id = f"compound-demo-{run}"
    schedules = CompoundSchedules(client.temporal, client.task_queue)
    await schedules.create(
        CompoundSchedule(schedule_id=schedule_id, request=request, every_seconds=EVERY, jitter_seconds=300)
    )
    await schedules.trigger(schedule_id)
    with out.status("the schedule's first run: harvest, swap to the pair's ratio, add, stake again…"):
        workflow_id = await _scheduled_run(schedules, schedule_id)
        result: CompoundResult = await client.temporal.get_workflow_handle(
            workflow_id, result_type=CompoundResult
        ).result()
    _print(out, result)
    out.print(f"  schedule {schedule_id} (every 6 h, overlap SKIP, 5 min jitter): .venv/bin/crosslane schedule list")
    out.print(f"    .venv/bin/temporal schedule describe --schedule-id {schedule_id}")
    out.print(f"  the run: {ui_link(workflow_id)}")


def _print(out: Console, r: CompoundResult) -> None:
    gate: Any = r.gate
    out.print(f"  {r.outcome}: {r.reason}", soft_wrap=True, highlight=False)
    out.print(
        f"  harvested {format_amount(r.reward, 18, 'SUSHI')}; swapped into {len(r.swapped)} pool tokens; added"
        f" {r.added0} + {r.added1} base units for {format_amount(r.liquidity, 18, 'LP')} staked again"
        f" (dust {r.dust0} + {r.dust1}); gas {format_amount(r.gas_used_wei, ETH_DECIMALS, 'ETH')}",
        soft_wrap=True,
    )
    if gate.break_even_seconds is not None:
        out.print(f"  break-even interval {gate.break_even_seconds} s, optimal {gate.optimal_interval_seconds} s")
    if r.position_yield is not None:
        y = r.position_yield
        out.print(f"  ledger: {y.runs} run(s), net APR {y.net_apr}, net APY {y.net_apy}", highlight=False)
