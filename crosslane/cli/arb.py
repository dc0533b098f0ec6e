"""`crosslane arb pause|resume|status|pnl`: arbitrage's risk controls and realised P&L.

The controls live in the ledger, so they hold for every worker and across restarts:
``pause`` stops new runs from starting (runs in flight finish), ``resume`` lifts a pause or
a tripped kill switch. ``status`` shows the controls, or one run's leg-by-leg sub-state;
``pnl`` the day's runs with their expected and realised P&L.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from crosslane.cli.errors import run_async
from crosslane.cli.tables import table
from crosslane.client import CrosslaneClient
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
