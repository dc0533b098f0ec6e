"""Cancellation: by signal, and automatically at the fee cap. A cancel is a 0-value self-send
for the same nonce, so the original transfer can never mine afterwards."""

from __future__ import annotations

import asyncio

from web3 import Web3

from crosslane.domain.tx import AttemptKind, FeePolicy, ReplacementPolicy, TxOutcome, TxRequest, TxState
from devnet.mining import hold_base_fee, manual_mining, mine_until, next_base_fee
from tests.e2e.test_stuck_tx import wait_for_state
from tests.support.stack import ETH, Stack, crosslane_client, running_worker, unique_queue

CHAIN = "devnet-a"
GWEI = 10**9


def assert_cancelled(w3: Web3, result, sender: str, recipient: str) -> None:  # noqa: ANN001
    assert result.outcome is TxOutcome.CANCELLED
    mined = w3.eth.get_transaction(result.mined_tx_hash)
    assert mined["to"] == sender and mined["value"] == 0 and mined["nonce"] == result.nonce
    assert result.attempts[result.mined_attempt_index].kind is AttemptKind.CANCEL
    assert w3.eth.get_transaction_count(sender) == 1
    assert w3.eth.get_balance(recipient) == 1000 * ETH, "the transfer itself must never mine"


async def test_cancel_signal_replaces_the_pending_transfer_with_a_self_send(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    url = stack.anvil_urls[CHAIN]
    queue = unique_queue("cancel")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with manual_mining(url):
            low = max(next_base_fee(url), 1)
            request = TxRequest(
                request_id=unique_queue("cancel"),
                chain=CHAIN,
                signer=sender.address,
                to=recipient.address,
                value=10**18,
                fees=FeePolicy(
                    max_fee_per_gas_cap=100 * GWEI, initial_max_fee_per_gas=low, initial_max_priority_fee_per_gas=low
                ),
                policy=ReplacementPolicy(replace_after_blocks=10_000, replace_after_seconds=None, poll_interval_ms=50),
            )
            handle = await client.start_tx(request)
            await wait_for_state(client, request.request_id, TxState.PENDING)
            await handle.signal("cancel")
            await wait_for_state(client, request.request_id, TxState.CANCELLING, attempts=2)
            task = asyncio.ensure_future(handle.result())
            await asyncio.wait_for(mine_until(task.done, url), 60)
            result = task.result()
    assert_cancelled(Web3(Web3.HTTPProvider(url)), result, sender.address, recipient.address)


async def test_at_the_cap_the_lifecycle_cancels_when_asked_to(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    url = stack.anvil_urls[CHAIN]
    queue = unique_queue("atcap")
    cap = 2 * GWEI
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with manual_mining(url):
            request = TxRequest(
                request_id=unique_queue("atcap"),
                chain=CHAIN,
                signer=sender.address,
                to=recipient.address,
                value=10**18,
                fees=FeePolicy(
                    max_fee_per_gas_cap=cap, initial_max_fee_per_gas=cap, initial_max_priority_fee_per_gas=cap // 2
                ),
                policy=ReplacementPolicy(
                    replace_after_blocks=2, replace_after_seconds=None, cancel_at_cap=True, poll_interval_ms=50
                ),
            )
            handle = await client.start_tx(request)
            await wait_for_state(client, request.request_id, TxState.PENDING)
            spike = cap + cap // 20  # 5% above the cap, held: no bump within the cap can pay it
            with hold_base_fee(url, spike):
                task = asyncio.ensure_future(handle.result())
                await asyncio.wait_for(mine_until(task.done, url), 60)
                result = task.result()
    w3 = Web3(Web3.HTTPProvider(url))
    assert_cancelled(w3, result, sender.address, recipient.address)
    assert w3.eth.get_block(result.block_number)["baseFeePerGas"] == spike, "mined while the spike was held"
    cancel = result.attempts[result.mined_attempt_index]
    assert cancel.max_fee_per_gas <= cap * 1125 // 1000 + 1, "a cancel exceeds the cap by one minimum bump at most"
    assert all(a.max_fee_per_gas <= cap for a in result.attempts if a.kind is not AttemptKind.CANCEL)
