"""BridgeTransfer's transactions since the patch ``bridge-inline-tx`` (issue 15), on Temporal's
time-skipping server with the bridge steps and ``tx_send_settle`` mocked under their real names:
attempt 0 of each transaction is sent by the transfer itself under the lifecycle's ledger id;
one mined at once needs no child lifecycle, one that is not is handed to a child with that id.
A ``cancel`` sent while the approval is in flight stops the transfer before its deposit. A
worker with ``CROSSLANE_BRIDGE_INLINE_TX=0`` starts transfers in the old shape (a child per
transaction)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
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
    INLINE_TX_ENV,
    INLINE_TX_PATCH,
    LOCAL_STEPS_ENV,
    LOCAL_STEPS_PATCH,
    BridgeActivity,
    BridgePlanInput,
    CompletionInput,
    DepositRefInput,
    RecordFailureInput,
    TrackInput,
    VerifyInput,
    inline_tx_offered,
    local_steps_offered,
)
from crosslane.domain.tx import TxOutcome, TxRequest, TxResult
from crosslane.domain.tx_steps import PrepareInput, SendResult, TxActivity
from tests.support.bridge import bridge_request, delivered
from tests.support.time_skipping import time_skipping_env
from tests.support.tx_stubs import ConfirmingLifecycle, StubSends, stub_hash
from workers.orchestrator import workflow_runner
from workflows.bridge_transfer import BridgeTransfer

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CONTRACT = "0x2aD7753d3A0f9b14e82AE37b49dCC8DdC66Ef236"
STEPS = ("approve", "deposit", "redeem")
pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


@pytest.fixture
def old_shape(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker (in this process) offers new runs the shape before ``bridge-inline-tx``."""
    monkeypatch.setenv(INLINE_TX_ENV, "0")
    inline_tx_offered.cache_clear()
    yield
    inline_tx_offered.cache_clear()


@dataclass
class FakeWormhole:
    """A Wormhole route as the mocked bridge steps see it: approve, deposit, then a redeem."""

    deposits: list[TxResult] = field(default_factory=list)  # what the deposit-id step was given
    completions: list[TxResult | None] = field(default_factory=list)  # what verify was given

    def activities(self) -> list[Any]:
        route = self
        token = TokenSide(chain="devnet-a", address="0x" + "aa" * 20, symbol="USDC", decimals=6)

        def tx(workflow_id: str, step: str, inp_request: Any, chain: str) -> TxRequest:
            return TxRequest(
                request_id=f"{workflow_id}.{step}",
                chain=chain,
                signer=inp_request.signer,
                to=CONTRACT,
                gas_limit=100_000,
                fees=inp_request.fees,
            )

        @activity.defn(name=BridgeActivity.PLAN)
        async def plan(inp: BridgePlanInput) -> BridgePlan:
            return BridgePlan(
                route=BridgeRoute.WORMHOLE,
                reason="forced",
                quotes=[],
                source_token=token,
                destination_token=token.model_copy(update={"chain": "devnet-b"}),
                recipient=inp.request.to,
                amount=inp.request.amount,
                expected_output=inp.request.amount,
                approval=tx(inp.workflow_id, "approve", inp.request, "devnet-a"),
                deposit=tx(inp.workflow_id, "deposit", inp.request, "devnet-a"),
            )

        @activity.defn(name=BridgeActivity.DEPOSIT_REF)
        async def deposit_ref(inp: DepositRefInput) -> DepositRef:
            route.deposits.append(inp.deposit)
            return DepositRef(
                route=BridgeRoute.WORMHOLE,
                source_chain="devnet-a",
                destination_chain="devnet-b",
                tx_hash=inp.deposit.mined_tx_hash,
                block_number=inp.deposit.block_number,
                id="2/emitter/1",
            )

        @activity.defn(name=BridgeActivity.TRACK)
        async def track(inp: TrackInput) -> BridgeProgress:
            return BridgeProgress(state=BridgeState.PENDING_DESTINATION_TX, detail="VAA signed", step="redeem")

        @activity.defn(name=BridgeActivity.COMPLETION)
        async def completion(inp: CompletionInput) -> TxRequest | None:
            return tx(inp.workflow_id, "redeem", inp.request, "devnet-b")

        @activity.defn(name=BridgeActivity.VERIFY)
        async def verify(inp: VerifyInput) -> BridgeResult:
            route.completions.append(inp.completion)
            return delivered(inp)

        @activity.defn(name=BridgeActivity.RECORD_FAILURE)
        async def record_failure(inp: RecordFailureInput) -> None:
            return None

        return [plan, deposit_ref, track, completion, verify, record_failure]


def _worker(env: WorkflowEnvironment, queue: str, activities: list[Any]) -> Worker:
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[BridgeTransfer, ConfirmingLifecycle],
        activities=activities,
        workflow_runner=workflow_runner(),
    )


async def _start(env: WorkflowEnvironment, queue: str) -> WorkflowHandle[Any, BridgeResult]:
    request = bridge_request(SIGNER, f"inline-{uuid.uuid4().hex[:8]}", route="wormhole")
    return await env.client.start_workflow(
        BridgeTransfer.run, request, id=request.workflow_id, task_queue=queue, result_type=BridgeResult
    )


async def _status(handle: WorkflowHandle[Any, Any]) -> BridgeStatus:
    status: BridgeStatus = await handle.query("status", result_type=BridgeStatus)
    return status


