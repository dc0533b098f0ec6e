"""Start and probe local anvil chains (processes are started and stopped through
:mod:`crosslane.embedded.processes`, detached or attached)."""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress

from crosslane.embedded.processes import spawn, stop_pid

DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_ACCOUNTS = 10

REPO_ROOT = Path(__file__).resolve().parent.parent


class DevnetError(RuntimeError):
    """The local sandbox could not be started, reached or stopped."""


def node_modules_dir() -> Path:
    """npm packages the devnet takes binaries and bytecode from (override for installs)."""
    override = os.environ.get("CROSSLANE_NODE_MODULES")
    return Path(override) if override else REPO_ROOT / "node_modules"


def find_anvil_binary() -> Path:
    """The anvil from the npm ``@foundry-rs/anvil`` package, else one on PATH."""
    override = os.environ.get("CROSSLANE_ANVIL_BIN")
    if override:
        path = Path(override)
        if not path.is_file():
            raise DevnetError(f"CROSSLANE_ANVIL_BIN={override} does not exist")
        return path
    candidates = sorted((node_modules_dir() / "@foundry-rs").glob("anvil-*/bin/anvil"))
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    preferred = [c for c in candidates if f"{sys.platform}-{machine}" in c.parts[-3]]
    for path in preferred + candidates:
        if os.access(path, os.X_OK):
            return path
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise DevnetError(
        f"anvil binary not found under {node_modules_dir()}/@foundry-rs/anvil-*/bin "
        "nor on PATH; run `npm ci` in the repository root"
    )


def find_free_port(host: str = DEFAULT_HOST) -> int:
    """A port free right now (racy by nature; good enough for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def ensure_port_free(port: int, host: str = DEFAULT_HOST) -> None:
    """Fail early and clearly, instead of anvil exiting with a bind error in its log."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port in TIME_WAIT from a just-stopped chain is still usable.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise DevnetError(
                    f"port {host}:{port} is already in use (another devnet? "
                    "`crosslane devnet down`, or choose other ports)"
                ) from None
            raise


def dev_account(index: int, mnemonic: str = DEFAULT_MNEMONIC) -> tuple[ChecksumAddress, str]:
    """(address, private key hex) of anvil's dev account ``index``. Devnet keys only."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    acct = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
    return acct.address, "0x" + acct.key.hex().removeprefix("0x")


def dev_addresses(count: int = DEFAULT_ACCOUNTS, mnemonic: str = DEFAULT_MNEMONIC) -> list[ChecksumAddress]:
    return [dev_account(i, mnemonic)[0] for i in range(count)]


def rpc_call(url: str, method: str, params: Sequence[Any] = (), timeout: float = 2.0) -> Any:
    """One blocking JSON-RPC call (stdlib only: used for probes, not for traffic)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    req = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            reply = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the socket; callers keep the exception around
        raise
    if "error" in reply:
        raise DevnetError(f"{method} on {url}: {reply['error']}")
    return reply["result"]


def _log_tail(log_path: Path | None, lines: int = 15) -> str:
    if log_path is None or not log_path.exists():
        return "(no log)"
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class AnvilProcess:
    """A running (or starting) anvil; ``wait_ready`` before use."""

    chain_id: int
    port: int
    host: str
    pid: int
    log_path: Path | None
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Poll eth_chainId until it answers with our chain id (so it is *our* anvil)."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise DevnetError(
                    f"anvil on port {self.port} exited with {self.popen.returncode}:\n{_log_tail(self.log_path)}"
                )
            try:
                got = int(rpc_call(self.url, "eth_chainId", timeout=0.5), 16)
            except (OSError, urllib.error.URLError, DevnetError, ValueError) as exc:
                last_error = exc
                time.sleep(0.02)
                continue
            if got != self.chain_id:
                raise DevnetError(
                    f"{self.url} answers chain id {got}, expected {self.chain_id}: something else owns this port"
                )
            return
        raise DevnetError(
            f"anvil on {self.url} not ready after {timeout:.1f}s ({last_error}):\n{_log_tail(self.log_path)}"
        )

    def stop(self, timeout: float = 5.0) -> None:
        stop_pid(self.pid, timeout=timeout)


def anvil_command(
    port: int,
    chain_id: int,
    *,
    host: str = DEFAULT_HOST,
    mnemonic: str = DEFAULT_MNEMONIC,
    accounts: int = DEFAULT_ACCOUNTS,
    block_time: float | None = None,
    extra_args: Sequence[str] = (),
    binary: Path | None = None,
) -> list[str]:
    cmd = [
        str(binary or find_anvil_binary()),
        "--host",
        host,
        "--port",
        str(port),
        "--chain-id",
        str(chain_id),
        "--mnemonic",
        mnemonic,
        "--accounts",
        str(accounts),
    ]
    if block_time is not None:
        # Interval mining; anvil accepts fractional seconds here (0 is rejected upstream
        # of us: use None for automine).
        if block_time <= 0:
            raise DevnetError("block_time must be > 0 seconds, or None for automine")
        cmd += ["--block-time", f"{block_time:g}"]
    return cmd + list(extra_args)


def start_anvil(
    port: int,
    chain_id: int,
    *,
    host: str = DEFAULT_HOST,
    mnemonic: str = DEFAULT_MNEMONIC,
    accounts: int = DEFAULT_ACCOUNTS,
    block_time: float | None = None,
    detached: bool = False,
    log_path: Path | None = None,
    wait: bool = True,
    timeout: float = 10.0,
    extra_args: Sequence[str] = (),
) -> AnvilProcess:
    """Start anvil on ``host:port``; with ``wait`` (default) return once it answers."""
    binary = find_anvil_binary()
    ensure_port_free(port, host)
    cmd = anvil_command(
        port,
        chain_id,
        host=host,
        mnemonic=mnemonic,
        accounts=accounts,
        block_time=block_time,
        extra_args=extra_args,
        binary=binary,
    )
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
    proc = spawn(cmd, detached=detached, log_path=log_path)
    anvil = AnvilProcess(chain_id, port, host, proc.pid, log_path, proc)
    if wait:
        try:
            anvil.wait_ready(timeout)
        except BaseException:
            anvil.stop()
            raise
    return anvil
