"""`crosslane sol send|status|cancel`: SOL and SPL transfers through SolanaTransaction."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crosslane.cli.amounts import quantity_arg
from crosslane.cli.errors import run_async
from crosslane.cli.runs import follow_run, start_and_follow
from crosslane.cli.tables import table as key_table
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.solana import Commitment, PriorityFeePolicy, SolResult, SolStatus, SolTransferRequest
from crosslane.money import format_amount

app = typer.Typer(help="Send SOL and SPL tokens through SolanaTransaction; inspect, cancel.", no_args_is_help=True)
out = Console()


def attempts_table(status: SolStatus | SolResult) -> Table:
    table = key_table("#", "signature", "valid through height", "CU price (µlamports)", "expired", keys={"signature"})
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
    amount: Annotated[str, typer.Option(help="whole tokens, e.g. 1.5 (at most the mint's decimals)")],
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
        amount=quantity_arg(amount, "amount"),
        commitment=commitment,
        fees=PriorityFeePolicy(cap_micro_lamports=fee_cap),
    )
    client = await CrosslaneClient.connect()
    result = await start_and_follow(
        out, request.request_id, client.sol_handle(request.request_id),
        lambda: client.start_sol(request), lambda: follow(client, request.request_id),
        known_id=request_id is not None, wait=wait, ui_url=ui_link(request.workflow_id),
        what=f"{amount} {asset} from {signer} to {recipient} on {cluster}",
    )  # fmt: skip
    if result is None:
        return
    out.print(attempts_table(result))
    colour = "green" if result.outcome == "confirmed" else "yellow"
    out.print(
        f"[{colour}]{result.outcome}[/]: {format_amount(result.amount, result.decimals, result.asset)} "
        f"in {result.signature} (slot {result.slot}, {result.commitment}, {len(result.attempts)} attempt(s))",
        soft_wrap=True,
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
