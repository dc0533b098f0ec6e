"""Record SolanaTransaction histories for tests/replay/test_replay.py (which replays every
file in ``histories/``).

    .venv/bin/python -m tests.replay.record_solana

Own Temporal dev server and devnet with its Solana node; scenarios: a SOL transfer, a USDC
transfer creating the recipient's token account, a dropped transaction re-signed after its
blockhash expired, a cancel while the dropped one waits (nothing re-signed), an unknown
asset, and raw JSON carrying a key field. Re-record after an intended change to
workflows/solana_transaction.py.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from solders.keypair import Keypair

from devnet.sandbox import sandbox
from tests.e2e.test_solana_transaction import sol_request
from tests.replay.record import save_histories
from tests.support.solana import set_faults
from tests.support.solana_stack import SolanaStack
from tests.support.stack import Stack, crosslane_client, running_worker


async def record(sol: SolanaStack) -> None:
    queue = "replay-sol"
    sender = await sol.fund_wallet(sol=10, tokens={"USDC": 100})
    os.environ["CROSSLANE_SOLANA_KEYS"] = ",".join(sol.keys.values())  # the in-process worker's keys
    async with running_worker(sol.stack, queue):
        client = await crosslane_client(sol.stack, queue)
        saved: dict[str, str] = {}

        native = sol_request(sender, Keypair(), "1.5", request_id="replay-sol")
        await (await client.start_sol(native)).result()
        saved["sol_confirmed"] = native.workflow_id

        spl = sol_request(sender, Keypair(), "12.5", asset="USDC", request_id="replay-usdc")
        await (await client.start_sol(spl)).result()
        saved["sol_spl_confirmed"] = spl.workflow_id

        await set_faults(sol.url, drop_sends=1)
        resigned = sol_request(sender, Keypair(), "0.25", request_id="replay-resigned")
        await (await client.start_sol(resigned)).result()
        saved["sol_resigned_after_expiry"] = resigned.workflow_id

        await set_faults(sol.url, drop_sends=1)
        cancelled = sol_request(sender, Keypair(), "0.5", request_id="replay-cancelled")
        handle = await client.start_sol(cancelled)
        while not (await client.sol_status(cancelled.request_id)).attempts:
            await asyncio.sleep(0.05)
        await handle.signal("cancel")
        await handle.result()
        saved["sol_cancelled"] = cancelled.workflow_id
        await set_faults(sol.url)

        refused = sol_request(sender, Keypair(), "1", asset="NOPE", request_id="replay-refused")
        await asyncio.gather((await client.start_sol(refused)).result(), return_exceptions=True)
        saved["sol_refused"] = refused.workflow_id

        bad = native.model_dump(mode="json") | {"request_id": "replay-bad-json", "secret_key": "redacted"}
        handle = await client.temporal.start_workflow(
            "SolanaTransaction", bad, id="sol-replay-bad-json", task_queue=queue
        )
        await asyncio.gather(handle.result(), return_exceptions=True)
        saved["sol_invalid_input"] = "sol-replay-bad-json"

        await save_histories(client.temporal, saved)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp), solana=True) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await record(SolanaStack(stack))


if __name__ == "__main__":
    asyncio.run(main())
