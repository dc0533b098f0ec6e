"""The devnet's private relay stand-in: transactions it holds never show in anvil's public
pool, it includes them itself, and it answers like a node (so the connector's submitter
classifies its refusals the same way). ``devnet_up(private_relay=True)`` wires one per chain.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from connectors.evm.submission import PrivateRelay
from crosslane.domain.tx import BroadcastOutcome
from crosslane.errors import BroadcastRejected
from devnet.anvil import find_free_port, rpc_call, start_anvil
from devnet.manager import devnet_down, devnet_status, devnet_up
from devnet.mining import manual_mining
from devnet.private_relay import RelayServer, include_now_sync, relay_state_sync

pytestmark = pytest.mark.timeout(60)
CHAIN_ID = 31337


@pytest.fixture(scope="module")
def anvil_url() -> Any:
    anvil = start_anvil(find_free_port(), CHAIN_ID)
    yield anvil.url
    anvil.stop()


@pytest.fixture
async def relay(anvil_url: str) -> AsyncIterator[RelayServer]:
    server = RelayServer(anvil_url, include_interval=None)  # includes only when told
    await server.start()
    yield server
    await server.stop()


async def arpc(url: str, method: str, params: list[Any] | None = None) -> Any:
    """A JSON-RPC call off the event loop (the in-process relay serves on it)."""
    return await asyncio.to_thread(rpc_call, url, method, params or [])


async def relay_state(url: str) -> dict[str, Any]:
    return await asyncio.to_thread(relay_state_sync, url)


def funded(url: str) -> LocalAccount:
    account = Account.from_key("0x" + secrets.token_hex(32))
    rpc_call(url, "anvil_setBalance", [account.address, hex(10**21)])
    return account


def signed(
    account: LocalAccount, nonce: int, *, tip: int = 10**9, max_fee: int = 100 * 10**9, chain_id: int = CHAIN_ID
) -> str:
    tx = {
        "type": 2, "chainId": chain_id, "nonce": nonce, "to": "0x000000000000000000000000000000000000dEaD",
        "value": 1, "gas": 21_000, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip,
    }  # fmt: skip
    return "0x" + account.sign_transaction(tx).raw_transaction.hex()


def tx_hash(raw: str) -> str:
    return "0x" + Web3.keccak(hexstr=raw).hex().removeprefix("0x")


def pool_hashes(url: str) -> set[str]:
    content = rpc_call(url, "txpool_content")
    return {tx["hash"] for section in content.values() for by_nonce in section.values() for tx in by_nonce.values()}


async def test_held_transactions_stay_out_of_the_public_pool_until_included(
    anvil_url: str, relay: RelayServer
) -> None:
    sender, public = funded(anvil_url), funded(anvil_url)
    w3 = Web3(Web3.HTTPProvider(anvil_url))
    with manual_mining(anvil_url):
        private_raw = signed(sender, 0)
        assert await arpc(relay.url, "eth_sendPrivateTransaction", [{"tx": private_raw}]) == tx_hash(private_raw)
        second = await arpc(relay.url, "eth_sendRawTransaction", [signed(sender, 1)])
        public_hash = "0x" + bytes(w3.eth.send_raw_transaction(signed(public, 0))).hex()
        for _ in range(20):  # the public one is in the pool, the held ones never are
            in_pool = pool_hashes(anvil_url)
            assert public_hash in in_pool and not {tx_hash(private_raw), second} & in_pool
            await asyncio.sleep(0.02)
        assert rpc_call(anvil_url, "eth_getTransactionByHash", [second]) is None
        held_view = await arpc(relay.url, "eth_getTransactionByHash", [second])
        assert held_view["hash"] == second and held_view["blockNumber"] is None and held_view["nonce"] == "0x1"
        assert (await relay_state(relay.url))["held"] == [tx_hash(private_raw), second]
        # Anything else is the chain's answer, through the relay.
        assert await arpc(relay.url, "eth_chainId") == hex(CHAIN_ID)

        included = await relay.include()
        assert included == [tx_hash(private_raw), second]
        receipts = [w3.eth.get_transaction_receipt(h) for h in (*included, public_hash)]
        assert all(r["status"] == 1 for r in receipts)
        assert len({r["blockNumber"] for r in receipts}) == 1  # the relay mined the block itself
    assert await relay_state(relay.url) == {"held": [], "included": included, "failed": {}}


async def test_relay_refuses_like_a_node_and_the_submitter_classifies_it(
    anvil_url: str, relay: RelayServer, tmp_path: Path
) -> None:
    from crosslane.domain.chains import ChainConfig

    sender = funded(anvil_url)
    chain = ChainConfig(name="relay-test", chain_id=CHAIN_ID, rpc_urls=[anvil_url])
    submitter = PrivateRelay(chain, relay.url)
    try:
        first = signed(sender, 0, tip=10**9)
        assert await submitter.submit(first) is BroadcastOutcome.SENT
        assert await submitter.submit(first) is BroadcastOutcome.ALREADY_KNOWN
        assert await submitter.is_known(tx_hash(first))
        # A replacement must raise both fees by 10%.
        too_little = signed(sender, 0, tip=2 * 10**9, max_fee=105 * 10**9)  # the tip +100%, the max fee +5%
        assert await submitter.submit(too_little) is BroadcastOutcome.UNDERPRICED
        bumped = signed(sender, 0, tip=2 * 10**9, max_fee=110 * 10**9)
        assert await submitter.submit(bumped) is BroadcastOutcome.SENT
        assert (await relay_state(relay.url))["held"] == [tx_hash(bumped)]
        assert not await submitter.is_known(tx_hash(first))  # replaced, gone
        assert await asyncio.to_thread(include_now_sync, relay.url) == [tx_hash(bumped)]
        assert await submitter.submit(bumped) is BroadcastOutcome.ALREADY_KNOWN  # a retry after inclusion
        assert (
            await submitter.submit(signed(sender, 0, tip=5 * 10**9, max_fee=200 * 10**9))
            is BroadcastOutcome.NONCE_TOO_LOW
        )
        with pytest.raises(BroadcastRejected, match="invalid chain id 1"):
            await submitter.submit(signed(sender, 1, chain_id=1))
        with pytest.raises(BroadcastRejected, match="invalid transaction"):
            await submitter.submit("0x02deadbeef")
        cancelled = signed(sender, 1)
        await submitter.submit(cancelled)
        assert await arpc(relay.url, "eth_cancelPrivateTransaction", [{"txHash": tx_hash(cancelled)}]) is True
        assert (await relay_state(relay.url))["held"] == []
    finally:
        await submitter.close()


async def test_devnet_up_starts_a_relay_per_chain_that_includes_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "devnet.json"
    chains = ("devnet-a", "devnet-b")
    try:
        state = await devnet_up(path, {c: find_free_port() for c in chains}, detached=False, private_relay=True)
        status = devnet_status(path)
        assert status.up, status
        for name in chains:
            url = state.chains[name].private_relay_url
            assert url is not None and state.processes[f"relay-{name}"].url == url
            anvil = state.anvil_url(name)
            sender = funded(anvil)
            sent = rpc_call(url, "eth_sendRawTransaction", [signed(sender, 0, chain_id=state.chains[name].chain_id)])
            w3 = Web3(Web3.HTTPProvider(anvil))
            for _ in range(100):  # the stand-in includes what it holds every second
                if rpc_call(anvil, "eth_getTransactionReceipt", [sent]) is not None:
                    break
                await asyncio.sleep(0.05)
            assert w3.eth.get_transaction_receipt(sent)["status"] == 1
    finally:
        stopped = devnet_down(path)
    assert {"relay-devnet-a", "relay-devnet-b"} <= set(stopped)
