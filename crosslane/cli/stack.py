"""The embedded stack behind `crosslane dev up|down|status`: Temporal dev server, devnet, worker.

Processes run detached (they outlive the command); their pids live in
``$CROSSLANE_HOME/stack.json`` beside the devnet's own state file (the home: see
``crosslane.config.resolve_home``). ``crosslane.cli.stack_health`` checks each one answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from connectors.evm.signer import write_keystore
from crosslane.config import Settings
from devnet.anvil import REPO_ROOT, dev_account, pid_alive, spawn, stop_pid
from devnet.manager import devnet_down, devnet_up
from devnet.solana.accounts import dev_signer_keys as solana_dev_signer_keys
from devnet.state import DevnetState
from devnet.temporal_server import start_dev_server, wait_ready

DEV_SIGNER_INDEXES = (1, 2, 3, 4)  # anvil accounts the dev worker signs for (0 deploys)


@dataclass
class StackState:
    temporal_pid: int
    temporal_address: str
    ui_url: str
    worker_pid: int
    worker_log: str
    fastpath_pid: int = 0

    @classmethod
    def load(cls, path: Path) -> StackState | None:
        return cls(**json.loads(path.read_text())) if path.exists() else None

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def stack_path(cfg: Settings) -> Path:
    return cfg.home / "stack.json"


def ensure_dev_keystore(cfg: Settings) -> tuple[Path, Path]:
    """Encrypted keystores of the devnet signers, with a random password file (mode 600)."""
    directory = cfg.home / "keystore"
    password_file = cfg.home / "keystore.password"
    if not password_file.exists():
        cfg.home.mkdir(parents=True, exist_ok=True)
        password_file.write_text(secrets.token_urlsafe(24))
        password_file.chmod(0o600)
    password = password_file.read_text().strip()
    for index in DEV_SIGNER_INDEXES:
        address, key = dev_account(index)
        if not (directory / f"{address}.json").exists():
            write_keystore(key, password, directory)
    return directory, password_file


def dev_signers() -> list[str]:
    return [dev_account(i)[0] for i in DEV_SIGNER_INDEXES]


async def _wait_logged(log: Path, pid: int, marker: str, what: str, timeout_s: float = 60.0) -> None:
    """Until the process logs ``marker`` (it is serving); a clear error if it dies first."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if not pid_alive(pid):
            raise RuntimeError(f"{what} exited during start; see {log}")
        if log.exists() and marker in log.read_text(errors="replace"):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{what} did not start in {timeout_s}s; see {log}")


async def stack_up(cfg: Settings, progress: Callable[[str], None] = print) -> tuple[StackState, DevnetState]:
    """Idempotent: what already runs is kept."""
    logs = cfg.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    progress("devnet: anvil chains, contracts, exchanges, Wormhole guardians, the Across relayer, Solana")
    devnet = await devnet_up(
        cfg.devnet_state_path,
        ports=cfg.devnet_ports,
        cex=True,
        cex_ports=cfg.cex_ports,
        wormhole=True,
        across=True,
        solana=True,
        solana_port=cfg.solana_port,
    )
    current = StackState.load(stack_path(cfg))
    temporal_pid = current.temporal_pid if current and pid_alive(current.temporal_pid) else 0
    server = None
    if not temporal_pid:
        progress("Temporal dev server")
        port = cfg.temporal_address.rsplit(":", 1)[1]
        server = start_dev_server(cfg.home / "temporal.db", logs / "temporal.log", port=int(port), ui_port=cfg.ui_port)
        temporal_pid = server.pid
    try:
        await wait_ready(cfg.temporal_address, timeout_s=60.0, proc=server)
    except (RuntimeError, TimeoutError) as exc:
        log_tail = (logs / "temporal.log").read_text(errors="replace")[-1500:] if server else ""
        raise RuntimeError(f"{exc}\n{log_tail}") from None
    worker_pid = current.worker_pid if current and pid_alive(current.worker_pid) else 0
    worker_log = logs / "worker.log"
    if not worker_pid:
        progress("orchestrator worker")
        keystore_dir, password_file = ensure_dev_keystore(cfg)
        env = {
            **_base_env(cfg),
            "CROSSLANE_KEYSTORE_DIR": str(keystore_dir),
            "CROSSLANE_KEYSTORE_PASSWORD_FILE": str(password_file),
            "CROSSLANE_SOLANA_KEYS": solana_dev_signer_keys(),  # devnet-only keys, derived from public seeds
        }
        worker_log.write_text("")
        proc = spawn(
            [sys.executable, "-m", "workers.orchestrator"], detached=True, log_path=worker_log, cwd=REPO_ROOT, env=env
        )
        worker_pid = proc.pid
        await _wait_logged(worker_log, worker_pid, "worker on", "the worker")
    fastpath_pid = current.fastpath_pid if current and pid_alive(current.fastpath_pid) else 0
    if not fastpath_pid:
        progress("fast path")
        fastpath_log = logs / "fastpath.log"
        fastpath_log.write_text("")
        proc = spawn(
            [sys.executable, "-m", "workers.fastpath"],
            detached=True,
            log_path=fastpath_log,
            cwd=REPO_ROOT,
            env=_base_env(cfg),
        )
        fastpath_pid = proc.pid
        await _wait_logged(fastpath_log, fastpath_pid, "fast path on", "the fast path")
    state = StackState(
        temporal_pid=temporal_pid,
        temporal_address=cfg.temporal_address,
        ui_url=f"http://127.0.0.1:{cfg.ui_port}",
        worker_pid=worker_pid,
        worker_log=str(worker_log),
        fastpath_pid=fastpath_pid,
    )
    state.save(stack_path(cfg))
    return state, devnet


def _base_env(cfg: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CROSSLANE_SIGNER_KEYS", "CROSSLANE_KEYSTORE_PASSWORD")}
    env.update(
        CROSSLANE_HOME=str(cfg.home),
        CROSSLANE_TEMPORAL_ADDRESS=cfg.temporal_address,
        CROSSLANE_TASK_QUEUE=cfg.task_queue,
        CROSSLANE_DEVNET_STATE=str(cfg.devnet_state_path),
        PYTHONPATH=str(REPO_ROOT),
    )
    if cfg.db_url_override:
        env["CROSSLANE_DB_URL"] = cfg.db_url_override
    return env


def stack_down(cfg: Settings) -> list[str]:
    stopped: list[str] = []
    state = StackState.load(stack_path(cfg))
    if state:
        for name, pid in (
            ("fastpath", state.fastpath_pid),
            ("worker", state.worker_pid),
            ("temporal", state.temporal_pid),
        ):
            if pid_alive(pid) and stop_pid(pid):
                stopped.append(f"{name} (pid {pid})")
        stack_path(cfg).unlink(missing_ok=True)
    stopped += devnet_down(cfg.devnet_state_path)
    if not cfg.db_url_override:
        # The embedded ledger describes the embedded chains, which are gone now: its nonce
        # cursors would open gaps on the next, fresh devnet.
        for suffix in ("", "-wal", "-shm"):
            (cfg.home / f"ledger.db{suffix}").unlink(missing_ok=True)
    return stopped

