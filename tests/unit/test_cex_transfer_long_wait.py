"""A withdrawal a venue holds for days, on Temporal's time-skipping server with the venue
mocked under the real activity names: the run waits on durable timers, says what it is
waiting for, completes when the venue sends, and looks at the venue a bounded number of
times (a steady 10 s pace would be ~26,000 looks over three days, past Temporal's history
limit)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crosslane.domain.cex_transfer import (
    CexTransferRequest,
    CexTransferResult,
    CexTransferState,
    CexTransferStatus,
    TransferDirection,
)
from crosslane.domain.cex_transfer_steps import (
    CexTransferActivity,
    CexTransferPlan,
    PlanInput,
    TransferFailureInput,
    TransferVerifyInput,
    VenueTransferStatus,
    VenueWithdrawal,
    WithdrawInput,
)
from tests.support.time_skipping import time_skipping_env
from workers.orchestrator import workflow_runner
from workflows.cex_transfer import MAX_PATIENT_POLL_S, MAX_POLL_S, PATIENT_AFTER, CexTransfer, next_poll_delay

RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
HELD = timedelta(days=3)
TX = "0x" + "ab" * 32


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


class HeldVenue:
    """A venue that accepts the withdrawal at once and sends it ``HELD`` later."""

    def __init__(self, env: WorkflowEnvironment) -> None:
        self.env = env
        self.requests = 0
        self.looks = 0
        self.sent_at = None

    def withdrawal(self, status: VenueTransferStatus, tx_hash: str | None = None) -> VenueWithdrawal:
        return VenueWithdrawal(id="w-1", client_ref="ref-1", status=status, amount=Decimal("99"), tx_hash=tx_hash)

    def activities(self) -> list:
        @activity.defn(name=CexTransferActivity.PLAN)
        async def plan(inp: PlanInput) -> CexTransferPlan:
            return CexTransferPlan(request=inp.request, network="ETH", client_ref="ref-1", token=None, decimals=18)

        @activity.defn(name=CexTransferActivity.WITHDRAW)
        async def withdraw(inp: WithdrawInput) -> VenueWithdrawal:
            self.requests += 1
            self.sent_at = await self.env.get_current_time() + HELD
            return self.withdrawal(VenueTransferStatus.PENDING)

        @activity.defn(name=CexTransferActivity.WITHDRAWAL_STATUS)
        async def withdrawal_status(inp: WithdrawInput) -> VenueWithdrawal:
            self.looks += 1
            assert self.sent_at is not None
            if await self.env.get_current_time() >= self.sent_at:
                return self.withdrawal(VenueTransferStatus.OK, TX)
            return self.withdrawal(VenueTransferStatus.PENDING)

        @activity.defn(name=CexTransferActivity.VERIFY)
        async def verify(inp: TransferVerifyInput) -> CexTransferResult:
            request = inp.plan.request
            assert inp.withdrawal is not None
            return CexTransferResult(
                request_id=request.request_id, venue=request.venue, direction=request.direction,
                asset=request.asset, chain=request.chain, network=inp.plan.network, amount=request.amount,
                fee=Decimal(1), received=Decimal(99), address=request.address, tx_hash=inp.withdrawal.tx_hash or "",
                withdrawal_id=inp.withdrawal.id, client_ref=inp.plan.client_ref,
            )  # fmt: skip

        @activity.defn(name=CexTransferActivity.RECORD_FAILURE)
        async def record_failure(inp: TransferFailureInput) -> None:
            raise AssertionError(f"the run must not fail: {inp.reason}")

        return [plan, withdraw, withdrawal_status, verify, record_failure]


async def test_a_withdrawal_held_for_days_completes_with_a_bounded_number_of_looks(env: WorkflowEnvironment) -> None:
    venue = HeldVenue(env)
    queue = f"cex-held-{uuid.uuid4().hex[:8]}"
    request = CexTransferRequest(
        request_id=f"held-{uuid.uuid4().hex[:8]}", venue="binance", direction=TransferDirection.WITHDRAW,
        asset="ETH", chain="devnet-a", amount=Decimal("100"), address=RECIPIENT,
    )  # fmt: skip
    async with Worker(
        env.client, task_queue=queue, workflows=[CexTransfer], activities=venue.activities(),
        workflow_runner=workflow_runner(),
    ):  # fmt: skip
        handle = await env.client.start_workflow(CexTransfer.run, request, id=request.workflow_id, task_queue=queue)
        await env.sleep(timedelta(days=1))
        waiting: CexTransferStatus = await handle.query(CexTransfer.status)
        assert waiting.state is CexTransferState.VENUE_PROCESSING
        assert waiting.withdrawal_id == "w-1" and "not sent yet" in waiting.detail
        result = await handle.result()

    assert result.tx_hash == TX and result.received == Decimal(99)
    assert venue.requests == 1, "asked the venue once"
    # Three days at most every 10 min after the first ten minutes: ~432 looks, not ~26,000.
    assert venue.looks <= HELD / timedelta(seconds=MAX_PATIENT_POLL_S) + PATIENT_AFTER / timedelta(seconds=1) + 10
    history = await handle.fetch_history()
    assert len(history.events) < 10_000


def test_polling_keeps_its_quick_pace_for_the_first_minutes_then_slows() -> None:
    delay, quick = 1.0, []
    for _ in range(20):
        delay = next_poll_delay(delay, timedelta(minutes=1))
        quick.append(delay)
    assert max(quick) == MAX_POLL_S
    slow = next_poll_delay(MAX_POLL_S, PATIENT_AFTER)
    assert MAX_POLL_S < slow <= MAX_PATIENT_POLL_S
    for _ in range(20):
        slow = next_poll_delay(slow, timedelta(hours=5))
    assert slow == MAX_PATIENT_POLL_S
