"""The devnet comes up on free ports, holds real contracts, and its proxies inject faults.

One attached devnet (with proxies) is shared by the module; the lifecycle test starts
its own detached one. Every fixture stops what it started, even on failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_typing import HexStr
from web3 import Web3
from web3.providers import HTTPProvider
from web3.types import TxParams, Wei

from crosslane.domain.chains import ChainRegistry
from crosslane.embedded.processes import pid_alive, stop_pid
from crosslane.registry import load_registry
from devnet.anvil import REPO_ROOT, DevnetError, dev_account, ensure_port_free, find_free_port, rpc_call, start_anvil
from devnet.deploy import MULTICALL3_ADDRESS, TEST_TOKENS
from devnet.manager import devnet_down, devnet_status, devnet_up
from devnet.registry_export import registry_path
from devnet.rpc_proxy import get_faults_sync, set_faults_sync
from devnet.state import DevnetState

pytestmark = pytest.mark.timeout(60)

ERC20_ABI: list[dict[str, Any]] = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "name": "decimals",
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint8"}],
    },
    {
        "name": "deposit",
        "type": "function",
        "stateMutability": "payable",
        "inputs": [],
        "outputs": [],
    },
]
MULTICALL3_GET_CHAIN_ID = HexStr("0x3408e470")  # getChainId()


def _stop_all(state: DevnetState | None) -> None:
    for proc in state.processes.values() if state else ():
        stop_pid(proc.pid, timeout=2.0)


@pytest.fixture(scope="module")
async def devnet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[DevnetState, Path]]:
    path = tmp_path_factory.mktemp("devnet") / "devnet.json"
    ports = {"devnet-a": find_free_port(), "devnet-b": find_free_port()}
    state: DevnetState | None = None
    try:
        started = time.monotonic()
        state = await devnet_up(path, ports, detached=False, proxies=True, proxy_seed=7)
        print(f"devnet up (2 chains, 4 proxies) in {time.monotonic() - started:.2f}s")
        yield state, path
    finally:
        devnet_down(path)
        _stop_all(state)  # belt and braces if the state file went missing


def _w3(state: DevnetState, chain: str) -> Web3:
    return Web3(HTTPProvider(state.anvil_url(chain)))


def test_state_file_records_the_chains_and_processes(devnet: tuple[DevnetState, Path]) -> None:
    state, path = devnet
    raw = json.loads(path.read_text())
    assert set(raw) >= {"chains", "processes", "accounts"}
    registry = ChainRegistry.from_registry(load_registry(registry_path(path)))
    assert set(registry.chains) == {"devnet-a", "devnet-b"}
    assert registry.get("devnet-a") == state.chains["devnet-a"]
    assert len(state.accounts) == 10
    assert state.accounts[0] == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    for proc in raw["processes"].values():
        assert {"pid", "port", "log"} <= set(proc)
        assert Path(proc["log"]).exists()


def test_registry_file_beside_the_state_validates_and_matches_it(devnet: tuple[DevnetState, Path]) -> None:
    """The devnet's registry.yaml (the product's format, all the product reads of it) carries
    exactly the chains, tokens, dexes and bridges the devnet recorded."""
    state, path = devnet
    written = registry_path(path)
    assert written.parent == path.parent
    registry = load_registry(written)
    assert ChainRegistry.from_registry(registry) == state.registry()
    assert set(registry.assets) >= {"WETH", *(t.symbol for t in TEST_TOKENS)}


def test_chains_answer_with_distinct_ids(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    ids = {name: _w3(state, name).eth.chain_id for name in ("devnet-a", "devnet-b")}
    assert ids == {"devnet-a": 31337, "devnet-b": 31338}
    for name, chain in state.chains.items():
        assert chain.chain_id == ids[name]
        assert len(chain.rpc_urls) == 2  # primary and secondary proxy
        for url in chain.rpc_urls:
            assert int(rpc_call(url, "eth_chainId"), 16) == ids[name]


def test_tokens_have_decimals_and_minted_balances(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    expected = {spec.symbol: spec for spec in TEST_TOKENS}
    for name, chain in state.chains.items():
        w3 = _w3(state, name)
        assert chain.tokens["WETH"].decimals == 18
        assert chain.tokens["WETH"].address == chain.contracts["WETH9"]
        for symbol, spec in expected.items():
            token = chain.tokens[symbol]
            assert token.decimals == spec.decimals
            assert chain.contracts[symbol] == token.address
            erc20 = w3.eth.contract(address=Web3.to_checksum_address(token.address), abi=ERC20_ABI)
            assert erc20.functions.decimals().call() == spec.decimals
            for account in (state.accounts[0], state.accounts[9]):
                balance = erc20.functions.balanceOf(account).call()
                assert balance == spec.mint_whole * 10**spec.decimals


def test_weth9_deposit(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    w3 = _w3(state, "devnet-b")
    address, key = dev_account(3)
    weth = w3.eth.contract(
        address=Web3.to_checksum_address(state.chains["devnet-b"].contracts["WETH9"]),
        abi=ERC20_ABI,
    )
    before = weth.functions.balanceOf(address).call()
    base_fee = w3.eth.get_block("latest")["baseFeePerGas"]
    params: TxParams = {
        "from": address,
        "value": Wei(10**18),
        "nonce": w3.eth.get_transaction_count(address),
        "gas": 100_000,
        "maxFeePerGas": Wei(2 * base_fee + 10**9),
        "maxPriorityFeePerGas": Wei(10**9),
        "chainId": 31338,
    }
    tx = weth.functions.deposit().build_transaction(params)
    signed = Account.sign_transaction(tx, key)
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
    assert receipt["status"] == 1
    assert weth.functions.balanceOf(address).call() == before + 10**18


def test_multicall3_at_canonical_address(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    for name, chain in state.chains.items():
        w3 = _w3(state, name)
        assert chain.contracts["Multicall3"] == MULTICALL3_ADDRESS
        assert len(w3.eth.get_code(MULTICALL3_ADDRESS)) > 1000
        out = w3.eth.call({"to": MULTICALL3_ADDRESS, "data": MULTICALL3_GET_CHAIN_ID})
        assert int.from_bytes(out, "big") == chain.chain_id


def test_proxy_faults_toggle(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    primary, secondary = state.chains["devnet-a"].rpc_urls
    try:
        assert int(rpc_call(primary, "eth_chainId"), 16) == 31337

        set_faults_sync(primary, down=True)
        with pytest.raises((OSError, urllib.error.URLError)):
            rpc_call(primary, "eth_chainId")
        # The secondary fails independently: still up.
        assert int(rpc_call(secondary, "eth_chainId"), 16) == 31337

        set_faults_sync(primary, down=False, error_rate=1.0)
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            rpc_call(primary, "eth_chainId")
        assert excinfo.value.code == 503

        set_faults_sync(primary, error_rate=0.0, latency_ms=150)
        started = time.monotonic()
        assert int(rpc_call(primary, "eth_chainId"), 16) == 31337
        assert time.monotonic() - started >= 0.15

        set_faults_sync(primary, reset=True)
        assert int(rpc_call(primary, "eth_chainId"), 16) == 31337
        report = get_faults_sync(primary)
        assert report["faults"] == {
            "latency_ms": 0.0,
            "error_rate": 0.0,
            "drop_rate": 0.0,
            "down": False,
        }
        assert report["stats"]["dropped"] >= 1 and report["stats"]["errored"] >= 1
    finally:
        set_faults_sync(primary, reset=True)


def test_proxy_drop_rate_is_seeded(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    primary = state.chains["devnet-b"].rpc_urls[0]
    try:
        set_faults_sync(primary, drop_rate=0.5)
        outcomes = []
        for _ in range(20):
            try:
                rpc_call(primary, "eth_blockNumber")
                outcomes.append(True)
            except (OSError, urllib.error.URLError):
                outcomes.append(False)
        assert 0 < sum(outcomes) < 20  # some pass, some drop
    finally:
        set_faults_sync(primary, reset=True)


def test_proxy_rejects_invalid_faults(devnet: tuple[DevnetState, Path]) -> None:
    state, _ = devnet
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        set_faults_sync(state.chains["devnet-a"].rpc_urls[1], error_rate=2)
    assert excinfo.value.code == 400


def test_status_reports_up(devnet: tuple[DevnetState, Path]) -> None:
    _, path = devnet
    status = devnet_status(path)
    assert status.up, status.problems
    assert {c.name for c in status.chains if c.reachable} == {"devnet-a", "devnet-b"}
    assert len(status.processes) == 6 and all(p.alive for p in status.processes)


_UP_AND_EXIT = """
import asyncio, json, sys
from devnet.manager import devnet_up
asyncio.run(devnet_up(sys.argv[1], json.loads(sys.argv[2]), detached=True, proxies=True))
"""


async def test_detached_devnet_outlives_its_starter_then_goes_down(tmp_path: Path) -> None:
    """What `crosslane devnet up` does: start, exit; later processes find and stop it."""
    path = tmp_path / "devnet.json"
    ports = {"devnet-a": find_free_port(), "devnet-b": find_free_port()}
    state: DevnetState | None = None
    try:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-c", _UP_AND_EXIT, str(path), json.dumps(ports)],
            check=True,
            cwd=REPO_ROOT,
            timeout=30,
        )
        print(f"detached devnet up (fresh interpreter) in {time.monotonic() - started:.2f}s")
        state = DevnetState.load(path)
        assert state is not None
        assert devnet_status(path).up
        primary = state.chains["devnet-a"].rpc_urls[0]
        assert int(rpc_call(primary, "eth_chainId"), 16) == 31337

        # Up again: the same devnet, not a second one; different options are refused.
        assert await devnet_up(path, ports, proxies=True) == state
        with pytest.raises(DevnetError, match="already up"):
            await devnet_up(path, ports, proxies=False)

        assert registry_path(path).exists()
        stopped = devnet_down(path)
        assert sorted(stopped) == sorted(state.processes)
        assert not path.exists() and not registry_path(path).exists()
        for proc in state.processes.values():
            assert not pid_alive(proc.pid)
            ensure_port_free(proc.port)
        assert not devnet_status(path).up
        assert devnet_down(path) == []
    finally:
        devnet_down(path)
        _stop_all(state)


async def test_stale_state_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "devnet.json"
    ports = {"devnet-a": find_free_port(), "devnet-b": find_free_port()}
    first: DevnetState | None = None
    second: DevnetState | None = None
    try:
        first = await devnet_up(path, ports, detached=False)
        stop_pid(first.processes["anvil-devnet-b"].pid)  # chain b dies behind our back
        assert not devnet_status(path).up
        second = await devnet_up(path, ports, detached=False)
        assert second.processes["anvil-devnet-b"].pid != first.processes["anvil-devnet-b"].pid
        assert devnet_status(path).up
    finally:
        devnet_down(path)
        _stop_all(first)
        _stop_all(second)


def test_port_in_use_and_missing_binary_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    anvil = start_anvil(find_free_port(), 4242)
    try:
        with pytest.raises(DevnetError, match="already in use"):
            start_anvil(anvil.port, 4243)
    finally:
        anvil.stop()
    monkeypatch.setenv("CROSSLANE_ANVIL_BIN", "/nonexistent/anvil")
    with pytest.raises(DevnetError, match="CROSSLANE_ANVIL_BIN"):
        start_anvil(find_free_port(), 4244)
