"""Record BridgeTransfer histories for tests/replay/test_replay.py (which replays every file
in ``histories/``).

    .venv/bin/python -m tests.replay.record_bridge

Own Temporal dev server and devnet with Wormhole and Across; scenarios: a Wormhole transfer
with its approval and redeem, an Across transfer filled by the relayer, an Across deposit
never filled and refunded, a Wormhole transfer waiting for an operator while two guardians
are down (resumed, then completed), one cancelled during its approval (its failure recorded
in the ledger), and a request refused before any deposit.
Saved histories are never overwritten: after an intended change to workflows/bridge_transfer.py,
record new ones under new names (``--suffix``; ``_local``: the patch ``bridge-local-steps``;
``_inline``: the patch ``bridge-inline-tx``, whose cancelled run hands its held approval to a
child lifecycle, which sends the cancel).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from crosslane.domain.bridge import BridgeState
from devnet.mining import manual_mining, mine_until
from devnet.sandbox import sandbox
from tests.e2e.test_dex_swap_slippage import wait_pending
from tests.replay.record import save_histories
from tests.support.bridge import bridge_request, guardians, relayer
from tests.support.dex import deal, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker


async def _wait_state(client: object, request_id: str, state: BridgeState) -> None:
    deadline = time.monotonic() + 60
    while (await client.bridge_status(request_id)).state is not state:  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise RuntimeError(f"{request_id} never reached {state}")
        await asyncio.sleep(0.2)


async def _wait_child(client: object, request_id: str, step: str) -> None:
    """Until a child lifecycle runs the step's transaction (since ``bridge-inline-tx``, after
    the transfer's own send found it not mined)."""
    deadline = time.monotonic() + 60
    while step not in (await client.bridge_status(request_id)).child_workflow_ids:  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise RuntimeError(f"{request_id} never started a lifecycle for its {step}")
        await asyncio.sleep(0.1)


async def record(stack: Stack, suffix: str = "") -> None:
    queue = "replay-bridge"
    signer, canceller = stack.fund_signer(), stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 100_000 * 10**6)
    deal(stack, "devnet-a", canceller.address, "USDC", 200 * 10**6)
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        saved: dict[str, str] = {}

        wormhole = bridge_request(signer.address, "replay-wormhole", amount=1_000 * 10**6, route="wormhole")
        await (await client.start_bridge(wormhole)).result()
        saved[f"bridge_wormhole_completed{suffix}"] = wormhole.workflow_id

        across = bridge_request(signer.address, "replay-across", amount=2_000 * 10**6, route="across")
        await (await client.start_bridge(across)).result()
        saved[f"bridge_across_filled{suffix}"] = across.workflow_id

        now = int(w3_for(stack, "devnet-a").eth.get_block("latest")["timestamp"])
        refund = bridge_request(
            signer.address,
            "replay-refund",
            amount=3_000 * 10**6,
            route="across",
            deadline=max(now, int(time.time())) + 90,
        )
        relayer(stack, stopped=True)
        try:
            handle = await client.start_bridge(refund)
            await _wait_state(client, refund.request_id, BridgeState.PENDING_FILL)
            for chain in ("devnet-a", "devnet-b"):
                stack.anvil(chain, "evm_increaseTime", 120)
                stack.anvil(chain, "evm_mine")
            await handle.result()
        finally:
            relayer(stack, stopped=False)
        saved[f"bridge_across_refunded{suffix}"] = refund.workflow_id

        waiting = bridge_request(
            signer.address, "replay-operator", amount=500 * 10**6, route="wormhole", attestation_patience_seconds=2
        )
        guardians(stack, down=[0, 3])
        try:
            handle = await client.start_bridge(waiting)
            await _wait_state(client, waiting.request_id, BridgeState.WAITING_FOR_OPERATOR)
            await handle.signal("operator_resume")
            await _wait_state(client, waiting.request_id, BridgeState.PENDING_ATTESTATION)
            guardians(stack, down=[])
            await handle.result()
        finally:
            guardians(stack, down=[])
        saved[f"bridge_wormhole_waited_for_operator{suffix}"] = waiting.workflow_id

        cancelled = bridge_request(canceller.address, "replay-cancelled", amount=200 * 10**6, route="across")
        url = stack.anvil_urls["devnet-a"]
        with manual_mining(url):
            handle = await client.start_bridge(cancelled)
            await wait_pending(w3_for(stack, "devnet-a"), canceller.address, 1)  # the approval, held
            await _wait_child(client, cancelled.request_id, "approve")  # a lifecycle took it over
            await handle.signal("cancel")
            task = asyncio.ensure_future(asyncio.gather(handle.result(), return_exceptions=True))
            await asyncio.wait_for(mine_until(task.done, url, 0.3), 60)
        saved[f"bridge_cancelled_before_deposit{suffix}"] = cancelled.workflow_id

        refused = bridge_request(signer.address, "replay-refused", asset="FOO")
        await asyncio.gather((await client.start_bridge(refused)).result(), return_exceptions=True)
        saved[f"bridge_refused{suffix}"] = refused.workflow_id

        await save_histories(client.temporal, saved)


async def main(suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp), bridges=True) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await record(stack, suffix)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suffix", default="", help="record the scenarios under names ending with it")
    asyncio.run(main(parser.parse_args().suffix))
