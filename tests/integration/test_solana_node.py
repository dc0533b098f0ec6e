"""The devnet's Solana node, driven by solana-py's AsyncClient exactly as against a cluster."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from solana.exceptions import SolanaRpcException
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Commitment
from solana.rpc.core import RPCException
from solana.rpc.models import TxOpts
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.rpc.responses import NodeUnhealthyMessage, SendTransactionPreflightFailureMessage
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction
from solders.transaction_status import TransactionConfirmationStatus, TransactionErrorFieldless

from crosslane.embedded.processes import stop_pid
from devnet.anvil import find_free_port
from devnet.services import spawn_service, wait_service
from devnet.solana.server import SolanaRpcServer
from tests.support.solana import set_faults, solana_node

SOL = 10**9
NO_CONFIRM = TxOpts(skip_confirmation=True, preflight_commitment=Commitment.PROCESSED)
SKIP_PREFLIGHT = TxOpts(skip_confirmation=True, skip_preflight=True)


@pytest.fixture(scope="module")
async def node() -> AsyncIterator[SolanaRpcServer]:
    async with solana_node(slot_ms=10, blockhash_validity=20) as server:
        yield server


@pytest.fixture(scope="module")
async def manual() -> AsyncIterator[SolanaRpcServer]:
    """A node whose clock only moves when a test advances it."""
    async with solana_node(slot_ms=0, blockhash_validity=5) as server:
        yield server


@pytest.fixture
async def rpc(node: SolanaRpcServer) -> AsyncIterator[AsyncClient]:
    await set_faults(node)
    client = AsyncClient(node.url, commitment=Commitment.CONFIRMED)
    yield client
    await client.close()


async def funded(client: AsyncClient, lamports: int = 10 * SOL) -> Keypair:
    wallet = Keypair()
    await client.request_airdrop(wallet.pubkey(), lamports)
    return wallet


def transfer_tx(
    sender: Keypair, recipient: Keypair, lamports: int, blockhash: Hash, price: int = 0
) -> VersionedTransaction:
    ixs = [transfer(TransferParams(from_pubkey=sender.pubkey(), to_pubkey=recipient.pubkey(), lamports=lamports))]
    if price:
        ixs = [set_compute_unit_limit(1_000), set_compute_unit_price(price), *ixs]
    return VersionedTransaction(MessageV0.try_compile(sender.pubkey(), ixs, [], blockhash), [sender])


async def send(rpc: AsyncClient, tx: VersionedTransaction) -> Signature:
    return (await rpc.send_raw_transaction(bytes(tx), NO_CONFIRM)).value


async def test_sol_transfer_lands_and_charges_signature_and_priority_fees(rpc: AsyncClient) -> None:
    sender, recipient = await funded(rpc), Keypair()
    latest = (await rpc.get_latest_blockhash()).value
    tx = transfer_tx(sender, recipient, SOL, latest.blockhash, price=2_000_000)  # 2 lamports/CU × 1000 CU
    signature = (await rpc.send_raw_transaction(bytes(tx), NO_CONFIRM)).value
    resp = await rpc.confirm_transaction(
        signature, Commitment.CONFIRMED, sleep_seconds=0.01, last_valid_block_height=latest.last_valid_block_height
    )
    status = resp.value[0]
    assert status is not None and status.err is None
    assert (await rpc.get_balance(recipient.pubkey())).value == SOL
    assert (await rpc.get_balance(sender.pubkey())).value == 10 * SOL - SOL - 5_000 - 2_000
    fees = (await rpc.get_recent_prioritization_fees([sender.pubkey()])).value
    assert 2_000_000 in [f.prioritization_fee for f in fees]
    assert all(f.prioritization_fee in (0, 2_000_000) for f in fees)


async def test_statuses_progress_processed_confirmed_finalized(manual: SolanaRpcServer) -> None:
    async with AsyncClient(manual.url) as rpc:
        sender, recipient = await funded(rpc), Keypair()
        blockhash = (await rpc.get_latest_blockhash(Commitment.PROCESSED)).value.blockhash
        signature = (
            await rpc.send_raw_transaction(bytes(transfer_tx(sender, recipient, SOL, blockhash)), NO_CONFIRM)
        ).value

        async def status():  # noqa: ANN202
            return (await rpc.get_signature_statuses([signature])).value[0]

        first = await status()
        assert (first.confirmation_status, first.confirmations) == (TransactionConfirmationStatus.Processed, 0)
        manual.node.advance()
        second = await status()
        assert (second.confirmation_status, second.confirmations) == (TransactionConfirmationStatus.Confirmed, 1)
        manual.node.advance(31)
        final = await status()
        assert (final.confirmation_status, final.confirmations) == (TransactionConfirmationStatus.Finalized, None)
        assert final.slot == first.slot
        slot = (await rpc.get_slot(Commitment.PROCESSED)).value
        assert (await rpc.get_slot(Commitment.FINALIZED)).value == slot - 32
        assert (await rpc.get_block_height(Commitment.CONFIRMED)).value == manual.node.block_height - 1


async def test_expired_blockhash_is_refused_at_preflight_and_never_lands_without_it(manual: SolanaRpcServer) -> None:
    async with AsyncClient(manual.url) as rpc:
        sender, recipient = await funded(rpc), Keypair()
        latest = (await rpc.get_latest_blockhash(Commitment.PROCESSED)).value
        manual.node.advance(manual.node.blockhash_validity + 1)
        assert manual.node.block_height > latest.last_valid_block_height
        tx = transfer_tx(sender, recipient, SOL, latest.blockhash)
        with pytest.raises(RPCException) as refused:
            await rpc.send_raw_transaction(bytes(tx), NO_CONFIRM)
        payload = refused.value.args[0]
        assert isinstance(payload, SendTransactionPreflightFailureMessage)
        assert payload.data.err == TransactionErrorFieldless.BlockhashNotFound
        # with skipPreflight the node answers the signature, and the leader drops the transaction
        signature = (await rpc.send_raw_transaction(bytes(tx), SKIP_PREFLIGHT)).value
        manual.node.advance()
        assert (await rpc.get_signature_statuses([signature], search_transaction_history=True)).value == [None]
        assert (await rpc.get_balance(recipient.pubkey())).value == 0


async def test_one_block_old_blockhash_is_still_valid(manual: SolanaRpcServer) -> None:
    async with AsyncClient(manual.url) as rpc:
        sender, recipient = await funded(rpc), Keypair()
        latest = (await rpc.get_latest_blockhash(Commitment.PROCESSED)).value
        manual.node.advance(manual.node.blockhash_validity)  # exactly at the last valid block height
        assert manual.node.block_height == latest.last_valid_block_height
        await rpc.send_raw_transaction(bytes(transfer_tx(sender, recipient, SOL, latest.blockhash)), NO_CONFIRM)
        assert (await rpc.get_balance(recipient.pubkey())).value == SOL


async def test_dropped_send_answers_its_signature_but_never_lands(node: SolanaRpcServer, rpc: AsyncClient) -> None:
    sender, recipient = await funded(rpc), Keypair()
    await set_faults(node, drop_sends=1)
    blockhash = (await rpc.get_latest_blockhash()).value.blockhash
    signature = (
        await rpc.send_raw_transaction(bytes(transfer_tx(sender, recipient, SOL, blockhash)), NO_CONFIRM)
    ).value
    assert str(signature) in node.node.dropped
    await asyncio.sleep(0.1)
    assert (await rpc.get_signature_statuses([signature], search_transaction_history=True)).value == [None]
    assert (await rpc.get_balance(recipient.pubkey())).value == 0
    assert node.node.faults.drop_sends == 0  # the next send goes through
    second = (
        await rpc.send_raw_transaction(bytes(transfer_tx(sender, recipient, SOL + 1, blockhash)), NO_CONFIRM)
    ).value
    assert (await rpc.get_signature_statuses([second])).value[0] is not None


async def test_delayed_confirmation_lands_later(node: SolanaRpcServer, rpc: AsyncClient) -> None:
    sender, recipient = await funded(rpc), Keypair()
    await set_faults(node, confirm_delay_s=0.1)  # ~10 slots: within the blockhash's 20
    blockhash = (await rpc.get_latest_blockhash()).value.blockhash
    sent_at = node.node.slot
    signature = (
        await rpc.send_raw_transaction(bytes(transfer_tx(sender, recipient, SOL, blockhash)), NO_CONFIRM)
    ).value
    assert (await rpc.get_signature_statuses([signature])).value == [None]
    resp = await rpc.confirm_transaction(signature, Commitment.CONFIRMED, sleep_seconds=0.02)
    assert resp.value[0].slot > sent_at
    assert (await rpc.get_balance(recipient.pubkey())).value == SOL


async def test_delayed_transaction_whose_blockhash_expires_meanwhile_never_lands(manual: SolanaRpcServer) -> None:
    async with AsyncClient(manual.url) as rpc:
        sender, recipient = await funded(rpc), Keypair()
        await set_faults(manual, confirm_delay_s=0.5)
        try:
            blockhash = (await rpc.get_latest_blockhash(Commitment.PROCESSED)).value.blockhash
            signature = await send(rpc, transfer_tx(sender, recipient, SOL, blockhash))
            manual.node.advance(manual.node.blockhash_validity + 1)  # its blockhash expires before it is due
            await asyncio.sleep(0.5)
            manual.node.advance()  # due now
        finally:
            await set_faults(manual)
        assert (await rpc.get_signature_statuses([signature], search_transaction_history=True)).value == [None]
        assert (await rpc.get_balance(recipient.pubkey())).value == 0


async def test_rpc_error_faults(node: SolanaRpcServer, rpc: AsyncClient) -> None:
    wallet = await funded(rpc)
    await set_faults(node, rpc_errors=1, rpc_error_kind="http")
    with pytest.raises(SolanaRpcException):
        await rpc.get_balance(wallet.pubkey())
    assert (await rpc.get_balance(wallet.pubkey())).value == 10 * SOL
    await set_faults(node, rpc_errors=1, rpc_error_kind="jsonrpc", rpc_error_methods=["getBalance"])
    assert (await rpc.get_slot()).value > 0  # not a listed method: untouched
    with pytest.raises(RPCException) as unhealthy:
        await rpc.get_balance(wallet.pubkey())
    assert isinstance(unhealthy.value.args[0], NodeUnhealthyMessage)
    assert (await rpc.get_balance(wallet.pubkey())).value == 10 * SOL


async def test_simulation_reports_success_and_failure_without_executing(rpc: AsyncClient) -> None:
    sender, recipient = await funded(rpc, SOL), Keypair()
    blockhash = (await rpc.get_latest_blockhash()).value.blockhash
    ok = (await rpc.simulate_transaction(transfer_tx(sender, recipient, SOL // 2, blockhash))).value
    assert ok.err is None and ok.units_consumed and ok.logs
    too_much = (await rpc.simulate_transaction(transfer_tx(sender, recipient, 2 * SOL, blockhash))).value
    assert too_much.err is not None
    assert (await rpc.get_balance(recipient.pubkey())).value == 0
    assert (await rpc.get_balance(sender.pubkey())).value == SOL


async def test_account_reads(rpc: AsyncClient) -> None:
    wallet = await funded(rpc, 890_880)
    info = (await rpc.get_account_info(wallet.pubkey())).value
    assert info is not None and info.lamports == 890_880 and info.data == b""
    assert (await rpc.get_account_info(Keypair().pubkey())).value is None
    assert (await rpc.get_minimum_balance_for_rent_exemption(0)).value == 890_880
    with pytest.raises(RPCException):
        await rpc.get_token_account_balance(wallet.pubkey())  # not a token account


def test_spawned_node_answers(tmp_path: Path) -> None:
    port = find_free_port()
    info = spawn_service(
        "solana", "devnet.solana", ["--port", str(port)], port, tmp_path / "solana.log", detached=False
    )
    try:
        wait_service(info, lambda url, timeout: urllib.request.urlopen(f"{url}/health", timeout=timeout), "solana", 20)
        with urllib.request.urlopen(f"{info.url}/admin/status", timeout=2) as resp:
            assert b'"blockhash_validity": 150' in resp.read()
    finally:
        stop_pid(info.pid)
