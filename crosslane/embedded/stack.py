"""The embedded stack's own services: the Temporal dev server, an orchestrator worker and the
fast path, on the home's ports.

Processes run detached (they outlive the command); their pids live in
``$CROSSLANE_HOME/stack.json`` (the home: see ``crosslane.config.resolve_home``).
``crosslane.embedded.health`` checks each one answers. What the worker signs for and which
chains it reaches are the caller's: the devnet's ``crosslane dev up`` starts its sandbox
first and hands its dev keys in through the worker's environment.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from connectors.evm.signer import write_keystore
from crosslane.config import Settings
from crosslane.embedded.processes import pid_alive, spawn, stop_pid
from crosslane.embedded.temporal_server import start_dev_server, wait_ready

# The embedded scanner watches the showcase's market, every 2 s: each pass evaluates every
# pair of its sources, and a busy two-core dev machine has the rest of the stack to run.
# `crosslane arb scan` with other options scans more.
SCANNER_ARGS = ("--market", "WETH/USDC", "--interval", "2")


@dataclass
class StackState:
    temporal_pid: int
    temporal_address: str
    ui_url: str
    worker_pid: int
    worker_log: str
    fastpath_pid: int = 0
    scanner_pid: int = 0
    extra_pids: dict[str, int] = field(default_factory=dict)  # a caller's own services, by name
    metrics: dict[str, str] = field(default_factory=dict)  # service -> its Prometheus endpoint URL
    traces_file: str = ""  # the worker's OpenTelemetry spans, one JSON object a line

    @classmethod
    def load(cls, path: Path) -> StackState | None:
        return cls(**json.loads(path.read_text())) if path.exists() else None

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def stack_path(cfg: Settings) -> Path:
    return cfg.home / "stack.json"


def ensure_keystore(cfg: Settings, keys: Mapping[str, str]) -> tuple[Path, Path]:
    """Encrypted keystores of ``keys`` (address -> private key) in the home, with a random
    password file (mode 600); keys already there are kept."""
    directory = cfg.home / "keystore"
    password_file = cfg.home / "keystore.password"
    if not password_file.exists():
        cfg.home.mkdir(parents=True, exist_ok=True)
        password_file.write_text(secrets.token_urlsafe(24))
        password_file.chmod(0o600)
    password = password_file.read_text().strip()
    for address, key in keys.items():
        if not (directory / f"{address}.json").exists():
            write_keystore(key, password, directory)
    return directory, password_file


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


@dataclass(frozen=True)
class StackService:
    """A Python service of the stack: its module (and arguments), its log, and the line it
    logs once serving."""

    module: str
    log: Path
    marker: str
    what: str
    step: str  # for ``progress``
    args: tuple[str, ...] = ()


async def _ensure_running(
    pid: int, service: StackService, *, env: Mapping[str, str], cwd: Path | None, progress: Callable[[str], None]
) -> int:
    """``pid`` if it still runs, else the pid of a fresh detached ``python -m <module>`` once it
    serves. A process that does not come up is stopped before the error is raised: a failed
    start leaves nothing running that no state file names."""
    if pid and pid_alive(pid):
        return pid
    progress(service.step)
    service.log.write_text("")
    cmd = [sys.executable, "-m", service.module, *service.args]
    proc = spawn(cmd, detached=True, log_path=service.log, cwd=cwd, env=dict(env))
    try:
        await _wait_logged(service.log, proc.pid, service.marker, service.what)
    except BaseException:
        stop_pid(proc.pid)
        raise
    return proc.pid


def base_env(cfg: Settings, extra: Mapping[str, str] = {}) -> dict[str, str]:  # noqa: B006 - read only
    """A service's environment: this stack's settings, never a raw key or password from ours."""
    env = {k: v for k, v in os.environ.items() if k not in ("CROSSLANE_SIGNER_KEYS", "CROSSLANE_KEYSTORE_PASSWORD")}
    env.update(
        CROSSLANE_HOME=str(cfg.home),
        CROSSLANE_TEMPORAL_ADDRESS=cfg.temporal_address,
        CROSSLANE_TASK_QUEUE=cfg.task_queue,
        CROSSLANE_ARB_STREAM=cfg.arb_stream,
    )
    if cfg.db_url_override:
        env["CROSSLANE_DB_URL"] = cfg.db_url_override
    if cfg.registry_override:
        env["CROSSLANE_REGISTRY"] = cfg.registry_override
    env.update(extra)
    return env


async def services_up(
    cfg: Settings,
    *,
    worker_env: Mapping[str, str],
    env: Mapping[str, str] = {},  # noqa: B006 - read only
    cwd: Path | None = None,
    progress: Callable[[str], None] = print,
    extra: Mapping[str, StackService] = {},  # noqa: B006 - read only
) -> StackState:
    """Start what is not running (idempotent): Temporal, the worker (with ``worker_env`` on top
    of ``env``: its keystore, its keys), the fast path, the arbitrage scanner, and ``extra``
    (a caller's services by name, e.g. the devnet's noise trader)."""
    logs = cfg.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = stack_path(cfg)
    current = StackState.load(path)
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
        if server:
            stop_pid(server.pid)
        raise RuntimeError(f"{exc}\n{log_tail}") from None
    worker_log = logs / "worker.log"
    ports = cfg.metrics_ports
    traces = logs / "traces.jsonl"

    def telemetry(service: str) -> dict[str, str]:
        return {"CROSSLANE_METRICS_PORT": str(ports[service])} if service in ports else {}

    # Saved after every service that comes up, so a start that fails half way leaves a state
    # file naming what runs, and `dev down` (services_down) stops it.
    state = StackState(
        temporal_pid=temporal_pid,
        temporal_address=cfg.temporal_address,
        ui_url=f"http://127.0.0.1:{cfg.ui_port}",
        worker_pid=current.worker_pid if current else 0,
        worker_log=str(worker_log),
        fastpath_pid=current.fastpath_pid if current else 0,
        scanner_pid=current.scanner_pid if current else 0,
        extra_pids=dict(current.extra_pids) if current else {},
        metrics={service: f"http://127.0.0.1:{port}/metrics" for service, port in ports.items()},
        traces_file=str(traces),
    )
    state.save(path)
    state.worker_pid = await _ensure_running(
        state.worker_pid,
        StackService("workers.orchestrator", worker_log, "worker on", "the worker", "orchestrator worker"),
        env=base_env(cfg, {**env, **worker_env, **telemetry("worker"), "CROSSLANE_TRACES_FILE": str(traces)}),
        cwd=cwd,
        progress=progress,
    )
    state.save(path)
    state.fastpath_pid = await _ensure_running(
        state.fastpath_pid,
        StackService("workers.fastpath", logs / "fastpath.log", "fast path on", "the fast path", "fast path"),
        env=base_env(cfg, {**env, **telemetry("fastpath")}),
        cwd=cwd,
        progress=progress,
    )
    state.save(path)
    state.scanner_pid = await _ensure_running(
        state.scanner_pid,
        StackService(
            "workers.scanner",
            logs / "scanner.log",
            "scanning ",
            "the arbitrage scanner",
            "arbitrage scanner",
            args=SCANNER_ARGS,
        ),
        env=base_env(cfg, {**env, **telemetry("scanner")}),
        cwd=cwd,
        progress=progress,
    )
    state.save(path)
    for name, service in extra.items():
        state.extra_pids[name] = await _ensure_running(
            state.extra_pids.get(name, 0), service, env=base_env(cfg, env), cwd=cwd, progress=progress
        )
        state.save(path)
    return state


def services_down(cfg: Settings) -> list[str]:
    """Stop what ``services_up`` started; what it stopped."""
    stopped: list[str] = []
    state = StackState.load(stack_path(cfg))
    if state:
        for name, pid in (
            *state.extra_pids.items(),
            ("scanner", state.scanner_pid),
            ("fastpath", state.fastpath_pid),
            ("worker", state.worker_pid),
            ("temporal", state.temporal_pid),
        ):
            if pid_alive(pid) and stop_pid(pid):
                stopped.append(f"{name} (pid {pid})")
        stack_path(cfg).unlink(missing_ok=True)
    return stopped
