"""`crosslane sol send|status|cancel`: SOL and SPL transfers through SolanaTransaction."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosslane.cli.errors import run_async
from crosslane.cli.follow import follow_run
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.solana import Commitment, PriorityFeePolicy, SolResult, SolStatus, SolTransferRequest

app = typer.Typer(help="Send SOL and SPL tokens through SolanaTransaction; inspect, cancel.", no_args_is_help=True)
out = Console()


def attempts_table(status: SolStatus | SolResult) -> Table:
    table = Table("#", "signature", "valid through height", "CU price (µlamports)", "expired")
    for a in status.attempts:
        expired = "yes" if a.expired else ""
        table.add_row(str(a.index), a.signature, str(a.last_valid_block_height), str(a.unit_price), expired)
    return table


async def follow(client: CrosslaneClient, request_id: str) -> SolResult:
    """Await the result with a live line of the workflow's state."""

    async def describe() -> str:
        s = await client.sol_status(request_id)
        return f"{s.state}: {s.detail}"

    return await follow_run(out, client.sol_handle(request_id).result(), describe)


@app.command()
@run_async
async def send(
    signer: Annotated[str, typer.Option("--from", help="signer wallet (its key must be loaded in the worker)")],
    recipient: Annotated[str, typer.Option("--to", help="recipient wallet (base58, on the ed25519 curve)")],
    amount: Annotated[Decimal, typer.Option(help="human amount, e.g. 1.5 (at most the mint's decimals)")],
    asset: Annotated[str, typer.Option(help='"SOL", a mint symbol (USDC) or a mint address')] = "SOL",
    cluster: Annotated[str, typer.Option(help="Solana cluster name")] = "solana-devnet",
    commitment: Annotated[Commitment | None, typer.Option(help="processed|confirmed|finalized")] = None,
    fee_cap: Annotated[int, typer.Option(help="priority fee cap, micro-lamports per compute unit")] = 1_000_000,
    request_id: Annotated[str | None, typer.Option("--id", help="business key; default: generated")] = None,
    wait: Annotated[bool, typer.Option(help="follow the run until it ends")] = True,
) -> None:
    """Send one transfer and follow it until it is confirmed (re-signed if its blockhash expires)."""
    request = SolTransferRequest(
        request_id=request_id or f"cli-{int(time.time() * 1000)}",
        cluster=cluster,
        signer=signer,
        recipient=recipient,
        asset=asset,
        amount=amount,
        commitment=commitment,
        fees=PriorityFeePolicy(cap_micro_lamports=fee_cap),
    )
    client = await CrosslaneClient.connect()
    await client.start_sol(request)
    out.print(f"workflow [bold]{request.workflow_id}[/] started: {ui_link(request.workflow_id)}")
    if not wait:
        return
    result = await follow(client, request.request_id)
    out.print(attempts_table(result))
    colour = "green" if result.outcome == "confirmed" else "yellow"
    out.print(
        f"[{colour}]{result.outcome}[/]: {result.amount} base units of {result.asset} in {result.signature} "
        f"(slot {result.slot}, {result.commitment}, {len(result.attempts)} attempt(s))"
    )


@app.command()
@run_async
async def status(request_id: Annotated[str, typer.Argument(help="request id or workflow id (sol-...)")]) -> None:
    """Show a transfer's state and every attempt."""
    s = await (await CrosslaneClient.connect()).sol_status(request_id)
    out.print(f"[bold]{s.state}[/] {s.cluster} {s.signer}: {s.detail}")
    out.print(attempts_table(s))


@app.command()
@run_async
async def cancel(request_id: Annotated[str, typer.Argument(help="request id or workflow id (sol-...)")]) -> None:
    """Stop re-signing: the pending attempt still lands or expires, and nothing is sent after it."""
    await (await CrosslaneClient.connect()).sol_handle(request_id).signal("cancel")
    out.print(f"cancel sent to sol-{request_id.removeprefix('sol-')}")
