"""`crosslane dex positions`: an owner's liquidity, read straight from the chains.

V2: the LP balance in every pair of the chain's known tokens (and the deployment's listed
pools), with the share of the pair and what a burn would pay now. V3: every position NFT
the owner holds (balanceOf / tokenOfOwnerByIndex / positions through Multicall3) with its
range, liquidity, current amounts and uncollected fees (computed exactly from the pool's
fee growth: what ``collect`` would pay now).

Reads only: no Temporal, no worker. ``register(app)`` adds the command to a Typer app.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import Annotated, Any

import typer
from eth_utils.address import is_address, to_checksum_address
from rich.console import Console
from rich.table import Table

from connectors.dex import build_dexes
from connectors.dex.base import Pool
from connectors.dex.uniswap_v2 import UniswapV2
from connectors.dex.uniswap_v2.liquidity import PairLiquidity
from connectors.dex.uniswap_v2.lp import UniswapV2Liquidity
from connectors.dex.uniswap_v3 import UniswapV3
from connectors.dex.uniswap_v3.positions import UniswapV3Positions, V3Position
from connectors.evm.client import EvmClient
from crosslane.cli.chains import load_chains
from crosslane.cli.errors import fail, run_async
from crosslane.domain.chains import ChainConfig, ChainRegistry
from crosslane.money import from_base_units_compact

out = Console()
LP_DECIMALS = 18


def register(app: typer.Typer) -> None:
    """Add ``positions`` to ``app`` (the ``crosslane dex`` group)."""
    app.command("positions")(positions)


@dataclass(frozen=True)
class _Tokens:
    """Symbols and decimals of one chain's known tokens, by address."""

    chain: ChainConfig

    def symbol(self, address: str) -> str:
        for token in self.chain.tokens.values():
            if token.address == address:
                return token.symbol
        return address[:10]

    def decimals(self, address: str) -> int | None:
        for token in self.chain.tokens.values():
            if token.address == address:
                return token.decimals
        return None

    def amount(self, address: str, base_units: int) -> str:
        decimals = self.decimals(address)
        if decimals is None:
            return f"{base_units} (base units)"
        return f"{from_base_units_compact(base_units, decimals):f}"

    def pool_label(self, pool: Pool) -> str:
        fee = f"{Decimal(pool.fee).scaleb(-4).normalize():f}%"
        return f"{self.symbol(pool.token0)}/{self.symbol(pool.token1)} {fee}"


def _v2_candidates(chain: ChainConfig, dex_name: str, v2: UniswapV2Liquidity) -> list[Pool]:
    """Every pair of the chain's known tokens, plus the deployment's listed pools."""
    pools = {}
    addresses = sorted({t.address for t in chain.tokens.values()})
    for a, b in combinations(addresses, 2):
        pool = v2.pool_for(a, b)
        pools[pool.address] = pool
    for info in chain.dexes[dex_name].pools:
        pool = v2.pool_for(info.token0, info.token1)
        pools.setdefault(pool.address, pool)
    return list(pools.values())


def _v2_row(chain: str, dex: str, pair: PairLiquidity, tokens: _Tokens) -> dict[str, Any]:
    amount0, amount1 = pair.owner_amounts
    return {
        "chain": chain,
        "dex": dex,
        "kind": "v2_lp",
        "pool": pair.pool.address,
        "label": tokens.pool_label(pair.pool),
        "token0": pair.pool.token0,
        "token1": pair.pool.token1,
        "lp_balance": pair.owner_lp,
        "lp_supply": pair.supply_after_fee,
        "amount0": amount0,
        "amount1": amount1,
        "block_number": pair.block_number,
    }


def _v3_row(chain: str, dex: str, p: V3Position, tokens: _Tokens) -> dict[str, Any]:
    return {
        "chain": chain,
        "dex": dex,
        "kind": "v3_position",
        "token_id": p.token_id,
        "pool": p.pool.address,
        "label": tokens.pool_label(p.pool),
        "token0": p.pool.token0,
        "token1": p.pool.token1,
        "tick_lower": p.tick_lower,
        "tick_upper": p.tick_upper,
        "tick": p.tick,
        "in_range": p.in_range,
        "liquidity": p.liquidity,
        "amount0": p.amount0,
        "amount1": p.amount1,
        "uncollected0": p.uncollected0,
        "uncollected1": p.uncollected1,
        "block_number": p.block_number,
    }


