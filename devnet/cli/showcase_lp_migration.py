"""The showcase's LPMigration step: the V3 position DexLiquidity minted (WETH/USDC 0.3%) moved
to the 0.05% pool in a narrower range: fees collected, liquidity removed, NFT burned, the
ratio swap sized with the pool math, the new position minted; values before and after in
USDC, the swap's cost, gas, and where the dust went."""

from __future__ import annotations

from rich.console import Console

from crosslane.cli.live import follow_runs
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.dex_liquidity import LiquidityResult
from crosslane.domain.lp_migration import LPMigrationRequest, MigrationResult, V3PositionSource, V3RangeTarget
from crosslane.money import format_amount
from devnet.cli.showcase_markets import CENT, CHAIN, FEES, POLICY, _state_table, current_tick
from devnet.state import DevnetState

TARGET_FEE = 500  # the WETH/USDC 0.05% pool
TARGET_HALF_RANGE = 300  # ~3% either side of the price


async def lp_migration_step(out: Console, client: CrosslaneClient, devnet: DevnetState, signer: str, run: str) -> None:
    chain = devnet.registry().get(CHAIN)
    minted: LiquidityResult = await client.liquidity_handle(f"demo-{run}-lp").result()
    assert minted.token_id is not None
    out.rule(f"6b. position #{minted.token_id} moved to WETH/USDC 0.05%, a narrower range, through LPMigration")
    tick, spacing = await current_tick(chain, "WETH", "USDC", TARGET_FEE)
    centre = tick // spacing * spacing
    request = LPMigrationRequest(
        request_id=f"demo-{run}-migrate",
        chain=CHAIN,
        owner=signer,
        source=V3PositionSource(token_id=minted.token_id),
        target=V3RangeTarget(
            fee=TARGET_FEE, tick_lower=centre - TARGET_HALF_RANGE, tick_upper=centre + TARGET_HALF_RANGE
        ),
        slippage_bps=100,
        fees=FEES,
        policy=POLICY,
    )
    handle = await client.start_lp_migration(request)
    (moved,) = await follow_runs(
        out, [handle], [request.request_id], client.lp_migration_status, _state_table("migration")
    )
    _print_migration(out, chain.tokens, moved)
    out.print(f"  the run: {ui_link(request.workflow_id)}")


def _print_migration(out: Console, tokens: dict[str, object], r: MigrationResult) -> None:
    by_address = {t.address.lower(): t for t in tokens.values()}  # type: ignore[attr-defined]
    t0, t1 = by_address[r.token0.lower()], by_address[r.token1.lower()]

    def pair(a0: int, a1: int) -> str:
        return f"{format_amount(a0, t0.decimals, t0.symbol)} and {format_amount(a1, t1.decimals, t1.symbol)}"

    out.print(f"  removed {r.source}: {pair(r.removed0, r.removed1)}, fees {pair(r.fees0, r.fees1)}", soft_wrap=True)
    if r.zap_token_in:
        sold, bought = (t0, t1) if r.zap_token_in.lower() == t0.address.lower() else (t1, t0)
        out.print(
            f"  zap swap {format_amount(r.zap_amount_in, sold.decimals, sold.symbol)} -> "
            f"{format_amount(r.zap_amount_out, bought.decimals, bought.symbol)}"
        )
    if r.new_position:
        p = r.new_position
        out.print(
            f"  new position #{p.token_id} in {p.pool}: ticks [{p.tick_lower}, {p.tick_upper}), "
            f"deposited {pair(r.deposited0, r.deposited1)}; dust returned {pair(r.dust0, r.dust1)}",
            soft_wrap=True,
        )
    out.print(
        f"  value {r.value_before.quantize(CENT)} -> {r.value_after.quantize(CENT)} {r.reference} "
        f"(swap and rounding {r.cost.quantize(CENT)}), gas {r.gas_value.quantize(CENT)} {r.reference}; "
        f"steps: {', '.join(leg.step for leg in r.legs)}",
        soft_wrap=True,
    )
