"""Real Wormhole core + token bridge on the devnet, with devnet guardians serving VAAs.

One attached devnet with ``wormhole=True`` is shared by the module: deployment, chain
registration and token attestation happen in ``devnet_up``; the tests move USDC from
devnet-a to devnet-b through the real contracts, with the guardian service in between,
and inject guardian faults (one down: still quorate; two down: 404 until they return).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from eth_utils.address import to_checksum_address
from web3 import AsyncWeb3
from web3.exceptions import ContractLogicError
from web3.providers import AsyncHTTPProvider
from web3.types import RPCEndpoint

from connectors.bridges.wormhole_api import fetch_signed_vaa
from connectors.bridges.wormhole_vaa import TransferPayload, VAABody, emitter_bytes32, parse_vaa, quorum
from devnet.anvil import dev_account, find_free_port
from devnet.manager import devnet_down, devnet_status, devnet_up
from devnet.state import DevnetState
from devnet.wormhole.artifacts import abi, artifacts_path, build, lock
from devnet.wormhole.deploy import GAS, TxSender, calldata, messages_in
from devnet.wormhole.guardian import GuardianNetwork, WatchedChain, get_observation_sync, set_faults_sync
from devnet.wormhole.vaa import DEVNET_GUARDIAN_KEYS, devnet_guardian_addresses, sign_vaa

pytestmark = pytest.mark.timeout(90)

ERC20_ABI: list[dict[str, Any]] = [
    {
        "name": n,
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}] if n == "balanceOf" else [],
        "outputs": [{"name": "", "type": t}],
    }
    for n, t in (("balanceOf", "uint256"), ("totalSupply", "uint256"), ("decimals", "uint8"), ("symbol", "string"))
]


@pytest.fixture(scope="module")
async def devnet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevnetState]:
    path: Path = tmp_path_factory.mktemp("wormhole") / "devnet.json"
    ports = {"devnet-a": find_free_port(), "devnet-b": find_free_port()}
    started = time.monotonic()
    try:
        state = await devnet_up(path, ports, detached=False, wormhole=True)
        print(f"devnet with wormhole up in {time.monotonic() - started:.2f}s")
        status = devnet_status(path)
        assert status.up, status.problems
        assert any(p.kind == "wormhole_guardian" and p.alive for p in status.processes)
        yield state
    finally:
        devnet_down(path)


@pytest.fixture
def guardian_url(devnet: DevnetState) -> Any:
    assert devnet.wormhole is not None
    url = devnet.wormhole.guardian_url
    yield url
    set_faults_sync(url, down=[], latency={}, response_delay=0)


def _w3(state: DevnetState, chain: str) -> AsyncWeb3[Any]:
    return AsyncWeb3(AsyncHTTPProvider(state.anvil_url(chain)))


def _bridge(w3: AsyncWeb3[Any], chain: Any) -> Any:
    return w3.eth.contract(
        address=to_checksum_address(chain.contracts["WormholeTokenBridge"]), abi=abi("BridgeImplementation")
    )


def _erc20(w3: AsyncWeb3[Any], address: str) -> Any:
    return w3.eth.contract(address=to_checksum_address(address), abi=ERC20_ABI)


def test_artifacts_pinned_not_a_dependency() -> None:
    pin = lock()
    assert pin["package"] == "@certusone/wormhole-sdk" and pin["version"] == "0.10.18"
    assert pin["integrity"].startswith("sha512-")
    assert build() == artifacts_path() and artifacts_path().exists()  # fetched, verified, extracted
    assert "@certusone/wormhole-sdk" not in (Path(__file__).parents[2] / "package.json").read_text()


async def test_deployed_registered_attested(devnet: DevnetState) -> None:
    assert devnet.wormhole is not None
    ids = devnet.wormhole.chain_ids
    assert ids == {"devnet-a": 2, "devnet-b": 4}
    assert devnet.wormhole.quorum == 3 and devnet.wormhole.guardians == devnet_guardian_addresses()
    for name, peer in (("devnet-a", "devnet-b"), ("devnet-b", "devnet-a")):
        chain, other = devnet.chains[name], devnet.chains[peer]
        w3 = _w3(devnet, name)
        try:
            core = w3.eth.contract(
                address=to_checksum_address(chain.contracts["WormholeCore"]), abi=abi("Implementation")
            )
            assert await core.functions.chainId().call() == ids[name]
            guardian_set = await core.functions.getGuardianSet(0).call()
            assert [to_checksum_address(a) for a in guardian_set[0]] == devnet_guardian_addresses()
            bridge = _bridge(w3, chain)
            assert await bridge.functions.chainId().call() == ids[name]
            registered = await bridge.functions.bridgeContracts(ids[peer]).call()
            assert registered == emitter_bytes32(other.contracts["WormholeTokenBridge"])
            for symbol in ("USDC", "WBTC", "DAI"):
                wrapped = chain.contracts[f"Wormhole:{peer}:{symbol}"]
                origin = emitter_bytes32(other.tokens[symbol].address)
                assert await bridge.functions.wrappedAsset(ids[peer], origin).call() == wrapped
                token = _erc20(w3, wrapped)
                assert await token.functions.symbol().call() == symbol
                assert (
                    await token.functions.decimals().call() == other.tokens[symbol].decimals
                )  # amounts travel normalised to 8
        finally:
            await w3.provider.disconnect()


async def test_local_vaa_verifies_on_core_and_two_signatures_do_not(devnet: DevnetState) -> None:
    w3 = _w3(devnet, "devnet-a")
    try:
        core_address = to_checksum_address(devnet.chains["devnet-a"].contracts["WormholeCore"])
        core = w3.eth.contract(address=core_address, abi=abi("Implementation"))
        body = VAABody(1_700_000_000, 7, 4, emitter_bytes32("0x" + "ab" * 20), 42, 1, b"crosslane")
        assert quorum(4) == 3
        full = sign_vaa(body)
        assert parse_vaa(full.encode()) == full
        _vm, valid, reason = await core.functions.parseAndVerifyVM(full.encode()).call()
        assert valid, reason
        three = sign_vaa(body, {i: DEVNET_GUARDIAN_KEYS[i] for i in (0, 2, 3)})
        assert (await core.functions.parseAndVerifyVM(three.encode()).call())[1]
        two = sign_vaa(body, {i: DEVNET_GUARDIAN_KEYS[i] for i in (1, 3)})
        _vm, valid, reason = await core.functions.parseAndVerifyVM(two.encode()).call()
        assert not valid and reason == "no quorum"
    finally:
        await w3.provider.disconnect()


class _Transfer:
    """USDC from dev account 1 on devnet-a to dev account 2 on devnet-b."""

    def __init__(self, state: DevnetState) -> None:
        self.state = state
        self.a, self.b = state.chains["devnet-a"], state.chains["devnet-b"]
        self.w3a, self.w3b = _w3(state, "devnet-a"), _w3(state, "devnet-b")
        self.recipient = dev_account(2)[0]
        assert state.wormhole is not None
        self.ids = state.wormhole.chain_ids
        self.wrapped = _erc20(self.w3b, self.b.contracts["Wormhole:devnet-a:USDC"])

    async def close(self) -> None:
        await self.w3a.provider.disconnect()
        await self.w3b.provider.disconnect()

    async def send(self, amount: int) -> VAABody:
        """approve + transferTokens on devnet-a; the published message."""
        sender = TxSender(self.w3a, account=1)
        usdc, bridge = self.a.tokens["USDC"].address, self.a.contracts["WormholeTokenBridge"]
        await sender.call(
            "approve",
            usdc,
            calldata("TokenImplementation", "approve", to_checksum_address(bridge), amount),
            GAS["approve"],
        )
        data = calldata(
            "BridgeImplementation",
            "transferTokens",
            to_checksum_address(usdc),
            amount,
            self.ids["devnet-b"],
            emitter_bytes32(self.recipient),
            0,
            0,
        )
        receipt = await sender.call("transferTokens", bridge, data, GAS["transferTokens"])
        (message,) = messages_in(receipt, self.a.contracts["WormholeCore"])
        assert message.emitter_address == emitter_bytes32(bridge)
        return message

    async def vaa(self, message: VAABody, timeout: float = 10.0) -> bytes:
        url = self.state.wormhole.guardian_url  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            vaa = await fetch_signed_vaa(url, self.ids["devnet-a"], message.emitter_address, message.sequence)
            if vaa is not None:
                return vaa
            await asyncio.sleep(0.05)
        raise AssertionError(f"no VAA for sequence {message.sequence} after {timeout}s")

    async def complete(self, vaa: bytes) -> None:
        sender = TxSender(self.w3b, account=2)
        bridge = self.b.contracts["WormholeTokenBridge"]
        await sender.call(
            "completeTransfer",
            bridge,
            calldata("BridgeImplementation", "completeTransfer", vaa),
            GAS["completeTransfer"],
        )

    async def assert_supply_conserved(self) -> None:
        locked = (
            await _erc20(self.w3a, self.a.tokens["USDC"].address)
            .functions.balanceOf(to_checksum_address(self.a.contracts["WormholeTokenBridge"]))
            .call()
        )
        outstanding = (
            await _bridge(self.w3a, self.a)
            .functions.outstandingBridged(to_checksum_address(self.a.tokens["USDC"].address))
            .call()
        )
        assert locked == outstanding == await self.wrapped.functions.totalSupply().call()


@pytest.fixture
async def transfer(devnet: DevnetState) -> AsyncIterator[_Transfer]:
    t = _Transfer(devnet)
    yield t
    await t.close()


async def test_transfer_a_to_b_end_to_end_and_replay_rejected(transfer: _Transfer, guardian_url: str) -> None:
    amount = 1_234 * 10**6
    before = await transfer.wrapped.functions.balanceOf(transfer.recipient).call()
    message = await transfer.send(amount)
    vaa = await transfer.vaa(message)
    parsed = parse_vaa(vaa)
    assert len(parsed.signatures) == 4 and parsed.body == VAABody(
        parsed.body.timestamp,
        message.nonce,
        2,
        message.emitter_address,
        message.sequence,
        message.consistency_level,
        message.payload,
    )
    payload = TransferPayload.parse(parsed.body.payload)
    assert payload.amount == amount and payload.to_chain == 4 and payload.to == emitter_bytes32(transfer.recipient)
    timings = get_observation_sync(guardian_url, 2, message.emitter_address, message.sequence)
    assert timings is not None and timings["signatures"] == 4 and timings["quorum"] == 3
    assert time.time() - 60 < timings["observed_at"] <= timings["quorate_at"] <= time.time()
    assert get_observation_sync(guardian_url, 2, message.emitter_address, 999_999) is None
    await transfer.complete(vaa)
    assert await transfer.wrapped.functions.balanceOf(transfer.recipient).call() == before + amount
    await transfer.assert_supply_conserved()
    bridge_b = _bridge(transfer.w3b, transfer.b)
    assert await bridge_b.functions.isTransferCompleted(parsed.hash).call()
    with pytest.raises(ContractLogicError, match="transfer already completed"):
        await bridge_b.functions.completeTransfer(vaa).call({"from": dev_account(3)[0], "gas": GAS["completeTransfer"]})


async def test_one_guardian_down_still_quorate(transfer: _Transfer, guardian_url: str) -> None:
    assert set_faults_sync(guardian_url, down=[1])["down"] == [1]
    message = await transfer.send(5 * 10**6)
    vaa = await transfer.vaa(message)
    assert sorted(s.index for s in parse_vaa(vaa).signatures) == [0, 2, 3]
    await transfer.complete(vaa)
    await transfer.assert_supply_conserved()


async def _observed(url: str, message: VAABody, signatures: int, timeout: float = 10.0) -> dict[str, Any]:
    """The guardians' own record of ``message`` once it holds ``signatures`` signatures."""
    deadline = time.monotonic() + timeout
    while True:
        seen = get_observation_sync(url, 2, message.emitter_address, message.sequence)
        if seen is not None and seen["signatures"] >= signatures:
            return seen
        assert time.monotonic() < deadline, f"guardians record {seen} for sequence {message.sequence}"
        await asyncio.sleep(0.05)


