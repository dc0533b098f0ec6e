"""Block production controls on anvil, for making a transaction stuck on purpose.

anvil refuses a max fee under the *current* base fee, so a stuck transaction is made by
sending at the base fee with automine off, then raising the base fee with :func:`hold_base_fee`.
``anvil_setNextBlockBaseFeePerGas`` covers the next block only: after it the base fee decays
12.5 % per empty block, so a one-off spike lets the stuck transaction mine again after a few
seconds of blocks (a stalled worker is enough). A hold re-pins it before every block mined here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from devnet.anvil import rpc_call


def next_base_fee(url: str) -> int:
    """Wei per gas of the block anvil mines next."""
    return int(rpc_call(url, "eth_feeHistory", [hex(1), "latest", []])["baseFeePerGas"][-1], 16)


# anvil URL -> the base fee every block mined through mine() gets, while a hold_base_fee lasts
_held_base_fees: dict[str, int] = {}


def mine(url: str) -> None:
    held = _held_base_fees.get(url)
    if held is not None:
        raise_next_base_fee(url, held)
    rpc_call(url, "evm_mine")


def raise_next_base_fee(url: str, wei: int) -> None:
    rpc_call(url, "anvil_setNextBlockBaseFeePerGas", [hex(wei)])


@contextmanager
def hold_base_fee(url: str, wei: int) -> Iterator[None]:
    """Inside the block, every block :func:`mine` (and so :func:`mine_until`) makes on ``url``
    has base fee ``wei``: it does not decay until the caller leaves the block."""
    if url in _held_base_fees:
        raise RuntimeError(f"the base fee of {url} is already held at {_held_base_fees[url]} wei")
    _held_base_fees[url] = wei
    raise_next_base_fee(url, wei)
    try:
        yield
    finally:
        del _held_base_fees[url]


NORMAL_BASE_FEE = 10**9  # anvil's genesis base fee


@contextmanager
def manual_mining(url: str) -> Iterator[Callable[[], None]]:
    """Automine off inside the block (yields a ``mine()``). On the way out automine is back
    and the base fee is reset, so a base-fee spike made inside does not outlive it."""
    rpc_call(url, "evm_setAutomine", [False])
    try:
        yield lambda: mine(url)
    finally:
        _held_base_fees.pop(url, None)
        raise_next_base_fee(url, NORMAL_BASE_FEE)
        mine(url)
        rpc_call(url, "evm_setAutomine", [True])


async def mine_until(done: Callable[[], bool], url: str, interval_s: float = 0.2) -> None:
    """Mine a block every ``interval_s`` until ``done()``."""
    while not done():
        await asyncio.to_thread(mine, url)
        await asyncio.sleep(interval_s)
