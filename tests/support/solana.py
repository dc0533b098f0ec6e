"""A Solana devnet node in the test process, and helpers to drive its clock and faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from devnet.solana.node import SolanaNode
from devnet.solana.server import SolanaRpcServer


@asynccontextmanager
async def solana_node(slot_ms: float = 10, blockhash_validity: int = 30) -> AsyncIterator[SolanaRpcServer]:
    """A node on a free loopback port; ``slot_ms=0`` stops the clock (advance it by hand)."""
    server = SolanaRpcServer(SolanaNode(blockhash_validity=blockhash_validity), port=0, slot_ms=slot_ms)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def set_faults(server: SolanaRpcServer | str, **faults: object) -> dict:
    """Through the admin endpoint (of a node in this process, or at a URL), as an operator would."""
    url = server if isinstance(server, str) else server.url
    async with aiohttp.ClientSession() as http, http.post(f"{url}/admin/faults", json=faults) as resp:
        resp.raise_for_status()
        return await resp.json()


async def wait_for_block_height(server: SolanaRpcServer, height: int) -> None:
    while server.node.block_height_at("finalized") <= height:
        await asyncio.sleep(server.slot_ms / 1000)
