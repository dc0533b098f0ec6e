"""Record transfer-mode Arbitrage histories for tests/replay/test_replay.py.

    .venv/bin/python -m tests.replay.record_arbitrage_transfer

On Temporal's time-skipping server with the transfer tests' mocked quote and stub children
(tests/unit/test_arbitrage_transfer.py): a run bought, bridged and sold (with a rebalance of
the quote currency first), and one sold back on the buy chain when the gap closed before the
bridge. Only the Arbitrage histories are saved: the children's results are in them. After an
intended change to workflows/arbitrage.py, record new histories under new names.
"""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path

from crosslane.ledger import Ledger
from tests.replay.record import save_histories
from tests.support.arb_stubs import DeliveringBridge
from tests.support.time_skipping import time_skipping_env
from tests.unit.test_arbitrage_transfer import TransferQuotes, run, transfer_request


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        ledger.migrate()
        try:
            async with time_skipping_env() as env:
                completed = transfer_request(request_id="replay-transfer-rebalanced")
                await run(env, TransferQuotes(short_first=True), ledger, DeliveringBridge, completed)
                sold_back = transfer_request(request_id="replay-transfer-sold-back")
                gap_closed = TransferQuotes(sell_price={"bridge": Decimal(2900)})
                await run(env, gap_closed, ledger, DeliveringBridge, sold_back)
                await save_histories(
                    env.client,
                    {
                        "arbitrage_transfer_rebalanced_completed": completed.workflow_id,
                        "arbitrage_transfer_sold_back_before_bridge": sold_back.workflow_id,
                    },
                )
        finally:
            ledger.close()


if __name__ == "__main__":
    asyncio.run(main())
