"""The product's readers (the worker's chains, the fast path's venues, the CLI) build their
view from the registry file alone: no devnet state file anywhere, and a missing registry is
refused saying where it was looked for, why there, and how to get one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from activities.runtime import ChainRuntime
from crosslane.cli.main import app
from crosslane.config import Settings
from crosslane.registry import RegistryMissing
from workers.fastpath.server import FastPathConfig

USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
USDC_A = "0xC1C1c1c1C1C1C1c1c1C1C1C1c1C1C1C1c1C1c1c1"
SECRETS = "/run/secrets/okx.json"


def _registry() -> dict[str, Any]:
    return {
        "version": 1,
        "chains": {
            "chain-a": {
                "family": "evm",
                "chain_id": 777,
                "rpc_urls": ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b"],
                "private_relay_url": "http://127.0.0.1:2/relay",
            },
            "sol": {"family": "solana", "cluster": "localnet", "rpc_urls": ["http://127.0.0.1:3"]},
        },
        "assets": {
            "USDC": {
                "chains": {
                    "chain-a": {"address": USDC_A, "decimals": 6},
                    "sol": {"address": USDC_MINT, "decimals": 6},
                }
            }
        },
        "venues": {
            "okx": {
                "exchange": "okx",
                "rest_url": "http://127.0.0.1:4",
                "ws_url": "ws://127.0.0.1:4/ws",
                "taker_bps": "8",
                "credentials": {"secrets_file": SECRETS},
                "rate_limit": False,
                "symbols": ["SOL/USDT", "ETH/USDT"],
            },
            "binance": {
                "exchange": "binance",
                "credentials": {"env": "BINANCE_SECRETS_FILE"},
                "symbols": ["ETH/USDT"],
            },
        },
        "bridges": {"across": {"api_url": "http://127.0.0.1:5/api"}},
    }


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home holding only registry.yaml (found through CROSSLANE_HOME, no other CROSSLANE_ variable)."""
    for name in [k for k in os.environ if k.startswith("CROSSLANE_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    (home / "registry.yaml").write_text(yaml.safe_dump(_registry(), sort_keys=False))
    monkeypatch.setenv("CROSSLANE_HOME", str(home))
    monkeypatch.setenv("BINANCE_SECRETS_FILE", "/run/secrets/binance.json")
    return home


def test_worker_chains_come_from_the_registry_file_alone(home: Path) -> None:
    runtime = ChainRuntime.from_settings(Settings())
    assert not list(home.glob("devnet*"))  # nothing of a devnet: the registry file is all it read
    chain = runtime.chain("chain-a")
    assert (chain.chain_id, chain.rpc_urls) == (777, ["http://127.0.0.1:1/a", "http://127.0.0.1:1/b"])
    assert chain.private_relay_url == "http://127.0.0.1:2/relay"
    assert chain.tokens["USDC"].address == USDC_A and chain.tokens["USDC"].decimals == 6
    cluster = runtime.chains.solana_cluster("sol")
    assert cluster.rpc_url == "http://127.0.0.1:3" and cluster.mints["USDC"].mint == USDC_MINT
    assert runtime.chains.bridges.across is not None
    assert runtime.chains.bridges.across.api_url == "http://127.0.0.1:5/api"


def test_fast_path_venues_and_symbols_come_from_the_registry_file(home: Path) -> None:
    config = FastPathConfig.load()
    venues = {v.name: v for v in config.venues}
    okx = venues["okx"]
    assert (okx.exchange, okx.rest_url, okx.ws_url) == ("okx", "http://127.0.0.1:4", "ws://127.0.0.1:4/ws")
    assert okx.secrets_file == Path(SECRETS) and okx.enable_rate_limit is False and str(okx.taker_bps) == "8"
    # a credentials reference by env var: the secrets file that variable names
    assert venues["binance"].secrets_file == Path("/run/secrets/binance.json")
    assert venues["binance"].enable_rate_limit is True
    assert config.symbols == ["SOL/USDT", "ETH/USDT"]  # every venue's markets, once each, in order
    assert config.socket_path == home / "fastpath.sock"


def test_crosslane_registry_names_another_file(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = _registry()
    other["chains"]["chain-a"]["chain_id"] = 778
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(other))
    monkeypatch.setenv("CROSSLANE_REGISTRY", str(path))
    assert ChainRuntime.from_settings(Settings()).chain("chain-a").chain_id == 778


def test_missing_registry_says_where_why_and_how(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "registry.yaml").unlink()
    with pytest.raises(RegistryMissing) as caught:
        FastPathConfig.load()
    message = str(caught.value)
    assert message.startswith(f"{home / 'registry.yaml'}: no registry file here ")
    assert f"registry.yaml in the home {home}, chosen by CROSSLANE_HOME" in message
    assert "`crosslane dev up`" in message and "set CROSSLANE_REGISTRY" in message
    with pytest.raises(RegistryMissing):
        ChainRuntime.from_settings(Settings())

    monkeypatch.setenv("CROSSLANE_REGISTRY", str(home / "nowhere.yaml"))
    with pytest.raises(RegistryMissing) as named:
        ChainRuntime.from_settings(Settings())
    assert "named by CROSSLANE_REGISTRY" in str(named.value) and "check the path" in str(named.value)

    monkeypatch.delenv("CROSSLANE_REGISTRY")
    cli = CliRunner().invoke(app, ["dex", "pools", "--chain", "chain-a"], env={"COLUMNS": "400"})
    assert cli.exit_code == 1
    assert "no registry file here" in cli.output and "`crosslane dev up`" in cli.output


def test_registry_commands_default_to_the_file_crosslane_reads(home: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["registry", "validate"])
    assert shown.exit_code == 0, shown.output
    assert f"{home / 'registry.yaml'}: valid: 2 chains (evm, solana), 1 assets, 2 venues" in shown.output
    (home / "registry.yaml").unlink()
    missing = runner.invoke(app, ["registry", "show"], env={"COLUMNS": "400"})
    assert missing.exit_code == 2 and "no registry file here" in missing.output
