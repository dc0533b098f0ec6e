"""An OP Stack withdrawal's week in BridgeTransfer, on Temporal's time-skipping server with
the bridge activities mocked under their real names (and every transaction mined at its
send, which the transfer runs itself; a stub lifecycle confirms any it hands on): initiate ->
output root -> prove -> 7 days as one durable timer (no activity runs meanwhile) -> finalize.
``finalize_now`` before the period is refused with the reason and nothing is sent; the run is
listed by ``CrosslaneFinalizableAt``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crosslane.domain.bridge import (
    BridgePlan,
    BridgeProgress,
    BridgeResult,
    BridgeRoute,
    BridgeState,
    BridgeStatus,
    DepositRef,
    TokenSide,
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
from crosslane.domain.tx import TxRequest
from tests.support.bridge import bridge_request, delivered
from tests.support.time_skipping import time_skipping_env
from tests.support.tx_stubs import ConfirmingLifecycle, StubSends
from workers.orchestrator import workflow_runner
from workflows import search_attributes as sa
from workflows.bridge_transfer import BridgeTransfer

WEEK = 7 * 24 * 3600
SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
PORTAL = "0x2aD7753d3A0f9b14e82AE37b49dCC8DdC66Ef236"


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


@dataclass
class FakeRollup:
    """The L1 as the mocked activities see it: proven when the prove lands, finalized when the
    finalize lands; finalizable a week after the proof by the environment's clock."""

    env: WorkflowEnvironment
    proven_at: int | None = None
    finalized: bool = False
    sent: list[str] = field(default_factory=list)  # destination steps built, in order
    tracks: int = 0

    async def now(self) -> int:
        return int((await self.env.get_current_time()).timestamp())

    async def progress(self) -> BridgeProgress:
        if self.finalized:
            return BridgeProgress(state=BridgeState.COMPLETED, detail="finalized", step="finalize")
        if self.proven_at is None:
            return BridgeProgress(state=BridgeState.PENDING_DESTINATION_TX, detail="ready to prove", step="prove")
        now, ready = await self.now(), self.proven_at + WEEK
        state = BridgeState.PENDING_DESTINATION_TX if now >= ready else BridgeState.PENDING_FINALIZATION
        return BridgeProgress(
            state=state,
            detail=f"proven at {self.proven_at}, finalizable at {ready}",
            step="finalize",
            ready_at=ready,
            proven_at=self.proven_at,
            chain_time=now,
        )

    def activities(self) -> list[Any]:
        rollup = self
        token = TokenSide(chain="devnet-a", address="0x" + "aa" * 20, symbol="USDC", decimals=6)

        @activity.defn(name=BridgeActivity.PLAN)
        async def plan(inp: BridgePlanInput) -> BridgePlan:
            deposit = TxRequest(
                request_id=f"{inp.workflow_id}.deposit",
                chain=inp.request.source_chain,
                signer=inp.request.signer,
                to="0x4200000000000000000000000000000000000010",
                gas_limit=400_000,
                fees=inp.request.fees,
            )
            return BridgePlan(
                route=BridgeRoute.OP_CANONICAL,
                reason="forced",
                quotes=[],
                source_token=token.model_copy(update={"chain": inp.request.source_chain}),
                destination_token=token,
                recipient=inp.request.to,
                amount=inp.request.amount,
                expected_output=inp.request.amount,
                deposit=deposit,
            )

        @activity.defn(name=BridgeActivity.DEPOSIT_REF)
        async def deposit_ref(inp: DepositRefInput) -> DepositRef:
            return DepositRef(
                route=BridgeRoute.OP_CANONICAL,
                source_chain="devnet-op",
                destination_chain="devnet-a",
                tx_hash=inp.deposit.mined_tx_hash,
                block_number=5,
                id="0x" + "ab" * 32,
            )

        @activity.defn(name=BridgeActivity.TRACK)
        async def track(inp: TrackInput) -> BridgeProgress:
            rollup.tracks += 1
            return await rollup.progress()

        @activity.defn(name=BridgeActivity.COMPLETION)
        async def completion(inp: CompletionInput) -> TxRequest | None:
            now = await rollup.progress()
            if now.state is not BridgeState.PENDING_DESTINATION_TX:
                return None
            rollup.sent.append(now.step)
            if now.step == "prove":
                rollup.proven_at = await rollup.now()
            else:
                rollup.finalized = True
            return TxRequest(
                request_id=f"{inp.workflow_id}.{now.step}",
                chain="devnet-a",
                signer=inp.request.signer,
                to=PORTAL,
                gas_limit=800_000,
                fees=inp.request.fees,
            )

        @activity.defn(name=BridgeActivity.VERIFY)
        async def verify(inp: VerifyInput) -> BridgeResult:
            assert inp.completion is not None
            return delivered(inp)

        @activity.defn(name=BridgeActivity.RECORD_FAILURE)
        async def record_failure(inp: RecordFailureInput) -> None:
            return None

        return [plan, deposit_ref, track, completion, verify, record_failure, StubSends().tx_send_settle]


