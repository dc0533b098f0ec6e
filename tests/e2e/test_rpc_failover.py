"""RPC failover: the primary endpoint dies mid-run; the lifecycle completes through the secondary."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from web3 import Web3

from crosslane.domain.tx import TxOutcome, TxState
from devnet.anvil import find_free_port, rpc_call
from devnet.manager import devnet_down, devnet_up
from devnet.mining import manual_mining, mine_until
from devnet.rpc_proxy import get_faults_sync, set_faults_sync
from devnet.state import DevnetState
from tests.e2e.test_stuck_tx import wait_for_state
from tests.e2e.test_tx_lifecycle import request_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

CHAIN = "devnet-a"


@pytest.fixture
async def proxied_devnet(tmp_path: Path) -> AsyncIterator[DevnetState]:
    path = tmp_path / "devnet.json"
    state = await devnet_up(
        path, ports={"devnet-a": find_free_port(), "devnet-b": find_free_port()}, detached=False, proxies=True
    )
    try:
        yield state
    finally:
        devnet_down(path)


def fund(state: DevnetState, address: str) -> None:
    rpc_call(state.anvil_url(CHAIN), "anvil_setBalance", [address, hex(10**21)])


async def test_primary_killed_mid_run_lifecycle_completes_through_secondary(
    stack: Stack, proxied_devnet: DevnetState
) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    fund(proxied_devnet, sender.address)
    _, secondary = proxied_devnet.chains[CHAIN].rpc_urls
    primary_pid = proxied_devnet.processes[f"proxy-{CHAIN}-primary"].pid
    anvil = proxied_devnet.anvil_url(CHAIN)
    queue = unique_queue("failover")
    async with running_worker(stack, queue, chains=proxied_devnet.registry()):
        client = await crosslane_client(stack, queue)
        with manual_mining(anvil):
            request = request_for(sender.address, recipient.address, unique_queue("fo"), chain=CHAIN)
            handle = await client.start_tx(request)
            await wait_for_state(client, request.request_id, TxState.PENDING)
            assert get_faults_sync(secondary)["stats"]["forwarded"] == 0, "all traffic went to the primary so far"
            os.kill(primary_pid, signal.SIGKILL)
            task = asyncio.ensure_future(handle.result())
            await asyncio.wait_for(mine_until(task.done, anvil), 60)
            result = task.result()
    assert result.outcome is TxOutcome.CONFIRMED and result.mined_attempt_index == 0
    assert get_faults_sync(secondary)["stats"]["forwarded"] > 0
    w3 = Web3(Web3.HTTPProvider(anvil))
    assert w3.eth.get_transaction_count(sender.address) == 1
    assert w3.eth.get_balance(recipient.address) == 10**15  # the recipient is fresh on this devnet


async def test_flaky_primary_errors_and_drops_are_absorbed(stack: Stack, proxied_devnet: DevnetState) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    fund(proxied_devnet, sender.address)
    primary, _ = proxied_devnet.chains[CHAIN].rpc_urls
    set_faults_sync(primary, error_rate=0.5, drop_rate=0.2, latency_ms=20)
    queue = unique_queue("flaky")
    async with running_worker(stack, queue, chains=proxied_devnet.registry()):
        client = await crosslane_client(stack, queue)
        handles = [
            await client.start_tx(request_for(sender.address, recipient.address, unique_queue(f"fl{i}"), chain=CHAIN))
            for i in range(5)
        ]
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 90)
    assert sorted(r.nonce for r in results) == [0, 1, 2, 3, 4]
    w3 = Web3(Web3.HTTPProvider(proxied_devnet.anvil_url(CHAIN)))
    assert w3.eth.get_transaction_count(sender.address) == 5
    stats = get_faults_sync(primary)["stats"]
    assert stats["errored"] + stats["dropped"] > 0, "the faults must actually have been hit"
