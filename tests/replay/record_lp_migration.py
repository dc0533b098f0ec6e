"""Record LPMigration histories for tests/replay/test_replay.py (which replays every file in
``histories/``).

    .venv/bin/python -m tests.replay.record_lp_migration [--cross-chain [--wormhole]]

Own Temporal dev server and devnet; scenarios: a staked V3 position moved to a new range
and restaked, V2 LP tokens into a V3 range of another fee tier (remove, zap, mint), the same
through the V3Migrator, and a request the plan refuses (a position the owner does not hold);
with ``--cross-chain`` (a devnet with the bridges): a V3 position on devnet-a moved to a
devnet-b range over Across (``--wormhole``: over Wormhole, its wrapped USDC swapped into
devnet-b's USDC through the devnet's V2 pair before the zap).
After an intended change to workflows/lp_migration.py, record new histories under new
workflow ids (saved ones are never overwritten).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from devnet.sandbox import sandbox
from tests.e2e.test_lp_migration import give_lp
from tests.replay.record import save_histories
from tests.support.lp_migration import around, devnet, migration_request, mint_position, stake
from tests.support.stack import Stack, crosslane_client, running_worker


async def record(stack: Stack) -> None:
    queue = "replay-lpm"
    net = devnet(stack)
    owner, stranger = stack.fund_signer(), stack.fund_signer()
    token_id = mint_position(stack, net, owner, 500, *around(net, 500, 30, 10))
    stake(stack, net, owner, token_id)
    lower, upper = around(net, 500, 10, 10)
    staked = migration_request(
        owner.address,
        "replay-staked-v3",
        {"protocol": "uniswap_v3", "token_id": token_id},
        {"fee": 500, "tick_lower": lower, "tick_upper": upper},
    )
    refused = migration_request(
        stranger.address,
        "replay-not-owned",
        {"protocol": "uniswap_v3", "token_id": token_id},
        {"fee": 500, "tick_lower": lower, "tick_upper": upper},
    )
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        saved: dict[str, str] = {}
        await asyncio.gather((await client.start_lp_migration(refused)).result(), return_exceptions=True)
        saved["lpm_refused"] = refused.workflow_id
        await (await client.start_lp_migration(staked)).result()
        saved["lpm_staked_v3"] = staked.workflow_id

        give_lp(stack, net, owner)
        v2 = migration_request(
            owner.address,
            "replay-v2-zap",
            {"protocol": "uniswap_v2", "token_a": "WETH", "token_b": "USDC"},
            {"fee": 3000, "tick_lower": around(net, 3000, 5, 15)[0], "tick_upper": around(net, 3000, 5, 15)[1]},
        )
        await (await client.start_lp_migration(v2)).result()
        saved["lpm_v2_zap"] = v2.workflow_id

        give_lp(stack, net, owner)
        lower, upper = around(net, 3000, 20, 20)
        migrator = migration_request(
            owner.address,
            "replay-v2-migrator",
            {"protocol": "uniswap_v2", "token_a": "WETH", "token_b": "USDC"},
            {"fee": 3000, "tick_lower": lower, "tick_upper": upper},
            via_migrator=True,
        )
        await (await client.start_lp_migration(migrator)).result()
        saved["lpm_v2_migrator"] = migrator.workflow_id
        await save_histories(client.temporal, saved, file_per_workflow_id=True)


async def record_cross_chain(stack: Stack, route: str) -> None:
    queue = f"replay-lpm-x-{route}"
    net_a, net_b = devnet(stack, "devnet-a"), devnet(stack, "devnet-b")
    owner = stack.fund_signer()
    token_id = mint_position(stack, net_a, owner, 500, *around(net_a, 500, 20, 20))
    lower, upper = around(net_b, 3000, 10, 10)
    request = migration_request(
        owner.address,
        "replay-cross-chain" if route == "across" else f"replay-cross-chain-{route}",
        {"protocol": "uniswap_v3", "token_id": token_id},
        {"chain": "devnet-b", "fee": 3000, "tick_lower": lower, "tick_upper": upper},
        bridge_route=route,
    )
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        await (await client.start_lp_migration(request)).result()
        name = "lpm_cross_chain" if route == "across" else f"lpm_cross_chain_{route}"
        await save_histories(client.temporal, {name: request.workflow_id}, file_per_workflow_id=True)


async def main(cross_chain: bool, route: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with sandbox(Path(tmp), bridges=cross_chain) as services:
            stack = Stack(services)
            stack.ledger().migrate()
            await (record_cross_chain(stack, route) if cross_chain else record(stack))


if __name__ == "__main__":
    asyncio.run(main("--cross-chain" in sys.argv, "wormhole" if "--wormhole" in sys.argv else "across"))
