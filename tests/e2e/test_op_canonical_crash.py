"""Workers SIGKILLed during an OP Stack withdrawal (devnet-op -> devnet-a, real portal): right
after the initiating transaction's broadcast, right after the proof's, during the
finalization period's timer, and right after the finalize's broadcast — two kills per run,
each followed by a fresh worker. Each run ends with one withdrawal, proven once and
finalized once: the portal's events, the signer's nonces on both chains and the balances say so."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from temporalio.client import WorkflowHandle

from crosslane.domain.bridge import BridgeRequest, BridgeResult, BridgeState, BridgeStatus
from devnet.sandbox import WorkerProcess
from tests.support.bridge import bridge_request, holding
from tests.support.dex import w3_for
from tests.support.op_stack import L1, L2, fund_l2_usdc, portal_events, withdrawal_of
from tests.support.stack import Stack, crosslane_client, unique_queue, worker_process

pytestmark = pytest.mark.timeout(150)
AMOUNT = 120 * 10**6
TIMER = "the finalization period's timer"  # killed from outside while the run waits on it


async def _kill(worker: WorkerProcess, handle: WorkflowHandle[object, BridgeResult], point: str, once: Path) -> None:
    if point != TIMER:
        assert await worker.wait_killed() == -9
        assert once.read_text() == point.split("@")[0]
        return
    for _ in range(600):
        status = await handle.query("status", result_type=BridgeStatus)
        if status.state is BridgeState.PENDING_FINALIZATION:
            break
        await asyncio.sleep(0.05)
    assert status.state is BridgeState.PENDING_FINALIZATION
    worker.proc.kill()
    assert await worker.wait_killed() == -9


def _crashing(stack: Stack, queue: str, log: Path, point: str, once: Path) -> WorkerProcess:
    if point == TIMER:
        return worker_process(stack, queue, log)
    name, when = point.split("@")
    env = {"CROSSLANE_CRASH_AT": name, "CROSSLANE_CRASH_WHEN": when, "CROSSLANE_CRASH_ONCE_FILE": str(once)}
    return worker_process(stack, queue, log, **env)


@pytest.mark.parametrize(
    "points",
    [
        ("tx.after_broadcast@.deposit", TIMER),  # the timer (8 s) only runs with a live worker after the proof
        ("tx.after_broadcast@.prove", "tx.after_broadcast@.finalize"),
    ],
)
async def test_crashes_resume_with_one_proof_and_one_finalization(
    op_stack: Stack, tmp_path: Path, points: tuple[str, str]
) -> None:
    stack = op_stack
    signer = stack.fund_signer()
    await fund_l2_usdc(stack, signer.address, AMOUNT)
    queue = unique_queue("opcrash")
    request: BridgeRequest = bridge_request(
        signer.address, f"opcrash-{uuid.uuid4().hex[:8]}", source_chain=L2, destination_chain=L1, amount=AMOUNT,
        route="op-canonical",
    )  # fmt: skip
    workers: list[WorkerProcess] = []
    try:
        handle = None
        for i, point in enumerate(points):
            once = tmp_path / f"crashed-{i}"
            worker = _crashing(stack, queue, tmp_path / f"worker-{i}.log", point, once)
            workers.append(worker)
            await worker.wait_polling()
            if handle is None:
                handle = await (await crosslane_client(stack, queue)).start_bridge(request)
            await _kill(worker, handle, point, once)
        workers.append(worker_process(stack, queue, tmp_path / "worker-last.log"))
        assert handle is not None
        result: BridgeResult = await asyncio.wait_for(handle.result(), 90)
    finally:
        for worker in workers:
            worker.stop()

    assert result.state is BridgeState.COMPLETED and result.received == AMOUNT
    withdrawal = withdrawal_of(stack, result.deposit_tx)
    assert portal_events(stack, "WithdrawalProven", withdrawal) == 1
    assert portal_events(stack, "WithdrawalFinalized", withdrawal) == 1
    assert w3_for(stack, L2).eth.get_transaction_count(signer.address) == 1  # the withdrawal: no approval
    assert w3_for(stack, L1).eth.get_transaction_count(signer.address) == 2  # prove, finalize
    assert holding(stack, L2, "USDC", signer.address) == 0
    assert holding(stack, L1, "USDC", signer.address) == AMOUNT
