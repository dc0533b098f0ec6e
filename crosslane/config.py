"""Process settings, read once from the environment.

Every path defaults to the embedded stack's home (see :func:`resolve_home`), so a fresh
checkout runs without configuration; production overrides by environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

TASK_QUEUE = "crosslane"
_PROJECT_MARKER = 'name = "crosslane"'


@dataclass(frozen=True)
class HomeChoice:
    path: Path
    why: str  # which rule chose it: the env var, a project checkout, the per-user default


def _project_root(start: Path) -> Path | None:
    """The Crosslane checkout holding ``start`` (its pyproject names the project), if any."""
    for folder in (start, *start.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _PROJECT_MARKER in pyproject.read_text(errors="replace"):
            return folder
    return None


def resolve_home() -> HomeChoice:
    """Where the embedded stack lives, the same from any working directory.

    ``$CROSSLANE_HOME`` if set; else ``.crosslane`` of the Crosslane checkout the command
    runs in, or else of the checkout this package is installed from (the stack `dev up` or
    ``scripts/demo`` started there); else a per-user default,
    ``$XDG_STATE_HOME/crosslane`` (``~/.local/state/crosslane``).
    """
    if override := os.environ.get("CROSSLANE_HOME"):
        return HomeChoice(Path(override).expanduser().resolve(), "CROSSLANE_HOME")
    if project := _project_root(Path.cwd()):
        return HomeChoice(project / ".crosslane", f"the project of the working directory, {project}")
    if project := _project_root(Path(__file__).resolve().parent.parent):
        return HomeChoice(project / ".crosslane", f"the project crosslane is installed from, {project}")
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return HomeChoice(state / "crosslane", "the per-user default: no project here, CROSSLANE_HOME unset")


def _home() -> Path:
    return resolve_home().path


DEFAULT_ARB_STREAM = "127.0.0.1:7390"  # where the arbitrage scanner publishes (loopback)


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=_home)
    temporal_address: str = field(
        default_factory=lambda: os.environ.get("CROSSLANE_TEMPORAL_ADDRESS", "127.0.0.1:7233")
    )
    temporal_namespace: str = field(default_factory=lambda: os.environ.get("CROSSLANE_TEMPORAL_NAMESPACE", "default"))
    task_queue: str = field(default_factory=lambda: os.environ.get("CROSSLANE_TASK_QUEUE", TASK_QUEUE))
    db_url_override: str | None = field(default_factory=lambda: os.environ.get("CROSSLANE_DB_URL"))
    registry_override: str | None = field(default_factory=lambda: os.environ.get("CROSSLANE_REGISTRY"))
    ui_port: int = field(default_factory=lambda: int(os.environ.get("CROSSLANE_TEMPORAL_UI_PORT", "8233")))
    devnet_ports_spec: str = field(
        default_factory=lambda: os.environ.get("CROSSLANE_DEVNET_PORTS", "devnet-a=8545,devnet-b=8546,devnet-op=8547")
    )
    cex_ports_spec: str = field(
        default_factory=lambda: os.environ.get("CROSSLANE_CEX_PORTS", "binance=8611,okx=8612,kraken=8613")
    )
    arb_stream: str = field(default_factory=lambda: os.environ.get("CROSSLANE_ARB_STREAM", DEFAULT_ARB_STREAM))
    solana_port: int = field(default_factory=lambda: int(os.environ.get("CROSSLANE_SOLANA_PORT", "8899")))
    # This process's Prometheus endpoint on 127.0.0.1 (unset: no endpoint); `dev up` gives
    # each service its own from ``metrics_ports_spec``.
    metrics_port: int | None = field(
        default_factory=lambda: int(port) if (port := os.environ.get("CROSSLANE_METRICS_PORT")) else None
    )
    # 127.0.0.1 unless a container's scraper must reach it (docker-compose.yml sets 0.0.0.0).
    metrics_host: str = field(default_factory=lambda: os.environ.get("CROSSLANE_METRICS_HOST", "127.0.0.1"))
    metrics_ports_spec: str = field(
        default_factory=lambda: os.environ.get("CROSSLANE_METRICS_PORTS", "worker=9471,fastpath=9472,scanner=9473")
    )
    # OpenTelemetry spans of the worker's workflows and activities, one JSON object a line (unset: none).
    traces_file: Path | None = field(
        default_factory=lambda: Path(path) if (path := os.environ.get("CROSSLANE_TRACES_FILE")) else None
    )

    @property
    def db_url(self) -> str:
        return self.db_url_override or f"sqlite:///{self.home / 'ledger.db'}"

    @property
    def devnet_ports(self) -> dict[str, int]:
        """Anvil port per chain for the embedded stack."""
        return _ports(self.devnet_ports_spec)

    @property
    def cex_ports(self) -> dict[str, int]:
        """Simulated exchange port per venue for the embedded stack."""
        return _ports(self.cex_ports_spec)

    @property
    def metrics_ports(self) -> dict[str, int]:
        """Prometheus port per embedded stack service (worker, fastpath, scanner)."""
        return _ports(self.metrics_ports_spec)

    @property
    def registry_path(self) -> Path:
        """The registry file the product reads: ``CROSSLANE_REGISTRY``, else the one the
        embedded stack's devnet writes in the home (``registry.yaml``)."""
        if self.registry_override:
            return Path(self.registry_override).expanduser()
        return self.home / "registry.yaml"

    @property
    def registry_why(self) -> str:
        """Why :attr:`registry_path` is where it is, for messages."""
        if self.registry_override:
            return "named by CROSSLANE_REGISTRY"
        home = resolve_home()
        why = home.why if home.path == self.home else "the caller's settings"
        return f"registry.yaml in the home {self.home}, chosen by {why}"


def _ports(spec: str) -> dict[str, int]:
    """``name=port,name=port`` as a dict."""
    ports: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, _, port = item.partition("=")
        ports[name.strip()] = int(port)
    return ports


def settings() -> Settings:
    return Settings()
