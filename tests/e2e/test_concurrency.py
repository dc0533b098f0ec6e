"""Many lifecycles from one signer: consecutive nonces, no gap, no duplicate."""

from __future__ import annotations

import asyncio
from pathlib import Path

from web3 import Web3

from tests.e2e.test_crash_safety import assert_one_tx_per_nonce
from tests.e2e.test_tx_lifecycle import request_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue, worker_process

CHAIN = "devnet-b"
N = 50


async def test_fifty_concurrent_lifecycles_in_one_worker(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    queue = unique_queue("fifty")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        handles = await asyncio.gather(
            *(
                client.start_tx(request_for(sender.address, recipient.address, unique_queue(f"n{i}"), chain=CHAIN))
                for i in range(N)
            )
        )
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 120)
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls[CHAIN]))
    assert_one_tx_per_nonce(w3, sender.address, results)
    assert w3.eth.get_balance(recipient.address) == 1000 * 10**18 + N * 10**15


async def test_fifty_concurrent_lifecycles_across_two_worker_processes(stack: Stack, tmp_path: Path) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    queue = unique_queue("fifty2")
    workers = [worker_process(stack, queue, tmp_path / f"worker-{i}.log") for i in range(2)]
    try:
        await asyncio.gather(*(w.wait_polling() for w in workers))
        client = await crosslane_client(stack, queue)
        handles = await asyncio.gather(
            *(
                client.start_tx(request_for(sender.address, recipient.address, unique_queue(f"m{i}"), chain=CHAIN))
                for i in range(N)
            )
        )
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 180)
        # Workflow tasks too: a lifecycle's short steps run as local activities inside them.
        served_by = {
            started.identity
            for r in [await h.fetch_history() for h in handles]
            for e in r.events
            for started in (e.activity_task_started_event_attributes, e.workflow_task_started_event_attributes)
            if started.identity
        }
    finally:
        for w in workers:
            w.stop()
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls[CHAIN]))
    assert_one_tx_per_nonce(w3, sender.address, results)
    assert len({i.split("@")[0] for i in served_by}) == 2, f"both worker processes must take part: {served_by}"
