"""The showcase's CEX wallet step: USDC withdrawn from the Binance simulator to devnet-a and
deposited back through CexTransfer (the venue's own rules: whitelist, fee, confirmations)."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console

from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.cex_transfer import CexTransferRequest, TransferDirection
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from devnet.cex import admin_client as admin
from devnet.state import DevnetState

ACCOUNT = "acct-binance"  # the devnet's default Binance account
CAP = 100 * 10**9


async def cex_transfer_step(out: Console, client: CrosslaneClient, devnet: DevnetState, signer: str, run: str) -> None:
    out.rule("7b. USDC withdrawn from Binance to devnet-a and deposited back through CexTransfer")
    venue = devnet.cex.get("binance")
    if venue is None:
        out.print("  [yellow]the devnet has no CEX simulators: skipped[/]")
        return
    await admin.credit(venue.rest_url, "USDC", "1000", account=ACCOUNT)  # the demo account's USDC
    await admin.whitelist(venue.rest_url, [signer], account=ACCOUNT)
    common = {"venue": "binance", "asset": "USDC", "chain": "devnet-a", "address": signer}
    extra = {"fees": FeePolicy(max_fee_per_gas_cap=CAP), "policy": ReplacementPolicy(poll_interval_ms=100)}
    with out.status("withdrawing (the venue sends after its processing delay and 2 confirmations), depositing back…"):
        out_request = CexTransferRequest(
            request_id=f"demo-{run}-cex-out", direction=TransferDirection.WITHDRAW, amount=Decimal(100),
            **common, **extra,
        )  # fmt: skip
        withdrawn = await (await client.start_cex_transfer(out_request)).result()
        back_request = CexTransferRequest(
            request_id=f"demo-{run}-cex-back", direction=TransferDirection.DEPOSIT, amount=withdrawn.received,
            **common, **extra,
        )  # fmt: skip
        deposited = await (await client.start_cex_transfer(back_request)).result()
    out.print(
        f"  withdraw {withdrawn.amount} USDC (fee {withdrawn.fee}): {withdrawn.received} arrived at {signer} "
        f"in {withdrawn.tx_hash} (withdrawal {withdrawn.withdrawal_id}, ref {withdrawn.client_ref})",
        soft_wrap=True,
    )
    out.print(
        f"  deposit {deposited.amount} USDC from {signer}: credited {deposited.received} "
        f"(deposit {deposited.deposit_id}) for {deposited.tx_hash}",
        soft_wrap=True,
    )
    out.print(f"  the withdrawal: {ui_link(out_request.workflow_id)}")
