"""`crosslane schedule compound|list|describe|pause|unpause|trigger|backfill|delete`:
Temporal Schedules that run ``YieldCompound`` on a position at an interval.

    crosslane schedule compound --chain devnet-a --owner 0x… --position sushiswap:masterchef:0 --every 6h
    crosslane schedule list
    temporal schedule describe --schedule-id compound-devnet-a-sushiswap-masterchef-0-70997970

They are plain Temporal schedules: ``temporal schedule list|describe|toggle|trigger|
backfill|delete`` work on them as well, and the UI shows what each compounds (its memo).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console

from connectors.dex.compound_target import check_position
from connectors.evm.client import EvmClient
from crosslane.cli.amounts import gwei_arg
from crosslane.cli.chains import load_chains
from crosslane.cli.errors import fail, run_async
from crosslane.cli.tables import table
from crosslane.client import connect_temporal
from crosslane.config import settings
from crosslane.domain.tx import FeePolicy
from crosslane.domain.yield_compound import CompoundRequest, CompoundSchedule, parse_duration, parse_position
from crosslane.schedules import CompoundSchedules

app = typer.Typer(
    help="Temporal Schedules of YieldCompound: create, list, pause, trigger, backfill.", no_args_is_help=True
)
out = Console()


async def _schedules() -> CompoundSchedules:
    cfg = settings()
    return CompoundSchedules(await connect_temporal(cfg), cfg.task_queue)


def _seconds(text: str, what: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise fail(f"{what}: {exc}", 2) from None


def default_schedule_id(chain: str, owner: str, position_key: str) -> str:
    return f"compound-{chain}-{position_key.replace(':', '-')}-{owner[2:10].lower()}"


async def _check_on_chain(request: CompoundRequest) -> str:
    """Refuse (nothing scheduled) a position the runs could not compound: unknown DEX, farm
    or incentive, LP tokens not staked, NFT not the owner's or not staked."""
    client = EvmClient(load_chains().get(request.chain))
    try:
        return await check_position(client, request.position, request.owner)
    finally:
        await client.close()


@app.command("compound")
@run_async
async def compound(
    chain: Annotated[str, typer.Option(help="chain name, e.g. devnet-a")],
    owner: Annotated[str, typer.Option(help="the position's owner (its key loaded in the worker)")],
    position: Annotated[str, typer.Option(help="[dex:]masterchef:<pid> or [dex:]v3:<token id>[:<incentive>]")],
    every: Annotated[str, typer.Option(help="interval: 90s, 15m, 6h, 1d (at least one minute)")] = "6h",
    jitter: Annotated[str, typer.Option(help="random delay of each run, below the interval")] = "0s",
    catchup_window: Annotated[str, typer.Option(help="missed runs within this are still run")] = "1h",
    gas_fraction: Annotated[str, typer.Option(help="skip when gas > rewards × this")] = "0.5",
    slippage_bps: Annotated[int, typer.Option(help="0-5000")] = 100,
    max_fee_gwei: Annotated[str, typer.Option(help="cap on max fee per gas, gwei")] = "100",
    schedule_id: Annotated[str | None, typer.Option("--id", help="default: from chain, position and owner")] = None,
) -> None:
    """Create a schedule compounding the position every --every (overlapping runs skip), once
    the chain shows the owner's position staked in that farm or incentive."""
    try:
        target = parse_position(position)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    seconds = _seconds(every, "--every")
    sid = schedule_id or default_schedule_id(chain, owner, target.key)
    request = CompoundRequest(
        request_id=sid.removeprefix("compound-")[:48],
        chain=chain,
        owner=owner,
        position=target,
        gas_fraction=Decimal(gas_fraction),
        interval_seconds=seconds,
        slippage_bps=slippage_bps,
        fees=FeePolicy(max_fee_per_gas_cap=gwei_arg(max_fee_gwei, "max fee")),
    )
    spec = CompoundSchedule(
        schedule_id=sid,
        request=request,
        every_seconds=seconds,
        jitter_seconds=_seconds(jitter, "--jitter"),
        catchup_window_seconds=_seconds(catchup_window, "--catchup-window"),
    )
    staked = await _check_on_chain(request)
    schedules = await _schedules()
    await schedules.create(spec)
    out.print(f"schedule [bold]{sid}[/] created: compounds {target.key} every {seconds} s", highlight=False)
    out.print(f"  on chain now: {staked}", highlight=False)
    out.print(f"  temporal schedule describe --schedule-id {sid}", highlight=False)


