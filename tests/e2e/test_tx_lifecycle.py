"""TransactionLifecycle on the devnet through a real Temporal dev server and worker."""

from __future__ import annotations

from web3 import Web3

from crosslane.domain.tx import FeePolicy, ReplacementPolicy, TxOutcome, TxRequest, TxResult
from tests.support.stack import ETH, Stack, crosslane_client, running_worker, unique_queue

GWEI = 10**9


def request_for(signer: str, to: str, rid: str, value: int = 10**15, **kw: object) -> TxRequest:
    return TxRequest(
        request_id=rid,
        chain=kw.pop("chain", "devnet-a"),
        signer=signer,
        to=to,
        value=value,
        fees=kw.pop("fees", FeePolicy(max_fee_per_gas_cap=100 * GWEI)),
        policy=kw.pop("policy", ReplacementPolicy(poll_interval_ms=50)),
        **kw,
    )


async def test_transfer_confirms_and_balances_move(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    queue = unique_queue()
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls["devnet-b"]))
    before = w3.eth.get_balance(recipient.address)
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        handle = await client.start_tx(
            request_for(sender.address, recipient.address, unique_queue("sdk"), value=3 * 10**17, chain="devnet-b")
        )
        result: TxResult = await handle.result()
    assert result.outcome is TxOutcome.CONFIRMED
    assert result.nonce == 0 and len(result.attempts) == 1
    assert w3.eth.get_balance(recipient.address) - before == 3 * 10**17
    receipt = w3.eth.get_transaction_receipt(result.mined_tx_hash)
    assert receipt["status"] == 1 and receipt["blockNumber"] == result.block_number


async def test_starting_twice_runs_once(stack: Stack) -> None:
    sender, recipient = stack.fund_signer(), stack.fund_signer()
    queue = unique_queue()
    rid = unique_queue("twice")
    async with running_worker(stack, queue):
        client = await crosslane_client(stack, queue)
        first = await client.start_tx(request_for(sender.address, recipient.address, rid))
        second = await client.start_tx(request_for(sender.address, recipient.address, rid))
        assert first.result_run_id == second.result_run_id
        await first.result()
    w3 = Web3(Web3.HTTPProvider(stack.anvil_urls["devnet-a"]))
    assert w3.eth.get_transaction_count(sender.address) == 1
    assert w3.eth.get_balance(recipient.address) == 1000 * ETH + 10**15
