"""Deploy the real Wormhole core and token bridge on a devnet chain, register and attest.

Core: ``Setup`` + ``Implementation`` + ``Wormhole`` (ERC1967 proxy whose constructor
delegate-calls ``Setup.setup(implementation, guardians, chainId, governanceChainId 1,
governanceContract 0x..04, evmChainId)``). Token bridge: ``BridgeSetup`` +
``BridgeImplementation`` + ``TokenImplementation`` + ``TokenBridge`` proxy with
``BridgeSetup.setup(implementation, chainId, wormhole, 1, 0x..04, tokenImplementation,
WETH, finality, evmChainId)``. All seven creations are signed locally with explicit nonces
and gas limits and sent back to back (addresses follow from the deployer's nonce).

:func:`register_peers` submits RegisterChain governance VAAs (signed by the devnet guardian
set) so every token bridge trusts every other, then attests the test tokens of each chain on
every other one (``attestToken`` -> VAA signed locally -> ``createWrapped``), so wrapped
assets exist. VAAs here are signed in-process; transfers go through the guardian service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import AsyncWeb3
from web3.types import Nonce
from web3.utils.address import get_create_address

from connectors.bridges.wormhole_vaa import VAABody, emitter_bytes32
from connectors.evm.client import async_http_provider
from crosslane.domain.chains import ChainConfig
from devnet.anvil import DEFAULT_MNEMONIC, DevnetError, dev_account
from devnet.deploy import PRIORITY_FEE_WEI, TEST_TOKENS
from devnet.wormhole.artifacts import abi, creation_code
from devnet.wormhole.vaa import (
    DEVNET_GUARDIAN_KEYS,
    GOVERNANCE_CHAIN_ID,
    GOVERNANCE_EMITTER,
    GovernanceSigner,
    devnet_guardian_addresses,
    register_chain_payload,
    sign_vaa,
)

# Wormhole chain ids for the devnet chains (Ethereum's and BSC's ids), by position.
DEVNET_WORMHOLE_CHAIN_IDS: dict[str, int] = {"devnet-a": 2, "devnet-b": 4}
TOKEN_BRIDGE_FINALITY = 1

# Explicit gas limits with headroom (anvil's estimates are not trusted, DESIGN.md).
DEPLOY_GAS = {
    "WormholeSetup": 1_000_000,
    "WormholeImplementation": 5_000_000,  # 14.5 kB of code
    "WormholeCore": 1_500_000,
    "WormholeBridgeSetup": 800_000,
    "WormholeBridgeImplementation": 8_000_000,  # 23.8 kB of code
    "WormholeTokenImplementation": 2_500_000,
    "WormholeTokenBridge": 1_500_000,
}
GAS = {
    "registerChain": 400_000,
    "attestToken": 400_000,
    "createWrapped": 3_000_000,  # deploys a BeaconProxy and initializes the token
    "transferTokens": 600_000,
    "completeTransfer": 800_000,
    "approve": 100_000,
}

LOG_MESSAGE_PUBLISHED = "0x" + keccak(text="LogMessagePublished(address,uint64,uint32,bytes,uint8)").hex()


@dataclass(frozen=True)
class WormholeEndpoint:
    """A chain with Wormhole deployed: where to reach it and its Wormhole chain id."""

    rpc_url: str
    chain: ChainConfig
    wormhole_chain_id: int

    @property
    def core(self) -> ChecksumAddress:
        return to_checksum_address(self.chain.contracts["WormholeCore"])

    @property
    def token_bridge(self) -> ChecksumAddress:
        return to_checksum_address(self.chain.contracts["WormholeTokenBridge"])


class TxSender:
    """One dev account sending locally signed transactions with explicit nonce and gas."""

    def __init__(self, w3: AsyncWeb3[Any], account: int = 0, mnemonic: str = DEFAULT_MNEMONIC) -> None:
        self.w3 = w3
        self.address, self.key = dev_account(account, mnemonic)
        self._nonce: int | None = None
        self._chain_id: int | None = None

    async def next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = await self.w3.eth.get_transaction_count(self.address, "pending")
        return self._nonce

    async def send(self, label: str, to: str | None, data: bytes, gas: int, value: int = 0) -> bytes:
        if self._chain_id is None:
            self._chain_id = await self.w3.eth.chain_id
        nonce = await self.next_nonce()
        block = await self.w3.eth.get_block("latest")
        base_fee = int(block.get("baseFeePerGas", 0) or 0)
        tx: dict[str, Any] = {
            "chainId": self._chain_id,
            "nonce": nonce,
            "gas": gas,
            "value": value,
            "data": "0x" + data.hex(),
            "maxPriorityFeePerGas": PRIORITY_FEE_WEI,
            "maxFeePerGas": 2 * base_fee + PRIORITY_FEE_WEI,
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        signed = Account.sign_transaction(tx, self.key)
        self._nonce = nonce + 1
        return bytes(await self.w3.eth.send_raw_transaction(signed.raw_transaction))

    async def wait(self, labelled: Sequence[tuple[str, bytes]], timeout: float = 30.0) -> list[Any]:
        receipts = await asyncio.gather(
            *(self.w3.eth.wait_for_transaction_receipt(h, timeout=timeout, poll_latency=0.02) for _, h in labelled)  # type: ignore[arg-type]
        )
        for (label, h), receipt in zip(labelled, receipts, strict=True):
            if receipt["status"] != 1:
                raise DevnetError(f"{label} reverted (tx 0x{h.hex()})")
        return list(receipts)

    async def call(self, label: str, to: str, data: bytes, gas: int, value: int = 0) -> Any:
        h = await self.send(label, to, data, gas, value)
        return (await self.wait([(label, h)]))[0]


def calldata(contract: str, fn: str, *args: Any) -> bytes:
    """ABI-encoded call of ``fn`` on an artifact's ABI (no provider needed)."""
    c = AsyncWeb3().eth.contract(abi=abi(contract))
    return bytes.fromhex(c.encode_abi(fn, args=list(args)).removeprefix("0x"))


