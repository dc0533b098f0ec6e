"""StuckTxRecovery: sweep one (chain, signer), repair what is stuck, report what was done.

A stuck transaction owned by a running TransactionLifecycle is that workflow's to fix, so
the sweep signals it ``bump_now``; anything else is replaced by a child lifecycle pinned
to the same nonce. A gap (a nonce with nothing pending while later nonces wait) is filled
with a 0-value self-send, so the queue behind it can mine.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.failures import failing_with_business_error
from workflows.retry import ACTIVITY_RETRY
from workflows.tx_lifecycle import TransactionLifecycle

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.recovery import RecoveryAction, RecoveryActionKind, RecoveryReport, RecoveryRequest
    from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxRequest, TxResult
    from crosslane.domain.tx_steps import ScanInput, ScanResult, TxActivity
    from crosslane.money import bump


@workflow.defn(name="StuckTxRecovery")
class StuckTxRecovery:
    def __init__(self) -> None:
        self._actions: list[RecoveryAction] = []
        self._phase = "scanning"

    @workflow.run
    async def run(self, request: RecoveryRequest) -> RecoveryReport:
        return await failing_with_business_error(self._sweep(request), self._failed)

    def _failed(self, why: str) -> None:
        self._phase = f"failed: {why}"

    async def _sweep(self, request: RecoveryRequest) -> RecoveryReport:
        scan: ScanResult = await workflow.execute_activity(
            TxActivity.SCAN_SIGNER,
            ScanInput(chain=request.chain, signer=request.signer),
            result_type=ScanResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=ACTIVITY_RETRY,
        )
        self._phase = "repairing"
        children = []
        for tx in scan.stuck:
            if tx.owner_workflow_id and not request.dry_run and await self._signal_owner(tx.owner_workflow_id):
                self._actions.append(
                    RecoveryAction(
                        nonce=tx.nonce,
                        kind=RecoveryActionKind.SIGNALLED_OWNER,
                        reason=tx.reason,
                        workflow_id=tx.owner_workflow_id,
                    )
                )
                continue
            kind = RecoveryActionKind.WOULD_REPLACE if request.dry_run else RecoveryActionKind.REPLACED
            children.append(
                (
                    kind,
                    tx.nonce,
                    tx.reason,
                    TxRequest(
                        request_id=f"{workflow.info().workflow_id}.n{tx.nonce}",
                        chain=request.chain,
                        signer=request.signer,
                        to=tx.to,
                        value=tx.value,
                        data=tx.data,
                        gas_limit=tx.gas,
                        nonce=tx.nonce,
                        fees=self._fees(
                            request, bump(tx.max_fee_per_gas, 1250), bump(tx.max_priority_fee_per_gas, 1250), scan
                        ),
                        policy=ReplacementPolicy(replace_after_blocks=3),
                    ),
                )
            )
        for nonce in scan.gaps:
            kind = RecoveryActionKind.WOULD_FILL if request.dry_run else RecoveryActionKind.FILLED_GAP
            children.append(
                (
                    kind,
                    nonce,
                    "nothing pending at this nonce while later nonces wait",
                    TxRequest(
                        request_id=f"{workflow.info().workflow_id}.n{nonce}",
                        chain=request.chain,
                        signer=request.signer,
                        to=request.signer,
                        value=0,
                        gas_limit=21_000,
                        nonce=nonce,
                        fees=self._fees(request, 0, 0, scan),
                        policy=ReplacementPolicy(replace_after_blocks=3),
                    ),
                )
            )
        for kind, nonce, reason, child in children:
            action = RecoveryAction(nonce=nonce, kind=kind, reason=reason, workflow_id=child.workflow_id)
            self._actions.append(action)
        if not request.dry_run:
            await self._run_children([c[3] for c in children])
        self._phase = "done"
        return RecoveryReport(
            chain=request.chain,
            signer=request.signer,
            mined_nonce=scan.mined_nonce,
            pending_nonce=scan.pending_nonce,
            base_fee=scan.base_fee,
            actions=self._actions,
        )

    @staticmethod
    def _fees(request: RecoveryRequest, min_max_fee: int, min_tip: int, scan: ScanResult) -> FeePolicy:
        tip = max(min_tip, 10**8)
        max_fee = min(max(min_max_fee, 2 * scan.base_fee + tip), request.max_fee_per_gas_cap)
        return FeePolicy(
            max_fee_per_gas_cap=request.max_fee_per_gas_cap,
            initial_max_fee_per_gas=max_fee,
            initial_max_priority_fee_per_gas=min(tip, max_fee),
        )

    async def _signal_owner(self, workflow_id: str) -> bool:
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(TransactionLifecycle.bump_now)
        except ApplicationError:
            return False
        except Exception:  # noqa: BLE001 - the owner has finished: we repair it ourselves
            return False
        return True

    async def _run_children(self, requests: list[TxRequest]) -> None:
        handles = [
            await workflow.start_child_workflow(TransactionLifecycle.run, r, id=r.workflow_id, result_type=TxResult)
            for r in requests
        ]
        for action, handle in zip(
            [a for a in self._actions if a.workflow_id in {r.workflow_id for r in requests}], handles, strict=True
        ):
            try:
                result: TxResult = await handle
            except Exception as exc:  # noqa: BLE001 - reported, not raised: other repairs still count
                action.outcome = f"failed: {exc}"
                continue
            action.outcome = result.outcome.value
            action.mined_tx_hash = result.mined_tx_hash

    @workflow.query
    def status(self) -> dict[str, object]:
        return {"phase": self._phase, "actions": [a.model_dump(mode="json") for a in self._actions]}
