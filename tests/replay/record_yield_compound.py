"""Record YieldCompound histories for tests/replay/test_replay.py (which replays every file in
``histories/``).

    .venv/bin/python -m tests.replay.record_yield_compound

Own Temporal dev server and devnet; scenarios: a MasterChef farm compounded (harvest, two
swaps, add, restake), a run the profit gate skips, and a request the plan refuses (unknown
farm). After an intended change to workflows/yield_compound.py, record new histories under
new workflow ids (saved ones are never overwritten).
"""

from __future__ import annotations

import asyncio
import tempfile
from decimal import Decimal
from pathlib import Path

from crosslane.domain.yield_compound import FarmTarget
from devnet.sandbox import sandbox
from tests.e2e.test_yield_compound import _run
from tests.replay.record import save_histories
from tests.support.farm import SIX_HOURS, advance, compound_request, farm_owner
from tests.support.stack import Stack, running_worker, temporal_client


async def record(stack: Stack) -> None:
    queue = "replay-compound"
    owner, _ = farm_owner(stack)
    farm = FarmTarget(pid=0)
    async with running_worker(stack, queue):
        temporal = await temporal_client(stack)
        saved: dict[str, str] = {}
        advance(stack, SIX_HOURS, 3)
        compounded = compound_request(owner.address, "replay-farm-compounded", farm)
        await _run(temporal, queue, compounded)
        saved["compound_farm"] = compounded.workflow_id

        skipped = compound_request(owner.address, "replay-farm-skipped", farm, gas_fraction=Decimal("1e-9"))
        await _run(temporal, queue, skipped)
        saved["compound_skipped"] = skipped.workflow_id

        refused = compound_request(owner.address, "replay-unknown-farm", FarmTarget(pid=9))
        await asyncio.gather(_run(temporal, queue, refused), return_exceptions=True)
        saved["compound_refused"] = refused.workflow_id

        # Named by workflow id: child ids (tx-<workflow id>.<step>, swap-…, lp-…) come from it.
        await save_histories(temporal, saved, file_per_workflow_id=True)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp)) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await record(stack)


if __name__ == "__main__":
    asyncio.run(main())