@app.command("list")
@run_async
async def list_() -> None:
    """Every YieldCompound schedule: what it compounds, paused or not, runs so far."""
    found = await (await _schedules()).list()
    if not found:
        out.print("no compounding schedules")
        return
    rows = table("schedule", "compounds", "state", "runs", "skipped (overlap)", "next run", keys=("schedule",))
    for s in found:
        state = f"paused: {s.note}" if s.paused else "active"
        nxt = s.next_runs[0].isoformat(timespec="seconds") if s.next_runs else "-"
        rows.add_row(s.schedule_id, s.compounds, state, str(s.actions), str(s.skipped_overlap), nxt)
    out.print(rows)


@app.command("describe")
@run_async
async def describe(schedule_id: Annotated[str, typer.Argument()]) -> None:
    """One schedule: what it compounds, its state, its recent runs."""
    s = await (await _schedules()).describe(schedule_id)
    out.print(f"[bold]{s.schedule_id}[/]: {s.compounds}", highlight=False, soft_wrap=True)
    out.print(f"{'paused' if s.paused else 'active'} ({s.note}); runs {s.actions}, skipped {s.skipped_overlap}")
    for run in s.recent_runs:
        out.print(f"  {run}", highlight=False)


@app.command("pause")
@run_async
async def pause(
    schedule_id: Annotated[str, typer.Argument()],
    note: Annotated[str, typer.Option(help="why (shown in the UI)")] = "paused from crosslane",
) -> None:
    """Stop firing (the note says why, in the UI too); runs in flight finish."""
    await (await _schedules()).pause(schedule_id, note)
    out.print(f"{schedule_id} paused: {note}", highlight=False)


@app.command("unpause")
@run_async
async def unpause(
    schedule_id: Annotated[str, typer.Argument()],
    note: Annotated[str, typer.Option()] = "unpaused from crosslane",
) -> None:
    """Fire again at the interval."""
    await (await _schedules()).unpause(schedule_id, note)
    out.print(f"{schedule_id} unpaused", highlight=False)


@app.command("trigger")
@run_async
async def trigger(schedule_id: Annotated[str, typer.Argument()]) -> None:
    """Run now (skipped if a run is still going)."""
    await (await _schedules()).trigger(schedule_id)
    out.print(f"{schedule_id} triggered", highlight=False)


@app.command("backfill")
@run_async
async def backfill(
    schedule_id: Annotated[str, typer.Argument()],
    start: Annotated[str, typer.Option(help="ISO time, e.g. 2026-12-06T00:00:00Z")],
    end: Annotated[str, typer.Option(help="ISO time")],
) -> None:
    """The runs the interval would have fired between --start and --end (overlaps skip)."""
    try:
        start_at, end_at = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (start, end))
    except ValueError as exc:
        raise fail(f"backfill: {exc}", 2) from None
    start_at, end_at = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start_at, end_at))
    if end_at <= start_at:
        raise fail(f"backfill: --end {end} is not after --start {start}", 2)
    await (await _schedules()).backfill(schedule_id, start_at, end_at)
    out.print(f"{schedule_id} backfilled {start_at.isoformat()} – {end_at.isoformat()}", highlight=False)


@app.command("delete")
@run_async
async def delete(schedule_id: Annotated[str, typer.Argument()]) -> None:
    """Remove the schedule (its past runs and ledger rows stay)."""
    await (await _schedules()).delete(schedule_id)
    out.print(f"{schedule_id} deleted", highlight=False)
