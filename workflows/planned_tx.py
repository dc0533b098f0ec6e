"""A planned transaction landed as a child ``TransactionLifecycle`` whose request id is
``<workflow id>.<step>``: a retried or replayed step joins the same child, so nothing is
sent twice."""

from __future__ import annotations

from temporalio import workflow

from workflows.tx_lifecycle import TransactionLifecycle

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.dex_liquidity import PlannedTx
    from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxRequest, TxResult


async def land_planned_tx(
    tx: PlannedTx, *, chain: str, signer: str, fees: FeePolicy, policy: ReplacementPolicy
) -> TxResult:
    child = TxRequest(
        request_id=f"{workflow.info().workflow_id}.{tx.step}",
        chain=chain,
        signer=signer,
        to=tx.to,
        value=tx.value,
        data=tx.data,
        fees=fees,
        policy=policy,
    )
    return await workflow.execute_child_workflow(
        TransactionLifecycle.run, child, id=child.workflow_id, result_type=TxResult, static_summary=tx.purpose
    )
