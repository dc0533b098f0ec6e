"""BridgeTransfer end to end on the devnet's real Wormhole and Across contracts.

Transfers both ways over both routes; each checks the recipient got what the route
promised and that supply is conserved (Wormhole: locked on the origin == wrapped supply
outstanding; Across: the relayer repaid exactly once per fill).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from eth_abi.abi import encode as abi_encode
from web3 import Web3

from crosslane.domain.bridge import BridgeRoute, BridgeState
from devnet.across.deploy import relayer_account
from devnet.across.services import http_json
from devnet.mining import manual_mining
from tests.e2e.test_dex_swap_slippage import wait_pending
from tests.support.bridge import (
    across_output_amount,
    bridge_request,
    dataworker_url,
    holding,
    wormhole_payload_amount,
    wormhole_supply,
)
from tests.support.dex import deal, send_tx, token, w3_for
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

pytestmark = pytest.mark.timeout(120)


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    ("source", "destination", "asset", "amount", "received_as"),
    [
        ("devnet-a", "devnet-b", "USDC", 1_500 * 10**6, "Wormhole:devnet-a:USDC"),
        ("devnet-b", "devnet-a", "DAI", 250 * 10**18, "Wormhole:devnet-b:DAI"),
    ],
)
async def test_wormhole_both_ways_and_home_again(
    bridge_stack: Stack, source: str, destination: str, asset: str, amount: int, received_as: str
) -> None:
    stack = bridge_stack
    signer, recipient = stack.fund_signer(), stack.fund_signer()
    deal(stack, source, signer.address, asset, amount)
    queue = unique_queue("bridge")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        out = bridge_request(
            signer.address,
            _id("wh"),
            source_chain=source,
            destination_chain=destination,
            asset=asset,
            amount=amount,
            recipient=recipient.address,
            route="wormhole",
        )
        result = await (await client.start_bridge(out)).result()
        assert result.state is BridgeState.COMPLETED and result.route is BridgeRoute.WORMHOLE
        assert result.redeemed_by_us and result.completion_tx
        decimals = stack.chains.get(source).tokens[asset].decimals
        # What arrived is what the signed message carries (no dust at these amounts), and the result says so.
        carried = wormhole_payload_amount(stack, source, result.deposit_tx, decimals)
        assert holding(stack, destination, received_as, recipient.address) == carried == amount
        assert result.received == carried
        assert holding(stack, source, asset, signer.address) == 0
        locked, outstanding, wrapped = wormhole_supply(stack, source, asset)
        assert locked == outstanding == wrapped
        out_result = result
        # Listed in the UI by its search attributes.
        query = (
            f'CrosslaneRoute = "wormhole" AND CrosslaneChain = "{source}" AND '
            f'CrosslaneDestinationChain = "{destination}" AND CrosslaneAsset = "{asset}" AND '
            'CrosslaneState = "completed"'
        )
        listed = [w.id async for w in client.temporal.list_workflows(query)]
        assert out.workflow_id in listed

        # Home again: the wrapped asset back to the origin chain releases the native token.
        back = bridge_request(
            recipient.address,
            _id("wh-back"),
            source_chain=destination,
            destination_chain=source,
            asset=received_as,
            amount=amount,
            recipient=signer.address,
            route="wormhole",
        )
        result = await (await client.start_bridge(back)).result()
        assert result.state is BridgeState.COMPLETED
        carried = wormhole_payload_amount(stack, destination, result.deposit_tx, decimals)
        assert holding(stack, source, asset, signer.address) == carried == amount
        assert result.received == carried
        assert holding(stack, destination, received_as, recipient.address) == 0
        locked_after, outstanding_after, wrapped_after = wormhole_supply(stack, source, asset)
        assert locked_after == outstanding_after == wrapped_after == locked - amount

    # The ledger's bridge_transfers rows agree with what the workflows returned.
    with stack.ledger() as ledger:
        for req, res in ((out, out_result), (back, result)):
            row = ledger.get_bridge_transfer(req.workflow_id)
            assert row is not None and row.request_id == req.request_id
            assert row.state == BridgeState.COMPLETED and row.route == BridgeRoute.WORMHOLE
            assert (row.source_chain, row.destination_chain) == (req.source_chain, req.destination_chain)
            assert row.asset == req.asset and row.recipient.lower() == req.to.lower()
            assert row.amount == amount and row.deposit_id
            assert row.deposit_tx == res.deposit_tx and row.completion_tx == res.completion_tx
            assert row.refund_tx is None and row.received == res.received


@pytest.mark.parametrize(
    ("source", "destination", "asset"), [("devnet-a", "devnet-b", "USDC"), ("devnet-b", "devnet-a", "WBTC")]
)
async def test_across_both_ways_relayer_repaid_once(
    bridge_stack: Stack, source: str, destination: str, asset: str
) -> None:
    stack = bridge_stack
    signer, recipient = stack.fund_signer(), stack.fund_signer()
    amount = 2_000 * 10**6 if asset == "USDC" else 3 * 10**8
    deal(stack, source, signer.address, asset, amount)
    relayer = relayer_account()[0]
    queue = unique_queue("bridge")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        request = bridge_request(
            signer.address,
            _id("across"),
            source_chain=source,
            destination_chain=destination,
            asset=asset,
            amount=amount,
            recipient=recipient.address,
            route="across",
        )
        http_json(dataworker_url(stack) + "/bundle", {})  # earlier tests' fills repaid first
        relayer_before = holding(stack, source, asset, relayer)
        result = await (await client.start_bridge(request)).result()
    assert result.state is BridgeState.COMPLETED and result.route is BridgeRoute.ACROSS
    assert not result.redeemed_by_us and result.completion_tx
    owed = across_output_amount(stack, source, result.deposit_tx)  # the deposit's outputAmount
    assert 0 < amount - owed < amount // 100
    assert holding(stack, destination, asset, recipient.address) == owed
    assert result.received == owed
    assert holding(stack, source, asset, signer.address) == 0
    # The dataworker repays the relayer from the deposit on the origin, once.
    for _ in range(2):
        http_json(dataworker_url(stack) + "/bundle", {})
    assert holding(stack, source, asset, relayer) == relayer_before + amount

    with stack.ledger() as ledger:
        row = ledger.get_bridge_transfer(request.workflow_id)
    assert row is not None and row.state == BridgeState.COMPLETED and row.route == BridgeRoute.ACROSS
    assert (row.source_chain, row.destination_chain, row.amount) == (source, destination, amount)
    assert row.deposit_tx == result.deposit_tx and row.completion_tx == result.completion_tx
    assert row.refund_tx is None and row.received == result.received
    assert row.recipient == recipient.address and row.signer == signer.address


async def test_a_weth_fill_paid_out_as_native_eth_is_delivered(bridge_stack: Stack) -> None:
    """The SpokePool unwraps a WETH fill and pays the recipient native ETH (no WETH Transfer to
    them): the run completes with what arrived, and the recipient's ETH grew by exactly that."""
    stack = bridge_stack
    signer, recipient = stack.fund_signer(), stack.fund_signer()
    amount = 2 * 10**18
    deal(stack, "devnet-a", signer.address, "WETH", amount)
    w3b = w3_for(stack, "devnet-b")
    eth_before = w3b.eth.get_balance(recipient.address)
    request = bridge_request(
        signer.address, _id("weth"), asset="WETH", amount=amount, recipient=recipient.address, route="across"
    )
    queue = unique_queue("bridge")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        result = await (await client.start_bridge(request)).result()
    assert result.state is BridgeState.COMPLETED and result.route is BridgeRoute.ACROSS
    owed = across_output_amount(stack, "devnet-a", result.deposit_tx)
    assert 0 < owed <= amount and result.received == owed
    assert w3b.eth.get_balance(recipient.address) - eth_before == owed
    assert holding(stack, "devnet-b", "WETH", recipient.address) == 0


