"""Across as ``devnet_up(across=True)`` starts it: deploy on every chain, then relayer and dataworker.

Both services talk to each anvil directly (not through the fault proxies) and are recorded
in the state file as processes ``across-relayer`` / ``across-dataworker`` (their ``url`` is
the admin endpoint); the SpokePool is each chain's ``contracts["AcrossSpokePool"]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from crosslane.domain.chains import ChainConfig
from devnet.across.deploy import deploy_across
from devnet.across.services import spawn_service, wait_service, write_config


async def deploy_all(chains: Sequence[ChainConfig], anvil_urls: dict[str, str]) -> list[ChainConfig]:
    return list(
        await asyncio.gather(
            *(deploy_across(anvil_urls[c.name], c, [p for p in chains if p.name != c.name]) for c in chains)
        )
    )


def config_path(logs: Path) -> Path:
    return logs.parent / "across-services.json"


def spawn_services(
    chains: Sequence[ChainConfig], anvil_urls: dict[str, str], ports: tuple[int, int], logs: Path, detached: bool
) -> dict[str, tuple[int, int, str, Path]]:
    """Start the relayer and the dataworker; name -> (pid, port, admin url, log)."""
    config = write_config(config_path(logs), chains, anvil_urls)
    # Fresh chains: what an earlier dataworker settled does not apply (deposit ids restart at 0).
    (logs.parent / "across-dataworker-state.json").unlink(missing_ok=True)
    out = {}
    for (name, module, extra), port in zip(
        (
            ("across-relayer", "relayer", ()),
            ("across-dataworker", "dataworker", ("--state-file", str(logs.parent / "across-dataworker-state.json"))),
        ),
        ports,
        strict=True,
    ):
        log = logs / f"{name}.log"
        pid, url = spawn_service(module, config, port, log, detached, extra)
        out[name] = (pid, port, url, log)
    return out


def wait_services(services: dict[str, tuple[int, int, str, Path]], timeout: float) -> None:
    for pid, _port, url, log in services.values():
        wait_service(pid, url, log, timeout)
