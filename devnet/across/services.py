"""What the relayer and dataworker processes share: their config file, the admin HTTP calls, spawning.

The config file (JSON) names every chain the services watch::

    {"chains": [{"name": "devnet-a", "chain_id": 31337, "rpc_url": "http://...",
                 "spoke_pool": "0x...", "tokens": {"USDC": "0x...", ...}}]}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from crosslane.domain.chains import ChainConfig
from crosslane.embedded.processes import pid_alive, spawn
from devnet.across.deploy import token_addresses
from devnet.anvil import DEFAULT_HOST, REPO_ROOT, DevnetError, ensure_port_free


@dataclass(frozen=True)
class SpokeChain:
    name: str
    chain_id: int
    rpc_url: str
    spoke_pool: str
    tokens: dict[str, str]

    def symbol_of(self, address: str) -> str | None:
        for sym, addr in self.tokens.items():
            if addr.lower() == address.lower():
                return sym
        return None


def write_config(path: Path, chains: Sequence[ChainConfig], rpc_urls: dict[str, str]) -> Path:
    """``rpc_urls`` maps chain name to the URL the services use (anvil itself on the devnet)."""
    body = {
        "chains": [
            {
                "name": c.name,
                "chain_id": c.chain_id,
                "rpc_url": rpc_urls.get(c.name, c.rpc_urls[0]),
                "spoke_pool": c.contracts["AcrossSpokePool"],
                "tokens": token_addresses(c),
            }
            for c in chains
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def read_config(path: Path | str) -> list[SpokeChain]:
    raw = json.loads(Path(path).read_text())
    return [SpokeChain(**c) for c in raw["chains"]]


def http_json(url: str, body: dict[str, Any] | None = None, timeout: float = 10.0) -> dict[str, Any]:
    """GET (``body`` None) or POST JSON to a service's admin endpoint."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        reply: dict[str, Any] = json.loads(resp.read())
    return reply


def spawn_service(
    module: str, config: Path, port: int, log: Path, detached: bool, extra: Sequence[str] = ()
) -> tuple[int, str]:
    """Start ``python -m devnet.across.<module>``; returns (pid, admin url)."""
    ensure_port_free(port)
    cmd = [sys.executable, "-m", f"devnet.across.{module}", "--config", str(config), "--port", str(port), *extra]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = spawn(cmd, detached=detached, log_path=log, cwd=REPO_ROOT, env=env)
    return proc.pid, f"http://{DEFAULT_HOST}:{port}"


def wait_service(pid: int, url: str, log: Path | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise DevnetError(f"Across service {url} exited:\n{tail}")
        try:
            http_json(url + "/state", timeout=0.5)
            return
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.05)
    raise DevnetError(f"Across service {url} not ready after {timeout:.1f}s")


async def serve_forever(
    app: web.Application, loop: Coroutine[Any, Any, None], port: int, host: str = "127.0.0.1"
) -> None:
    """Serve a service's admin ``app`` on ``host:port`` while its ``loop`` runs, until cancelled."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    task = asyncio.create_task(loop)
    try:
        await asyncio.Event().wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await runner.cleanup()
