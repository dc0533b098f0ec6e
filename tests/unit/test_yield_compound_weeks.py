"""Eight simulated weeks of daily compounding in Temporal's time-skipping environment, with
mocked activities (a farm paying 30 % APR on its principal) and stand-in children.

Gas is cheap except in weeks 3 and 4: the profit gate skips those days until the pending
reward is worth twice the gas, rewards are never lost (what accrued is what was compounded
plus what is still pending), and the net APY the ledger computes is the one an independent
calculation over the same runs gives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.worker import Worker

from crosslane.compounding import SECONDS_PER_YEAR, apy, decide_gate
from crosslane.domain.dex_liquidity import PlannedTx
from crosslane.domain.yield_compound import (
    CompoundActivity,
    CompoundOutcome,
    CompoundPlan,
    CompoundPlanInput,
    CompoundRecorded,
    CompoundRecordInput,
    CompoundRequest,
    CompoundResult,
    Harvested,
    HarvestedInput,
    PoolTokens,
    RestakeInput,
    SwapLeg,
)
from crosslane.ledger.yield_runs import YieldRunRecord, position_yield
from tests.support.compound_stubs import ConfirmingTx, DepositAll, OneToOneSwap, SecondSwapReverts
from tests.support.time_skipping import time_skipping_env
from workers.orchestrator import workflow_runner
from workflows.yield_compound import YieldCompound

pytestmark = pytest.mark.timeout(240)

OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CHEF = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TOKEN0 = "0x1000000000000000000000000000000000000001"
TOKEN1 = "0x2000000000000000000000000000000000000002"
REWARD = "0x3000000000000000000000000000000000000003"
APR = Decimal("0.3")
START_PRINCIPAL = 10 * 10**18
GAS_UNITS = 1_000_000
CHEAP, DEAR = 2 * 10**9, 50 * 10**9  # wei per gas
DAY = 24 * 3600
DAYS = 8 * 7
FRACTION = Decimal("0.5")


@dataclass
class Farm:
    """One staked position: rewards accrue on the principal at APR; a harvest pays them out."""

    start: datetime
    now: datetime
    principal: int = START_PRINCIPAL
    pending: int = 0
    accrued: int = 0
    last_accrual: datetime | None = None
    rows: list[YieldRunRecord] = field(default_factory=list)

    def accrue(self) -> None:
        if self.last_accrual is not None:
            seconds = int((self.now - self.last_accrual).total_seconds())
            earned = int(self.principal * APR * seconds / SECONDS_PER_YEAR)
            self.pending += earned
            self.accrued += earned
        self.last_accrual = self.now

    def gas_price(self) -> int:
        week = int((self.now - self.start).total_seconds()) // (7 * DAY)
        return DEAR if week in (2, 3) else CHEAP

    @property
    def chain_time(self) -> int:
        return int(self.now.timestamp())

    def activities(self) -> list[object]:
        farm = self

        @activity.defn(name=CompoundActivity.PLAN)
        async def plan(inp: CompoundPlanInput) -> CompoundPlan:
            farm.accrue()
            last = [r for r in farm.rows if r.outcome == CompoundOutcome.COMPOUNDED]
            gate = decide_gate(
                reward=farm.pending,
                reward_value=farm.pending,
                reward_label="RWD",
                gas_units=GAS_UNITS,
                gas_price=farm.gas_price(),
                position_value=farm.principal,
                elapsed_seconds=farm.chain_time - last[-1].chain_time if last else None,
                fraction=inp.request.gas_fraction,
            )
            pool = PoolTokens(
                dex="sushiswap", protocol="uniswap_v2", address=CHEF, token0=TOKEN0, token1=TOKEN1, fee=3000
            )
            harvest = [PlannedTx(step="harvest", to=CHEF, data="0x", purpose="harvest")]
            return CompoundPlan(
                pool=pool, reward_token=REWARD, gate=gate, harvest=harvest, block_number=1, chain_time=farm.chain_time
            )

        @activity.defn(name=CompoundActivity.HARVESTED)
        async def harvested(inp: HarvestedInput) -> Harvested:
            reward, farm.pending = farm.pending, 0
            half = reward // 2
            return Harvested(
                reward=reward,
                legs=[SwapLeg(token_out=TOKEN0, amount_in=half), SwapLeg(token_out=TOKEN1, amount_in=reward - half)],
            )

        @activity.defn(name=CompoundActivity.RESTAKE)
        async def restake(inp: RestakeInput) -> list[PlannedTx]:
            farm.principal += inp.added_liquidity  # the stand-ins value every token 1:1
            return [PlannedTx(step="stake", to=CHEF, data="0x", purpose="stake")]

        @activity.defn(name=CompoundActivity.RECORD)
        async def record(inp: CompoundRecordInput) -> CompoundRecorded:
            gas = inp.plan.gate.gas_cost_wei if inp.outcome == CompoundOutcome.COMPOUNDED else 0
            farm.rows.append(
                YieldRunRecord(
                    workflow_id=inp.workflow_id,
                    request_id=inp.request.request_id,
                    chain=inp.request.chain,
                    owner=inp.request.owner,
                    position=inp.request.position.key,
                    outcome=inp.outcome,
                    reason=inp.plan.gate.reason,
                    reward=inp.reward,
                    reward_value_wei=inp.reward_value_wei,
                    fees_value_wei=0,
                    gas_wei=gas,
                    position_value_wei=inp.plan.gate.position_value_wei,
                    liquidity=inp.liquidity,
                    fee_mark=None,
                    chain_time=inp.plan.chain_time,
                    block_number=1,
                    reward_carry=inp.carry_forward,
                )
            )
            figures = position_yield(inp.request.position.key, farm.rows, inp.request.interval_seconds)
            return CompoundRecorded(gas_used_wei=gas, position_yield=figures)

        return [plan, harvested, restake, record]


async def test_eight_weeks_of_daily_compounding_skip_dear_gas_and_lose_no_reward() -> None:
    async with time_skipping_env() as env:
        start = await env.get_current_time()
        farm = Farm(start=start, now=start)
        queue = f"compound-{uuid.uuid4()}"
        results: list[tuple[int, CompoundResult]] = []
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[YieldCompound, ConfirmingTx, OneToOneSwap, DepositAll],
            activities=farm.activities(),  # type: ignore[arg-type]
            workflow_runner=workflow_runner(),
        ):
            for day in range(DAYS):
                # The farm's clock is the schedule's (the test server may skip further while
                # a child starts, to its execution timeout), one day per run.
                farm.now = start + timedelta(days=day)
                request = CompoundRequest(
                    request_id=f"farm0-d{day}",
                    chain="devnet-a",
                    owner=OWNER,
                    position={"kind": "masterchef", "pid": 0},  # type: ignore[arg-type]
                    gas_fraction=FRACTION,
                    interval_seconds=DAY,
                    fees={"max_fee_per_gas_cap": 100 * 10**9},  # type: ignore[arg-type]
                )
                result = await env.client.execute_workflow(
                    "YieldCompound", request, id=request.workflow_id, task_queue=queue, result_type=CompoundResult
                )
                results.append((day, result))
                await env.sleep(timedelta(days=1))
        elapsed_days = (await env.get_current_time() - start).total_seconds() / DAY

    assert elapsed_days >= DAYS  # eight weeks passed on the server's clock, in seconds of ours
    skipped = [day for day, r in results if r.outcome is CompoundOutcome.SKIPPED]
    compounded = [day for day, r in results if r.outcome is CompoundOutcome.COMPOUNDED]
    # Day 0 has nothing pending yet; afterwards only the dear-gas weeks (days 14-27) skip.
    assert skipped[0] == 0 and all(14 <= day < 28 for day in skipped[1:])
    assert len(skipped) > 10 and any(14 <= day < 28 for day in compounded)  # paid once rewards covered it
    for _, r in results:
        gate = r.gate
        covered = gate.gas_cost_wei <= gate.reward_value_wei * FRACTION
        assert gate.proceed is covered
        if r.outcome is CompoundOutcome.SKIPPED:
            assert r.reason.startswith("skipped: gas to compound") and r.reward == 0 and r.tx_hashes == {}
        else:
            assert r.reward == gate.reward and r.added0 + r.added1 == r.reward and r.dust0 == r.dust1 == 0
    # The break-even interval is why: above a day in dear weeks, below it in cheap ones.
    dear = [r.gate.break_even_seconds for d, r in results if d in skipped[1:]]
    cheap = [r.gate.break_even_seconds for d, r in results if d in compounded and not 14 <= d < 28]
    assert all(s is not None and s > DAY for s in dear)
    assert all(s is not None and s < DAY for s in cheap[1:])

    # Conservation: every reward that accrued was compounded into the principal or is pending.
    harvested = sum(r.reward for _, r in results)
    assert harvested + farm.pending == farm.accrued
    assert farm.principal == START_PRINCIPAL + harvested

    # The ledger's net APY, recomputed independently from the runs.
    final = results[-1][1].position_yield
    assert final is not None and final.runs == DAYS and final.skipped == len(skipped)
    rows = farm.rows
    earned = sum(r.reward_value_wei for r in rows[1:] if r.outcome == CompoundOutcome.COMPOUNDED)
    gas = sum(r.gas_wei for r in rows[1:])
    average = sum(r.position_value_wei for r in rows) // len(rows)
    seconds = rows[-1].chain_time - rows[0].chain_time
    independent_apr = Decimal(earned - gas) / average * SECONDS_PER_YEAR / seconds
    assert final.net_apr == independent_apr
    assert final.net_apy == apy(independent_apr, DAY)
    assert final.net_apy is not None and Decimal("0.2") < final.net_apy < Decimal("0.35")


async def test_a_swap_failing_after_the_harvest_stakes_the_position_again_and_carries_the_reward() -> None:
    async with time_skipping_env() as env:
        start = await env.get_current_time()
        farm = Farm(start=start, now=start + timedelta(days=1), pending=10**18)
        restaked: list[int] = []
        plan, harvested, _, record = farm.activities()

        @activity.defn(name=CompoundActivity.RESTAKE)
        async def restake(inp: RestakeInput) -> list[PlannedTx]:
            restaked.append(inp.added_liquidity)
            return [PlannedTx(step="stake", to=CHEF, data="0x", purpose="NFT back into the staker")]

        queue = f"compound-{uuid.uuid4()}"
        request = CompoundRequest(
            request_id="v3-fails",
            chain="devnet-a",
            owner=OWNER,
            position={"kind": "v3_staker", "token_id": 7},  # type: ignore[arg-type]
            fees={"max_fee_per_gas_cap": 100 * 10**9},  # type: ignore[arg-type]
        )
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[YieldCompound, ConfirmingTx, SecondSwapReverts, DepositAll],
            activities=[plan, harvested, restake, record],  # type: ignore[list-item]
            workflow_runner=workflow_runner(),
        ):
            handle = await env.client.start_workflow(
                "YieldCompound", request, id=request.workflow_id, task_queue=queue, result_type=CompoundResult
            )
            with pytest.raises(WorkflowFailureError) as failure:
                await handle.result()
            history = await handle.fetch_history()
    assert "reverted" in str(failure.value.cause)
    # Staked again (nothing added), the run recorded as failed with the unsold reward carried.
    assert restaked == [0]
    children = [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in history.events
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]
    assert children[-1] == "tx-compound-v3-fails.stake" and not any(c.startswith("lp-") for c in children)
    (row,) = farm.rows
    half = 10**18 // 2
    assert row.outcome == CompoundOutcome.FAILED and row.reward == 10**18
    assert row.reward_carry == 10**18 - half  # the first leg's half was sold; the rest waits in the wallet
