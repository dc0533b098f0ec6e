"""The OP Stack rollup as ``devnet_up(op_stack=True)`` starts it: a third anvil ``devnet-op``
as the L2 of ``devnet-a``, the rollup's contracts on both, and the rollup service.

Opt-in (not part of the default ``devnet up``): the deploy itself takes ~0.1 s, but the
extra anvil and the service process are one more pair of processes on every stack.
"""

from __future__ import annotations

from pathlib import Path

from crosslane.domain.chains import ChainConfig
from devnet.across.services import http_json
from devnet.opstack.deploy import (
    RollupConfig,
    RollupContracts,
    deploy_rollup_contracts,
    deploy_rollup_tokens,
    rollup_contract,
)
from devnet.opstack.rollup import RollupEndpoints, write_config
from devnet.services import spawn_service, wait_service
from devnet.state import ProcessInfo

L2_NAME = "devnet-op"
L2_CHAIN_ID = 31339
L2_PORT = 8547
L1_NAME = "devnet-a"
DEFAULT_FINALIZATION_SECONDS = 10  # the devnet's; mainnet's is 7 days
DEFAULT_PROPOSAL_INTERVAL = 2.0


def l2_chain(rpc_urls: list[str]) -> ChainConfig:
    return ChainConfig(name=L2_NAME, chain_id=L2_CHAIN_ID, rpc_urls=rpc_urls, fee_model="op-stack", settles_on=L1_NAME)


def rollup_config(finalization_seconds: int) -> RollupConfig:
    return RollupConfig(L2_NAME, L1_NAME, finalization_seconds)


async def deploy_contracts(l1_url: str, l2_url: str, finalization_seconds: int) -> RollupContracts:
    return await deploy_rollup_contracts(l1_url, l2_url, rollup_config(finalization_seconds))


async def deploy_tokens(
    l1: ChainConfig, l2_url: str, l2_rpc_urls: list[str], contracts: RollupContracts, finalization_seconds: int
) -> tuple[ChainConfig, ChainConfig]:
    config = rollup_config(finalization_seconds)
    return await deploy_rollup_tokens(l2_url, l1, l2_chain(l2_rpc_urls), contracts, config)


def config_path(logs: Path) -> Path:
    return logs.parent / "opstack-rollup.json"


def spawn_rollup(port: int, logs: Path, detached: bool, interval: float) -> ProcessInfo:
    """The sequencer/derivation + proposer stand-in (:mod:`devnet.opstack.rollup`), started
    before the deploy so its imports overlap it; it serves once :func:`configure_rollup` ran."""
    config = config_path(logs)
    config.unlink(missing_ok=True)
    state_file = logs.parent / "opstack-rollup-state.json"
    state_file.unlink(missing_ok=True)  # a fresh devnet: no deposit of an earlier one is executed
    args = [
        "--config",
        str(config),
        "--port",
        str(port),
        "--interval",
        f"{interval:g}",
        "--state-file",
        str(state_file),
    ]
    return spawn_service("op_rollup", "devnet.opstack.rollup", args, port, logs / "opstack-rollup.log", detached)


def configure_rollup(l1: ChainConfig, l1_url: str, l2_url: str, logs: Path) -> None:
    endpoints = RollupEndpoints(
        l1_url=l1_url,
        l2_url=l2_url,
        portal=rollup_contract(l1, L2_NAME, "OptimismPortal"),
        oracle=rollup_contract(l1, L2_NAME, "L2OutputOracle"),
    )
    write_config(config_path(logs), endpoints)


def probe_rollup(url: str, timeout: float = 1.0) -> object:
    return http_json(url.rstrip("/") + "/state", timeout=timeout)


def wait_rollup(info: ProcessInfo, timeout: float) -> None:
    wait_service(info, probe_rollup, "op-stack rollup service", timeout)
