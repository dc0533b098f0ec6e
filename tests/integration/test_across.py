"""Across on the devnet: the real SpokePool deployed, the relayer fills, the dataworker repays and refunds.

One attached devnet (``devnet_up(across=True)``) in tmp on free ports, shared by the module.
Tests run in file order: the expiry test advances both chains' clocks.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from crosslane.embedded.processes import stop_pid
from devnet.across.artifacts import abi, build, integrity_of, lock
from devnet.across.deploy import (
    FILL_DEADLINE_BUFFER,
    ROUTE_SYMBOLS,
    across_routes,
    admin_account,
    relayer_account,
)
from devnet.across.merkle import MerkleTree, relayer_refund_leaf_hash, verify
from devnet.across.services import http_json
from devnet.across.spoke import (
    GAS,
    AcrossRevert,
    Deposit,
    Rpc,
    calldata,
    event_topic,
    raw_calldata,
    to_bytes32,
)
from devnet.anvil import dev_account, find_free_port
from devnet.manager import devnet_up
from devnet.state import DevnetState

pytestmark = pytest.mark.timeout(90)

A, B = "devnet-a", "devnet-b"
ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
async def devnet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevnetState]:
    path = tmp_path_factory.mktemp("across") / "devnet.json"
    state: DevnetState | None = None
    try:
        state = await devnet_up(
            path, {A: find_free_port(), B: find_free_port()}, detached=False, across=True, timeout=20.0
        )
        yield state
    finally:
        for proc in state.processes.values() if state else ():
            stop_pid(proc.pid, timeout=2.0)


def _url(state: DevnetState, name: str) -> str:
    return state.processes[name].url


async def _rpc(state: DevnetState, chain: str) -> Rpc:
    return Rpc(state.anvil_url(chain))


async def _deposit(
    state: DevnetState,
    depositor_index: int,
    symbol: str,
    amount: int,
    output: int,
    recipient: str,
    *,
    fill_deadline_in: int = 3600,
    origin: str = A,
    dest: str = B,
    output_token: str | None = None,
    quote_age: int = 0,
    value: int = 0,
) -> Deposit:
    """Approve and ``depositV3`` on ``origin``; returns the emitted deposit."""
    src, dst = state.chains[origin], state.chains[dest]
    depositor, key = dev_account(depositor_index)
    rpc = await _rpc(state, origin)
    try:
        pool = src.contracts["AcrossSpokePool"]
        token = src.contracts["WETH9"] if symbol == "WETH" else src.tokens[symbol].address
        out_token = (
            output_token
            if output_token is not None
            else (dst.contracts["WETH9"] if symbol == "WETH" else dst.tokens[symbol].address)
        )
        approve = raw_calldata("approve(address,uint256)", ["address", "uint256"], [pool, amount])
        await rpc.transact(key, token, approve, GAS["approve"])
        now = await rpc.timestamp()
        data = calldata(
            "depositV3",
            depositor,
            recipient,
            token,
            out_token,
            amount,
            output,
            dst.chain_id,
            ZERO,
            now - quote_age,
            now + fill_deadline_in,
            0,
            b"",
        )
        receipt = await rpc.transact(key, pool, data, GAS["deposit"], value=value)
        topic = event_topic("FundsDeposited")
        log = next(lg for lg in receipt["logs"] if lg["topics"][0] == topic)
        return Deposit.from_log(src.chain_id, log)
    finally:
        await rpc.close()


async def _balance(state: DevnetState, chain: str, symbol: str, owner: str) -> int:
    rpc = await _rpc(state, chain)
    try:
        return await rpc.balance_of(state.chains[chain].tokens[symbol].address, owner)
    finally:
        await rpc.close()


async def _wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


def test_artifacts_pinned_and_cached() -> None:
    pinned = lock()
    assert pinned["name"] == "@across-protocol/contracts" and pinned["version"].startswith("5.0.")
    build()  # fetched with npm pack, integrity checked, artifacts extracted
    tarball = next(
        Path(__file__).resolve().parents[2].glob(f"node_modules/.cache/crosslane-across/*{pinned['version']}.tgz")
    )
    assert integrity_of(tarball.read_bytes()) == pinned["integrity"]
    names = {e.get("name") for e in abi()}
    assert {"FundsDeposited", "fillRelay", "depositV3", "relayRootBundle", "executeRelayerRefundLeaf"} <= names
    assert "setEnableRoute" not in names  # SpokePool 5.x has no on-chain route gating


def test_merkle_tree_matches_openzeppelin_rules() -> None:
    leaves = [relayer_refund_leaf_hash((0, 1, [i], i, ZERO, [ZERO])) for i in range(5)]
    tree = MerkleTree(leaves)
    for i, leaf in enumerate(leaves):
        assert verify(tree.proof(i), tree.root, leaf)
    assert not verify(tree.proof(0), tree.root, leaves[1])
    assert MerkleTree(leaves[:1]).root == leaves[0]


async def test_deployed_with_routes(devnet: DevnetState) -> None:
    admin, _ = admin_account()
    for name, chain in devnet.chains.items():
        pool = chain.contracts["AcrossSpokePool"]
        rpc = await _rpc(devnet, name)
        try:
            owner = await rpc.eth_call(pool, raw_calldata("owner()", [], []))
            weth = await rpc.eth_call(pool, raw_calldata("wrappedNativeToken()", [], []))
            buffer = await rpc.eth_call(pool, raw_calldata("fillDeadlineBuffer()", [], []))
            admin_slot = await rpc.eth_call(pool, raw_calldata("crossDomainAdmin()", [], []))
        finally:
            await rpc.close()
        assert owner[12:].hex() == admin[2:].lower() == admin_slot[12:].hex()
        assert weth[12:].hex() == chain.contracts["WETH9"][2:].lower()
        assert int.from_bytes(buffer, "big") == FILL_DEADLINE_BUFFER
        peers = [c for c in devnet.chains.values() if c.name != name]
        routes = across_routes(chain, peers)
        assert {r["symbol"] for r in routes} == set(ROUTE_SYMBOLS)
    assert devnet.options.across
    assert http_json(_url(devnet, "across-relayer") + "/state")["address"] == relayer_account()[0]


async def test_fill_by_relayer_and_repaid_exactly_once(devnet: DevnetState) -> None:
    relayer, _ = relayer_account()
    recipient = Account.create().address
    before = await _balance(devnet, A, "USDC", relayer)
    dep = await _deposit(devnet, 2, "USDC", 1_000 * 10**6, 999 * 10**6, recipient)

    async def paid() -> bool:
        return await _balance(devnet, B, "USDC", recipient) == 999 * 10**6

    async def recorded() -> bool:  # the relayer marks it once its fill's receipt is in
        state = http_json(_url(devnet, "across-relayer") + "/state")
        return state["deposits"][dep.key]["status"] == "filled"

    await _wait_for(paid)
    await _wait_for(recorded)
    entry = http_json(_url(devnet, "across-relayer") + "/state")["deposits"][dep.key]
    assert time.time() - 60 < entry["seen_at"] <= entry["filled_at"] <= time.time()  # unix seconds

    dataworker = _url(devnet, "across-dataworker")
    http_json(dataworker + "/bundle", {})
    http_json(dataworker + "/bundle", {})  # nothing more to pay
    assert await _balance(devnet, A, "USDC", relayer) == before + 1_000 * 10**6
    assert http_json(dataworker + "/state")["settled"][dep.key] == "repaid"

    # The contract refuses a second fill of the same deposit.
    rpc = await _rpc(devnet, B)
    try:
        data = calldata("fillRelay", dep.relay_data(), dep.origin_chain_id, to_bytes32(relayer))
        with pytest.raises(AcrossRevert) as err:
            await rpc.transact(relayer_account()[1], devnet.chains[B].contracts["AcrossSpokePool"], data, GAS["fill"])
        assert err.value.error == "RelayFilled"
    finally:
        await rpc.close()


async def test_relayer_limits_and_inventory_fault(devnet: DevnetState) -> None:
    relayer_url = _url(devnet, "across-relayer")
    recipient = Account.create().address
    no_fee = await _deposit(devnet, 3, "USDC", 10 * 10**6, 10 * 10**6, recipient)
    too_big = await _deposit(devnet, 3, "WBTC", 50 * 10**8, 49 * 10**8, recipient)
    http_json(relayer_url + "/admin", {"out_of_inventory": True})
    waiting = await _deposit(devnet, 3, "DAI", 10 * 10**18, 9 * 10**18, recipient)

    async def decided() -> bool:
        deposits = http_json(relayer_url + "/state")["deposits"]
        return all(
            deposits.get(k, {}).get("status") not in (None, "seen") for k in (no_fee.key, too_big.key, waiting.key)
        )

    await _wait_for(decided)
    deposits = http_json(relayer_url + "/state")["deposits"]
    assert deposits[no_fee.key]["status"] == "skipped" and "fee" in deposits[no_fee.key]["reason"]
    assert deposits[too_big.key]["status"] == "skipped" and "limit" in deposits[too_big.key]["reason"]
    assert deposits[waiting.key] == {**deposits[waiting.key], "status": "waiting", "reason": "insufficient inventory"}
    http_json(relayer_url + "/admin", {"out_of_inventory": False})

    async def filled() -> bool:
        return await _balance(devnet, B, "DAI", recipient) == 9 * 10**18

    await _wait_for(filled)


async def test_expired_deposit_refunded_to_depositor(devnet: DevnetState) -> None:
    relayer_url, dataworker = _url(devnet, "across-relayer"), _url(devnet, "across-dataworker")
    depositor, _ = dev_account(4)
    recipient = Account.create().address
    http_json(relayer_url + "/admin", {"stopped": True})
    try:
        start = await _balance(devnet, A, "DAI", depositor)
        dep = await _deposit(devnet, 4, "DAI", 500 * 10**18, 499 * 10**18, recipient, fill_deadline_in=60)
        assert await _balance(devnet, A, "DAI", depositor) == start - 500 * 10**18
        http_json(dataworker + "/bundle", {})
        assert dep.key not in http_json(dataworker + "/state")["settled"]  # not expired yet
        for chain in (A, B):
            rpc = await _rpc(devnet, chain)
            try:
                await rpc.call("evm_increaseTime", [120])
                await rpc.call("evm_mine")
            finally:
                await rpc.close()
        # Past the deadline the contract refuses the fill.
        rpc = await _rpc(devnet, B)
        try:
            relayer, relayer_key = relayer_account()
            data = calldata("fillRelay", dep.relay_data(), dep.origin_chain_id, to_bytes32(relayer))
            with pytest.raises(AcrossRevert) as err:
                await rpc.transact(relayer_key, devnet.chains[B].contracts["AcrossSpokePool"], data, GAS["fill"])
            assert err.value.error == "ExpiredFillDeadline"
        finally:
            await rpc.close()
        summary = http_json(dataworker + "/bundle", {})
        assert any(p["key"] == dep.key and p["kind"] == "refund" for p in summary["payments"])
        assert await _balance(devnet, A, "DAI", depositor) == start
        assert await _balance(devnet, B, "DAI", recipient) == 0
        http_json(dataworker + "/bundle", {})
        assert await _balance(devnet, A, "DAI", depositor) == start  # refunded once
    finally:
        http_json(relayer_url + "/admin", {"stopped": False})

    async def seen_expired() -> bool:
        return http_json(relayer_url + "/state")["deposits"].get(dep.key, {}).get("status") == "expired"

    await _wait_for(seen_expired)


async def test_bad_inputs_refused_and_classified(devnet: DevnetState) -> None:
    recipient = Account.create().address
    cases: list[tuple[dict[str, Any], str]] = [
        ({"output_token": ZERO}, "InvalidOutputToken"),
        ({"fill_deadline_in": FILL_DEADLINE_BUFFER + 600}, "InvalidFillDeadline"),
        ({"quote_age": 7200}, "InvalidQuoteTimestamp"),
        ({"value": 1}, "MsgValueDoesNotMatchInputAmount"),
    ]
    for kwargs, error in cases:
        with pytest.raises(AcrossRevert) as err:
            await _deposit(devnet, 5, "USDC", 10**6, 10**6 - 100, recipient, **kwargs)
        assert err.value.error == error, kwargs
    pool = devnet.chains[A].contracts["AcrossSpokePool"]
    _, outsider_key = dev_account(5)
    rpc = await _rpc(devnet, A)
    try:
        with pytest.raises(AcrossRevert) as err:
            data = calldata("relayRootBundle", b"\x01" * 32, bytes(32))
            await rpc.transact(outsider_key, pool, data, GAS["relay_root_bundle"])
        # Only the admin (the HubPool's role, the Ethereum spoke's owner) relays bundles. The npm
        # build strips revert strings, so Ownable's refusal carries no data.
        assert err.value.data in ("", "0x")
        leaf = (0, devnet.chains[A].chain_id, [1], 0, devnet.chains[A].tokens["USDC"].address, [recipient])
        with pytest.raises(AcrossRevert) as err:
            data = calldata("executeRelayerRefundLeaf", 0, leaf, [b"\x02" * 32])
            await rpc.transact(outsider_key, pool, data, GAS["execute_refund_leaf"])
        assert err.value.error == "InvalidMerkleProof"
    finally:
        await rpc.close()


async def test_relayer_answers_the_across_api_suggested_fees(devnet: DevnetState) -> None:
    """The devnet relayer answers ``/api/suggested-fees`` in the Across API's shape, so the
    connector's client is the one production uses against ``https://app.across.to/api``."""
    src, dst = devnet.chains[A], devnet.chains[B]
    base = _url(devnet, "across-relayer") + "/api/suggested-fees"
    query = (
        f"?inputToken={src.tokens['USDC'].address}&outputToken={dst.tokens['USDC'].address}"
        f"&originChainId={src.chain_id}&destinationChainId={dst.chain_id}&amount={10_000 * 10**6}"
    )
    body = http_json(base + query)
    assert body["totalRelayFee"]["total"] == str(10_000 * 10**6 // 10_000)  # 1 bps
    assert int(body["totalRelayFee"]["pct"]) == 10**14  # 1e18-scaled fraction
    assert not body["isAmountTooLow"] and body["spokePoolAddress"] == src.contracts["AcrossSpokePool"]
    limits = body["limits"]
    assert set(limits) == {
        "minDeposit", "maxDeposit", "maxDepositInstant", "maxDepositShortDelay", "recommendedDepositInstant"
    }  # fmt: skip
    assert limits["maxDeposit"] == str(1_000_000 * 10**6) and 0 < int(limits["maxDepositInstant"]) <= 1_000_000 * 10**6
    mismatched = base + (
        f"?inputToken={src.tokens['USDC'].address}&outputToken={dst.tokens['DAI'].address}"
        f"&originChainId={src.chain_id}&destinationChainId={dst.chain_id}&amount=1000"
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        http_json(mismatched)
    assert err.value.code == 400 and "Unsupported token pair" in json.loads(err.value.read())["message"]
