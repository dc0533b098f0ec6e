"""`crosslane demo`: the embedded stack up, then one run of every workflow Crosslane hosts:
a batch of transfers (TransactionLifecycle), one stuck and replaced, the signer swept
(StuckTxRecovery), a BTC buy split across venues (CexOrder), USDC swapped for WETH (DexSwap),
a Uniswap V3 position minted with it (DexLiquidity) and moved to another pool and range
(LPMigration), USDC bridged over Across and Wormhole (BridgeTransfer), USDC deposited to the
OP Stack rollup devnet-op and withdrawn back through its canonical bridge (BridgeTransfer:
prove, the finalization period, finalize), and SOL and USDC sent on the Solana devnet
(SolanaTransaction).

Everything it starts keeps running so the runs can be explored in the Temporal UI;
`crosslane dev down` stops it.
"""

from __future__ import annotations

import asyncio
import time

from rich.console import Console
from rich.table import Table
from temporalio.client import WorkflowHandle

from crosslane.cli.live import follow_runs
from crosslane.cli.tables import table as key_table
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.config import settings
from crosslane.domain.recovery import RecoveryReport, RecoveryRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxRequest, TxResult, TxState, TxStatus
from crosslane.money import ETH_DECIMALS, GWEI, format_amount, format_gwei
from devnet.cli.showcase_arbitrage import arbitrage_step
from devnet.cli.showcase_bridges import bridge_step, op_canonical_step
from devnet.cli.showcase_cex_transfer import cex_transfer_step
from devnet.cli.showcase_lp_migration import lp_migration_step
from devnet.cli.showcase_markets import cex_step, dex_steps
from devnet.cli.showcase_solana import solana_step
from devnet.cli.showcase_yield import yield_step
from devnet.cli.stack import dev_signers, stack_up
from devnet.mining import hold_base_fee, manual_mining, mine_until, next_base_fee

CAP = 100 * GWEI
TERMINAL = {TxState.CONFIRMED, TxState.CANCELLED, TxState.REVERTED, TxState.FAILED}


def _table(rows: dict[str, TxStatus | None], title: str) -> Table:
    table = key_table("request", "chain", "state", "attempts", "detail", keys={"request", "state"}, title=title)
    for rid, s in rows.items():
        if s is None:
            table.add_row(rid, "", "starting", "", "")
        else:
            colour = "green" if s.state is TxState.CONFIRMED else ("red" if s.state in TERMINAL else "yellow")
            table.add_row(rid, s.chain, f"[{colour}]{s.state}[/]", str(len(s.attempts)), s.detail)
    return table


async def _follow(
    out: Console, client: CrosslaneClient, handles: list[WorkflowHandle[object, TxResult]], title: str
) -> list[TxResult]:
    ids = [h.id.removeprefix("tx-") for h in handles]
    return await follow_runs(out, handles, ids, client.tx_status, lambda rows: _table(rows, title))


async def run_showcase(out: Console) -> None:
    cfg = settings()
    with out.status("starting the embedded stack…") as spinner:
        stack, devnet = await stack_up(cfg, progress=lambda step: spinner.update(f"starting {step}…"))
    out.print(f"[green]stack up[/]: Temporal {stack.temporal_address}, UI {stack.ui_url}")
    client = await CrosslaneClient.connect(cfg)
    run = time.strftime("%m%d%H%M%S")
    alice, bob, carol, dave = dev_signers()

    out.rule("1. a batch of transfers through TransactionLifecycle")
    batch = [
        TxRequest(
            request_id=f"demo-{run}-{i}",
            chain="devnet-a" if i % 2 == 0 else "devnet-b",
            signer=alice if i < 3 else bob,
            to=carol,
            value=(i + 1) * 10**16,
            fees=FeePolicy(max_fee_per_gas_cap=CAP),
            policy=ReplacementPolicy(poll_interval_ms=100),
        )
        for i in range(6)
    ]
    handles = [await client.start_tx(r) for r in batch]
    results = await _follow(out, client, handles, "batch")
    for request, r in zip(batch, results, strict=True):
        out.print(
            f"  {r.request_id} {r.chain}: {format_amount(request.value, ETH_DECIMALS, 'ETH')} {r.outcome}, "
            f"nonce {r.nonce}, block {r.block_number}, {r.mined_tx_hash}",
            soft_wrap=True,
        )

    out.rule("2. a transaction stuck under the base fee, replaced by the workflow")
    anvil = devnet.anvil_url("devnet-a")
    with manual_mining(anvil):
        low = max(next_base_fee(anvil), 1)
        stuck = TxRequest(
            request_id=f"demo-{run}-stuck",
            chain="devnet-a",
            signer=dave,
            to=carol,
            value=10**16,
            fees=FeePolicy(max_fee_per_gas_cap=CAP, initial_max_fee_per_gas=low, initial_max_priority_fee_per_gas=low),
            policy=ReplacementPolicy(replace_after_blocks=2, replace_after_seconds=None, poll_interval_ms=100),
        )
        handle = await client.start_tx(stuck)
        while True:
            s = await client.tx_status(stuck.request_id)
            if s.attempts and s.attempts[0].broadcast:
                break
            await asyncio.sleep(0.1)
        spike = max(50 * low, 5 * GWEI)
        with hold_base_fee(anvil, spike):  # held on every block, so the first attempt can never mine
            out.print(
                f"  sent at max fee {format_gwei(low)}; base fee raised to {format_gwei(spike)}: the tx cannot be mined"
            )
            follow = asyncio.ensure_future(_follow(out, client, [handle], "stuck transfer"))
            await mine_until(follow.done, anvil, 0.5)
            (stuck_result,) = follow.result()
    for a in stuck_result.attempts:
        mark = "[green]mined[/]" if a.tx_hash == stuck_result.mined_tx_hash else "replaced"
        out.print(
            f"  attempt {a.index} {a.kind:<11} max fee {format_gwei(a.max_fee_per_gas):>16}  {a.tx_hash}  {mark}",
            soft_wrap=True,
        )

    out.rule("3. StuckTxRecovery sweeps the signer")
    recovery = await client.start_recovery(
        RecoveryRequest(chain="devnet-a", signer=dave, max_fee_per_gas_cap=CAP), run_key=run
    )
    report: RecoveryReport = await recovery.result()
    out.print(
        f"  {dave} on devnet-a: next nonce {report.mined_nonce}, pending {report.pending_nonce}, "
        f"{len(report.actions)} repair(s) needed"
    )

    await cex_step(out, client, run)
    await dex_steps(out, client, devnet, carol, run)
    await lp_migration_step(out, client, devnet, carol, run)

    await bridge_step(out, client, devnet, (alice, bob), carol, run)
    await op_canonical_step(out, client, devnet, bob, run)

    await cex_transfer_step(out, client, devnet, dave, run)
    await solana_step(out, client, devnet, run)
    await arbitrage_step(out, client, devnet, dave, run)
    await yield_step(out, client, devnet, bob, run)

    out.rule("watch it in the Temporal UI")
    out.print(f"  all runs: {stack.ui_url}/namespaces/{cfg.temporal_namespace}/workflows")
    out.print(f"  the stuck one: {ui_link(stuck.workflow_id)}")
    out.print("  query a run:   .venv/bin/temporal workflow query --type status --workflow-id " + stuck.workflow_id)
    out.print("  the stack keeps running; stop it with: .venv/bin/crosslane dev down")
