"""Bridge transfer activities: thin, idempotent steps keyed by (workflow id, "bridge").

* ``bridge_plan``        validates the request against both chains (asset, recipient,
  deadline, signer key, balance), quotes every route, chooses one (and says why), builds the
  deposit and, if the allowance falls short, the approval. The plan is recorded in the
  ledger *before* anything is sent; a retry returns the recorded plan.
* ``bridge_deposit_ref`` reads the mined deposit's receipt: the message or deposit id the
  route follows it by.
* ``bridge_track``       polls the route's status with back-off and heartbeats until the
  deposit moves to another state (or the window ends): long waits cost no workflow events.
* ``bridge_completion``  the destination transaction still needed (Wormhole's redeem),
  after checking on the destination that nobody redeemed the VAA already.
* ``bridge_verify``      reads what arrived from the delivering transaction's receipt (the
  token's ``Transfer`` to the recipient in the redeem or fill; or, refunded, to the depositor
  in the refund), checks it covers what the route owed, and records it as ``received``.

Each step also upserts the transfer's ``bridge_transfers`` row (planned → deposit sent →
completed or refunded) with the same values on a retry; every write carries the
transfer's identity, so a row missing for any reason is created by the next step. A run
that fails after its plan is recorded ``failed`` once, by ``bridge_record_failure``.

Refusals come before the ledger records anything, so bad input leaves no trace. None of
these activities has an on-chain side effect: the transactions are child lifecycles.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity

from activities.errors import business_errors
from activities.runtime import ChainRuntime
from activities.tx import TX_STEP
from connectors.bridges.base import BridgeAdapter, Delivery, context, is_native
from connectors.bridges.planning import check_deadline, choose, quote_routes, with_deadline
from connectors.bridges.registry import bridge_adapters
from connectors.dex.receipts import receipt_logs, revert_reason
from connectors.evm.erc20 import Erc20, approve_calldata
from crosslane.crashpoints import crash_point
from crosslane.domain.bridge import (
    BridgePlan,
    BridgeProgress,
    BridgeRequest,
    BridgeResult,
    BridgeRoute,
    BridgeState,
    DepositRef,
)
from crosslane.domain.bridge_steps import (
    BridgeActivity,
    BridgePlanInput,
    CompletionInput,
    DepositRefInput,
    RecordFailureInput,
    TrackInput,
    VerifyInput,
)
from crosslane.domain.recipients import check_recipient
from crosslane.domain.tx import TxOutcome, TxRequest, lifecycle_id
from crosslane.errors import CrosslaneError, InsufficientBalance, InvalidRequest
from crosslane.ledger.records import BRIDGE_TRANSFER_PLANNED, OperationStatus

BRIDGE_STEP = "bridge"
POLL_FIRST_S = 0.1
POLL_MAX_S = 2.0


class DepositFailed(CrosslaneError):
    """The deposit transaction reverted: nothing left the depositor but gas."""


class RedeemFailed(CrosslaneError):
    """The destination transaction failed and the transfer is not completed there."""


class DeliveryShortfall(CrosslaneError):
    """The destination shows less than the route promised."""


T = TypeVar("T")


class BridgeActivities:
    def __init__(self, runtime: ChainRuntime) -> None:
        self.rt = runtime
        self._adapters: dict[BridgeRoute, BridgeAdapter] | None = None

    @property
    def adapters(self) -> dict[BridgeRoute, BridgeAdapter]:
        if self._adapters is None:
            self._adapters = bridge_adapters(self.rt.chains.bridges, self.rt.client)
        return self._adapters

    def adapter(self, route: BridgeRoute) -> BridgeAdapter:
        found = self.adapters.get(route)
        if found is None:
            raise InvalidRequest(f"the {route} route is not configured here (no endpoints in the chain registry)")
        return found

    # -- plan --------------------------------------------------------------------------------
    @activity.defn(name=BridgeActivity.PLAN)
    @business_errors
    async def bridge_plan(self, inp: BridgePlanInput) -> BridgePlan:
        request = inp.request
        ledger = self.rt.ledger
        recorded = await asyncio.to_thread(ledger.get_operation, inp.workflow_id, BRIDGE_STEP)
        if recorded is not None and "plan" in recorded.detail:
            plan = BridgePlan.model_validate(recorded.detail["plan"])
            # The first attempt may have stopped short.
            await self._in_ledger(lambda: self._planned(inp.workflow_id, request, plan))
            return plan

        source = self.rt.chain(request.source_chain)
        destination = self.rt.chain(request.destination_chain)
        self.rt.signers.get(request.signer)  # SignerUnavailable before anything else
        if not self.adapters:
            raise InvalidRequest("no bridge route is configured (the chain registry has no bridges section)")
        client = self.rt.client(source.name)
        now = await client.latest_timestamp()
        check_deadline(request.deadline, now)
        check_recipient(destination, request.to)
        ctx = await context(self.rt.chains, self.rt.client, request, now)

        offers = await quote_routes(self.adapters, ctx)
        quotes, unavailable = offers.quotes, offers.unavailable
        prefs = with_deadline(request.allowed_routes, request.deadline, max(now, int(time.time())))
        choice = choose(offers, request.amount, prefs, ctx.token.amount_text)
        adapter = self.adapter(choice.chosen.route)
        deposit = await adapter.plan_deposit(ctx, choice.chosen)

        spender = deposit.spender
        if is_native(ctx.token):  # sent as the deposit's value: nothing to approve
            balance, allowance = await client.native_balance(request.signer), request.amount
        else:
            erc20 = Erc20(client, ctx.token.address)
            balance, allowance = await asyncio.gather(
                erc20.balance_of(request.signer),
                erc20.allowance(request.signer, spender) if spender else asyncio.sleep(0, request.amount),
            )
        if balance < request.amount:
            raise InsufficientBalance(
                f"{request.signer} holds {balance} base units of {ctx.token.symbol} on {source.name}; "
                f"the transfer needs {request.amount}"
            )
        approval = None
        if spender and allowance < request.amount:
            approval = TxRequest(
                request_id=f"{inp.workflow_id}.approve",
                chain=source.name,
                signer=request.signer,
                to=ctx.token.address,
                data=approve_calldata(spender, request.amount),
                fees=request.fees,
                policy=request.policy,
            )
        plan = BridgePlan(
            route=choice.chosen.route,
            reason=choice.reason,
            quotes=[r.quote for r in choice.ranked] + [q for q in quotes if q.route in choice.rejected],
            rejected={**{str(k): v for k, v in choice.rejected.items()}, **unavailable},
            source_token=ctx.token,
            destination_token=deposit.destination_token,
            recipient=request.to,
            amount=request.amount,
            expected_output=deposit.expected_output,
            fill_deadline=deposit.fill_deadline,
            approval=approval,
            deposit=TxRequest(
                request_id=f"{inp.workflow_id}.deposit",
                chain=source.name,
                signer=request.signer,
                to=deposit.call.to,
                value=deposit.call.value,
                data=deposit.call.data,
                gas_limit=deposit.call.gas_limit,
                fees=request.fees,
                # Source finality: the lifecycle counts these confirmations on the canonical chain.
                policy=request.policy.model_copy(
                    update={"confirmations": max(request.policy.confirmations, source.confirmations, deposit.finality)}
                ),
            ),
        )
        detail = {"request": request.model_dump(mode="json"), "plan": plan.model_dump(mode="json")}

        def record() -> BridgePlan:
            op = ledger.begin_operation(
                inp.workflow_id,
                BRIDGE_STEP,
                "bridge_transfer",
                chain_id=source.chain_id,
                signer=request.signer,
                detail=detail,
            )
            recorded = BridgePlan.model_validate(op.detail["plan"])  # a concurrent attempt that recorded first wins
            self._planned(inp.workflow_id, request, recorded)
            return recorded

        return await self._in_ledger(record)

    async def _in_ledger(self, write: Callable[[], T]) -> T:
        """Run ``write`` in a thread as one ledger transaction: a step's records commit together."""

        def run() -> T:
            with self.rt.ledger.atomic():
                return write()

        return await asyncio.to_thread(run)

    def _planned(self, workflow_id: str, request: BridgeRequest, plan: BridgePlan) -> None:
        """Create the transfer's row; a later step's row is left as it is (a plan retried late)."""
        self._save_transfer(
            workflow_id, request, plan, create_only=True, state=BRIDGE_TRANSFER_PLANNED, detail=plan.reason
        )

    # -- deposit -----------------------------------------------------------------------------
    @activity.defn(name=BridgeActivity.DEPOSIT_REF)
    @business_errors
    async def bridge_deposit_ref(self, inp: DepositRefInput) -> DepositRef:
        plan, deposit = inp.plan, inp.deposit
        client = self.rt.client(plan.source_token.chain)
        receipt = await receipt_logs(client, deposit.mined_tx_hash)
        if receipt.status != 1:
            reason = await revert_reason(client, receipt, plan.deposit.data, plan.deposit.value)
            # The workflow records the failure (bridge_record_failure) with this message.
            raise DepositFailed(
                f"the deposit {deposit.mined_tx_hash} reverted on {client.chain.name} ({reason or 'no reason'}): "
                f"nothing was bridged, only gas was spent"
            )
        crash_point("bridge.after_deposit", inp.workflow_id)
        ref = await self.adapter(plan.route).deposit_ref(plan, receipt)
        # The workflow follows the deposit from here, starting in this state.
        await self._in_ledger(
            lambda: self._save_transfer(
                inp.workflow_id,
                None,
                plan,
                state=BridgeState.PENDING_SOURCE_CONFIRMATIONS,
                deposit_tx=ref.tx_hash,
                deposit_id=ref.id,
                detail=f"deposit {ref.id} mined in block {ref.block_number} on {ref.source_chain}",
            )
        )
        return ref

    # -- waiting -----------------------------------------------------------------------------
    @activity.defn(name=BridgeActivity.TRACK)
    @business_errors
    async def bridge_track(self, inp: TrackInput) -> BridgeProgress:
        adapter = self.adapter(inp.ref.route)
        deadline = time.monotonic() + inp.max_seconds
        delay = POLL_FIRST_S
        crash_point("bridge.waiting", inp.ref.id)
        while True:
            progress = await adapter.status(inp.ref)
            activity.heartbeat(progress.state.value, progress.detail)
            if progress.state != inp.current or time.monotonic() >= deadline:
                return progress
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, POLL_MAX_S)

    # -- completion --------------------------------------------------------------------------
    @activity.defn(name=BridgeActivity.COMPLETION)
    @business_errors
    async def bridge_completion(self, inp: CompletionInput) -> TxRequest | None:
        """The destination transaction due (a redeem, a proof, a finalize), or None when the
        chain says it is done. Once that transaction's lifecycle has recorded it in the ledger,
        a repeat answers it again whatever the chain says now: since ``bridge-inline-tx`` the
        transfer sends it in the same workflow task as this check, so a worker killed after
        the send re-runs this check against a chain the send itself changed (or someone else's
        redeem did), and the nonce signed for it must still be used, its receipt still read."""
        request, ref = inp.request, inp.ref
        request_id = f"{inp.workflow_id}.{inp.progress.step}"
        recorded = await asyncio.to_thread(self.rt.ledger.get_operation, lifecycle_id(request_id), TX_STEP)
        if recorded is not None:
            return TxRequest.model_validate(recorded.detail["request"])
        call = await self.adapter(ref.route).completion_call(ref, inp.progress)
        if call is None:
            return None
        return TxRequest(
            request_id=request_id,
            chain=ref.destination_chain,
            signer=request.signer,
            to=call.to,
            value=call.value,
            data=call.data,
            gas_limit=call.gas_limit,
            fees=request.destination_fees or request.fees,
            policy=request.policy,
        )

    @activity.defn(name=BridgeActivity.VERIFY)
    @business_errors
    async def bridge_verify(self, inp: VerifyInput) -> BridgeResult:
        request, plan, ref, progress = inp.request, inp.plan, inp.ref, inp.progress
        adapter = self.adapter(ref.route)
        redeemed_by_us = False
        if progress.state is BridgeState.REFUNDED:
            delivery = await adapter.refunded(ref, progress)
            owed, who = plan.amount, f"depositor {request.signer} on {ref.source_chain}"
        else:
            tx = progress.destination_tx
            completion = inp.completion
            if completion is not None and completion.outcome is TxOutcome.CONFIRMED:
                tx, redeemed_by_us = completion.mined_tx_hash, True
            elif completion is not None:
                # The contract refused our redeem: fine if someone redeemed the VAA first
                # (the delivery is then found on the destination), a failure otherwise.
                now = await adapter.status(ref)
                if now.state is not BridgeState.COMPLETED:
                    client = self.rt.client(ref.destination_chain)
                    receipt = await receipt_logs(client, completion.mined_tx_hash)
                    sent = await client.transaction(completion.mined_tx_hash)
                    reason = await revert_reason(client, receipt, "0x" + bytes(sent["input"]).hex(), 0)
                    raise RedeemFailed(
                        f"the redeem {completion.mined_tx_hash} was {completion.outcome} on {ref.destination_chain} "
                        f"({reason or 'no reason'}) and {ref.id} is not redeemed: {now.detail}"
                    )
            delivery = await adapter.delivered(ref, tx)
            owed, who = plan.expected_output, f"recipient {plan.recipient} on {ref.destination_chain}"
        if delivery.amount < owed:  # recorded by the workflow's bridge_record_failure, with this message
            raise DeliveryShortfall(
                f"{who}: received {delivery.amount} in {delivery.tx_hash}, expected at least {owed}"
            )
        result = _result(request, plan, ref, progress, delivery, redeemed_by_us, inp.stage_seconds)
        outcome = {"result": result.model_dump(mode="json")}

        def record() -> None:
            self._record(inp.workflow_id, OperationStatus.SUCCEEDED, outcome)
            self._save_transfer(
                inp.workflow_id,
                request,
                plan,
                state=result.state,
                deposit_tx=result.deposit_tx,
                deposit_id=ref.id,
                completion_tx=result.completion_tx,
                refund_tx=result.refund_tx,
                received=result.received,
                detail=result.detail,
            )

        await self._in_ledger(record)
        return result

    @activity.defn(name=BridgeActivity.RECORD_FAILURE)
    @business_errors
    async def bridge_record_failure(self, inp: RecordFailureInput) -> None:
        """A run that fails after its plan was recorded (cancelled, approval or deposit
        failed, redeem refused...) leaves its transfer ``failed`` with the reason; a
        transfer already completed or refunded keeps that state."""

        def record() -> None:
            self._record(inp.workflow_id, OperationStatus.FAILED, {"failure": inp.reason})
            self._save_transfer(inp.workflow_id, inp.request, inp.plan, state=BridgeState.FAILED, detail=inp.reason)

        await self._in_ledger(record)

    def _record(self, workflow_id: str, status: OperationStatus, detail: dict[str, Any]) -> None:
        op = self.rt.ledger.get_operation(workflow_id, BRIDGE_STEP)
        if op is not None:
            self.rt.ledger.update_operation(op.id, status=status.value, detail={**op.detail, **detail})

    def _save_transfer(
        self,
        workflow_id: str,
        request: BridgeRequest | None,
        plan: BridgePlan,
        *,
        create_only: bool = False,
        **fields: Any,
    ) -> None:
        """Upsert the transfer's ``bridge_transfers`` row with its identity and ``fields``.

        Without ``request`` (a step whose input lacks it) it is read from the plan's
        operation; with no operation there is nothing planned here to record.
        """
        ledger = self.rt.ledger
        if request is None:
            op = ledger.get_operation(workflow_id, BRIDGE_STEP)
            if op is None or "request" not in op.detail:
                return
            request = BridgeRequest.model_validate(op.detail["request"])
        ledger.upsert_bridge_transfer(
            workflow_id,
            create_only=create_only,
            request_id=request.request_id,
            route=plan.route,
            source_chain=request.source_chain,
            destination_chain=request.destination_chain,
            asset=request.asset,
            amount=plan.amount,
            signer=request.signer,
            recipient=plan.recipient,
            **fields,
        )


def _result(
    request: BridgeRequest,
    plan: BridgePlan,
    ref: DepositRef,
    progress: BridgeProgress,
    delivery: Delivery,
    redeemed_by_us: bool,
    stage_seconds: dict[str, float],
) -> BridgeResult:
    refunded = progress.state is BridgeState.REFUNDED
    return BridgeResult(
        request_id=request.request_id,
        route=plan.route,
        reason=plan.reason,
        state=BridgeState.REFUNDED if refunded else BridgeState.COMPLETED,
        source_chain=ref.source_chain,
        destination_chain=ref.destination_chain,
        asset=request.asset,
        amount=plan.amount,
        received=delivery.amount,
        recipient=request.signer if refunded else plan.recipient,
        deposit_tx=ref.tx_hash,
        completion_tx=None if refunded else delivery.tx_hash,
        refund_tx=delivery.tx_hash if refunded else None,
        redeemed_by_us=redeemed_by_us,
        detail=progress.detail,
        stage_seconds=stage_seconds,
    )
