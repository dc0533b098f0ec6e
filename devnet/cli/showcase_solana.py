"""The showcase's Solana step: SOL and USDC between the devnet's Solana signers through
SolanaTransaction, the SOL one dropped by the node so the run shows a proven expiry and
one re-sign with a fresh blockhash and a higher priority fee."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import aiohttp
from rich.console import Console

from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.solana import SolState, SolTransferRequest
from devnet.solana.accounts import dev_signer_addresses
from devnet.state import DevnetState


async def _drop_next_send(rpc_url: str) -> None:
    """The devnet node's fault switch: the next transaction sent is answered, never executed."""
    async with aiohttp.ClientSession() as http, http.post(f"{rpc_url}/admin/faults", json={"drop_sends": 1}) as resp:
        resp.raise_for_status()


async def solana_step(out: Console, client: CrosslaneClient, devnet: DevnetState, run: str) -> None:
    out.rule("8. SOL and USDC on the Solana devnet through SolanaTransaction (one dropped, re-signed)")
    if devnet.solana is None:
        out.print("  [yellow]the devnet has no Solana node: skipped[/]")
        return
    alice, bob = dev_signer_addresses()[:2]
    requests = [
        SolTransferRequest(request_id=f"demo-{run}-sol", signer=alice, recipient=bob, amount=Decimal("1.5")),
        SolTransferRequest(
            request_id=f"demo-{run}-usdc", signer=alice, recipient=bob, asset="USDC", amount=Decimal("250")
        ),
    ]
    await _drop_next_send(devnet.solana.rpc_url)
    with out.status("waiting for the dropped transaction's blockhash to expire (~10 s), then re-signing…"):
        dropped = await client.start_sol(requests[0])
        # Sent (and dropped) before the USDC one goes out.
        while (await client.sol_status(requests[0].request_id)).state in (SolState.PLANNING, SolState.SIGNING):
            await asyncio.sleep(0.1)
        results = await asyncio.gather(dropped.result(), (await client.start_sol(requests[1])).result())
    for r in results:
        out.print(
            f"  {r.request_id}: {r.outcome}, {r.amount} base units of {r.asset} in slot {r.slot} "
            f"after {len(r.attempts)} attempt(s), {r.signature}",
            soft_wrap=True,
        )
        for a in r.attempts:
            fate = "expired unlanded" if a.expired else "[green]landed[/]"
            line = f"    attempt {a.index}: CU price {a.unit_price} µlamports, {fate}  {a.signature}"
            out.print(line, soft_wrap=True)
    out.print(f"  the re-signed one: {ui_link(requests[0].workflow_id)}")