def _constructor(contract: str, *args: Any) -> bytes:
    c = AsyncWeb3().eth.contract(abi=abi(contract), bytecode=creation_code(contract))
    return bytes.fromhex(str(c.constructor(*args).data_in_transaction).removeprefix("0x"))


async def deploy_wormhole(
    rpc_url: str,
    chain: ChainConfig,
    wormhole_chain_id: int,
    *,
    guardians: Sequence[str] | None = None,
    account: int = 0,
) -> ChainConfig:
    """Deploy core + token bridge on ``rpc_url``; the config with their addresses added.

    Contracts: ``WormholeCore``, ``WormholeTokenBridge`` (the proxies to use), plus the
    implementation/setup contracts under ``Wormhole*`` names.
    """
    w3 = AsyncWeb3(async_http_provider(rpc_url))
    try:
        evm_chain_id = await w3.eth.chain_id
        if evm_chain_id != chain.chain_id:
            raise DevnetError(f"{rpc_url} is chain {evm_chain_id}, expected {chain.chain_id}")
        weth = chain.contracts.get("WETH9")
        if not weth:
            raise DevnetError(f"{chain.name} has no WETH9 (deploy the base contracts first)")
        sender = TxSender(w3, account)
        first = await sender.next_nonce()
        names = list(DEPLOY_GAS)
        addr = {n: get_create_address(sender.address, Nonce(first + i)) for i, n in enumerate(names)}
        core_setup = calldata(
            "Setup",
            "setup",
            addr["WormholeImplementation"],
            [to_checksum_address(g) for g in (guardians or devnet_guardian_addresses())],
            wormhole_chain_id,
            GOVERNANCE_CHAIN_ID,
            GOVERNANCE_EMITTER,
            evm_chain_id,
        )
        bridge_setup = calldata(
            "BridgeSetup",
            "setup",
            addr["WormholeBridgeImplementation"],
            wormhole_chain_id,
            addr["WormholeCore"],
            GOVERNANCE_CHAIN_ID,
            GOVERNANCE_EMITTER,
            addr["WormholeTokenImplementation"],
            to_checksum_address(weth),
            TOKEN_BRIDGE_FINALITY,
            evm_chain_id,
        )
        codes = {
            "WormholeSetup": creation_code("Setup"),
            "WormholeImplementation": creation_code("Implementation"),
            "WormholeCore": _constructor("Wormhole", addr["WormholeSetup"], core_setup),
            "WormholeBridgeSetup": creation_code("BridgeSetup"),
            "WormholeBridgeImplementation": creation_code("BridgeImplementation"),
            "WormholeTokenImplementation": creation_code("TokenImplementation"),
            "WormholeTokenBridge": _constructor("TokenBridge", addr["WormholeBridgeSetup"], bridge_setup),
        }
        sent = [(n, await sender.send(n, None, codes[n], DEPLOY_GAS[n])) for n in names]
        receipts = await sender.wait(sent)
        for (name, _), receipt in zip(sent, receipts, strict=True):
            if receipt["contractAddress"] != addr[name]:
                raise DevnetError(f"{chain.name}: {name} at {receipt['contractAddress']}, expected {addr[name]}")
        return chain.model_copy(update={"contracts": {**chain.contracts, **{n: str(a) for n, a in addr.items()}}})
    finally:
        await w3.provider.disconnect()


def messages_in(receipt: Any, core: str) -> list[VAABody]:
    """The Wormhole messages a receipt published (``LogMessagePublished`` of ``core``), as VAA bodies.

    The timestamp is left 0 here; callers that need the block's put it in.
    """
    out = []
    for log in receipt["logs"]:
        if log["address"].lower() != core.lower() or not log["topics"]:
            continue
        if "0x" + bytes(log["topics"][0]).hex().removeprefix("0x") != LOG_MESSAGE_PUBLISHED:
            continue
        sender = bytes(log["topics"][1])[-20:]
        sequence, nonce, payload, consistency = abi_decode(["uint64", "uint32", "bytes", "uint8"], bytes(log["data"]))
        out.append(VAABody(0, nonce, 0, emitter_bytes32(sender), sequence, consistency, payload))
    return out


