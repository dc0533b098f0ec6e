"""The showcase's market steps: a BTC buy split across Binance and OKX through CexOrder (the
fast path places the legs), a USDC -> WETH swap through DexSwap on the route the selector
picks, and a Uniswap V3 position minted with that WETH through DexLiquidity."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Protocol

from rich.console import Console
from rich.table import Table

from connectors.dex import build_dexes
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.evm.client import EvmClient
from crosslane.cli.live import follow_runs
from crosslane.cli.tables import table as key_table
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.cex import CexExecuteInput, CexOrderRequest
from crosslane.domain.chains import ChainConfig
from crosslane.domain.dex import SwapRequest, SwapResult
from crosslane.domain.dex_liquidity import LiquidityRequest, LiquidityResult, V3Mint
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from crosslane.fastpath.client import FastPathClient
from crosslane.money import GWEI, format_amount
from crosslane.routing import Side
from devnet.state import DevnetState

CHAIN = "devnet-a"
FEES = FeePolicy(max_fee_per_gas_cap=100 * GWEI)
POLICY = ReplacementPolicy(poll_interval_ms=100)
POOL_FEE = 3000  # the WETH/USDC 0.3% pool
HALF_RANGE_TICKS = 600  # ~6% either side of the price
CENT = Decimal("0.01")


def _usdt(price: Decimal | None) -> str:
    """An average price for display, to the cent (the exact one is in the run's result)."""
    return "-" if price is None else f"{price.quantize(CENT)}"


class _RunStatus(Protocol):
    @property
    def state(self) -> object: ...

    @property
    def detail(self) -> str: ...


def _state_table(title: str) -> Callable[[Mapping[str, _RunStatus | None]], Table]:
    def render(rows: Mapping[str, _RunStatus | None]) -> Table:
        table = key_table("request", "state", "detail", keys={"request", "state"}, title=title)
        for rid, s in rows.items():
            table.add_row(rid, str(s.state) if s else "starting", s.detail if s else "")
        return table

    return render


async def cex_step(out: Console, client: CrosslaneClient, run: str) -> None:
    out.rule("4. a BTC buy split across Binance and OKX: CexOrder places it through the fast path")
    async with await FastPathClient.connect() as fp:
        for _ in range(50):  # the fast path's books fill from the venues' websockets
            book = await fp.book("BTC/USDT", 5)
            if len({level.venue for level in book.asks}) == 2:
                break
            await asyncio.sleep(0.1)
        quote = await fp.quote("BTC/USDT", Side.BUY, Decimal("2"))
    for leg in quote.legs:
        out.print(f"  planned {leg.venue:<8} {leg.qty} BTC at avg {_usdt(leg.avg_price)} USDT")
    request = CexOrderRequest(
        request_id=f"demo-{run}-btc",
        leg=CexExecuteInput(step="buy", symbol="BTC/USDT", side=Side.BUY, qty=Decimal("2"), kind="ioc"),
    )
    with out.status("CexOrder: the fast path places the legs…"):
        execution = await (await client.start_cex_order(request)).result()
    for child in execution.children:
        out.print(
            f"  {child.venue:<8} {child.state:<8} {child.filled.normalize():f} BTC "
            f"at avg {_usdt(child.avg_price)} USDT (fee {child.fee} {child.fee_currency}), "
            f"client order id {child.client_order_id}",
            soft_wrap=True,
        )
    out.print(
        f"  parent {execution.parent_id}: {execution.filled.normalize():f} of {execution.qty} BTC "
        f"at avg {_usdt(execution.avg_price)} USDT/BTC (quoted {_usdt(quote.avg_price_with_fees)} with fees); "
        "live book: crosslane cex book BTC/USDT --live",
        soft_wrap=True,
    )
    out.print(f"  the run: {ui_link(request.workflow_id)}")


async def current_tick(chain: ChainConfig, token_a: str, token_b: str, fee: int = POOL_FEE) -> tuple[int, int]:
    """The (token_a, token_b, fee) pool's current tick and its tick spacing."""
    evm = EvmClient(chain)
    try:
        dex = build_dexes(evm)["uniswap_v3"]
        assert isinstance(dex, UniswapV3)
        pool = dex.pool_for(chain.tokens[token_a].address, chain.tokens[token_b].address, fee)
        (snapshot,) = await dex.pool_states([pool])
    finally:
        await evm.close()
    assert pool.tick_spacing is not None
    return snapshot.tick, pool.tick_spacing


async def dex_steps(out: Console, client: CrosslaneClient, devnet: DevnetState, signer: str, run: str) -> None:
    chain = devnet.registry().get(CHAIN)
    usdc = chain.tokens["USDC"]

    out.rule(f"5. 6,000 USDC swapped for WETH on {CHAIN} through DexSwap, on the route the selector picks")
    swap = SwapRequest(
        request_id=f"demo-{run}-swap",
        chain=CHAIN,
        signer=signer,
        token_in="USDC",
        token_out="WETH",
        amount=6_000 * 10**usdc.decimals,
        fees=FEES,
        policy=POLICY,
    )
    handle = await client.start_swap(swap)
    (swapped,) = await follow_runs(out, [handle], [swap.request_id], client.swap_status, _state_table("swap"))
    _print_swap(out, swapped)
    out.print(f"  the run: {ui_link(swap.workflow_id)}")

    out.rule("6. that WETH and USDC into a Uniswap V3 position (WETH/USDC 0.3%) through DexLiquidity")
    tick, spacing = await current_tick(chain, "WETH", "USDC")
    centre = tick // spacing * spacing
    position = V3Mint(
        token_a="WETH",
        token_b="USDC",
        fee=POOL_FEE,
        tick_lower=centre - HALF_RANGE_TICKS,
        tick_upper=centre + HALF_RANGE_TICKS,
        amount_a=swapped.amount_out,
        amount_b=6_000 * 10**usdc.decimals,
    )
    mint = LiquidityRequest(
        request_id=f"demo-{run}-lp", chain=CHAIN, owner=signer, operation=position, fees=FEES, policy=POLICY
    )
    handle = await client.start_liquidity(mint)
    (minted,) = await follow_runs(out, [handle], [mint.request_id], client.liquidity_status, _state_table("liquidity"))
    _print_position(out, chain, minted, position, tick)
    out.print(f"  the run: {ui_link(mint.workflow_id)}")
    out.print(f"  the position: crosslane dex positions --owner {signer} --chain {CHAIN}", soft_wrap=True)


def _print_swap(out: Console, r: SwapResult) -> None:
    sold = format_amount(r.amount_in, r.token_in.decimals, r.token_in.symbol)
    bought = format_amount(r.amount_out, r.token_out.decimals, r.token_out.symbol)
    quoted = format_amount(r.quoted_amount_out, r.token_out.decimals, r.token_out.symbol)
    out.print(f"  route {r.route.describe()}: {sold} -> {bought} (quoted {quoted}, {r.vs_quote_bps} bps vs quote)")
    if r.approve_tx_hash:
        out.print(f"  approve {r.approve_tx_hash}", soft_wrap=True)
    out.print(f"  swap    {r.swap_tx_hash} in block {r.block_number}, gas {r.gas_used}", soft_wrap=True)


def _print_position(out: Console, chain: ChainConfig, r: LiquidityResult, op: V3Mint, tick: int) -> None:
    by_address = {t.address.lower(): t for t in chain.tokens.values()}
    token0, token1 = by_address[r.pool.token0.lower()], by_address[r.pool.token1.lower()]
    out.print(
        f"  position #{r.token_id} in {r.pool.address}: ticks [{op.tick_lower}, {op.tick_upper}) "
        f"around tick {tick}, liquidity {r.liquidity}"
    )
    out.print(
        f"  deposited {format_amount(r.amount0, token0.decimals, token0.symbol)} and "
        f"{format_amount(r.amount1, token1.decimals, token1.symbol)}"
    )
    for approval in r.approval_tx_hashes:
        out.print(f"  approve {approval}", soft_wrap=True)
    out.print(f"  mint    {r.tx_hash} in block {r.block_number}, gas {r.gas_used}", soft_wrap=True)
