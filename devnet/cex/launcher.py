"""Start venue processes for the devnet and wait until they answer.

Used by :func:`devnet.manager.devnet_up`: one ``python -m devnet.cex`` process per venue,
detached or attached like the anvils, with the devnet's credentials file.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from crosslane.embedded.processes import pid_alive, spawn
from devnet.anvil import DEFAULT_HOST, REPO_ROOT, DevnetError, ensure_port_free

EXCHANGE_IDS = {"binance": "binance", "okx": "okx"}  # venue → ccxt exchange id


@dataclass(frozen=True)
class VenueProcess:
    venue: str
    pid: int
    port: int
    log: Path

    @property
    def rest_url(self) -> str:
        return f"http://{DEFAULT_HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{DEFAULT_HOST}:{self.port}/stream"


def venue_command(venue: str, port: int, credentials: Path, mm_seed: int, fault_seed: int | None) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "devnet.cex",
        "--venue",
        venue,
        "--port",
        str(port),
        "--credentials",
        str(credentials),
        "--mm-seed",
        str(mm_seed),
    ]
    if fault_seed is not None:
        cmd += ["--seed", str(fault_seed)]
    return cmd


def spawn_venue(
    venue: str,
    port: int,
    *,
    credentials: Path,
    log: Path,
    detached: bool,
    mm_seed: int = 1,
    fault_seed: int | None = None,
) -> VenueProcess:
    ensure_port_free(port)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = spawn(
        venue_command(venue, port, credentials, mm_seed, fault_seed),
        detached=detached,
        log_path=log,
        cwd=REPO_ROOT,
        env=env,
    )
    return VenueProcess(venue, proc.pid, port, log)


def admin_state(rest_url: str, timeout: float = 1.0) -> dict[str, object]:
    with urllib.request.urlopen(rest_url + "/__admin/state", timeout=timeout) as resp:
        data: dict[str, object] = json.loads(resp.read())
    return data


def wait_venue(process: VenueProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(process.pid):
            tail = process.log.read_text(errors="replace")[-2000:] if process.log.exists() else ""
            raise DevnetError(f"{process.venue} simulator on port {process.port} exited:\n{tail}")
        try:
            if admin_state(process.rest_url, timeout=0.5).get("venue") == process.venue:
                return
        except (OSError, urllib.error.URLError, ValueError):
            pass
        time.sleep(0.02)
    raise DevnetError(f"{process.venue} simulator on {process.rest_url} not ready after {timeout:.1f}s")
