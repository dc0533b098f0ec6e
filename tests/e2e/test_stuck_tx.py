"""A transaction priced under the base fee stays pending; the lifecycle replaces it."""

from __future__ import annotations

import asyncio

from web3 import Web3

from crosslane.domain.tx import AttemptKind, FeePolicy, ReplacementPolicy, TxOutcome, TxRequest, TxState
from crosslane.ledger.records import AttemptStatus
from devnet.mining import hold_base_fee, manual_mining, mine_until, next_base_fee
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

GWEI = 10**9
CHAIN = "devnet-a"


async def wait_for_state(client, request_id: str, state: TxState, attempts: int = 1) -> None:  # noqa: ANN001
    for _ in range(200):
        try:
            status = await client.tx_status(request_id)
            if status.state is state and len(status.attempts) >= attempts and status.attempts[-1].broadcast:
                return
        except Exception:  # noqa: BLE001 - the run may not have started yet
            pass
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{request_id} never reached {state}")


async def test_stuck_transaction_is_replaced_and_exactly_one_mines(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    url = stack.anvil_urls[CHAIN]
    w3 = Web3(Web3.HTTPProvider(url))
    queue = unique_queue()
    async with running_worker(stack, queue):
        with manual_mining(url):
            client = await crosslane_client(stack, queue)
            low = max(next_base_fee(url), 1)
            request = TxRequest(
                request_id=unique_queue("stuck"),
                chain=CHAIN,
                signer=sender.address,
                to=recipient.address,
                value=12345,
                fees=FeePolicy(
                    max_fee_per_gas_cap=100 * GWEI, initial_max_fee_per_gas=low, initial_max_priority_fee_per_gas=low
                ),
                policy=ReplacementPolicy(replace_after_blocks=2, replace_after_seconds=None, poll_interval_ms=50),
            )
            handle = await client.start_tx(request)
            await wait_for_state(client, request.request_id, TxState.PENDING)
            # The base fee jumps far above the first attempt's max fee, and stays there: it cannot be included.
            spike = max(50 * low, 5 * GWEI)
            with hold_base_fee(url, spike):
                result_task = asyncio.ensure_future(handle.result())
                await mine_until(result_task.done, url)
                result = result_task.result()

    assert result.outcome is TxOutcome.CONFIRMED
    assert w3.eth.get_block(result.block_number)["baseFeePerGas"] == spike, "mined while the spike was held"
    assert len(result.attempts) >= 2
    assert result.mined_attempt_index >= 1, "the underpriced original must not be the one that mined"
    assert result.attempts[1].kind is AttemptKind.REPLACEMENT
    first, second = result.attempts[0], result.attempts[1]
    assert second.max_fee_per_gas * 1000 >= first.max_fee_per_gas * 1125
    assert second.max_priority_fee_per_gas * 1000 >= first.max_priority_fee_per_gas * 1125
    # Exactly one transaction for the nonce mined: the chain moved one nonce and paid once.
    assert w3.eth.get_transaction_count(sender.address) == 1
    mined = [a.tx_hash for a in result.attempts if _receipt(w3, a.tx_hash) is not None]
    assert mined == [result.mined_tx_hash]
    assert w3.eth.get_balance(recipient.address) == 1000 * 10**18 + 12345
    # The ledger lists every attempt with its fate.
    ledger = stack.ledger()
    op = ledger.get_operation(request.workflow_id, "tx")
    assert op is not None
    rows = ledger.list_attempts(op.id)
    assert [r.tx_hash for r in rows] == [a.tx_hash for a in result.attempts]
    statuses = {r.tx_hash: r.status for r in rows}
    assert statuses[result.mined_tx_hash] == AttemptStatus.MINED
    assert all(s == AttemptStatus.REPLACED for h, s in statuses.items() if h != result.mined_tx_hash)


def _receipt(w3: Web3, tx_hash: str) -> object | None:
    try:
        return w3.eth.get_transaction_receipt(tx_hash)
    except Exception:  # noqa: BLE001 - web3 raises TransactionNotFound for "no receipt"
        return None
