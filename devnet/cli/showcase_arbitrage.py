"""The showcase's arbitrage step: the simulated venues' ETH quotes shifted 2 % below the
devnet-a pools, then one ``Arbitrage`` run buys 0.5 ETH through the fast path and sells 0.5
WETH into the Uniswap V3 pool at once, from inventory on each side; it prints the legs, the
expected and realised P&L, and the balance changes on each venue and on the chain."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from rich.console import Console

from crosslane.cli.tables import table as key_table
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.arb_steps import ArbitrageRequest, ArbVenue
from crosslane.domain.tx import FeePolicy
from crosslane.errors import InvalidRequest
from crosslane.fastpath.client import FastPathClient
from crosslane.money import GWEI
from crosslane.routing import Side
from devnet.anvil import rpc_call
from devnet.cex import admin_client as admin
from devnet.state import DevnetState

CHAIN = "devnet-a"
SYMBOL = "ETH/USDT"
SIZE = Decimal("0.5")
OFFSET_BPS = -200


async def _cex_below_pools(devnet: DevnetState) -> None:
    """Shift every venue's quotes and wait until the fast path's book shows the gap."""
    for venue in devnet.cex.values():
        await admin.market_maker(venue.rest_url, offset_bps=OFFSET_BPS)
    async with await FastPathClient.connect() as fp:
        for _ in range(100):
            try:
                quote = await fp.quote(SYMBOL, Side.BUY, SIZE)
                if quote.avg_price is not None and quote.avg_price < Decimal(2960):
                    return
            except InvalidRequest:  # no book yet
                pass
            await asyncio.sleep(0.1)


async def arbitrage_step(out: Console, client: CrosslaneClient, devnet: DevnetState, signer: str, run: str) -> None:
    out.rule("9. CEX/DEX arbitrage from inventory: buy ETH on the venues, sell WETH on Uniswap V3, at once")
    chain = devnet.registry().get(CHAIN)
    weth = chain.tokens["WETH"]
    rpc_call(chain.rpc_urls[0], "anvil_dealERC20", [signer, weth.address, hex(2 * 10**weth.decimals)])
    await _cex_below_pools(devnet)
    request = ArbitrageRequest(
        request_id=f"demo-{run}-arb",
        asset="WETH",
        quote="USDC",
        size=SIZE,
        buy=ArbVenue(venue="cex", symbol=SYMBOL),
        sell=ArbVenue(venue="uniswap_v3", chain=CHAIN),
        min_profit=Decimal(5),
        max_loss=Decimal(20),
        signer=signer,
        fees=FeePolicy(max_fee_per_gas_cap=100 * GWEI),
    )
    try:
        with out.status("Arbitrage: admit, quote, re-check, both legs…"):
            result = await (await client.start_arbitrage(request)).result()
    finally:
        for venue in devnet.cex.values():
            await admin.market_maker(venue.rest_url, offset_bps=0)
    legs = key_table("leg", "venue", "state", "detail", keys={"leg", "state"})
    for leg in result.legs:
        legs.add_row(str(leg.leg), leg.venue, str(leg.state), leg.detail)
    out.print(legs)
    out.print(
        f"  {result.outcome}: expected {result.expected_profit} {request.quote}, "
        f"realised {result.realised_profit} {request.quote} ({result.reason})",
        soft_wrap=True,
        highlight=False,
    )
    changes = ", ".join(f"{c.place} {c.amount:+} {c.currency}" for c in result.changes)
    out.print(f"  balance changes: {changes}", soft_wrap=True, highlight=False)
    out.print(f"  {ui_link(request.workflow_id)}  (crosslane arb pnl, crosslane arb status {request.request_id})")
