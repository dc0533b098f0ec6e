"""``crosslane arb scan``: the arbitrage scanner in the foreground (``python -m workers.scanner``
is the same command, for a stack to start in the background). ``scan`` is a plain command
function so that any ``arb`` group can attach it: ``arb_app.command("scan")(scan)``."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Annotated

import typer

from crosslane.arbitrage_runs import RunStarter, TemporalRunStarter
from crosslane.arbitrage_stream import DEFAULT_STREAM
from crosslane.cli.errors import run_async
from crosslane.client import connect_temporal
from crosslane.config import settings
from crosslane.domain.tx import FeePolicy
from crosslane.embedded.heap import settle_heap
from crosslane.money import to_base_units
from crosslane.registry import configured_registry

app = typer.Typer(help="Cross-venue arbitrage.", no_args_is_help=True)


@run_async
async def scan(
    market: Annotated[
        list[str] | None, typer.Option(help="canonical ASSET/QUOTE, repeatable; default: every joined market")
    ] = None,
    stream: Annotated[
        str, typer.Option(help="loopback host:port the opportunities are published on", envvar="CROSSLANE_ARB_STREAM")
    ] = DEFAULT_STREAM,
    interval: Annotated[float, typer.Option(help="seconds between evaluation passes")] = 1.0,
    max_size: Annotated[str, typer.Option(help="largest size (asset units) pool curves are built for")] = "50",
    min_profit: Annotated[str, typer.Option(help="net profit (quote units) an opportunity needs")] = "0",
    max_exposure: Annotated[str | None, typer.Option(help="largest asset value (quote units) per opportunity")] = None,
    max_book_age_ms: Annotated[int, typer.Option(help="a book older than this is stale")] = 2_000,
    max_pool_age_blocks: Annotated[int, typer.Option(help="pool state this many blocks behind the head is stale")] = 2,
    auto_execute: Annotated[bool, typer.Option(help="start an Arbitrage run for each taken opportunity")] = False,
    cooldown: Annotated[float, typer.Option(help="seconds before the same pair is started again")] = 30.0,
    signer: Annotated[str | None, typer.Option(help="auto-execution: address holding the DEX legs' inventory")] = None,
    max_fee_gwei: Annotated[str, typer.Option(help="auto-execution: the DEX legs' fee cap per gas")] = "100",
    max_loss: Annotated[str, typer.Option(help="auto-execution: loss an unwind may take (quote units)")] = "0",
    cex_inventory: Annotated[
        bool | None,
        typer.Option(
            help="size CEX legs by the account's free balances (read through the fast path); "
            "default: on with --auto-execute"
        ),
    ] = None,
    transfer_mode: Annotated[
        bool, typer.Option(help="also price pools on two chains as buy -> bridge -> sell (bridge fee, price risk)")
    ] = True,
    risk_aversion: Annotated[str, typer.Option(help="transfer mode: weight of the price risk in flight")] = "1",
    fast_lane: Annotated[
        bool,
        typer.Option(
            help="auto-execution: send both legs from this process (signers and ledger as the worker's), "
            "then start the run to adopt them"
        ),
    ] = False,
) -> None:
    """Evaluate every joined pair continuously and publish each opportunity (newline JSON)."""
    from workers.scanner.service import ScannerConfig, serve  # the scanner's feeds load only for this command

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = settings()
    config = ScannerConfig(
        markets=list(market or []),
        stream=stream,
        interval_s=interval,
        max_size=Decimal(max_size),
        min_profit=Decimal(min_profit),
        max_exposure=None if max_exposure is None else Decimal(max_exposure),
        max_book_age_ms=max_book_age_ms,
        max_pool_age_blocks=max_pool_age_blocks,
        auto_execute=auto_execute,
        cooldown_s=cooldown,
        signer=signer,
        fees=FeePolicy(max_fee_per_gas_cap=to_base_units(max_fee_gwei, 9)) if signer else None,
        max_loss=Decimal(max_loss),
        cex_inventory=cex_inventory,
        transfer_mode=transfer_mode,
        risk_aversion=Decimal(risk_aversion),
    )
    starter: RunStarter | None = None
    lane = None
    if auto_execute and fast_lane:
        from activities.arb_fastlane import ArbFastLane  # signing and the ledger load only for the fast lane
        from activities.arbitrage import limits_from_env
        from activities.runtime import ChainRuntime

        lane = ArbFastLane(ChainRuntime.from_settings(cfg), limits_from_env())
        lane.watch()  # each chain's state read again per new head: nothing read from it at detection
    if auto_execute:
        starter = TemporalRunStarter(await connect_temporal(cfg), cfg.task_queue, lane)
        for wf_id in await starter.recover():
            typer.echo(f"started {wf_id}: its legs were sent by a fast lane that stopped before starting it")
    settle_heap()  # what the start loaded is not scanned again mid-detection (crosslane.embedded.heap)
    try:
        await serve(configured_registry(cfg), config, starter)
    finally:
        if lane is not None:
            await lane.close()
            await lane.rt.close()


app.command("scan")(scan)
