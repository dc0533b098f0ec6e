"""`crosslane dex quote|swap|pools` (and `positions`, from crosslane.cli.dex_positions).

``quote`` and ``pools`` read the chain directly (the off-chain engine, no worker needed);
``swap`` starts a ``DexSwap`` workflow and follows it. Amounts on the command line are in
whole tokens (``1.5`` WETH), converted exactly to base units by the token's decimals.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console

from connectors.dex.base import PoolState
from connectors.dex.pricing import mid_price
from connectors.dex.routing import PricedRoute, RouteFinder
from connectors.dex.swap_plan import check_sandwich, quote_swap
from connectors.dex.tokens import resolve_token
from connectors.dex.uniswap_v2 import PairState
from connectors.dex.uniswap_v3 import PoolSnapshot
from connectors.evm.client import EvmClient
from crosslane.cli import dex_positions
from crosslane.cli.amounts import amount_arg, gwei_arg
from crosslane.cli.chains import load_chains
from crosslane.cli.errors import run_async
from crosslane.cli.runs import start_and_follow
from crosslane.cli.tables import table as key_table
from crosslane.cli.tx import ui_link
from crosslane.client import CrosslaneClient
from crosslane.domain.chains import ChainConfig, TokenInfo
from crosslane.domain.dex import (
    DEFAULT_MAX_SANDWICH_BPS,
    DEFAULT_SLIPPAGE_BPS,
    ApprovalMode,
    HopFill,
    SwapQuote,
    SwapRequest,
    SwapResult,
    TradeType,
)
from crosslane.domain.tx import FeePolicy
from crosslane.money import ETH_DECIMALS, format_amount, format_gwei

app = typer.Typer(help="DEX swaps: quotes, swaps through DexSwap, pools.", no_args_is_help=True)
dex_positions.register(app)
out = Console()


def _chain(name: str) -> ChainConfig:
    return load_chains().get(name)


def _amount(text: str, token: TokenInfo) -> int:
    return amount_arg(text, token.decimals, "amount", token.symbol)


def _human(amount: int | None, token: TokenInfo) -> str:
    return "-" if amount is None else format_amount(amount, token.decimals, token.symbol)


def _route(q: PricedRoute, symbols: dict[str, str]) -> str:
    parts = [symbols.get(q.route.path[0], q.route.path[0][:8])]
    for pool, token in zip(q.route.pools, q.route.path[1:], strict=True):
        parts.append(f"-({Decimal(pool.fee).scaleb(-4).normalize():f}%)-> {symbols.get(token, token[:8])}")
    return " ".join(parts)


def _quote_summary(quote: SwapQuote) -> str:
    t_in, t_out = quote.token_in, quote.token_out
    limit = "min out" if quote.trade_type is TradeType.EXACT_IN else "max in"
    limit_token = t_out if quote.trade_type is TradeType.EXACT_IN else t_in
    sandwich = quote.sandwich
    return (
        f"[bold]{_human(quote.amount_in, t_in)} -> {_human(quote.amount_out, t_out)}[/] "
        f"via {quote.route.describe()} "
        f"(block {quote.block_number})\n"
        f"  {limit} {_human(quote.limit, limit_token)}; impact {quote.price_impact_bps} bps "
        f"(LP fees {quote.lp_fee_bps}, size {quote.slippage_bps}); "
        f"gas ~{quote.gas_estimate} = {_human(quote.gas_cost_in_output, t_out)}\n"
        f"  sandwich exposure {sandwich.profit_bps} bps"
        + (f" (bound {sandwich.bound_bps})" if sandwich.enforced else " (not enforced)")
    )


@app.command()
@run_async
async def quote(
    chain: Annotated[str, typer.Option(help="chain name, e.g. devnet-a")],
    token_in: Annotated[str, typer.Option("--in", help="token sold: symbol or address")],
    token_out: Annotated[str, typer.Option("--out", help="token bought: symbol or address")],
    amount: Annotated[str, typer.Option(help="whole tokens: of --in, or of --out with --exact-out")],
    exact_out: Annotated[bool, typer.Option(help="buy exactly --amount of --out")] = False,
    slippage_bps: Annotated[int, typer.Option(min=0, max=5000)] = DEFAULT_SLIPPAGE_BPS,
    dex: Annotated[list[str] | None, typer.Option(help="only these deployments (repeatable)")] = None,
    max_hops: Annotated[int, typer.Option(min=1, max=2)] = 2,
    max_sandwich_bps: Annotated[int, typer.Option(min=0, max=5000)] = DEFAULT_MAX_SANDWICH_BPS,
) -> None:
    """Best route and every candidate, quoted off-chain to the wei (no worker needed)."""
    client = EvmClient(_chain(chain))
    try:
        t_in, t_out = await asyncio.gather(resolve_token(client, token_in), resolve_token(client, token_out))
        trade_type = TradeType.EXACT_OUT if exact_out else TradeType.EXACT_IN
        base = _amount(amount, t_out if exact_out else t_in)
        finder = RouteFinder(client)
        started = time.perf_counter()
        best, selection = await quote_swap(
            finder, t_in, t_out, trade_type, base,
            slippage_bps=slippage_bps, max_hops=max_hops, dex_names=dex, max_sandwich_bps=max_sandwich_bps,
        )  # fmt: skip
        elapsed_ms = (time.perf_counter() - started) * 1000
    finally:
        await client.close()
    symbols = {t_in.address: t_in.symbol, t_out.address: t_out.symbol, finder.weth: "WETH"}
    table = key_table(
        "#", "dex", "route", "in", "out", "impact bps", "size bps", "gas", "gas in out", keys={"dex"}, title="routes"
    )
    for i, q in enumerate(selection.quotes):
        table.add_row(
            str(i + 1), q.route.dex, _route(q, symbols), _human(q.amount_in, t_in), _human(q.amount_out, t_out),
            str(q.price_impact_bps), str(q.slippage_bps), str(q.gas_estimate), _human(q.gas_cost_in_output, t_out),
        )  # fmt: skip
    out.print(table)
    out.print(_quote_summary(best))
    out.print(f"  {selection.candidates} candidate routes, {len(selection.quotes)} fillable, {elapsed_ms:.0f} ms")
    try:
        check_sandwich(best, slippage_bps)
    except Exception as exc:  # noqa: BLE001 - shown, not raised: a quote only informs
        out.print(f"[yellow]a public swap would be refused:[/] {exc}")


@app.command()
@run_async
async def swap(
    chain: Annotated[str, typer.Option(help="chain name, e.g. devnet-a")],
    signer: Annotated[str, typer.Option("--from", help="signer address (its key must be loaded in the worker)")],
    token_in: Annotated[str, typer.Option("--in", help="token sold: symbol or address")],
    token_out: Annotated[str, typer.Option("--out", help="token bought: symbol or address")],
    amount: Annotated[str, typer.Option(help="whole tokens: of --in, or of --out with --exact-out")],
    exact_out: Annotated[bool, typer.Option(help="buy exactly --amount of --out")] = False,
    slippage_bps: Annotated[int, typer.Option(help="0-5000")] = DEFAULT_SLIPPAGE_BPS,
    deadline_seconds: Annotated[int, typer.Option(min=1, help="the swap must be mined within this")] = 600,
    recipient: Annotated[str | None, typer.Option(help="who receives --out; default: the signer")] = None,
    dex: Annotated[list[str] | None, typer.Option(help="only these deployments (repeatable)")] = None,
    max_hops: Annotated[int, typer.Option(min=1, max=2)] = 2,
    protected: Annotated[bool, typer.Option(help="send through the chain's private relay")] = False,
    unlimited_approval: Annotated[bool, typer.Option(help="approve 2**256-1 instead of this swap's need")] = False,
    max_fee_gwei: Annotated[str, typer.Option(help="cap on max fee per gas, gwei")] = "100",
    request_id: Annotated[str | None, typer.Option("--id", help="business key; default: generated")] = None,
    wait: Annotated[bool, typer.Option(help="follow the run until it ends")] = True,
) -> None:
    """Swap through DexSwap: quote, approve if needed, swap, settle from the receipt."""
    chain_config = _chain(chain)
    client = EvmClient(chain_config)
    try:
        t_in, t_out = await asyncio.gather(resolve_token(client, token_in), resolve_token(client, token_out))
    finally:
        await client.close()
    request = SwapRequest(
        request_id=request_id or f"cli-{int(time.time() * 1000)}",
        chain=chain,
        signer=signer,
        token_in=t_in.symbol if t_in.symbol in chain_config.tokens else t_in.address,
        token_out=t_out.symbol if t_out.symbol in chain_config.tokens else t_out.address,
        trade_type=TradeType.EXACT_OUT if exact_out else TradeType.EXACT_IN,
        amount=_amount(amount, t_out if exact_out else t_in),
        slippage_bps=slippage_bps,
        deadline=int(time.time()) + deadline_seconds,
        recipient=recipient,
        dexes=dex,
        max_hops=max_hops,
        approval=ApprovalMode.UNLIMITED if unlimited_approval else ApprovalMode.EXACT,
        protected=protected,
        fees=FeePolicy(max_fee_per_gas_cap=gwei_arg(max_fee_gwei, "max fee")),
    )
    crosslane = await CrosslaneClient.connect()
    result = await start_and_follow(
        out, request.request_id, crosslane.swap_handle(request.request_id),
        lambda: crosslane.start_swap(request), lambda: _follow(crosslane, request.request_id),
        known_id=request_id is not None, wait=wait, ui_url=ui_link(request.workflow_id),
    )  # fmt: skip
    if result is not None:
        _print_result(result)


async def _follow(client: CrosslaneClient, request_id: str) -> SwapResult:
    """Await the result with a live line of the workflow's state."""
    handle = client.swap_handle(request_id)
    result_task = asyncio.ensure_future(handle.result())
    shown_quote = False
    with out.status("starting…") as spinner:
        while not result_task.done():
            try:
                s = await client.swap_status(request_id)
                if s.quote is not None and not shown_quote:
                    out.print(_quote_summary(s.quote))
                    shown_quote = True
                spinner.update(f"{s.state}: {s.detail}")
            except Exception:  # noqa: BLE001 - the query races the run's start; keep showing the spinner
                pass
            await asyncio.wait({result_task}, timeout=0.3)
    return result_task.result()


