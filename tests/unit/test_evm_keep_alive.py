"""JSON-RPC calls reuse their connection, and no call goes through a thread to find it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from connectors.evm.client import async_http_provider


@pytest.fixture
async def node() -> AsyncIterator[tuple[str, set[Any]]]:
    """A stub node answering ``eth_chainId``; the peers (client ports) that spoke to it."""
    peers: set[Any] = set()

    async def rpc(request: web.Request) -> web.Response:
        peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        body = await request.json()
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "result": "0x7a69"})

    app = web.Application()
    app.router.add_post("/", rpc)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/", peers
    finally:
        await runner.cleanup()


async def test_calls_share_one_kept_alive_connection(node: tuple[str, set[Any]]) -> None:
    url, peers = node
    provider = async_http_provider(url)
    try:
        for _ in range(5):
            assert (await provider.make_request("eth_chainId", []))["result"] == "0x7a69"  # type: ignore[arg-type]
    finally:
        await provider.disconnect()
    assert len(peers) == 1  # web3's own session closes each connection: five peers


async def test_the_session_is_found_without_a_thread(
    node: tuple[str, set[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = node
    provider = async_http_provider(url)
    loop = asyncio.get_running_loop()

    def no_executor(*_args: object) -> None:
        raise AssertionError("a thread hand-off per call")

    monkeypatch.setattr(loop, "run_in_executor", no_executor)
    try:
        assert (await provider.make_request("eth_chainId", []))["result"] == "0x7a69"  # type: ignore[arg-type]
    finally:
        await provider.disconnect()
