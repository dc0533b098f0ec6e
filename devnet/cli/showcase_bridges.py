"""The showcase's bridge steps: USDC over Across and Wormhole (devnet-a -> devnet-b), then
through the OP Stack rollup's canonical bridge: deposited devnet-a -> devnet-op and withdrawn
back (initiate, output root, proof against the real portal, the finalization period as a
durable timer, finalize)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from crosslane.cli.live import follow_runs
from crosslane.cli.tables import table as key_table
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.bridge import BridgeRequest, BridgeResult, BridgeRoute, BridgeStatus, RoutePreferences
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from crosslane.money import format_amount
from devnet.opstack.devnet import L1_NAME, L2_NAME
from devnet.state import DevnetState

CAP = 100 * 10**9
USDC = 10**6


def _bridge_table(rows: dict[str, BridgeStatus | None]) -> Table:
    keys = {"request", "route", "state"}
    table = key_table("request", "route", "state", "detail", keys=keys, title="bridge transfers")
    for rid, s in rows.items():
        table.add_row(rid, str(s.route or "") if s else "", s.state if s else "starting", s.detail if s else "")
    return table


async def follow_bridges(out: Console, client: CrosslaneClient, requests: list[BridgeRequest]) -> list[BridgeResult]:
    """Start the transfers and show each one's stage live until all are done."""
    handles = [await client.start_bridge(r) for r in requests]
    return await follow_runs(out, handles, [r.request_id for r in requests], client.bridge_status, _bridge_table)


def _print_results(out: Console, devnet: DevnetState, results: list[BridgeResult]) -> None:
    usdc = devnet.registry().get(L1_NAME).tokens["USDC"]
    for b in results:
        received = format_amount(b.received, usdc.decimals, b.asset)
        out.print(
            f"  {b.request_id} via {b.route}: {b.state}, {received} received by {b.recipient}, "
            f"deposit {b.deposit_tx}, {'redeem' if b.redeemed_by_us else 'fill'} {b.completion_tx}",
            soft_wrap=True,
        )
        out.print(f"    why: {b.reason}", soft_wrap=True)


async def bridge_step(
    out: Console, client: CrosslaneClient, devnet: DevnetState, signers: tuple[str, str], recipient: str, run: str
) -> None:
    alice, bob = signers
    out.rule("7. USDC bridged devnet-a -> devnet-b: the selector's choice, then Wormhole")
    common = {
        "source_chain": "devnet-a", "destination_chain": "devnet-b", "asset": "USDC", "recipient": recipient,
        "fees": FeePolicy(max_fee_per_gas_cap=CAP), "policy": ReplacementPolicy(poll_interval_ms=100),
    }  # fmt: skip
    bridges = [
        BridgeRequest(
            request_id=f"demo-{run}-bridge-urgent",
            amount=250 * USDC,
            signer=bob,
            preferences=RoutePreferences(max_seconds=120),
            **common,
        ),
        BridgeRequest(
            request_id=f"demo-{run}-bridge-wormhole",
            amount=1_000 * USDC,
            signer=alice,
            route=BridgeRoute.WORMHOLE,
            **common,
        ),
    ]
    _print_results(out, devnet, await follow_bridges(out, client, bridges))


async def op_canonical_step(out: Console, client: CrosslaneClient, devnet: DevnetState, signer: str, run: str) -> None:
    """Deposit then withdraw back: the withdrawal waits the rollup's finalization period."""
    out.rule(f"7a. USDC through the OP Stack rollup's canonical bridge: {L1_NAME} -> {L2_NAME} and back")
    if L2_NAME not in devnet.chains:
        out.print(f"  [yellow]the devnet has no {L2_NAME}: skipped[/]")
        return
    seconds = devnet.options.op_finalization_seconds
    common = {
        "asset": "USDC", "signer": signer, "recipient": signer, "route": BridgeRoute.OP_CANONICAL,
        "fees": FeePolicy(max_fee_per_gas_cap=CAP), "policy": ReplacementPolicy(poll_interval_ms=100),
    }  # fmt: skip
    deposit = BridgeRequest(
        request_id=f"demo-{run}-op-deposit", source_chain=L1_NAME, destination_chain=L2_NAME, amount=400 * USDC,
        **common,
    )  # fmt: skip
    withdrawal = BridgeRequest(
        request_id=f"demo-{run}-op-withdrawal", source_chain=L2_NAME, destination_chain=L1_NAME,
        amount=150 * USDC, **common,
    )  # fmt: skip
    results = await follow_bridges(out, client, [deposit])
    out.print(
        f"  withdrawing back: prove, wait the finalization period ({seconds} s here, 7 days on mainnet), finalize"
    )
    results += await follow_bridges(out, client, [withdrawal])
    _print_results(out, devnet, results)
    status = await client.bridge_status(withdrawal.request_id)
    out.print(f"  withdrawal proven at {status.proven_at}, finalizable at {status.finalizable_at}")
    out.print(f"  the withdrawal: {ui_link(withdrawal.workflow_id)}")
