"""The registry file: the example validates, every error names the file, the path in it and
the problem, secrets are refused without being echoed, and the devnet's export carries its
world unchanged."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from eth_utils import to_checksum_address
from typer.testing import CliRunner

from crosslane.cli.main import app
from crosslane.domain.chains import ChainConfig, ChainRegistry, DexDeployment, DexPoolInfo, TokenInfo
from crosslane.domain.solana import SolanaCluster, SolanaMint
from crosslane.registry import SCHEMA_PATH, RegistryError, dump_registry, load_registry, parse_registry, registry_schema
from crosslane.registry.model import SPL_TOKEN_PROGRAM
from devnet.registry_export import devnet_registry
from devnet.state import DevnetState, ProcessInfo, SimulatedVenue, WormholeInfo

EXAMPLE = Path(__file__).resolve().parents[2] / "registries" / "mainnet.example.yaml"
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"


def _addr(byte: int) -> str:
    return to_checksum_address("0x" + f"{byte:02x}" * 20)


def _base() -> dict[str, Any]:
    return {
        "version": 1,
        "chains": {
            "a": {
                "family": "evm",
                "chain_id": 1,
                "rpc_urls": ["http://a"],
                "contracts": {"WETH9": _addr(0xAB)},
                "dexes": {
                    "uniswap_v3": {
                        "protocol": "uniswap_v3",
                        "factory": _addr(0x1F),
                        "init_code_hash": "0x" + "00" * 32,
                        "fee_tiers": {500: 10},
                    }
                },
            },
            "b": {"family": "evm", "chain_id": 2, "rpc_urls": ["http://b"], "fee_model": "op-stack"},
            "sol": {"family": "solana", "cluster": "mainnet-beta", "rpc_urls": ["http://s"]},
        },
        "assets": {
            "USDC": {
                "decimals": 6,
                "chains": {
                    "a": {"address": _addr(0xC1), "decimals": 6},
                    "b": {"address": _addr(0xC2), "decimals": 6},
                    "sol": {"address": USDC_MINT, "decimals": 6},
                },
                "venues": {"binance": "USDC"},
            }
        },
        "venues": {"binance": {"exchange": "binance", "credentials": {"env": "BINANCE_SECRETS"}}},
        "bridges": {
            "across": {"api_url": "http://across/api"},
            "routes": [{"bridge": "across", "chains": ["a", "b"], "assets": ["USDC"]}],
        },
    }


def _errors(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(RegistryError) as caught:
        parse_registry(yaml.safe_dump(raw), "reg.yaml")
    return caught.value.lines


def _one_error(raw: dict[str, Any], path: str, *words: str) -> str:
    lines = _errors(raw)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"reg.yaml: {path}: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_base_is_valid_and_yields_the_product_registry() -> None:
    chains = ChainRegistry.from_registry(parse_registry(yaml.safe_dump(_base()), "reg.yaml"))
    assert chains.get("a").tokens["USDC"] == TokenInfo(symbol="USDC", address=_addr(0xC1), decimals=6)
    assert chains.get("a").dexes["uniswap_v3"].fee_tiers == {500: 10}
    assert chains.solana_cluster("sol").mints["USDC"].mint == USDC_MINT
    assert chains.solana_cluster("sol").mints["USDC"].token_program == SPL_TOKEN_PROGRAM
    assert chains.bridges.across is not None and chains.bridges.wormhole is None


def test_the_mainnet_example_validates_offline() -> None:
    registry = load_registry(EXAMPLE)
    assert {c.family for c in registry.chains.values()} == {"evm", "solana"}
    chains = ChainRegistry.from_registry(registry)
    assert {chains.get(n).chain_id for n in ("ethereum", "arbitrum", "optimism", "base")} == {1, 42161, 10, 8453}
    assert chains.solana_cluster("solana").mints["USDC"].mint == USDC_MINT
    assert registry.assets["WETH"].venues["binance"] == "ETH"


def test_committed_schema_is_the_generated_one() -> None:
    assert json.loads(SCHEMA_PATH.read_text()) == json.loads(registry_schema())


def test_editors_schema_accepts_the_example_and_refuses_a_bad_fee_model() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    example = yaml.safe_load(EXAMPLE.read_text())
    jsonschema.validate(example, schema)
    example["chains"]["base"]["fee_model"] = "legacy"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example, schema)


def test_bad_checksum_names_the_contract() -> None:
    raw = _base()
    raw["chains"]["a"]["contracts"]["WETH9"] = _addr(0xAB).lower()
    _one_error(raw, "chains.a.contracts.WETH9", "EIP-55 checksum", _addr(0xAB))


def test_bad_checksum_in_a_dex() -> None:
    raw = _base()
    raw["chains"]["a"]["dexes"]["uniswap_v3"]["factory"] = _addr(0x1F).lower()
    _one_error(raw, "chains.a.dexes.uniswap_v3.factory", "EIP-55 checksum")


def test_bad_checksum_in_liquidity_mining_addresses() -> None:
    raw = _base()
    raw["chains"]["a"]["dexes"]["uniswap_v3"]["staker"] = _addr(0x5A).lower()
    _one_error(raw, "chains.a.dexes.uniswap_v3.staker", "EIP-55 checksum")
    raw = _base()
    chef = {
        "address": _addr(0xC4),
        "reward_token": _addr(0x55),
        "farms": [{"pid": 0, "lp_token": _addr(0x1B).lower(), "alloc_point": 1}],
    }
    raw["chains"]["a"]["dexes"]["uniswap_v3"]["masterchef"] = chef
    _one_error(raw, "chains.a.dexes.uniswap_v3.masterchef.farms[0].lp_token", "EIP-55 checksum")


def test_asset_addresses_follow_the_chain_family() -> None:
    raw = _base()
    raw["assets"]["USDC"]["chains"]["sol"]["address"] = _addr(0xC1)
    _one_error(raw, "assets.USDC.chains.sol.address", "not a Solana address")
    raw = _base()
    raw["assets"]["USDC"]["chains"]["a"]["address"] = USDC_MINT
    _one_error(raw, "assets.USDC.chains.a.address", "20-byte hex address")


def test_duplicate_chain_id() -> None:
    raw = _base()
    raw["chains"]["b"]["chain_id"] = 1
    _one_error(raw, "chains.b.chain_id", "duplicate chain id 1", "chains.a")


def test_a_rollup_settles_on_a_known_l1() -> None:
    raw = _base()
    raw["chains"]["b"]["settles_on"] = "nowhere"
    _one_error(raw, "chains.b.settles_on", "unknown EVM chain 'nowhere'")
    raw["chains"]["b"]["settles_on"] = "b"
    _one_error(raw, "chains.b.settles_on", "must be an L1")
    raw["chains"]["b"]["settles_on"] = "a"
    assert parse_registry(yaml.safe_dump(raw), "reg.yaml").chains["b"].settles_on == "a"  # type: ignore[union-attr]


def test_asset_on_an_unknown_chain() -> None:
    raw = _base()
    raw["assets"]["USDC"]["chains"]["nowhere"] = {"address": _addr(0xC3), "decimals": 6}
    _one_error(raw, "assets.USDC.chains.nowhere", "unknown chain 'nowhere'", "known: a, b, sol")


def test_symbol_for_an_unknown_venue() -> None:
    raw = _base()
    raw["assets"]["USDC"]["venues"]["kraken"] = "USDC"
    _one_error(raw, "assets.USDC.venues.kraken", "unknown venue 'kraken'")


def test_decimals_mismatch() -> None:
    raw = _base()
    raw["assets"]["USDC"]["chains"]["b"]["decimals"] = 18
    _one_error(raw, "assets.USDC.chains.b.decimals", "18 differs from the asset's 6")


def test_route_with_unknown_asset_or_chain() -> None:
    raw = _base()
    raw["bridges"]["routes"][0]["assets"] = ["DAI"]
    _one_error(raw, "bridges.routes[0].assets", "unknown asset 'DAI'")
    raw = _base()
    raw["bridges"]["routes"][0]["chains"] = ["a", "zz"]
    _one_error(raw, "bridges.routes[0].chains", "unknown chain 'zz'")


def test_route_asset_missing_on_a_route_chain() -> None:
    raw = _base()
    del raw["assets"]["USDC"]["chains"]["b"]
    _one_error(raw, "bridges.routes[0].assets", "'USDC' has no token on b")


def test_route_of_a_bridge_without_endpoints() -> None:
    raw = _base()
    raw["bridges"]["routes"][0]["bridge"] = "wormhole"
    _one_error(raw, "bridges.routes[0].bridge", "no bridges.wormhole endpoints")


def test_wormhole_chain_ids_name_known_chains() -> None:
    raw = _base()
    raw["bridges"]["wormhole"] = {"guardian_url": "http://g", "chain_ids": {"a": 2, "mars": 99}}
    _one_error(raw, "bridges.wormhole.chain_ids.mars", "unknown chain 'mars'")


@pytest.mark.parametrize("field", ["api_secret", "secret", "private_key", "passphrase"])
def test_secrets_are_refused_without_echoing_them(field: str) -> None:
    raw = _base()
    raw["venues"]["binance"]["credentials"][field] = "hunter2-very-secret"
    line = _one_error(raw, f"venues.binance.credentials.{field}", "secret does not belong", "value not shown")
    assert "hunter2" not in line


def test_credentials_are_a_reference_in_one_place() -> None:
    raw = _base()
    raw["venues"]["binance"]["credentials"]["secrets_file"] = "/etc/x.json"
    _one_error(raw, "venues.binance.credentials", "exactly one of env or secrets_file")


def test_field_errors_name_the_path_without_the_family_tag() -> None:
    raw = _base()
    raw["chains"]["a"]["rpc_url"] = "http://typo"
    _one_error(raw, "chains.a.rpc_url", "Extra inputs are not permitted")
    raw = _base()
    raw["chains"]["b"]["fee_model"] = "legacy"
    _one_error(raw, "chains.b.fee_model", "eip1559")
    raw = _base()
    raw["chains"]["sol"]["family"] = "cosmos"
    _one_error(raw, "chains.sol", "cosmos")
    raw = _base()
    raw["version"] = 2
    _one_error(raw, "version")


def test_not_yaml_names_the_place_only() -> None:
    with pytest.raises(RegistryError) as caught:
        parse_registry("version: 1\nchains: {a: [\n  secret-ish text", "reg.yaml")
    [line] = caught.value.lines
    assert line.startswith("reg.yaml: not YAML: line ") and "secret-ish" not in line


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"nope\.yaml: cannot read"):
        load_registry(tmp_path / "nope.yaml")


def test_cli_validate_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["registry", "validate", str(EXAMPLE)])
    assert ok.exit_code == 0, ok.output
    assert "valid: 5 chains (evm, solana), 2 assets, 2 venues, 2 bridge routes" in ok.output
    raw = _base()
    raw["chains"]["b"]["chain_id"] = 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    failed = runner.invoke(app, ["registry", "validate", str(bad)])
    assert failed.exit_code == 2
    assert f"{bad}: chains.b.chain_id: duplicate chain id 1" in failed.output
    shown = runner.invoke(app, ["registry", "show", str(EXAMPLE)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and USDC_MINT in shown.output
    schema = runner.invoke(app, ["registry", "schema"])
    assert json.loads(schema.output) == json.loads(registry_schema())


def _devnet_state() -> DevnetState:
    usdc = TokenInfo(symbol="USDC", address=_addr(0xC1), decimals=6)
    weth = TokenInfo(symbol="WETH", address=_addr(0xEE), decimals=18)
    pool = DexPoolInfo(address=_addr(0x77), token0=_addr(0xC1), token1=_addr(0xEE), fee=500, tick_spacing=10)
    dex = DexDeployment(
        protocol="uniswap_v3",
        factory=_addr(0x1F),
        init_code_hash="0x" + "ab" * 32,
        router=_addr(0x2F),
        fee_tiers={500: 10, 3000: 60},
        pools=[pool],
    )
    v2 = DexDeployment(
        protocol="uniswap_v2", factory=_addr(0x3F), init_code_hash="0x" + "cd" * 32, fee_tiers={3000: None}
    )
    chains = {
        name: ChainConfig(
            name=name,
            chain_id=chain_id,
            rpc_urls=[f"http://127.0.0.1:{chain_id}"],
            contracts={"WETH9": _addr(0xEE), "Wormhole:devnet-b:USDC": _addr(0x55)},
            tokens={"USDC": usdc, "WETH": weth},
            dexes={"uniswap_v3": dex, "uniswap_v2": v2},
            private_relay_url="http://127.0.0.1:9999" if name == "devnet-a" else None,
        )
        for name, chain_id in (("devnet-a", 31337), ("devnet-b", 31338))
    }
    return DevnetState(
        chains=chains,
        processes={
            "across-relayer": ProcessInfo(kind="across_relayer", pid=1, port=9001, url="http://127.0.0.1:9001/")
        },
        cex={
            "binance": SimulatedVenue(
                venue="binance",
                exchange="binance",
                rest_url="http://127.0.0.1:8611",
                ws_url="ws://127.0.0.1:8611/stream",
                credentials_file="/tmp/devnet-cex-credentials.json",
                accounts=["alice"],
                maker_bps=Decimal("1.5"),
                taker_bps=Decimal("7.5"),
            )
        },
        wormhole=WormholeInfo(guardian_url="http://127.0.0.1:7071", chain_ids={"devnet-a": 2, "devnet-b": 4}),
        solana=SolanaCluster(
            name="solana-devnet",
            rpc_url="http://127.0.0.1:8899",
            mints={"USDC": SolanaMint(symbol="USDC", mint=USDC_MINT, decimals=6, token_program=SPL_TOKEN_PROGRAM)},
        ),
    )


def test_devnet_export_round_trips_to_the_same_chain_registry() -> None:
    state = _devnet_state()
    text = dump_registry(devnet_registry(state))
    registry = parse_registry(text, "registry.yaml")
    chains = ChainRegistry.from_registry(registry)
    assert chains == state.registry()
    # the devnet's own terms, translated on its side: the relayer answers the Across API
    assert chains.bridges.across is not None and chains.bridges.across.api_url == "http://127.0.0.1:9001/api"
    assert chains.bridges.wormhole is not None and chains.bridges.wormhole.chain_ids == {"devnet-a": 2, "devnet-b": 4}
    assert chains.get("devnet-a").private_relay_url == "http://127.0.0.1:9999"
    assert registry.venues["binance"].ws_url == "ws://127.0.0.1:8611/stream"
    assert registry.venues["binance"].credentials is not None
    assert registry.venues["binance"].credentials.secrets_file == "/tmp/devnet-cex-credentials.json"
    assert {r.bridge for r in registry.bridges.routes} == {"wormhole", "across"}


def test_devnet_export_is_a_fixed_point() -> None:
    exported = devnet_registry(_devnet_state())
    assert parse_registry(dump_registry(exported), "registry.yaml") == exported
