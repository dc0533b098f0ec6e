"""A stand-in ``TransactionLifecycle`` for workflow tests: every transaction confirms at once.

In a module of its own so that the workflow sandbox, which re-imports a workflow's module,
loads only Temporal and the domain models."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.tx import TxOutcome, TxRequest, TxResult


@workflow.defn(name="TransactionLifecycle")
class ConfirmingLifecycle:
    @workflow.run
    async def run(self, request: TxRequest) -> TxResult:
        return TxResult(
            request_id=request.request_id,
            chain=request.chain,
            signer=request.signer,
            nonce=0,
            outcome=TxOutcome.CONFIRMED,
            mined_tx_hash="0x" + f"{abs(hash(request.request_id)):064x}"[-64:],
            mined_attempt_index=0,
            block_number=1,
            block_hash="0x" + "11" * 32,
            gas_used=21_000,
            effective_gas_price=1,
            attempts=[],
        )
