"""CexTransfer against the Binance (and Kraken) simulator and devnet-a: a withdrawal to our
address and the deposit back move the venue balance (read through ccxt) and the chain
balance (read through web3) exactly once each, also with the worker SIGKILLed after the
withdrawal request or while waiting; bad input is refused before anything moves. Kraken
keeps no client reference on withdrawals and withdraws to a named address-book key: the
connector finds a lost withdrawal by address, amount and time instead."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console
from temporalio.client import WorkflowFailureError

from crosslane.domain.cex_transfer import CexTransferResult, CexTransferState, TransferDirection
from devnet.cex import admin_client as admin
from devnet.cli.showcase_cex_transfer import cex_transfer_step
from devnet.sandbox import WorkerProcess, sandbox
from tests.support.cex_transfer import (
    ACCOUNT,
    deposits_of,
    rest_url,
    transfer_request,
    venue_free,
    withdrawals_of,
    withdrawals_to,
)
from tests.support.dex import balance, w3_for
from tests.support.stack import Stack, crosslane_client, unique_queue, worker_process

pytestmark = pytest.mark.timeout(180)
USDC = 10**6


@pytest.fixture(scope="module")
async def cex_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with sandbox(tmp_path_factory.mktemp("cex-transfer"), cex=True) as services:
        stack = Stack(services)
        stack.ledger().migrate()
        await admin.credit(rest_url(stack), "USDC", "100000", account=ACCOUNT)
        yield stack


async def _round_trip(
    stack: Stack, tmp_path: Path, env: dict[str, str], direction: str, venue: str = "binance"
) -> None:
    """Withdraw 100 USDC to a fresh signer, then deposit the 99 that arrive back; the worker
    running the ``direction`` leg is started with ``env`` (a crash point) and replaced."""
    signer = stack.fund_signer()
    book = {f"wallet-{signer.address[2:10]}": {"address": signer.address, "network": "DEVNET-A"}}
    await admin.whitelist(rest_url(stack, venue), [signer.address], account=f"acct-{venue}", keys=book)
    queue = unique_queue("cextransfer")
    client_env = env if direction == "withdraw" else {}
    worker: WorkerProcess = worker_process(stack, queue, tmp_path / "worker-1.log", **client_env)
    replacement: WorkerProcess | None = None
    try:
        await worker.wait_polling()
        client = await crosslane_client(stack, queue)
        tag = uuid.uuid4().hex[:8]

        venue_before = await venue_free(stack, "USDC", venue)
        out_request = transfer_request(f"out-{tag}", "withdraw", signer.address, "100", venue=venue)
        handle = await client.start_cex_transfer(out_request)
        if direction == "withdraw" and env:
            assert await worker.wait_killed() == -9
            replacement = worker_process(stack, queue, tmp_path / "worker-2.log")
        out: CexTransferResult = await asyncio.wait_for(handle.result(), 120)
        assert (out.amount, out.fee, out.received) == (Decimal(100), Decimal(1), Decimal(99))
        assert balance(stack, "devnet-a", "USDC", signer.address) == 99 * USDC
        assert await venue_free(stack, "USDC", venue) == venue_before - 100
        made = await withdrawals_to(stack, signer.address, venue)
        assert len(made) == 1 and made[0]["tx_hash"] == out.tx_hash
        if venue != "kraken":  # Kraken's refid is its own; it keeps no reference of ours
            assert made[0]["id"] == int(out.withdrawal_id or 0) and made[0]["client_ref"] == out.client_ref
        op = stack.ledger().get_operation(out_request.workflow_id, "cex_transfer")
        assert op is not None and op.status == "succeeded" and op.detail["withdrawal"]["id"] == out.withdrawal_id
        status = await client.cex_transfer_status(out_request.request_id)
        assert status.state is CexTransferState.COMPLETED and status.tx_hash == out.tx_hash

        if direction == "deposit" and env:
            worker.stop()
            worker = worker_process(stack, queue, tmp_path / "worker-3.log", **env)
            await worker.wait_polling()
        back_request = transfer_request(f"back-{tag}", "deposit", signer.address, "99", venue=venue)
        handle = await client.start_cex_transfer(back_request)
        if direction == "deposit" and env:
            assert await worker.wait_killed() == -9
            replacement = worker_process(stack, queue, tmp_path / "worker-4.log")
        back: CexTransferResult = await asyncio.wait_for(handle.result(), 120)
        assert back.direction is TransferDirection.DEPOSIT and back.received == Decimal(99)
        assert balance(stack, "devnet-a", "USDC", signer.address) == 0
        assert await venue_free(stack, "USDC", venue) == venue_before - 100 + 99
        assert len(await deposits_of(stack, back.tx_hash, venue)) == 1
        assert w3_for(stack, "devnet-a").eth.get_transaction_count(signer.address) == 1  # one deposit sent
    finally:
        worker.stop()
        if replacement:
            replacement.stop()


async def test_withdraw_then_deposit_back_moves_each_balance_once(cex_stack: Stack, tmp_path: Path) -> None:
    await _round_trip(cex_stack, tmp_path, {}, "withdraw")


@pytest.mark.parametrize(
    ("direction", "point"),
    [
        ("withdraw", "cex_transfer.after_withdraw"),
        ("withdraw", "cex_transfer.waiting"),
        ("deposit", "tx.after_broadcast"),
        ("deposit", "cex_transfer.waiting"),
    ],
)
async def test_worker_killed_mid_transfer_moves_each_balance_once(
    cex_stack: Stack, tmp_path: Path, direction: str, point: str
) -> None:
    once = tmp_path / "crashed"
    env = {"CROSSLANE_CRASH_AT": point, "CROSSLANE_CRASH_ONCE_FILE": str(once)}
    await _round_trip(cex_stack, tmp_path, env, direction)
    assert once.read_text() == point


@pytest.mark.parametrize("point", [None, "cex_transfer.after_withdraw"])
async def test_kraken_withdrawal_without_client_reference_is_made_once(
    cex_stack: Stack, tmp_path: Path, point: str | None
) -> None:
    """On Kraken (no client reference, a named withdrawal key), also with the worker SIGKILLed
    right after the withdrawal request: one withdrawal on the venue, 99 on chain."""
    await admin.credit(rest_url(cex_stack, "kraken"), "USDC", "1000", account="acct-kraken")
    once = tmp_path / "crashed"
    env = {"CROSSLANE_CRASH_AT": point, "CROSSLANE_CRASH_ONCE_FILE": str(once)} if point else {}
    await _round_trip(cex_stack, tmp_path, env, "withdraw", venue="kraken")
    assert not point or once.read_text() == point


async def test_bad_input_is_refused_before_anything_moves(cex_stack: Stack, tmp_path: Path) -> None:
    stack = cex_stack
    signer, stranger = stack.fund_signer(), stack.fund_signer()
    await admin.whitelist(rest_url(stack), [signer.address], account=ACCOUNT)
    for bad in (
        {"amount": "0"},
        {"amount": "-5"},
        {"private_key": "0x" + "11" * 32},
    ):
        with pytest.raises(ValueError) as refused:
            transfer_request("bad", "withdraw", signer.address, **{"amount": "10", **bad})  # type: ignore[arg-type]
        assert "11" * 32 not in str(refused.value)
    queue = unique_queue("cexbad")
    worker = worker_process(stack, queue, tmp_path / "worker.log")
    try:
        await worker.wait_polling()
        client = await crosslane_client(stack, queue)
        venue_before = await venue_free(stack, "USDC")
        cases = [
            ({"venue": "nowhere"}, signer.address, "InvalidRequest", "unknown venue 'nowhere'"),
            ({"asset": "DOGE"}, signer.address, "InvalidRequest", "no currency 'DOGE'"),
            ({"chain": "devnet-z"}, signer.address, "InvalidRequest", "unknown chain 'devnet-z'"),
            ({"amount": "10.0000001"}, signer.address, "InvalidRequest", "too many decimals"),
            ({"amount": "5"}, signer.address, "BelowWithdrawalMinimum", "below the withdrawal minimum"),
            ({}, stranger.address, "AddressNotWhitelisted", "whitelist"),
            ({"amount": "10000000"}, signer.address, "InsufficientBalance", "balance"),
        ]
        for i, (overrides, address, kind, text) in enumerate(cases):
            fields = {"amount": "10", **overrides}
            request = transfer_request(f"bad-{uuid.uuid4().hex[:6]}-{i}", "withdraw", address, **fields)
            handle = await client.start_cex_transfer(request)
            with pytest.raises(WorkflowFailureError) as failed:
                await asyncio.wait_for(handle.result(), 60)
            cause = failed.value.cause
            assert getattr(cause, "type", None) == kind, (overrides, cause)
            assert text in str(cause), (overrides, str(cause))
            op = stack.ledger().get_operation(request.workflow_id, "cex_transfer")
            if kind in ("AddressNotWhitelisted", "InsufficientBalance"):  # the venue's refusal, after the plan
                assert op is not None and op.status == "failed" and text in op.detail["failure"]
            else:  # refused before anything was recorded
                assert op is None, (overrides, op)
        assert await venue_free(stack, "USDC") == venue_before
        assert balance(stack, "devnet-a", "USDC", stranger.address) == 0
    finally:
        worker.stop()


async def test_showcase_step_withdraws_and_deposits_back(cex_stack: Stack, tmp_path: Path) -> None:
    stack = cex_stack
    signer = stack.fund_signer()
    queue = unique_queue("cexshow")
    worker = worker_process(stack, queue, tmp_path / "worker.log")
    printed = io.StringIO()
    try:
        await worker.wait_polling()
        client = await crosslane_client(stack, queue)
        await cex_transfer_step(Console(file=printed, width=200), client, stack.sandbox.devnet, signer.address, "t1")
    finally:
        worker.stop()
    text = printed.getvalue()
    assert "withdraw 100 USDC (fee 1): 99 arrived" in text and "credited 99" in text, text
    assert balance(stack, "devnet-a", "USDC", signer.address) == 0


async def test_okx_withdrawal_charges_its_fee_on_top(cex_stack: Stack, tmp_path: Path) -> None:
    stack = cex_stack
    signer = stack.fund_signer()
    okx = rest_url(stack, "okx")
    await admin.credit(okx, "USDC", "500", account="acct-okx")
    await admin.whitelist(okx, [signer.address], account="acct-okx")
    queue = unique_queue("cexokx")
    worker = worker_process(stack, queue, tmp_path / "worker.log")
    try:
        await worker.wait_polling()
        client = await crosslane_client(stack, queue)
        before = await venue_free(stack, "USDC", "okx")
        request = transfer_request(f"okx-{uuid.uuid4().hex[:8]}", "withdraw", signer.address, "50", venue="okx")
        result = await asyncio.wait_for((await client.start_cex_transfer(request)).result(), 120)
    finally:
        worker.stop()
    assert (result.received, result.fee, result.network) == (Decimal(50), Decimal(1), "DEVNET-A")
    assert balance(stack, "devnet-a", "USDC", signer.address) == 50 * USDC
    assert await venue_free(stack, "USDC", "okx") == before - 51
    assert len(await withdrawals_of(stack, result.client_ref, "okx")) == 1
