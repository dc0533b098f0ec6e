"""Record BridgeTransfer histories over an OP Stack rollup's canonical bridge for
tests/replay/test_replay.py (which replays every file in ``histories/``).

    .venv/bin/python -m tests.replay.record_op_canonical

Own Temporal dev server and devnet with devnet-op (finalization period 3 s); scenarios: a USDC
deposit devnet-a -> devnet-op, and its withdrawal back (prove, the period's timer, finalize),
with a ``finalize_now`` sent during the period (refused: too early). Saved histories are never
overwritten: after an intended change to workflows/bridge_transfer.py, record new ones under
new names.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from crosslane.domain.bridge import BridgeState
from devnet.sandbox import sandbox
from tests.replay.record import save_histories
from tests.support.bridge import bridge_request
from tests.support.dex import deal
from tests.support.stack import Stack, crosslane_client, running_worker
from workflows.bridge_transfer import BridgeTransfer


async def record(stack: Stack) -> None:
    queue = "replay-op-canonical"
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 1_000 * 10**6)
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        saved: dict[str, str] = {}
        deposit = bridge_request(
            signer.address, "replay-op-deposit", source_chain="devnet-a", destination_chain="devnet-op",
            amount=1_000 * 10**6, route="op-canonical",
        )  # fmt: skip
        await (await client.start_bridge(deposit)).result()
        saved["bridge_op_canonical_deposit"] = deposit.workflow_id

        withdrawal = bridge_request(
            signer.address, "replay-op-withdrawal", source_chain="devnet-op", destination_chain="devnet-a",
            amount=400 * 10**6, route="op-canonical",
        )  # fmt: skip
        handle = await client.start_bridge(withdrawal)
        deadline = time.monotonic() + 60
        while (await client.bridge_status(withdrawal.request_id)).state is not BridgeState.PENDING_FINALIZATION:
            if time.monotonic() > deadline:
                raise RuntimeError("the withdrawal never reached its finalization period")
            await asyncio.sleep(0.1)
        await handle.signal(BridgeTransfer.finalize_now)  # too early: refused, the timer goes on
        await handle.result()
        saved["bridge_op_canonical_withdrawal"] = withdrawal.workflow_id
        await save_histories(client.temporal, saved)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp), op_stack=True) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await record(stack)


if __name__ == "__main__":
    asyncio.run(main())
