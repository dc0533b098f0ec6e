"""The fast lane's per-head state at detection: used as held only while a head poll within
the staleness bound saw no newer block; otherwise the head is asked for, and a state older
than the head is read again before anything is priced (never priced on a stale block)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from activities.arb_fastlane import ArbFastLane
from activities.arbitrage import KnownBlock
from connectors.dex.routing import MarketSnapshot
from connectors.evm.fees import FeeSuggestion
from crosslane.domain.arb_steps import ArbitrageRequest, ArbRiskLimits, ArbVenue
from crosslane.domain.tx import FeePolicy

CHAIN = "devnet-a"
SIGNER = "0x" + "11" * 20


class Chain:
    """A chain whose head is ``head``; counts the ``eth_blockNumber`` asked."""

    def __init__(self, head: int) -> None:
        self.head = head
        self.asked = 0

    async def block_number(self) -> int:
        self.asked += 1
        return self.head


def lane_on(chain: Chain, max_staleness_s: float = 0.25) -> tuple[ArbFastLane, list[int]]:
    """A lane whose reads of the chain's state record the head they read at."""
    runtime: Any = SimpleNamespace(ledger=None, client=lambda name: chain)
    lane = ArbFastLane(runtime, ArbRiskLimits(), max_staleness_s=max_staleness_s)
    reads: list[int] = []

    async def read_chain(name: str) -> None:
        reads.append(chain.head)
        lane.blocks[name] = KnownBlock(MarketSnapshot(chain.head), FeeSuggestion(1, 1, 2))

    lane._read_chain = read_chain  # type: ignore[method-assign]
    return lane, reads


def request() -> ArbitrageRequest:
    fields: dict[str, object] = {
        "request_id": "heads", "asset": "WETH", "quote": "USDC", "size": "0.1",
        "buy": ArbVenue(venue="cex", symbol="ETH/USDT"), "sell": ArbVenue(venue="uniswap_v3", chain=CHAIN),
        "min_profit": "0", "max_loss": "1", "signer": SIGNER, "fees": FeePolicy(max_fee_per_gas_cap=10**11),
    }  # fmt: skip
    return ArbitrageRequest.model_validate(fields)


async def test_without_a_recent_poll_the_head_is_asked_and_a_newer_block_is_read_again() -> None:
    chain = Chain(head=10)
    lane, reads = lane_on(chain)
    await lane._fresh(request())  # never read: read now
    assert reads == [10]
    await lane._fresh(request())  # no poll yet: the head is asked (one call), unchanged: held state used
    assert reads == [10] and chain.asked == 1
    chain.head = 11
    lane._seen.clear()
    await lane._fresh(request())  # the head moved: read again before pricing
    assert reads == [10, 11] and lane.blocks[CHAIN].market.block_number == 11


async def test_a_recent_poll_at_the_held_block_spares_the_rpc_a_stale_or_newer_one_does_not() -> None:
    chain = Chain(head=10)
    lane, reads = lane_on(chain, max_staleness_s=0.25)
    await lane.refresh(request())
    await lane._head(CHAIN)  # the watcher's poll
    asked = chain.asked
    await lane._fresh(request())
    assert chain.asked == asked and reads == [10]  # fresh within the bound: nothing asked, nothing read
    lane._seen[CHAIN] = (10, time.monotonic() - 1.0)  # the last poll is older than the bound
    chain.head = 12
    await lane._fresh(request())
    assert chain.asked == asked + 1 and reads == [10, 12]  # asked, and the newer block read
    lane._seen[CHAIN] = (13, time.monotonic())  # a poll saw a block the state does not hold yet
    chain.head = 13
    await lane._fresh(request())
    assert reads == [10, 12, 13] and lane.blocks[CHAIN].market.block_number == 13


async def test_the_watcher_reads_a_new_block_and_stops_with_the_lane() -> None:
    chain = Chain(head=5)
    lane, reads = lane_on(chain)
    await lane.refresh(request())
    watcher = lane.watch(poll_s=0.001)
    chain.head = 6
    for _ in range(500):
        if reads[-1] == 6:
            break
        await asyncio.sleep(0.002)
    assert reads == [5, 6] and lane._seen[CHAIN][0] == 6
    await lane.close()
    assert watcher.done()
