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

from crosslane.domain.chains import ChainConfig
from crosslane.embedded.processes import pid_alive, spawn
from devnet.anvil import DEFAULT_HOST, REPO_ROOT, DevnetError, ensure_port_free, rpc_call

EXCHANGE_IDS = {"binance": "binance", "okx": "okx", "kraken": "kraken"}  # venue → ccxt exchange id
# What each venue's wallet serves on every devnet chain: (token symbol or None for native ETH,
# the venue's asset, withdrawal fee, withdrawal minimum), and how it treats deposits.
WALLET_ASSETS: tuple[tuple[str | None, str, str, str], ...] = (
    ("USDC", "USDC", "1", "10"),
    (None, "ETH", "0.001", "0.01"),
)
WALLET_CONFIRMATIONS = 2
WALLET_PROCESSING_DELAY_S = 0.5
HOT_WALLET_ETH = 10_000 * 10**18
HOT_WALLET_TOKENS = 10_000_000  # whole tokens of each served token, per chain


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


def network_id(chain: str) -> str:
    """The venue's network id for a devnet chain: ``devnet-a`` → ``DEVNET-A``."""
    return chain.upper()


def configure_wallet(process: VenueProcess, chains: list[ChainConfig], anvil_urls: dict[str, str]) -> str:
    """Tell the venue which chains its wallet works on, and fund its hot wallet there (ETH
    and every served token, through anvil). Returns the hot wallet's address."""
    networks = []
    for chain in chains:
        assets: dict[str, dict[str, object]] = {}
        for symbol, asset, fee, minimum in WALLET_ASSETS:
            token = chain.tokens.get(symbol) if symbol else None
            if symbol and token is None:
                continue
            assets[asset] = {
                "token": token.address if token else None,
                "decimals": token.decimals if token else 18,
                "withdraw_fee": fee,
                "withdraw_min": minimum,
            }
        networks.append(
            {
                "network": network_id(chain.name),
                "chain": chain.name,
                "chain_id": chain.chain_id,
                "rpc_url": anvil_urls[chain.name],
                "assets": assets,
            }
        )
    body = {
        "networks": networks,
        "confirmations": WALLET_CONFIRMATIONS,
        "processing_delay_s": WALLET_PROCESSING_DELAY_S,
        "mine_while_waiting": True,  # the devnet's anvils automine
    }
    request = urllib.request.Request(
        process.rest_url + "/__admin/funding",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        hot_wallet = str(json.loads(resp.read())["hot_wallet"])
    for chain in chains:
        url = anvil_urls[chain.name]
        rpc_call(url, "anvil_setBalance", [hot_wallet, hex(HOT_WALLET_ETH)])
        for symbol, _asset, _fee, _minimum in WALLET_ASSETS:
            token = chain.tokens.get(symbol) if symbol else None
            if token is not None:
                units = HOT_WALLET_TOKENS * 10**token.decimals
                rpc_call(url, "anvil_dealERC20", [hot_wallet, token.address, hex(units)])
    return hot_wallet