async def test_two_guardians_down_404_until_they_return(transfer: _Transfer, guardian_url: str) -> None:
    set_faults_sync(guardian_url, down=[0, 3])
    message = await transfer.send(7 * 10**6)
    # Observed and signed by the two guardians that are up: short of the quorum, so not served.
    seen = await _observed(guardian_url, message, 2)
    assert seen["signatures"] == 2 and seen["quorum"] == 3 and seen["quorate_at"] is None
    assert await fetch_signed_vaa(guardian_url, 2, message.emitter_address, message.sequence) is None
    assert get_observation_sync(guardian_url, 2, message.emitter_address, message.sequence) == seen  # still 2
    set_faults_sync(guardian_url, down=[3])
    vaa = await transfer.vaa(message, timeout=5.0)
    assert sorted(s.index for s in parse_vaa(vaa).signatures) == [0, 1, 2]
    await transfer.complete(vaa)
    await transfer.assert_supply_conserved()


async def test_slow_guardians_delay_the_vaa(transfer: _Transfer, guardian_url: str) -> None:
    set_faults_sync(guardian_url, latency=0.6)
    message = await transfer.send(10**6)
    vaa = await transfer.vaa(message, timeout=5.0)
    # The guardians' own clock: quorate no sooner than the latency after they observed it.
    seen = get_observation_sync(guardian_url, 2, message.emitter_address, message.sequence)
    assert seen is not None and seen["quorate_at"] - seen["observed_at"] >= 0.6
    await transfer.complete(vaa)
    await transfer.assert_supply_conserved()