def _fill_amounts(fill: HopFill, tokens: dict[str, TokenInfo]) -> tuple[str, str]:
    """A hop's in and out in whole tokens (base units where the token is not in the registry)."""

    def human(amount: int, address: str) -> str:
        token = tokens.get(address.lower())
        return format_amount(amount, token.decimals, token.symbol) if token else f"{amount} base units of {address}"

    return human(fill.amount_in, fill.token_in), human(fill.amount_out, fill.token_out)


def _print_result(result: SwapResult) -> None:
    t_in, t_out = result.token_in, result.token_out
    out.print(
        f"[green]settled[/]: {_human(result.amount_in, t_in)} -> {_human(result.amount_out, t_out)} "
        f"(quoted {_human(result.quoted_amount_out if result.trade_type is TradeType.EXACT_IN else result.quoted_amount_in, t_out if result.trade_type is TradeType.EXACT_IN else t_in)}, "  # noqa: E501
        f"{result.vs_quote_bps} bps vs quote) in block {result.block_number}"
    )
    known = [*_chain(result.chain).tokens.values(), result.token_in, result.token_out]
    tokens = {t.address.lower(): t for t in known}
    table = key_table("pool", "in", "out", keys={"pool"}, title="fills (from the receipt's Swap events)")
    for fill in result.fills:
        table.add_row(fill.pool, *_fill_amounts(fill, tokens))
    out.print(table)
    if result.approve_tx_hash:
        out.print(f"approval {result.approve_tx_hash}")
    fee = format_amount(result.gas_used * result.effective_gas_price, ETH_DECIMALS, "ETH")
    out.print(
        f"swap {result.swap_tx_hash}: gas used {result.gas_used} at {format_gwei(result.effective_gas_price)}: {fee}",
        soft_wrap=True,
    )