@dataclass
class Run:
    """One completed transfer: its result, last status and shape."""

    id: str
    result: BridgeResult
    status: BridgeStatus
    children: list[str]  # the child workflow ids it started
    activities: list[str]  # its regular activities, in order
    timers: int
    patches: list[str]  # its patch markers' ids


async def _run(env: WorkflowEnvironment, route: FakeWormhole, sends: StubSends) -> Run:
    queue = f"inline-{uuid.uuid4().hex[:6]}"
    async with _worker(env, queue, [*route.activities(), sends.tx_send_settle]):
        handle = await _start(env, queue)
        result = await handle.result()
        status = await _status(handle)
    events = (await handle.fetch_history()).events
    children = [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    ]
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    timers = sum(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in events)
    patches = [
        json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for e in events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    return Run(handle.id, result, status, children, activities, timers, patches)


async def test_transactions_mined_at_their_send_start_no_child(env: WorkflowEnvironment) -> None:
    route, sends = FakeWormhole(), StubSends()
    run = await _run(env, route, sends)
    wf = run.id
    assert run.result.state is BridgeState.COMPLETED
    # Each sent once, under the id its lifecycle would have had (the same ledger operation).
    assert sends.sent == [f"tx-{wf}.{step}" for step in STEPS]
    assert run.status.transactions == {step: stub_hash(f"{wf}.{step}") for step in STEPS}
    assert run.status.child_workflow_ids == {} and run.children == []
    assert run.timers == 0
    assert run.activities == [TxActivity.SEND_SETTLE, BridgeActivity.TRACK]  # the approval: a task boundary
    assert run.patches == [INLINE_TX_PATCH]  # implies the local steps: one marker
    (deposit,) = route.deposits
    assert deposit.outcome is TxOutcome.CONFIRMED and deposit.mined_tx_hash == stub_hash(f"{wf}.deposit")
    assert deposit.request_id == f"{wf}.deposit" and [a.index for a in deposit.attempts] == [0]
    assert run.result.completion_tx == stub_hash(f"{wf}.redeem")


async def test_a_transaction_not_mined_at_its_send_goes_to_a_child_with_its_ledger_id(
    env: WorkflowEnvironment,
) -> None:
    route, sends = FakeWormhole(), StubSends(held=(".deposit",))
    run = await _run(env, route, sends)
    wf = run.id
    child = await env.client.get_workflow_handle(f"tx-{wf}.deposit", result_type=TxResult).result()
    assert run.result.state is BridgeState.COMPLETED
    assert sends.sent == [f"tx-{wf}.{step}" for step in STEPS]  # the child's own first step re-sends it
    assert run.children == [f"tx-{wf}.deposit"]
    assert run.status.child_workflow_ids == {"deposit": f"tx-{wf}.deposit"}
    assert run.status.transactions == {step: stub_hash(f"{wf}.{step}") for step in STEPS}
    assert route.deposits == [child]  # the child's result is the deposit's


async def test_cancel_during_an_inline_approval_stops_before_the_deposit(env: WorkflowEnvironment) -> None:
    route, sends = FakeWormhole(), StubSends()
    approving, release = asyncio.Event(), asyncio.Event()

    @activity.defn(name=TxActivity.SEND_SETTLE)
    async def gated(inp: PrepareInput) -> SendResult:
        if inp.workflow_id.endswith(".approve"):
            approving.set()
            await release.wait()
        return await sends.tx_send_settle(inp)

    queue = f"inline-{uuid.uuid4().hex[:6]}"
    async with _worker(env, queue, [*route.activities(), gated]):
        with env.auto_time_skipping_disabled():
            handle = await _start(env, queue)
            await asyncio.wait_for(approving.wait(), 10)
            await handle.signal(BridgeTransfer.cancel)  # while the approval's send is in flight
            release.set()
            with pytest.raises(WorkflowFailureError) as failure:
                await handle.result()
        status = await _status(handle)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "BridgeCancelled", cause
    assert "before the deposit" in cause.message
    assert sends.sent == [f"tx-{handle.id}.approve"]  # the approval mined; no deposit was sent
    assert set(status.transactions) == {"approve"} and not status.cancel_refused


async def test_the_old_shape_starts_a_child_per_transaction(env: WorkflowEnvironment, old_shape: None) -> None:
    sends = StubSends()
    run = await _run(env, FakeWormhole(), sends)
    wf = run.id
    assert run.result.state is BridgeState.COMPLETED and sends.sent == []
    assert run.children == [f"tx-{wf}.{step}" for step in STEPS] and run.timers == 0
    assert run.status.child_workflow_ids == {step: f"tx-{wf}.{step}" for step in STEPS}
    assert run.status.transactions == {step: stub_hash(f"{wf}.{step}") for step in STEPS}
    assert run.patches == [LOCAL_STEPS_PATCH]


def test_inline_transactions_are_offered_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, local, offered in (("0", "1", False), ("1", "0", False), ("1", "1", True)):
        monkeypatch.setenv(INLINE_TX_ENV, value)
        monkeypatch.setenv(LOCAL_STEPS_ENV, local)
        local_steps_offered.cache_clear()
        inline_tx_offered.cache_clear()
        assert inline_tx_offered() is offered
    local_steps_offered.cache_clear()
    inline_tx_offered.cache_clear()
