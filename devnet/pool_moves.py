"""Moving a devnet pool's price on purpose: one swap sized (on the pool's exact math) to
shift the asset's mid price by a number of basis points, sent from an impersonated trader
that anvil funds on the spot. The DEX side of a gap injection, and the noise trader's step.

    move = await move_pool(client, v3, pool, weth, Decimal(-150))   # WETH 1.5 % cheaper there
    move.before, move.after                                        # mid prices, raw units
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from connectors.dex import Dex, InsufficientLiquidity, Pool, PoolQuote, PoolState, TradeType
from connectors.dex.pricing import mid_price
from connectors.dex.routing import Route
from connectors.dex.swaps import swap_call
from connectors.dex.uniswap_v2 import PairState
from connectors.dex.uniswap_v3 import PoolSnapshot, UniswapV3
from connectors.evm.client import EvmClient
from devnet.anvil import rpc_call

TRADER = "0x00000000000000000000000000000000000015E0"  # impersonated: needs no key
_Q192 = 2**192
_APPROVE = bytes.fromhex("095ea7b3")
_GAS = 1_000_000


@dataclass(frozen=True)
class PoolMove:
    """What one move did: the asset's mid price (raw quote units per raw asset unit) before
    and after, the token sold and how much, the transaction."""

    pool: str
    before: Fraction
    after: Fraction
    token_in: str
    amount_in: int
    tx_hash: str

    @property
    def moved_bps(self) -> Decimal:
        ratio = self.after / self.before - 1
        return Decimal(ratio.numerator) / Decimal(ratio.denominator) * 10_000


def _price_after(state: PoolState, quote: PoolQuote, asset: str) -> Fraction:
    """The asset's mid price once ``quote``'s swap has gone through."""
    if isinstance(state, PairState):
        pool = state.pool
        in0 = pool.zero_for_one(quote.token_in)
        r0 = state.reserve0 + (quote.amount_in if in0 else -quote.amount_out)
        r1 = state.reserve1 + (-quote.amount_out if in0 else quote.amount_in)
        return mid_price(PairState(pool, r0, r1, state.block_number), asset)
    assert quote.sqrt_price_x96_after is not None
    one_per_zero = Fraction(quote.sqrt_price_x96_after**2, _Q192)
    return one_per_zero if state.pool.zero_for_one(asset) else 1 / one_per_zero


class _Quoter:
    """Exact-in quotes on one state (a V3 snapshot widened as the swaps need)."""

    def __init__(self, dex: Dex, state: PoolState) -> None:
        self.dex, self.state = dex, state

    async def __call__(self, token_in: str, amount: int) -> PoolQuote:
        if isinstance(self.dex, UniswapV3) and isinstance(self.state, PoolSnapshot):
            quote, self.state = await self.dex.complete(self.state, lambda s: s.quote_exact_in(token_in, amount))
            return quote
        return self.state.quote_exact_in(token_in, amount)


async def size_for_move(dex: Dex, state: PoolState, asset: str, bps: Decimal) -> tuple[str, int, PoolQuote]:
    """(token in, amount in, quote) of the smallest exact-in swap moving the asset's mid price
    by at least ``bps`` (positive: the asset dearer, so the quote token is sold in)."""
    asset = to_checksum_address(asset)
    token_in = state.pool.other(asset) if bps > 0 else asset
    before = mid_price(state, asset)
    target = before * (1 + Fraction(bps) / 10_000)
    quoter = _Quoter(dex, state)

    async def reached(amount: int) -> PoolQuote | None:
        quote = await quoter(token_in, amount)
        after = _price_after(quoter.state, quote, asset)
        return quote if (after >= target if bps > 0 else after <= target) else None

    low, high = 0, 1
    while True:
        try:
            if await reached(high) is not None:
                break
        except InsufficientLiquidity:
            break
        low, high = high, high * 2
        if high > 2**200:
            raise InsufficientLiquidity(f"pool {state.pool.address} cannot move {bps} bps")
    while high - low > 1:
        mid = (low + high) // 2
        try:
            ok = await reached(mid) is not None
        except InsufficientLiquidity:
            ok = True  # past what the pool holds: certainly far enough
        low, high = (low, mid) if ok else (mid, high)
    return token_in, high, await quoter(token_in, high)


def _rpc(url: str, method: str, *params: Any) -> Any:
    return rpc_call(url, method, params, timeout=10.0)


def _send(url: str, sender: str, to: str, data: bytes) -> str:
    tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "gas": hex(_GAS)}
    tx_hash: str = _rpc(url, "eth_sendTransaction", tx)
    deadline = time.monotonic() + 30
    while (receipt := _rpc(url, "eth_getTransactionReceipt", tx_hash)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{tx_hash} not mined within 30 s")
        time.sleep(0.05)
    if int(receipt["status"], 16) != 1:
        raise RuntimeError(f"pool move {tx_hash} reverted")
    return tx_hash


def _execute(url: str, dex: Dex, pool: Pool, token_in: str, quote: PoolQuote, trader: str) -> str:
    token_out = pool.other(token_in)
    call = swap_call(
        dex,
        Route(dex.name, pool.protocol, (pool,), (token_in, token_out)),
        TradeType.EXACT_IN,
        amount_in=quote.amount_in,
        amount_out=quote.amount_out,
        limit=0,
        recipient=trader,
        deadline=int(time.time()) + 600,
    )
    _rpc(url, "anvil_impersonateAccount", trader)
    _rpc(url, "anvil_setBalance", trader, hex(10**21))
    _rpc(url, "anvil_dealERC20", trader, token_in, hex(quote.amount_in))
    _send(url, trader, token_in, _APPROVE + abi_encode(["address", "uint256"], [call.spender, call.max_pull]))
    return _send(url, trader, call.router, call.calldata)


async def move_pool(
    client: EvmClient, dex: Dex, pool: Pool, asset: str, bps: Decimal, *, trader: str = TRADER
) -> PoolMove:
    """Swap through ``pool`` so that ``asset``'s mid price moves by ``bps`` basis points
    (positive: dearer); returns once the swap is mined, with the price read back."""
    if not bps:
        raise ValueError("a move of 0 bps sends nothing")
    state = await dex.pool_state(pool)
    before = mid_price(state, asset)
    token_in, _, quote = await size_for_move(dex, state, asset, bps)
    url = client.chain.rpc_urls[0]
    tx_hash = await asyncio.to_thread(_execute, url, dex, pool, token_in, quote, to_checksum_address(trader))
    after = mid_price(await dex.pool_state(pool), asset)
    return PoolMove(pool.address, before, after, token_in, quote.amount_in, tx_hash)
