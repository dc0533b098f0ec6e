"""One planned transaction sent as a child TransactionLifecycle, keyed ``<workflow id>.<step>``:
a replayed or retried step joins the same lifecycle, which re-sends the same signed bytes."""

from __future__ import annotations

from temporalio import workflow

from workflows.tx_lifecycle import TransactionLifecycle

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.dex_liquidity import PlannedTx
    from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxRequest, TxResult


async def send_planned_tx(
    tx: PlannedTx, *, chain: str, signer: str, fees: FeePolicy, policy: ReplacementPolicy
) -> TxResult:
    child = TxRequest(
        request_id=f"{workflow.info().workflow_id}.{tx.step}",
        chain=chain,
        signer=signer,
        to=tx.to,
        value=tx.value,
        data=tx.data,
        gas_limit=tx.gas_limit,
        fees=fees,
        policy=policy,
    )
    result: TxResult = await workflow.execute_child_workflow(
        TransactionLifecycle.run, child, id=child.workflow_id, result_type=TxResult, static_summary=tx.purpose
    )
    return result
