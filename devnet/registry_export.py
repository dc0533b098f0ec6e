"""The devnet's world as a registry file (the product's format), written beside its state file.

This is the only way the product learns about the devnet: workers, the CLI and the fast
path read the registry file (``registry.yaml`` in the home), never the state file.
Everything here comes from the :class:`DevnetState` ``devnet_up`` builds; the file holds
public addresses and URLs only (venue credentials are a reference to the devnet's
credentials file, never its keys).
"""

from __future__ import annotations

from pathlib import Path

from crosslane.domain.chains import ChainConfig
from crosslane.domain.solana import SolanaCluster
from crosslane.registry import REGISTRY_VERSION, Registry, write_registry
from crosslane.registry.model import (
    BRIDGE_NAMES,
    Asset,
    AssetOnChain,
    Bridges,
    CredentialRef,
    EvmChain,
    ExchangeVenue,
    RouteCoverage,
    SolanaChain,
)
from devnet.state import DevnetState, SimulatedVenue

FASTPATH_SYMBOLS = ("BTC/USDT", "ETH/USDT")  # listed by every simulator; the books the fast path keeps
VENUE_CODES = {"WETH": "ETH", "WBTC": "BTC", "USDC": "USDC"}  # the asset map's join of tokens and venues' codes


def registry_path(state_path: Path) -> Path:
    """Where ``devnet_up`` writes the registry: ``registry.yaml`` beside the state file."""
    return state_path.with_name("registry.yaml")


def _evm_chain(chain: ChainConfig) -> EvmChain:
    return EvmChain(
        family="evm",
        chain_id=chain.chain_id,
        rpc_urls=chain.rpc_urls,
        confirmations=chain.confirmations,
        contracts=chain.contracts,
        dexes=chain.dexes,
        private_relay_url=chain.private_relay_url,
        fee_model=chain.fee_model,
        settles_on=chain.settles_on,
    )


def _solana_chain(cluster: SolanaCluster) -> SolanaChain:
    return SolanaChain(
        family="solana",
        cluster="localnet",
        rpc_urls=[cluster.rpc_url],
        commitment=cluster.default_commitment,
        blockhash_validity=cluster.blockhash_validity,
    )


def _assets(state: DevnetState) -> dict[str, Asset]:
    chains: dict[str, dict[str, AssetOnChain]] = {}
    for chain in state.chains.values():
        for key, token in chain.tokens.items():
            chains.setdefault(key, {})[chain.name] = AssetOnChain(
                address=token.address, decimals=token.decimals, symbol=None if token.symbol == key else token.symbol
            )
    if state.solana is not None:
        for key, mint in state.solana.mints.items():
            chains.setdefault(key, {})[state.solana.name] = AssetOnChain(
                address=mint.mint,
                decimals=mint.decimals,
                symbol=None if mint.symbol == key else mint.symbol,
                token_program=mint.token_program,
            )
    venues = {key: {name: VENUE_CODES[key] for name in state.cex} for key in chains if key in VENUE_CODES}
    return {key: Asset(chains=on, venues=venues.get(key, {})) for key, on in sorted(chains.items())}


def _venue(venue: SimulatedVenue) -> ExchangeVenue:
    return ExchangeVenue(
        exchange=venue.exchange,
        rest_url=venue.rest_url,
        ws_url=venue.ws_url,
        maker_bps=venue.maker_bps,
        taker_bps=venue.taker_bps,
        credentials=CredentialRef(secrets_file=venue.credentials_file, accounts=venue.accounts),
        rate_limit=False,  # the simulators enforce their own limits; ccxt need not pace itself
        symbols=list(FASTPATH_SYMBOLS),
    )


def _routes(bridges: Bridges, assets: dict[str, Asset], evm_chains: list[str]) -> list[RouteCoverage]:
    """Each devnet bridge connects every EVM chain and carries the assets all of them hold."""
    if len(evm_chains) < 2:
        return []
    shared = [s for s, a in assets.items() if all(c in a.chains for c in evm_chains)]
    if not shared:
        return []
    used = [name for name in BRIDGE_NAMES if name != "op_canonical" and getattr(bridges, name) is not None]
    return [RouteCoverage(bridge=name, chains=evm_chains, assets=shared) for name in used]


def _rollup_routes(state: DevnetState, assets: dict[str, Asset]) -> list[RouteCoverage]:
    """Each rollup's canonical bridge: it and its L1, for the assets on both."""
    out = []
    for name, chain in state.chains.items():
        if chain.settles_on is None:
            continue
        both = [s for s, a in assets.items() if name in a.chains and chain.settles_on in a.chains]
        if both:
            out.append(RouteCoverage(bridge="op_canonical", chains=[chain.settles_on, name], assets=both))
    return out


def devnet_registry(state: DevnetState) -> Registry:
    """The devnet's chains, tokens, dexes, bridges, Solana cluster and venues as a Registry."""
    chains: dict[str, EvmChain | SolanaChain] = {name: _evm_chain(c) for name, c in state.chains.items()}
    if state.solana is not None:
        chains[state.solana.name] = _solana_chain(state.solana)
    assets = _assets(state)
    endpoints = state.bridge_endpoints()
    bridges = Bridges(wormhole=endpoints.wormhole, across=endpoints.across, op_canonical=endpoints.op_canonical)
    # Wormhole and Across connect the L1-style chains; a rollup is reached over its canonical bridge.
    routes = _routes(bridges, assets, [name for name, c in state.chains.items() if c.settles_on is None])
    if bridges.op_canonical is not None:
        routes += _rollup_routes(state, assets)
    return Registry(
        version=REGISTRY_VERSION,
        chains=chains,
        assets=assets,
        venues={name: _venue(v) for name, v in state.cex.items()},
        bridges=bridges.model_copy(update={"routes": routes}),
    )


def write_devnet_registry(state: DevnetState, state_path: Path) -> Path:
    """Write the devnet's registry beside its state file; its path."""
    path = registry_path(state_path)
    write_registry(devnet_registry(state), path)
    return path
