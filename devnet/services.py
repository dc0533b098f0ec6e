"""Python devnet services (RPC proxies, private relays, guardians...): started as their own
processes and waited for until their HTTP endpoint answers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import urllib.error
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from crosslane.embedded.processes import pid_alive, spawn
from devnet.anvil import DEFAULT_HOST, REPO_ROOT, DevnetError, ensure_port_free
from devnet.state import ProcessInfo


def spawn_service(
    kind: str, module: str, args: Sequence[str], port: int, log: Path, detached: bool, chain: str | None = None
) -> ProcessInfo:
    """``python -m <module> <args>`` on ``port``; the repo root goes on PYTHONPATH so the
    service starts even without an installed package."""
    ensure_port_free(port)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = spawn([sys.executable, "-m", module, *args], detached=detached, log_path=log, cwd=REPO_ROOT, env=env)
    return ProcessInfo(
        kind=kind,  # type: ignore[arg-type]
        pid=proc.pid,
        port=port,
        url=f"http://{DEFAULT_HOST}:{port}",
        log=str(log),
        chain=chain,
        detached=detached,
    )


def wait_service(info: ProcessInfo, probe: Callable[..., object], what: str, timeout: float) -> None:
    """Until ``probe(info.url)`` answers; DevnetError with the log's tail if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(info.pid):
            tail = Path(info.log).read_text(errors="replace")[-2000:] if info.log else ""
            raise DevnetError(f"{what} on port {info.port} exited:\n{tail}")
        try:
            probe(info.url, timeout=0.5)
            return
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.02)
    raise DevnetError(f"{what} on {info.url} not ready after {timeout:.1f}s")


async def serve_until_signalled(banner: str, stop: Callable[[], Awaitable[None]]) -> None:
    """In a started service's process: print ``banner``, wait for SIGTERM or SIGINT, then ``stop()``."""
    signalled = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, signalled.set)
    print(banner, flush=True)
    try:
        await signalled.wait()
    finally:
        await stop()