async def test_received_is_the_fill_not_other_transfers_in_its_block(bridge_stack: Stack) -> None:
    """Someone else's USDC transfer to the recipient, mined in the same block as the relayer's
    fill, is not counted: ``received`` is the fill's own Transfer, as the deposit promised."""
    stack = bridge_stack
    signer, recipient, other = stack.fund_signer(), stack.fund_signer(), stack.fund_signer()
    amount, gift = 400 * 10**6, 17 * 10**6
    deal(stack, "devnet-a", signer.address, "USDC", amount)
    deal(stack, "devnet-b", other.address, "USDC", gift)
    w3b, relayer = w3_for(stack, "devnet-b"), relayer_account()[0]
    usdc_b = Web3.to_checksum_address(token(stack, "devnet-b", "USDC"))
    transfer = "0x" + (Web3.keccak(text="transfer(address,uint256)")[:4] + abi_encode(
        ["address", "uint256"], [recipient.address, gift])).hex()  # fmt: skip
    request = bridge_request(
        signer.address, _id("sameblock"), amount=amount, recipient=recipient.address, route="across"
    )
    queue = unique_queue("bridge")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with manual_mining(stack.anvil_urls["devnet-b"]) as mine:
            fills_before = w3b.eth.get_transaction_count(relayer)
            handle = await client.start_bridge(request)
            await wait_pending(w3b, relayer, fills_before + 1)  # the fill, held in devnet-b's pool
            gift_tx = send_tx(w3b, other, {"to": usdc_b, "data": transfer}, wait=False)
            mine()
        result = await asyncio.wait_for(handle.result(), 60)
    assert result.state is BridgeState.COMPLETED and result.completion_tx
    fill, gifted = (w3b.eth.get_transaction_receipt(h) for h in (result.completion_tx, gift_tx))
    assert fill["blockNumber"] == gifted["blockNumber"] and gifted["status"] == 1
    owed = across_output_amount(stack, "devnet-a", result.deposit_tx)
    assert holding(stack, "devnet-b", "USDC", recipient.address) == owed + gift
    assert result.received == owed
    with stack.ledger() as ledger:
        row = ledger.get_bridge_transfer(request.workflow_id)
    assert row is not None and row.received == owed


