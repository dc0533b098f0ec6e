"""BridgeTransfer over an OP Stack rollup's canonical bridge on the devnet (real portal).

USDC deposited devnet-a -> devnet-op (the sequencer stand-in relays it; the L2 token is the
OptimismMintableERC20 of the L1 one), then withdrawn back: initiate, output root, proof
against the real portal, the finalization period (8 s here) as a durable timer, finalize.
Balances are checked on both chains, and the L1 bridge's escrow with the L2 supply.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowFailureError

from crosslane.domain.bridge import BridgeRoute, BridgeState, BridgeStatus
from devnet.mining import manual_mining
from devnet.opstack.contracts import calldata
from tests.e2e.test_dex_swap_slippage import wait_pending
from tests.support.bridge import bridge_request, holding
from tests.support.dex import deal, send_tx, w3_for
from tests.support.op_stack import fund_l2_usdc, l1_contract, portal_events, withdrawal_of
from tests.support.stack import ETH, Stack, crosslane_client, running_worker, temporal_client, unique_queue

pytestmark = pytest.mark.timeout(120)

L1, L2 = "devnet-a", "devnet-op"
USDC = 10**6


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _escrowed(stack: Stack) -> int:
    bridge = stack.chains.get(L1).contracts[f"{L2}:L1StandardBridge"]
    return holding(stack, L1, "USDC", bridge)


async def test_usdc_deposit_then_withdrawal_through_the_portal(op_stack: Stack) -> None:
    stack = op_stack
    signer = stack.fund_signer()
    amount, back = 2_000 * USDC, 750 * USDC
    deal(stack, L1, signer.address, "USDC", amount)
    escrow_before = _escrowed(stack)
    queue = unique_queue("op")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        deposit = bridge_request(
            signer.address, _id("op-in"), source_chain=L1, destination_chain=L2, amount=amount, route="op-canonical"
        )
        result = await (await client.start_bridge(deposit)).result()
        assert result.state is BridgeState.COMPLETED and result.route is BridgeRoute.OP_CANONICAL
        assert result.received == amount
        assert holding(stack, L1, "USDC", signer.address) == 0
        assert holding(stack, L2, "USDC", signer.address) == amount
        assert _escrowed(stack) == escrow_before + amount

        withdrawal = bridge_request(
            signer.address, _id("op-out"), source_chain=L2, destination_chain=L1, amount=back, route="op-canonical"
        )
        handle = await client.start_bridge(withdrawal)
        result = await handle.result()
        assert result.state is BridgeState.COMPLETED and result.received == back
        assert holding(stack, L2, "USDC", signer.address) == amount - back
        assert holding(stack, L1, "USDC", signer.address) == back
        assert _escrowed(stack) == escrow_before + amount - back
        # The L2 bridge burns from the sender: the withdrawal is its only L2 transaction (no approval).
        assert w3_for(stack, L2).eth.get_transaction_count(signer.address) == 1
        status = await handle.query("status", result_type=BridgeStatus)
        assert status.proven_at and status.finalizable_at and status.proven_at < status.finalizable_at
        assert set(status.transactions) == {"deposit", "prove", "finalize"}
        assert status.transactions["deposit"] == result.deposit_tx
        for step in ("prove", "finalize"):  # each mined on L1
            assert w3_for(stack, L1).eth.get_transaction_receipt(status.transactions[step])["status"] == 1
        # "Withdrawals finalizable today": a range over the search attribute.
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        temporal = await temporal_client(stack)
        query = f'CrosslaneFinalizableAt < "{tomorrow}" AND CrosslaneRoute = "op-canonical"'
        for _ in range(50):
            listed = [w.id async for w in temporal.list_workflows(query)]
            if withdrawal.workflow_id in listed:
                break
            await asyncio.sleep(0.1)
        assert withdrawal.workflow_id in listed and deposit.workflow_id not in listed


async def test_eth_deposit_then_withdrawal_as_value(op_stack: Stack) -> None:
    """Native ETH through the bridges' bridgeETHTo: the portal holds the deposit on L1 and pays the
    withdrawal back. Recipients that send nothing see exactly the amounts, on both chains."""
    stack = op_stack
    signer, l2_holder, l1_recipient = stack.fund_signer(), stack.fund_signer(), stack.fund_signer()
    amount, back = 3 * ETH, ETH
    w3a, w3op = w3_for(stack, L1), w3_for(stack, L2)
    portal = l1_contract(stack, "OptimismPortal")
    portal_before, held_before = w3a.eth.get_balance(portal), w3op.eth.get_balance(l2_holder.address)
    queue = unique_queue("op-eth")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        deposit = bridge_request(
            signer.address, _id("op-eth-in"), source_chain=L1, destination_chain=L2, asset="ETH", amount=amount,
            recipient=l2_holder.address, route="op-canonical",
        )  # fmt: skip
        result = await (await client.start_bridge(deposit)).result()
        assert result.state is BridgeState.COMPLETED and result.received == amount
        assert w3op.eth.get_balance(l2_holder.address) == held_before + amount
        assert w3a.eth.get_balance(portal) == portal_before + amount
        assert w3a.eth.get_balance(signer.address) < 1000 * ETH - amount  # the amount and its gas

        recipient_before = w3a.eth.get_balance(l1_recipient.address)
        withdrawal = bridge_request(
            l2_holder.address, _id("op-eth-out"), source_chain=L2, destination_chain=L1, asset="ETH", amount=back,
            recipient=l1_recipient.address, route="op-canonical",
        )  # fmt: skip
        result = await (await client.start_bridge(withdrawal)).result()
    assert result.state is BridgeState.COMPLETED and result.received == back
    assert w3a.eth.get_balance(l1_recipient.address) == recipient_before + back
    assert w3a.eth.get_balance(portal) == portal_before + amount - back
    assert w3op.eth.get_balance(l2_holder.address) < held_before + amount - back  # the amount and its L2 fees
    assert w3op.eth.get_transaction_count(l2_holder.address) == 1


async def test_withdrawal_to_a_predeploy_is_refused(op_stack: Stack) -> None:
    stack = op_stack
    signer = stack.fund_signer()
    queue = unique_queue("op-bad")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        request = bridge_request(
            signer.address,
            _id("op-predeploy"),
            source_chain=L2,
            destination_chain=L1,
            amount=USDC,
            recipient="0x4200000000000000000000000000000000000016",
            route="op-canonical",
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await (await client.start_bridge(request)).result()
        assert "predeploy" in str(failed.value.cause)


async def test_a_token_without_l2_mapping_is_refused_before_anything_is_sent(op_stack: Stack) -> None:
    stack = op_stack
    signer = stack.fund_signer()
    deal(stack, L1, signer.address, "DAI", 10**18)
    queue = unique_queue("op-nomap")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        request = bridge_request(
            signer.address, _id("op-dai"), source_chain=L1, destination_chain=L2, asset="DAI", amount=10**18,
            route="op-canonical",
        )  # fmt: skip
        with pytest.raises(WorkflowFailureError) as failed:
            await (await client.start_bridge(request)).result()
    assert "DAI has no token on devnet-op" in str(failed.value.cause)
    assert w3_for(stack, L1).eth.get_transaction_count(signer.address) == 0
    with stack.ledger() as ledger:
        assert ledger.get_bridge_transfer(request.workflow_id) is None


async def test_a_withdrawal_finalized_by_another_first_is_refused_to_us_and_completes(op_stack: Stack) -> None:
    """Our finalize and someone else's land in the same L1 block, theirs first: the portal
    refuses ours ("already been finalized"), and the run still ends completed with what the
    recipient got."""
    stack = op_stack
    signer, other = stack.fund_signer(), stack.fund_signer()
    amount = 300 * USDC
    await fund_l2_usdc(stack, signer.address, amount)
    queue = unique_queue("op-race")
    w3a = w3_for(stack, L1)
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        request = bridge_request(
            signer.address, _id("op-race"), source_chain=L2, destination_chain=L1, amount=amount, route="op-canonical"
        )
        handle = await client.start_bridge(request)
        for _ in range(400):
            status = await handle.query("status", result_type=BridgeStatus)
            if status.state is BridgeState.PENDING_FINALIZATION:
                break
            await asyncio.sleep(0.05)
        assert status.finalizable_at and status.deposit_tx
        withdrawal = withdrawal_of(stack, status.deposit_tx)
        ready = datetime.fromisoformat(status.finalizable_at).timestamp()
        while w3a.eth.get_block("latest")["timestamp"] < ready:  # the proposer keeps L1 blocks coming
            await asyncio.sleep(0.1)
        l1_nonce = w3a.eth.get_transaction_count(signer.address)
        with manual_mining(stack.anvil_urls[L1]) as mine:
            await wait_pending(w3a, signer.address, l1_nonce + 1)  # our finalize, held in the pool
            finalize = calldata("OptimismPortal", "finalizeWithdrawalTransaction", withdrawal.as_tuple())
            theirs = send_tx(w3a, other, {"to": l1_contract(stack, "OptimismPortal"), "data": finalize},
                             tip=50 * 10**9, wait=False)  # fmt: skip
            mine()
        result = await asyncio.wait_for(handle.result(), 60)
    assert result.state is BridgeState.COMPLETED and not result.redeemed_by_us
    assert result.completion_tx == theirs and result.received == amount
    assert holding(stack, L1, "USDC", signer.address) == amount
    assert portal_events(stack, "WithdrawalFinalized", withdrawal) == 1
    block = w3a.eth.get_block(w3a.eth.get_transaction_receipt(theirs)["blockNumber"], full_transactions=True)
    ours = [w3a.eth.get_transaction_receipt(tx["hash"]) for tx in block["transactions"] if tx["from"] == signer.address]
    assert [r["status"] for r in ours] == [0]  # our finalize, in the same block: refused by the portal
    assert w3a.eth.get_transaction_count(signer.address) == l1_nonce + 1
