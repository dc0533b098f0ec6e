"""SolanaTransaction's re-sign logic with mocked activities registered under the real names,
on Temporal's time-skipping test server: re-sign only after a proven expiry, at a higher
fee; give up after ``max_resigns``; a cancel stops re-signing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from solders.keypair import Keypair
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crosslane.domain.solana import SolAttempt, SolOutcome, SolPlan, SolResult, SolTransferRequest
from crosslane.domain.solana_steps import (
    ConfirmOutcome,
    SendOutcome,
    SolActivity,
    SolConfirmInput,
    SolConfirmResult,
    SolPlanInput,
    SolSendInput,
    SolSendResult,
    SolSignInput,
)
from tests.support.time_skipping import time_skipping_env
from workers.orchestrator import workflow_runner
from workflows.solana_transaction import SolanaTransaction


@dataclass
class FakeCluster:
    """Attempts expire until ``land_at``; every call is recorded."""

    land_at: int
    signed: list[int] = field(default_factory=list)
    confirming: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event | None = None

    def activities(self) -> list[object]:
        @activity.defn(name=SolActivity.PLAN)
        async def plan(inp: SolPlanInput) -> SolPlan:
            return SolPlan(cluster=inp.request.cluster, asset="SOL", decimals=9, amount=10**9, commitment="confirmed")

        @activity.defn(name=SolActivity.SIGN)
        async def sign(inp: SolSignInput) -> SolAttempt:
            self.signed.append(inp.attempt_index)
            price = 100 * (inp.attempt_index + 1)
            return SolAttempt(
                index=inp.attempt_index,
                signature=f"sig{inp.attempt_index}",
                blockhash=f"hash{inp.attempt_index}",
                last_valid_block_height=150 * (inp.attempt_index + 1),
                unit_price=price,
                unit_limit=1_000,
            )

        @activity.defn(name=SolActivity.SEND)
        async def send(inp: SolSendInput) -> SolSendResult:
            return SolSendResult(outcome=SendOutcome.SENT, signature=f"sig{inp.attempt_index}")

        @activity.defn(name=SolActivity.CONFIRM)
        async def confirm(inp: SolConfirmInput) -> SolConfirmResult:
            self.confirming.set()
            if self.release is not None:
                await self.release.wait()
            if inp.attempt_index >= self.land_at:
                return SolConfirmResult(outcome=ConfirmOutcome.LANDED, slot=42, commitment="confirmed")
            return SolConfirmResult(outcome=ConfirmOutcome.EXPIRED)

        return [plan, sign, send, confirm]


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


def request(**kw: object) -> SolTransferRequest:
    return SolTransferRequest(
        request_id=uuid.uuid4().hex,
        signer=str(Keypair().pubkey()),
        recipient=str(Keypair().pubkey()),
        amount="1",
        **kw,
    )


def worker_for(env: WorkflowEnvironment, cluster: FakeCluster, queue: str) -> Worker:
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[SolanaTransaction],
        activities=cluster.activities(),
        workflow_runner=workflow_runner(),
    )


async def run_with(env: WorkflowEnvironment, cluster: FakeCluster, req: SolTransferRequest) -> SolResult:
    queue = uuid.uuid4().hex
    async with worker_for(env, cluster, queue):
        return await env.client.execute_workflow(
            "SolanaTransaction", req, id=req.workflow_id, task_queue=queue, result_type=SolResult
        )


async def test_resigns_after_each_proven_expiry_and_lands(env: WorkflowEnvironment) -> None:
    cluster = FakeCluster(land_at=2)
    result = await run_with(env, cluster, request())
    assert result.outcome is SolOutcome.CONFIRMED and result.signature == "sig2" and result.slot == 42
    assert cluster.signed == [0, 1, 2]
    assert [a.expired for a in result.attempts] == [True, True, False]


async def test_gives_up_after_max_resigns(env: WorkflowEnvironment) -> None:
    cluster = FakeCluster(land_at=99)
    with pytest.raises(WorkflowFailureError) as failure:
        await run_with(env, cluster, request(max_resigns=1))
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "SolanaNotLanded"
    assert "did not land in 2 attempt(s)" in cause.message
    assert cluster.signed == [0, 1]


async def test_cancel_stops_resigning(env: WorkflowEnvironment) -> None:
    cluster = FakeCluster(land_at=99, release=asyncio.Event())
    req = request()
    queue = uuid.uuid4().hex
    async with worker_for(env, cluster, queue):
        handle = await env.client.start_workflow(
            "SolanaTransaction", req, id=req.workflow_id, task_queue=queue, result_type=SolResult
        )
        await asyncio.wait_for(cluster.confirming.wait(), 30)
        await handle.signal("cancel")
        cluster.release.set()
        result = await handle.result()
    assert result.outcome is SolOutcome.CANCELLED and result.signature is None
    assert cluster.signed == [0] and result.attempts[0].expired
