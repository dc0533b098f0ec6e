"""Block production controls on anvil, for making a transaction stuck on purpose.

anvil refuses a max fee under the *current* base fee, so a stuck transaction is made by
sending at the base fee with automine off, then raising the next block's base fee.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from devnet.anvil import rpc_call


def next_base_fee(url: str) -> int:
    """Wei per gas of the block anvil mines next."""
    return int(rpc_call(url, "eth_feeHistory", [hex(1), "latest", []])["baseFeePerGas"][-1], 16)


def mine(url: str) -> None:
    rpc_call(url, "evm_mine")


def raise_next_base_fee(url: str, wei: int) -> None:
    rpc_call(url, "anvil_setNextBlockBaseFeePerGas", [hex(wei)])


NORMAL_BASE_FEE = 10**9  # anvil's genesis base fee


@contextmanager
def manual_mining(url: str) -> Iterator[Callable[[], None]]:
    """Automine off inside the block (yields a ``mine()``). On the way out automine is back
    and the base fee is reset, so a base-fee spike made inside does not outlive it."""
    rpc_call(url, "evm_setAutomine", [False])
    try:
        yield lambda: mine(url)
    finally:
        raise_next_base_fee(url, NORMAL_BASE_FEE)
        mine(url)
        rpc_call(url, "evm_setAutomine", [True])


async def mine_until(done: Callable[[], bool], url: str, interval_s: float = 0.2) -> None:
    """Mine a block every ``interval_s`` until ``done()``."""
    while not done():
        await asyncio.to_thread(mine, url)
        await asyncio.sleep(interval_s)
