"""Record CexTransfer histories for tests/replay/test_replay.py (which replays every file in
``histories/``).

    .venv/bin/python -m tests.replay.record_cex_transfer

Own Temporal dev server and devnet with the CEX simulators; scenarios: 100 USDC withdrawn
from the Binance simulator to devnet-a, the 99 that arrived deposited back (its child
lifecycle, then the venue's credit), and a withdrawal to an address not on the whitelist
(refused, its failure recorded). Saved histories are never overwritten: after an intended
change to workflows/cex_transfer.py, record new ones under new names.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from devnet.cex import admin_client as admin
from devnet.sandbox import sandbox
from tests.replay.record import save_histories
from tests.support.cex_transfer import ACCOUNT, rest_url, transfer_request
from tests.support.stack import Stack, crosslane_client, worker_process


async def record(stack: Stack, home: Path) -> None:
    queue = "replay-cex-transfer"
    signer, stranger = stack.fund_signer(), stack.fund_signer()
    await admin.credit(rest_url(stack), "USDC", "1000", account=ACCOUNT)
    await admin.whitelist(rest_url(stack), [signer.address], account=ACCOUNT)
    worker = worker_process(stack, queue, home / "worker.log")  # reads the venues from the devnet state
    try:
        await worker.wait_polling()
        client = await crosslane_client(stack, queue)
        saved: dict[str, str] = {}

        out = transfer_request("replay-withdraw", "withdraw", signer.address, "100")
        await (await client.start_cex_transfer(out)).result()
        saved["cex_transfer_withdraw"] = out.workflow_id

        back = transfer_request("replay-deposit", "deposit", signer.address, "99")
        await (await client.start_cex_transfer(back)).result()
        saved["cex_transfer_deposit"] = back.workflow_id

        refused = transfer_request("replay-refused", "withdraw", stranger.address, "50")
        await asyncio.gather((await client.start_cex_transfer(refused)).result(), return_exceptions=True)
        saved["cex_transfer_not_whitelisted"] = refused.workflow_id

        await save_histories(client.temporal, saved)
    finally:
        worker.stop()


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        async with sandbox(home, cex=True) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await record(stack, home)


if __name__ == "__main__":
    asyncio.run(main())
