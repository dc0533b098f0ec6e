"""LPMigration: move one liquidity position into a Uniswap V3 range as one durable operation.

plan (validate, read the source, fix reference prices) → [unstake, claim, withdraw from the
V3 staker | withdraw V2 LP from the MasterChef farm, harvesting its reward] → remove: V3
collect fees → decrease all → collect → burn, or V2 remove → zap: the ratio swap sized
with the exact pool math (``DexSwap``) → mint (``DexLiquidity``) → reset any allowance this
run left above zero → [restake] → finish: read the outcome back from the chain and record
it in the ledger. ``via_migrator`` replaces remove/zap/mint by one V3Migrator transaction.

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
from workflows.bridge_transfer import BridgeTransfer
from workflows.child_tx import send_planned_tx
from workflows.dex_liquidity import DexLiquidity
from workflows.dex_swap import DexSwap
from workflows.failures import failing_with_business_error, failure_reason
from workflows.retry import ACTIVITY_RETRY
from workflows.run_state import RunState

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.bridge import BridgeRequest, BridgeResult, BridgeRoute, BridgeState
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
        V2LpSource,
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
        self._approvals: dict[str, list[str]] = {}  # chain -> this run's approvals, reset at the end

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
        source_chain, target_chain = request.chain, plan.target_chain or request.chain
        removed = False
        try:
            if plan.staked is not None:
                self._run.set(MigrationState.UNSTAKING, f"leaving the staker {plan.staked.staker}")
                await self._raw_step(request, plan, "unstake", source_chain)
            if plan.farm is not None:
                self._run.set(
                    MigrationState.UNSTAKING,
                    f"withdrawing {plan.farm.amount} LP from farm {plan.farm.pid}, harvesting its reward",
                )
                await self._raw_step(request, plan, "unfarm", source_chain)
            if plan.kind is MigrationKind.V2_TO_V3_MIGRATOR:
                self._run.set(MigrationState.ADDING, "V3Migrator: burn the V2 LP tokens, mint the V3 position")
                hashes = await self._raw_step(request, plan, "migrate", source_chain)
                self._approved(source_chain, hashes[:-1])
                removed = True
                done.minted_tx_hash = hashes[-1]
            else:
                self._run.set(
                    MigrationState.REMOVING, f"removing {plan.source_liquidity} from {plan.source_pool.address}"
                )
                removed = await self._remove(request, plan, done)
                done.have0 = done.removed0 + done.collected_fees0
                done.have1 = done.removed1 + done.collected_fees1
                if plan.kind is MigrationKind.CROSS_CHAIN:
                    await self._bridge(request, plan, done)
                await self._zap_and_mint(request, plan, done)
            self._run.set(MigrationState.ADDING, "resetting allowances left above zero")
            for chain in dict.fromkeys([source_chain, target_chain]):
                await self._raw_step(
                    request, plan, "reset" if chain == source_chain else "reset-target", chain,
                    approval_tx_hashes=self._approvals.get(chain, []),
                )  # fmt: skip
            if plan.restake is not None and done.new_token_id is not None:
                self._run.set(MigrationState.RESTAKING, plan.restake_note)
                await self._raw_step(request, plan, "restake", target_chain, token_id=done.new_token_id)
                done.staked_in = plan.staked.staker if plan.staked else None
        except (ActivityError, ChildWorkflowError, ApplicationError) as exc:
            if not removed:
                raise
            return await self._fail_after_removal(request, plan, done, failure_reason(exc))
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
        if isinstance(request.source, V2LpSource):  # v2_to_v3, or cross_chain from a V2 pair
            removed = await self._liquidity(request, plan.source_pool.dex, "remove", self._v2_remove(request, plan))
            self._approved(request.chain, removed.approval_tx_hashes)
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

    def _approved(self, chain: str, tx_hashes: list[str]) -> None:
        self._approvals.setdefault(chain, []).extend(tx_hashes)

    async def _bridge(self, request: LPMigrationRequest, plan: MigrationPlan, done: MigrationFinishInput) -> None:
        """Cross-chain: everything into the bridge asset on the source chain, then across."""
        wf_id = workflow.info().workflow_id
        bridge_token = plan.bridge_token_source
        source = plan.source_pool
        other = source.token1 if bridge_token == source.token0 else source.token0
        have_bridge = done.have0 if bridge_token == source.token0 else done.have1
        have_other = done.have1 if bridge_token == source.token0 else done.have0
        if have_other > 0:
            self._run.set(MigrationState.SWAPPING, f"swapping {have_other} of {other} to {request.bridge_asset}")
            swapped = await self._swap(request, request.chain, "to-bridge-asset", other, bridge_token or "", have_other)
            have_bridge += swapped.amount_out
        bridge = BridgeRequest(
            request_id=f"{wf_id}.bridge",
            source_chain=request.chain,
            destination_chain=plan.target_chain,
            asset=request.bridge_asset,
            amount=have_bridge,
            signer=request.owner,
            route=request.bridge_route or BridgeRoute.ACROSS,
            fees=request.fees,
            policy=request.policy,
        )
        self._run.set(MigrationState.BRIDGING, f"bridging {have_bridge} {request.bridge_asset} to {plan.target_chain}")
        result: BridgeResult = await workflow.execute_child_workflow(
            BridgeTransfer.run,
            bridge,
            id=bridge.workflow_id,
            result_type=BridgeResult,
            static_summary=f"{have_bridge} {request.bridge_asset} to {plan.target_chain}",
        )
        self._legs.append(
            MigrationLeg(
                step="bridge",
                chain=request.chain,
                child=bridge.workflow_id,
                tx_hashes=[result.deposit_tx],
                gas_wei=0,
                note=f"{result.route}: {result.state}, {result.received} received",
            )
        )
        done.bridged = have_bridge
        if result.state is not BridgeState.COMPLETED:
            raise ApplicationError(
                f"the bridge transfer ended {result.state}: {result.detail}",
                type="BridgeNotDelivered",
                non_retryable=True,
            )
        if result.completion_tx and result.redeemed_by_us:
            self._legs.append(
                MigrationLeg(
                    step="bridge-redeem",
                    chain=plan.target_chain,
                    child=bridge.workflow_id,
                    tx_hashes=[result.completion_tx],
                    gas_wei=0,
                )
            )
        done.bridge_received = result.received
        arrived = result.received
        if plan.bridge_token_delivered and arrived > 0:
            self._run.set(MigrationState.SWAPPING, f"swapping {arrived} of the bridge's wrapped {request.bridge_asset}")
            swapped = await self._swap(
                request,
                plan.target_chain or request.chain,
                "from-bridge-asset",
                plan.bridge_token_delivered,
                plan.bridge_token_target or "",
                arrived,
                dex=plan.delivered_dex,
            )
            arrived = swapped.amount_out
        target_bridge_is_0 = plan.bridge_token_target == plan.target_pool.token0
        done.have0, done.have1 = (arrived, 0) if target_bridge_is_0 else (0, arrived)

    async def _swap(
        self,
        request: LPMigrationRequest,
        chain: str,
        step: str,
        token_in: str,
        token_out: str,
        amount: int,
        dex: str | None = None,
    ) -> SwapResult:
        wf_id = workflow.info().workflow_id
        swap_request = SwapRequest(
            request_id=f"{wf_id}.{step}",
            chain=chain,
            signer=request.owner,
            token_in=token_in,
            token_out=token_out,
            amount=amount,
            slippage_bps=request.slippage_bps,
            dexes=[dex or request.target.dex],
            max_hops=1,
            fees=request.fees,
            policy=request.policy,
        )
        swapped: SwapResult = await workflow.execute_child_workflow(
            DexSwap.run,
            swap_request,
            id=swap_request.workflow_id,
            result_type=SwapResult,
            static_summary=f"{step}: {amount} of {token_in}",
        )
        if swapped.approve_tx_hash:
            self._approved(chain, [swapped.approve_tx_hash])
        self._legs.append(
            MigrationLeg(
                step=step,
                chain=chain,
                child=swap_request.workflow_id,
                tx_hashes=[h for h in (swapped.approve_tx_hash, swapped.swap_tx_hash) if h],
                gas_wei=swapped.gas_used * swapped.effective_gas_price,
                note=f"{swapped.amount_in} of {token_in} -> {swapped.amount_out} of {token_out}",
            )
        )
        return swapped

    async def _zap_and_mint(self, request: LPMigrationRequest, plan: MigrationPlan, done: MigrationFinishInput) -> None:
        wf_id = workflow.info().workflow_id
        chain = plan.target_chain or request.chain
        have0, have1 = done.have0, done.have1
        self._run.set(MigrationState.SWAPPING, f"sizing the ratio swap for {have0}/{have1}")
        zap: ZapDecision = await self._activity(
            MigrationActivity.ZAP,
            MigrationZapInput(workflow_id=wf_id, request=request, plan=plan, amount0=have0, amount1=have1),
            ZapDecision,
            "zap",
        )
        done.zap = zap
        if zap.token_in is not None and zap.amount_in > 0:
            self._run.set(MigrationState.SWAPPING, f"swapping {zap.amount_in} of {zap.token_in}")
            swapped = await self._swap(request, chain, "zap", zap.token_in, zap.token_out or "", zap.amount_in)
            done.swap_in, done.swap_out = swapped.amount_in, swapped.amount_out
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
            chain=chain,
        )
        self._approved(chain, minted.approval_tx_hashes)
        done.new_token_id, done.minted_tx_hash = minted.token_id, minted.tx_hash
        done.deposited0, done.deposited1 = minted.amount0, minted.amount1

    async def _fail_after_removal(
        self,
        request: LPMigrationRequest,
        plan: MigrationPlan,
        done: MigrationFinishInput,
        reason: str,
    ) -> MigrationResult:
        """The tokens are the owner's, in the owner's wallet: reset what this run approved,
        record where every token is, and fail saying so."""
        self._run.set(MigrationState.FAILED, f"after the removal: {reason}; resetting approvals")
        for chain in dict.fromkeys([request.chain, plan.target_chain or request.chain]):
            await self._raw_step(
                request, plan, "reset" if chain == request.chain else "reset-target", chain,
                approval_tx_hashes=self._approvals.get(chain, []),
            )  # fmt: skip
        if plan.kind is MigrationKind.CROSS_CHAIN and not done.bridge_received:
            done.where_hint = (
                f"on {request.chain} in the owner's wallet {request.owner} (removed {done.removed0}/"
                f"{done.removed1} of {plan.source_pool.token0}/{plan.source_pool.token1}, fees "
                f"{done.collected_fees0}/{done.collected_fees1}; bridged {done.bridged} {request.bridge_asset}, "
                "not delivered: see the bridge run)"
            )
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
        self,
        request: LPMigrationRequest,
        dex: str,
        step: str,
        operation: dict[str, object],
        *,
        chain: str | None = None,
    ) -> LiquidityResult:
        chain = chain or request.chain
        child = LiquidityRequest.model_validate(
            {
                "request_id": f"{workflow.info().workflow_id}.{step}",
                "chain": chain,
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
                chain=chain,
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
        chain: str,
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
                chain=chain,
                token_id=token_id,
                approval_tx_hashes=approval_tx_hashes or [],
            ),
            MigrationStepPlan,
            f"plan {step}",
        )
        hashes = []
        for tx in planned.txs:
            sent = await self._transact(request, chain, tx)
            hashes.append(sent.mined_tx_hash)
        if planned.txs or planned.note:
            self._legs.append(
                MigrationLeg(
                    step=step, chain=chain, child=f"{wf_id}.{step}", tx_hashes=hashes, gas_wei=0, note=planned.note
                )
            )
        return hashes

    async def _transact(self, request: LPMigrationRequest, chain: str, tx: PlannedTx) -> TxResult:
        result = await send_planned_tx(tx, chain=chain, signer=request.owner, fees=request.fees, policy=request.policy)
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
