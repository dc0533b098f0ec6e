"""YieldCompound: compound one farmed position once, if it pays.

plan (validate, read rewards, value and gas; the profit gate) → skipped: record and say
why | harvest (MasterChef ``deposit(pid, 0)``; staker ``unstakeToken`` + ``claimReward`` +
``withdrawToken``), each a child TransactionLifecycle → swap the reward into the pool's
tokens at the position's ratio (child DexSwaps) → add liquidity (child DexLiquidity: V2 add,
or V3 increase) → stake again (MasterChef deposit; NFT into the staker, staked) → record
the run in the ledger with the position's net APR/APY.

Every child id is ``<workflow id>.<step>``: a retried or replayed step joins the same child,
so nothing is harvested, swapped or staked twice. A scheduled run's workflow id carries its
fire time, so each run of a schedule has its own children.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from workflows import search_attributes as sa
from workflows.child_tx import send_planned_tx
from workflows.dex_liquidity import DexLiquidity
from workflows.dex_swap import DexSwap
from workflows.failures import failing_with_business_error
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.dex import SwapRequest, SwapResult
    from crosslane.domain.dex_liquidity import LiquidityRequest, LiquidityResult, PlannedTx, V2Add, V3Increase
    from crosslane.domain.tx import TxOutcome, TxResult
    from crosslane.domain.yield_compound import (
        CompoundActivity,
        CompoundOutcome,
        CompoundPlan,
        CompoundPlanInput,
        CompoundRecorded,
        CompoundRecordInput,
        CompoundRequest,
        CompoundResult,
        CompoundState,
        CompoundStatus,
        FarmTarget,
        Harvested,
        HarvestedInput,
        RestakeInput,
    )

READ_TIMEOUT = timedelta(seconds=60)


@workflow.defn(name="YieldCompound")
class YieldCompound:
    def __init__(self) -> None:
        self._request: CompoundRequest | None = None
        self._run = RunState(CompoundState.PLANNING)
        self._tx_hashes: dict[str, str] = {}
        self._reward_spent = 0  # reward base units swapped so far
        self._restaking = False

    @workflow.run
    async def run(self, request: CompoundRequest) -> CompoundResult:
        return await failing_with_business_error(
            self._execute(request), lambda why: self._run.set(CompoundState.FAILED, why)
        )

    async def _activity(self, name: str, arg: object, result_type: type, summary: str) -> object:
        return await workflow.execute_activity(
            name,
            arg,
            summary=summary,
            result_type=result_type,
            start_to_close_timeout=READ_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _execute(self, request: CompoundRequest) -> CompoundResult:
        self._request = request
        workflow_id = workflow.info().workflow_id
        workflow.upsert_search_attributes(
            [sa.CHAIN.value_set(request.chain), sa.SIGNER.value_set(request.owner), sa.STATE.value_set(self._run.state)]
        )
        self._run.set(CompoundState.PLANNING, f"{request.position.key}: reading rewards, value and gas")
        plan: CompoundPlan = await self._activity(  # type: ignore[assignment]
            CompoundActivity.PLAN,
            CompoundPlanInput(workflow_id=workflow_id, request=request),
            CompoundPlan,
            f"plan compounding {request.position.key}",
        )
        if not plan.gate.proceed:
            recorded = await self._record(request, plan, CompoundOutcome.SKIPPED)
            self._run.set(CompoundState.SKIPPED, plan.gate.reason)
            return self._result(request, plan, CompoundOutcome.SKIPPED, recorded)

        harvest_hashes = []
        for tx in plan.harvest:
            self._run.set(CompoundState.HARVESTING, tx.purpose)
            harvest_hashes.append((await self._transact(request, tx)).mined_tx_hash)
        harvested: Harvested = await self._activity(  # type: ignore[assignment]
            CompoundActivity.HARVESTED,
            HarvestedInput(workflow_id=workflow_id, request=request, plan=plan, harvest_tx_hashes=harvest_hashes),
            Harvested,
            "read what the harvest paid; split it by the position's ratio",
        )

        try:
            swapped, added = await self._compound(request, plan, harvested)
        except (ActivityError, ChildWorkflowError, ApplicationError):
            await self._put_back(request, plan, harvested)
            raise
        pool = plan.pool
        amount0, amount1 = swapped.get(pool.token0, 0), swapped.get(pool.token1, 0)

        reward_value = plan.gate.reward_value_wei * harvested.reward // plan.gate.reward if plan.gate.reward else 0
        recorded = await self._record(
            request,
            plan,
            CompoundOutcome.COMPOUNDED,
            reward=harvested.reward,
            reward_value_wei=reward_value,
            added0=added.amount0,
            added1=added.amount1,
            liquidity=added.liquidity,
        )
        result = self._result(request, plan, CompoundOutcome.COMPOUNDED, recorded)
        result = result.model_copy(
            update={
                "reason": f"compounded {harvested.reward} reward base units; {plan.gate.reason}",
                "reward": harvested.reward,
                "swapped": swapped,
                "added0": added.amount0,
                "added1": added.amount1,
                "liquidity": added.liquidity,
                "dust0": amount0 - added.amount0,
                "dust1": amount1 - added.amount1,
            }
        )
        self._run.set(
            CompoundState.DONE,
            f"compounded {harvested.reward} reward units into liquidity {added.liquidity};"
            f" net APY {recorded.position_yield.net_apy}",
        )
        return result

    async def _compound(
        self, request: CompoundRequest, plan: CompoundPlan, harvested: Harvested
    ) -> tuple[dict[str, int], LiquidityResult]:
        """Swap the harvest to the pool's ratio, add it, stake again."""
        workflow_id = workflow.info().workflow_id
        pool = plan.pool
        swapped = {pool.token0: harvested.kept0, pool.token1: harvested.kept1}
        for i, leg in enumerate(harvested.legs):
            self._run.set(CompoundState.SWAPPING, f"{leg.amount_in} of the reward into {leg.token_out}")
            swap = SwapRequest(
                request_id=f"{workflow_id}.swap{i}",
                chain=request.chain,
                signer=request.owner,
                token_in=plan.reward_token,
                token_out=leg.token_out,
                amount=leg.amount_in,
                slippage_bps=request.slippage_bps,
                fees=request.fees,
                policy=request.policy,
            )
            result: SwapResult = await workflow.execute_child_workflow(
                DexSwap.run, swap, id=swap.workflow_id, result_type=SwapResult, static_summary=f"swap reward {i}"
            )
            swapped[leg.token_out] = swapped.get(leg.token_out, 0) + result.amount_out
            self._reward_spent += leg.amount_in
            self._tx_hashes[f"swap{i}"] = result.swap_tx_hash
            if result.approve_tx_hash:
                self._tx_hashes[f"swap{i}-approve"] = result.approve_tx_hash

        amount0, amount1 = swapped.get(pool.token0, 0), swapped.get(pool.token1, 0)
        target = request.position
        operation: V2Add | V3Increase = (
            V2Add(token_a=pool.token0, token_b=pool.token1, amount_a=amount0, amount_b=amount1)
            if isinstance(target, FarmTarget)
            else V3Increase(token_id=target.token_id, amount0=amount0, amount1=amount1)
        )
        self._run.set(CompoundState.ADDING, f"{amount0} of token0 and {amount1} of token1 into {pool.address}")
        add = LiquidityRequest(
            request_id=f"{workflow_id}.add",
            chain=request.chain,
            owner=request.owner,
            operation=operation,
            dex=pool.dex,
            slippage_bps=request.slippage_bps,
            fees=request.fees,
            policy=request.policy,
        )
        added: LiquidityResult = await workflow.execute_child_workflow(
            DexLiquidity.run, add, id=add.workflow_id, result_type=LiquidityResult, static_summary="add the rewards"
        )
        self._tx_hashes["add"] = added.tx_hash
        for i, approval in enumerate(added.approval_tx_hashes):
            self._tx_hashes[f"add-approve{i}"] = approval

        restake: list[PlannedTx] = await self._activity(  # type: ignore[assignment]
            CompoundActivity.RESTAKE,
            RestakeInput(workflow_id=workflow_id, request=request, plan=plan, added_liquidity=added.liquidity),
            list[PlannedTx],
            "plan staking again",
        )
        self._restaking = True
        for tx in restake:
            self._run.set(CompoundState.STAKING, tx.purpose)
            await self._transact(request, tx)

        return swapped, added

    async def _put_back(self, request: CompoundRequest, plan: CompoundPlan, harvested: Harvested) -> None:
        """A step after the harvest failed: stake the position again if the harvest took it
        out of the staker (V3), and record the run as failed with the reward still in the
        owner's wallet carried to the next run. Every token stays in the owner's wallet."""
        if not self._restaking:
            restake: list[PlannedTx] = await self._activity(  # type: ignore[assignment]
                CompoundActivity.RESTAKE,
                RestakeInput(workflow_id=workflow.info().workflow_id, request=request, plan=plan, added_liquidity=0),
                list[PlannedTx],
                "plan staking the position again after a failed step",
            )
            for tx in restake:
                self._run.set(CompoundState.STAKING, f"after a failed step: {tx.purpose}")
                await self._transact(request, tx)
        await self._record(
            request,
            plan,
            CompoundOutcome.FAILED,
            reward=harvested.reward,
            carry_forward=harvested.reward - self._reward_spent,
        )

    async def _record(
        self, request: CompoundRequest, plan: CompoundPlan, outcome: CompoundOutcome, **amounts: int
    ) -> CompoundRecorded:
        self._run.set(CompoundState.RECORDING, f"{outcome}: recording the run in the ledger")
        return await self._activity(  # type: ignore[return-value]
            CompoundActivity.RECORD,
            CompoundRecordInput(
                workflow_id=workflow.info().workflow_id,
                request=request,
                plan=plan,
                outcome=outcome,
                tx_hashes=dict(self._tx_hashes),
                **amounts,
            ),
            CompoundRecorded,
            f"record the {outcome} run",
        )

    def _result(
        self, request: CompoundRequest, plan: CompoundPlan, outcome: CompoundOutcome, recorded: CompoundRecorded
    ) -> CompoundResult:
        return CompoundResult(
            request_id=request.request_id,
            workflow_id=workflow.info().workflow_id,
            chain=request.chain,
            owner=request.owner,
            position=request.position.key,
            outcome=outcome,
            reason=plan.gate.reason,
            gate=plan.gate,
            gas_used_wei=recorded.gas_used_wei,
            tx_hashes=dict(self._tx_hashes),
            position_yield=recorded.position_yield,
        )

    async def _transact(self, request: CompoundRequest, tx: PlannedTx) -> TxResult:
        result = await send_planned_tx(
            tx, chain=request.chain, signer=request.owner, fees=request.fees, policy=request.policy
        )
        self._tx_hashes[tx.step] = result.mined_tx_hash
        if result.outcome is not TxOutcome.CONFIRMED:
            raise ApplicationError(
                f"{tx.step} ended {result.outcome} ({result.mined_tx_hash}): {tx.purpose}",
                type="CompoundStepFailed",
                non_retryable=True,
            )
        return result

    @workflow.query
    def status(self) -> CompoundStatus:
        request = self._request
        return CompoundStatus(
            request_id=request.request_id if request else "",
            position=request.position.key if request else "",
            state=self._run.state,
            detail=self._run.detail,
            tx_hashes=dict(self._tx_hashes),
        )
