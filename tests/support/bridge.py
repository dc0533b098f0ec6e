"""Helpers for bridge tests: requests, balances of native and wrapped assets, supply checks,
and what each deposit promised, read from its own event on chain (the oracle a delivery is
checked against, independent of the workflow's result and of the connectors' decoding)."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from crosslane.domain.bridge import BridgeRequest, BridgeResult, BridgeState
from crosslane.domain.bridge_steps import VerifyInput
from crosslane.domain.tx import FeePolicy, ReplacementPolicy
from devnet.across.artifacts import abi as across_abi
from devnet.across.services import http_json
from devnet.wormhole.artifacts import abi as wormhole_abi
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


def across_output_amount(stack: Stack, chain: str, deposit_tx: str) -> int:
    """The ``outputAmount`` the Across deposit ``deposit_tx`` on ``chain`` owes the recipient,
    from its ``FundsDeposited`` event (decoded with the SpokePool's published ABI)."""
    w3 = w3_for(stack, chain)
    pool = w3.eth.contract(
        address=Web3.to_checksum_address(stack.chains.get(chain).contracts["AcrossSpokePool"]), abi=across_abi()
    )
    events = pool.events.FundsDeposited().process_receipt(w3.eth.get_transaction_receipt(deposit_tx), errors=DISCARD)
    assert len(events) == 1, f"{deposit_tx} has {len(events)} FundsDeposited events"
    return int(events[0]["args"]["outputAmount"])


def wormhole_payload_amount(stack: Stack, chain: str, deposit_tx: str, decimals: int) -> int:
    """The amount the Wormhole transfer ``deposit_tx`` on ``chain`` carries, in base units of a
    ``decimals`` token: the token bridge's payload (id 1, then the amount normalised to 8
    decimals) in the core's ``LogMessagePublished`` event, the body the guardians sign."""
    w3 = w3_for(stack, chain)
    contracts = stack.chains.get(chain).contracts
    core = w3.eth.contract(
        address=Web3.to_checksum_address(contracts["WormholeCore"]), abi=wormhole_abi("Implementation")
    )
    bridge = Web3.to_checksum_address(contracts["WormholeTokenBridge"])
    events = core.events.LogMessagePublished().process_receipt(
        w3.eth.get_transaction_receipt(deposit_tx), errors=DISCARD
    )
    payloads = [bytes(e["args"]["payload"]) for e in events if e["args"]["sender"] == bridge]
    assert len(payloads) == 1 and payloads[0][0] == 1, f"{deposit_tx}: not one token transfer message"
    normalised = int.from_bytes(payloads[0][1:33], "big")
    return normalised * 10 ** max(0, decimals - 8)


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


def delivered(inp: VerifyInput) -> BridgeResult:
    """A mocked ``bridge_verify``'s answer: the whole amount received by the redeem (or the last
    destination transaction) the run landed, or by no transaction of ours if it landed none."""
    return BridgeResult(
        request_id=inp.request.request_id,
        route=inp.plan.route,
        state=BridgeState.COMPLETED,
        source_chain=inp.ref.source_chain,
        destination_chain=inp.ref.destination_chain,
        asset=inp.request.asset,
        amount=inp.plan.amount,
        received=inp.plan.amount,
        recipient=inp.plan.recipient,
        deposit_tx=inp.ref.tx_hash,
        completion_tx=inp.completion.mined_tx_hash if inp.completion else None,
        redeemed_by_us=inp.completion is not None,
    )


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
