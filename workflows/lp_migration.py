"""LPMigration: move one liquidity position into a Uniswap V3 range as one durable operation.

plan (validate, read the source, fix reference prices) → [unstake, claim, withdraw from the
V3 staker] → remove: V3 collect fees → decrease all → collect → burn, or V2 remove →
zap: the ratio swap sized with the exact pool math (``DexSwap``) → mint (``DexLiquidity``)
→ reset any allowance this run left above zero → [restake] → finish: read the outcome back
from the chain and record it in the ledger. ``via_migrator`` replaces remove/zap/mint by
one V3Migrator transaction.

Every step is a child keyed by ``<workflow id>.<step>``: a replayed or retried step joins
the same child (and its TransactionLifecycle the same signed bytes), so nothing runs twice.
All transactions are the owner's and pay the owner: a failure after the removal leaves the
tokens in the owner's wallet; the run then resets its approvals, records where every token
is, and fails saying so.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from workflows import search_attributes as sa
from workflows.child_tx import send_planned_tx
from workflows.dex_liquidity import DexLiquidity
from workflows.dex_swap import DexSwap
from workflows.failures import failing_with_business_error, failure_reason
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.dex import SwapRequest, SwapResult
    from crosslane.domain.dex_liquidity import LiquidityRequest, LiquidityResult, PlannedTx
    from crosslane.domain.lp_migration import (
        LPMigrationRequest,
        MigrationActivity,
        MigrationFinishInput,
        MigrationKind,
        MigrationLeg,
        MigrationPlan,
        MigrationPlanInput,
        MigrationResult,
        MigrationState,
        MigrationStatus,
        MigrationStepInput,
        MigrationStepPlan,
        MigrationZapInput,
        ZapDecision,
    )
    from crosslane.domain.tx import TxOutcome, TxResult

# Read-only steps; a killed worker's step is retried on another after this long.
PLAN_TIMEOUT = timedelta(seconds=20)
SHORT = timedelta(seconds=10)


@workflow.defn(name="LPMigration")
class LPMigration:
    def __init__(self) -> None:
        self._request: LPMigrationRequest | None = None
        self._run = RunState(MigrationState.PLANNING)
        self._legs: list[MigrationLeg] = []
        self._approvals: list[str] = []  # this run's approval transactions, reset at the end

    @workflow.run
    async def run(self, request: LPMigrationRequest) -> MigrationResult:
        return await failing_with_business_error(
            self._migrate(request), lambda why: self._run.set(MigrationState.FAILED, why)
        )

    async def _migrate(self, request: LPMigrationRequest) -> MigrationResult:
        self._request = request
        wf_id = workflow.info().workflow_id
        workflow.upsert_search_attributes(
            [sa.CHAIN.value_set(request.chain), sa.SIGNER.value_set(request.owner), sa.STATE.value_set(self._run.state)]
        )
        self._run.set(MigrationState.PLANNING, f"{request.kind}: reading the source and the target pool")
        plan: MigrationPlan = await self._activity(
            MigrationActivity.PLAN, MigrationPlanInput(workflow_id=wf_id, request=request), MigrationPlan, "plan"
        )
        done = MigrationFinishInput(
            workflow_id=wf_id,
            request=request,
            plan=plan,
            legs=self._legs,
            removed0=0,
            removed1=0,
            collected_fees0=0,
            collected_fees1=0,
            zap=None,
            swap_in=0,
            swap_out=0,
            new_token_id=None,
            minted_tx_hash=None,
            deposited0=0,
            deposited1=0,
            staked_in=None,
            restake_note=plan.restake_note,
        )
        approvals = self._approvals
        removed = False
        try:
            if plan.staked is not None:
                self._run.set(MigrationState.UNSTAKING, f"leaving the staker {plan.staked.staker}")
                await self._raw_step(request, plan, "unstake")
            if plan.kind is MigrationKind.V2_TO_V3_MIGRATOR:
                self._run.set(MigrationState.ADDING, "V3Migrator: burn the V2 LP tokens, mint the V3 position")
                hashes = await self._raw_step(request, plan, "migrate")
                approvals.extend(hashes[:-1])
                removed = True
                done.minted_tx_hash = hashes[-1]
            else:
                self._run.set(
                    MigrationState.REMOVING, f"removing {plan.source_liquidity} from {plan.source_pool.address}"
                )
                removed = await self._remove(request, plan, done)
                await self._zap_and_mint(request, plan, done, approvals)
            self._run.set(MigrationState.ADDING, "resetting allowances left above zero")
            await self._raw_step(request, plan, "reset", approval_tx_hashes=approvals)
            if plan.restake is not None and done.new_token_id is not None:
                self._run.set(MigrationState.RESTAKING, plan.restake_note)
                await self._raw_step(request, plan, "restake", token_id=done.new_token_id)
                done.staked_in = plan.staked.staker if plan.staked else None
        except (ActivityError, ChildWorkflowError, ApplicationError) as exc:
            if not removed:
                raise
            return await self._fail_after_removal(request, plan, done, approvals, failure_reason(exc))
        self._run.set(MigrationState.RECORDING, "reading the outcome back from the chain")
        done.legs = list(self._legs)
        result: MigrationResult = await self._activity(MigrationActivity.FINISH, done, MigrationResult, "finish")
        self._run.set(
            MigrationState.DONE,
            f"{result.source} -> position {result.new_position.token_id if result.new_position else '?'}; "
            f"value {result.value_before} -> {result.value_after} {result.reference}",
        )
        return result

    async def _remove(self, request: LPMigrationRequest, plan: MigrationPlan, done: MigrationFinishInput) -> bool:
        """Take the source apart; True once any of its tokens left it."""
        if plan.kind is MigrationKind.V2_TO_V3:
            removed = await self._liquidity(request, plan.source_pool.dex, "remove", self._v2_remove(request, plan))
            self._approvals.extend(removed.approval_tx_hashes)
            done.removed0, done.removed1 = removed.amount0, removed.amount1
            return True
        token_id = request.source.token_id  # type: ignore[union-attr]
        if plan.fees0 or plan.fees1:
            fees = await self._liquidity(
                request, plan.source_pool.dex, "collect-fees", {"action": "v3_collect", "token_id": token_id}
            )
            done.collected_fees0, done.collected_fees1 = fees.amount0, fees.amount1
        decreased = await self._liquidity(
            request, plan.source_pool.dex, "decrease", {"action": "v3_decrease", "token_id": token_id}
        )
        collected = await self._liquidity(
            request, plan.source_pool.dex, "collect", {"action": "v3_collect", "token_id": token_id}
        )
        done.removed0, done.removed1 = decreased.amount0, decreased.amount1
        # Fees the position earned between the fee collect and the decrease come out here.
        done.collected_fees0 += collected.amount0 - decreased.amount0
        done.collected_fees1 += collected.amount1 - decreased.amount1
        await self._liquidity(request, plan.source_pool.dex, "burn", {"action": "v3_burn", "token_id": token_id})
        return True

    @staticmethod
    def _v2_remove(request: LPMigrationRequest, plan: MigrationPlan) -> dict[str, object]:
        return {
            "action": "v2_remove",
            "token_a": plan.source_pool.token0,
            "token_b": plan.source_pool.token1,
            "liquidity": plan.source_liquidity,
        }

    async def _zap_and_mint(
        self, request: LPMigrationRequest, plan: MigrationPlan, done: MigrationFinishInput, approvals: list[str]
    ) -> None:
        wf_id = workflow.info().workflow_id
        have0, have1 = done.removed0 + done.collected_fees0, done.removed1 + done.collected_fees1
        self._run.set(MigrationState.SWAPPING, f"sizing the ratio swap for {have0}/{have1}")
        zap: ZapDecision = await self._activity(
            MigrationActivity.ZAP,
            MigrationZapInput(workflow_id=wf_id, request=request, plan=plan, amount0=have0, amount1=have1),
            ZapDecision,
            "zap",
        )
        done.zap = zap
        if zap.token_in is not None and zap.amount_in > 0:
            swap_request = SwapRequest(
                request_id=f"{wf_id}.zap",
                chain=request.chain,
                signer=request.owner,
                token_in=zap.token_in,
                token_out=zap.token_out or "",
                amount=zap.amount_in,
                slippage_bps=request.slippage_bps,
                dexes=[request.target.dex],
                max_hops=1,
                fees=request.fees,
                policy=request.policy,
            )
            self._run.set(MigrationState.SWAPPING, f"swapping {zap.amount_in} of {zap.token_in}")
            swapped: SwapResult = await workflow.execute_child_workflow(
                DexSwap.run,
                swap_request,
                id=swap_request.workflow_id,
                result_type=SwapResult,
                static_summary=f"zap: {zap.amount_in} of {zap.token_in}",
            )
            done.swap_in, done.swap_out = swapped.amount_in, swapped.amount_out
            if swapped.approve_tx_hash:
                approvals.append(swapped.approve_tx_hash)
            self._legs.append(
                MigrationLeg(
                    step="zap",
                    child=swap_request.workflow_id,
                    tx_hashes=[h for h in (swapped.approve_tx_hash, swapped.swap_tx_hash) if h],
                    gas_wei=swapped.gas_used * swapped.effective_gas_price,
                    amount0=-swapped.amount_in if zap.token_in == plan.target_pool.token0 else swapped.amount_out,
                    amount1=swapped.amount_out if zap.token_in == plan.target_pool.token0 else -swapped.amount_in,
                )
            )
        if zap.token_in == plan.target_pool.token0:
            mint0, mint1 = have0 - done.swap_in, have1 + done.swap_out
        else:
            mint0, mint1 = have0 + done.swap_out, have1 - done.swap_in
        self._run.set(MigrationState.ADDING, f"minting with {mint0}/{mint1}")
        target = request.target
        minted = await self._liquidity(
            request,
            target.dex,
            "mint",
            {
                "action": "v3_mint",
                "token_a": plan.target_pool.token0,
                "token_b": plan.target_pool.token1,
                "fee": target.fee,
                "tick_lower": target.tick_lower,
                "tick_upper": target.tick_upper,
                "amount_a": mint0,
                "amount_b": mint1,
            },
        )
        approvals.extend(minted.approval_tx_hashes)
        done.new_token_id, done.minted_tx_hash = minted.token_id, minted.tx_hash
        done.deposited0, done.deposited1 = minted.amount0, minted.amount1

    async def _fail_after_removal(
        self,
        request: LPMigrationRequest,
        plan: MigrationPlan,
        done: MigrationFinishInput,
        approvals: list[str],
        reason: str,
    ) -> MigrationResult:
        """The tokens are the owner's, in the owner's wallet: reset what this run approved,
        record where every token is, and fail saying so."""
        self._run.set(MigrationState.FAILED, f"after the removal: {reason}; resetting approvals")
        await self._raw_step(request, plan, "reset", approval_tx_hashes=approvals)
        done.failure = reason
        done.legs = list(self._legs)
        result: MigrationResult = await self._activity(MigrationActivity.FINISH, done, MigrationResult, "record")
        raise ApplicationError(
            f"migration failed after the removal: {reason}. Tokens are {result.where_tokens_are}",
            result.model_dump(mode="json"),
            type="MigrationFailed",
            non_retryable=True,
        )

    async def _liquidity(
        self, request: LPMigrationRequest, dex: str, step: str, operation: dict[str, object]
    ) -> LiquidityResult:
        child = LiquidityRequest.model_validate(
            {
                "request_id": f"{workflow.info().workflow_id}.{step}",
                "chain": request.chain,
                "owner": request.owner,
                "operation": operation,
                "dex": dex,
                "slippage_bps": request.slippage_bps,
                "deadline_ttl": request.deadline_ttl,
                "fees": request.fees,
                "policy": request.policy,
            }
        )
        self._run.set(self._run.state, f"{step}: {operation['action']}")
        result: LiquidityResult = await workflow.execute_child_workflow(
            DexLiquidity.run, child, id=child.workflow_id, result_type=LiquidityResult, static_summary=step
        )
        self._legs.append(
            MigrationLeg(
                step=step,
                child=child.workflow_id,
                tx_hashes=[*result.approval_tx_hashes, result.tx_hash],
                gas_wei=result.gas_used * result.effective_gas_price,
                amount0=result.amount0,
                amount1=result.amount1,
            )
        )
        return result

    async def _raw_step(
        self,
        request: LPMigrationRequest,
        plan: MigrationPlan,
        step: str,
        *,
        token_id: int | None = None,
        approval_tx_hashes: list[str] | None = None,
    ) -> list[str]:
        """Plan one raw step from the chain now, then send its transactions in order."""
        wf_id = workflow.info().workflow_id
        planned: MigrationStepPlan = await self._activity(
            MigrationActivity.STEP,
            MigrationStepInput(
                workflow_id=wf_id,
                request=request,
                plan=plan,
                step=step,
                token_id=token_id,
                approval_tx_hashes=approval_tx_hashes or [],
            ),
            MigrationStepPlan,
            f"plan {step}",
        )
        hashes = []
        for tx in planned.txs:
            sent = await self._transact(request, tx)
            hashes.append(sent.mined_tx_hash)
        if planned.txs or planned.note:
            self._legs.append(
                MigrationLeg(step=step, child=f"{wf_id}.{step}", tx_hashes=hashes, gas_wei=0, note=planned.note)
            )
        return hashes

    async def _transact(self, request: LPMigrationRequest, tx: PlannedTx) -> TxResult:
        result = await send_planned_tx(
            tx, chain=request.chain, signer=request.owner, fees=request.fees, policy=request.policy
        )
        if result.outcome is not TxOutcome.CONFIRMED:
            raise ApplicationError(
                f"{tx.step} ended {result.outcome} ({result.mined_tx_hash}): {tx.purpose}",
                type="StepFailed",
                non_retryable=True,
            )
        return result

    async def _activity(self, name: str, arg: object, result_type: type, summary: str) -> object:
        return await workflow.execute_activity(
            name,
            arg,
            summary=summary,
            result_type=result_type,
            start_to_close_timeout=PLAN_TIMEOUT if name == MigrationActivity.PLAN else SHORT,
            retry_policy=ACTIVITY_RETRY,
        )

    @workflow.query
    def status(self) -> MigrationStatus:
        request = self._request
        return MigrationStatus(
            request_id=request.request_id if request else "",
            chain=request.chain if request else "",
            owner=request.owner if request else "",
            kind=request.kind if request else None,
            state=self._run.state,
            detail=self._run.detail,
            steps=[leg.step for leg in self._legs],
        )
