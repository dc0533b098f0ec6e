"""Reorg awareness: a receipt seen before its confirmations is re-checked; the result carries
the block the transaction is in after the reorg, not the one first seen."""

from __future__ import annotations

import asyncio

from web3 import Web3

from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxOutcome, TxRequest, TxState
from devnet.mining import manual_mining, mine, mine_until
from tests.e2e.test_stuck_tx import wait_for_state
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

CHAIN = "devnet-b"
GWEI = 10**9


async def test_receipt_from_a_reorged_block_is_not_trusted(stack: Stack) -> None:
    sender, recipient, bystander = stack.fund_signer(), stack.fund_signer(), stack.fund_signer()
    url = stack.anvil_urls[CHAIN]
    w3 = Web3(Web3.HTTPProvider(url))
    queue = unique_queue("reorg")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with manual_mining(url):
            request = TxRequest(
                request_id=unique_queue("reorg"),
                chain=CHAIN,
                signer=sender.address,
                to=recipient.address,
                value=42,
                fees=FeePolicy(max_fee_per_gas_cap=100 * GWEI),
                policy=ReplacementPolicy(confirmations=3, replace_after_blocks=20, poll_interval_ms=50),
            )
            handle = await client.start_tx(request)
            await wait_for_state(client, request.request_id, TxState.PENDING)
            snapshot = stack.anvil(CHAIN, "evm_snapshot")
            mine(url)
            tx_hash = (await client.tx_status(request.request_id)).attempts[0].tx_hash
            first_receipt = w3.eth.get_transaction_receipt(tx_hash)
            orphaned = {
                "tx_hash": tx_hash.lower(),
                "block_number": first_receipt["blockNumber"],
                "block_hash": "0x" + first_receipt["blockHash"].hex().removeprefix("0x"),
            }
            first_block = orphaned["block_hash"]
            # The watcher sees the receipt with 1 of 3 confirmations (the ledger says where).
            assert await sightings(stack, request.workflow_id, 1) == [orphaned]
            assert (await client.tx_status(request.request_id)).state is not TxState.CONFIRMED
            # Reorg: the block is replaced by one with different contents at the same height.
            assert stack.anvil(CHAIN, "evm_revert", snapshot) is True
            w3.eth.send_raw_transaction(
                bystander.sign_transaction(
                    {
                        "type": 2,
                        "chainId": w3.eth.chain_id,
                        "nonce": 0,
                        "to": bystander.address,
                        "value": 0,
                        "gas": 21_000,
                        "maxFeePerGas": 50 * GWEI,
                        "maxPriorityFeePerGas": GWEI,
                    }
                ).raw_transaction
            )
            task = asyncio.ensure_future(handle.result())
            await asyncio.wait_for(mine_until(task.done, url), 60)
            result = task.result()
    assert result.outcome is TxOutcome.CONFIRMED
    assert result.block_hash != first_block, "the orphaned block must not be reported"
    canonical = w3.eth.get_block(result.block_number)["hash"].hex()
    assert result.block_hash == "0x" + canonical.removeprefix("0x")
    # The reorg path ran: the receipt was seen in the orphaned block, then in the canonical one.
    assert await sightings(stack, request.workflow_id, 2) == [
        orphaned,
        {"tx_hash": result.mined_tx_hash, "block_number": result.block_number, "block_hash": result.block_hash},
    ]
    assert w3.eth.get_transaction_receipt(result.mined_tx_hash)["blockNumber"] == result.block_number
    assert w3.eth.get_transaction_count(sender.address) == 1
    assert w3.eth.get_balance(recipient.address) == 1000 * 10**18 + 42


async def sightings(stack: Stack, workflow_id: str, count: int) -> list[dict[str, object]]:
    """The ledger's receipt sightings of the lifecycle's transaction, once there are ``count``."""
    ledger = stack.ledger()
    for _ in range(200):
        op = ledger.get_operation(workflow_id, "tx")
        seen = list(op.detail.get("receipt_sightings", [])) if op else []
        if len(seen) >= count:
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id}: the watcher recorded {seen}, expected {count} receipt sighting(s)")
