"""Record an LPMigration history across chains over Wormhole (its wrapped USDC swapped into
devnet-b's USDC through the devnet's V2 pair before the zap) for tests/replay/test_replay.py.

    .venv/bin/python -m tests.replay.record_lp_migration_wormhole

Own Temporal dev server and devnet with the bridges. Saved histories are never overwritten:
after an intended change to workflows/lp_migration.py, record under a new workflow id.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from devnet.sandbox import sandbox
from tests.replay.record import save_histories
from tests.support.lp_migration import around, devnet, migration_request, mint_position
from tests.support.stack import Stack, crosslane_client, running_worker


async def record(stack: Stack) -> None:
    queue = "replay-lpm-wh"
    net_a, net_b = devnet(stack, "devnet-a"), devnet(stack, "devnet-b")
    owner = stack.fund_signer()
    token_id = mint_position(stack, net_a, owner, 500, *around(net_a, 500, 20, 20))
    lower, upper = around(net_b, 3000, 10, 10)
    request = migration_request(
        owner.address,
        "replay-cross-chain-wormhole",
        {"protocol": "uniswap_v3", "token_id": token_id},
        {"chain": "devnet-b", "fee": 3000, "tick_lower": lower, "tick_upper": upper},
        bridge_route="wormhole",
    )
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        result = await (await client.start_lp_migration(request)).result()
        assert "from-bridge-asset" in [leg.step for leg in result.legs], result
        ids = {"lpm_cross_chain_wormhole": request.workflow_id}
        await save_histories(client.temporal, ids, file_per_workflow_id=True)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp), bridges=True) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await record(stack)


if __name__ == "__main__":
    asyncio.run(main())