async def read_positions(
    registry: ChainRegistry, owner: str, chains: list[str] | None = None, dex: str | None = None
) -> list[dict[str, Any]]:
    """Rows (base units) for every V2 LP balance and V3 position ``owner`` holds."""
    rows: list[dict[str, Any]] = []
    names = chains or sorted(registry.chains)
    for name in names:
        chain = registry.get(name)
        tokens = _Tokens(chain)
        client = EvmClient(chain)
        try:
            for dex_name, adapter in build_dexes(client).items():
                if dex is not None and dex_name != dex:
                    continue
                if isinstance(adapter, UniswapV2):
                    v2 = UniswapV2Liquidity(adapter)
                    for pair in await v2.positions(owner, _v2_candidates(chain, dex_name, v2)):
                        rows.append(_v2_row(name, dex_name, pair, tokens))
                elif isinstance(adapter, UniswapV3) and adapter.config.position_manager is not None:
                    for position in await UniswapV3Positions(adapter).owned(owner):
                        rows.append(_v3_row(name, dex_name, position, tokens))
        finally:
            await client.close()
    return rows


def _print(rows: list[dict[str, Any]], registry: ChainRegistry, owner: str) -> None:
    v2 = [r for r in rows if r["kind"] == "v2_lp"]
    v3 = [r for r in rows if r["kind"] == "v3_position"]
    if not rows:
        out.print(f"{owner} holds no liquidity positions")
        return
    if v2:
        table = Table("chain", "dex", "pair", "LP tokens", "share", "amount0", "amount1", title="V2 LP tokens")
        for r in v2:
            tokens = _Tokens(registry.get(r["chain"]))
            share = Decimal(r["lp_balance"] * 100) / Decimal(r["lp_supply"]) if r["lp_supply"] else Decimal(0)
            table.add_row(
                r["chain"],
                r["dex"],
                r["label"],
                f"{from_base_units_compact(r['lp_balance'], LP_DECIMALS):f}",
                f"{share:.4f}%",
                f"{tokens.amount(r['token0'], r['amount0'])} {tokens.symbol(r['token0'])}",
                f"{tokens.amount(r['token1'], r['amount1'])} {tokens.symbol(r['token1'])}",
            )
        out.print(table)
    if v3:
        table = Table(
            "chain", "dex", "id", "pool", "range", "liquidity", "amounts", "uncollected", title="V3 positions"
        )
        for r in v3:
            tokens = _Tokens(registry.get(r["chain"]))
            sym0, sym1 = tokens.symbol(r["token0"]), tokens.symbol(r["token1"])
            where = "[green]in range[/]" if r["in_range"] else "[yellow]out of range[/]"
            table.add_row(
                r["chain"],
                r["dex"],
                str(r["token_id"]),
                r["label"],
                f"[{r['tick_lower']}, {r['tick_upper']}) tick {r['tick']} {where}",
                str(r["liquidity"]),
                f"{tokens.amount(r['token0'], r['amount0'])} {sym0}\n{tokens.amount(r['token1'], r['amount1'])} {sym1}",
                f"{tokens.amount(r['token0'], r['uncollected0'])} {sym0}\n"
                f"{tokens.amount(r['token1'], r['uncollected1'])} {sym1}",
            )
        out.print(table)


@run_async
async def positions(
    owner: Annotated[str, typer.Option(help="address whose liquidity to show")],
    chain: Annotated[list[str] | None, typer.Option(help="chain name (repeatable); default: every chain")] = None,
    dex: Annotated[str | None, typer.Option(help="one deployment by name, e.g. uniswap_v3")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON document, amounts in base units")] = False,
) -> None:
    """V2 LP balances and V3 positions of OWNER: amounts now and uncollected fees."""
    if not is_address(owner):
        raise fail(f"not an address: {owner!r}", 2)
    owner = to_checksum_address(owner)
    registry = load_chains()
    rows = await read_positions(registry, owner, chain, dex)
    if as_json:
        print(json.dumps({"owner": owner, "positions": rows}, indent=2))
        return
    _print(rows, registry, owner)
