"""Process settings, read once from the environment.

Every path defaults to the embedded stack under ``.crosslane/`` in the working directory,
so a fresh checkout runs without configuration; production overrides by environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

TASK_QUEUE = "crosslane"


def _home() -> Path:
    return Path(os.environ.get("CROSSLANE_HOME", ".crosslane")).resolve()


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=_home)
    temporal_address: str = field(
        default_factory=lambda: os.environ.get("CROSSLANE_TEMPORAL_ADDRESS", "127.0.0.1:7233")
    )
    temporal_namespace: str = field(default_factory=lambda: os.environ.get("CROSSLANE_TEMPORAL_NAMESPACE", "default"))
    task_queue: str = field(default_factory=lambda: os.environ.get("CROSSLANE_TASK_QUEUE", TASK_QUEUE))
    db_url_override: str | None = field(default_factory=lambda: os.environ.get("CROSSLANE_DB_URL"))
    devnet_state_override: str | None = field(default_factory=lambda: os.environ.get("CROSSLANE_DEVNET_STATE"))
    ui_port: int = field(default_factory=lambda: int(os.environ.get("CROSSLANE_TEMPORAL_UI_PORT", "8233")))
    devnet_ports_spec: str = field(
        default_factory=lambda: os.environ.get("CROSSLANE_DEVNET_PORTS", "devnet-a=8545,devnet-b=8546")
    )
    cex_ports_spec: str = field(default_factory=lambda: os.environ.get("CROSSLANE_CEX_PORTS", "binance=8611,okx=8612"))
    solana_port: int = field(default_factory=lambda: int(os.environ.get("CROSSLANE_SOLANA_PORT", "8899")))

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
    def devnet_state_path(self) -> Path:
        if self.devnet_state_override:
            return Path(self.devnet_state_override)
        return self.home / "devnet.json"


def _ports(spec: str) -> dict[str, int]:
    """``name=port,name=port`` as a dict."""
    ports: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, _, port = item.partition("=")
        ports[name.strip()] = int(port)
    return ports


def settings() -> Settings:
    return Settings()
