"""`crosslane tx send|status|recover`."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosslane.cli.amounts import eth_value, gwei_arg
from crosslane.cli.errors import run_async
from crosslane.cli.runs import follow_run, start_and_follow
from crosslane.cli.tables import table as key_table
from crosslane.client import CrosslaneClient
from crosslane.config import settings
from crosslane.domain.recovery import RecoveryReport, RecoveryRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxRequest, TxResult, TxStatus
from crosslane.money import ETH_DECIMALS, format_amount, format_gwei

app = typer.Typer(help="Send transactions through TransactionLifecycle; inspect, recover.", no_args_is_help=True)
out = Console()


def ui_link(workflow_id: str) -> str:
    cfg = settings()
    return f"http://127.0.0.1:{cfg.ui_port}/namespaces/{cfg.temporal_namespace}/workflows/{workflow_id}"


def attempts_table(status: TxStatus | TxResult) -> Table:
    table = key_table(
        "#", "kind", "tx hash", "max fee", "tip", "broadcast", keys={"tx hash"}, title=f"nonce {status.nonce}"
    )
    for a in status.attempts:
        table.add_row(
            str(a.index),
            a.kind,
            a.tx_hash,
            format_gwei(a.max_fee_per_gas),
            format_gwei(a.max_priority_fee_per_gas),
            a.broadcast or "-",
        )
    return table


async def follow(client: CrosslaneClient, request_id: str) -> TxResult:
    """Await the result with a live line of the workflow's state."""

    async def describe() -> str:
        s = await client.tx_status(request_id)
        return f"{s.state}: {s.detail} ({len(s.attempts)} attempt(s))"

    return await follow_run(out, client.tx_handle(request_id).result(), describe)


@app.command()
@run_async
async def send(
    chain: Annotated[str, typer.Option(help="chain name, e.g. devnet-a")],
    signer: Annotated[str, typer.Option("--from", help="signer address (its key must be loaded in the worker)")],
    to: Annotated[str, typer.Option(help="recipient address (EIP-55 checksummed)")],
    value: Annotated[str | None, typer.Option(help="amount in ETH, e.g. 0.001; default 0")] = None,
    value_wei: Annotated[str | None, typer.Option(help="amount in wei (raw), instead of --value")] = None,
    data: Annotated[str, typer.Option(help="calldata, 0x hex")] = "0x",
    max_fee_gwei: Annotated[str, typer.Option(help="cap on max fee per gas, gwei")] = "100",
    initial_max_fee_gwei: Annotated[str | None, typer.Option(help="first attempt's max fee, gwei")] = None,
    confirmations: Annotated[int, typer.Option(min=1)] = 1,
    replace_after_blocks: Annotated[int, typer.Option(min=1)] = 3,
    cancel_at_cap: Annotated[bool, typer.Option(help="cancel with a self-send at the cap")] = False,
    request_id: Annotated[str | None, typer.Option("--id", help="business key; default: generated")] = None,
    wait: Annotated[bool, typer.Option(help="follow the run until it ends")] = True,
) -> None:
    """Send one transaction and follow it until it is confirmed, cancelled or reverted.

    An --id that ran already is not sent again: its result is shown (exit 0 if it completed)."""
    request = TxRequest(
        request_id=request_id or f"cli-{int(time.time() * 1000)}",
        chain=chain,
        signer=signer,
        to=to,
        value=eth_value(value, value_wei),
        data=data,
        fees=FeePolicy(
            max_fee_per_gas_cap=gwei_arg(max_fee_gwei, "max fee"),
            initial_max_fee_per_gas=None
            if initial_max_fee_gwei is None
            else gwei_arg(initial_max_fee_gwei, "initial max fee"),
        ),
        policy=ReplacementPolicy(
            confirmations=confirmations, replace_after_blocks=replace_after_blocks, cancel_at_cap=cancel_at_cap
        ),
    )
    client = await CrosslaneClient.connect()
    result = await start_and_follow(
        out, request.request_id, client.tx_handle(request.request_id),
        lambda: client.start_tx(request), lambda: follow(client, request.request_id),
        known_id=request_id is not None, wait=wait, ui_url=ui_link(request.workflow_id),
        what=f"{format_amount(request.value, ETH_DECIMALS, 'ETH')} from {request.signer} to {request.to} on {chain}",
    )  # fmt: skip
    if result is None:
        return
    out.print(attempts_table(result))
    colour = "green" if result.outcome == "confirmed" else "yellow"
    fee = format_amount(result.gas_used * result.effective_gas_price, ETH_DECIMALS, "ETH")
    out.print(
        f"[{colour}]{result.outcome}[/]: {result.mined_tx_hash} in block {result.block_number} "
        f"(attempt {result.mined_attempt_index}, gas used {result.gas_used} at "
        f"{format_gwei(result.effective_gas_price)}: {fee})",
        soft_wrap=True,
    )


@app.command()
@run_async
async def status(request_id: Annotated[str, typer.Argument(help="request id or workflow id (tx-...)")]) -> None:
    """Show a lifecycle's state and every attempt."""
    client = await CrosslaneClient.connect()
    s = await client.tx_status(request_id)
    out.print(f"[bold]{s.state}[/] {s.chain} {s.signer}: {s.detail}")
    out.print(attempts_table(s))


@app.command()
@run_async
async def recover(
    chain: Annotated[str, typer.Option()],
    signer: Annotated[str, typer.Option()],
    max_fee_gwei: Annotated[str, typer.Option(help="cap for replacements and gap fills, gwei")] = "200",
    dry_run: Annotated[bool, typer.Option(help="report only")] = False,
) -> None:
    """Sweep a signer for stuck transactions and nonce gaps, and repair them."""
    cap = gwei_arg(max_fee_gwei, "max fee")
    request = RecoveryRequest(chain=chain, signer=signer, max_fee_per_gas_cap=cap, dry_run=dry_run)
    client = await CrosslaneClient.connect()
    handle = await client.start_recovery(request, run_key=str(int(time.time() * 1000)))
    out.print(f"workflow [bold]{handle.id}[/] started: {ui_link(handle.id)}")
    with out.status("sweeping…"):
        report: RecoveryReport = await handle.result()
    out.print(
        f"{chain} {signer}: mined nonce {report.mined_nonce}, pending nonce {report.pending_nonce}, "
        f"base fee {format_gwei(report.base_fee)}"
    )
    if not report.actions:
        out.print("[green]nothing stuck, no gaps[/]")
        return
    table = key_table("nonce", "action", "reason", "outcome", "tx hash", keys={"nonce", "tx hash"})
    for a in report.actions:
        table.add_row(str(a.nonce), a.kind, a.reason, a.outcome or "-", a.mined_tx_hash or "-")
    out.print(table)
