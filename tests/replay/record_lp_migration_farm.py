"""Record an LPMigration history of V2 LP tokens staked in a MasterChef farm (withdrawn from
the farm, its reward harvested, then remove, zap, mint) for tests/replay/test_replay.py.

    .venv/bin/python -m tests.replay.record_lp_migration_farm

Own Temporal dev server and devnet. Saved histories are never overwritten: after an
intended change to workflows/lp_migration.py, record under a new workflow id.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from devnet.sandbox import sandbox
from tests.replay.record import save_histories
from tests.support.lp_migration import CHAIN, around, devnet, farm_lp, migration_request
from tests.support.stack import Stack, crosslane_client, running_worker


async def record(stack: Stack) -> None:
    queue = "replay-lpm-farm"
    net = devnet(stack)
    owner = stack.fund_signer()
    farm_lp(stack, net, owner)
    stack.anvil(CHAIN, "evm_mine")
    lower, upper = around(net, 3000, 5, 15)
    request = migration_request(
        owner.address,
        "replay-v2-farm",
        {"protocol": "uniswap_v2", "dex": "sushiswap", "token_a": "WETH", "token_b": "USDC"},
        {"fee": 3000, "tick_lower": lower, "tick_upper": upper},
    )
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        result = await (await client.start_lp_migration(request)).result()
        assert result.farm_reward > 0, result
        await save_histories(client.temporal, {"lpm_v2_farm": request.workflow_id}, file_per_workflow_id=True)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp)) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await record(stack)


if __name__ == "__main__":
    asyncio.run(main())
