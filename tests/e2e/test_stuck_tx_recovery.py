"""StuckTxRecovery: finds stuck transactions and nonce gaps of a signer and repairs them."""

from __future__ import annotations

import asyncio

from eth_account.signers.local import LocalAccount
from web3 import Web3

from crosslane.domain.recovery import RecoveryActionKind, RecoveryReport, RecoveryRequest
from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxOutcome, TxRequest, TxState
from devnet.mining import hold_base_fee, manual_mining, mine, mine_until, next_base_fee
from tests.e2e.test_stuck_tx import wait_for_state
from tests.support.stack import Stack, crosslane_client, running_worker, unique_queue

CHAIN = "devnet-b"
GWEI = 10**9
CAP = 200 * GWEI


def send_raw(w3: Web3, account: LocalAccount, nonce: int, max_fee: int, to: str | None = None) -> str:
    """A transaction sent behind Crosslane's back (another wallet using the same key)."""
    tx = {
        "type": 2,
        "chainId": w3.eth.chain_id,
        "nonce": nonce,
        "to": to or account.address,
        "value": 1,
        "gas": 21_000,
        "maxFeePerGas": max_fee,
        "maxPriorityFeePerGas": max_fee,
    }
    return "0x" + w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction).hex()


async def recover(stack: Stack, queue: str, signer: str, mine_url: str | None = None) -> RecoveryReport:
    client = await crosslane_client(stack, queue)
    handle = await client.start_recovery(
        RecoveryRequest(chain=CHAIN, signer=signer, max_fee_per_gas_cap=CAP), run_key=unique_queue("r")
    )
    task = asyncio.ensure_future(handle.result())
    if mine_url:
        # Blocks only once the sweep has read the pool: anvil evicts unpayable transactions on mining.
        while (await handle.query("status"))["phase"] == "scanning":
            await asyncio.sleep(0.05)
        await asyncio.wait_for(mine_until(task.done, mine_url), 60)
    return await asyncio.wait_for(task, 60)


async def test_gap_is_filled_and_the_queue_behind_it_mines(stack: Stack) -> None:
    signer = stack.fund_signer()
    url = stack.anvil_urls[CHAIN]
    w3 = Web3(Web3.HTTPProvider(url))
    queued = send_raw(w3, signer, nonce=1, max_fee=10 * GWEI)  # nonce 0 never sent: a gap
    queue = unique_queue("gap")
    async with running_worker(stack, queue):
        report = await recover(stack, queue, signer.address)
    assert [(a.nonce, a.kind, a.outcome) for a in report.actions] == [
        (0, RecoveryActionKind.FILLED_GAP, TxOutcome.CONFIRMED.value)
    ]
    mine(url)
    assert w3.eth.get_transaction_count(signer.address) == 2
    assert w3.eth.get_transaction_receipt(queued)["status"] == 1
    filler = w3.eth.get_transaction(report.actions[0].mined_tx_hash)
    assert filler["to"] == signer.address and filler["value"] == 0 and filler["nonce"] == 0


async def test_foreign_stuck_transaction_is_replaced(stack: Stack) -> None:
    signer = stack.fund_signer()
    url = stack.anvil_urls[CHAIN]
    w3 = Web3(Web3.HTTPProvider(url))
    queue = unique_queue("foreign")
    async with running_worker(stack, queue):
        with manual_mining(url):
            low = max(next_base_fee(url), 1)
            stuck = send_raw(w3, signer, nonce=0, max_fee=low)
            # The base fee is held far above the stuck transaction's max fee. (anvil evicts
            # such a transaction once a block is mined, so the sweep runs before that.)
            with hold_base_fee(url, max(50 * low, 5 * GWEI)):
                report = await recover(stack, queue, signer.address, mine_url=url)
    assert [(a.nonce, a.kind, a.outcome) for a in report.actions] == [
        (0, RecoveryActionKind.REPLACED, TxOutcome.CONFIRMED.value)
    ]
    assert w3.eth.get_transaction_count(signer.address) == 1
    replacement = w3.eth.get_transaction(report.actions[0].mined_tx_hash)
    assert replacement["nonce"] == 0 and replacement["hash"].hex() != stuck.removeprefix("0x")


async def test_stuck_lifecycle_is_told_to_bump_by_the_sweep(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    url = stack.anvil_urls[CHAIN]
    queue = unique_queue("owner")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        with manual_mining(url):
            low = max(next_base_fee(url), 1)
            request = TxRequest(
                request_id=unique_queue("patient"),
                chain=CHAIN,
                signer=sender.address,
                to=recipient.address,
                value=5,
                fees=FeePolicy(
                    max_fee_per_gas_cap=CAP, initial_max_fee_per_gas=low, initial_max_priority_fee_per_gas=low
                ),
                # It would wait 10,000 blocks on its own before bumping.
                policy=ReplacementPolicy(replace_after_blocks=10_000, replace_after_seconds=None, poll_interval_ms=50),
            )
            handle = await client.start_tx(request)
            await wait_for_state(client, request.request_id, TxState.PENDING)
            with hold_base_fee(url, max(50 * low, 5 * GWEI)):
                report = await recover(stack, queue, sender.address)
                task = asyncio.ensure_future(handle.result())
                await asyncio.wait_for(mine_until(task.done, url), 60)
                result = task.result()
    assert [(a.nonce, a.kind, a.workflow_id) for a in report.actions] == [
        (0, RecoveryActionKind.SIGNALLED_OWNER, request.workflow_id)
    ]
    assert result.outcome is TxOutcome.CONFIRMED and result.mined_attempt_index >= 1
    assert Web3(Web3.HTTPProvider(url)).eth.get_transaction_count(sender.address) == 1


async def test_clean_signer_needs_nothing(stack: Stack) -> None:
    signer = stack.fund_signer()
    queue = unique_queue("clean")
    async with running_worker(stack, queue):
        report = await recover(stack, queue, signer.address)
    assert report.actions == [] and report.mined_nonce == report.pending_nonce == 0
