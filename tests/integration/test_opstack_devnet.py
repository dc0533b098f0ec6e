"""The OP Stack rollup on the devnet: contracts-bedrock's real L1 contracts and L2 predeploys,
deposits executed by the rollup service, withdrawals proven with a real storage proof and
finalized by the real portal after the finalization period.

One attached devnet (``devnet_up(op_stack=True)``, finalization 3 s) on free ports, shared by
the module; tests run in file order (the withdrawal follows the deposit).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.runtime import ChainRuntime
from activities.tx import TxActivities
from connectors.bridges.op_withdrawals import output_root_proof, withdrawal_from_log
from connectors.evm.client import EvmClient
from connectors.evm.fee_models import priced
from connectors.evm.signer import LocalKeySigner, SignerRegistry
from connectors.evm.transactions import eip1559_tx
from crosslane.domain.chains import ChainRegistry
from crosslane.domain.tx import FeePolicy, TxRequest
from crosslane.domain.tx_steps import PrepareInput
from crosslane.embedded.processes import stop_pid
from crosslane.ledger import Ledger
from crosslane.registry import load_registry
from devnet.across.spoke import AcrossRevert, Rpc
from devnet.anvil import dev_account, find_free_port
from devnet.manager import devnet_status, devnet_up
from devnet.opstack.contracts import PREDEPLOYS, apply_l1_to_l2_alias, calldata, decode_result
from devnet.opstack.deploy import BASEFEE_SCALAR, BLOBBASEFEE_SCALAR, rollup_contract
from devnet.registry_export import registry_path
from devnet.state import DevnetState

pytestmark = pytest.mark.timeout(90)

L1, L2 = "devnet-a", "devnet-op"
ETH = 10**18
FINALIZATION_S = 3
DEPOSIT_GAS = 1_500_000  # the portal burns L1 gas for the L2 gas bought: eth_estimateGas is too low


@pytest.fixture(scope="module")
def state_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("opstack") / "devnet.json"


@pytest.fixture(scope="module")
async def devnet(state_path: Path) -> AsyncIterator[DevnetState]:
    path = state_path
    state: DevnetState | None = None
    try:
        state = await devnet_up(
            path,
            {L1: find_free_port(), "devnet-b": find_free_port(), L2: find_free_port()},
            detached=False,
            op_stack=True,
            op_finalization_seconds=FINALIZATION_S,
            op_proposal_interval=0.5,
            timeout=20.0,
        )
        yield state
    finally:
        for proc in state.processes.values() if state else ():
            stop_pid(proc.pid, timeout=2.0)


def _l1(state: DevnetState, contract: str) -> str:
    return rollup_contract(state.chains[L1], L2, contract)


async def _balance(rpc: Rpc, who: str) -> int:
    return int(await rpc.call("eth_getBalance", [who, "latest"]), 16)


async def _until(predicate: Callable[[], Awaitable[bool]], what: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not after {timeout} s")
        await asyncio.sleep(0.1)


async def test_rollup_contracts_and_registry(devnet: DevnetState, state_path: Path) -> None:
    l1, l2 = Rpc(devnet.anvil_url(L1)), Rpc(devnet.anvil_url(L2))
    try:
        for name in ("OptimismPortal", "L2OutputOracle", "L1CrossDomainMessenger", "L1StandardBridge", "SystemConfig"):
            assert await l1.call("eth_getCode", [_l1(devnet, name), "latest"]) not in ("0x", "")
        for name, address in PREDEPLOYS.items():
            assert devnet.chains[L2].contracts[name] == address
            assert await l2.call("eth_getCode", [address, "latest"]) not in ("0x", ""), name
        raw = await l2.eth_call(
            PREDEPLOYS["L2CrossDomainMessenger"], calldata("L2CrossDomainMessenger", "OTHER_MESSENGER")
        )
        assert to_checksum_address(decode_result("L2CrossDomainMessenger", "OTHER_MESSENGER", raw)[0]) == _l1(
            devnet, "L1CrossDomainMessenger"
        )
        raw = await l2.eth_call(PREDEPLOYS["GasPriceOracle"], calldata("GasPriceOracle", "isEcotone"))
        assert decode_result("GasPriceOracle", "isEcotone", raw) == (True,)
        raw = await l2.eth_call(PREDEPLOYS["L1Block"], calldata("L1Block", "basefee"))
        assert decode_result("L1Block", "basefee", raw)[0] > 0  # the L1 head's, set by the rollup service
    finally:
        await l1.close()
        await l2.close()
    status = devnet_status(state_path)
    assert status.up, status.problems
    assert {p.name for p in status.processes} >= {"anvil-devnet-op", "op-rollup"}
    assert await devnet_up(state_path, detached=False, op_stack=True) == devnet  # idempotent
    chains = ChainRegistry.from_registry(load_registry(registry_path(state_path)))
    op = chains.get(L2)
    assert (op.fee_model, op.settles_on, op.chain_id) == ("op-stack", L1, 31339)
    assert op.tokens["USDC"].address == devnet.chains[L2].tokens["USDC"].address
    assert chains.get(L1).contracts[f"{L2}:OptimismPortal"] == _l1(devnet, "OptimismPortal")


async def test_deposit_then_withdraw_through_the_real_portal(devnet: DevnetState) -> None:
    l1, l2 = Rpc(devnet.anvil_url(L1)), Rpc(devnet.anvil_url(L2))
    user, key = dev_account(6)
    try:
        # Deposit 1 ETH through L1StandardBridge: the messenger's aliased address relays it on L2.
        l2_before = await _balance(l2, user)
        deposit = calldata("L1StandardBridge", "depositETH", 200_000, b"")
        await l1.transact(key, _l1(devnet, "L1StandardBridge"), deposit, DEPOSIT_GAS, value=ETH)

        async def arrived() -> bool:
            return await _balance(l2, user) == l2_before + ETH

        await _until(arrived, "the deposit on L2")
        relayer = apply_l1_to_l2_alias(_l1(devnet, "L1CrossDomainMessenger"))
        assert relayer != _l1(devnet, "L1CrossDomainMessenger")

        # Withdraw 0.25 ETH: L2StandardBridge -> messenger -> L2ToL1MessagePasser.
        amount = ETH // 4
        init = calldata("L2StandardBridge", "bridgeETHTo", user, 200_000, b"")
        receipt = await l2.transact(key, PREDEPLOYS["L2StandardBridge"], init, 500_000, value=amount)
        passed = [
            entry for entry in receipt["logs"] if entry["address"].lower() == PREDEPLOYS["L2ToL1MessagePasser"].lower()
        ]
        assert len(passed) == 1
        withdrawal = withdrawal_from_log(
            [bytes.fromhex(t[2:]) for t in passed[0]["topics"]], bytes.fromhex(passed[0]["data"][2:])
        )
        assert withdrawal.sender == PREDEPLOYS["L2CrossDomainMessenger"]
        block = int(receipt["blockNumber"], 16)

        oracle, portal = _l1(devnet, "L2OutputOracle"), _l1(devnet, "OptimismPortal")

        async def output_posted() -> bool:
            raw = await l1.eth_call(oracle, calldata("L2OutputOracle", "latestBlockNumber"))
            return bool(decode_result("L2OutputOracle", "latestBlockNumber", raw)[0] >= block)

        await _until(output_posted, "an output root covering the withdrawal")
        raw = await l1.eth_call(oracle, calldata("L2OutputOracle", "getL2OutputIndexAfter", block))
        (index,) = decode_result("L2OutputOracle", "getL2OutputIndexAfter", raw)
        raw = await l1.eth_call(oracle, calldata("L2OutputOracle", "getL2Output", index))
        (proposal,) = decode_result("L2OutputOracle", "getL2Output", raw)
        l2_block = await l2.call("eth_getBlockByNumber", [hex(proposal[2]), False])
        proof = await l2.call(
            "eth_getProof",
            [PREDEPLOYS["L2ToL1MessagePasser"], ["0x" + withdrawal.storage_slot.hex()], hex(proposal[2])],
        )
        root_proof = output_root_proof(l2_block, proof["storageHash"])
        storage_proof = [bytes.fromhex(p[2:]) for p in proof["storageProof"][0]["proof"]]

        # A proof of another storage root is refused by the portal.
        forged = (root_proof[0], root_proof[1], bytes(32), root_proof[3])
        prove = calldata(
            "OptimismPortal", "proveWithdrawalTransaction", withdrawal.as_tuple(), index, forged, storage_proof
        )
        with pytest.raises(AcrossRevert, match="invalid output root proof"):
            await l1.transact(key, portal, prove, 800_000)

        prove = calldata(
            "OptimismPortal", "proveWithdrawalTransaction", withdrawal.as_tuple(), index, root_proof, storage_proof
        )
        await l1.transact(key, portal, prove, 800_000)
        finalize = calldata("OptimismPortal", "finalizeWithdrawalTransaction", withdrawal.as_tuple())
        with pytest.raises(AcrossRevert, match="finalization period has not elapsed"):
            await l1.transact(key, portal, finalize, 800_000)

        await l1.call("evm_increaseTime", [FINALIZATION_S + 1])
        await l1.call("evm_mine", [])
        l1_before = await _balance(l1, user)
        receipt = await l1.transact(key, portal, finalize, 800_000)
        fee = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
        assert await _balance(l1, user) == l1_before - fee + amount
        with pytest.raises(AcrossRevert, match="already been finalized"):
            await l1.transact(key, portal, finalize, 800_000)
    finally:
        await l1.close()
        await l2.close()


def _registry(state_path: Path) -> ChainRegistry:
    return ChainRegistry.from_registry(load_registry(registry_path(state_path)))


def _ecotone_l1_fee(raw: bytes, l1_base_fee: int, blob_base_fee: int) -> int:
    """GasPriceOracle._getL1FeeEcotone, independently: calldata gas of the bytes plus a
    68-byte signature allowance, priced at the L1 base and blob base fees times their scalars."""
    calldata_gas = sum(4 if b == 0 else 16 for b in raw) + 68 * 16
    scaled = 16 * l1_base_fee * BASEFEE_SCALAR + blob_base_fee * BLOBBASEFEE_SCALAR
    return calldata_gas * scaled // (16 * 10**6)


async def test_l1_data_fee_is_the_gas_price_oracles(devnet: DevnetState, state_path: Path) -> None:
    chains = _registry(state_path)
    account = Account.from_key(dev_account(5)[1])
    tx = eip1559_tx(
        chain_id=31339,
        nonce=7,
        to=dev_account(6)[0],
        value=10**15,
        data="0x" + "00ff" * 40,
        gas=60_000,
        max_fee_per_gas=2 * 10**9,
        max_priority_fee_per_gas=10**8,
    )
    raw = bytes(account.sign_transaction(tx).raw_transaction)
    op, l1 = EvmClient(chains.get(L2)), EvmClient(chains.get(L1))
    try:
        cost = await priced(op, "0x" + raw.hex(), 60_000, 2 * 10**9)
        rpc = Rpc(devnet.anvil_url(L2))
        try:
            oracle = await rpc.eth_call(PREDEPLOYS["GasPriceOracle"], calldata("GasPriceOracle", "getL1Fee", raw))
            base = await rpc.eth_call(PREDEPLOYS["L1Block"], calldata("L1Block", "basefee"))
            blob = await rpc.eth_call(PREDEPLOYS["L1Block"], calldata("L1Block", "blobBaseFee"))
        finally:
            await rpc.close()
        (from_oracle,) = decode_result("GasPriceOracle", "getL1Fee", oracle)
        (l1_base_fee,) = decode_result("L1Block", "basefee", base)
        (blob_base_fee,) = decode_result("L1Block", "blobBaseFee", blob)
        assert cost.l1_data_fee == from_oracle == _ecotone_l1_fee(raw, l1_base_fee, blob_base_fee) > 0
        assert cost.total == 60_000 * 2 * 10**9 + cost.l1_data_fee
        assert (await priced(l1, "0x" + raw.hex(), 60_000, 2 * 10**9)).l1_data_fee == 0  # devnet-a: eip1559
    finally:
        await op.close()
        await l1.close()


async def test_total_fee_cap_counts_the_l1_data_fee(devnet: DevnetState, state_path: Path, tmp_path: Path) -> None:
    """A cap that covers the L2 gas but not the L1 data fee is refused before anything is
    recorded; one that covers both is taken."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.migrate()
    signer, key = dev_account(5)
    runtime = ChainRuntime(ledger=ledger, chains=_registry(state_path), signers=SignerRegistry([LocalKeySigner(key)]))
    activities = TxActivities(runtime)
    max_fee = 3 * 10**9
    fees = {"max_fee_per_gas_cap": max_fee, "initial_max_fee_per_gas": max_fee}

    def request(rid: str, cap: int) -> TxRequest:
        return TxRequest(
            request_id=rid,
            chain=L2,
            signer=signer,
            to=dev_account(6)[0],
            value=1,
            gas_limit=21_000,
            fees=FeePolicy(**fees, max_total_fee=cap),
        )

    try:
        below = request("op-fee-cap-low", 21_000 * max_fee + 1)
        with pytest.raises(ApplicationError, match="L1 data fee") as refused:
            await ActivityEnvironment().run(
                activities.tx_prepare, PrepareInput(workflow_id=below.workflow_id, request=below)
            )
        assert "nothing was sent" in str(refused.value)
        assert ledger.get_operation(below.workflow_id, "tx") is None
        enough = request("op-fee-cap-ok", 21_000 * max_fee + 10**15)
        attempt = await ActivityEnvironment().run(
            activities.tx_prepare, PrepareInput(workflow_id=enough.workflow_id, request=enough)
        )
        assert attempt.nonce >= 0 and ledger.get_operation(enough.workflow_id, "tx") is not None
    finally:
        await runtime.close()
