"""`crosslane arb run|pause|resume|status|pnl`: one arbitrage run, the risk controls and
the realised P&L.

``run`` starts an ``Arbitrage`` (inventory mode) from the command line and follows it: a leg
is ``cex:SYMBOL`` (the fast path, e.g. ``cex:ETH/USDT``) or ``CHAIN:DEX`` (``devnet-a:uniswap_v3``);
the kind (cex-cex, cex-dex, dex-dex) follows from the two legs.

The controls live in the ledger, so they hold for every worker and across restarts:
``pause`` stops new runs from starting (runs in flight finish), ``resume`` lifts a pause or
a tripped kill switch. ``status`` shows the controls, or one run's leg-by-leg sub-state;
``pnl`` the day's runs with their expected and realised P&L.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import typer
from rich.console import Console

from crosslane.cli.amounts import gwei_arg
from crosslane.cli.errors import fail, run_async
from crosslane.cli.runs import follow_run, start_and_follow
from crosslane.cli.tables import table
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.arb_steps import CEX, ArbitrageRequest, ArbResult, ArbVenue
from crosslane.domain.tx import FeePolicy
from crosslane.ledger import Ledger
from crosslane.ledger.arbitrage import ArbBook, today

app = typer.Typer(help="Arbitrage: pause, resume, status and realised P&L.", no_args_is_help=True)
out = Console()


def _book() -> ArbBook:
    ledger = Ledger.from_settings()
    ledger.migrate()
    return ArbBook(ledger)


@app.command("pause")
def pause(reason: Annotated[str, typer.Option(help="shown to whoever starts a run")] = "paused by an operator") -> None:
    """No new run starts until `crosslane arb resume`; runs in flight finish."""
    _book().pause(reason)
    out.print(f"arbitrage paused: {reason}", highlight=False)


@app.command("resume")
def resume() -> None:
    """Lift a pause or a tripped kill switch."""
    book = _book()
    was = book.controls()
    book.resume()
    out.print("arbitrage resumed" + (f" (was: {was.reason})" if was.paused else " (was not paused)"), highlight=False)


@app.command("status")
@run_async
async def status(request_id: Annotated[str | None, typer.Argument(help="a run's request id")] = None) -> None:
    """The controls (paused and why, runs in flight, the day's P&L), or one run's legs."""
    if request_id is None:
        controls = await asyncio.to_thread(lambda: _book().controls())
        state = f"[red]paused[/]: {controls.reason}" if controls.paused else "[green]running[/]"
        out.print(f"arbitrage {state}", highlight=False, soft_wrap=True)
        out.print(f"runs in flight: {controls.running}; realised P&L on {controls.day}: {controls.day_pnl}")
        return
    client = await CrosslaneClient.connect()
    st = await client.arbitrage_status(request_id)
    out.print(f"{request_id} ({st.kind}): [bold]{st.state}[/] {st.detail}", highlight=False, soft_wrap=True)
    if st.quote is not None:
        out.print(f"expected profit {st.quote.expected_profit}: {st.quote.reason}", highlight=False)
    legs = table("leg", "state", "detail")
    for leg, state in st.legs.items():
        legs.add_row(leg, str(state), st.leg_detail.get(leg, ""))
    out.print(legs)


@app.command("pnl")
def pnl(day: Annotated[str | None, typer.Option(help="UTC day YYYY-MM-DD; default today")] = None) -> None:
    """Each run of the day: outcome, expected and realised P&L, and its legs."""
    day = day or today()
    runs = _book().runs(day=day, limit=500)
    if not runs:
        out.print(f"no arbitrage runs on {day}")
        return
    rows = table("run", "kind", "size", "state", "expected", "realised", "legs", keys=("run",))
    for r in runs:
        legs = ", ".join(f"{leg['leg']} {leg['state']}" for leg in r.legs)
        rows.add_row(
            r.request_id,
            r.kind,
            f"{r.size} {r.asset}",
            r.state,
            "" if r.expected_profit is None else f"{r.expected_profit} {r.quote}",
            "" if r.realised_profit is None else f"{r.realised_profit} {r.quote}",
            legs,
        )
    out.print(rows)
    total = sum((r.realised_profit or 0 for r in runs), start=0)
    out.print(f"realised on {day}: {total}", highlight=False)


def venue_arg(text: str, leg: str) -> ArbVenue:
    """``cex:ETH/USDT`` or ``devnet-a:uniswap_v3`` as the leg's venue."""
    where, sep, what = text.partition(":")
    if not sep or not where or not what:
        raise fail(f"--{leg} {text!r}: give cex:SYMBOL (cex:ETH/USDT) or CHAIN:DEX (devnet-a:uniswap_v3)", 2)
    if where == CEX:
        return ArbVenue(venue=CEX, symbol=what)
    return ArbVenue(venue=what, chain=where)


@app.command("run")
@run_async
async def run(
    asset: Annotated[str, typer.Option(help="canonical asset traded, e.g. WETH")],
    quote: Annotated[str, typer.Option(help="canonical quote currency, e.g. USDC")],
    size: Annotated[str, typer.Option(help="asset, whole tokens, more than 0")],
    buy: Annotated[str, typer.Option(help="where to buy: cex:SYMBOL or CHAIN:DEX")],
    sell: Annotated[str, typer.Option(help="where to sell: cex:SYMBOL or CHAIN:DEX")],
    min_profit: Annotated[str, typer.Option(help="quote, whole tokens, after fees and gas; 0 or more")],
    max_loss: Annotated[str, typer.Option(help="bound on an unwind's loss, quote whole tokens")] = "0",
    mode: Annotated[
        str, typer.Option(help="inventory (both legs at once) or transfer (buy, bridge, sell)")
    ] = "inventory",
    bridge_route: Annotated[str | None, typer.Option(help="transfer: force one route (wormhole, across)")] = None,
    signer: Annotated[str | None, typer.Option(help="DEX legs: the address holding their inventory")] = None,
    max_fee_gwei: Annotated[str, typer.Option(help="DEX legs: cap on max fee per gas, gwei")] = "100",
    request_id: Annotated[str | None, typer.Option("--id", help="business key; default: generated")] = None,
    wait: Annotated[bool, typer.Option(help="follow the run until it ends")] = True,
) -> None:
    """Buy SIZE of ASSET on one venue and sell it on another (at once from inventory, or
    bridged in between in transfer mode) if it still earns MIN_PROFIT; progress leg by leg,
    then the outcome and the realised P&L."""
    buy_at, sell_at = venue_arg(buy, "buy"), venue_arg(sell, "sell")
    dex = not (buy_at.is_cex and sell_at.is_cex)
    request = ArbitrageRequest.model_validate(
        {
            "request_id": request_id or f"cli-{int(time.time() * 1000)}",
            "mode": mode,
            "bridge_route": bridge_route,
            "asset": asset,
            "quote": quote,
            "size": size,
            "buy": buy_at,
            "sell": sell_at,
            "min_profit": min_profit,
            "max_loss": max_loss,
            "signer": signer,
            "fees": FeePolicy(max_fee_per_gas_cap=gwei_arg(max_fee_gwei, "max fee")) if dex else None,
        }
    )
    client = await CrosslaneClient.connect()

    async def progress() -> str:
        st = await client.arbitrage_status(request.request_id)
        legs = ", ".join(f"{leg} {state}" for leg, state in st.legs.items())
        return f"{st.state}: {st.detail}" + (f" [{legs}]" if legs else "")

    handle = client.arbitrage_handle(request.request_id)
    result = await start_and_follow(
        out, request.request_id, handle,
        lambda: client.start_arbitrage(request), lambda: follow_run(out, handle.result(), progress),
        known_id=request_id is not None, wait=wait, ui_url=ui_link(request.workflow_id),
        what=f"{request.kind}: {request.size} {request.asset}, buy {buy_at.describe()}, sell {sell_at.describe()}",
    )  # fmt: skip
    if result is not None:
        print_result(result)


def print_result(result: ArbResult) -> None:
    colour = {"completed": "green", "aborted": "yellow", "compensated": "red"}[str(result.outcome)]
    out.print(f"[{colour}]{result.outcome}[/]: {result.reason}", highlight=False, soft_wrap=True)
    legs = table("leg", "venue", "state", "asset", "quote", "gas", "detail")
    for leg in result.legs:
        legs.add_row(
            str(leg.leg), leg.venue, str(leg.state), str(leg.asset_delta), str(leg.quote_delta), str(leg.gas_cost),
            leg.detail,
        )  # fmt: skip
    if result.legs:
        out.print(legs)
    expected = "" if result.expected_profit is None else f" (expected {result.expected_profit})"
    out.print(f"realised P&L: {result.realised_profit}{expected}", highlight=False)
    if result.kill_switch:
        out.print(f"[red]{result.kill_switch}[/]", highlight=False, soft_wrap=True)
