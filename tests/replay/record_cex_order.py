"""Record CexOrder histories for tests/replay/test_replay.py (which replays every file in
``histories/``).

    .venv/bin/python -m tests.replay.record_cex_order

Own Temporal dev server, devnet with both CEX simulators and a fast path; scenarios: an IOC
buy split and filled through the fast path, and a leg the fast path refuses (unknown symbol).
After an intended change to workflows/cex_order.py, record new histories under new names
(saved ones are never overwritten).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from decimal import Decimal
from pathlib import Path

from crosslane.client import connect_temporal
from crosslane.domain.cex import CexExecuteInput, CexExecution, CexOrderRequest
from crosslane.routing import Side
from devnet.sandbox import sandbox
from tests.replay.record import save_histories
from tests.support.fastpath import FastPathProcess, cex_order_worker, fastpath_config
from tests.support.stack import Stack

SYMBOL = "BTC/USDT"


async def record(stack: Stack, fastpath: FastPathProcess) -> None:
    queue = "replay-cex"
    await (await fastpath.client()).close()  # listening, with every book filled
    client = await connect_temporal(stack.settings(queue))
    worker = cex_order_worker(client, queue, fastpath)
    saved: dict[str, str] = {}
    async with worker:
        legs = {
            "cex_order_ioc_buy_filled": CexExecuteInput(step="buy", symbol=SYMBOL, side=Side.BUY, qty=Decimal("0.003")),
            "cex_order_refused": CexExecuteInput(step="buy", symbol="DOGE/USDT", side=Side.BUY, qty=Decimal("1")),
        }
        for name, leg in legs.items():
            request = CexOrderRequest(request_id=f"replay-{name}", leg=leg)
            handle = await client.start_workflow(
                "CexOrder", request, id=f"cex-{request.request_id}", task_queue=queue, result_type=CexExecution
            )
            await asyncio.gather(handle.result(), return_exceptions=True)
            saved[name] = handle.id
    await save_histories(client, saved)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        async with sandbox(home, cex=True) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            fastpath = FastPathProcess(fastpath_config(services.registry_path, home, [SYMBOL]), home, dict(os.environ))
            try:
                await record(stack, fastpath)
            finally:
                fastpath.stop()


if __name__ == "__main__":
    asyncio.run(main())
