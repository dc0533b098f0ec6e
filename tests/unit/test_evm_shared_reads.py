"""Reads many callers make at once share one request while it is in flight, and only then."""

from __future__ import annotations

import asyncio

from connectors.evm.client import EvmClient
from crosslane.domain.chains import ChainConfig


def client() -> EvmClient:
    return EvmClient(ChainConfig(name="devnet-a", chain_id=31337, rpc_urls=["http://127.0.0.1:9"]))


async def test_callers_asking_while_a_request_is_in_flight_share_its_answer() -> None:
    evm, sent = client(), []
    release = asyncio.Event()

    async def read(_w3: object) -> int:
        sent.append(len(sent) + 1)
        mine = sent[-1]
        await release.wait()
        return mine

    waiting = [asyncio.ensure_future(evm.shared(("head",), read, "read")) for _ in range(50)]
    other = asyncio.ensure_future(evm.shared(("fees",), read, "read"))  # another request: its own call
    for _ in range(100):  # let every caller ask before the node answers
        await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [1] * 50 and await other == 2
    assert len(sent) == 2
    # Once answered, the next caller asks again: nothing older than its own request's flight.
    assert await evm.shared(("head",), read, "read") == 3
    assert len(sent) == 3


async def test_a_failed_request_fails_every_caller_sharing_it_and_the_next_asks_again() -> None:
    evm, attempts = client(), []

    async def flaky(_w3: object) -> int:
        attempts.append(1)
        await asyncio.sleep(0)
        if len(attempts) == 1:
            raise RuntimeError("node said no")
        return 1

    results = await asyncio.gather(*(evm.shared(("x",), flaky, "x") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await evm.shared(("x",), flaky, "x") == 1
    assert len(attempts) == 2
