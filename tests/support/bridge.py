"""Helpers for bridge tests: requests, balances of native and wrapped assets, supply checks."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from crosslane.domain.bridge import BridgeRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from devnet.across.services import http_json
from devnet.wormhole.guardian import set_faults_sync
from tests.support.dex import ERC20_ABI, GWEI, w3_for
from tests.support.stack import Stack

SUPPLY_ABI: list[dict[str, Any]] = [
    *ERC20_ABI,
    {"type": "function", "name": "totalSupply", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "outstandingBridged", "stateMutability": "view",
     "inputs": [{"name": "t", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "isTransferCompleted", "stateMutability": "view",
     "inputs": [{"name": "h", "type": "bytes32"}], "outputs": [{"name": "", "type": "bool"}]},
    {"type": "function", "name": "completeTransfer", "stateMutability": "nonpayable",
     "inputs": [{"name": "v", "type": "bytes"}], "outputs": []},
]  # fmt: skip


def asset_address(stack: Stack, chain: str, asset: str) -> str:
    config = stack.chains.get(chain)
    if asset.startswith("Wormhole:"):
        return config.contracts[asset]
    return config.tokens[asset].address


def holding(stack: Stack, chain: str, asset: str, owner: str) -> int:
    """``owner``'s balance of ``asset`` (a symbol or ``Wormhole:<origin>:<symbol>``) on ``chain``."""
    return int(_contract(stack, chain, asset_address(stack, chain, asset)).functions.balanceOf(owner).call())


def _contract(stack: Stack, chain: str, address: str) -> Any:
    return w3_for(stack, chain).eth.contract(address=Web3.to_checksum_address(address), abi=SUPPLY_ABI)


def wormhole_supply(stack: Stack, origin: str, symbol: str) -> tuple[int, int, int]:
    """(locked in the origin's token bridge, the bridge's outstanding record, wrapped supply on
    every other chain), in the token's base units: all three equal when supply is conserved.
    (The bridge records amounts normalised to 8 decimals.)"""
    chains = stack.chains
    info = chains.get(origin).tokens[symbol]
    token = info.address
    bridge = chains.get(origin).contracts["WormholeTokenBridge"]
    locked = int(_contract(stack, origin, token).functions.balanceOf(Web3.to_checksum_address(bridge)).call())
    outstanding = int(_contract(stack, origin, bridge).functions.outstandingBridged(token).call())
    outstanding *= 10 ** max(0, info.decimals - 8)
    wrapped = 0
    for name, chain in chains.chains.items():
        address = chain.contracts.get(f"Wormhole:{origin}:{symbol}")
        if name != origin and address:
            wrapped += int(_contract(stack, name, address).functions.totalSupply().call())
    return locked, outstanding, wrapped


def bridge_request(signer: str, request_id: str, **overrides: Any) -> BridgeRequest:
    body: dict[str, Any] = {
        "request_id": request_id,
        "source_chain": "devnet-a",
        "destination_chain": "devnet-b",
        "asset": "USDC",
        "amount": 1_000 * 10**6,
        "signer": signer,
        "fees": FeePolicy(max_fee_per_gas_cap=100 * GWEI),
        "policy": ReplacementPolicy(poll_interval_ms=100),
        **overrides,
    }
    return BridgeRequest.model_validate(body)


def relayer_url(stack: Stack) -> str:
    return stack.sandbox.devnet.processes["across-relayer"].url


def dataworker_url(stack: Stack) -> str:
    return stack.sandbox.devnet.processes["across-dataworker"].url


def guardian_url(stack: Stack) -> str:
    assert stack.sandbox.devnet.wormhole is not None
    return stack.sandbox.devnet.wormhole.guardian_url


def relayer(stack: Stack, **settings: Any) -> dict[str, Any]:
    """Configure the Across relayer (``stopped``, ``out_of_inventory``...); its state."""
    state: dict[str, Any] = http_json(relayer_url(stack) + "/admin", settings)
    return state


def guardians(stack: Stack, **faults: Any) -> dict[str, Any]:
    return set_faults_sync(guardian_url(stack), **faults)