async def _status(handle: WorkflowHandle[Any, Any]) -> BridgeStatus:
    status: BridgeStatus = await handle.query("status", result_type=BridgeStatus)
    return status


async def _until_state(handle: WorkflowHandle[Any, Any], state: BridgeState) -> BridgeStatus:
    for _ in range(200):
        status = await _status(handle)
        if status.state is state:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {state}: {await _status(handle)}")


def _withdrawal() -> Any:
    return bridge_request(
        SIGNER, f"w-{uuid.uuid4().hex[:8]}", source_chain="devnet-op", destination_chain="devnet-a",
        route="op-canonical",
    )  # fmt: skip


async def test_a_week_long_withdrawal_is_one_timer_and_finalizes_once(env: WorkflowEnvironment) -> None:
    rollup = FakeRollup(env)
    queue = f"op-week-{uuid.uuid4().hex[:6]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[BridgeTransfer, ConfirmingLifecycle],
        activities=rollup.activities(),
        workflow_runner=workflow_runner(),
    ):
        request = _withdrawal()
        handle = await env.client.start_workflow(BridgeTransfer.run, request, id=request.workflow_id, task_queue=queue)
        started = await env.get_current_time()
        result = await handle.result()
        assert result.state is BridgeState.COMPLETED
        assert rollup.sent == ["prove", "finalize"]  # each once
        assert await env.get_current_time() - started >= timedelta(days=7)
        assert rollup.tracks <= 4  # the week was a timer, not a poll
        status = await _status(handle)
        assert status.proven_at is not None and status.finalizable_at is not None
        proven, finalizable = datetime.fromisoformat(status.proven_at), datetime.fromisoformat(status.finalizable_at)
        assert finalizable - proven == timedelta(days=7)
        assert set(status.transactions) == {"deposit", "prove", "finalize"}
        assert status.child_workflow_ids == {}  # each mined at its send: no lifecycle started
        timers = [e for e in (await handle.fetch_history()).events if e.HasField("timer_started_event_attributes")]
        assert len(timers) == 1


async def test_finalize_now_before_the_period_is_refused_and_sends_nothing(env: WorkflowEnvironment) -> None:
    rollup = FakeRollup(env)
    queue = f"op-early-{uuid.uuid4().hex[:6]}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[BridgeTransfer, ConfirmingLifecycle],
        activities=rollup.activities(),
        workflow_runner=workflow_runner(),
    ):
        request = _withdrawal()
        with env.auto_time_skipping_disabled():
            handle = await env.client.start_workflow(
                BridgeTransfer.run, request, id=request.workflow_id, task_queue=queue
            )
            waiting = await _until_state(handle, BridgeState.PENDING_FINALIZATION)
            assert waiting.finalizable_at is not None
            # The search attribute "finalizable today" queries range over.
            described = await handle.describe()
            assert described.typed_search_attributes.get(sa.FINALIZABLE_AT) == datetime.fromisoformat(
                waiting.finalizable_at
            )
            await handle.signal(BridgeTransfer.finalize_now)
            for _ in range(100):
                refused = await _status(handle)
                if "finalize_now refused" in refused.detail:
                    break
                await asyncio.sleep(0.05)
            assert refused.state is BridgeState.PENDING_FINALIZATION
            assert "finalize_now refused" in refused.detail and refused.finalizable_at in refused.detail
            assert rollup.sent == ["prove"]  # no finalize was built, let alone sent
        result = await handle.result()  # the rest of the week skipped
        assert result.state is BridgeState.COMPLETED and rollup.sent == ["prove", "finalize"]
