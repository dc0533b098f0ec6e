"""The devnet's one state file: what runs where, for the devnet's own commands.

The product never reads it: ``devnet_up`` writes the product's registry file beside it
(:mod:`devnet.registry_export`), and workers, the CLI and the fast path read that. Only
public addresses are stored: no keys, no mnemonic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from crosslane.atomic import write_text_atomic
from crosslane.config import Settings, settings
from crosslane.domain.bridge_endpoints import (
    AcrossEndpoints,
    BridgeEndpoints,
    OpCanonicalEndpoints,
    WormholeEndpoints,
)
from crosslane.domain.chains import ChainConfig, ChainRegistry
from crosslane.domain.solana import SolanaCluster

STATE_VERSION = 1
STATE_FILE = "devnet.json"


def default_state_path(cfg: Settings | None = None) -> Path:
    """The embedded stack's devnet state file: ``devnet.json`` in the home of ``cfg``
    (default: the settings of this process). The product reads the registry, never this."""
    return (cfg or settings()).home / STATE_FILE


class ProcessInfo(BaseModel):
    kind: Literal[
        "anvil",
        "rpc_proxy",
        "cex",
        "private_relay",
        "wormhole_guardian",
        "across_relayer",
        "across_dataworker",
        "solana",
        "op_rollup",
    ]
    pid: int
    port: int
    url: str
    log: str | None = None
    chain: str | None = None
    detached: bool = True
    venue: str | None = None  # cex only
    ws_url: str | None = None  # cex only


class SimulatedVenue(BaseModel):
    """A simulated exchange as ccxt reaches it: replace the origin of every ``urls['api']`` URL.

    ``rest_url`` replaces https origins, ``ws_url`` (it ends in ``/stream``, which ccxt.pro's
    binance needs in its spot socket URL) wss origins. The API keys are not here: they are in
    ``credentials_file`` (mode 600), under the names in ``accounts``.
    """

    venue: str
    exchange: str = Field(description="ccxt exchange id")
    rest_url: str
    ws_url: str
    credentials_file: str
    accounts: list[str] = Field(default_factory=list)
    maker_bps: Decimal = Decimal(0)  # the fee tier the devnet accounts trade at
    taker_bps: Decimal = Decimal(0)


class DevnetOptions(BaseModel):
    """What ``devnet_up`` was asked for, so a second ``up`` can tell if it matches."""

    block_time: float | None = None
    proxies: bool = False
    detached: bool = True
    cex: bool = False
    private_relay: bool = False
    wormhole: bool = False
    across: bool = False
    solana: bool = False
    op_stack: bool = False
    op_finalization_seconds: int | None = None


class WormholeInfo(BaseModel):
    """Wormhole on the devnet: the guardian REST API, the chain ids, the guardian set.

    Contract addresses are in each chain's ``contracts`` (``WormholeCore``,
    ``WormholeTokenBridge``, wrapped assets as ``Wormhole:<source chain>:<symbol>``).
    """

    guardian_url: str
    chain_ids: dict[str, int] = Field(description="devnet chain name -> Wormhole chain id")
    guardians: list[str] = Field(default_factory=list, description="guardian set 0 addresses")
    quorum: int = 3
    confirmations: int = 1


class DevnetState(BaseModel):
    version: int = STATE_VERSION
    started_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    options: DevnetOptions = Field(default_factory=DevnetOptions)
    chains: dict[str, ChainConfig] = Field(default_factory=dict)
    processes: dict[str, ProcessInfo] = Field(default_factory=dict)
    accounts: list[str] = Field(default_factory=list, description="anvil dev accounts 0..9")
    cex: dict[str, SimulatedVenue] = Field(default_factory=dict, description="exchange simulators by venue")
    wormhole: WormholeInfo | None = None
    solana: SolanaCluster | None = Field(default=None, description="the Solana node, its mints (no keys)")

    def bridge_endpoints(self) -> BridgeEndpoints:
        """Where the product reaches the devnet's bridges: the guardians' API, and the Across
        API the relayer answers (``<relayer>/api``)."""
        wormhole = None
        if self.wormhole is not None:
            wormhole = WormholeEndpoints(
                guardian_url=self.wormhole.guardian_url,
                chain_ids=self.wormhole.chain_ids,
                finality=self.wormhole.confirmations,
            )
        relayer = next((p for p in self.processes.values() if p.kind == "across_relayer"), None)
        across = AcrossEndpoints(api_url=relayer.url.rstrip("/") + "/api") if relayer else None
        op_canonical = None
        if self.options.op_finalization_seconds is not None:  # the devnet's rollup: seconds, not days
            op_canonical = OpCanonicalEndpoints(
                deposit_seconds=5,
                finalization_seconds=self.options.op_finalization_seconds,
                output_interval_seconds=5,
            )
        return BridgeEndpoints(wormhole=wormhole, across=across, op_canonical=op_canonical)

    def registry(self) -> ChainRegistry:
        """The devnet as the product sees it through the registry file it writes."""
        solana = {self.solana.name: self.solana} if self.solana is not None else {}
        return ChainRegistry(chains=self.chains, bridges=self.bridge_endpoints(), solana=solana)

    def anvil_url(self, chain: str) -> str:
        """The chain's anvil itself, bypassing any fault proxy in ``rpc_urls``."""
        for proc in self.processes.values():
            if proc.kind == "anvil" and proc.chain == chain:
                return proc.url
        raise KeyError(f"no anvil recorded for chain {chain!r}")

    def save(self, path: Path) -> None:
        """Atomic replace, so readers never see a half-written file."""
        write_text_atomic(path, self.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> DevnetState | None:
        if not path.exists():
            return None
        return cls.model_validate_json(path.read_text())


class ProcessStatus(BaseModel):
    name: str
    kind: str
    pid: int
    port: int
    alive: bool


class ChainStatus(BaseModel):
    name: str
    chain_id: int
    rpc_url: str
    reachable: bool
    block_number: int | None = None


class DevnetStatus(BaseModel):
    state_path: str
    up: bool
    processes: list[ProcessStatus] = Field(default_factory=list)
    chains: list[ChainStatus] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
