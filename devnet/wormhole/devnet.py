"""Wormhole as part of ``devnet_up(..., wormhole=True)``: deploy, register, attest, start guardians."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from connectors.bridges.wormhole_vaa import quorum
from crosslane.domain.chains import ChainConfig
from devnet.services import spawn_service, wait_service
from devnet.state import ProcessInfo, WormholeInfo
from devnet.wormhole.deploy import (
    DEVNET_WORMHOLE_CHAIN_IDS,
    WormholeEndpoint,
    deploy_wormhole,
    register_peers,
    with_wrapped,
)
from devnet.wormhole.guardian import WatchedChain, get_health_sync
from devnet.wormhole.market import seed_wrapped_market
from devnet.wormhole.vaa import devnet_guardian_addresses


def wormhole_chain_ids(names: Sequence[str]) -> dict[str, int]:
    """2 and 4 for devnet-a/-b; any further chain gets 10000 + its position."""
    return {n: DEVNET_WORMHOLE_CHAIN_IDS.get(n, 10_000 + i) for i, n in enumerate(names)}


async def deploy_all(chains: Sequence[ChainConfig], anvil_urls: Mapping[str, str]) -> list[ChainConfig]:
    """Deploy core + token bridge on every chain, register them with each other, attest the test
    tokens, and seed a market for the wrapped USDC Wormhole delivers on devnet-b."""
    ids = wormhole_chain_ids([c.name for c in chains])
    endpoints = []
    for chain in chains:  # one deployer account per chain: the chains are independent
        url = anvil_urls[chain.name]
        endpoints.append(WormholeEndpoint(url, await deploy_wormhole(url, chain, ids[chain.name]), ids[chain.name]))
    wrapped = await register_peers(endpoints)
    endpoints = [
        WormholeEndpoint(ep.rpc_url, with_wrapped(ep.chain, wrapped.get(ep.chain.name, {})), ep.wormhole_chain_id)
        for ep in endpoints
    ]
    return await seed_wrapped_market(endpoints)


def spawn_guardians(
    chains: Sequence[ChainConfig],
    anvil_urls: Mapping[str, str],
    port: int,
    log: Path,
    detached: bool,
    confirmations: int = 1,
) -> ProcessInfo:
    ids = wormhole_chain_ids([c.name for c in chains])
    args = ["--listen-port", str(port), "--confirmations", str(confirmations)]
    for c in chains:
        args += ["--chain", WatchedChain(c.name, ids[c.name], anvil_urls[c.name], c.contracts["WormholeCore"]).spec()]
    return spawn_service("wormhole_guardian", "devnet.wormhole.guardian", args, port, log, detached)


def wait_guardians(info: ProcessInfo, timeout: float) -> None:
    wait_service(info, get_health_sync, "wormhole guardians", timeout)


def wormhole_info(chains: Sequence[ChainConfig], guardian: ProcessInfo, confirmations: int = 1) -> WormholeInfo:
    guardians = devnet_guardian_addresses()
    return WormholeInfo(
        guardian_url=guardian.url,
        chain_ids=wormhole_chain_ids([c.name for c in chains]),
        guardians=guardians,
        quorum=quorum(len(guardians)),
        confirmations=confirmations,
    )