FINALITY = 12


async def test_waits_for_source_finality_before_following(bridge_stack: Stack) -> None:
    """With a finality of 12 blocks on the source, the run holds at pending_source_confirmations
    after its deposit is mined, and goes on once eleven more blocks are built on it. (12, not 3:
    the Across dataworker may still be landing an earlier test's bundle on devnet-a, a block a
    transaction, and must not be able to supply the confirmations by itself.)"""
    stack = bridge_stack
    signer = stack.fund_signer()
    deal(stack, "devnet-a", signer.address, "USDC", 50 * 10**6)
    chains = stack.chains
    slow_a = chains.chains["devnet-a"].model_copy(update={"confirmations": FINALITY})
    slow = chains.model_copy(update={"chains": {**chains.chains, "devnet-a": slow_a}})
    queue = unique_queue("bridgefinality")
    async with running_worker(stack, queue, chains=slow):
        client = await crosslane_client(stack, queue)
        request = bridge_request(signer.address, _id("final"), amount=50 * 10**6, route="wormhole")
        handle = await client.start_bridge(request)
        w3 = w3_for(stack, "devnet-a")
        for _ in range(200):  # approve and deposit mined (automine)
            if w3.eth.get_transaction_count(signer.address) == 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        status = await client.bridge_status(request.request_id)
        assert status.state is BridgeState.PENDING_SOURCE_CONFIRMATIONS and status.deposit_tx is None
        stack.anvil("devnet-a", "anvil_mine", FINALITY - 1)
        result = await asyncio.wait_for(handle.result(), 60)
    assert result.state is BridgeState.COMPLETED
    receipt = w3.eth.get_transaction_receipt(result.deposit_tx)
    assert w3.eth.block_number - receipt["blockNumber"] + 1 >= FINALITY