async def test_unknown_message_is_404(devnet: DevnetState, guardian_url: str) -> None:
    assert await fetch_signed_vaa(guardian_url, 2, bytes(32), 999_999) is None


async def test_guardians_wait_for_confirmations(devnet: DevnetState, transfer: _Transfer) -> None:
    """An in-process guardian set needing 3 confirmations serves only after two more blocks."""
    a = devnet.chains["devnet-a"]
    chain = WatchedChain("devnet-a", 2, devnet.anvil_url("devnet-a"), a.contracts["WormholeCore"])
    network = GuardianNetwork([chain], confirmations=3, poll_interval=0.02)
    url = await network.start()
    try:
        message = await transfer.send(2 * 10**6)
        deposit_block = await transfer.w3a.eth.block_number
        # The guardians have polled the chain at the deposit's block (their reported head), yet
        # with one confirmation of three they have not observed it, let alone signed it.
        deadline = time.monotonic() + 10
        while ((await _health(url))["chains"]["devnet-a"]["head"] or 0) < deposit_block:
            assert time.monotonic() < deadline, "guardians never polled the deposit's block"
            await asyncio.sleep(0.02)
        assert message.message_id not in network.observations
        assert await fetch_signed_vaa(url, 2, message.emitter_address, message.sequence) is None
        await transfer.w3a.provider.make_request(RPCEndpoint("anvil_mine"), [2])
        deadline = time.monotonic() + 5
        while (vaa := await fetch_signed_vaa(url, 2, message.emitter_address, message.sequence)) is None:
            assert time.monotonic() < deadline, "VAA not served after the confirmations"
            await asyncio.sleep(0.02)
        await transfer.complete(vaa)
        await transfer.assert_supply_conserved()
    finally:
        await network.stop()


async def _health(url: str) -> dict[str, Any]:
    """The guardians' ``/v1/health`` without blocking the loop an in-process network serves on."""
    async with aiohttp.ClientSession() as session, session.get(f"{url}/v1/health") as resp:
        body: dict[str, Any] = await resp.json()
        return body
