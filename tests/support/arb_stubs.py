"""A stand-in ``DexSwap`` for the Arbitrage saga's workflow tests: a DEX leg that reverts.

In a module of its own so that the workflow sandbox, which re-imports a workflow's module,
loads only Temporal and the domain models."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.dex import SwapRequest, SwapResult


@workflow.defn(name="DexSwap")
class RevertingDexSwap:
    @workflow.run
    async def run(self, request: SwapRequest) -> SwapResult:
        raise ApplicationError(
            f"the swap {request.request_id} reverted: the price moved past its limit", type="SlippageExceeded"
        )
