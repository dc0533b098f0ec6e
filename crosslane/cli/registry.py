"""`crosslane registry show | validate | schema`: the registry file (``CROSSLANE_REGISTRY``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from crosslane.cli.errors import err
from crosslane.cli.tables import table
from crosslane.config import settings
from crosslane.registry import Registry, RegistryError, configured_registry, load_registry, registry_schema
from crosslane.registry.model import EvmChain

app = typer.Typer(help="The registry file: chains, assets, venues, bridges.", no_args_is_help=True)
out = Console(soft_wrap=True)

RegistryFile = Annotated[
    Path | None,
    typer.Argument(
        show_default=False,
        help="the registry file (default: the one Crosslane reads: $CROSSLANE_REGISTRY, else the home's registry.yaml)",
    ),
]


def _load(path: Path | None) -> Registry:
    """The registry (``path``, else the one the product reads), or exit 2 with one
    ``file: path: message`` line per problem."""
    try:
        return load_registry(path) if path is not None else configured_registry(settings())
    except RegistryError as exc:
        for line in exc.lines:
            err.print(line, highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None


def summary(registry: Registry) -> str:
    families = sorted({c.family for c in registry.chains.values()})
    return (
        f"{len(registry.chains)} chains ({', '.join(families) or 'none'}), {len(registry.assets)} assets, "
        f"{len(registry.venues)} venues, {len(registry.bridges.routes)} bridge routes"
    )


@app.command()
def validate(file: RegistryFile = None) -> None:
    """Check the file; exit 0 with a summary, or 2 with `file: path: problem` lines."""
    registry = _load(file)
    out.print(f"{file or settings().registry_path}: valid: {summary(registry)}", highlight=False)


@app.command()
def show(file: RegistryFile = None) -> None:
    """The chains, assets, venues and bridge routes the file describes."""
    registry = _load(file)
    keys = {"chain", "id / cluster", "fee model", "rpc"}
    chains = table("chain", "family", "id / cluster", "fee model", "rpc", "dexes", keys=keys)
    for name, chain in registry.chains.items():
        ident = str(chain.chain_id) if isinstance(chain, EvmChain) else chain.cluster
        dexes = ", ".join(chain.dexes) if isinstance(chain, EvmChain) else ""
        chains.add_row(name, chain.family, ident, chain.fee_model, chain.rpc_urls[0], dexes)
    assets = table("asset", "chain", "address / mint", "decimals", keys={"asset", "chain", "address / mint"})
    for symbol, asset in registry.assets.items():
        for chain_name, token in asset.chains.items():
            assets.add_row(symbol, chain_name, token.address, str(token.decimals))
    venues = table("venue", "ccxt id", "symbols", "credentials", keys={"venue", "ccxt id"})
    for name, venue in registry.venues.items():
        symbols = ", ".join(f"{s}={a.venues[name]}" for s, a in registry.assets.items() if name in a.venues)
        ref = venue.credentials
        where = "" if ref is None else (f"${ref.env}" if ref.env else str(ref.secrets_file))
        venues.add_row(name, venue.exchange, symbols, where)
    routes = table("bridge", "chains", "assets", keys={"bridge"})
    for route in registry.bridges.routes:
        routes.add_row(route.bridge, ", ".join(route.chains), ", ".join(route.assets))
    for t in (chains, assets, venues, routes):
        out.print(t)


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here instead of stdout")] = None,
) -> None:
    """The registry's JSON schema (for editors: yaml-language-server, VS Code...)."""
    text = registry_schema()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        out.print(f"wrote {output}")
