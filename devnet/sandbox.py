"""A throwaway embedded stack for tools that need one for a while: a Temporal dev server
and the devnet on free ports in a temp directory, plus worker processes.

Used by the benchmarks and the replay recorder; ``crosslane dev up`` runs the long-lived
one on the default ports.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from crosslane.config import Settings
from crosslane.embedded.processes import spawn, stop_pid
from crosslane.embedded.temporal_server import WAL_PRAGMAS, start_dev_server, wait_ready
from crosslane.fastpath.client import FastPathClient, FastPathError
from devnet.anvil import REPO_ROOT, find_free_port
from devnet.manager import devnet_down, devnet_up
from devnet.registry_export import registry_path
from devnet.state import STATE_FILE, DevnetState
from workers.fastpath.server import FastPathConfig


@dataclass
class Sandbox:
    home: Path
    temporal_address: str
    devnet: DevnetState
    devnet_state_path: Path
    db_url: str
    temporal_pid: int = 0

    @property
    def registry_path(self) -> Path:
        """The registry file the devnet wrote: what this sandbox's processes read."""
        return registry_path(self.devnet_state_path)

    def settings(self, task_queue: str) -> Settings:
        """Settings for an in-process client or worker bound to this sandbox."""
        return Settings(
            home=self.home,
            temporal_address=self.temporal_address,
            task_queue=task_queue,
            db_url_override=self.db_url,
            registry_override=str(self.registry_path),
        )

    def env(self, task_queue: str, **extra: str) -> dict[str, str]:
        """Environment for a Crosslane process (worker, CLI) bound to this sandbox."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSLANE_")}
        env.update(
            CROSSLANE_HOME=str(self.home),
            CROSSLANE_TEMPORAL_ADDRESS=self.temporal_address,
            CROSSLANE_TASK_QUEUE=task_queue,
            CROSSLANE_DB_URL=self.db_url,
            CROSSLANE_REGISTRY=str(self.registry_path),
            PYTHONPATH=str(REPO_ROOT),
        )
        env.update(extra)
        return env


async def temporal_on_free_ports(
    home: Path, attempts: int = 3, *, name: str = "temporal", sqlite_pragmas: tuple[str, ...] = WAL_PRAGMAS
) -> tuple[subprocess.Popen[bytes], int]:
    """A dev server on free ports; another process may take a port between the pick and the
    bind, so a start that dies at once is retried on new ports."""
    for attempt in range(attempts):
        port = find_free_port()
        server = start_dev_server(
            home / f"{name}.db",
            home / f"{name}.log",
            port=port,
            ui_port=find_free_port(),
            detached=False,
            sqlite_pragmas=sqlite_pragmas,
        )
        try:
            await wait_ready(f"127.0.0.1:{port}", proc=server)
            return server, port
        except RuntimeError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@asynccontextmanager
async def sandbox(
    home: Path,
    *,
    proxies: bool = False,
    cex: bool = False,
    bridges: bool = False,
    solana: bool = False,
    op_stack: bool = False,
    op_finalization_seconds: int = 3,
) -> AsyncIterator[Sandbox]:
    """``bridges``: Wormhole (guardians) and Across (relayer, dataworker) on the devnet too;
    ``solana``: the Solana node (seeded) on a free port; ``op_stack``: devnet-op, the OP Stack
    L2 of devnet-a (finalization period ``op_finalization_seconds``, an output every 0.5 s)."""
    server, port = await temporal_on_free_ports(home)
    state_path = home / STATE_FILE
    try:
        state = await devnet_up(
            state_path,
            ports={
                "devnet-a": find_free_port(),
                "devnet-b": find_free_port(),
                **({"devnet-op": find_free_port()} if op_stack else {}),
            },
            detached=False,
            proxies=proxies,
            cex=cex,
            cex_ports={venue: find_free_port() for venue in ("binance", "okx", "kraken")} if cex else None,
            wormhole=bridges,
            across=bridges,
            solana=solana,
            solana_port=find_free_port(),
            op_stack=op_stack,
            op_finalization_seconds=op_finalization_seconds,
            op_proposal_interval=0.5,
        )
        try:
            yield Sandbox(home, f"127.0.0.1:{port}", state, state_path, f"sqlite:///{home / 'ledger.db'}", server.pid)
        finally:
            devnet_down(state_path)
    finally:
        stop_pid(server.pid)


@asynccontextmanager
async def other_temporal(sb: Sandbox, name: str, sqlite_pragmas: tuple[str, ...]) -> AsyncIterator[Sandbox]:
    """``sb`` with a second dev server of its own (own file, ``sqlite_pragmas``): for a bench
    comparing server settings in the same run on the same devnet."""
    server, port = await temporal_on_free_ports(sb.home, name=name, sqlite_pragmas=sqlite_pragmas)
    try:
        yield replace(sb, temporal_address=f"127.0.0.1:{port}", temporal_pid=server.pid)
    finally:
        stop_pid(server.pid)


def log_excerpt(log: Path, limit: int = 3000) -> str:
    """What a failed start says: its first traceback (the cause; the end of a log that crashed
    is mostly clean-up noise, e.g. ccxt's unclosed-session warnings), else the log's end."""
    if not log.exists():
        return "(no log)"
    text = log.read_text(errors="replace")
    start = text.find("Traceback (most recent call last)")
    if start < 0:
        return text[-limit:] or "(empty log)"
    return text[start : start + limit]


class WorkerProcess:
    """``python -m workers.orchestrator`` as its own OS process, so it can be SIGKILLed."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.proc = spawn(
            [sys.executable, "-m", "workers.orchestrator"], detached=False, log_path=log, cwd=REPO_ROOT, env=env
        )

    def _log_tail(self) -> str:
        return log_excerpt(self.log)

    async def wait_polling(self, timeout_s: float = 90.0) -> None:
        """Until the worker has logged that it runs (its pollers start right after)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited ({self.proc.returncode}):\n{self._log_tail()}")
            if self.log.exists() and "worker on" in self.log.read_text(errors="replace"):
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"worker not up:\n{self._log_tail()}")

    async def wait_killed(self, timeout_s: float = 60.0) -> int:
        """Until the process dies (e.g. at a crash point); its exit code."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self.proc.poll() is None:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"worker did not die:\n{self._log_tail()}")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def stop(self) -> None:
        if self.proc.poll() is None:
            stop_pid(self.proc.pid)


class FastPathProcess:
    """``python -m workers.fastpath`` with an explicit config file, so a test can SIGKILL it."""

    def __init__(self, config: FastPathConfig, home: Path, env: dict[str, str]) -> None:
        self.config = config
        config_file = home / "fastpath.json"
        config_file.write_text(config.model_dump_json())
        self.log = home / "fastpath.log"
        self.proc = spawn(
            [sys.executable, "-m", "workers.fastpath"],
            detached=False,
            log_path=self.log,
            cwd=REPO_ROOT,
            env={**env, "CROSSLANE_FASTPATH_CONFIG": str(config_file), "PYTHONPATH": str(REPO_ROOT)},
        )

    async def client(self, timeout_s: float = 30.0) -> FastPathClient:
        """Connects once the server listens and every book has data."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fast path exited ({self.proc.returncode}):\n{log_excerpt(self.log)}")
            try:
                return await FastPathClient.connect(self.config.socket_path)
            except FastPathError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            stop_pid(self.proc.pid)
