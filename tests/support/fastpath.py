"""A devnet with simulated venues and a fast-path process, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from crosslane.fastpath.client import FastPathClient, FastPathError
from devnet.anvil import REPO_ROOT, spawn, stop_pid
from devnet.state import DevnetState
from workers.fastpath.server import FastPathConfig


class FastPathProcess:
    """``python -m workers.fastpath`` with an explicit config file, so a test can SIGKILL it."""

    def __init__(self, config: FastPathConfig, home: Path, env: dict[str, str]) -> None:
        self.config = config
        config_file = home / "fastpath.json"
        config_file.write_text(config.model_dump_json())
        self.log = home / "fastpath.log"
        self.proc = spawn(
            [sys.executable, "-m", "workers.fastpath"], detached=False, log_path=self.log, cwd=REPO_ROOT,
            env={**env, "CROSSLANE_FASTPATH_CONFIG": str(config_file), "PYTHONPATH": str(REPO_ROOT)},
        )

    async def client(self, timeout_s: float = 30.0) -> FastPathClient:
        """Connects once the server listens and every book has data."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fast path exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
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


def fastpath_config(state: DevnetState, home: Path, symbols: list[str] | None = None) -> FastPathConfig:
    return FastPathConfig.from_devnet(state, home, symbols)
