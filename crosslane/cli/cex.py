"""`crosslane fastpath`, `crosslane cex book|route|balances`, `crosslane venues health`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from crosslane.cli.amounts import NUMBER_ARGS, quantity_arg
from crosslane.cli.errors import run_async
from crosslane.cli.tables import table as key_table
from crosslane.fastpath.client import FastPathClient
from crosslane.fastpath.protocol import BookView, OrderKind
from crosslane.routing import Side

cex_app = typer.Typer(help="Centralised exchanges through the fast path.", no_args_is_help=True)
venues_app = typer.Typer(help="Venue health.", no_args_is_help=True)
out = Console()


def _book_table(view: BookView) -> Table:
    table = key_table(
        "venue", "bid qty", "bid", "ask", "ask qty", "venue", keys={"venue"}, title=f"{view.symbol} consolidated"
    )
    for i in range(max(len(view.bids), len(view.asks))):
        bid = view.bids[i] if i < len(view.bids) else None
        ask = view.asks[i] if i < len(view.asks) else None
        table.add_row(
            bid.venue if bid else "",
            str(bid.qty) if bid else "",
            f"[green]{bid.price}[/]" if bid else "",
            f"[red]{ask.price}[/]" if ask else "",
            str(ask.qty) if ask else "",
            ask.venue if ask else "",
        )
    table.caption = "  ".join(f"{v}: {s}" for v, s in sorted(view.venues.items()))
    return table


@cex_app.command()
@run_async
async def book(
    symbol: Annotated[str, typer.Argument(help="e.g. BTC/USDT")],
    depth: Annotated[int, typer.Option(min=1, max=100)] = 10,
    live: Annotated[bool, typer.Option(help="keep refreshing until Ctrl-C")] = False,
) -> None:
    """The consolidated book across venues, as the fast path's router sees it."""
    async with await FastPathClient.connect() as fp:
        if not live:
            out.print(_book_table(await fp.book(symbol, depth)))
            return
        first = _book_table(await fp.book(symbol, depth))
        with (
            Live(first, console=out, refresh_per_second=4) as screen,
            contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt),
        ):
            while True:
                await asyncio.sleep(0.25)
                screen.update(_book_table(await fp.book(symbol, depth)))


@cex_app.command(context_settings=NUMBER_ARGS)
@run_async
async def route(
    side: Annotated[Side, typer.Argument(help="buy or sell")],
    quantity: Annotated[str, typer.Argument(metavar="QTY", help="base-currency amount, e.g. 0.5 (BTC)")],
    symbol: Annotated[str, typer.Argument(help="e.g. BTC/USDT")],
    limit_price: Annotated[str | None, typer.Option("--limit", help="limit price")] = None,
    execute: Annotated[bool, typer.Option(help="send the orders (default: quote only)")] = False,
    order_id: Annotated[str | None, typer.Option("--id", help="parent order id (idempotency key)")] = None,
) -> None:
    """Best execution for a size across venues; with --execute, send it (IOC)."""
    qty = quantity_arg(quantity, "quantity")
    limit = None if limit_price is None else quantity_arg(limit_price, "limit price")
    async with await FastPathClient.connect() as fp:
        quote = await fp.quote(symbol, side, qty)
        base, _, quoted = symbol.partition("/")
        table = key_table("venue", "qty", "avg price", "fee", keys={"venue"}, title=f"{side} {qty} {base} ({symbol})")
        for leg in quote.legs:
            table.add_row(leg.venue, f"{leg.qty} {base}", f"{leg.avg_price} {quoted}", str(leg.fee))
        out.print(table)
        out.print(
            f"filled {quote.filled_qty} of {qty} {base}: avg {quote.avg_price} {quoted}, "
            f"with fees {quote.avg_price_with_fees} {quoted}",
            highlight=False,
        )
        for reason in quote.excluded:
            out.print(f"[yellow]not used[/]: {reason}")
        if not execute:
            return
        parent = await fp.route(
            order_id or f"cli-{int(time.time() * 1000)}", symbol, side, qty, kind=OrderKind.IOC, limit_price=limit
        )
        done = key_table(
            "venue", "client order id", "state", "filled", "cost", "fee",
            keys={"venue", "client order id"}, title=parent.parent_id,
        )  # fmt: skip
        for c in parent.children:
            fee = f"{c.fee} {c.fee_currency or ''}".strip()
            done.add_row(c.venue, c.client_order_id, c.state, f"{c.filled} {base}", f"{c.cost} {quoted}", fee)
        out.print(done)


@cex_app.command()
@run_async
async def balances() -> None:
    """Balances on every configured venue (through ccxt, with the account's own keys)."""
    from connectors.cex.credentials import load_credentials
    from connectors.cex.venue import CexVenue
    from workers.fastpath.server import FastPathConfig

    config = FastPathConfig.load()
    table = key_table("venue", "asset", "free", "used", "total", keys={"venue", "asset"})
    for venue_config in config.venues:
        venue = CexVenue(venue_config, load_credentials(venue_config.name, secrets_file=venue_config.secrets_file))
        try:
            held = await venue.balances()
        finally:
            await venue.close()
        for asset, total in sorted((held.get("total") or {}).items()):
            if total and Decimal(str(total)) != 0:
                table.add_row(
                    venue_config.name, asset, str(held["free"].get(asset)), str(held["used"].get(asset)), str(total)
                )
    out.print(table)


@venues_app.command()
@run_async
async def health() -> None:
    """Uptime, API latency percentiles, websocket reconnects, book freshness and the user-data
    stream (fills pushed) per venue."""
    async with await FastPathClient.connect() as fp:
        views = await fp.health()
    table = key_table(
        "venue", "status", "uptime", "calls", "fails", "p50 ms", "p99 ms", "ws reconn.", "book age", "fills stream",
        keys={"venue", "status"},
    )  # fmt: skip
    for v in views:
        colour = {"healthy": "green", "degraded": "yellow"}.get(v.status, "red")
        table.add_row(
            v.venue,
            f"[{colour}]{v.status}[/]",
            f"{v.uptime_s:.0f}s",
            str(v.calls),
            str(v.failures),
            "-" if v.p50_latency_ms is None else f"{v.p50_latency_ms:.2f}",
            "-" if v.p99_latency_ms is None else f"{v.p99_latency_ms:.2f}",
            str(v.ws_reconnects),
            "-" if v.book_age_s is None else f"{v.book_age_s:.1f}s" + (" stale" if v.book_stale else ""),
            v.user_stream + (f" ({v.user_stream_drops} drops)" if v.user_stream_drops else ""),
        )
    out.print(table)
