"""The devnet's commands in the ``crosslane`` CLI: ``dev up|down|status``, ``devnet up|down``
and ``demo``. The product finds them through the ``crosslane.cli_plugins`` entry point of the
crosslane-devnet distribution, so it never imports this package."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from crosslane.cli.errors import run_async
from crosslane.cli.tables import table as key_table
from crosslane.config import Settings, resolve_home, settings
from devnet.registry_export import registry_path
from devnet.solana.accounts import dev_signer_addresses as solana_dev_signer_addresses
from devnet.state import default_state_path

dev = typer.Typer(help="The embedded stack: Temporal dev server, devnet, orchestrator worker.", no_args_is_help=True)
devnet_app = typer.Typer(help="The local sandbox chains alone.", no_args_is_help=True)
out = Console()


def register(app: typer.Typer) -> None:
    """Add the devnet's commands to the ``crosslane`` app (the entry point's target)."""
    app.add_typer(dev, name="dev")
    app.add_typer(devnet_app, name="devnet")
    app.command()(demo)


def _print_home(cfg: Settings) -> None:
    """Which stack this is: its home, and the rule that chose it."""
    home = resolve_home()
    why = home.why if home.path == cfg.home else "settings"
    out.print(f"home: {cfg.home} ({why})", soft_wrap=True, highlight=False)


@dev.command("up")
@run_async
async def dev_up() -> None:
    """Start everything (idempotent) and leave it running."""
    from devnet.cli import stack

    cfg = settings()
    _print_home(cfg)
    with out.status("starting…") as spinner:
        state, devnet = await stack.stack_up(cfg, progress=lambda step: spinner.update(f"starting {step}…"))
    out.print(f"[green]up[/]: Temporal {state.temporal_address}, UI [link]{state.ui_url}[/]")
    for chain in devnet.chains.values():
        out.print(f"  {chain.name} (chain id {chain.chain_id}): {chain.rpc_urls[0]}")
    if devnet.solana is not None:
        sol = devnet.solana
        out.print(f"  {sol.name}: {sol.rpc_url}, mints " + ", ".join(f"{s} {m.mint}" for s, m in sol.mints.items()))
    out.print(f"  worker pid {state.worker_pid}, signers: {', '.join(stack.dev_signers())}")
    out.print("  metrics: " + ", ".join(f"{service} {url}" for service, url in state.metrics.items()), soft_wrap=True)
    out.print(f"  traces: {state.traces_file}", soft_wrap=True)
    out.print(f"  Solana signers: {', '.join(solana_dev_signer_addresses())}")
    out.print(f"  registry (chains, assets, venues, bridges): {registry_path(default_state_path(cfg))}")


@dev.command("down")
def dev_down() -> None:
    """Stop everything `dev up` started."""
    from devnet.cli import stack

    stopped = stack.stack_down(settings())
    out.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@dev.command("status")
@run_async
async def dev_status() -> None:
    """Which stack (its home, and why that one), and whether each component answers. Exit 1 if any is down."""
    from devnet.cli.stack import stack_status

    cfg = settings()
    _print_home(cfg)
    table = key_table("component", "state", "where", "why", keys={"component", "state"})
    rows = await stack_status(cfg)
    for row in rows:
        table.add_row(row.name, "[green]up[/]" if row.up else "[red]down[/]", row.where, row.reason)
    out.print(table)
    if not all(r.up for r in rows):
        raise typer.Exit(1)


@devnet_app.command("up")
@run_async
async def devnet_up_cmd(
    block_time: Annotated[float | None, typer.Option(help="seconds between blocks; default: automine")] = None,
    proxies: Annotated[bool, typer.Option(help="two fault-injecting RPC proxies per chain")] = False,
    cex: Annotated[bool, typer.Option(help="the Binance and OKX simulators with market makers")] = True,
    op_stack: Annotated[
        bool, typer.Option(help="devnet-op, an OP Stack L2 of devnet-a (rollup contracts, sequencer, proposer)")
    ] = False,
) -> None:
    """Start the two anvil chains (contracts, Uniswap pools) and the exchange simulators."""
    from devnet.manager import devnet_up

    cfg = settings()
    with out.status("starting devnet…"):
        state = await devnet_up(
            default_state_path(cfg),
            ports=cfg.devnet_ports,
            block_time=block_time,
            proxies=proxies,
            cex=cex,
            cex_ports=cfg.cex_ports if cex else None,
            op_stack=op_stack,
        )
    for chain in state.chains.values():
        out.print(f"{chain.name} (chain id {chain.chain_id}): {', '.join(chain.rpc_urls)}")
        out.print("  " + ", ".join(f"{k} {v}" for k, v in sorted(chain.contracts.items())))
    out.print(f"registry: {registry_path(default_state_path(cfg))}")
    for venue in state.cex.values():
        out.print(
            f"{venue.venue} simulator ({venue.exchange} dialect): REST {venue.rest_url}, websocket {venue.ws_url}"
        )


@devnet_app.command("down")
def devnet_down_cmd() -> None:
    """Stop the devnet."""
    from devnet.manager import devnet_down

    stopped = devnet_down(default_state_path())
    out.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@run_async
async def demo() -> None:
    """The showcase: the stack up; transfers (one stuck, recovered), a fast-path CEX buy, bridge transfers."""
    from devnet.cli.showcase import run_showcase

    await run_showcase(out)
