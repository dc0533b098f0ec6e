"""The scanner and the noise trader as background processes of a dev stack: spawned detached,
logging to a file, returned once they say they run (their pid, for ``stop_pid``)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from devnet.anvil import REPO_ROOT, pid_alive, spawn


async def _spawn_logged(module: str, args: list[str], env: dict[str, str], log: Path, marker: str) -> int:
    log.write_text("")
    proc = spawn([sys.executable, "-m", module, *args], detached=True, log_path=log, cwd=REPO_ROOT, env=env)
    deadline = time.monotonic() + 60
    while marker not in log.read_text(errors="replace"):
        if not pid_alive(proc.pid) or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-1500:]
            raise RuntimeError(f"{module} did not start (log {log}):\n{tail}")
        await asyncio.sleep(0.1)
    return proc.pid


async def spawn_scanner(env: dict[str, str], log: Path, *args: str) -> int:
    """``crosslane arb scan`` (``args``: its options) in the background; its pid once it scans."""
    return await _spawn_logged("workers.scanner", list(args), env, log, "scanning ")


async def spawn_noise_trader(env: dict[str, str], log: Path, *args: str) -> int:
    """The devnet's noise trader in the background; its pid once it runs."""
    return await _spawn_logged("devnet.noise_trader", list(args), env, log, "noise trader on ")
