"""`crosslane dev up|down|status`: the devnet, then the product's embedded stack on it.

The devnet comes first (chains, exchanges, Wormhole guardians, the Across relayer, Solana,
and ``devnet-op``, an OP Stack rollup of devnet-a whose withdrawals finalize after
:data:`OP_FINALIZATION_SECONDS`);
then :mod:`crosslane.embedded.stack` starts Temporal, the worker (signing with the devnet's
dev keys, from an encrypted keystore) and the fast path. Status adds a row per devnet
process to the embedded stack's own.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Callable

from crosslane.config import Settings
from crosslane.embedded.health import PROBE_TIMEOUT_S, ComponentStatus, services_status
from crosslane.embedded.stack import StackService, StackState, ensure_keystore, services_down, services_up
from devnet.anvil import REPO_ROOT, dev_account
from devnet.manager import devnet_down, devnet_status, devnet_up
from devnet.opstack.devnet import probe_rollup
from devnet.solana.accounts import dev_signer_keys as solana_dev_signer_keys
from devnet.state import DevnetState, default_state_path

DEV_SIGNER_INDEXES = (1, 2, 3, 4)  # anvil accounts the dev worker signs for (0 deploys)
_STATE_ENDPOINTS = ("across_relayer", "across_dataworker")  # devnet_status checks only their pids


OP_FINALIZATION_SECONDS = 10  # the showcase's withdrawal wait; mainnet's is 7 days
NOISE_INTERVAL_S = 10.0  # between the noise trader's swaps: prices move, blocks stay few


def dev_signers() -> list[str]:
    return [dev_account(i)[0] for i in DEV_SIGNER_INDEXES]


async def stack_up(cfg: Settings, progress: Callable[[str], None] = print) -> tuple[StackState, DevnetState]:
    """Idempotent: what already runs is kept."""
    progress("devnet: anvil chains, contracts, exchanges, Wormhole guardians, the Across relayer, Solana, an OP rollup")
    devnet = await devnet_up(
        default_state_path(cfg),
        ports=cfg.devnet_ports,
        cex=True,
        cex_ports=cfg.cex_ports,
        wormhole=True,
        across=True,
        solana=True,
        solana_port=cfg.solana_port,
        op_stack=True,
        op_finalization_seconds=OP_FINALIZATION_SECONDS,
    )
    keystore_dir, password_file = ensure_keystore(cfg, dict(dev_account(i) for i in DEV_SIGNER_INDEXES))
    state = await services_up(
        cfg,
        worker_env={
            "CROSSLANE_KEYSTORE_DIR": str(keystore_dir),
            "CROSSLANE_KEYSTORE_PASSWORD_FILE": str(password_file),
            "CROSSLANE_SOLANA_KEYS": solana_dev_signer_keys(),  # devnet-only keys, derived from public seeds
        },
        env={"PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
        progress=progress,
        extra={"noise-trader": _noise_trader(cfg)},
    )
    return state, devnet


def _noise_trader(cfg: Settings) -> StackService:
    """Random small swaps on the devnet's pools, so the scanner sees prices move."""
    return StackService(
        "devnet.noise_trader",
        cfg.home / "logs" / "noise-trader.log",
        "noise trader on ",
        "the noise trader",
        "noise trader (moves the devnet's pool prices)",
        args=("--interval", str(NOISE_INTERVAL_S)),
    )


def stack_down(cfg: Settings) -> list[str]:
    stopped = services_down(cfg)
    stopped += devnet_down(default_state_path(cfg))
    if not cfg.db_url_override:
        # The embedded ledger describes the embedded chains, which are gone now: its nonce
        # cursors would open gaps on the next, fresh devnet.
        for suffix in ("", "-wal", "-shm"):
            (cfg.home / f"ledger.db{suffix}").unlink(missing_ok=True)
    return stopped


def _probe_state(name: str, where: str, url: str) -> ComponentStatus:
    """An Across service (relayer, dataworker) answers ``GET /state``."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/state", timeout=PROBE_TIMEOUT_S) as reply:
            reply.read()
    except (OSError, urllib.error.URLError) as exc:
        return ComponentStatus(name, False, where, f"not answering /state: {exc}")
    return ComponentStatus(name, True, where, "answers /state")


def _probe_rollup(name: str, where: str, url: str) -> ComponentStatus:
    """The OP Stack rollup service: how far it derived L1 deposits and proposed outputs."""
    try:
        state = probe_rollup(url, timeout=PROBE_TIMEOUT_S)
    except (OSError, ValueError) as exc:
        return ComponentStatus(name, False, where, f"not answering /state: {exc}")
    if not isinstance(state, dict):
        return ComponentStatus(name, False, where, f"/state answered {state!r}")
    outputs = state.get("outputs") or []
    latest = f"latest output for L2 block {outputs[-1].get('l2_block')}" if outputs else "no output proposed yet"
    return ComponentStatus(
        name,
        True,
        where,
        f"rollup of devnet-a: L1 scanned to block {state.get('scanned_l1_block')}, "
        f"{len(state.get('deposits') or {})} deposit(s) executed, {latest}",
    )


def _devnet(cfg: Settings) -> list[ComponentStatus]:
    devnet = devnet_status(default_state_path(cfg))
    if not devnet.processes:
        return [ComponentStatus("devnet", False, str(default_state_path(cfg)), "; ".join(devnet.problems))]
    chains = {c.name: c for c in devnet.chains}
    state = DevnetState.load(default_state_path(cfg))
    rows = []
    for proc in devnet.processes:
        where = f"127.0.0.1:{proc.port} (pid {proc.pid})"
        problems = [p for p in devnet.problems if p.startswith(f"{proc.name} ") or p.startswith(f"{proc.name}:")]
        chain = chains.get(proc.name.removeprefix("anvil-")) if proc.kind == "anvil" else None
        if chain is not None and proc.alive:
            if chain.reachable:
                reason = f"answers eth_chainId {chain.chain_id}, block {chain.block_number}"
            else:
                reason = next((p for p in devnet.problems if p.startswith(f"{chain.name}:")), "unreachable")
            rows.append(ComponentStatus(proc.name, chain.reachable, where, reason))
        elif proc.alive and proc.kind == "op_rollup" and state is not None:
            rows.append(_probe_rollup(proc.name, where, state.processes[proc.name].url))
        elif proc.alive and proc.kind in _STATE_ENDPOINTS and state is not None:
            rows.append(_probe_state(proc.name, where, state.processes[proc.name].url))
        elif proc.alive:
            rows.append(ComponentStatus(proc.name, True, where, f"answers its {proc.kind} endpoint"))
        else:
            rows.append(ComponentStatus(proc.name, False, where, "; ".join(problems) or "not running"))
    return rows


async def stack_status(cfg: Settings) -> list[ComponentStatus]:
    """Every component, each probed (never raises for a stack that is down)."""
    services = await services_status(cfg)
    devnet = await asyncio.to_thread(_devnet, cfg)
    return [*services, *devnet]