@app.command()
@run_async
async def pools(
    chain: Annotated[str, typer.Option(help="chain name, e.g. devnet-a")],
    dex: Annotated[str | None, typer.Option(help="only this deployment")] = None,
) -> None:
    """The chain's known pools with their live state, read in one batch."""
    config = _chain(chain)
    client = EvmClient(config)
    try:
        finder = RouteFinder(client)
        deployments = finder.deployments([dex] if dex else None)
        listed = []
        for name, deployment in config.dexes.items():
            if name not in deployments:
                continue
            for info in deployment.pools:
                for pool in finder.candidates(info.token0, info.token1, max_hops=1, dex_names=[name]):
                    if pool.pools[0].address == info.address:
                        listed.append((name, info.label, pool.pools[0]))
        market = await finder.read([p for _, _, p in listed])
    finally:
        await client.close()
    by_address = {t.address: t for t in config.tokens.values()}
    table = key_table(
        "dex", "pool", "address", "reserves / liquidity", "price",
        keys={"dex", "pool", "address"}, title=f"{chain} at block {market.block_number}",
    )  # fmt: skip
    for name, label, pool in listed:
        state = market.states.get(pool.address)
        table.add_row(name, label, pool.address, _depth(state, by_address), _price(state, by_address))
    out.print(table)


def _depth(state: PoolState | None, tokens: dict[str, TokenInfo]) -> str:
    if isinstance(state, PairState):
        t0, t1 = tokens.get(state.pool.token0), tokens.get(state.pool.token1)
        if t0 is None or t1 is None:
            return f"{state.reserve0} / {state.reserve1}"
        return f"{_human(state.reserve0, t0)} / {_human(state.reserve1, t1)}"
    if isinstance(state, PoolSnapshot):
        return f"L={state.liquidity} tick {state.tick}, {len(state.liquidity_net)} initialized ticks near"
    return "not found"


def _price(state: PoolState | None, tokens: dict[str, TokenInfo]) -> str:
    """Whole token1 per whole token0 at the mid price."""
    if state is None:
        return "-"
    t0, t1 = tokens.get(state.pool.token0), tokens.get(state.pool.token1)
    raw = mid_price(state, state.pool.token0)
    if t0 is None or t1 is None:
        return f"{Decimal(raw.numerator) / Decimal(raw.denominator):.6g} (raw)"
    whole = Decimal(raw.numerator * 10**t0.decimals) / Decimal(raw.denominator * 10**t1.decimals)
    return f"{whole:.6g} {t1.symbol}/{t0.symbol}"
