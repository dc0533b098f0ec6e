"""Record the workflow histories that tests/replay/test_replay.py replays.

    .venv/bin/python -m tests.replay.record [--suffix _local]

Starts its own Temporal dev server and devnet, runs one scenario per history, and writes
``tests/replay/histories/<scenario>.json``. Saved histories are never overwritten: after an
intended workflow change, record new ones under new names and keep the old files, which must
still replay (see tests/replay/manifest.py). ``--suffix`` records the lifecycle scenarios
again under names ending with it (``tx_confirmed_local``: the lifecycle's short steps as
local activities, issue 15), leaving the recovery run out.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from temporalio.client import Client

from crosslane.domain.recovery import RecoveryRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxRequest, TxState
from devnet.mining import hold_base_fee, manual_mining, mine_until, next_base_fee
from devnet.sandbox import sandbox
from tests.replay.manifest import HISTORIES, add_to_manifest
from tests.support.stack import Stack, crosslane_client, running_worker

GWEI = 10**9


async def wait_state(client, rid: str, state: TxState, attempts: int = 1) -> None:  # noqa: ANN001
    while True:
        try:
            s = await client.tx_status(rid)
            if s.state is state and len(s.attempts) >= attempts and s.attempts[-1].broadcast:
                return
        except Exception:  # noqa: BLE001 - not started yet
            pass
        await asyncio.sleep(0.05)


async def record(stack: Stack, suffix: str = "") -> None:
    queue = "replay"
    a, b = stack.fund_signer(), stack.fund_signer()
    url = stack.anvil_urls["devnet-a"]
    fees = FeePolicy(max_fee_per_gas_cap=100 * GWEI)
    fast = ReplacementPolicy(poll_interval_ms=50)
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        saved: dict[str, str] = {}

        confirmed = TxRequest(
            request_id=f"confirmed{suffix}",
            chain="devnet-a",
            signer=a.address,
            to=b.address,
            value=1,
            fees=fees,
            policy=fast,
        )
        await (await client.start_tx(confirmed)).result()
        saved[f"tx_confirmed{suffix}"] = confirmed.workflow_id

        with manual_mining(url):
            low = max(next_base_fee(url), 1)
            stuck = TxRequest(
                request_id=f"stuck{suffix}",
                chain="devnet-a",
                signer=a.address,
                to=b.address,
                value=2,
                fees=FeePolicy(
                    max_fee_per_gas_cap=100 * GWEI, initial_max_fee_per_gas=low, initial_max_priority_fee_per_gas=low
                ),
                policy=ReplacementPolicy(replace_after_blocks=2, replace_after_seconds=None, poll_interval_ms=50),
            )
            handle = await client.start_tx(stuck)
            await wait_state(client, stuck.request_id, TxState.PENDING)
            with hold_base_fee(url, max(50 * low, 5 * GWEI)):
                task = asyncio.ensure_future(handle.result())
                await mine_until(task.done, url)
            saved[f"tx_stuck_replaced{suffix}"] = stuck.workflow_id

            cancel = stuck.model_copy(
                update={
                    "request_id": f"cancelled{suffix}",
                    "policy": ReplacementPolicy(
                        replace_after_blocks=10_000, replace_after_seconds=None, poll_interval_ms=50
                    ),
                }
            )
            low = max(next_base_fee(url), 1)
            cancel = cancel.model_copy(
                update={
                    "fees": FeePolicy(
                        max_fee_per_gas_cap=100 * GWEI,
                        initial_max_fee_per_gas=low,
                        initial_max_priority_fee_per_gas=low,
                    )
                }
            )
            handle = await client.start_tx(cancel)
            await wait_state(client, cancel.request_id, TxState.PENDING)
            await handle.signal("cancel")
            task = asyncio.ensure_future(handle.result())
            await mine_until(task.done, url)
            saved[f"tx_cancelled_by_signal{suffix}"] = cancel.workflow_id

        unknown = confirmed.model_copy(update={"request_id": f"unknown-chain{suffix}", "chain": "nowhere"})
        await asyncio.gather((await client.start_tx(unknown)).result(), return_exceptions=True)
        saved[f"tx_unknown_chain{suffix}"] = unknown.workflow_id

        bad = confirmed.model_dump(mode="json") | {"request_id": f"bad-json{suffix}", "to": b.address.lower()}
        bad_id = f"tx-bad-json{suffix}"
        handle = await client.temporal.start_workflow("TransactionLifecycle", bad, id=bad_id, task_queue=queue)
        await asyncio.gather(handle.result(), return_exceptions=True)
        saved[f"tx_invalid_input{suffix}"] = bad_id

        if not suffix:
            recovery = await client.start_recovery(
                RecoveryRequest(chain="devnet-a", signer=a.address, max_fee_per_gas_cap=100 * GWEI), run_key="replay"
            )
            await recovery.result()
            saved["recovery_clean"] = recovery.id

        await save_histories(client.temporal, saved)


async def save_histories(temporal: Client, saved: dict[str, str], *, file_per_workflow_id: bool = False) -> None:
    """Write each run's history to ``histories/<name>.json`` (``<workflow id>.json`` with
    ``file_per_workflow_id``: the replayer takes the id from the file name) and list it in the
    manifest. A file that exists already is kept as it is: histories are never overwritten."""
    HISTORIES.mkdir(exist_ok=True)
    for name, workflow_id in saved.items():
        path = HISTORIES / f"{workflow_id if file_per_workflow_id else name}.json"
        if path.exists():
            print(f"kept {path.name}: a saved history is never overwritten (record a changed one under a new name)")
            continue
        history = await temporal.get_workflow_handle(workflow_id).fetch_history()
        with path.open("x") as out:
            out.write(history.to_json())
        add_to_manifest(path)
        print(f"recorded {name}: {workflow_id} ({len(history.events)} events)")


async def main(suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp)) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await record(stack, suffix)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suffix", default="", help="record the lifecycle scenarios under names ending with it")
    asyncio.run(main(parser.parse_args().suffix))