async def publish_and_sign(
    sender: TxSender, ep: WormholeEndpoint, label: str, to: str, data: bytes, gas: int, keys: Sequence[bytes]
) -> list[bytes]:
    receipt = await sender.call(label, to, data, gas)
    block = await sender.w3.eth.get_block(receipt["blockNumber"])
    bodies = messages_in(receipt, ep.core)
    return [
        sign_vaa(
            VAABody(
                int(block["timestamp"]),
                b.nonce,
                ep.wormhole_chain_id,
                b.emitter_address,
                b.sequence,
                b.consistency_level,
                b.payload,
            ),
            keys,
        ).encode()
        for b in bodies
    ]


async def register_peers(
    endpoints: Sequence[WormholeEndpoint],
    *,
    tokens: Sequence[str] = tuple(t.symbol for t in TEST_TOKENS),
    keys: Sequence[bytes] = DEVNET_GUARDIAN_KEYS,
    governance: GovernanceSigner | None = None,
    account: int = 0,
) -> dict[str, dict[str, dict[str, str]]]:
    """Register every token bridge with every other (governance VAAs), then attest ``tokens``.

    Returns wrapped-asset addresses: ``{dest chain: {source chain: {symbol: address}}}``.
    """
    governance = governance or GovernanceSigner(keys=tuple(keys))
    w3s = {ep.chain.name: AsyncWeb3(async_http_provider(ep.rpc_url)) for ep in endpoints}
    senders = {name: TxSender(w3, account) for name, w3 in w3s.items()}
    try:
        # 1. RegisterChain on each chain for each other chain.
        pending: dict[str, list[tuple[str, bytes]]] = {name: [] for name in w3s}
        for ep in endpoints:
            for peer in endpoints:
                if peer is ep:
                    continue
                vaa = governance.sign(register_chain_payload(peer.wormhole_chain_id, peer.token_bridge)).encode()
                label = f"{ep.chain.name}: registerChain({peer.chain.name})"
                data = calldata("BridgeImplementation", "registerChain", vaa)
                h = await senders[ep.chain.name].send(label, ep.token_bridge, data, GAS["registerChain"])
                pending[ep.chain.name].append((label, h))
        await asyncio.gather(*(senders[n].wait(p) for n, p in pending.items()))

        # 2. Attest each chain's tokens and create the wrapped assets on every other chain.
        async def attest(ep: WormholeEndpoint) -> list[bytes]:
            vaas = []
            for i, symbol in enumerate(tokens):
                data = calldata(
                    "BridgeImplementation", "attestToken", to_checksum_address(ep.chain.tokens[symbol].address), i
                )
                vaas += await publish_and_sign(
                    senders[ep.chain.name],
                    ep,
                    f"{ep.chain.name}: attestToken({symbol})",
                    ep.token_bridge,
                    data,
                    GAS["attestToken"],
                    keys,
                )
            return vaas

        attestations = await asyncio.gather(*(attest(ep) for ep in endpoints))
        pending = {name: [] for name in w3s}
        for ep, vaas in zip(endpoints, attestations, strict=True):
            for peer in endpoints:
                if peer is ep:
                    continue
                for symbol, vaa in zip(tokens, vaas, strict=True):
                    label = f"{peer.chain.name}: createWrapped({ep.chain.name} {symbol})"
                    data = calldata("BridgeImplementation", "createWrapped", vaa)
                    h = await senders[peer.chain.name].send(label, peer.token_bridge, data, GAS["createWrapped"])
                    pending[peer.chain.name].append((label, h))
        await asyncio.gather(*(senders[n].wait(p) for n, p in pending.items()))

        wrapped: dict[str, dict[str, dict[str, str]]] = {}
        for peer in endpoints:
            bridge = w3s[peer.chain.name].eth.contract(address=peer.token_bridge, abi=abi("BridgeImplementation"))
            for ep in endpoints:
                if ep is peer:
                    continue
                for symbol in tokens:
                    origin = emitter_bytes32(ep.chain.tokens[symbol].address)
                    address = await bridge.functions.wrappedAsset(ep.wormhole_chain_id, origin).call()
                    if int(address, 16) == 0:
                        raise DevnetError(f"{peer.chain.name}: no wrapped {symbol} from {ep.chain.name}")
                    wrapped.setdefault(peer.chain.name, {}).setdefault(ep.chain.name, {})[symbol] = address
        return wrapped
    finally:
        for w3 in w3s.values():
            await w3.provider.disconnect()


def with_wrapped(chain: ChainConfig, wrapped: Mapping[str, Mapping[str, str]]) -> ChainConfig:
    """Record wrapped assets as contracts ``Wormhole:<source chain>:<symbol>``."""
    extra = {f"Wormhole:{src}:{sym}": addr for src, per in wrapped.items() for sym, addr in per.items()}
    return chain.model_copy(update={"contracts": {**chain.contracts, **extra}})
