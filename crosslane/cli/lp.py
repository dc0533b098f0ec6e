"""`crosslane lp migrate`: move one liquidity position into a Uniswap V3 range (``LPMigration``).

``--from CHAIN:DEX:POSITION``: a V3 position's token id (``devnet-a:uniswap_v3:7``) or a V2
pair's LP tokens (``devnet-a:sushiswap:WETH/USDC``; those staked in the DEX's MasterChef farm
are withdrawn first, harvesting its reward). ``--to CHAIN:DEX:FEE:TICK_LOWER:TICK_UPPER``:
the new range (``devnet-a:uniswap_v3:500:-199020:-198420``); another chain than the source's
makes it a cross-chain migration. ``--kind`` says what the user means, and must agree.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from crosslane.cli.amounts import gwei_arg
from crosslane.cli.chains import load_chains
from crosslane.cli.errors import fail, run_async
from crosslane.cli.runs import follow_run, start_and_follow
from crosslane.cli.tables import table
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.lp_migration import LPMigrationRequest, MigrationKind, MigrationResult
from crosslane.domain.tx import FeePolicy

app = typer.Typer(help="Liquidity positions: migrate one into a Uniswap V3 range.", no_args_is_help=True)
out = Console()

_INT = re.compile(r"^-?[0-9]+$")
_KIND_SAYS = {
    MigrationKind.V3_TO_V3: "a V3 position (CHAIN:DEX:TOKEN_ID) into a range on the same chain",
    MigrationKind.V2_TO_V3: "V2 LP tokens (CHAIN:DEX:TOKEN_A/TOKEN_B) into a range on the same chain",
    MigrationKind.V2_TO_V3_MIGRATOR: "V2 LP tokens (CHAIN:DEX:TOKEN_A/TOKEN_B) through the V3Migrator, same chain",
    MigrationKind.CROSS_CHAIN: "a position into a range on another chain than the source's",
}


def kind_arg(text: str) -> MigrationKind:
    try:
        return MigrationKind(text)
    except ValueError:
        raise fail(f"--kind {text!r}: give one of {', '.join(k.value for k in MigrationKind)}", 2) from None


def source_arg(text: str, liquidity: int | None) -> tuple[str, dict[str, Any]]:
    """``CHAIN:DEX:TOKEN_ID`` or ``CHAIN:DEX:TOKEN_A/TOKEN_B``: the chain and the source."""
    parts = text.split(":")
    if len(parts) != 3 or not all(parts):
        raise fail(f"--from {text!r}: give CHAIN:DEX:TOKEN_ID (V3) or CHAIN:DEX:TOKEN_A/TOKEN_B (V2 LP)", 2)
    chain, dex, position = parts
    if _INT.match(position):
        if liquidity is not None:
            raise fail("--liquidity is for V2 LP tokens; a V3 position moves whole", 2)
        return chain, {"protocol": "uniswap_v3", "dex": dex, "token_id": int(position)}
    token_a, sep, token_b = position.partition("/")
    if not sep or not token_a or not token_b:
        raise fail(f"--from {text!r}: the position is a token id (7) or a V2 pair (WETH/USDC), not {position!r}", 2)
    source = {"protocol": "uniswap_v2", "dex": dex, "token_a": token_a, "token_b": token_b, "liquidity": liquidity}
    return chain, source


def target_arg(text: str) -> dict[str, Any]:
    """``CHAIN:DEX:FEE:TICK_LOWER:TICK_UPPER`` as the target range."""
    parts = text.split(":")
    if len(parts) != 5 or not all(parts) or not all(_INT.match(p) for p in parts[2:]):
        raise fail(f"--to {text!r}: give CHAIN:DEX:FEE:TICK_LOWER:TICK_UPPER (devnet-a:uniswap_v3:500:-600:600)", 2)
    chain, dex, fee, lower, upper = parts
    return {"chain": chain, "dex": dex, "fee": int(fee), "tick_lower": int(lower), "tick_upper": int(upper)}


def slippage_arg(text: str) -> int:
    if not _INT.match(text):
        raise fail(f"--slippage-bps {text!r}: give a whole number of basis points, 0-5000 (100 = 1%)", 2)
    return int(text)


@app.command("migrate")
@run_async
async def migrate(
    kind: Annotated[str, typer.Option(help="v3_to_v3, v2_to_v3, v2_to_v3_migrator or cross_chain")],
    source: Annotated[str, typer.Option("--from", help="CHAIN:DEX:TOKEN_ID (V3) or CHAIN:DEX:TOKEN_A/TOKEN_B (V2)")],
    target: Annotated[str, typer.Option("--to", help="CHAIN:DEX:FEE:TICK_LOWER:TICK_UPPER")],
    owner: Annotated[str, typer.Option(help="the address owning the position; it signs every step")],
    slippage_bps: Annotated[str, typer.Option(help="every step's min amounts this far under expected")] = "100",
    liquidity: Annotated[int | None, typer.Option(help="V2: LP base units to move; default all")] = None,
    restake: Annotated[bool, typer.Option(help="stake the new position again if the old one was staked")] = True,
    bridge_route: Annotated[str | None, typer.Option(help="cross_chain: force one route (across)")] = None,
    max_fee_gwei: Annotated[str, typer.Option(help="cap on max fee per gas, gwei")] = "100",
    request_id: Annotated[str | None, typer.Option("--id", help="business key; default: generated")] = None,
    wait: Annotated[bool, typer.Option(help="follow the run until it ends")] = True,
) -> None:
    """Move one position (V3 NFT, or V2 LP tokens, staked or not) into a V3 range: progress step
    by step, then what moved, the new position, the reward harvested, the value and the cost."""
    wanted = kind_arg(kind)
    chain, source_spec = source_arg(source, liquidity)
    target_spec = target_arg(target)
    if target_spec["chain"] == chain:
        target_spec["chain"] = None
    request = LPMigrationRequest.model_validate(
        {
            "request_id": request_id or f"cli-{int(time.time() * 1000)}",
            "chain": chain,
            "owner": owner,
            "source": source_spec,
            "target": target_spec,
            "via_migrator": wanted is MigrationKind.V2_TO_V3_MIGRATOR,
            "slippage_bps": slippage_arg(slippage_bps),
            "restake": restake,
            "bridge_route": bridge_route,
            "fees": FeePolicy(max_fee_per_gas_cap=gwei_arg(max_fee_gwei, "max fee")),
        }
    )
    if request.kind is not wanted:
        raise fail(f"--kind {wanted} moves {_KIND_SAYS[wanted]}; --from/--to describe {request.kind}", 2)
    client = await CrosslaneClient.connect()

    async def progress() -> str:
        st = await client.lp_migration_status(request.request_id)
        return f"{st.state}: {st.detail}" + (f" [{', '.join(st.steps)}]" if st.steps else "")

    handle = client.lp_migration_handle(request.request_id)
    result = await start_and_follow(
        out, request.request_id, handle,
        lambda: client.start_lp_migration(request), lambda: follow_run(out, handle.result(), progress),
        known_id=request_id is not None, wait=wait, ui_url=ui_link(request.workflow_id),
        what=f"{request.kind}: {source} -> {target}, slippage {request.slippage_bps} bps",
    )  # fmt: skip
    if result is not None:
        print_result(result)


def _amounts(result: MigrationResult) -> Callable[[str, int, str | None], str]:
    """``amount`` of ``token`` (an address on ``chain``) in whole tokens with its symbol, from
    the registry; base units and the address when the registry does not list it."""
    chains = load_chains()

    def shown(token: str, amount: int, chain: str | None = None) -> str:
        config = chains.chains.get(chain or result.target_chain or result.chain)
        info = next((t for t in (config.tokens.values() if config else []) if t.address.lower() == token.lower()), None)
        return f"{amount} of {token}" if info is None else info.amount_text(amount)

    return shown


def print_result(result: MigrationResult) -> None:
    colour = "green" if result.outcome == "migrated" else "red"
    out.print(f"[{colour}]{result.outcome}[/] ({result.kind}): {result.source}", highlight=False, soft_wrap=True)
    amount = _amounts(result)
    new = result.new_position
    if new is not None:
        out.print(
            f"new position {new.token_id} in {new.pool} (fee {new.fee}, ticks {new.tick_lower} to {new.tick_upper}), "
            f"liquidity {new.liquidity}, held by {new.holder}",
            highlight=False,
            soft_wrap=True,
        )
    rows = table("", "token0", "token1")
    for what, a0, a1 in (
        ("removed", result.removed0, result.removed1),
        ("fees collected", result.fees0, result.fees1),
        ("deposited", result.deposited0, result.deposited1),
        ("dust returned", result.dust0, result.dust1),
    ):
        rows.add_row(what, amount(result.token0, a0, None), amount(result.token1, a1, None))
    out.print(rows)
    if result.farm_reward_token is not None:
        reward = amount(result.farm_reward_token, result.farm_reward, result.chain)
        out.print(f"farm reward harvested to the owner: {reward}", highlight=False)
    if result.restake_note:
        out.print(result.restake_note, highlight=False, soft_wrap=True)
    out.print(
        f"value {result.value_before:.6f} -> {result.value_after:.6f} {result.reference}; cost {result.cost:.6f}, "
        f"gas {result.gas_value:.6f} {result.reference}",
        highlight=False,
        soft_wrap=True,
    )
    out.print(f"tokens: {result.where_tokens_are}", highlight=False, soft_wrap=True)
