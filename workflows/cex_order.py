"""CexOrder: one CEX leg through the fast path, durably recorded (the building block that
arbitrage and rebalancing workflows use for their exchange side)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from workflows.failures import failing_with_business_error
from workflows.retry import ACTIVITY_RETRY

with workflow.unsafe.imports_passed_through():
    from crosslane.domain.cex import CexExecution, CexOrderRequest


@workflow.defn(name="CexOrder")
class CexOrder:
    @workflow.run
    async def run(self, request: CexOrderRequest) -> CexExecution:
        # No status query to update: the failure itself carries the venue's reason.
        return await failing_with_business_error(
            workflow.execute_activity(
                "cex_execute",
                request.leg,
                result_type=CexExecution,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=ACTIVITY_RETRY,
                summary=f"{request.leg.side} {request.leg.qty} {request.leg.symbol}",
            ),
            lambda _why: None,
        )
